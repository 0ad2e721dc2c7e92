//! Verification of the audit trail, page by page with bounded memory, the MACs computed
//! on blocking threads so that a long log never stalls the async workers.
//!
//! It detects a row edited or forged without the key (row MAC), a sealed row deleted,
//! inserted or moved (chain links and positions), a tail cut off (the seal records reach
//! further than the rows, or the head the operator kept is not in the chain), and rows
//! waiting to be sealed that do not match their MAC.

use sqlx::PgPool;

use super::chain::{ChainKeys, GENESIS, same_mac};
use super::sealer::content;
use crate::error::{Error, Result};
use crate::store;
use crate::store::audit::StoredRow;

const PAGE: i64 = 1000;

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyAudit {
    /// Start at this seal (trusting the chain before it); from the first row otherwise.
    pub from_seal: Option<i64>,
    /// A head hash (hex) the operator kept from the sealer's log: it must be in the chain.
    pub kept_head: Option<String>,
    /// Stop after this many rows and report how far verification got.
    pub max_rows: Option<u64>,
}

/// How far verification got and what it found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditVerification {
    /// No problem found in what was checked.
    pub intact: bool,
    /// Every row was checked (false when `max_rows` stopped it first).
    pub complete: bool,
    /// The first chain position checked.
    pub from_position: i64,
    /// The last chain position checked and found sound (`from_position - 1` when none).
    pub through_position: i64,
    pub sealed_rows_checked: u64,
    pub unsealed_rows_checked: u64,
    /// The chain hash at `through_position` (hex).
    pub head: Option<String>,
    /// Whether the kept head was found, when one was given.
    pub kept_head_found: Option<bool>,
    pub problem: Option<AuditProblem>,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditProblem {
    pub seq: Option<i64>,
    pub position: Option<i64>,
    pub reason: String,
}

fn problem(seq: Option<i64>, position: Option<i64>, reason: impl Into<String>) -> AuditProblem {
    AuditProblem { seq, position, reason: reason.into() }
}

/// The outcome of checking one page of sealed rows.
struct PageCheck {
    checked: u64,
    last: Option<(i64, Vec<u8>)>,
    kept_head_found: bool,
    problem: Option<AuditProblem>,
}

/// Checks sealed rows that must start at `expected` and link to `prev` (pure; runs on a
/// blocking thread).
fn check_sealed(
    keys: &ChainKeys,
    rows: &[StoredRow],
    mut expected: i64,
    mut prev: Vec<u8>,
    kept: Option<&[u8]>,
) -> PageCheck {
    let mut out = PageCheck { checked: 0, last: None, kept_head_found: false, problem: None };
    for row in rows {
        let (Some(position), Some(hash), Some(mac)) = (row.chain_pos, &row.chain_hash, &row.row_mac) else {
            out.problem = Some(problem(Some(row.seq), row.chain_pos, "a sealed row lacks its MAC or chain hash"));
            return out;
        };
        if position != expected {
            let why = format!("chain position {expected} is missing: a sealed row was deleted or moved");
            out.problem = Some(problem(Some(row.seq), Some(position), why));
            return out;
        }
        if !same_mac(mac, &keys.row_mac(&content(row))) {
            out.problem =
                Some(problem(Some(row.seq), Some(position), "the row does not match its MAC: it was edited or forged"));
            return out;
        }
        if !same_mac(hash, &keys.link(&prev, position, mac)) {
            let why = "the chain link does not match: a row was inserted, deleted or reordered before this one";
            out.problem = Some(problem(Some(row.seq), Some(position), why));
            return out;
        }
        if kept.is_some_and(|k| same_mac(k, hash)) {
            out.kept_head_found = true;
        }
        out.checked += 1;
        out.last = Some((position, hash.clone()));
        prev = hash.clone();
        expected += 1;
    }
    out
}

/// Checks rows not yet sealed: each must match its MAC (legacy rows, which have none yet,
/// are sealed as found within a second and are not counted).
fn check_unsealed(keys: &ChainKeys, rows: &[StoredRow]) -> (u64, Option<AuditProblem>) {
    let mut checked = 0;
    for row in rows {
        if let Some(mac) = &row.row_mac {
            if !same_mac(mac, &keys.row_mac(&content(row))) {
                return (
                    checked,
                    Some(problem(Some(row.seq), None, "a row waiting to be sealed does not match its MAC")),
                );
            }
            checked += 1;
        }
    }
    (checked, None)
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
    let from = match request.from_seal {
        None => 1,
        Some(seal) => store::audit::seal_start(pool, seal).await?.ok_or(Error::NotFound("seal"))?,
    };
    let mut report = AuditVerification {
        intact: true,
        complete: true,
        from_position: from,
        through_position: from - 1,
        sealed_rows_checked: 0,
        unsealed_rows_checked: 0,
        head: None,
        kept_head_found: kept.as_ref().map(|_| false),
        problem: None,
    };
    let mut prev = if from == 1 {
        GENESIS.to_vec()
    } else {
        match store::audit::chain_hash_at(pool, from - 1).await? {
            Some(hash) => hash,
            None => return Ok(failed(report, problem(None, Some(from - 1), "the row before the seal is missing"))),
        }
    };
    loop {
        if report.sealed_rows_checked >= budget {
            report.complete = false;
            return Ok(report);
        }
        let rows = store::audit::sealed(pool, report.through_position, PAGE).await?;
        if rows.is_empty() {
            break;
        }
        let (keys_, kept_, expected, prev_) = (keys.clone(), kept.clone(), report.through_position + 1, prev.clone());
        let page = tokio::task::spawn_blocking(move || check_sealed(&keys_, &rows, expected, prev_, kept_.as_deref()))
            .await
            .map_err(Error::internal)?;
        report.sealed_rows_checked += page.checked;
        if page.kept_head_found {
            report.kept_head_found = Some(true);
        }
        if let Some((position, hash)) = page.last {
            report.through_position = position;
            report.head = Some(hex::encode(&hash));
            prev = hash;
        }
        if let Some(found) = page.problem {
            return Ok(failed(report, found));
        }
    }
    if let Some(recorded) = store::audit::latest_sealed_position(pool).await? {
        if recorded > report.through_position {
            let why =
                format!("the seal records reach position {recorded} but the chain ends earlier: its tail was cut");
            let missing = report.through_position + 1;
            return Ok(failed(report, problem(None, Some(missing), why)));
        }
    }
    if report.kept_head_found == Some(false) {
        let why = "the head kept by the operator is not in the chain: the log was cut or rewritten";
        return Ok(failed(report, problem(None, None, why)));
    }
    let mut after = None;
    loop {
        let rows = store::audit::unsealed(pool, after, PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.seq);
        let keys_ = keys.clone();
        let (checked, found) =
            tokio::task::spawn_blocking(move || check_unsealed(&keys_, &rows)).await.map_err(Error::internal)?;
        report.unsealed_rows_checked += checked;
        if let Some(found) = found {
            return Ok(failed(report, found));
        }
    }
    Ok(report)
}

fn failed(mut report: AuditVerification, found: AuditProblem) -> AuditVerification {
    report.intact = false;
    report.problem = Some(found);
    report
}
