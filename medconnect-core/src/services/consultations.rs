//! Consultations: a patient asks a doctor for one; the doctor accepts it (with a time) or
//! declines it; either side cancels; the doctor completes it with a note. Consent follows
//! the consultation: before acceptance the doctor sees the request and the entries the
//! patient chose to share; from acceptance they have care of the patient until the
//! consultation ends plus the grace period (`PatientFacts::in_care_at` decides, in the
//! policy, like every other rule). Administrators see who, when and the status, never the
//! content. Every read and every change is audited.

use chrono::{DateTime, Utc};
use sqlx::Connection;

use super::Done;
use crate::MedConnect;
use crate::audit::{AuditAction, AuditEvent};
use crate::auth::Actor;
use crate::auth::policy::{self, ConsultationAction, ConsultationParty};
use crate::cache::Scope;
use crate::domain::{
    Consultation, ConsultationId, ConsultationNote, ConsultationRecord, ConsultationStatus, ConsultationTransition,
    NewConsultation, Reason, Role, check_appointment,
};
use crate::error::{Error, Result};
use crate::pagination::{Page, PageRequest};
use crate::store::consultations::{self, Change, Owner};
use crate::store::{doctors, medical, patients, predictions};

pub use crate::store::consultations::ConsultationFilter;

#[derive(Debug, Clone, Default)]
pub struct ConsultationQuery {
    pub filter: ConsultationFilter,
    pub page: PageRequest,
}

/// A change of a consultation's status, with what it carries.
#[derive(Debug, Clone)]
pub enum ConsultationChange {
    /// The doctor accepts, setting the appointment.
    Accept { scheduled_for: DateTime<Utc> },
    /// The doctor declines, saying why.
    Decline { reason: String },
    /// The patient or the doctor cancels, optionally saying why.
    Cancel { reason: Option<String> },
    /// The doctor completes it with a note.
    Complete { note: String },
}

impl ConsultationChange {
    pub fn transition(&self) -> ConsultationTransition {
        match self {
            Self::Accept { .. } => ConsultationTransition::Accept,
            Self::Decline { .. } => ConsultationTransition::Decline,
            Self::Cancel { .. } => ConsultationTransition::Cancel,
            Self::Complete { .. } => ConsultationTransition::Complete,
        }
    }
}

/// A change's inputs, checked before anything is locked.
struct CheckedChange {
    scheduled_for: Option<DateTime<Utc>>,
    decline_reason: Option<Reason>,
    cancel_reason: Option<Reason>,
    note: Option<ConsultationNote>,
}

impl ConsultationChange {
    fn check(&self, now: DateTime<Utc>) -> Result<CheckedChange> {
        let mut checked = CheckedChange { scheduled_for: None, decline_reason: None, cancel_reason: None, note: None };
        match self {
            Self::Accept { scheduled_for } => checked.scheduled_for = Some(check_appointment(*scheduled_for, now)?),
            Self::Decline { reason } => checked.decline_reason = Some(Reason::parse("reason", reason)?),
            Self::Cancel { reason } => checked.cancel_reason = Reason::parse_opt("reason", reason.as_deref())?,
            Self::Complete { note } => checked.note = Some(ConsultationNote::parse("note", note)?),
        }
        Ok(checked)
    }
}

impl MedConnect {
    /// A patient asks a doctor of the directory for a consultation, for themself.
    pub async fn request_consultation(&self, actor: &Actor, new: NewConsultation) -> Result<Consultation> {
        let patient = match (actor.role(), actor.patient_id()) {
            (Role::Patient, Some(own)) => own,
            _ => return Err(Error::forbidden("only patients ask for consultations, for themselves")),
        };
        let now = self.clock().now();
        let checked = new.parse(now)?;
        self.audited_write(Some(actor), AuditAction::ConsultationRequest, async |tx| {
            if !doctors::is_active(&mut *tx, checked.doctor_id).await? {
                return Err(Error::NotFound("doctor"));
            }
            let consultation = consultations::insert(&mut *tx, patient, &checked, now).await?;
            Ok(Done::on(consultation.id.0, consultation).about(patient))
        })
        .await
    }

    /// One consultation with the entries shared with it and what was documented during it.
    /// Its doctor sees the shared entries while the consultation is requested or while they
    /// have care of the patient, and what was documented while they have care; an
    /// administrator sees the metadata alone.
    pub async fn get_consultation(&self, actor: &Actor, id: ConsultationId) -> Result<ConsultationRecord> {
        let event = AuditEvent::new(Some(actor), AuditAction::ConsultationRead).target(Some(id.0));
        let mut conn = self.connection().await?;
        let Some(consultation) = consultations::get(&mut *conn, id, false).await? else {
            self.record_refusal(&mut *conn, event).await?;
            return Err(Error::NotFound("consultation"));
        };
        let (patient, doctor) = (consultation.patient_id, consultation.doctor_id);
        let event = event.about(Some(patient));
        let party = policy::consultation_party(actor, patient, doctor);
        if let Err(refusal) = policy::authorize_consultation(party, ConsultationAction::Read) {
            self.record_refusal(&mut *conn, event).await?;
            return Err(refusal);
        }
        let (shares, documents) = match party {
            ConsultationParty::Patient => (true, true),
            ConsultationParty::Doctor => {
                let facts = patients::facts(&mut *conn, actor, patient, false).await?;
                let in_care = facts.in_care_at(self.clock().now());
                (in_care || consultation.status == ConsultationStatus::Requested, in_care)
            }
            ConsultationParty::Admin | ConsultationParty::Stranger => (false, false),
        };
        let shared_entries = if shares {
            let ids = consultations::shared_entry_ids(&mut *conn, id).await?;
            medical::by_ids(&mut *conn, patient, &ids).await?
        } else {
            Vec::new()
        };
        let (documented_entries, predictions) = if documents {
            (medical::of_consultation(&mut *conn, id).await?, predictions::of_consultation(&mut *conn, id).await?)
        } else {
            (Vec::new(), Vec::new())
        };
        drop(conn);
        let consultation = if party == ConsultationParty::Admin { consultation.metadata_only() } else { consultation };
        self.audit_writer().append(event.into_row(self.audit_keys())).await?;
        Ok(ConsultationRecord { consultation, shared_entries, documented_entries, predictions })
    }

    /// Moves a consultation along its lifecycle. The consultation is locked while the change
    /// is decided and made, so of two simultaneous changes the second sees the first's
    /// outcome (and gets a conflict naming the status when it no longer applies).
    pub async fn change_consultation(
        &self,
        actor: &Actor,
        id: ConsultationId,
        change: ConsultationChange,
    ) -> Result<Consultation> {
        let now = self.clock().now();
        let checked = change.check(now)?;
        let transition = change.transition();
        let action = ConsultationAction::Change(transition);
        let event = AuditEvent::new(Some(actor), action.audited_as()).target(Some(id.0));
        let mut conn = self.connection().await?;
        let mut tx = conn.begin().await?;
        let current = consultations::get(&mut *tx, id, true).await?;
        let refusal = match &current {
            None => Some((event, Error::NotFound("consultation"))),
            Some(c) => {
                let party = policy::consultation_party(actor, c.patient_id, c.doctor_id);
                policy::authorize_consultation(party, action).err().map(|e| (event.about(Some(c.patient_id)), e))
            }
        };
        if let Some((event, refusal)) = refusal {
            tx.rollback().await?;
            self.record_refusal(&mut *conn, event).await?;
            return Err(refusal);
        }
        let Some(current) = current else { return Err(Error::NotFound("consultation")) };
        let status = current.status.after(transition)?;
        // An accepted consultation that ends leaves the doctor care for the grace period.
        let ends = matches!(status, ConsultationStatus::Completed | ConsultationStatus::Cancelled);
        let care_until = (ends && current.accepted_at.is_some()).then(|| now + self.consultation_grace());
        let changed = consultations::apply(
            &mut *tx,
            id,
            &Change {
                status,
                at: now,
                by: actor.user_id(),
                scheduled_for: checked.scheduled_for,
                decline_reason: checked.decline_reason.as_ref().map(AsRef::as_ref),
                cancel_reason: checked.cancel_reason.as_ref().map(AsRef::as_ref),
                completion_note: checked.note.as_ref().map(AsRef::as_ref),
                care_until,
            },
        )
        .await?;
        let event = event.about(Some(current.patient_id));
        crate::store::audit::insert_one(&mut *tx, &event.into_row(self.audit_keys())).await?;
        tx.commit().await?;
        // The doctor's care of the patient changed: nothing cached about it may be served.
        self.cache().bump(&[Scope::Patient(current.patient_id)]).await;
        Ok(changed)
    }

    /// The caller's consultations by date (the appointment once accepted, else the
    /// request): a patient's own, a doctor's inbox and schedule, every consultation's
    /// metadata for an administrator.
    pub async fn list_consultations(&self, actor: &Actor, query: &ConsultationQuery) -> Result<Page<Consultation>> {
        let scope = format!("consultations/{}", actor.user_id());
        let limit = query.page.limit()?;
        let after = self.cursors().after(&scope, &query.page)?;
        if let (Some(from), Some(to)) = (query.filter.from, query.filter.to) {
            if from >= to {
                return Err(Error::invalid("from", "must be before `to`"));
            }
        }
        let owner = match (actor.role(), actor.patient_id(), actor.doctor_id()) {
            (Role::Admin, _, _) => Owner::Everyone,
            (Role::Doctor, _, Some(doctor)) => Owner::Doctor(doctor),
            (Role::Patient, Some(own), _) => Owner::Patient(own),
            _ => return Ok(Page { items: Vec::new(), next_cursor: None }),
        };
        let rows = self
            .audited_read(actor, AuditAction::ConsultationList, async |conn| {
                consultations::list(&mut *conn, owner, &query.filter, after, limit).await
            })
            .await?;
        let mut page = self.cursors().page(&scope, rows, limit, consultations::list_key);
        if actor.is_admin() {
            page.items = page.items.into_iter().map(Consultation::metadata_only).collect();
        }
        Ok(page)
    }
}
