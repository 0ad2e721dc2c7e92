//! Consultations: a patient asks a doctor; the doctor accepts or declines; either side
//! cancels; the doctor completes. Accepting gives the doctor time-limited care.

use chrono::{DateTime, Utc};
use medconnect_core::MedConnect;
use medconnect_core::domain::{
    Consultation, ConsultationId, ConsultationMode, ConsultationRecord, ConsultationStatus, DoctorId, EntryId,
    NewConsultation, TimeWindow,
};
use medconnect_core::services::{ConsultationChange, ConsultationFilter, ConsultationQuery};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::medical::EntryView;
use super::predictions::PredictionView;
use super::types::{enum_from, page_of, page_request};
use super::{ApiTags, Auth};
use crate::problem::{ApiResult, ConsultationErrors};

enum_from!(ModeView => ConsultationMode { InPerson, Video, Phone });
enum_from!(ConsultationMode => ModeView { InPerson, Video, Phone });
enum_from!(StatusView => ConsultationStatus { Requested, Accepted, Completed, Declined, Cancelled });
enum_from!(ConsultationStatus => StatusView { Requested, Accepted, Completed, Declined, Cancelled });

/// How the patient and the doctor meet.
///
/// - `in_person`: at the practice.
/// - `video`: a video call.
/// - `phone`: a phone call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "ConsultationMode", rename_all = "snake_case")]
pub enum ModeView {
    InPerson,
    Video,
    Phone,
}

/// Where a consultation stands: `requested → accepted → completed`, with `declined` (from
/// requested) and `cancelled` (from requested or accepted) as exits.
///
/// - `requested`: the patient asked; the doctor has not answered.
/// - `accepted`: the doctor accepted and set a time; they have care of the patient.
/// - `completed`: it took place; the doctor wrote the completion note.
/// - `declined`: the doctor declined it.
/// - `cancelled`: the patient or the doctor cancelled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "ConsultationStatus", rename_all = "snake_case")]
pub enum StatusView {
    Requested,
    Accepted,
    Completed,
    Declined,
    Cancelled,
}

/// A time the patient could come: from `start` (in the future) to `end` (after `start`).
#[derive(Debug, Clone, Object)]
#[oai(rename = "TimeWindow", deny_unknown_fields)]
pub struct WindowView {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A patient's request for a consultation.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields, example)]
pub struct NewConsultationRequest {
    /// A doctor of the directory (`GET /doctors`).
    pub doctor_id: Uuid,
    /// Why you ask, up to 2,000 characters.
    #[oai(validator(max_length = 2000))]
    pub reason: String,
    pub mode: ModeView,
    /// Times you could come (at most 10), each in the future and within a year.
    #[oai(validator(max_items = 10))]
    pub preferred_windows: Option<Vec<WindowView>>,
    /// Entries of your record the doctor may see before accepting (at most 50).
    #[oai(validator(max_items = 50))]
    pub shared_entries: Option<Vec<Uuid>>,
}

impl poem_openapi::types::Example for NewConsultationRequest {
    fn example() -> Self {
        Self {
            doctor_id: uuid::uuid!("0b9a3c1e-6d2f-4e8a-9c7b-5a1d3e9f2b64"),
            reason: "Chest tightness when climbing stairs for two weeks".into(),
            mode: ModeView::InPerson,
            preferred_windows: Some(vec![WindowView {
                start: "2030-03-04T09:00:00Z".parse().unwrap_or_default(),
                end: "2030-03-04T12:00:00Z".parse().unwrap_or_default(),
            }]),
            shared_entries: Some(vec![uuid::uuid!("3c5e7a9b-1d2f-4a6c-8e0b-2d4f6a8c0e13")]),
        }
    }
}

/// The doctor accepts and sets the appointment.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields, example)]
pub struct AcceptRequest {
    /// In the future, within a year.
    pub scheduled_for: DateTime<Utc>,
}

impl poem_openapi::types::Example for AcceptRequest {
    fn example() -> Self {
        Self { scheduled_for: "2030-03-04T10:30:00Z".parse().unwrap_or_default() }
    }
}

/// The doctor declines, saying why.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields, example)]
pub struct DeclineRequest {
    #[oai(validator(max_length = 2000))]
    pub reason: String,
}

impl poem_openapi::types::Example for DeclineRequest {
    fn example() -> Self {
        Self { reason: "Please see a cardiologist closer to home; I have referred you.".into() }
    }
}

/// The patient or the doctor cancels.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, deny_unknown_fields, example)]
pub struct CancelRequest {
    #[oai(validator(max_length = 2000))]
    pub reason: Option<String>,
}

impl poem_openapi::types::Example for CancelRequest {
    fn example() -> Self {
        Self { reason: Some("I cannot come that day.".into()) }
    }
}

/// The doctor completes the consultation with a note.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields, example)]
pub struct CompleteRequest {
    #[oai(validator(max_length = 10000))]
    pub note: String,
}

impl poem_openapi::types::Example for CompleteRequest {
    fn example() -> Self {
        Self { note: "Exertional angina suspected; stress test booked, aspirin started.".into() }
    }
}

/// A consultation. Administrators get the metadata (who, when, status) without `reason`,
/// `preferred_windows`, `decline_reason`, `cancel_reason` and `completion_note`.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none, rename = "Consultation")]
pub struct ConsultationView {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub doctor_id: Uuid,
    pub status: StatusView,
    pub mode: ModeView,
    pub requested_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// The appointment the doctor set when accepting.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// When it was completed, declined or cancelled, and by which account.
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<Uuid>,
    /// When the doctor's care through it ends: set once an accepted consultation has
    /// ended (its end plus the grace period). While it is accepted, care is open.
    pub care_until: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub preferred_windows: Option<Vec<WindowView>>,
    pub decline_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub completion_note: Option<String>,
}

impl From<Consultation> for ConsultationView {
    fn from(c: Consultation) -> Self {
        let content = c.content;
        let windows = |w: Vec<TimeWindow>| w.into_iter().map(|w| WindowView { start: w.start, end: w.end }).collect();
        let (reason, preferred_windows, decline_reason, cancel_reason, completion_note) = match content {
            Some(x) => (
                Some(x.reason),
                Some(windows(x.preferred_windows)),
                x.decline_reason,
                x.cancel_reason,
                x.completion_note,
            ),
            None => (None, None, None, None, None),
        };
        Self {
            id: c.id.0,
            patient_id: c.patient_id.0,
            doctor_id: c.doctor_id.0,
            status: c.status.into(),
            mode: c.mode.into(),
            requested_at: c.requested_at,
            accepted_at: c.accepted_at,
            scheduled_for: c.scheduled_for,
            ended_at: c.ended_at,
            ended_by: c.ended_by.map(|u| u.0),
            care_until: c.care_until,
            reason,
            preferred_windows,
            decline_reason,
            cancel_reason,
            completion_note,
        }
    }
}

/// One consultation with the entries the patient shared with it and what was documented
/// during it. The doctor sees the shared entries while the consultation is requested and
/// while they have care of the patient, and the documentation while they have care;
/// administrators see none of them.
#[derive(Debug, Object)]
#[oai(rename = "ConsultationRecord")]
pub struct RecordView {
    pub consultation: ConsultationView,
    pub shared_entries: Vec<EntryView>,
    /// Entries documented during it (they carry its id).
    pub documented_entries: Vec<EntryView>,
    /// Predictions made during it.
    pub predictions: Vec<PredictionView>,
}

impl From<ConsultationRecord> for RecordView {
    fn from(r: ConsultationRecord) -> Self {
        Self {
            consultation: r.consultation.into(),
            shared_entries: r.shared_entries.into_iter().map(Into::into).collect(),
            documented_entries: r.documented_entries.into_iter().map(Into::into).collect(),
            predictions: r.predictions.into_iter().map(Into::into).collect(),
        }
    }
}

page_of!(
    ConsultationPage,
    ConsultationView,
    "A page of consultations, by date (the appointment once accepted, else the request)."
);

#[derive(ApiResponse)]
pub enum ConsultationCreated {
    /// The request was sent to the doctor.
    #[oai(status = 201)]
    Created(Json<ConsultationView>),
}

#[derive(Default)]
pub struct ConsultationsApi;

impl ConsultationsApi {
    async fn change(
        app: &MedConnect,
        auth: Auth,
        id: Uuid,
        change: ConsultationChange,
    ) -> ApiResult<Json<ConsultationView>, ConsultationErrors> {
        Ok(Json(app.change_consultation(&auth.0, ConsultationId(id), change).await?.into()))
    }
}

#[OpenApi(tag = "ApiTags::Consultations")]
impl ConsultationsApi {
    /// Ask a doctor for a consultation
    ///
    /// Patients only, for themselves, with any doctor of the directory (404 `doctor`
    /// otherwise). `shared_entries` must be entries of your own record (422 otherwise):
    /// the doctor sees them, and nothing else of your record, until they accept.
    #[oai(path = "/consultations", method = "post", operation_id = "request_consultation")]
    async fn request(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        body: Json<NewConsultationRequest>,
    ) -> ApiResult<ConsultationCreated, ConsultationErrors> {
        let body = body.0;
        let new = NewConsultation {
            doctor_id: DoctorId(body.doctor_id),
            reason: body.reason,
            mode: body.mode.into(),
            preferred_windows: body
                .preferred_windows
                .unwrap_or_default()
                .into_iter()
                .map(|w| TimeWindow { start: w.start, end: w.end })
                .collect(),
            shared_entries: body.shared_entries.unwrap_or_default().into_iter().map(EntryId).collect(),
        };
        Ok(ConsultationCreated::Created(Json(app.request_consultation(&auth.0, new).await?.into())))
    }

    /// Your consultations
    ///
    /// A patient's own; a doctor's inbox (`status=requested`) and schedule
    /// (`status=accepted`); for administrators, every consultation's metadata. By date:
    /// the appointment once accepted, else the request; `from` and `to` bound that date.
    #[oai(path = "/consultations", method = "get", operation_id = "list_consultations")]
    #[allow(clippy::too_many_arguments)] // one argument per query parameter
    async fn list(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        /// Only consultations with this status.
        status: Query<Option<StatusView>>,
        /// Only consultations dated at or after this time.
        from: Query<Option<DateTime<Utc>>>,
        /// Only consultations dated before this time.
        to: Query<Option<DateTime<Utc>>>,
        /// `next_cursor` of the previous page; absent for the first page.
        cursor: Query<Option<String>>,
        /// Page size (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<ConsultationPage>, ConsultationErrors> {
        let filter = ConsultationFilter { status: status.0.map(Into::into), from: from.0, to: to.0 };
        let query = ConsultationQuery { filter, page: page_request(cursor.0, limit.0) };
        Ok(Json(app.list_consultations(&auth.0, &query).await?.into()))
    }

    /// One consultation
    ///
    /// Its patient and its doctor see it whole; administrators see the metadata; anyone
    /// else gets 404.
    #[oai(path = "/consultations/:consultation_id", method = "get", operation_id = "get_consultation")]
    async fn get(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        consultation_id: Path<Uuid>,
    ) -> ApiResult<Json<RecordView>, ConsultationErrors> {
        Ok(Json(app.get_consultation(&auth.0, ConsultationId(consultation_id.0)).await?.into()))
    }

    /// Accept a consultation
    ///
    /// Its doctor, while it is `requested`; 409 names the status otherwise. From now until
    /// it is completed or cancelled, plus the grace period (7 days by default), the doctor
    /// has care of the patient.
    #[oai(path = "/consultations/:consultation_id/accept", method = "post", operation_id = "accept_consultation")]
    async fn accept(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        consultation_id: Path<Uuid>,
        body: Json<AcceptRequest>,
    ) -> ApiResult<Json<ConsultationView>, ConsultationErrors> {
        let change = ConsultationChange::Accept { scheduled_for: body.0.scheduled_for };
        Self::change(&app, auth, consultation_id.0, change).await
    }

    /// Decline a consultation
    ///
    /// Its doctor, while it is `requested`; 409 names the status otherwise.
    #[oai(path = "/consultations/:consultation_id/decline", method = "post", operation_id = "decline_consultation")]
    async fn decline(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        consultation_id: Path<Uuid>,
        body: Json<DeclineRequest>,
    ) -> ApiResult<Json<ConsultationView>, ConsultationErrors> {
        Self::change(&app, auth, consultation_id.0, ConsultationChange::Decline { reason: body.0.reason }).await
    }

    /// Cancel a consultation
    ///
    /// Its patient or its doctor, while it is `requested` or `accepted`; 409 names the
    /// status otherwise. A doctor who had accepted keeps care for the grace period.
    #[oai(path = "/consultations/:consultation_id/cancel", method = "post", operation_id = "cancel_consultation")]
    async fn cancel(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        consultation_id: Path<Uuid>,
        body: Json<CancelRequest>,
    ) -> ApiResult<Json<ConsultationView>, ConsultationErrors> {
        Self::change(&app, auth, consultation_id.0, ConsultationChange::Cancel { reason: body.0.reason }).await
    }

    /// Complete a consultation
    ///
    /// Its doctor, once it has taken place, while it is `accepted`; 409 names the status
    /// otherwise. The doctor keeps care for the grace period.
    #[oai(path = "/consultations/:consultation_id/complete", method = "post", operation_id = "complete_consultation")]
    async fn complete(
        &self,
        app: Data<&MedConnect>,
        auth: Auth,
        consultation_id: Path<Uuid>,
        body: Json<CompleteRequest>,
    ) -> ApiResult<Json<ConsultationView>, ConsultationErrors> {
        Self::change(&app, auth, consultation_id.0, ConsultationChange::Complete { note: body.0.note }).await
    }
}
