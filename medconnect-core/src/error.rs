//! The one error type of the core: each case is something a caller can act on.
//!
//! Messages never carry health data, passwords or tokens: they name fields and
//! rules, not values. Database text stays in the `Internal` source, which
//! adapters log by kind only and never send to a client.

use std::borrow::Cow;

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The record does not exist, or the caller may not know that it exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No valid credentials: missing, expired, revoked or malformed token, or a failed sign-in.
    #[error("{0}")]
    Unauthenticated(Cow<'static, str>),
    /// The caller is known but their role may not do this.
    #[error("{0}")]
    Forbidden(Cow<'static, str>),
    /// An input field is not acceptable.
    #[error("invalid `{field}`: {reason}")]
    Invalid { field: Cow<'static, str>, reason: Cow<'static, str> },
    /// A uniqueness rule would be broken (the field says which).
    #[error("`{field}` is already in use")]
    Conflict { field: &'static str },
    /// Too many attempts; retry later.
    #[error("too many requests")]
    RateLimited,
    /// A dependency (the database) could not be reached.
    #[error("{0} is unavailable")]
    Unavailable(&'static str),
    /// A bug or an unexpected failure; details are for the logs, not the caller.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn invalid(field: impl Into<Cow<'static, str>>, reason: impl Into<Cow<'static, str>>) -> Self {
        Error::Invalid { field: field.into(), reason: reason.into() }
    }

    pub fn unauthenticated(reason: impl Into<Cow<'static, str>>) -> Self {
        Error::Unauthenticated(reason.into())
    }

    pub fn forbidden(reason: impl Into<Cow<'static, str>>) -> Self {
        Error::Forbidden(reason.into())
    }

    pub fn internal(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(err.into())
    }

    /// The message with its source, for logs and tests (never sent to clients as is).
    pub fn source_text(&self) -> String {
        match self {
            Error::Internal(source) => source.to_string(),
            other => other.to_string(),
        }
    }
}

/// Maps database failures: unique violations become `Conflict` naming the field,
/// a lost connection becomes `Unavailable`, anything else is `Internal`.
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => match db.constraint() {
                Some("users_email_key") => Error::Conflict { field: "email" },
                Some("doctors_licence_number_key") => Error::Conflict { field: "licence_number" },
                Some("patients_user_id_key") => Error::Conflict { field: "user_id" },
                _ => Error::internal(err),
            },
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => Error::Unavailable("database"),
            _ => Error::internal(err),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Error::internal(err)
    }
}
