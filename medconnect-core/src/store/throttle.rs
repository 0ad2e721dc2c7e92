//! Sign-in counters: fixed windows per key, counted and checked in one statement.

use std::time::Duration;

use sqlx::PgExecutor;

use crate::error::Result;

/// A counter after it was taken: its count in the current window and the seconds left in it.
#[derive(Debug, sqlx::FromRow)]
pub struct Counted {
    pub key: Vec<u8>,
    pub attempts: i32,
    pub seconds_left: f64,
}

/// Adds one to each counter (starting a new window where the old one ended) and returns
/// the counts. Keys are taken in a fixed order so that concurrent takers cannot deadlock.
pub async fn take(db: impl PgExecutor<'_>, keys: &[Vec<u8>], window: Duration) -> Result<Vec<Counted>> {
    Ok(sqlx::query_as(
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
    .fetch_all(db)
    .await?)
}

/// Takes one back from each counter (an attempt that was not a failure after all).
pub async fn give_back(db: impl PgExecutor<'_>, keys: &[Vec<u8>]) -> Result<()> {
    sqlx::query("update sign_in_counters set attempts = greatest(attempts - 1, 0) where key = any($1)")
        .bind(keys)
        .execute(db)
        .await?;
    Ok(())
}

/// Starts counters again from zero (the owner proved they know the password).
pub async fn reset(db: impl PgExecutor<'_>, keys: &[Vec<u8>]) -> Result<()> {
    sqlx::query("update sign_in_counters set attempts = 0 where key = any($1)").bind(keys).execute(db).await?;
    Ok(())
}

/// Forgets counters whose window ended a day ago or more.
pub async fn purge(db: impl PgExecutor<'_>) -> Result<u64> {
    Ok(sqlx::query("delete from sign_in_counters where window_start < now() - interval '1 day'")
        .execute(db)
        .await?
        .rows_affected())
}
