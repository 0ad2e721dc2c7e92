//! Group commit of the audit rows of reads. A read answers only once its audit row is
//! durable, but paying one commit (one disk flush) per read would bound reads by the
//! disk. So reads hand their row to this writer and wait; the writer takes every row that
//! is waiting, inserts them in one statement and one commit, and then answers them all.
//! With more than one lane (`MEDCONNECT_AUDIT_LANES`), lanes take turns at the queue, each
//! on a connection of its own: while one batch commits, the next lane gathers the next one
//! and sends it without waiting for the first.
//! Nothing here is shared with other instances, and no request waits on a lock held by
//! another request's transaction.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::AuditRow;
use crate::error::{Error, Result};
use crate::store;

/// Rows one commit takes at most.
const MAX_BATCH: usize = 1024;
/// Rows that may wait for a commit before appenders wait to hand theirs over.
const QUEUE: usize = 16 * 1024;
/// The most batches in flight at once (`Config::audit_lanes`, one by default). With one
/// lane a batch's commit ends before the next is sent, so commits share the most rows;
/// on one machine (flush-bound, CPU idle) two lanes served 16 % more profile reads, three
/// no more than two; on a CPU-bound one, one lane served 7 % more with 27 % less
/// PostgreSQL work a row (benches/README.md, "two audit lanes", "one audit lane again").
/// Each lane keeps one connection of the audit pool.
pub(crate) const MAX_LANES: usize = 4;

struct Pending {
    row: AuditRow,
    durable: oneshot::Sender<Result<()>>,
}

/// The handle requests append through. The writer tasks end when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct AuditWriter {
    queue: mpsc::Sender<Pending>,
}

impl AuditWriter {
    /// Starts `lanes` lanes (1 to `MAX_LANES`, as `MedConnect::start` clamps them)
    /// committing on `pool`, which must have a connection for each.
    pub fn start(pool: PgPool, lanes: usize) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..lanes {
            tokio::spawn(commit_batches(pool.clone(), receiver.clone()));
        }
        Self { queue }
    }

    /// Appends a row and returns once it is committed.
    pub async fn append(&self, row: AuditRow) -> Result<()> {
        let (durable, done) = oneshot::channel();
        self.queue.send(Pending { row, durable }).await.map_err(|_| Error::internal("the audit writer has stopped"))?;
        done.await.map_err(|_| Error::internal("the audit writer stopped before committing"))?
    }
}

/// One lane: takes what is waiting (the other lane, if gathering, waits its turn at the
/// queue), commits it, answers it.
async fn commit_batches(pool: PgPool, receiver: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    // Kept between batches: taking a pooled connection back and forth cost more server CPU
    // than the insert's own encoding.
    let mut held = None;
    loop {
        let mut batch: Vec<Pending> = Vec::new();
        if receiver.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let (rows, waiting): (Vec<AuditRow>, Vec<_>) = batch.into_iter().map(|p| (p.row, p.durable)).unzip();
        let outcome = commit(&pool, &mut held, &rows).await;
        if let Err(err) = &outcome {
            tracing::error!(error = %err.source_text(), rows = rows.len(), "audit rows could not be committed");
        }
        for durable in waiting {
            let answer = match &outcome {
                Ok(()) => Ok(()),
                Err(Error::Unavailable { dependency, retry_after }) => {
                    Err(Error::Unavailable { dependency, retry_after: *retry_after })
                }
                Err(_) => Err(Error::internal("the audit row could not be written")),
            };
            let _ = durable.send(answer);
        }
    }
}

/// Inserts the rows on the held connection (taken from the pool when there is none); a
/// connection that failed is closed rather than kept, so the next batch starts on a new one.
async fn commit(pool: &PgPool, held: &mut Option<PoolConnection<Postgres>>, rows: &[AuditRow]) -> Result<()> {
    let conn = match held {
        Some(conn) => conn,
        None => held.insert(pool.acquire().await?),
    };
    let outcome = store::audit::insert_many(&mut **conn, rows).await;
    if outcome.is_err()
        && let Some(mut failed) = held.take()
    {
        failed.close_on_drop();
    }
    outcome
}
