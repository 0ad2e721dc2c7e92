//! The one place where core errors become HTTP: RFC 9457 `application/problem+json`
//! bodies with a status that says what the caller can do. Errors poem raises itself
//! (malformed JSON, bad path parameters, unknown routes, oversized bodies) are
//! converted by [`any_error_to_problem`], so every error a client sees has this shape.

use medconnect_core::Error;
use poem::Response;
use poem::http::{StatusCode, header};
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
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
            Error::Conflict { .. } | Error::WrongState { .. } => StatusCode::CONFLICT,
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
            Error::WrongState { .. } => ("wrong-state", self.0.to_string(), Some("status".to_owned())),
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

/// What each error status means, and an example body, documented once. Each operation
/// lists the statuses it can answer (an [`ErrorSet`]); any other failure is the
/// `default` response (an internal error).
const STATUSES: &[(u16, &str, &str, &str)] = &[
    (
        400,
        "The request is malformed: bad JSON, an unknown field, a bad UUID, date or number; `field` names it.",
        "bad-request",
        "invalid `patient_id`: expected a UUID",
    ),
    (
        401,
        "No valid access token: missing, expired, revoked, or of the wrong type.",
        "unauthenticated",
        "the access token has expired",
    ),
    (
        403,
        "The caller can see the record, but their role may not do this.",
        "forbidden",
        "administrators do not access health records",
    ),
    (
        404,
        "No such record, or one the caller may not see (the two are never told apart).",
        "not-found",
        "patient not found",
    ),
    (
        409,
        "A unique field (e-mail, licence number) is already in use, or the record's status does not allow the change (type `/problems/wrong-state`, `field` is `status`, `detail` names the current status); `field` names it.",
        "conflict",
        "`email` is already in use",
    ),
    (413, "The request body is larger than the server accepts.", "too-large", "the request body exceeds 1048576 bytes"),
    (
        415,
        "The body is not JSON (or, for `/login`, not a form either).",
        "unsupported-media-type",
        "the `Content-Type` requested by the client is not supported: text/plain",
    ),
    (
        422,
        "A field breaks a rule; `field` names it and `detail` says which rule.",
        "invalid-input",
        "invalid `date_of_birth`: must not be in the future",
    ),
    (
        429,
        "Too many attempts from this client address (or for this e-mail from it); `Retry-After` says when to retry.",
        "rate-limited",
        "too many requests: retry in 840 s",
    ),
    (
        503,
        "The database cannot serve now (down, restarting, no free connection) or the password hashers are busy; `Retry-After` says when to retry.",
        "unavailable",
        "database is unavailable; retry shortly",
    ),
];

/// The error statuses one kind of operation documents.
pub trait ErrorSet: Send + Sync + 'static {
    const STATUSES: &'static [u16];
}

/// Declares error sets: `Name = [status, ...];`.
macro_rules! error_sets {
    ($($(#[$doc:meta])* $name:ident = [$($code:literal),* $(,)?];)*) => {
        $(
            $(#[$doc])*
            pub struct $name;
            impl ErrorSet for $name {
                const STATUSES: &'static [u16] = &[$($code),*];
            }
        )*
    };
}

error_sets! {
    /// Sign-in.
    LoginErrors = [400, 413, 415, 422, 429, 503];
    /// Refreshing a token.
    RefreshErrors = [400, 401, 413, 415, 503];
    /// Operations on the caller's own session and account.
    SessionErrors = [401, 503];
    /// Self sign-up or staff registration of a patient.
    SignUpErrors = [400, 401, 403, 409, 413, 415, 422, 429, 503];
    /// Reading one patient's data (profile, care team, records, predictions), or a page of it.
    PatientReadErrors = [400, 401, 403, 404, 422, 503];
    /// Changing one patient's care team.
    CareErrors = [400, 401, 403, 404, 503];
    /// Lists scoped to the caller (patients, the doctor directory).
    ListErrors = [400, 401, 422, 503];
    /// One doctor of the directory.
    DoctorReadErrors = [400, 401, 404, 503];
    /// Registering a doctor.
    DoctorRegistrationErrors = [400, 401, 403, 409, 413, 415, 422, 503];
    /// Writing to one patient's record (an entry, a prediction, a review).
    PatientWriteErrors = [400, 401, 403, 404, 413, 415, 422, 503];
    /// Reference checks that touch no patient.
    ReferenceErrors = [400, 401, 413, 415, 422, 503];
    /// A consultation: asked for, read, listed, or moved along its lifecycle.
    ConsultationErrors = [400, 401, 403, 404, 409, 413, 415, 422, 503];
    /// Administration (accounts, the audit trail).
    AdminErrors = [400, 401, 403, 404, 422, 503];
    /// Administration with a request body (issuing an API key).
    AdminWriteErrors = [400, 401, 403, 404, 413, 415, 422, 503];
}

/// A core error answered by an operation that documents the statuses of `S`.
pub struct Fails<S: ErrorSet>(pub ApiError, std::marker::PhantomData<S>);

impl<S: ErrorSet> From<Error> for Fails<S> {
    fn from(err: Error) -> Self {
        Self(ApiError(err), std::marker::PhantomData)
    }
}

impl<S: ErrorSet> From<ApiError> for Fails<S> {
    fn from(err: ApiError) -> Self {
        Self(err, std::marker::PhantomData)
    }
}

/// Served as the `ApiError` it holds, so that every error renders through one mapping.
impl<S: ErrorSet> From<Fails<S>> for poem::Error {
    fn from(err: Fails<S>) -> Self {
        err.0.into()
    }
}

/// The documentation of one error status: its meaning, a problem+json body with an
/// example, and `Retry-After` where there is one.
fn documented(status: Option<u16>) -> MetaResponse {
    let (description, slug, detail) = match STATUSES.iter().find(|s| Some(s.0) == status) {
        Some((_, description, slug, detail)) => (*description, *slug, *detail),
        None => ("Any other failure: an internal error, already logged by the server.", "internal", "internal error"),
    };
    let code = status.unwrap_or(500);
    let example = serde_json::json!({
        "type": format!("/problems/{slug}"),
        "title": StatusCode::from_u16(code).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error"),
        "status": code,
        "detail": detail,
    });
    let mut schema = MetaSchema::new("object");
    schema.all_of = vec![Problem::schema_ref()];
    schema.example = Some(example);
    let retry_after = MetaHeader {
        name: "Retry-After".to_owned(),
        description: Some("Seconds to wait before retrying.".to_owned()),
        required: true,
        deprecated: false,
        schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("integer", "int64"))),
    };
    MetaResponse {
        description,
        status,
        status_range: None,
        content: vec![MetaMediaType { content_type: PROBLEM_JSON, schema: MetaSchemaRef::Inline(Box::new(schema)) }],
        headers: if matches!(status, Some(429 | 503)) { vec![retry_after] } else { vec![] },
    }
}

impl<S: ErrorSet> ApiResponse for Fails<S> {
    fn meta() -> MetaResponses {
        let mut responses: Vec<MetaResponse> = S::STATUSES.iter().map(|code| documented(Some(*code))).collect();
        responses.push(documented(None));
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

/// Result of an operation handler that documents the error statuses of `S`.
pub type ApiResult<T, S> = Result<T, Fails<S>>;

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
