//! PostgreSQL repositories, private to the core: only the use cases reach them, after the
//! policy. Functions take any executor (`&PgPool`, a connection or a transaction) so that
//! the caller owns begin and commit. Every query binds its parameters; none is built by
//! concatenation. The store reports facts; it does not decide access.

pub mod api_keys;
pub mod audit;
pub mod care;
pub mod consultations;
pub mod doctors;
pub mod medical;
pub mod patients;
pub mod predictions;
pub mod sessions;
pub mod throttle;
pub mod users;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::error::{Error, Result};

/// The schema, embedded in the binary and applied at start-up.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Pool settings: give up after `acquire_timeout` when no connection is free, and do not
/// ping a connection before each use. The ping is a round trip on every request; without
/// it, a connection that died (a database restart) fails its next query instead, which maps
/// to `Unavailable` (a 503 with `Retry-After`), and the pool replaces it.
fn options(max_connections: u32, acquire_timeout: Duration) -> PgPoolOptions {
    PgPoolOptions::new().max_connections(max_connections).acquire_timeout(acquire_timeout).test_before_acquire(false)
}

/// Opens the pool of requests, at start-up. One direct connection is tried first, so that a
/// failure says where the database is (host, port, name; never the password) and why:
/// refused, unknown host, no such database, authentication failed, or no answer in time.
pub async fn connect(url: &str, max_connections: u32, acquire_timeout: Duration) -> Result<PgPool> {
    let location = crate::config::database_location(url);
    let target: PgConnectOptions = url.parse().map_err(|_| {
        Error::invalid("DATABASE_URL", "is not a PostgreSQL URL (postgres://user:password@host:port/database)")
    })?;
    match tokio::time::timeout(acquire_timeout, PgConnection::connect_with(&target)).await {
        Ok(Ok(probe)) => {
            let _ = probe.close().await;
        }
        Ok(Err(err)) => {
            let code = match &err {
                sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
                _ => None,
            };
            let why = match code.as_deref() {
                Some("3D000") => "the database does not exist".to_owned(),
                Some("28P01" | "28000") => "authentication failed".to_owned(),
                // Nothing answers (refused, unreachable, shutting down): the database is
                // down, not misnamed; the caller may retry.
                _ if matches!(err, sqlx::Error::Io(_)) => {
                    tracing::warn!(database = %location, error = %err, "cannot connect to the database");
                    return Err(Error::unavailable("database"));
                }
                _ => err.to_string(),
            };
            return Err(Error::invalid("DATABASE_URL", format!("cannot connect to {location}: {why}")));
        }
        Err(_) => {
            tracing::warn!(database = %location, timeout_ms = acquire_timeout.as_millis() as u64, "no answer from the database");
            return Err(Error::unavailable("database"));
        }
    }
    Ok(options(max_connections, acquire_timeout).connect_with(target).await?)
}

/// A small pool to the same database for background work, opened lazily.
pub fn side_pool(pool: &PgPool, max_connections: u32) -> PgPool {
    let acquire_timeout = pool.options().get_acquire_timeout();
    options(max_connections, acquire_timeout).connect_lazy_with(pool.connect_options().as_ref().clone())
}

pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// For an insert: a unique violation of `constraint` is a conflict on `field`; any other
/// error maps as usual. Each insert names its own constraints, so a new unique index
/// added elsewhere never turns into a wrong field name.
pub fn on_unique(constraint: &'static str, field: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() && db.constraint() == Some(constraint) => {
            Error::Conflict { field: Some(field) }
        }
        _ => err.into(),
    }
}
