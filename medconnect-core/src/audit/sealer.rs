//! The sealer chains appended rows into the HMAC chain, in batches, off the request path.
//!
//! Every instance runs one, but only one seals at a time: each pass takes a
//! transaction-scoped advisory lock with `pg_try_advisory_xact_lock` and skips when another
//! instance holds it. Rows are chained in (txid, seq) order, and only rows whose inserting
//! transaction is older than every transaction still running: those can no longer change,
//! and no row can ever appear before them. A pass writes one `audit_seals` row per batch
//! and never touches the audit rows. A pass is one transaction, so a sealer killed mid-batch
//! leaves nothing behind; the next pass seals those rows.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

use super::chain::{ChainKeys, GENESIS, RowContent, same_mac};
use crate::error::Result;
use crate::store;
use crate::store::audit::StoredRow;

/// Rows chained per seal.
const BATCH: i64 = 5000;

/// What one pass sealed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SealReport {
    pub rows: u64,
    /// The latest seal and its head (hex), when rows were sealed.
    pub head: Option<(i64, String)>,
    /// Rows whose stored MAC did not match their content: sealed as found (verification
    /// reports them), and logged so that an operator hears of it within a second.
    pub bad_macs: u64,
}

/// Seals batches until nothing is left, or returns at once when another instance is sealing.
pub async fn seal_pending(pool: &PgPool, keys: &ChainKeys) -> Result<SealReport> {
    let mut report = SealReport::default();
    loop {
        let sealed = seal_batch(pool, keys, true).await?;
        report.rows += sealed.rows;
        report.bad_macs += sealed.bad_macs;
        if sealed.head.is_some() {
            report.head = sealed.head;
        }
        if sealed.rows < BATCH as u64 {
            return Ok(report);
        }
    }
}

/// The MAC a row is chained with: the stored one, or for rows older than the keyed chain,
/// one computed from the content as found. The flag says whether a stored MAC was wrong.
pub(super) fn chained_mac(keys: &ChainKeys, row: &StoredRow) -> (Vec<u8>, bool) {
    let computed = keys.row_mac(&content(row));
    match &row.row_mac {
        Some(stored) => (stored.clone(), !same_mac(stored, &computed)),
        None => (computed.to_vec(), false),
    }
}

/// One transaction: lock, chain up to `BATCH` final rows, record the seal, commit (or, with
/// `commit` false, drop the transaction as a killed sealer would; tests use this).
pub(crate) async fn seal_batch(pool: &PgPool, keys: &ChainKeys, commit: bool) -> Result<SealReport> {
    let mut tx = pool.begin().await?;
    if !store::audit::try_lock_sealer(&mut tx).await? {
        return Ok(SealReport::default());
    }
    let horizon = store::audit::txid_horizon(&mut tx).await?;
    let last = store::audit::latest_seal(&mut *tx).await?;
    let (after, mut head) = match last {
        Some(seal) => (Some(seal.end()), seal.head),
        None => (None, GENESIS.to_vec()),
    };
    let rows = store::audit::in_chain_order(&mut *tx, after, None, Some(horizon), BATCH).await?;
    let Some(end) = rows.last().map(StoredRow::key) else { return Ok(SealReport::default()) };
    let mut bad_macs = 0;
    let mut legacy = 0;
    for row in &rows {
        let (mac, bad) = chained_mac(keys, row);
        if bad {
            bad_macs += 1;
            tracing::error!(
                seq = row.seq,
                "audit row does not match its MAC: sealed as found, flagged by verification"
            );
        }
        legacy += u64::from(row.row_mac.is_none());
        head = keys.link(&head, row.key(), &mac).to_vec();
    }
    let seal = store::audit::insert_seal(&mut tx, end, rows.len() as i64, &head).await?;
    if !commit {
        return Ok(SealReport::default());
    }
    tx.commit().await?;
    let head = hex::encode(&head);
    if legacy > 0 {
        tracing::warn!(rows = legacy, "sealed audit rows written before the keyed chain, as found");
    }
    // The operator keeps this head outside the database: `medconnect audit verify --head`.
    tracing::info!(seal, head = %head, rows = rows.len(), "audit chain sealed");
    Ok(SealReport { rows: rows.len() as u64, head: Some((seal, head)), bad_macs })
}

pub(super) fn content(row: &StoredRow) -> RowContent<'_> {
    RowContent {
        id: row.id,
        at: row.at,
        actor_id: row.actor_id,
        actor_role: row.actor_role.as_deref(),
        action: &row.action,
        patient_id: row.patient_id,
        target_id: row.target_id,
        outcome: &row.outcome,
    }
}

/// Runs until `stop` changes: seals every half `within`, so no row waits much longer than
/// `within` once its transaction has ended, and forgets stale sign-in counters now and then.
pub async fn run(pool: PgPool, keys: ChainKeys, within: Duration, mut stop: watch::Receiver<bool>) {
    let period = within / 2;
    // The first pass comes one period after start-up, like every other.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut passes: u64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(err) = seal_pending(&pool, &keys).await {
            tracing::warn!(error = %err.source_text(), "audit sealing failed; retrying at the next tick");
        }
        passes += 1;
        if passes % 600 == 0 {
            if let Err(err) = store::throttle::purge(&pool).await {
                tracing::warn!(error = %err.source_text(), "purging old sign-in counters failed");
            }
        }
    }
}
