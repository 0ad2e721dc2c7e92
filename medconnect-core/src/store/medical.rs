//! Medical entries.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::{ConsultationId, EntryDetails, EntryId, EntryKind, MedicalEntry, PatientId, UserId};
use crate::error::Result;

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: Uuid,
    patient_id: Uuid,
    effective_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    author_id: Uuid,
    self_reported: bool,
    details: Json<EntryDetails>,
    consultation_id: Option<Uuid>,
}

impl From<EntryRow> for MedicalEntry {
    fn from(r: EntryRow) -> Self {
        MedicalEntry {
            id: EntryId(r.id),
            patient_id: PatientId(r.patient_id),
            effective_at: r.effective_at,
            recorded_at: r.recorded_at,
            author_id: UserId(r.author_id),
            self_reported: r.self_reported,
            details: r.details.0,
            consultation_id: r.consultation_id.map(ConsultationId),
        }
    }
}

/// The selected columns, as a macro so that queries stay `&'static str`.
macro_rules! columns {
    () => {
        "id, patient_id, effective_at, recorded_at, author_id, self_reported, details, consultation_id"
    };
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    patient: PatientId,
    effective_at: DateTime<Utc>,
    author: UserId,
    self_reported: bool,
    details: &EntryDetails,
    consultation: Option<ConsultationId>,
) -> Result<MedicalEntry> {
    let (code, value, unit) = details.projection();
    let sql = concat!("insert into medical_entries (id, patient_id, kind, effective_at, author_id, self_reported, code, value, unit, details, consultation_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning ", columns!());
    let row: EntryRow = sqlx::query_as(sql)
        .bind(Uuid::new_v4())
        .bind(patient.0)
        .bind(details.kind().as_str())
        .bind(effective_at)
        .bind(author.0)
        .bind(self_reported)
        .bind(code)
        .bind(value)
        .bind(unit)
        .bind(Json(details))
        .bind(consultation.map(|c| c.0))
        .fetch_one(db)
        .await?;
    Ok(row.into())
}

/// The sort key of a record: newest first, then id.
pub type ListKey = (DateTime<Utc>, Uuid);

pub fn list_key(e: &MedicalEntry) -> ListKey {
    (e.effective_at, e.id.0)
}

/// Filters on a record listing.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub kinds: Vec<EntryKind>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub async fn list(
    db: impl PgExecutor<'_>,
    patient: PatientId,
    filter: &EntryFilter,
    after: Option<ListKey>,
    limit: u32,
) -> Result<Vec<MedicalEntry>> {
    let kinds: Option<Vec<&str>> =
        (!filter.kinds.is_empty()).then(|| filter.kinds.iter().map(|k| k.as_str()).collect());
    let sql = concat!(
        "select ",
        columns!(),
        " from medical_entries
         where patient_id = $1
           and ($2::text[] is null or kind = any($2))
           and ($3::timestamptz is null or effective_at >= $3)
           and ($4::timestamptz is null or effective_at < $4)
           and ($5::timestamptz is null or (effective_at, id) < ($5, $6))
         order by effective_at desc, id desc
         limit $7"
    );
    let rows: Vec<EntryRow> = sqlx::query_as(sql)
        .bind(patient.0)
        .bind(kinds)
        .bind(filter.from)
        .bind(filter.to)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(i64::from(limit) + 1)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Every entry of some kinds, newest first: decision support reads the whole record, so
/// that nothing it would have weighed is left out unsaid.
pub async fn of_kinds(db: impl PgExecutor<'_>, patient: PatientId, kinds: &[EntryKind]) -> Result<Vec<MedicalEntry>> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let sql = concat!(
        "select ",
        columns!(),
        " from medical_entries where patient_id = $1 and kind = any($2)
         order by effective_at desc, id desc"
    );
    let rows: Vec<EntryRow> = sqlx::query_as(sql).bind(patient.0).bind(kinds).fetch_all(db).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The entries with these ids in the patient's record, oldest first (ids of other
/// patients' entries find nothing).
pub async fn by_ids(db: impl PgExecutor<'_>, patient: PatientId, ids: &[EntryId]) -> Result<Vec<MedicalEntry>> {
    let ids: Vec<Uuid> = ids.iter().map(|e| e.0).collect();
    let sql = concat!(
        "select ",
        columns!(),
        " from medical_entries where patient_id = $1 and id = any($2) order by effective_at, id"
    );
    let rows: Vec<EntryRow> = sqlx::query_as(sql).bind(patient.0).bind(ids).fetch_all(db).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The entries documented during a consultation, oldest first.
pub async fn of_consultation(db: impl PgExecutor<'_>, consultation: ConsultationId) -> Result<Vec<MedicalEntry>> {
    let sql =
        concat!("select ", columns!(), " from medical_entries where consultation_id = $1 order by effective_at, id");
    let rows: Vec<EntryRow> = sqlx::query_as(sql).bind(consultation.0).fetch_all(db).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
