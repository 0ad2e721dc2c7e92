//! The audit trail: every access to health data and every account change, as an
//! append-only, tamper-evident log that carries ids and action names only, never
//! health data.
//!
//! - Requests append without any lock shared between them. A write's row goes into the
//!   write's own transaction; a read's row goes to the [`writer`], which commits the rows of
//!   concurrent requests together (group commit) and answers each request only once its
//!   row is durable.
//! - Each row carries an HMAC of its content ([`chain`]), keyed outside the database.
//! - The [`sealer`], one at a time across instances, chains new rows in batches into an
//!   HMAC chain and logs each new head; [`verify`] walks it page by page.

pub(crate) mod chain;
pub(crate) mod sealer;
pub(crate) mod verify;
pub(crate) mod writer;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::Actor;
use crate::domain::PatientId;
use chain::{ChainKeys, RowContent};

pub use verify::{AuditProblem, AuditVerification, VerifyAudit};

/// What was done, as the audit log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    PatientCreate,
    PatientRead,
    PatientList,
    CareRead,
    CareGrant,
    CareRevoke,
    MedicalRead,
    MedicalCreate,
    PredictionCreate,
    PredictionRead,
    PredictionReview,
    DoctorCreate,
    AdminCreate,
    AccountActivate,
    AccountDeactivate,
    SessionRefreshReuse,
    AuditRead,
    ConsultationRequest,
    ConsultationRead,
    ConsultationList,
    ConsultationAccept,
    ConsultationDecline,
    ConsultationCancel,
    ConsultationComplete,
    ApiKeyCreate,
    ApiKeyRevoke,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::PatientCreate => "patient.create",
            AuditAction::PatientRead => "patient.read",
            AuditAction::PatientList => "patient.list",
            AuditAction::CareRead => "care.read",
            AuditAction::CareGrant => "care.grant",
            AuditAction::CareRevoke => "care.revoke",
            AuditAction::MedicalRead => "medical.read",
            AuditAction::MedicalCreate => "medical.create",
            AuditAction::PredictionCreate => "prediction.create",
            AuditAction::PredictionRead => "prediction.read",
            AuditAction::PredictionReview => "prediction.review",
            AuditAction::DoctorCreate => "doctor.create",
            AuditAction::AdminCreate => "account.create_admin",
            AuditAction::AccountActivate => "account.activate",
            AuditAction::AccountDeactivate => "account.deactivate",
            AuditAction::SessionRefreshReuse => "session.refresh_reuse",
            AuditAction::AuditRead => "audit.read",
            AuditAction::ConsultationRequest => "consultation.request",
            AuditAction::ConsultationRead => "consultation.read",
            AuditAction::ConsultationList => "consultation.list",
            AuditAction::ConsultationAccept => "consultation.accept",
            AuditAction::ConsultationDecline => "consultation.decline",
            AuditAction::ConsultationCancel => "consultation.cancel",
            AuditAction::ConsultationComplete => "consultation.complete",
            AuditAction::ApiKeyCreate => "api_key.create",
            AuditAction::ApiKeyRevoke => "api_key.revoke",
        }
    }
}

/// One thing that happened: who, what, about which patient and record, and whether the
/// policy allowed it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuditEvent {
    actor: Option<(Uuid, &'static str)>,
    action: AuditAction,
    patient: Option<PatientId>,
    target: Option<Uuid>,
    denied: bool,
}

impl AuditEvent {
    pub fn new(actor: Option<&Actor>, action: AuditAction) -> Self {
        Self {
            actor: actor.map(|a| (a.user_id().0, a.role().as_str())),
            action,
            patient: None,
            target: None,
            denied: false,
        }
    }

    pub fn about(mut self, patient: Option<PatientId>) -> Self {
        self.patient = patient;
        self
    }

    pub fn target(mut self, target: Option<Uuid>) -> Self {
        self.target = target;
        self
    }

    pub fn denied(mut self) -> Self {
        self.denied = true;
        self
    }

    /// The row to store: the event with a random id, the time, and its row MAC.
    pub fn into_row(self, keys: &ChainKeys) -> AuditRow {
        // Microseconds, as PostgreSQL stores them, so the MAC can be recomputed from the row.
        let now = Utc::now();
        let at = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        let mut row = AuditRow {
            // Time-ordered, so the unique index on ids grows at its right edge.
            id: Uuid::now_v7(),
            at,
            actor_id: self.actor.map(|(id, _)| id),
            actor_role: self.actor.map(|(_, role)| role),
            action: self.action.as_str(),
            patient_id: self.patient.map(|p| p.0),
            target_id: self.target,
            outcome: if self.denied { "denied" } else { "ok" },
            row_mac: [0; 32],
        };
        row.row_mac = keys.row_mac(&row.content());
        row
    }
}

/// An audit row ready to insert.
#[derive(Debug, Clone)]
pub(crate) struct AuditRow {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<&'static str>,
    pub action: &'static str,
    pub patient_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub outcome: &'static str,
    pub row_mac: [u8; 32],
}

impl AuditRow {
    fn content(&self) -> RowContent<'static> {
        RowContent {
            id: self.id,
            at: self.at,
            actor_id: self.actor_id,
            actor_role: self.actor_role,
            action: self.action,
            patient_id: self.patient_id,
            target_id: self.target_id,
            outcome: self.outcome,
        }
    }
}

/// A stored audit row, as administrators read it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub patient_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub outcome: String,
    /// Whether the sealer has chained the row yet (within about a second of its commit).
    pub sealed: bool,
}
