//! The one place where core errors become HTTP: RFC 9457 `application/problem+json`
//! bodies with a status that says what the caller can do. Errors poem raises itself
//! (malformed JSON, bad path parameters, unknown routes, oversized bodies) are
//! converted by [`any_error_to_problem`], so every error a client sees has this shape.

use medconnect_core::Error;
use poem::Response;
use poem::http::{StatusCode, header};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{ApiResponse, Object};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem description.
#[derive(Debug, Object)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[oai(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, naming the field when there is one.
    pub detail: String,
    /// The input field at fault, for validation errors.
    #[oai(skip_serializing_if_is_none)]
    pub field: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>, field: Option<String>) -> Self {
        Self {
            kind: format!("/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            field,
        }
    }

    pub fn into_response(self) -> Response {
        self.into_response_retrying(None)
    }

    /// The response, with `Retry-After` (whole seconds, at least 1) when a retry time is known.
    pub fn into_response_retrying(self, retry_after: Option<std::time::Duration>) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = self.to_json().map(|v| v.to_string()).unwrap_or_default();
        let mut resp = Response::builder().status(status).content_type(PROBLEM_JSON).body(body);
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        if let Some(wait) = retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(wait.as_secs().max(1)));
        }
        resp
    }
}

/// A core error on its way to the client.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub Error);

impl ApiError {
    /// The one mapping from a core error case to its status.
    fn status(&self) -> StatusCode {
        match &self.0 {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem(&self) -> Problem {
        let (slug, detail, field) = match &self.0 {
            Error::NotFound(what) => ("not-found", format!("{what} not found"), None),
            Error::Unauthenticated(why) => ("unauthenticated", why.to_string(), None),
            Error::Forbidden(why) => ("forbidden", why.to_string(), None),
            Error::Invalid { field, .. } => ("invalid-input", self.0.to_string(), Some(field.to_string())),
            Error::Conflict { field } => ("conflict", self.0.to_string(), field.map(str::to_owned)),
            Error::RateLimited { .. } => ("rate-limited", self.0.to_string(), None),
            Error::Unavailable { dependency, .. } => {
                tracing::warn!(dependency, "dependency unavailable");
                ("unavailable", format!("{dependency} is unavailable; retry shortly"), None)
            }
            Error::Internal(source) => {
                // The source names the failing operation; it carries no request values.
                tracing::error!(error = %source, "internal error");
                ("internal", "internal error".to_owned(), None)
            }
        };
        Problem::new(ApiError::status(self), slug, detail, field)
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        ApiError::status(self)
    }

    fn as_response(&self) -> Response {
        self.problem().into_response_retrying(self.0.retry_after())
    }
}

/// The error statuses every operation may answer, documented once.
const DOCUMENTED: &[(u16, &str)] = &[
    (400, "The request is malformed: bad JSON, unknown field, bad UUID or date."),
    (401, "No valid access token: missing, expired, revoked, or of the wrong type."),
    (403, "The caller's role may not do this."),
    (404, "No such record, or one the caller may not see."),
    (409, "A unique field (e-mail, licence number) is already in use."),
    (413, "The request body is too large."),
    (422, "A field is invalid; `field` names it."),
    (429, "Too many sign-in or sign-up attempts from this address; `Retry-After` says when to retry."),
    (500, "An internal error."),
    (503, "The database or the password hashers cannot serve now; `Retry-After` says when to retry."),
];

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: DOCUMENTED
                .iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(*status),
                    status_range: None,
                    content: vec![MetaMediaType { content_type: PROBLEM_JSON, schema: Problem::schema_ref() }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

/// Result of an operation handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// Turns any error that reaches the top of the service into a problem+json response.
pub async fn any_error_to_problem(err: poem::Error) -> Response {
    if err.is::<ApiError>() {
        return err.into_response();
    }
    let status = err.status();
    let (slug, detail) = match status {
        StatusCode::NOT_FOUND => ("not-found", "no such endpoint".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "method not allowed on this endpoint".to_owned()),
        StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "the request body is too large".to_owned()),
        StatusCode::UNAUTHORIZED => ("unauthenticated", "a bearer access token is required".to_owned()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", err.to_string()),
        s if s.is_server_error() => {
            tracing::error!(error = %err, "unhandled server error");
            ("internal", "internal error".to_owned())
        }
        _ => ("bad-request", err.to_string()),
    };
    Problem::new(status, slug, detail.clone(), field_named_in(&detail)).into_response()
}

/// poem-openapi names the field in two messages: "unknown field `name`" and
/// "field `name` verification failed" (a validator such as maxLength).
fn field_named_in(detail: &str) -> Option<String> {
    let rest = detail.split("field `").nth(1)?;
    rest.split('`').next().map(str::to_owned)
}
