//! The cache: what can be lost, kept close. Reads come from here when they can and from
//! PostgreSQL when they must, and the answer is the same either way.
//!
//! Every cached entry belongs to a **scope** (a patient, or an account) and is stored under
//! the scope's current **generation**. A write that changes anything in a scope bumps its
//! generation after it commits and before it answers; from then on every instance looks
//! up entries under the new generation, so nothing cached before the write can be served
//! after it is acknowledged, on any instance. An entry is only stored if the generation it
//! was read under is still current (compare-and-set), so a read that raced a write cannot
//! put a stale value back.
//!
//! Two levels: with `REDIS_URL`, generations and entries live in Redis, shared by every
//! instance, and a small in-process level (moka) keeps entries with their generation (their
//! bytes, and their value once a hit decoded it). An instance serves them without asking
//! Redis only while it holds a lease, and every bump waits until each leased instance has
//! confirmed it dropped the bumped scopes (see [`lease`]); otherwise it asks Redis for the
//! generation first. Without Redis, generations and entries live in the process alone:
//! right for one instance. When Redis fails or is slow, the cache steps aside (see
//! [`redis::Shared`]) and requests go to PostgreSQL.

mod lease;
mod local;
mod redis;

use std::any::Any;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::{PatientId, UserId};
use crate::error::Result;

pub use self::redis::CacheStatus;
pub(crate) use self::redis::{Limits as SharedLimits, Shared as SharedCache};

/// What a group of cached entries is about: a write to it makes them all old.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    /// A patient's profile, care relations, record pages and predictions.
    Patient(PatientId),
    /// An account: its sessions, and its directory entry when it is a doctor's.
    Account(UserId),
}

impl Scope {
    fn key(self) -> String {
        match self {
            Scope::Patient(p) => format!("p:{}", p.0),
            Scope::Account(u) => format!("u:{}", u.0),
        }
    }
}

/// What one request knows of a scope. Pinning the generation of the first lookup means the
/// request reads the scope as it stood at that moment, as one consistent state, and pays one
/// round trip to Redis per scope rather than one per entry. A write acknowledged before the
/// request began is always seen; one acknowledged while it runs is concurrent with it.
pub(crate) struct ScopeView {
    key: String,
    pinned: Option<Pinned>,
}

#[derive(Debug, Clone, Copy)]
enum Pinned {
    /// Entries are looked up under this generation. `seen`: what the in-process level had
    /// received of invalidations at the first lookup; an entry read after another one
    /// arrived is not kept in memory (see [`redis::Shared`]).
    At { generation: u64, seen: u64 },
    /// The cache could not be used at the first lookup: the whole request goes to PostgreSQL.
    Uncached,
}

impl ScopeView {
    pub fn new(scope: Scope) -> Self {
        Self { key: scope.key(), pinned: None }
    }
}

/// What can be cached: stored as JSON, kept decoded in memory.
pub(crate) trait Cacheable: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {}

impl<T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static> Cacheable for T {}

/// An entry as the in-process level holds it: its bytes (what Redis holds) and, once a hit
/// needed it, its decoded value, so that later hits clone the value instead of parsing it
/// again (parsing dates, ids and tagged enums was a sixth of a record page's server time).
pub(crate) struct Cached {
    bytes: Box<[u8]>,
    decoded: OnceLock<Option<Box<dyn Any + Send + Sync>>>,
}

impl Cached {
    fn new(bytes: impl Into<Box<[u8]>>) -> Arc<Self> {
        Arc::new(Self { bytes: bytes.into(), decoded: OnceLock::new() })
    }

    #[cfg(test)]
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The value, decoded at the first call. An entry is always read as the same type; if
    /// another one asks, it gets its own decoding of the bytes.
    fn value<T: Cacheable>(&self) -> Option<T> {
        let decoded = self.decoded.get_or_init(|| {
            serde_json::from_slice::<T>(&self.bytes).ok().map(|v| Box::new(v) as Box<dyn Any + Send + Sync>)
        });
        match decoded.as_ref().and_then(|any| any.downcast_ref::<T>()) {
            Some(value) => Some(value.clone()),
            None => serde_json::from_slice(&self.bytes).ok(),
        }
    }
}

/// How long entries live at most: security-sensitive ones (sessions, care relations) less.
#[derive(Debug, Clone)]
pub struct CacheTtl {
    pub data: Duration,
    pub access: Duration,
}

/// What kind of entry, for its time to live.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Who holds a session, what an actor is to a patient.
    Access,
    /// Profiles, record pages, predictions.
    Data,
}

/// The cache handle, shared by the clones of `MedConnect`.
#[derive(Clone)]
pub(crate) struct Cache {
    inner: Arc<Backend>,
    ttl: CacheTtl,
}

enum Backend {
    /// No caching at all (`MEDCONNECT_CACHE=off`): every read goes to PostgreSQL.
    Off,
    Local(local::Local),
    Shared(Arc<redis::Shared>),
}

impl Cache {
    /// No cache: for measuring, and for ruling the cache out when looking for a fault.
    pub fn off(ttl: CacheTtl) -> Self {
        Self { inner: Arc::new(Backend::Off), ttl }
    }

    /// An in-process cache only (no `REDIS_URL`).
    pub fn local(ttl: CacheTtl, capacity: u64) -> Self {
        Self { inner: Arc::new(Backend::Local(local::Local::new(capacity, ttl.data.max(ttl.access)))), ttl }
    }

    /// Redis shared by every instance, with an in-process level in front. `namespace`
    /// prefixes every key and the invalidation channel (tests share one Redis).
    pub fn shared(
        url: &str,
        namespace: &str,
        ttl: CacheTtl,
        limits: SharedLimits,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Self> {
        let shared = redis::Shared::connect(url, namespace, limits, ttl.data.max(ttl.access), stop)?;
        Ok(Self { inner: Arc::new(Backend::Shared(shared)), ttl })
    }

    fn ttl(&self, kind: Kind) -> Duration {
        match kind {
            Kind::Access => self.ttl.access,
            Kind::Data => self.ttl.data,
        }
    }

    /// The value of `entry` in `scope`: from the cache, or loaded (from PostgreSQL) and
    /// stored if the scope did not change meanwhile. Loading errors pass through;
    /// cache faults never do.
    pub async fn get_or_load<T, F>(&self, scope: Scope, entry: &str, kind: Kind, load: F) -> Result<T>
    where
        T: Cacheable,
        F: AsyncFnOnce() -> Result<T>,
    {
        self.get_or_load_in(&mut ScopeView::new(scope), entry, kind, load).await
    }

    /// As [`Cache::get_or_load`], within a request's view of the scope: the first lookup
    /// reads the scope's generation (with the entry, in one round trip); later ones are
    /// served under that same generation without asking for it again.
    pub async fn get_or_load_in<T, F>(&self, view: &mut ScopeView, entry: &str, kind: Kind, load: F) -> Result<T>
    where
        T: Cacheable,
        F: AsyncFnOnce() -> Result<T>,
    {
        let looked_up = match (view.pinned, &*self.inner) {
            (Some(Pinned::Uncached), _) | (_, Backend::Off) => None,
            (Some(Pinned::At { generation, seen }), Backend::Local(local)) => {
                Some((generation, seen, local.get(&view.key, generation, entry)))
            }
            (Some(Pinned::At { generation, seen }), Backend::Shared(shared)) => {
                Some((generation, seen, shared.get_at(&view.key, generation, seen, entry).await))
            }
            (None, Backend::Local(local)) => {
                let (generation, cached) = local.lookup(&view.key, entry);
                Some((generation, 0, cached))
            }
            (None, Backend::Shared(shared)) => shared.lookup(&view.key, entry).await,
        };
        if view.pinned.is_none() {
            view.pinned = Some(
                looked_up.as_ref().map_or(Pinned::Uncached, |&(generation, seen, _)| Pinned::At { generation, seen }),
            );
        }
        if let Some((_, _, Some(cached))) = &looked_up {
            if let Some(value) = cached.value() {
                return Ok(value);
            }
        }
        // Boxed: a loader waits on PostgreSQL, a future of kilobytes that would otherwise
        // sit inline in every request's future, hit or miss (see `MedConnect::connection`).
        let value = Box::pin(load()).await?;
        if let Some((generation, seen, _)) = looked_up {
            if let Ok(bytes) = serde_json::to_vec(&value) {
                let ttl = self.ttl(kind);
                match &*self.inner {
                    Backend::Off => {}
                    Backend::Local(local) => local.store(&view.key, entry, generation, bytes, ttl),
                    Backend::Shared(shared) => shared.store(&view.key, entry, generation, seen, bytes, ttl).await,
                }
            }
        }
        Ok(value)
    }

    /// Makes every entry of these scopes old, on every instance. Call it after the write
    /// committed and before answering.
    pub async fn bump(&self, scopes: &[Scope]) {
        let keys: Vec<String> = scopes.iter().map(|s| s.key()).collect();
        match &*self.inner {
            Backend::Off => {}
            Backend::Local(local) => local.bump(&keys),
            Backend::Shared(shared) => shared.bump(&keys).await,
        }
    }

    /// For `/ready`: `off` (in-process only), `ok`, or `degraded` (Redis unreachable:
    /// requests go to PostgreSQL).
    pub fn status(&self) -> CacheStatus {
        match &*self.inner {
            Backend::Off | Backend::Local(_) => CacheStatus::Off,
            Backend::Shared(shared) => shared.status(),
        }
    }

    /// The Redis connection for shared counters, when Redis is configured.
    pub(crate) fn redis(&self) -> Option<&redis::Shared> {
        match &*self.inner {
            Backend::Off | Backend::Local(_) => None,
            Backend::Shared(shared) => Some(shared),
        }
    }
}

/// One entry's full key: scope, generation, entry. Generations are part of the key, so an
/// entry stored under an old generation is simply never looked up again.
fn entry_key(scope_key: &str, generation: u64, entry: &str) -> String {
    format!("{scope_key}:{generation}:{entry}")
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Profile {
        name: String,
        born: chrono::NaiveDate,
    }

    #[test]
    fn a_cached_value_is_decoded_once_and_every_hit_gets_its_own_copy() {
        let ada = Profile { name: "Ada".into(), born: chrono::NaiveDate::from_ymd_opt(1815, 12, 10).expect("date") };
        let cached = Cached::new(serde_json::to_vec(&ada).expect("json"));
        let mut first: Profile = cached.value().expect("decoded");
        assert_eq!(first, ada);
        first.name.push_str(" (changed by the first caller)");
        assert_eq!(cached.value::<Profile>(), Some(ada), "a caller's copy is its own");
        assert!(cached.decoded.get().is_some_and(Option::is_some), "kept decoded");
        // Another type reading the same bytes gets its own decoding, not a wrong downcast.
        assert_eq!(cached.value::<serde_json::Value>().expect("value")["name"], "Ada");
        assert!(Cached::new(b"not json".to_vec()).value::<Profile>().is_none());
    }
}
