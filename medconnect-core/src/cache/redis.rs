//! Redis, shared by every instance, with an in-process level in front; and the rule that a
//! cache fault never fails a request.
//!
//! - Every Redis operation has a short timeout. A failure opens a circuit: for a back-off
//!   that doubles from 0.5 s up to 30 s, this instance does not ask Redis at all and goes
//!   to PostgreSQL, rather than waiting on a broken Redis at every request.
//! - A bump that could not reach Redis is remembered, and the cache is not used again until
//!   the bump has gone through: entries cached before a write are never served after it.
//! - The in-process level holds entries (bytes, and values once decoded) under their
//!   generation. While this instance holds its lease (see [`super::lease`]) it answers from
//!   them without asking Redis: every bump waits for each leased instance to confirm it has
//!   dropped the bumped scopes (or to be struck off and its lease to run out) before the
//!   write is acknowledged. Without the lease it asks Redis for the scope's generation (one
//!   plain GET) and answers from memory only if it matches. When the subscription drops,
//!   the in-process level is emptied and not used until it is back.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{self, Script};
use deadpool_redis::{Config as PoolConfig, Pool, Runtime, Timeouts};
use moka::sync::Cache as Moka;
use tokio::sync::{mpsc, watch};

use super::Cached;
use super::lease::Freshness;
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

/// Current generation, the entry's bytes under it and milliseconds left to live: one round
/// trip, for an entry this instance does not hold.
const LOOKUP: &str = r"
local g = redis.call('GET', KEYS[1]) or '0'
local key = ARGV[1] .. g .. ':' .. ARGV[2]
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

/// Bumps the generations `KEYS[2..]`, tells every instance (`ARGV[1]`: channel, `ARGV[2]`:
/// message), and returns the instances whose lease still runs (`KEYS[1]`, scored by the
/// Redis time their lease ends): those must confirm the bump.
const BUMP: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
for i = 2, #KEYS do redis.call('INCR', KEYS[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local leased = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('PUBLISH', ARGV[1], ARGV[2])
return leased
";

/// Renews instance `ARGV[1]`'s lease for `ARGV[2]` ms of Redis time; `ARGV[3]` = 1 takes a
/// new one. 0 when the instance was struck off meanwhile (it must forget what it holds).
const RENEW: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[3] == '0' and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 4 * tonumber(ARGV[2]))
return 1
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
    cached: Arc<Cached>,
}

struct Health {
    open_until: Option<Instant>,
    backoff: Duration,
    /// Scopes whose bump did not reach Redis: flushed before the cache is used again.
    pending_bumps: HashSet<String>,
    /// When Redis first failed this instance since it last answered: other instances'
    /// leases end at most one lease period after Redis stopped answering them.
    failing_since: Option<Instant>,
}

/// Sizes and times of the shared cache.
pub(crate) struct Limits {
    /// Entries held in process at most.
    pub capacity: u64,
    /// Longest wait for one Redis operation.
    pub op_timeout: Duration,
    /// How long a lease lasts (see [`super::lease`]): the same for every instance, since
    /// writers wait for other instances' leases to run out.
    pub lease: Duration,
    /// Whether this process takes a lease (one-shot commands do not).
    pub takes_lease: bool,
}

/// Bumps of this instance waiting for other instances to confirm them: by bump number, the
/// instances confirming, as their confirmations arrive.
type Waiting = Mutex<HashMap<u64, mpsc::UnboundedSender<String>>>;

pub(crate) struct Shared {
    /// The runtime requests run on, for work the subscriber's thread hands back to it.
    requests: tokio::runtime::Handle,
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
    /// This instance's name in the lease list and in confirmations.
    instance: String,
    leases_key: String,
    confirmations: String,
    lease: Duration,
    freshness: Freshness,
    bumps_sent: AtomicU64,
    waiting: Waiting,
    lookup: Script,
    store: Script,
    bump: Script,
    renew: Script,
    count: Script,
    settle: Script,
}

impl Shared {
    /// `ttl`: the longest time to live of an entry.
    pub fn connect(
        url: &str,
        namespace: &str,
        limits: Limits,
        ttl: Duration,
        stop: watch::Receiver<bool>,
    ) -> Result<Arc<Self>> {
        let Limits { capacity, op_timeout, lease, takes_lease } = limits;
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
            requests: tokio::runtime::Handle::current(),
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
            health: Mutex::new(Health {
                open_until: None,
                backoff: Duration::ZERO,
                pending_bumps: HashSet::new(),
                failing_since: None,
            }),
            instance: uuid::Uuid::new_v4().simple().to_string(),
            leases_key: format!("{namespace}:leases"),
            confirmations: format!("{namespace}:confirm"),
            lease,
            freshness: Freshness::new(),
            bumps_sent: AtomicU64::new(0),
            waiting: Mutex::new(HashMap::new()),
            lookup: Script::new(LOOKUP),
            store: Script::new(STORE),
            bump: Script::new(BUMP),
            renew: Script::new(RENEW),
            count: Script::new(COUNT),
            settle: Script::new(SETTLE),
        });
        // The subscriber has a thread of its own: on the request runtime, a busy instance
        // confirmed bumps (and read confirmations) a whole scheduling round late, and every
        // write on the other instances waited for it.
        let (subscriber, subscriber_stop) = (Arc::downgrade(&shared), stop.clone());
        std::thread::Builder::new()
            .name("medconnect-cache-subscriber".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(subscribe(client, subscriber, subscriber_stop, op_timeout));
                }
            })
            .map_err(|_| Error::internal("the cache's subscriber thread could not start"))?;
        let farewell = Farewell {
            pool: shared.pool.clone(),
            leases_key: shared.leases_key.clone(),
            instance: shared.instance.clone(),
            op_timeout,
        };
        if takes_lease {
            tokio::spawn(keep_lease(Arc::downgrade(&shared), farewell, stop));
        }
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
                    // Boxed: the pool's wait is 6.9 KB of future, which every caller's
                    // future would otherwise carry inline (see `MedConnect::connection`).
                    let pooled = Box::pin(self.pool.get()).await.map_err(|e| e.to_string())?;
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
            health.failing_since = None;
        }
    }

    fn failed(&self, why: &str) {
        // The next attempt starts from a fresh connection.
        if let Ok(mut held) = self.connection.lock() {
            *held = None;
        }
        if let Ok(mut health) = self.health.lock() {
            health.backoff = (health.backoff * 2).clamp(BACKOFF_FIRST, BACKOFF_MAX);
            health.failing_since.get_or_insert_with(Instant::now);
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

    /// Whether entries held in process may be served without asking Redis.
    fn leased(&self) -> bool {
        self.subscribed.load(Ordering::Acquire) && self.freshness.leased()
    }

    /// (current generation, what this instance had seen of the scope's invalidations, the
    /// entry) or `None` when the cache cannot be used.
    pub async fn lookup(&self, scope_key: &str, entry: &str) -> Option<(u64, u64, Option<Arc<Cached>>)> {
        let seen = self.freshness.seen(scope_key);
        let local_level = self.subscribed.load(Ordering::Acquire);
        if let Some((held_at, cached)) = if local_level { self.held(scope_key, entry) } else { None } {
            // Leased: every acknowledged bump has reached this instance, so what it holds
            // is current.
            if self.leased() {
                return Some((held_at, seen, Some(cached)));
            }
            // Otherwise only the scope's generation is asked for (a plain GET: a script
            // costs Redis ten times as much), and the entry is fetched only if it moved on.
            let generation: Option<u64> = self
                .call(async |conn| redis::cmd("GET").arg(self.generation_key(scope_key)).query_async(conn).await)
                .await?;
            let generation = generation.unwrap_or(0);
            if generation == held_at {
                return Some((generation, seen, Some(cached)));
            }
            return Some((generation, seen, self.fetch_at(scope_key, generation, seen, entry).await));
        }
        let (generation, value, left_ms): (String, Option<Vec<u8>>, i64) = self
            .call(async |conn| {
                self.lookup
                    .key(self.generation_key(scope_key))
                    .arg(self.entry_prefix(scope_key))
                    .arg(entry)
                    .invoke_async(conn)
                    .await
            })
            .await?;
        let generation: u64 = generation.parse().ok()?;
        let value = value.map(Cached::new);
        if let Some(cached) = &value {
            self.hold(scope_key, entry, generation, seen, cached.clone(), lifetime_left(left_ms));
        }
        Some((generation, seen, value))
    }

    /// The entry under `generation` (the one a request pinned): from this process, else
    /// from Redis. `None` sends the caller to PostgreSQL.
    pub async fn get_at(&self, scope_key: &str, generation: u64, seen: u64, entry: &str) -> Option<Arc<Cached>> {
        if self.subscribed.load(Ordering::Acquire) {
            if let Some((g, cached)) = self.held(scope_key, entry) {
                if g == generation {
                    return Some(cached);
                }
            }
        }
        self.fetch_at(scope_key, generation, seen, entry).await
    }

    /// The entry under `generation` from Redis, kept in process if nothing raced it.
    async fn fetch_at(&self, scope_key: &str, generation: u64, seen: u64, entry: &str) -> Option<Arc<Cached>> {
        let key = format!("{}{generation}:{entry}", self.entry_prefix(scope_key));
        let (value, left_ms): (Option<Vec<u8>>, i64) =
            self.call(async |conn| redis::pipe().get(&key).pttl(&key).query_async(conn).await).await?;
        let cached = Cached::new(value?);
        self.hold(scope_key, entry, generation, seen, cached.clone(), lifetime_left(left_ms));
        Some(cached)
    }

    /// The entry as this instance holds it, with the generation it was cached under.
    fn held(&self, scope_key: &str, entry: &str) -> Option<(u64, Arc<Cached>)> {
        let slot = self.local.get(scope_key)?;
        let now = Instant::now();
        slot.entries.iter().find(|h| &*h.entry == entry && h.expires > now).map(|h| (slot.generation, h.cached.clone()))
    }

    /// Keeps an entry read or stored under `generation` by a request that had seen `seen`
    /// of the scope's invalidations, unless another arrived since (the entry may be older
    /// than it) or the subscription is down. A slot holds one generation: a newer one
    /// replaces it, an older one is not kept.
    fn hold(&self, scope_key: &str, entry: &str, generation: u64, seen: u64, cached: Arc<Cached>, ttl: Duration) {
        if !self.subscribed.load(Ordering::Acquire) || self.freshness.seen(scope_key) != seen {
            return;
        }
        let held = Held { entry: entry.into(), expires: Instant::now() + ttl, cached };
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
        // An invalidation that arrived while the slot was written removes it again.
        if self.freshness.seen(scope_key) != seen {
            self.local.invalidate(scope_key);
        }
    }

    pub async fn store(&self, scope_key: &str, entry: &str, generation: u64, seen: u64, bytes: Vec<u8>, ttl: Duration) {
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
        if stored == Some(1) {
            self.hold(scope_key, entry, generation, seen, Cached::new(bytes), ttl);
        }
    }

    /// Drops a scope's entries from this process, and keeps reads in flight from putting
    /// theirs back.
    fn drop_scope(&self, scope_key: &str) {
        self.freshness.invalidated(scope_key);
        self.local.invalidate(scope_key);
    }

    /// Drops everything held in this process.
    fn drop_everything(&self) {
        self.freshness.forget_all();
        self.local.invalidate_all();
    }

    /// Bumps the scopes' generations and tells every instance, then waits until every
    /// instance holding a lease has confirmed it dropped them, or has been struck off and
    /// its lease has run out. A bump that fails is kept and replayed before the cache is
    /// used again; the instance then waits until leases that Redis can no longer renew
    /// have ended.
    pub async fn bump(&self, scope_keys: &[String]) {
        for key in scope_keys {
            self.drop_scope(key);
        }
        let number = self.bumps_sent.fetch_add(1, Ordering::Relaxed);
        let (confirmed, confirmations) = mpsc::unbounded_channel();
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.insert(number, confirmed);
        }
        let message = format!("{} {number} {}", self.instance, scope_keys.join(" "));
        let leased = if self.usable().await { self.send_bump(scope_keys, &message).await } else { None };
        match leased {
            Some(leased) => {
                let others: HashSet<String> = leased.into_iter().filter(|i| *i != self.instance).collect();
                self.await_confirmations(number, others, confirmations).await;
            }
            None => {
                if let Ok(mut waiting) = self.waiting.lock() {
                    waiting.remove(&number);
                }
                if let Ok(mut health) = self.health.lock() {
                    health.pending_bumps.extend(scope_keys.iter().cloned());
                }
                self.outlast_leases().await;
            }
        }
    }

    /// Sends one bump; the instances whose lease runs, or `None` if Redis did not take it.
    async fn send_bump(&self, scope_keys: &[String], message: &str) -> Option<Vec<String>> {
        self.attempt(async |conn| {
            let mut invocation = self.bump.prepare_invoke();
            invocation.key(&self.leases_key);
            for key in scope_keys {
                invocation.key(self.generation_key(key));
            }
            invocation.arg(&self.channel).arg(message).invoke_async(conn).await
        })
        .await
    }

    /// Replays bumps that did not reach Redis (no instance holds a lease from before them
    /// any more: the bump waited them out).
    async fn send_bumps(&self, scope_keys: &[String]) -> bool {
        let message = format!("{} - {}", self.instance, scope_keys.join(" "));
        self.send_bump(scope_keys, &message).await.is_some()
    }

    async fn await_confirmations(
        &self,
        number: u64,
        mut others: HashSet<String>,
        mut confirmations: mpsc::UnboundedReceiver<String>,
    ) {
        let deadline = tokio::time::sleep(self.lease / 4);
        tokio::pin!(deadline);
        while !others.is_empty() {
            tokio::select! {
                Some(from) = confirmations.recv() => { others.remove(&from); }
                _ = &mut deadline => break,
            }
        }
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.remove(&number);
        }
        if others.is_empty() {
            return;
        }
        // Silent instances are struck off (so they cannot renew) and the write waits until
        // their lease has run out: whatever they hold, they no longer serve it.
        tracing::warn!(instances = others.len(), "instances did not confirm an invalidation; waiting out their lease");
        let struck: Vec<String> = others.into_iter().collect();
        let _ = self
            .attempt(async |conn| redis::cmd("ZREM").arg(&self.leases_key).arg(&struck).query_async::<i64>(conn).await)
            .await;
        tokio::time::sleep(self.lease).await;
    }

    /// After a bump that did not reach Redis: Redis stopped answering at the latest when this
    /// instance first saw it fail, and other instances' leases end at most one period after
    /// their last renewal, so waiting until one period after that first failure leaves none
    /// serving what the bump should have dropped. (Writes during a longer outage do not wait.)
    async fn outlast_leases(&self) {
        let since = self.health.lock().ok().and_then(|h| h.failing_since);
        let until = since.unwrap_or_else(Instant::now) + self.lease;
        if until > Instant::now() {
            tokio::time::sleep_until(until.into()).await;
        }
    }

    /// Renews (or takes) this instance's lease. Taking one forgets everything held first:
    /// bumps sent while it had none did not wait for it.
    async fn renew_lease(&self) {
        if !self.subscribed.load(Ordering::Acquire) {
            self.freshness.lost();
            return;
        }
        let holding = self.freshness.leased();
        let sent = Instant::now();
        let lease_ms = self.lease.as_millis() as u64;
        let renewed: Option<i64> = self
            .call(async |conn| {
                self.renew
                    .key(&self.leases_key)
                    .arg(&self.instance)
                    .arg(lease_ms)
                    .arg(if holding { "0" } else { "1" })
                    .invoke_async(conn)
                    .await
            })
            .await;
        match renewed {
            Some(1) => {
                if !holding {
                    self.drop_everything();
                }
                self.freshness.renewed(sent, self.lease);
            }
            Some(_) => {
                tracing::warn!("this instance was struck off the cache's lease list; it forgets what it holds");
                self.freshness.lost();
                self.local.invalidate_all();
            }
            // Redis does not answer: the lease runs out by itself.
            None => {}
        }
    }

    /// Leaves the lease list (stopping, or the subscription dropped), so that no write
    /// waits for this instance.
    async fn leave(&self) {
        self.freshness.lost();
        let withdrawal = withdrawal(&self.leases_key, &self.instance);
        let _ = self.attempt(async |conn| withdrawal.query_async::<i64>(conn).await).await;
    }

    /// A bump arrived from an instance: drop its scopes here; the confirmation to publish,
    /// if the bump waits for one.
    fn on_bump(&self, payload: &str) -> Option<String> {
        let mut words = payload.split_whitespace();
        let (Some(origin), Some(number)) = (words.next(), words.next()) else { return None };
        for scope in words {
            self.drop_scope(scope);
        }
        (origin != self.instance && number != "-").then(|| format!("{origin} {number} {}", self.instance))
    }

    /// A confirmation arrived: if it is for one of this instance's bumps, count it.
    fn on_confirmation(&self, payload: &str) {
        let mut words = payload.split_whitespace();
        let (Some(origin), Some(number), Some(from)) = (words.next(), words.next(), words.next()) else { return };
        if origin != self.instance {
            return;
        }
        let Ok(number) = number.parse::<u64>() else { return };
        if let Ok(waiting) = self.waiting.lock() {
            if let Some(confirmed) = waiting.get(&number) {
                let _ = confirmed.send(from.to_owned());
            }
        }
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

/// Listens for bumps from every instance (dropping the bumped scopes' entries from this
/// process, then confirming on a connection of its own) and for confirmations of this
/// instance's bumps. Runs on its own thread. While not subscribed (connecting, or the
/// connection dropped), the in-process level is empty and unused, and the instance is off
/// the lease list.
async fn subscribe(client: redis::Client, shared: Weak<Shared>, mut stop: watch::Receiver<bool>, op_timeout: Duration) {
    use futures_util::StreamExt;
    let mut backoff = BACKOFF_FIRST;
    loop {
        let Some((channels, confirmations)) =
            shared.upgrade().map(|s| ([s.channel.clone(), s.confirmations.clone()], s.confirmations.clone()))
        else {
            return;
        };
        let connected = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channels).await?;
            let confirmer = client.get_multiplexed_async_connection().await?;
            Ok::<_, redis::RedisError>((pubsub, confirmer))
        };
        match tokio::time::timeout(Duration::from_secs(2), connected).await {
            Ok(Ok((pubsub, confirmer))) => {
                backoff = BACKOFF_FIRST;
                if let Some(s) = shared.upgrade() {
                    s.drop_everything();
                    s.subscribed.store(true, Ordering::Release);
                }
                let mut messages = pubsub.into_on_message();
                loop {
                    tokio::select! {
                        message = messages.next() => match message {
                            Some(message) => {
                                let Some(s) = shared.upgrade() else { return };
                                let payload: String = message.get_payload().unwrap_or_default();
                                if message.get_channel_name() == confirmations {
                                    s.on_confirmation(&payload);
                                } else if let Some(confirmation) = s.on_bump(&payload) {
                                    let (mut conn, channel) = (confirmer.clone(), confirmations.clone());
                                    tokio::spawn(async move {
                                        let mut publish = redis::cmd("PUBLISH");
                                        publish.arg(&channel).arg(&confirmation);
                                        let _ = tokio::time::timeout(op_timeout, publish.query_async::<i64>(&mut conn)).await;
                                    });
                                }
                            }
                            None => break,
                        },
                        _ = stop.changed() => return,
                    }
                }
                if let Some(s) = shared.upgrade() {
                    s.subscribed.store(false, Ordering::Release);
                    s.drop_everything();
                    tracing::warn!(
                        "the cache's invalidation channel dropped; the in-process level is off until it is back"
                    );
                    s.requests.clone().spawn(async move { s.leave().await });
                }
            }
            _ => {
                if let Some(s) = shared.upgrade() {
                    s.subscribed.store(false, Ordering::Release);
                    s.drop_everything();
                    s.freshness.lost();
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

/// Takes `instance` off the lease list.
fn withdrawal(leases_key: &str, instance: &str) -> redis::Cmd {
    let mut cmd = redis::cmd("ZREM");
    cmd.arg(leases_key).arg(instance);
    cmd
}

/// What an instance needs to leave the lease list once its cache is gone.
struct Farewell {
    pool: Pool,
    leases_key: String,
    instance: String,
    op_timeout: Duration,
}

impl Farewell {
    async fn leave(self) {
        let Farewell { pool, leases_key, instance, op_timeout } = self;
        let _ = tokio::time::timeout(op_timeout, async move {
            let mut conn = pool.get().await.ok()?;
            withdrawal(&leases_key, &instance).query_async::<i64>(&mut conn).await.ok()
        })
        .await;
    }
}

/// Renews this instance's lease four times per period while it is subscribed; leaves the
/// lease list when the instance stops, so that no write waits for it.
async fn keep_lease(shared: Weak<Shared>, farewell: Farewell, mut stop: watch::Receiver<bool>) {
    loop {
        let Some(s) = shared.upgrade() else { break };
        s.renew_lease().await;
        let every = s.lease / 4;
        drop(s);
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => break,
        }
    }
    if let Some(s) = shared.upgrade() {
        s.freshness.lost();
    }
    farewell.leave().await;
}
