//! The one error type of the core: each case is something a caller can act on.
//!
//! Messages never carry health data, passwords or tokens: they name fields and
//! rules, not values. Database text stays in the `Internal` source, which
//! adapters log by kind only and never send to a client.

use std::borrow::Cow;
use std::time::Duration;

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long a caller should wait before retrying when a dependency is down.
pub const DEPENDENCY_RETRY_AFTER: Duration = Duration::from_secs(1);

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
    /// A uniqueness rule would be broken; the field says which when it is known.
    #[error("{}", match field { Some(f) => format!("`{f}` is already in use"), None => "the record conflicts with an existing one".to_owned() })]
    Conflict { field: Option<&'static str> },
    /// The record's current status does not allow the change (a consultation already
    /// completed cannot be cancelled); the message names the status.
    #[error("the {what} is `{status}`: it cannot be {change} now")]
    WrongState { what: &'static str, status: &'static str, change: &'static str },
    /// Too many attempts; retry after the given time.
    #[error("too many requests: retry in {} s", retry_after.as_secs().max(1))]
    RateLimited { retry_after: Duration },
    /// A dependency (the database, the password hashers) cannot serve now; retry after the given time.
    #[error("{dependency} is unavailable")]
    Unavailable { dependency: &'static str, retry_after: Duration },
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

    /// A dependency that failed in a way a retry may cure.
    pub fn unavailable(dependency: &'static str) -> Self {
        Error::Unavailable { dependency, retry_after: DEPENDENCY_RETRY_AFTER }
    }

    /// When the caller may try again, for the cases that have one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after } | Error::Unavailable { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The message with its source, for logs and tests (never sent to clients as is).
    pub fn source_text(&self) -> String {
        match self {
            Error::Internal(source) => source.to_string(),
            other => other.to_string(),
        }
    }
}

/// SQLSTATE classes and codes that mean "the database cannot serve now": connection
/// exceptions (08), insufficient resources (53), operator intervention such as a shutdown
/// or a restart (57P01–57P05), system errors (58), and the transient conflicts a retry
/// cures (serialization failure 40001, deadlock 40P01).
fn is_transient(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("58")
        || code.starts_with("57P")
        || code == "40001"
        || code == "40P01"
}

/// Maps database failures. Everything that means "PostgreSQL cannot serve now" (a
/// dropped connection, a pool timeout, a restart) is `Unavailable`, so callers get a 503
/// with a retry time, never a 500. Unique violations that the insert did not map itself
/// (see [`crate::store::on_unique`]) become a `Conflict` without a field. Anything else is
/// `Internal`.
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict { field: None },
            sqlx::Error::Database(db) if db.code().is_some_and(|c| is_transient(&c)) => Error::unavailable("database"),
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::BeginFailed => Error::unavailable("database"),
            _ => Error::internal(err),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        match err {
            sqlx::migrate::MigrateError::Execute(inner) => inner.into(),
            other => Error::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_faults_are_unavailable_with_a_retry_time() {
        for err in [sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed, sqlx::Error::WorkerCrashed] {
            let mapped = Error::from(err);
            assert!(matches!(mapped, Error::Unavailable { dependency: "database", .. }), "{mapped:?}");
            assert_eq!(mapped.retry_after(), Some(DEPENDENCY_RETRY_AFTER));
        }
        let io = sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"));
        assert!(matches!(Error::from(io), Error::Unavailable { .. }));
    }

    #[test]
    fn transient_sqlstates_are_recognised() {
        for code in ["08006", "08003", "57P01", "57P03", "53300", "40001", "40P01", "58030"] {
            assert!(is_transient(code), "{code}");
        }
        for code in ["23505", "22021", "42P01", "23514"] {
            assert!(!is_transient(code), "{code}");
        }
    }

    #[test]
    fn messages_name_the_field_and_never_a_value() {
        assert_eq!(Error::Conflict { field: Some("email") }.to_string(), "`email` is already in use");
        assert_eq!(Error::Conflict { field: None }.to_string(), "the record conflicts with an existing one");
        let limited = Error::RateLimited { retry_after: Duration::from_secs(42) };
        assert_eq!(limited.to_string(), "too many requests: retry in 42 s");
    }
}
