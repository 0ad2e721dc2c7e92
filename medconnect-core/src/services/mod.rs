//! The use cases the adapters call. Inputs arrive raw and are parsed here, so a bad field
//! is reported the same way on every road.
//!
//! Every use case on one patient's data goes through [`MedConnect::with_patient`] (or
//! [`MedConnect::read_patient`], the same for a read whose result is cached), the one unit
//! of work: it reads what the actor is to the patient (from the database with the care
//! relationship locked when the action writes; through the cache when it reads), asks the
//! policy, runs the work, and audits. A write commits its audit row with the change, then
//! bumps the patient's cache generation before answering; a read hands its row to the
//! group-commit writer and answers once the row is durable; a refusal is recorded after
//! the rollback, so a refusal never holds two connections. Use cases that are not about one
//! patient (accounts, directories) go through [`MedConnect::audited_write`] or
//! [`MedConnect::audited_read`], which do the same without the policy step.

mod accounts;
mod api_keys;
mod audit;
mod consultations;
mod doctors;
mod interactions;
mod medical;
mod patients;
mod predictions;

pub use crate::store::medical::EntryFilter;
pub use accounts::NewAdmin;
pub use api_keys::NewApiKey;
pub use consultations::{ConsultationChange, ConsultationFilter, ConsultationQuery};
pub use doctors::{DoctorQuery, NewDoctor};
pub use interactions::{MAX_DRUGS, validate_drugs};
pub use medical::EntryQuery;
pub use patients::{EmergencyContactInput, NewPatient, PatientQuery};
pub use predictions::PredictRequest;

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::MedConnect;
use crate::audit::{AuditAction, AuditEvent};
use crate::auth::Actor;
use crate::auth::policy::{self, PatientAction};
use crate::cache::{Cacheable, Kind, Scope, ScopeView};
use crate::domain::PatientId;
use crate::error::Result;
use crate::store;

/// What a unit of work hands back: its result, and the record it touched, for the audit row.
pub(crate) struct Done<T> {
    value: T,
    target: Option<Uuid>,
    /// For use cases not scoped to one patient: the patient the change was about.
    patient: Option<PatientId>,
}

impl<T> Done<T> {
    /// A result that touched no record in particular (a read, a list).
    pub fn read(value: T) -> Self {
        Self { value, target: None, patient: None }
    }

    /// A result about one record (an entry, a prediction, a doctor, an account).
    pub fn on(target: Uuid, value: T) -> Self {
        Self { value, target: Some(target), patient: None }
    }

    /// The patient a change outside `with_patient` was about (a registration).
    pub fn about(mut self, patient: PatientId) -> Self {
        self.patient = Some(patient);
        self
    }
}

impl MedConnect {
    /// The unit of work of every use case on one patient: policy, work and audit, with
    /// the relation locked for writes. See the module documentation.
    pub(crate) async fn with_patient<T>(
        &self,
        actor: &Actor,
        patient: PatientId,
        action: PatientAction,
        work: impl AsyncFnOnce(&mut PgConnection) -> Result<Done<T>>,
    ) -> Result<T> {
        let event = AuditEvent::new(Some(actor), action.audited_as()).about(Some(patient));
        if !action.writes() {
            self.allow_read(actor, patient, action, event, &mut ScopeView::new(Scope::Patient(patient))).await?;
            let mut conn = self.connection().await?;
            let done = work(&mut conn).await?;
            drop(conn);
            self.audit_writer().append(event.target(done.target).into_row(self.audit_keys())).await?;
            return Ok(done.value);
        }
        let mut conn = self.connection().await?;
        let mut tx = conn.begin().await?;
        // Writes decide on the database's facts, never the cache's, with the relation locked.
        let facts = store::patients::facts(&mut *tx, actor, patient, true).await?;
        if let Err(refusal) = policy::authorize(policy::relation(actor, patient, facts, self.clock().now()), action) {
            tx.rollback().await?;
            self.record_refusal(&mut *conn, event).await?;
            return Err(refusal);
        }
        let done = work(&mut tx).await?;
        store::audit::insert_one(&mut *tx, &event.target(done.target).into_row(self.audit_keys())).await?;
        tx.commit().await?;
        // Before answering: from now on no instance serves what was cached about this patient.
        self.cache().bump(&[Scope::Patient(patient)]).await;
        Ok(done.value)
    }

    /// A read of one patient's data whose result is cached under the patient (`entry` names
    /// it, with everything the result depends on). The policy and the audit run on every
    /// read, cached or not; a hit needs no database connection at all.
    pub(crate) async fn read_patient<T: Cacheable>(
        &self,
        actor: &Actor,
        patient: PatientId,
        action: PatientAction,
        entry: &str,
        work: impl AsyncFnOnce(&mut PgConnection) -> Result<T>,
    ) -> Result<T> {
        let event = AuditEvent::new(Some(actor), action.audited_as()).about(Some(patient));
        // The policy's facts and the data are read under one generation of the patient.
        let mut view = ScopeView::new(Scope::Patient(patient));
        self.allow_read(actor, patient, action, event, &mut view).await?;
        let value = self
            .cache()
            .get_or_load_in(&mut view, entry, Kind::Data, async || {
                let mut conn = self.connection().await?;
                work(&mut conn).await
            })
            .await?;
        self.audit_writer().append(event.into_row(self.audit_keys())).await?;
        Ok(value)
    }

    /// The policy step of a read: the facts (cached under the patient: care changes bump
    /// it), then the decision; a refusal is audited before it is returned.
    async fn allow_read(
        &self,
        actor: &Actor,
        patient: PatientId,
        action: PatientAction,
        event: AuditEvent,
        view: &mut ScopeView,
    ) -> Result<()> {
        let entry = format!("facts:{}", actor.user_id());
        let facts = self
            .cache()
            .get_or_load_in(view, &entry, Kind::Access, async || {
                store::patients::facts(self.pool(), actor, patient, false).await
            })
            .await?;
        if let Err(refusal) = policy::authorize(policy::relation(actor, patient, facts, self.clock().now()), action) {
            self.record_refusal(self.pool(), event).await?;
            return Err(refusal);
        }
        Ok(())
    }

    /// A change that is not scoped to one patient's record (registrations, account
    /// changes): one transaction with its audit row. Authorisation is the caller's first step.
    pub(crate) async fn audited_write<T>(
        &self,
        actor: Option<&Actor>,
        action: AuditAction,
        work: impl AsyncFnOnce(&mut PgConnection) -> Result<Done<T>>,
    ) -> Result<T> {
        let mut tx = self.transaction().await?;
        let done = work(&mut tx).await?;
        let event = AuditEvent::new(actor, action).about(done.patient).target(done.target);
        store::audit::insert_one(&mut *tx, &event.into_row(self.audit_keys())).await?;
        tx.commit().await?;
        if let Some(patient) = done.patient {
            // A new patient: anything cached about its id (that it did not exist) is old.
            self.cache().bump(&[Scope::Patient(patient)]).await;
        }
        Ok(done.value)
    }

    /// A read that is not scoped to one patient (the patient list, the audit trail): answered
    /// once its audit row is durable, through the group-commit writer.
    pub(crate) async fn audited_read<T>(
        &self,
        actor: &Actor,
        action: AuditAction,
        work: impl AsyncFnOnce(&mut PgConnection) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.connection().await?;
        let value = work(&mut conn).await?;
        drop(conn);
        self.audit_writer().append(AuditEvent::new(Some(actor), action).into_row(self.audit_keys())).await?;
        Ok(value)
    }
}

impl MedConnect {
    /// Records a refusal in the audit trail, on its own (outside any rolled-back work).
    pub(crate) async fn record_refusal(&self, db: impl sqlx::PgExecutor<'_>, event: AuditEvent) -> Result<()> {
        // Boxed: a refusal is rare, and on the pool its future is kilobytes (see `connection`).
        Box::pin(store::audit::insert_one(db, &event.denied().into_row(self.audit_keys()))).await
    }
}

pub(crate) fn require_admin(actor: &Actor) -> Result<()> {
    if actor.is_admin() { Ok(()) } else { Err(crate::error::Error::forbidden("only administrators may do this")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future a call returns, without making the call.
    fn future_size<A, F: Future>(_: fn(A) -> F) -> usize {
        size_of::<F>()
    }

    type Args = (&'static MedConnect, &'static Actor, &'static EntryQuery, PatientId);

    /// What every request's future carries inline, and what poem's layers copy whole each
    /// time they move it. These were 8-9 KB in a release build before the waits on
    /// PostgreSQL and Redis were boxed; now 1.1-1.5 KB there and 1.5-2.2 KB in the debug
    /// build tests run in, where an unboxed wait adds 1.6 KB (`connection`) to 6.4 KB (the
    /// Redis pool's), so the bound is tight.
    #[test]
    fn the_futures_of_reads_stay_small() {
        let sizes = [
            ("authenticate", future_size(|(app, ..): Args| app.authenticate(""))),
            ("get_patient", future_size(|(app, actor, _, patient): Args| app.get_patient(actor, patient))),
            ("care_team", future_size(|(app, actor, _, patient): Args| app.care_team(actor, patient))),
            (
                "list_medical_entries",
                future_size(|(app, actor, query, patient): Args| app.list_medical_entries(actor, patient, query)),
            ),
            (
                "list_predictions",
                future_size(|(app, actor, query, patient): Args| {
                    app.list_predictions(actor, patient, None, &query.page)
                }),
            ),
            // Takes its connection outside any cache loader: the one that holds
            // `MedConnect::connection`'s own boxing to account.
            (
                "get_consultation",
                future_size(|(app, actor, _, patient): Args| {
                    app.get_consultation(actor, crate::domain::ConsultationId(patient.0))
                }),
            ),
        ];
        for (call, size) in sizes {
            assert!(size <= 2560, "the future of {call} is {size} bytes");
        }
    }
}
