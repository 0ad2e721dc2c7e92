//! The sealer chains appended rows into the HMAC chain, in batches, off the request path.
//!
//! Every instance runs one, but only one seals at a time: each pass takes a
//! transaction-scoped advisory lock with `pg_try_advisory_xact_lock` and skips when another
//! instance holds it. Rows are chained in the order they became visible: a row whose
//! transaction commits late simply gets a later position. A pass is one transaction, so a
//! sealer killed mid-batch leaves nothing half-sealed; the next pass seals those rows.

use std::time::Duration;

use sqlx::{Acquire, PgPool};
use tokio::sync::watch;

use super::chain::{ChainKeys, GENESIS, RowContent, same_mac};
use crate::error::Result;
use crate::store;
use crate::store::audit::StoredRow;

/// Rows chained per transaction.
const BATCH: i64 = 2000;

/// What one pass sealed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SealReport {
    pub rows: u64,
    /// The new head (last chain hash) and its position, when rows were sealed.
    pub head: Option<(i64, String)>,
    /// Rows whose stored MAC did not match their content: sealed as found, and reported
    /// by verification; logged here so that an operator hears of it within a second.
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

/// One transaction: lock, chain up to `BATCH` rows, record the seal, commit (or, with
/// `commit` false, drop the transaction as a killed sealer would; tests use this).
pub(crate) async fn seal_batch(pool: &PgPool, keys: &ChainKeys, commit: bool) -> Result<SealReport> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    if !store::audit::try_lock_sealer(&mut tx).await? {
        return Ok(SealReport::default());
    }
    let rows = store::audit::unsealed(&mut *tx, None, BATCH).await?;
    if rows.is_empty() {
        return Ok(SealReport::default());
    }
    let (mut position, mut prev) = match store::audit::chain_end(&mut *tx).await? {
        Some((position, hash)) => (position, hash),
        None => (0, GENESIS.to_vec()),
    };
    let first = position + 1;
    let (mut seqs, mut positions, mut hashes, mut macs) = (vec![], vec![], vec![], vec![]);
    let mut bad_macs = 0;
    let mut legacy = 0;
    for row in &rows {
        let computed = keys.row_mac(&content(row));
        let mac = match &row.row_mac {
            Some(stored) => {
                if !same_mac(stored, &computed) {
                    bad_macs += 1;
                    tracing::error!(
                        seq = row.seq,
                        "audit row does not match its MAC: sealed as found, flagged by verification"
                    );
                }
                stored.clone()
            }
            None => {
                legacy += 1;
                computed.to_vec()
            }
        };
        position += 1;
        let hash = keys.link(&prev, position, &mac).to_vec();
        seqs.push(row.seq);
        positions.push(position);
        hashes.push(hash.clone());
        macs.push(mac);
        prev = hash;
    }
    store::audit::apply_seal(&mut tx, &seqs, &positions, &hashes, &macs).await?;
    store::audit::insert_seal(&mut tx, first, position, &prev).await?;
    if !commit {
        return Ok(SealReport::default());
    }
    tx.commit().await?;
    let head = hex::encode(&prev);
    if legacy > 0 {
        tracing::warn!(rows = legacy, "sealed audit rows written before the keyed chain, as found");
    }
    // The operator keeps this head outside the database: `medconnect audit verify --head`.
    tracing::info!(position, head = %head, rows = rows.len(), "audit chain sealed");
    Ok(SealReport { rows: rows.len() as u64, head: Some((position, head)), bad_macs })
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

/// Runs until `stop` changes: seals every half `within`, so no row waits longer than
/// `within` (plus the time of one pass), and forgets stale sign-in counters now and then.
pub async fn run(pool: PgPool, keys: ChainKeys, within: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(within / 2);
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
