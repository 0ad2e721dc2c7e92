//! Stored predictions.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::{
    ConsultationId, PatientId, Prediction, PredictionInput, PredictionKind, PredictionOutput, Review, UserId,
};
use crate::error::{Error, Result};

#[derive(sqlx::FromRow)]
struct PredictionRow {
    id: Uuid,
    patient_id: Uuid,
    kind: String,
    created_at: DateTime<Utc>,
    requested_by: Uuid,
    model_name: String,
    model_version: String,
    inputs: Json<Vec<PredictionInput>>,
    output: Json<PredictionOutput>,
    reviewed_by: Option<Uuid>,
    reviewed_at: Option<DateTime<Utc>>,
    review_comment: Option<String>,
    consultation_id: Option<Uuid>,
    scenario: bool,
}

impl TryFrom<PredictionRow> for Prediction {
    type Error = Error;
    fn try_from(r: PredictionRow) -> Result<Self> {
        let review = match (r.reviewed_by, r.reviewed_at) {
            (Some(by), Some(at)) => {
                Some(Review { reviewed_by: UserId(by), reviewed_at: at, comment: r.review_comment })
            }
            _ => None,
        };
        Ok(Prediction {
            id: r.id,
            patient_id: PatientId(r.patient_id),
            kind: PredictionKind::parse("kind", &r.kind).map_err(Error::internal)?,
            created_at: r.created_at,
            requested_by: UserId(r.requested_by),
            model_name: r.model_name,
            model_version: r.model_version,
            inputs: r.inputs.0,
            output: r.output.0,
            review,
            consultation_id: r.consultation_id.map(ConsultationId),
            scenario: r.scenario,
        })
    }
}

macro_rules! columns {
    () => {
        "id, patient_id, kind, created_at, requested_by, model_name, model_version, inputs, output,
         reviewed_by, reviewed_at, review_comment, consultation_id, scenario"
    };
}

/// A prediction to store.
pub struct NewPrediction<'a> {
    pub patient_id: PatientId,
    pub kind: PredictionKind,
    pub requested_by: UserId,
    pub model_name: &'a str,
    pub model_version: &'a str,
    pub inputs: &'a [PredictionInput],
    pub output: &'a PredictionOutput,
    pub consultation: Option<ConsultationId>,
    pub scenario: bool,
}

pub async fn insert(db: impl PgExecutor<'_>, p: &NewPrediction<'_>) -> Result<Prediction> {
    let sql = concat!(
        "insert into predictions (id, patient_id, kind, requested_by, model_name, model_version, inputs, output, consultation_id, scenario)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning ",
        columns!()
    );
    let row: PredictionRow = sqlx::query_as(sql)
        .bind(Uuid::new_v4())
        .bind(p.patient_id.0)
        .bind(p.kind.as_str())
        .bind(p.requested_by.0)
        .bind(p.model_name)
        .bind(p.model_version)
        .bind(Json(p.inputs))
        .bind(Json(p.output))
        .bind(p.consultation.map(|c| c.0))
        .bind(p.scenario)
        .fetch_one(db)
        .await?;
    row.try_into()
}

/// The patient a prediction belongs to, to decide access before reading it.
pub async fn patient_of(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<PatientId>> {
    let found: Option<Uuid> =
        sqlx::query_scalar("select patient_id from predictions where id = $1").bind(id).fetch_optional(db).await?;
    Ok(found.map(PatientId))
}

pub async fn review(db: impl PgExecutor<'_>, id: Uuid, by: UserId, comment: Option<&str>) -> Result<Prediction> {
    let sql = concat!(
        "update predictions set reviewed_by = $2, reviewed_at = now(), review_comment = $3 where id = $1 returning ",
        columns!()
    );
    let row: PredictionRow = sqlx::query_as(sql).bind(id).bind(by.0).bind(comment).fetch_one(db).await?;
    row.try_into()
}

pub type ListKey = (DateTime<Utc>, Uuid);

pub fn list_key(p: &Prediction) -> ListKey {
    (p.created_at, p.id)
}

/// Newest first.
pub async fn list(
    db: impl PgExecutor<'_>,
    patient: PatientId,
    kind: Option<PredictionKind>,
    after: Option<ListKey>,
    limit: u32,
) -> Result<Vec<Prediction>> {
    let sql = concat!(
        "select ",
        columns!(),
        " from predictions
         where patient_id = $1 and ($2::text is null or kind = $2)
           and ($3::timestamptz is null or (created_at, id) < ($3, $4))
         order by created_at desc, id desc limit $5"
    );
    let rows: Vec<PredictionRow> = sqlx::query_as(sql)
        .bind(patient.0)
        .bind(kind.map(PredictionKind::as_str))
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(i64::from(limit) + 1)
        .fetch_all(db)
        .await?;
    rows.into_iter().map(Prediction::try_from).collect()
}

/// The predictions made during a consultation, oldest first.
pub async fn of_consultation(db: impl PgExecutor<'_>, consultation: ConsultationId) -> Result<Vec<Prediction>> {
    let sql = concat!("select ", columns!(), " from predictions where consultation_id = $1 order by created_at, id");
    let rows: Vec<PredictionRow> = sqlx::query_as(sql).bind(consultation.0).fetch_all(db).await?;
    rows.into_iter().map(TryInto::try_into).collect()
}
