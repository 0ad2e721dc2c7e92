//! Sign-in counters: fixed windows per key, counted and checked in one statement.
//!
//! Counters are what may be lost: each statement commits without waiting for the disk
//! (`synchronous_commit = off` for its own transaction), so the row lock of a hot counter
//! (every sign-in from one office address) is held for microseconds, not for a disk flush.
//! A crash may forget the last increments; it cannot corrupt anything.

use std::time::Duration;

use sqlx::{PgPool, Postgres, Transaction};

use crate::error::Result;

/// A counter after it was taken: its count in the current window and the seconds left in it.
#[derive(Debug, sqlx::FromRow)]
pub struct Counted {
    pub key: Vec<u8>,
    pub attempts: i32,
    pub seconds_left: f64,
}

async fn without_flush(pool: &PgPool) -> Result<Transaction<'static, Postgres>> {
    // Boxed: the pool's wait is kilobytes of future (see `MedConnect::connection`).
    let mut tx = Box::pin(pool.begin()).await?;
    sqlx::query("set local synchronous_commit = off").execute(&mut *tx).await?;
    Ok(tx)
}

/// Adds one to each counter (starting a new window where the old one ended) and returns
/// the counts. Keys are locked in ascending order, here and in [`settle`], so that
/// concurrent statements cannot deadlock.
pub async fn take(pool: &PgPool, keys: &[Vec<u8>], window: Duration) -> Result<Vec<Counted>> {
    let mut tx = without_flush(pool).await?;
    let counted = sqlx::query_as(
        "insert into sign_in_counters as c (key, window_start, attempts)
         select k, now(), 1 from unnest($1::bytea[]) as k order by k
         on conflict (key) do update set
             window_start = case when c.window_start <= now() - $2 * interval '1 second' then now() else c.window_start end,
             attempts = case when c.window_start <= now() - $2 * interval '1 second' then 1 else c.attempts + 1 end
         returning key, attempts,
                   extract(epoch from (window_start + $2 * interval '1 second' - now()))::float8 as seconds_left",
    )
    .bind(keys)
    .bind(window.as_secs_f64())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(counted)
}

/// Starts the `reset` counters again from zero and takes one back from the `give_back` ones.
pub async fn settle(pool: &PgPool, reset: &[Vec<u8>], give_back: &[Vec<u8>]) -> Result<()> {
    let mut tx = without_flush(pool).await?;
    sqlx::query(
        "update sign_in_counters c set attempts = case when c.key = any($1) then 0 else greatest(c.attempts - 1, 0) end
         from (select key from sign_in_counters where key = any($1) or key = any($2) order by key for update) locked
         where c.key = locked.key",
    )
    .bind(reset)
    .bind(give_back)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets counters whose window ended a day ago or more.
pub async fn purge(pool: &PgPool) -> Result<u64> {
    Ok(sqlx::query("delete from sign_in_counters where window_start < now() - interval '1 day'")
        .execute(pool)
        .await?
        .rows_affected())
}
