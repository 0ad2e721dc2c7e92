//! Consultations and the entries shared with them.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::auth::Actor;
use crate::domain::{
    CheckedConsultation, Consultation, ConsultationContent, ConsultationId, ConsultationMode, ConsultationStatus,
    DoctorId, EntryId, PatientId, TimeWindow, UserId,
};
use crate::error::{Error, Result};

#[derive(sqlx::FromRow)]
struct ConsultationRow {
    id: Uuid,
    patient_id: Uuid,
    doctor_id: Uuid,
    status: String,
    mode: String,
    reason: String,
    preferred_windows: Json<Vec<TimeWindow>>,
    requested_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
    scheduled_for: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    ended_by: Option<Uuid>,
    decline_reason: Option<String>,
    cancel_reason: Option<String>,
    completion_note: Option<String>,
    care_until: Option<DateTime<Utc>>,
}

impl TryFrom<ConsultationRow> for Consultation {
    type Error = Error;
    fn try_from(r: ConsultationRow) -> Result<Self> {
        Ok(Consultation {
            id: ConsultationId(r.id),
            patient_id: PatientId(r.patient_id),
            doctor_id: DoctorId(r.doctor_id),
            status: ConsultationStatus::parse(&r.status).map_err(Error::internal)?,
            mode: ConsultationMode::parse(&r.mode).map_err(Error::internal)?,
            requested_at: r.requested_at,
            accepted_at: r.accepted_at,
            scheduled_for: r.scheduled_for,
            ended_at: r.ended_at,
            ended_by: r.ended_by.map(UserId),
            care_until: r.care_until,
            content: Some(ConsultationContent {
                reason: r.reason,
                preferred_windows: r.preferred_windows.0,
                decline_reason: r.decline_reason,
                cancel_reason: r.cancel_reason,
                completion_note: r.completion_note,
            }),
        })
    }
}

macro_rules! columns {
    () => {
        "id, patient_id, doctor_id, status, mode, reason, preferred_windows, requested_at, accepted_at,
         scheduled_for, ended_at, ended_by, decline_reason, cancel_reason, completion_note, care_until"
    };
}

/// Stores a request and the entries it shares, which must all be the patient's own.
pub async fn insert(
    conn: &mut PgConnection,
    patient: PatientId,
    request: &CheckedConsultation,
    now: DateTime<Utc>,
) -> Result<Consultation> {
    let sql = concat!(
        "insert into consultations (id, patient_id, doctor_id, status, mode, reason, preferred_windows, requested_at)
         values ($1, $2, $3, 'requested', $4, $5, $6, $7) returning ",
        columns!()
    );
    let row: ConsultationRow = sqlx::query_as(sql)
        .bind(Uuid::new_v4())
        .bind(patient.0)
        .bind(request.doctor_id.0)
        .bind(request.mode.as_str())
        .bind(request.reason.as_ref())
        .bind(Json(&request.preferred_windows))
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
    if !request.shared_entries.is_empty() {
        let ids: Vec<Uuid> = request.shared_entries.iter().map(|e| e.0).collect();
        let shared = sqlx::query(
            "insert into consultation_shared_entries (consultation_id, entry_id)
             select $1, id from medical_entries where patient_id = $2 and id = any($3)",
        )
        .bind(row.id)
        .bind(patient.0)
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
        if shared.rows_affected() != ids.len() as u64 {
            return Err(Error::invalid("shared_entries", "names an entry that is not in your record"));
        }
    }
    row.try_into()
}

/// One consultation; with `lock`, locked until the transaction ends so that transitions
/// of it happen one at a time.
pub async fn get(db: impl PgExecutor<'_>, id: ConsultationId, lock: bool) -> Result<Option<Consultation>> {
    let sql = if lock {
        concat!("select ", columns!(), " from consultations where id = $1 for update")
    } else {
        concat!("select ", columns!(), " from consultations where id = $1")
    };
    let row: Option<ConsultationRow> = sqlx::query_as(sql).bind(id.0).fetch_optional(db).await?;
    row.map(TryInto::try_into).transpose()
}

/// A change of status, with what it sets.
pub struct Change<'a> {
    pub status: ConsultationStatus,
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub decline_reason: Option<&'a str>,
    pub cancel_reason: Option<&'a str>,
    pub completion_note: Option<&'a str>,
    /// Set when an accepted consultation ends: the end of the doctor's care.
    pub care_until: Option<DateTime<Utc>>,
}

/// Applies a change to a locked consultation.
pub async fn apply(db: impl PgExecutor<'_>, id: ConsultationId, change: &Change<'_>) -> Result<Consultation> {
    let sql = concat!(
        "update consultations set status = $2,
                accepted_at = case when $2 = 'accepted' then $3 else accepted_at end,
                scheduled_for = coalesce($5, scheduled_for),
                ended_at = case when $2 in ('completed', 'declined', 'cancelled') then $3 else ended_at end,
                ended_by = case when $2 in ('completed', 'declined', 'cancelled') then $4 else ended_by end,
                decline_reason = coalesce($6, decline_reason),
                cancel_reason = coalesce($7, cancel_reason),
                completion_note = coalesce($8, completion_note),
                care_until = coalesce($9, care_until)
         where id = $1 returning ",
        columns!()
    );
    let row: ConsultationRow = sqlx::query_as(sql)
        .bind(id.0)
        .bind(change.status.as_str())
        .bind(change.at)
        .bind(change.by.0)
        .bind(change.scheduled_for)
        .bind(change.decline_reason)
        .bind(change.cancel_reason)
        .bind(change.completion_note)
        .bind(change.care_until)
        .fetch_one(db)
        .await?;
    row.try_into()
}

/// The ids of the entries the patient shared with a consultation.
pub async fn shared_entry_ids(db: impl PgExecutor<'_>, id: ConsultationId) -> Result<Vec<EntryId>> {
    let ids: Vec<Uuid> =
        sqlx::query_scalar("select entry_id from consultation_shared_entries where consultation_id = $1")
            .bind(id.0)
            .fetch_all(db)
            .await?;
    Ok(ids.into_iter().map(EntryId).collect())
}

/// Checks, inside a write's transaction, that the actor documents during a consultation of
/// theirs with this patient that is accepted and not ended; the consultation stays locked
/// (`for share`) so that it cannot end before the write commits.
pub async fn check_documenting(
    conn: &mut PgConnection,
    id: ConsultationId,
    patient: PatientId,
    actor: &Actor,
) -> Result<()> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "select id from consultations
         where id = $1 and patient_id = $2 and doctor_id = $3 and status = 'accepted' for share",
    )
    .bind(id.0)
    .bind(patient.0)
    .bind(actor.doctor_id().map(|d| d.0))
    .fetch_optional(&mut *conn)
    .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(Error::invalid(
            "consultation_id",
            "must be a consultation of yours with this patient that you accepted and that has not ended",
        )),
    }
}

/// Whose consultations a list holds.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Patient(PatientId),
    Doctor(DoctorId),
    /// Every consultation (administrators, metadata only).
    Everyone,
}

/// Filters on a list.
#[derive(Debug, Clone, Default)]
pub struct ConsultationFilter {
    pub status: Option<ConsultationStatus>,
    /// On the consultation's date: its appointment once accepted, else when it was asked for.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The sort key of a list: by date, then id.
pub type ListKey = (DateTime<Utc>, Uuid);

pub fn list_key(c: &Consultation) -> ListKey {
    (c.scheduled_for.unwrap_or(c.requested_at), c.id.0)
}

pub async fn list(
    db: impl PgExecutor<'_>,
    owner: Owner,
    filter: &ConsultationFilter,
    after: Option<ListKey>,
    limit: u32,
) -> Result<Vec<Consultation>> {
    let (patient, doctor) = match owner {
        Owner::Patient(p) => (Some(p.0), None),
        Owner::Doctor(d) => (None, Some(d.0)),
        Owner::Everyone => (None, None),
    };
    let sql = concat!(
        "select ",
        columns!(),
        " from consultations
         where ($1::uuid is null or patient_id = $1)
           and ($2::uuid is null or doctor_id = $2)
           and ($3::text is null or status = $3)
           and ($4::timestamptz is null or listed_at >= $4)
           and ($5::timestamptz is null or listed_at < $5)
           and ($6::timestamptz is null or (listed_at, id) > ($6, $7))
         order by listed_at, id
         limit $8"
    );
    let rows: Vec<ConsultationRow> = sqlx::query_as(sql)
        .bind(patient)
        .bind(doctor)
        .bind(filter.status.map(ConsultationStatus::as_str))
        .bind(filter.from)
        .bind(filter.to)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(i64::from(limit) + 1)
        .fetch_all(db)
        .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}
