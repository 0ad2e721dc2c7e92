//! Shortcuts for tests, behind the `test-support` cargo feature: never in the default
//! public API. They let a test act as the database owner (to tamper with the audit log
//! the way an attacker with write access would) or kill the sealer mid-batch.

use sqlx::PgPool;

use crate::MedConnect;
use crate::audit::sealer;

/// The handle's database pool, for SQL that plays an attacker or checks stored rows.
pub fn pool(app: &MedConnect) -> &PgPool {
    app.pool()
}

/// Seals one batch and drops its transaction instead of committing, as a sealer killed
/// mid-batch would.
pub async fn seal_batch_then_die(app: &MedConnect) -> crate::Result<()> {
    sealer::seal_batch(app.pool(), app.audit_keys(), false).await.map(|_| ())
}

/// Moves the handle's clock forward: time-limited care ends without a test sleeping.
pub fn advance_clock(app: &MedConnect, by: chrono::Duration) {
    app.clock().advance(by);
}
