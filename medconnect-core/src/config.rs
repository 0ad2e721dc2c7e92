//! Configuration of the core, read from the environment (see `.env.example`).

use std::time::Duration;

use crate::audit::writer::MAX_LANES;
use crate::error::{Error, Result};
use crate::keys::SecretKey;

/// Limits on sign-in and sign-up work. Counters are kept per (e-mail, client address)
/// and per client address, never per e-mail alone: someone guessing at an account from
/// one place cannot lock its owner out from another (OWASP Authentication Cheat Sheet,
/// "Account lockout": lock-outs that anyone can trigger are a denial of service).
#[derive(Debug, Clone)]
pub struct SignInLimits {
    /// Failed sign-ins for one e-mail from one address within `window` (default 10).
    pub per_account_and_address: u32,
    /// Failed sign-ins from one address, whatever the e-mail, within `window` (default 50).
    pub per_address: u32,
    /// Self sign-ups from one address within `window` (default 20).
    pub sign_ups_per_address: u32,
    pub window: Duration,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            per_account_and_address: 10,
            per_address: 50,
            sign_ups_per_address: 20,
            window: Duration::from_secs(900),
        }
    }
}

#[derive(Clone)]
pub struct Config {
    /// May hold a password: never printed (`Debug` shows the host part only).
    pub database_url: String,
    pub max_connections: u32,
    /// How long a request waits for a database connection before it answers `Unavailable`.
    pub acquire_timeout: Duration,
    pub signing_key: SecretKey,
    /// The HMAC key of the audit chain; it must not live in the database it protects.
    pub audit_key: SecretKey,
    pub access_ttl: chrono::Duration,
    pub refresh_ttl: chrono::Duration,
    pub sign_in: SignInLimits,
    /// Threads that run argon2 (one per CPU by default) and the jobs that may wait for them.
    pub hash_workers: usize,
    pub hash_queue: usize,
    /// The longest an audit row waits before the sealer chains it (default 1 s).
    pub audit_seal_within: Duration,
    /// `MEDCONNECT_AUDIT_LANES` (1–4, default 1): audit batches of this instance committing
    /// at once. A second lane overlaps one batch's insert with the other's disk flush, which
    /// pays on one instance whose disk flushes slowly while CPU idles; but it halves the rows
    /// a commit shares, and PostgreSQL's work per audited read grew by a third (measured),
    /// which every instance of a deployment pays on the shared database (benches/README.md,
    /// "one audit lane again").
    pub audit_lanes: usize,
    /// `REDIS_URL`: the cache shared by every instance. Without it, an in-process cache
    /// serves, which is right for one instance only.
    pub redis_url: Option<String>,
    /// Prefix of every cache key and of the invalidation channel (instances of one
    /// deployment share it).
    pub cache_namespace: String,
    /// How long cached health data lives at most (default 5 min), and cached sessions and
    /// care relations (default 1 min).
    pub cache_ttl: crate::cache::CacheTtl,
    /// Entries the in-process level keeps.
    pub cache_capacity: u64,
    /// The longest a Redis operation may take before the request goes to PostgreSQL.
    pub redis_timeout: Duration,
    /// `MEDCONNECT_CACHE_LEASE_MS` (default 2,000): how long an instance may answer from its
    /// own memory after Redis last confirmed it receives every invalidation; also the longest
    /// a write waits for an instance that stopped confirming them.
    pub cache_lease: Duration,
    /// `MEDCONNECT_CACHE_LEASE_HOLDER` (default on): whether this process takes a lease at
    /// all. One-shot commands do not: a process that ends without leaving the lease list
    /// makes writes wait for its lease to run out.
    pub cache_lease_holder: bool,
    /// `MEDCONNECT_CACHE=off`: no cache at all, every read from PostgreSQL (measurements,
    /// fault finding). On by default.
    pub cache_enabled: bool,
    /// How long a doctor keeps care of a patient after a consultation they accepted is
    /// completed or cancelled (default 7 days).
    pub consultation_grace: chrono::Duration,
}

impl Config {
    /// Defaults around a database URL and the two keys.
    pub fn new(database_url: impl Into<String>, signing_key: SecretKey, audit_key: SecretKey) -> Self {
        let cpus = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
        Self {
            database_url: database_url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            signing_key,
            audit_key,
            access_ttl: chrono::Duration::minutes(15),
            refresh_ttl: chrono::Duration::days(30),
            sign_in: SignInLimits::default(),
            hash_workers: cpus,
            hash_queue: 16 * cpus,
            audit_seal_within: Duration::from_secs(1),
            audit_lanes: 1,
            redis_url: None,
            cache_namespace: "medconnect".to_owned(),
            cache_ttl: crate::cache::CacheTtl { data: Duration::from_secs(300), access: Duration::from_secs(60) },
            cache_capacity: 10_000,
            redis_timeout: Duration::from_millis(100),
            cache_lease: Duration::from_secs(2),
            cache_lease_holder: true,
            cache_enabled: true,
            consultation_grace: chrono::Duration::days(7),
        }
    }

    /// Reads `DATABASE_URL`, `MEDCONNECT_JWT_SECRET`, `MEDCONNECT_AUDIT_KEY`, `MEDCONNECT_DEV`,
    /// `MEDCONNECT_ACCESS_TTL_SECS`, `MEDCONNECT_REFRESH_TTL_DAYS`, `MEDCONNECT_LOGIN_MAX_FAILURES`,
    /// `MEDCONNECT_ADDRESS_MAX_FAILURES`, `MEDCONNECT_SIGNUPS_PER_ADDRESS`,
    /// `MEDCONNECT_DB_MAX_CONNECTIONS`, `MEDCONNECT_DB_ACQUIRE_TIMEOUT_MS`, `MEDCONNECT_HASH_WORKERS`, `MEDCONNECT_HASH_QUEUE` and
    /// `MEDCONNECT_AUDIT_SEAL_MS`, `MEDCONNECT_AUDIT_LANES`, `REDIS_URL`, `MEDCONNECT_CACHE_NAMESPACE`, `MEDCONNECT_CACHE_TTL_SECS`,
    /// `MEDCONNECT_CACHE_ACCESS_TTL_SECS`, `MEDCONNECT_CACHE_CAPACITY`, `MEDCONNECT_REDIS_TIMEOUT_MS` and
    /// `MEDCONNECT_CONSULTATION_GRACE_HOURS`.
    ///
    /// Outside dev mode a missing or weak key is an error. In dev mode a weak key is
    /// accepted with a warning, and a missing one is replaced by a random key (tokens then
    /// die with the process, and the audit chain can only be verified by that process).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Config::from_env`], with the settings looked up by `lookup` (the Python client
    /// gives its arguments first, then the environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let database_url = var("DATABASE_URL").ok_or_else(|| Error::invalid("DATABASE_URL", "must be set"))?;
        let dev = var("MEDCONNECT_DEV").is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
        let key = |name: &'static str| -> Result<SecretKey> {
            match var(name) {
                Some(raw) if dev => {
                    let (key, weakness) = SecretKey::parse_weak(name, &raw)?;
                    if let Some(why) = weakness {
                        tracing::warn!(setting = name, why, "accepting a weak key because MEDCONNECT_DEV is set");
                    }
                    Ok(key)
                }
                Some(raw) => SecretKey::parse(name, &raw),
                None if dev => Ok(SecretKey::random()),
                None => Err(Error::invalid(name, "must be set outside dev mode (MEDCONNECT_DEV=1)")),
            }
        };
        let number = |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| -> Result<u64> {
            let value = match var(name) {
                None => default,
                Some(v) => v.trim().parse().map_err(|_| Error::invalid(name, "must be a whole number"))?,
            };
            if !range.contains(&value) {
                return Err(Error::invalid(name, format!("must be between {} and {}", range.start(), range.end())));
            }
            Ok(value)
        };
        let mut config = Self::new(database_url, key("MEDCONNECT_JWT_SECRET")?, key("MEDCONNECT_AUDIT_KEY")?);
        let whole = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        config.access_ttl = chrono::Duration::seconds(whole(number("MEDCONNECT_ACCESS_TTL_SECS", 900, 30..=86_400)?));
        config.refresh_ttl = chrono::Duration::days(whole(number("MEDCONNECT_REFRESH_TTL_DAYS", 30, 1..=365)?));
        config.sign_in.per_account_and_address = count(number("MEDCONNECT_LOGIN_MAX_FAILURES", 10, 1..=1000)?);
        config.sign_in.per_address = count(number("MEDCONNECT_ADDRESS_MAX_FAILURES", 50, 1..=100_000)?);
        config.sign_in.sign_ups_per_address = count(number("MEDCONNECT_SIGNUPS_PER_ADDRESS", 20, 1..=100_000)?);
        config.max_connections = count(number("MEDCONNECT_DB_MAX_CONNECTIONS", 10, 1..=500)?);
        config.acquire_timeout = Duration::from_millis(number("MEDCONNECT_DB_ACQUIRE_TIMEOUT_MS", 5000, 100..=60_000)?);
        let workers = config.hash_workers as u64;
        config.hash_workers = usize::try_from(number("MEDCONNECT_HASH_WORKERS", workers, 1..=256)?).unwrap_or(1);
        let queue = 16 * config.hash_workers as u64;
        config.hash_queue = usize::try_from(number("MEDCONNECT_HASH_QUEUE", queue, 1..=100_000)?).unwrap_or(16);
        config.audit_seal_within = Duration::from_millis(number("MEDCONNECT_AUDIT_SEAL_MS", 1000, 50..=3_600_000)?);
        config.audit_lanes = usize::try_from(number("MEDCONNECT_AUDIT_LANES", 1, 1..=MAX_LANES as u64)?).unwrap_or(1);
        config.redis_url = var("REDIS_URL");
        config.cache_enabled = !var("MEDCONNECT_CACHE").is_some_and(|v| matches!(v.as_str(), "off" | "0" | "false"));
        if let Some(namespace) = var("MEDCONNECT_CACHE_NAMESPACE") {
            config.cache_namespace = namespace;
        }
        config.cache_ttl.data = Duration::from_secs(number("MEDCONNECT_CACHE_TTL_SECS", 300, 1..=86_400)?);
        config.cache_ttl.access = Duration::from_secs(number("MEDCONNECT_CACHE_ACCESS_TTL_SECS", 60, 1..=3_600)?);
        config.cache_capacity = number("MEDCONNECT_CACHE_CAPACITY", 10_000, 100..=10_000_000)?;
        config.redis_timeout = Duration::from_millis(number("MEDCONNECT_REDIS_TIMEOUT_MS", 100, 5..=10_000)?);
        config.cache_lease = Duration::from_millis(number("MEDCONNECT_CACHE_LEASE_MS", 2_000, 200..=60_000)?);
        config.cache_lease_holder =
            !var("MEDCONNECT_CACHE_LEASE_HOLDER").is_some_and(|v| matches!(v.as_str(), "off" | "0" | "false"));
        config.consultation_grace =
            chrono::Duration::hours(whole(number("MEDCONNECT_CONSULTATION_GRACE_HOURS", 7 * 24, 0..=365 * 24)?));
        Ok(config)
    }
}

/// Shows where the database is, never its password.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database", &database_location(&self.database_url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("sign_in", &self.sign_in)
            .field("hash_workers", &self.hash_workers)
            .field("hash_queue", &self.hash_queue)
            .field("audit_seal_within", &self.audit_seal_within)
            .field("audit_lanes", &self.audit_lanes)
            .field("redis", &self.redis_url.as_deref().map(database_location))
            .field("cache_namespace", &self.cache_namespace)
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

/// `host:port/database` of a PostgreSQL URL, without user or password, for messages.
pub fn database_location(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split('?').next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_database_password() {
        let config =
            Config::new("postgres://alice:s3cr3t@db.example:5432/medconnect", SecretKey::random(), SecretKey::random());
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t") && !shown.contains("alice"), "{shown}");
        assert!(shown.contains("db.example:5432/medconnect"), "{shown}");
    }

    #[test]
    fn audit_lanes_default_to_one_and_refuse_what_is_out_of_range() {
        let key = String::from_utf8(SecretKey::random().expose().to_vec()).expect("base64 text");
        let with = |lanes: Option<&str>| {
            Config::from_lookup(|name| match name {
                "DATABASE_URL" => Some("postgres://h/db".to_owned()),
                "MEDCONNECT_JWT_SECRET" | "MEDCONNECT_AUDIT_KEY" => Some(key.clone()),
                "MEDCONNECT_AUDIT_LANES" => lanes.map(str::to_owned),
                _ => None,
            })
        };
        assert_eq!(with(None).expect("default").audit_lanes, 1);
        assert_eq!(with(Some("2")).expect("two lanes").audit_lanes, 2);
        for wrong in ["0", "5", "two"] {
            let err = with(Some(wrong)).expect_err(wrong).to_string();
            assert!(err.contains("MEDCONNECT_AUDIT_LANES"), "{wrong}: {err}");
        }
    }

    #[test]
    fn database_location_keeps_host_port_and_name() {
        assert_eq!(database_location("postgres://u:p@h:1/db?sslmode=require"), "h:1/db");
        assert_eq!(database_location("postgres://h/db"), "h/db");
    }
}
