//! SQL of the audit trail: appends (one row, or many in one statement), listing, and what
//! the sealer and the verifier read and write. Appends take no lock and read nothing; audit
//! rows are never updated (a trigger refuses it).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::audit::{AuditRecord, AuditRow};
use crate::error::Result;

/// Where a row sits in the chain order: the transaction that inserted it, then its seq.
pub type ChainKey = (i64, i64);

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
    sealed: bool,
}

/// Rows oldest first, after `after_seq`, optionally about one patient.
pub async fn list(
    db: impl PgExecutor<'_>,
    patient: Option<Uuid>,
    after_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditRecord>> {
    // Two statements rather than `$1 is null or a.patient_id = $1`: a prepared statement's
    // generic plan could then use neither the patient index nor the cursor as a bound.
    macro_rules! listed {
        ($filter:literal) => {
            concat!(
                "select a.seq, a.at, a.actor_id, a.actor_role, a.action, a.patient_id, a.target_id, a.outcome,
                        coalesce((a.txid, a.seq) <= (s.last_txid, s.last_seq), false) as sealed
                 from audit_log a
                 left join (select last_txid, last_seq from audit_seals order by id desc limit 1) s on true
                 where ",
                $filter,
                " a.seq > $2 order by a.seq limit $3"
            )
        };
    }
    let sql = match patient {
        Some(_) => listed!("a.patient_id = $1 and"),
        None => listed!("$1::uuid is null and"),
    };
    let rows: Vec<RecordRow> = sqlx::query_as(sql)
        .bind(patient)
        .bind(after_seq.unwrap_or(i64::MIN))
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
            sealed: r.sealed,
        })
        .collect())
}

/// A row with everything the sealer and the verifier check.
#[derive(sqlx::FromRow)]
pub struct StoredRow {
    pub seq: i64,
    pub txid: i64,
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub patient_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub outcome: String,
    /// `None` only for rows written before the keyed chain.
    pub row_mac: Option<Vec<u8>>,
}

impl StoredRow {
    pub fn key(&self) -> ChainKey {
        (self.txid, self.seq)
    }
}

/// A recorded seal: the chain up to `end` has `head` as its hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Seal {
    pub id: i64,
    pub last_txid: i64,
    pub last_seq: i64,
    pub rows: i64,
    pub head: Vec<u8>,
}

impl Seal {
    pub fn end(&self) -> ChainKey {
        (self.last_txid, self.last_seq)
    }
}

/// Takes the sealer's lock for this transaction, if no other instance holds it.
pub async fn try_lock_sealer(conn: &mut PgConnection) -> Result<bool> {
    Ok(sqlx::query_scalar("select pg_try_advisory_xact_lock(hashtext('medconnect.audit_sealer'))")
        .fetch_one(conn)
        .await?)
}

/// The oldest transaction still running: every row with a smaller txid is final.
pub async fn txid_horizon(conn: &mut PgConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("select pg_snapshot_xmin(pg_current_snapshot())::text::bigint").fetch_one(conn).await?)
}

/// The latest seal, if any.
pub async fn latest_seal(db: impl PgExecutor<'_>) -> Result<Option<Seal>> {
    Ok(sqlx::query_as("select id, last_txid, last_seq, rows, head from audit_seals order by id desc limit 1")
        .fetch_optional(db)
        .await?)
}

/// Seals in order, after seal `after`.
pub async fn seals_after(db: impl PgExecutor<'_>, after: i64, limit: i64) -> Result<Vec<Seal>> {
    Ok(sqlx::query_as("select id, last_txid, last_seq, rows, head from audit_seals where id > $1 order by id limit $2")
        .bind(after)
        .bind(limit)
        .fetch_all(db)
        .await?)
}

/// Whether `seal` exists, and the seal before it (where verification from `seal` starts).
pub async fn seal_before(db: impl PgExecutor<'_>, seal: i64) -> Result<(bool, Option<Seal>)> {
    let rows: Vec<(bool, i64, i64, i64, i64, Vec<u8>)> = sqlx::query_as(
        "select id = $1, id, last_txid, last_seq, rows, head from audit_seals
         where id = $1 or id = (select max(id) from audit_seals where id < $1)",
    )
    .bind(seal)
    .fetch_all(db)
    .await?;
    let exists = rows.iter().any(|r| r.0);
    let previous = rows.into_iter().find(|r| !r.0).map(|(_, id, last_txid, last_seq, rows, head)| Seal {
        id,
        last_txid,
        last_seq,
        rows,
        head,
    });
    Ok((exists, previous))
}

macro_rules! stored_columns {
    () => {
        "seq, txid, id, at, actor_id, actor_role, action, patient_id, target_id, outcome, row_mac"
    };
}

/// Rows in chain order after `after`, up to `until` (inclusive) when given, and only from
/// transactions below `below` when given. Missing bounds are sent as the widest values
/// rather than written `$1 is null or …`: with those, PostgreSQL's generic plan (which a
/// prepared statement gets after five runs) filters the whole index instead of starting
/// at `after`, and every sealer pass read the entire table.
pub async fn in_chain_order(
    db: impl PgExecutor<'_>,
    after: Option<ChainKey>,
    until: Option<ChainKey>,
    below: Option<i64>,
    limit: i64,
) -> Result<Vec<StoredRow>> {
    let sql = concat!(
        "select ",
        stored_columns!(),
        " from audit_log
         where (txid, seq) > ($1, $2) and (txid, seq) <= ($3, $4) and txid < $5
         order by txid, seq limit $6"
    );
    let (after, until) = (after.unwrap_or((i64::MIN, i64::MIN)), until.unwrap_or((i64::MAX, i64::MAX)));
    Ok(sqlx::query_as(sql)
        .bind(after.0)
        .bind(after.1)
        .bind(until.0)
        .bind(until.1)
        .bind(below.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(db)
        .await?)
}

pub async fn insert_seal(conn: &mut PgConnection, end: ChainKey, rows: i64, head: &[u8]) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "insert into audit_seals (last_txid, last_seq, rows, head) values ($1, $2, $3, $4) returning id",
    )
    .bind(end.0)
    .bind(end.1)
    .bind(rows)
    .bind(head)
    .fetch_one(conn)
    .await?)
}
