//! The audit log: append-only (a trigger refuses updates and deletes) and hash-chained,
//! so that a removed or altered row breaks the chain that `verify_chain` walks.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::error::Result;

/// One thing that happened, without any health data: who, what action, on which ids.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<&'a str>,
    pub action: &'a str,
    pub patient_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub outcome: &'a str,
}

fn chain_hash(prev: &[u8], at: DateTime<Utc>, e: &AuditEvent<'_>) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(prev);
    let line = format!(
        "{}|{}|{}|{}|{}|{}|{}",
        at.timestamp_micros(),
        e.actor_id.map(|u| u.to_string()).unwrap_or_default(),
        e.actor_role.unwrap_or_default(),
        e.action,
        e.patient_id.map(|u| u.to_string()).unwrap_or_default(),
        e.target_id.map(|u| u.to_string()).unwrap_or_default(),
        e.outcome,
    );
    h.update(line.as_bytes());
    h.finalize().to_vec()
}

/// Appends an event. Appends are serialised by a transaction-scoped advisory lock, so
/// call this inside the transaction of the change it records (or in its own).
pub async fn append(conn: &mut PgConnection, event: &AuditEvent<'_>) -> Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtext('medconnect.audit_log'))").execute(&mut *conn).await?;
    let prev: Option<Vec<u8>> =
        sqlx::query_scalar("select hash from audit_log order by seq desc limit 1").fetch_optional(&mut *conn).await?;
    let prev = prev.unwrap_or_else(|| vec![0; 32]);
    // Microsecond precision, as PostgreSQL stores it, so the hash can be recomputed.
    let at = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap_or_else(Utc::now);
    let hash = chain_hash(&prev, at, event);
    sqlx::query(
        "insert into audit_log (at, actor_id, actor_role, action, patient_id, target_id, outcome, prev_hash, hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(at)
    .bind(event.actor_id)
    .bind(event.actor_role)
    .bind(event.action)
    .bind(event.patient_id)
    .bind(event.target_id)
    .bind(event.outcome)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A stored audit row.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub patient_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub outcome: String,
    #[serde(skip)]
    pub prev_hash: Vec<u8>,
    #[serde(skip)]
    pub hash: Vec<u8>,
}

pub async fn list(
    db: impl PgExecutor<'_>,
    patient: Option<Uuid>,
    after_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditRecord>> {
    Ok(sqlx::query_as(
        "select seq, at, actor_id, actor_role, action, patient_id, target_id, outcome, prev_hash, hash
         from audit_log
         where ($1::uuid is null or patient_id = $1) and ($2::bigint is null or seq > $2)
         order by seq limit $3",
    )
    .bind(patient)
    .bind(after_seq)
    .bind(i64::from(limit) + 1)
    .fetch_all(db)
    .await?)
}

/// Walks the whole chain; returns the first sequence number whose hash does not match.
pub async fn verify_chain(db: impl PgExecutor<'_>) -> Result<Option<i64>> {
    let rows: Vec<AuditRecord> = sqlx::query_as(
        "select seq, at, actor_id, actor_role, action, patient_id, target_id, outcome, prev_hash, hash
         from audit_log order by seq",
    )
    .fetch_all(db)
    .await?;
    let mut prev = vec![0u8; 32];
    for r in rows {
        let event = AuditEvent {
            actor_id: r.actor_id,
            actor_role: r.actor_role.as_deref(),
            action: &r.action,
            patient_id: r.patient_id,
            target_id: r.target_id,
            outcome: &r.outcome,
        };
        if r.prev_hash != prev || chain_hash(&prev, r.at, &event) != r.hash {
            return Ok(Some(r.seq));
        }
        prev = r.hash;
    }
    Ok(None)
}
