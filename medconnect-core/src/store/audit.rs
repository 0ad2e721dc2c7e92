//! SQL of the audit trail: appends (one row, or many in one statement), listing, and
//! what the sealer and the verifier read and write. Appends take no lock.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::audit::{AuditRecord, AuditRow};
use crate::error::Result;

/// Appends one row (inside the transaction of the change it records).
pub async fn insert_one(db: impl PgExecutor<'_>, row: &AuditRow) -> Result<()> {
    insert_many(db, std::slice::from_ref(row)).await
}

/// Appends rows in one statement: one round trip and one commit for all of them.
pub async fn insert_many(db: impl PgExecutor<'_>, rows: &[AuditRow]) -> Result<()> {
    let column = |f: fn(&AuditRow) -> Option<Uuid>| rows.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "insert into audit_log (id, at, actor_id, actor_role, action, patient_id, target_id, outcome, row_mac)
         select * from unnest($1::uuid[], $2::timestamptz[], $3::uuid[], $4::text[], $5::text[], $6::uuid[],
                              $7::uuid[], $8::text[], $9::bytea[])",
    )
    .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.at).collect::<Vec<_>>())
    .bind(column(|r| r.actor_id))
    .bind(rows.iter().map(|r| r.actor_role).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.action).collect::<Vec<_>>())
    .bind(column(|r| r.patient_id))
    .bind(column(|r| r.target_id))
    .bind(rows.iter().map(|r| r.outcome).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.row_mac.to_vec()).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    seq: i64,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    actor_role: Option<String>,
    action: String,
    patient_id: Option<Uuid>,
    target_id: Option<Uuid>,
    outcome: String,
    chain_pos: Option<i64>,
}

/// Rows oldest first, after `after_seq`, optionally about one patient.
pub async fn list(
    db: impl PgExecutor<'_>,
    patient: Option<Uuid>,
    after_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditRecord>> {
    let rows: Vec<RecordRow> = sqlx::query_as(
        "select seq, at, actor_id, actor_role, action, patient_id, target_id, outcome, chain_pos
         from audit_log
         where ($1::uuid is null or patient_id = $1) and ($2::bigint is null or seq > $2)
         order by seq limit $3",
    )
    .bind(patient)
    .bind(after_seq)
    .bind(i64::from(limit) + 1)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditRecord {
            seq: r.seq,
            at: r.at,
            actor_id: r.actor_id,
            actor_role: r.actor_role,
            action: r.action,
            patient_id: r.patient_id,
            target_id: r.target_id,
            outcome: r.outcome,
            chain_position: r.chain_pos,
        })
        .collect())
}

/// A row with everything the sealer and the verifier check.
#[derive(sqlx::FromRow)]
pub struct StoredRow {
    pub seq: i64,
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub patient_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub outcome: String,
    pub row_mac: Option<Vec<u8>>,
    pub chain_pos: Option<i64>,
    pub chain_hash: Option<Vec<u8>>,
}

macro_rules! stored_columns {
    () => {
        "seq, id, at, actor_id, actor_role, action, patient_id, target_id, outcome, row_mac, chain_pos, chain_hash"
    };
}

/// Takes the sealer's lock for this transaction, if no other instance holds it.
pub async fn try_lock_sealer(conn: &mut PgConnection) -> Result<bool> {
    Ok(sqlx::query_scalar("select pg_try_advisory_xact_lock(hashtext('medconnect.audit_sealer'))")
        .fetch_one(conn)
        .await?)
}

/// The end of the sealed chain: (last position, its chain hash).
pub async fn chain_end(db: impl PgExecutor<'_>) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "select chain_pos, chain_hash from audit_log where chain_pos is not null order by chain_pos desc limit 1",
    )
    .fetch_optional(db)
    .await?)
}

/// The oldest rows not yet sealed, in the order they were appended.
pub async fn unsealed(db: impl PgExecutor<'_>, after_seq: Option<i64>, limit: i64) -> Result<Vec<StoredRow>> {
    let sql = concat!(
        "select ",
        stored_columns!(),
        " from audit_log where chain_pos is null and ($1::bigint is null or seq > $1) order by seq limit $2"
    );
    Ok(sqlx::query_as(sql).bind(after_seq).bind(limit).fetch_all(db).await?)
}

/// Sealed rows in chain order, after position `after`.
pub async fn sealed(db: impl PgExecutor<'_>, after: i64, limit: i64) -> Result<Vec<StoredRow>> {
    let sql = concat!("select ", stored_columns!(), " from audit_log where chain_pos > $1 order by chain_pos limit $2");
    Ok(sqlx::query_as(sql).bind(after).bind(limit).fetch_all(db).await?)
}

/// The chain hash at a position.
pub async fn chain_hash_at(db: impl PgExecutor<'_>, position: i64) -> Result<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar("select chain_hash from audit_log where chain_pos = $1")
        .bind(position)
        .fetch_optional(db)
        .await?
        .flatten())
}

/// Gives rows their chain position and hash (and legacy rows their row MAC) in one statement.
pub async fn apply_seal(
    conn: &mut PgConnection,
    seqs: &[i64],
    positions: &[i64],
    hashes: &[Vec<u8>],
    macs: &[Vec<u8>],
) -> Result<()> {
    sqlx::query(
        "update audit_log a set chain_pos = v.pos, chain_hash = v.hash, row_mac = v.mac
         from unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[]) as v(seq, pos, hash, mac)
         where a.seq = v.seq",
    )
    .bind(seqs)
    .bind(positions)
    .bind(hashes)
    .bind(macs)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_seal(conn: &mut PgConnection, first: i64, last: i64, head: &[u8]) -> Result<i64> {
    Ok(sqlx::query_scalar("insert into audit_seals (first_pos, last_pos, head) values ($1, $2, $3) returning id")
        .bind(first)
        .bind(last)
        .bind(head)
        .fetch_one(conn)
        .await?)
}

/// Where a seal starts: its first chain position.
pub async fn seal_start(db: impl PgExecutor<'_>, seal: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("select first_pos from audit_seals where id = $1").bind(seal).fetch_optional(db).await?)
}

/// The position the latest seal says the chain reaches.
pub async fn latest_sealed_position(db: impl PgExecutor<'_>) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("select max(last_pos) from audit_seals").fetch_one(db).await?)
}
