//! Redis, shared by every instance, with an in-process level in front; and the rule that a
//! cache fault never fails a request.
//!
//! - Every Redis operation has a short timeout. A failure opens a circuit: for a back-off
//!   that doubles from 0.5 s up to 30 s, this instance does not ask Redis at all and goes
//!   to PostgreSQL, rather than waiting on a broken Redis at every request.
//! - A bump that could not reach Redis is remembered, and the cache is not used again until
//!   the bump has gone through: entries cached before a write are never served after it.
//! - The in-process level holds entries' bytes under their generation, and is asked only
//!   with the generation Redis returns, so it cannot serve an old entry. Redis pub/sub tells
//!   every instance which scopes were bumped, so their old entries leave memory early; when
//!   the subscription drops, the in-process level is emptied and not used until it is back.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{self, Script};
use deadpool_redis::{Config as PoolConfig, Pool, Runtime, Timeouts};
use moka::sync::Cache as Moka;
use tokio::sync::watch;

use crate::error::{Error, Result};

/// How the shared cache is doing, for `/ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheStatus {
    /// No Redis configured: the in-process level serves one instance.
    Off,
    /// Redis answers.
    Ok,
    /// Redis does not answer: requests go to PostgreSQL until it does.
    Degraded,
}

const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Current generation and, unless the caller already holds the entry under that
/// generation, the entry's bytes and milliseconds left to live. One round trip.
const LOOKUP: &str = r"
local g = redis.call('GET', KEYS[1]) or '0'
if g == ARGV[2] then return {g, false, 0} end
local key = ARGV[1] .. g .. ':' .. ARGV[3]
return {g, redis.call('GET', key), redis.call('PTTL', key)}
";

/// Stores an entry only if its scope is still at the generation it was read under.
const STORE: &str = r"
if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

/// Counts an attempt in each counter (a new window where the old one ended) and returns,
/// per counter, the count and the milliseconds left in its window.
const COUNT: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  local left = redis.call('PTTL', key)
  if left < 0 then redis.call('PEXPIRE', key, ARGV[1]); left = tonumber(ARGV[1]) end
  out[#out + 1] = n
  out[#out + 1] = left
end
return out
";

/// Starts the first `ARGV[1]` counters again and takes one back from the others.
const SETTLE: &str = r"
for i, key in ipairs(KEYS) do
  if i <= tonumber(ARGV[1]) then
    if redis.call('EXISTS', key) == 1 then redis.call('SET', key, 0, 'KEEPTTL') end
  else
    local n = tonumber(redis.call('GET', key) or '0')
    if n > 0 then redis.call('DECR', key) end
  end
end
return 1
";

/// Entries one scope's slot holds at most (a patient's profile, care facts per caller,
/// record pages, predictions): the oldest go first.
const SLOT_ENTRIES: usize = 32;

/// One scope's entries held in this process, all read or stored under `generation`.
struct Slot {
    generation: u64,
    entries: Vec<Held>,
}

#[derive(Clone)]
struct Held {
    entry: Box<str>,
    /// Entries do not outlive their time to live here either.
    expires: Instant,
    bytes: Arc<[u8]>,
}

struct Health {
    open_until: Option<Instant>,
    backoff: Duration,
    /// Scopes whose bump did not reach Redis: flushed before the cache is used again.
    pending_bumps: HashSet<String>,
}

pub(crate) struct Shared {
    pool: Pool,
    /// One multiplexed connection shared by every request (requests are pipelined on it);
    /// taken from the pool, and replaced from it after a failure.
    connection: Mutex<Option<MultiplexedConnection>>,
    namespace: String,
    channel: String,
    op_timeout: Duration,
    /// By scope: the entries this instance holds, all under one generation. A bump drops
    /// the scope's slot in one step.
    local: Moka<String, Arc<Slot>>,
    subscribed: Arc<AtomicBool>,
    health: Mutex<Health>,
    lookup: Script,
    store: Script,
    count: Script,
    settle: Script,
}

impl Shared {
    pub fn connect(
        url: &str,
        namespace: &str,
        capacity: u64,
        ttl: Duration,
        op_timeout: Duration,
        stop: watch::Receiver<bool>,
    ) -> Result<Arc<Self>> {
        let mut config = PoolConfig::from_url(url);
        let mut pool_config = deadpool_redis::PoolConfig::new(2);
        pool_config.timeouts = Timeouts { wait: Some(op_timeout), create: Some(op_timeout), recycle: Some(op_timeout) };
        config.pool = Some(pool_config);
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|_| Error::invalid("REDIS_URL", "is not a Redis URL (redis://host:port/db)"))?;
        let client = redis::Client::open(url)
            .map_err(|_| Error::invalid("REDIS_URL", "is not a Redis URL (redis://host:port/db)"))?;
        let shared = Arc::new(Self {
            pool,
            connection: Mutex::new(None),
            namespace: namespace.to_owned(),
            channel: format!("{namespace}:invalidate"),
            op_timeout,
            local: Moka::builder()
                .max_capacity(capacity)
                .weigher(|_, slot: &Arc<Slot>| 1 + slot.entries.len() as u32)
                .time_to_live(ttl)
                .build(),
            subscribed: Arc::new(AtomicBool::new(false)),
            health: Mutex::new(Health { open_until: None, backoff: Duration::ZERO, pending_bumps: HashSet::new() }),
            lookup: Script::new(LOOKUP),
            store: Script::new(STORE),
            count: Script::new(COUNT),
            settle: Script::new(SETTLE),
        });
        tokio::spawn(subscribe(client, Arc::downgrade(&shared), stop));
        Ok(shared)
    }

    fn generation_key(&self, scope_key: &str) -> String {
        format!("{}:g:{scope_key}", self.namespace)
    }

    fn entry_prefix(&self, scope_key: &str) -> String {
        format!("{}:e:{scope_key}:", self.namespace)
    }

    /// Runs one Redis operation with the timeout, through the circuit. `None`: Redis was
    /// not asked (circuit open) or failed; the caller goes to PostgreSQL.
    async fn call<T>(&self, op: impl AsyncFnOnce(&mut MultiplexedConnection) -> redis::RedisResult<T>) -> Option<T> {
        if !self.usable().await {
            return None;
        }
        self.attempt(op).await
    }

    async fn attempt<T>(&self, op: impl AsyncFnOnce(&mut MultiplexedConnection) -> redis::RedisResult<T>) -> Option<T> {
        let result = tokio::time::timeout(self.op_timeout, async {
            let held = self.connection.lock().ok().and_then(|c| c.clone());
            let mut conn = match held {
                Some(conn) => conn,
                None => {
                    let pooled = self.pool.get().await.map_err(|e| e.to_string())?;
                    let conn = deadpool_redis::Connection::take(pooled);
                    if let Ok(mut held) = self.connection.lock() {
                        *held = Some(conn.clone());
                    }
                    conn
                }
            };
            op(&mut conn).await.map_err(|e| e.to_string())
        })
        .await;
        match result {
            Ok(Ok(value)) => {
                self.succeeded();
                Some(value)
            }
            Ok(Err(why)) => {
                self.failed(&why);
                None
            }
            Err(_) => {
                self.failed("timed out");
                None
            }
        }
    }

    /// Whether Redis may be asked: the circuit is closed (or its back-off has passed) and
    /// no bump is waiting to go through.
    async fn usable(&self) -> bool {
        let pending: Vec<String> = {
            let Ok(health) = self.health.lock() else { return false };
            if health.open_until.is_some_and(|until| Instant::now() < until) {
                return false;
            }
            health.pending_bumps.iter().cloned().collect()
        };
        if pending.is_empty() {
            return true;
        }
        // Replays the bumps that failed; until they pass, nothing cached can be trusted.
        if self.send_bumps(&pending).await {
            if let Ok(mut health) = self.health.lock() {
                for key in &pending {
                    health.pending_bumps.remove(key);
                }
            }
            true
        } else {
            false
        }
    }

    fn succeeded(&self) {
        if let Ok(mut health) = self.health.lock() {
            if health.open_until.take().is_some() {
                tracing::info!("the cache answers again");
            }
            health.backoff = Duration::ZERO;
        }
    }

    fn failed(&self, why: &str) {
        // The next attempt starts from a fresh connection.
        if let Ok(mut held) = self.connection.lock() {
            *held = None;
        }
        if let Ok(mut health) = self.health.lock() {
            health.backoff = (health.backoff * 2).clamp(BACKOFF_FIRST, BACKOFF_MAX);
            if health.open_until.is_none() {
                tracing::warn!(
                    why,
                    retry_in_ms = health.backoff.as_millis() as u64,
                    "the cache does not answer; serving from PostgreSQL"
                );
            }
            health.open_until = Some(Instant::now() + health.backoff);
        }
    }

    pub fn status(&self) -> CacheStatus {
        match self.health.lock() {
            Ok(health) if health.open_until.is_none() && health.pending_bumps.is_empty() => CacheStatus::Ok,
            _ => CacheStatus::Degraded,
        }
    }

    /// (current generation, the entry's bytes) or `None` when the cache cannot be used.
    pub async fn lookup(&self, scope_key: &str, entry: &str) -> Option<(u64, Option<Arc<[u8]>>)> {
        let local_level = self.subscribed.load(Ordering::Acquire);
        // The generation this instance last saw the entry under, if it holds it.
        let held: Option<(u64, Arc<[u8]>)> = if local_level { self.held(scope_key, entry) } else { None };
        let believed = held.as_ref().map(|(g, _)| g.to_string()).unwrap_or_default();
        let (generation, value, left_ms): (String, Option<Vec<u8>>, i64) = self
            .call(async |conn| {
                self.lookup
                    .key(self.generation_key(scope_key))
                    .arg(self.entry_prefix(scope_key))
                    .arg(&believed)
                    .arg(entry)
                    .invoke_async(conn)
                    .await
            })
            .await?;
        let generation: u64 = generation.parse().ok()?;
        if let Some((g, bytes)) = held {
            if g == generation {
                return Some((generation, Some(bytes)));
            }
        }
        let value: Option<Arc<[u8]>> = value.map(Into::into);
        if let (true, Some(bytes)) = (local_level, &value) {
            self.hold(scope_key, entry, generation, bytes.clone(), lifetime_left(left_ms));
        }
        Some((generation, value))
    }

    /// The entry's bytes under `generation` (the one a request pinned): from this process,
    /// else from Redis. `None` sends the caller to PostgreSQL.
    pub async fn get_at(&self, scope_key: &str, generation: u64, entry: &str) -> Option<Arc<[u8]>> {
        let local_level = self.subscribed.load(Ordering::Acquire);
        if local_level {
            if let Some((g, bytes)) = self.held(scope_key, entry) {
                if g == generation {
                    return Some(bytes);
                }
            }
        }
        let key = format!("{}{generation}:{entry}", self.entry_prefix(scope_key));
        let (value, left_ms): (Option<Vec<u8>>, i64) =
            self.call(async |conn| redis::pipe().get(&key).pttl(&key).query_async(conn).await).await?;
        let bytes: Arc<[u8]> = value?.into();
        if local_level {
            self.hold(scope_key, entry, generation, bytes.clone(), lifetime_left(left_ms));
        }
        Some(bytes)
    }

    /// The entry as this instance holds it, with the generation it was cached under.
    fn held(&self, scope_key: &str, entry: &str) -> Option<(u64, Arc<[u8]>)> {
        let slot = self.local.get(scope_key)?;
        let now = Instant::now();
        slot.entries.iter().find(|h| &*h.entry == entry && h.expires > now).map(|h| (slot.generation, h.bytes.clone()))
    }

    /// Keeps an entry read or stored under `generation`. A slot holds one generation: a
    /// newer one replaces it, an older one is not kept.
    fn hold(&self, scope_key: &str, entry: &str, generation: u64, bytes: Arc<[u8]>, ttl: Duration) {
        let held = Held { entry: entry.into(), expires: Instant::now() + ttl, bytes };
        self.local.entry_by_ref(scope_key).and_upsert_with(|current| {
            let now = Instant::now();
            match current.map(|e| e.into_value()) {
                Some(slot) if slot.generation > generation => slot,
                Some(slot) if slot.generation == generation => {
                    let mut entries: Vec<Held> = slot
                        .entries
                        .iter()
                        .filter(|h| h.expires > now && h.entry != held.entry)
                        .take(SLOT_ENTRIES - 1)
                        .cloned()
                        .collect();
                    entries.push(held.clone());
                    Arc::new(Slot { generation, entries })
                }
                _ => Arc::new(Slot { generation, entries: vec![held.clone()] }),
            }
        });
    }

    pub async fn store(&self, scope_key: &str, entry: &str, generation: u64, bytes: Vec<u8>, ttl: Duration) {
        // As the lookup script composes it: prefix, generation, entry.
        let key = format!("{}{generation}:{entry}", self.entry_prefix(scope_key));
        let ttl_ms = ttl.as_millis() as u64;
        let stored: Option<i64> = self
            .call(async |conn| {
                self.store
                    .key(self.generation_key(scope_key))
                    .key(&key)
                    .arg(generation.to_string())
                    .arg(&bytes)
                    .arg(ttl_ms)
                    .invoke_async(conn)
                    .await
            })
            .await;
        if stored == Some(1) && self.subscribed.load(Ordering::Acquire) {
            self.hold(scope_key, entry, generation, bytes.into(), ttl);
        }
    }

    /// Bumps the scopes' generations and tells every instance. A bump that fails is kept
    /// and replayed before the cache is used again.
    pub async fn bump(&self, scope_keys: &[String]) {
        for key in scope_keys {
            self.local.invalidate(key);
        }
        if !self.send_bumps(scope_keys).await {
            if let Ok(mut health) = self.health.lock() {
                health.pending_bumps.extend(scope_keys.iter().cloned());
            }
        }
    }

    async fn send_bumps(&self, scope_keys: &[String]) -> bool {
        let generation_keys: Vec<String> = scope_keys.iter().map(|k| self.generation_key(k)).collect();
        let message = scope_keys.join(" ");
        self.attempt(async |conn| {
            let mut pipe = redis::pipe();
            for key in &generation_keys {
                pipe.incr(key, 1).ignore();
            }
            pipe.publish(&self.channel, &message).ignore();
            pipe.query_async::<()>(conn).await
        })
        .await
        .is_some()
    }

    /// Counts one attempt in each counter: (count, time left in the window). `None` when
    /// Redis cannot answer (the caller counts in PostgreSQL instead).
    pub async fn count(&self, keys: &[String], window: Duration) -> Option<Vec<(i64, Duration)>> {
        let keys: Vec<String> = keys.iter().map(|k| format!("{}:c:{k}", self.namespace)).collect();
        let window_ms = window.as_millis() as u64;
        let flat: Vec<i64> = self
            .call(async |conn| {
                let mut invocation = self.count.prepare_invoke();
                for key in &keys {
                    invocation.key(key);
                }
                invocation.arg(window_ms).invoke_async(conn).await
            })
            .await?;
        Some(
            flat.chunks(2)
                .map(|c| (c[0], Duration::from_millis(c.get(1).copied().unwrap_or(0).max(0) as u64)))
                .collect(),
        )
    }

    /// Starts `reset` counters again and gives one back to `give_back` ones.
    pub async fn settle(&self, reset: &[String], give_back: &[String]) -> bool {
        let keys: Vec<String> = reset.iter().chain(give_back).map(|k| format!("{}:c:{k}", self.namespace)).collect();
        self.call(async |conn| {
            let mut invocation = self.settle.prepare_invoke();
            for key in &keys {
                invocation.key(key);
            }
            invocation.arg(reset.len()).invoke_async::<i64>(conn).await
        })
        .await
        .is_some()
    }
}

/// What Redis says is left of an entry's life (PTTL: negative when it has none or is gone).
fn lifetime_left(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}

/// Listens for bumps from every instance and drops the bumped scopes' entries from this
/// process. While not subscribed (connecting, or the connection dropped), the in-process
/// level is empty and unused.
async fn subscribe(client: redis::Client, shared: std::sync::Weak<Shared>, mut stop: watch::Receiver<bool>) {
    use futures_util::StreamExt;
    let mut backoff = BACKOFF_FIRST;
    loop {
        let Some(channel) = shared.upgrade().map(|s| s.channel.clone()) else { return };
        let connected = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(Duration::from_secs(2), connected).await {
            Ok(Ok(pubsub)) => {
                backoff = BACKOFF_FIRST;
                if let Some(s) = shared.upgrade() {
                    s.local.invalidate_all();
                    s.subscribed.store(true, Ordering::Release);
                }
                let mut messages = pubsub.into_on_message();
                loop {
                    tokio::select! {
                        message = messages.next() => match message {
                            Some(message) => {
                                let Some(s) = shared.upgrade() else { return };
                                let payload: String = message.get_payload().unwrap_or_default();
                                for scope in payload.split_whitespace() {
                                    s.local.invalidate(scope);
                                }
                            }
                            None => break,
                        },
                        _ = stop.changed() => return,
                    }
                }
                if let Some(s) = shared.upgrade() {
                    s.subscribed.store(false, Ordering::Release);
                    s.local.invalidate_all();
                    tracing::warn!(
                        "the cache's invalidation channel dropped; the in-process level is off until it is back"
                    );
                }
            }
            _ => {
                if let Some(s) = shared.upgrade() {
                    s.subscribed.store(false, Ordering::Release);
                    s.local.invalidate_all();
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}
