//! Group commit of the audit rows of reads. A read answers only once its audit row is
//! durable, but paying one commit (one disk flush) per read would bound reads by the
//! disk. So reads hand their row to this writer and wait; the writer takes every row that
//! is waiting, inserts them in one statement and one commit, and then answers them all.
//! While one batch commits, the next one gathers. Nothing here is shared with other
//! instances, and no request waits on a lock held by another request's transaction.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::AuditRow;
use crate::error::{Error, Result};
use crate::store;

/// Rows one commit takes at most.
const MAX_BATCH: usize = 1024;
/// Rows that may wait for a commit before appenders wait to hand theirs over.
const QUEUE: usize = 16 * 1024;

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
    /// Starts `writers` tasks committing on `pool` (two let one batch gather while another commits).
    pub fn start(pool: PgPool, writers: usize) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..writers.max(1) {
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

async fn commit_batches(pool: PgPool, receiver: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut receiver = receiver.lock().await;
            if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return;
            }
        }
        let rows: Vec<AuditRow> = batch.iter().map(|p| p.row.clone()).collect();
        let outcome = store::audit::insert_many(&pool, &rows).await;
        if let Err(err) = &outcome {
            tracing::error!(error = %err.source_text(), rows = rows.len(), "audit rows could not be committed");
        }
        for pending in batch {
            let answer = match &outcome {
                Ok(()) => Ok(()),
                Err(Error::Unavailable { dependency, retry_after }) => {
                    Err(Error::Unavailable { dependency, retry_after: *retry_after })
                }
                Err(_) => Err(Error::internal("the audit row could not be written")),
            };
            let _ = pending.durable.send(answer);
        }
    }
}
