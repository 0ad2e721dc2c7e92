//! The use cases the adapters call. Each one: authorise → read or write (in one
//! transaction when it writes) → audit. Inputs arrive raw and are parsed here, so a
//! bad field is reported the same way on every road.

mod accounts;
mod audit;
mod doctors;
mod interactions;
mod medical;
mod patients;
mod predictions;

pub use crate::store::audit::AuditRecord;
pub use crate::store::medical::EntryFilter;
pub use accounts::NewAdmin;
pub use doctors::{DoctorQuery, NewDoctor};
pub use interactions::MAX_DRUGS;
pub use medical::EntryQuery;
pub use patients::{EmergencyContactInput, NewPatient, PatientQuery};
pub use predictions::PredictRequest;

use sqlx::PgConnection;

use crate::auth::Actor;
use crate::auth::policy::{self, PatientAction};
use crate::domain::PatientId;
use crate::error::Result;
use crate::store::{self, audit::AuditEvent};

/// Records an access by `actor` in the audit log.
async fn record(
    conn: &mut PgConnection,
    actor: Option<&Actor>,
    action: &str,
    patient: Option<PatientId>,
    target: Option<uuid::Uuid>,
    outcome: &str,
) -> Result<()> {
    let event = AuditEvent {
        actor_id: actor.map(|a| a.user_id.0),
        actor_role: actor.map(|a| a.role.as_str()),
        action,
        patient_id: patient.map(|p| p.0),
        target_id: target,
        outcome,
    };
    store::audit::append(conn, &event).await
}

/// Decides whether `actor` may take `action` on `patient`. A refusal is audited in a
/// transaction of its own, so that it is kept when the caller's transaction rolls back.
async fn authorize_patient(
    pool: &sqlx::PgPool,
    conn: &mut PgConnection,
    actor: &Actor,
    patient: PatientId,
    action: PatientAction,
    audit_action: &str,
) -> Result<()> {
    let relation = store::patients::relation(&mut *conn, actor, patient).await?;
    let decision = policy::authorize(relation, action);
    if decision.is_err() {
        let mut own = pool.begin().await?;
        record(&mut own, Some(actor), audit_action, Some(patient), None, "denied").await?;
        own.commit().await?;
    }
    decision
}
