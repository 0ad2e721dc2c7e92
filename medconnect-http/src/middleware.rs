//! Request-level middleware: a request id and an access log line; a body size limit and
//! the schema check of requests.

use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use tokio::io::AsyncReadExt;
use tracing::Instrument;

use crate::explain::{Checked, SpecSchemas};
use crate::problem::Problem;

const REQUEST_ID: &str = "x-request-id";

/// Gives each request an id (the caller's `X-Request-Id` when it is sane), logs one line
/// per request with method, route, status and latency, and echoes the id back.
/// The query string is not logged: it may carry search terms such as names.
pub async fn trace_request<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    async move {
        let started = Instant::now();
        let mut resp = respond(ep.call(req).await);
        let status = resp.status().as_u16();
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(status, latency_ms, "request failed");
        } else {
            tracing::info!(status, latency_ms, "request");
        }
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert(REQUEST_ID, v);
        }
        Ok(resp)
    }
    .instrument(span)
    .await
}

/// Refuses bodies larger than `max` bytes with 413, whether or not they declare a
/// length, then checks the request against its operation's schema so that a malformed
/// one is refused with a 400 naming the field (see `explain`).
pub fn prepare_request<E: Endpoint + 'static>(
    max: usize,
    schemas: Arc<SpecSchemas>,
) -> impl Fn(Arc<E>, Request) -> std::pin::Pin<Box<dyn std::future::Future<Output = poem::Result<Response>> + Send>>
+ Send
+ Sync
+ 'static {
    move |ep, mut req| {
        let schemas = schemas.clone();
        Box::pin(async move {
            let too_large = || {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-large",
                    format!("the request body exceeds {max} bytes"),
                    None,
                )
                .into_response()
            };
            let declared = req
                .headers()
                .get(poem::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|len| len > max as u64) {
                return Ok(too_large());
            }
            let mut body = None;
            if matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH) {
                let mut buf = Vec::new();
                let mut reader = req.take_body().into_async_read().take(max as u64 + 1);
                if reader.read_to_end(&mut buf).await.is_err() {
                    let problem = Problem::new(
                        StatusCode::BAD_REQUEST,
                        "bad-request",
                        "the request body could not be read",
                        None,
                    );
                    return Ok(problem.into_response());
                }
                if buf.len() > max {
                    return Ok(too_large());
                }
                body = Some(buf);
            }
            let is_json = req.content_type().is_some_and(|ct| ct.starts_with("application/json"));
            let json = body.as_deref().filter(|_| is_json);
            let (method, path) = (req.method().as_str(), req.uri().path());
            match schemas.check(method, path, req.uri().query().unwrap_or(""), json) {
                Checked::Passed => {}
                Checked::Fault(fault) => {
                    let detail = format!("invalid `{}`: {}", fault.field, fault.reason);
                    return Ok(
                        Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail, Some(fault.field)).into_response()
                    );
                }
                // A path of the spec without this method is a 405 (HEAD is served as GET);
                // a path that is not the spec's goes on to routing's 404.
                Checked::NoOperation => {
                    if let Some(allowed) = schemas.allowed_methods(path)
                        && !(method == "HEAD" && allowed.contains(&"GET"))
                    {
                        let detail = format!("{method} is not allowed here; allowed: {}", allowed.join(", "));
                        let mut resp = Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", detail, None)
                            .into_response();
                        if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
                            resp.headers_mut().insert(poem::http::header::ALLOW, value);
                        }
                        return Ok(resp);
                    }
                }
            }
            if let Some(buf) = body {
                req.set_body(buf);
            }
            Ok(respond(ep.call(req).await))
        })
    }
}

fn respond<T: IntoResponse>(result: poem::Result<T>) -> Response {
    match result {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    }
}
