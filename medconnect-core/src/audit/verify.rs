//! Verification of the audit trail, page by page with bounded memory, the MACs computed
//! on blocking threads so that a long log never stalls the async workers.
//!
//! It detects a row edited or forged without the key (its row MAC), a sealed row deleted,
//! inserted or moved (the seal that covers it no longer has its row count or its head), a
//! tail cut off (the head the operator kept is no longer a seal's head), and rows waiting
//! to be sealed that do not match their MAC.

use sqlx::PgPool;

use super::chain::{ChainKeys, GENESIS, same_mac};
use super::sealer::chained_mac;
use crate::error::{Error, Result};
use crate::store;
use crate::store::audit::{ChainKey, Seal, StoredRow};

const PAGE: i64 = 2000;
const SEALS_PER_PAGE: i64 = 100;

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyAudit {
    /// Start at this seal (trusting the chain before it); from the first row otherwise.
    pub from_seal: Option<i64>,
    /// A head hash (hex) the operator kept from the sealer's log: it must still be a seal's head.
    pub kept_head: Option<String>,
    /// Stop after about this many rows and report how far verification got.
    pub max_rows: Option<u64>,
}

/// How far verification got and what it found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditVerification {
    /// No problem found in what was checked.
    pub intact: bool,
    /// Everything was checked (false when `max_rows` stopped it first).
    pub complete: bool,
    /// The last seal checked and found sound, if any.
    pub through_seal: Option<i64>,
    pub sealed_rows_checked: u64,
    pub unsealed_rows_checked: u64,
    /// The head (hex) of `through_seal`: keep it to detect a cut tail later.
    pub head: Option<String>,
    /// Whether the kept head was found, when one was given.
    pub kept_head_found: Option<bool>,
    pub problem: Option<AuditProblem>,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditProblem {
    /// The row at fault, when one row can be named.
    pub seq: Option<i64>,
    /// The seal whose rows do not add up, when the fault is in the chain.
    pub seal: Option<i64>,
    pub reason: String,
}

fn problem(seq: Option<i64>, seal: Option<i64>, reason: impl Into<String>) -> AuditProblem {
    AuditProblem { seq, seal, reason: reason.into() }
}

/// Chains one page of rows onto `head`; the first row whose stored MAC is wrong is returned.
fn chain_page(keys: &ChainKeys, rows: &[StoredRow], mut head: Vec<u8>) -> (Vec<u8>, Option<i64>) {
    for row in rows {
        let (mac, bad) = chained_mac(keys, row);
        if bad {
            return (head, Some(row.seq));
        }
        head = keys.link(&head, row.key(), &mac).to_vec();
    }
    (head, None)
}

/// Rows after `after` up to `until` (all of them when `until` is `None`), in pages, each
/// page chained on a blocking thread. Returns (head, rows, first bad row).
async fn walk(
    pool: &PgPool,
    keys: &ChainKeys,
    mut after: Option<ChainKey>,
    until: Option<ChainKey>,
    mut head: Vec<u8>,
) -> Result<(Vec<u8>, u64, Option<i64>)> {
    let mut rows_seen = 0;
    loop {
        let rows = store::audit::in_chain_order(pool, after, until, None, PAGE).await?;
        let Some(last) = rows.last().map(StoredRow::key) else { return Ok((head, rows_seen, None)) };
        after = Some(last);
        rows_seen += rows.len() as u64;
        let keys = keys.clone();
        let (next, bad) =
            tokio::task::spawn_blocking(move || chain_page(&keys, &rows, head)).await.map_err(Error::internal)?;
        if bad.is_some() {
            return Ok((next, rows_seen, bad));
        }
        head = next;
    }
}

pub async fn verify(pool: &PgPool, keys: &ChainKeys, request: &VerifyAudit) -> Result<AuditVerification> {
    let kept = match &request.kept_head {
        None => None,
        Some(text) => Some(
            hex::decode(text.trim())
                .ok()
                .filter(|h| h.len() == 32)
                .ok_or_else(|| Error::invalid("head", "must be a chain hash: 64 hexadecimal digits"))?,
        ),
    };
    let budget = request.max_rows.unwrap_or(u64::MAX);
    let mut report = AuditVerification {
        intact: true,
        complete: true,
        through_seal: None,
        sealed_rows_checked: 0,
        unsealed_rows_checked: 0,
        head: None,
        kept_head_found: kept.as_ref().map(|_| false),
        problem: None,
    };
    // Where the chain starts: after the seal before `from_seal`, with its head.
    let (mut after_seal, mut after, mut head) = (0, None, GENESIS.to_vec());
    if let Some(from) = request.from_seal {
        let (exists, previous) = store::audit::seal_before(pool, from).await?;
        if !exists {
            return Err(Error::NotFound("seal"));
        }
        if let Some(previous) = previous {
            after_seal = previous.id;
            after = Some(previous.end());
            head = previous.head;
        }
    }
    loop {
        let seals: Vec<Seal> = store::audit::seals_after(pool, after_seal, SEALS_PER_PAGE).await?;
        if seals.is_empty() {
            break;
        }
        for seal in seals {
            if report.sealed_rows_checked >= budget {
                report.complete = false;
                return Ok(report);
            }
            let (next, rows, bad) = walk(pool, keys, after, Some(seal.end()), head).await?;
            if let Some(seq) = bad {
                let why = "the row does not match its MAC: it was edited or forged";
                return Ok(failed(report, problem(Some(seq), Some(seal.id), why)));
            }
            if i64::try_from(rows).unwrap_or(i64::MAX) != seal.rows {
                let why = format!(
                    "seal {} covers {} rows but {rows} are there: a row was deleted or inserted",
                    seal.id, seal.rows
                );
                return Ok(failed(report, problem(None, Some(seal.id), why)));
            }
            if !same_mac(&next, &seal.head) {
                let why = format!("the chain does not reach seal {}'s head: a row was moved or replaced", seal.id);
                return Ok(failed(report, problem(None, Some(seal.id), why)));
            }
            if kept.as_deref().is_some_and(|k| same_mac(k, &seal.head)) {
                report.kept_head_found = Some(true);
            }
            report.sealed_rows_checked += rows;
            report.through_seal = Some(seal.id);
            report.head = Some(hex::encode(&seal.head));
            after_seal = seal.id;
            after = Some(seal.end());
            head = next;
        }
    }
    if report.kept_head_found == Some(false) {
        let why = "the head kept by the operator is not in the chain: the log was cut or rewritten";
        return Ok(failed(report, problem(None, None, why)));
    }
    // Rows not sealed yet: each must still match its own MAC.
    let (_, rows, bad) = walk(pool, keys, after, None, head).await?;
    if let Some(seq) = bad {
        return Ok(failed(report, problem(Some(seq), None, "a row waiting to be sealed does not match its MAC")));
    }
    report.unsealed_rows_checked = rows;
    Ok(report)
}

fn failed(mut report: AuditVerification, found: AuditProblem) -> AuditVerification {
    report.intact = false;
    report.problem = Some(found);
    report
}
