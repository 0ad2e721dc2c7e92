//! Care relationships: which doctor may see which patient.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{CareRelationship, ConsultationId, DoctorId, PatientId, UserId};
use crate::error::Result;

#[derive(sqlx::FromRow)]
struct CareRow {
    doctor_id: Uuid,
    patient_id: Uuid,
    granted_by: Uuid,
    granted_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    consultation_id: Option<Uuid>,
    ends_at: Option<DateTime<Utc>>,
}

impl From<CareRow> for CareRelationship {
    fn from(r: CareRow) -> Self {
        CareRelationship {
            doctor_id: DoctorId(r.doctor_id),
            patient_id: PatientId(r.patient_id),
            granted_by: UserId(r.granted_by),
            granted_at: r.granted_at,
            revoked_at: r.revoked_at,
            consultation_id: r.consultation_id.map(ConsultationId),
            ends_at: r.ends_at,
        }
    }
}

/// Grants care; granting an active relationship again returns the existing one.
pub async fn grant(
    conn: &mut PgConnection,
    doctor: DoctorId,
    patient: PatientId,
    by: UserId,
) -> Result<CareRelationship> {
    let inserted: Option<CareRow> = sqlx::query_as(
        "insert into care_relationships (id, doctor_id, patient_id, granted_by) values ($1, $2, $3, $4)
         on conflict (doctor_id, patient_id) where revoked_at is null do nothing
         returning doctor_id, patient_id, granted_by, granted_at, revoked_at,
                   null::uuid as consultation_id, null::timestamptz as ends_at",
    )
    .bind(Uuid::new_v4())
    .bind(doctor.0)
    .bind(patient.0)
    .bind(by.0)
    .fetch_optional(&mut *conn)
    .await?;
    match inserted {
        Some(row) => Ok(row.into()),
        None => {
            let row: CareRow = sqlx::query_as(
                "select doctor_id, patient_id, granted_by, granted_at, revoked_at,
                        null::uuid as consultation_id, null::timestamptz as ends_at
                 from care_relationships where doctor_id = $1 and patient_id = $2 and revoked_at is null",
            )
            .bind(doctor.0)
            .bind(patient.0)
            .fetch_one(&mut *conn)
            .await?;
            Ok(row.into())
        }
    }
}

/// Ends an active relationship; returns false when there was none.
pub async fn revoke(db: impl PgExecutor<'_>, doctor: DoctorId, patient: PatientId, by: UserId) -> Result<bool> {
    let done = sqlx::query(
        "update care_relationships set revoked_at = greatest(now(), granted_at), revoked_by = $3
         where doctor_id = $1 and patient_id = $2 and revoked_at is null",
    )
    .bind(doctor.0)
    .bind(patient.0)
    .bind(by.0)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The patient's active care team at `now`: ongoing care, then time-limited care through
/// consultations (open, or ended with care left). The caller drops what has ended by the
/// time it answers.
pub async fn team(db: impl PgExecutor<'_>, patient: PatientId, now: DateTime<Utc>) -> Result<Vec<CareRelationship>> {
    let rows: Vec<CareRow> = sqlx::query_as(
        "select doctor_id, patient_id, granted_by, granted_at, revoked_at, consultation_id, ends_at from (
             select doctor_id, patient_id, granted_by, granted_at, revoked_at,
                    null::uuid as consultation_id, null::timestamptz as ends_at, 0 as basis, id
             from care_relationships where patient_id = $1 and revoked_at is null
             union all
             select k.doctor_id, k.patient_id, coalesce(p.user_id, k.doctor_id), k.accepted_at, null,
                    k.id, k.care_until, 1, k.id
             from consultations k join patients p on p.id = k.patient_id
             where k.patient_id = $1 and (k.status = 'accepted' or k.care_until > $2)
         ) team order by basis, granted_at, id",
    )
    .bind(patient.0)
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
