//! PostgreSQL repositories. Functions take any executor (`&PgPool`, a connection or a
//! transaction) so that the service owns begin and commit. Every query binds its
//! parameters; none is built by concatenation.

pub mod audit;
pub mod care;
pub mod doctors;
pub mod medical;
pub mod patients;
pub mod predictions;
pub mod sessions;
pub mod users;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::error::Result;

/// The schema, embedded in the binary and applied at start-up.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Opens a pool that gives up quickly when the database is unreachable.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await?;
    Ok(pool)
}

pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}
