//! MedConnect core: the clinical-data library behind the HTTP server and the Python bindings.
//!
//! Everything goes through [`MedConnect`], a cheap-to-clone handle. Every use case takes
//! the [`Actor`] first and decides access itself, so no adapter can forget to authorise;
//! an `Actor` can only be made by the core, from a verified access token. The database
//! pool and the repositories are private: there is no road to the data around the use
//! cases, their policy and their audit.
//!
//! ```no_run
//! # async fn demo() -> medconnect_core::Result<()> {
//! use medconnect_core::{ClientAddress, Config, MedConnect};
//! let app = MedConnect::connect(Config::from_env()?).await?;
//! let tokens = app.login("dr.house@example.org", "a long passphrase", ClientAddress::local()).await?;
//! let actor = app.authenticate(&tokens.access_token).await?;
//! let me = app.me(&actor).await?;
//! # Ok(()) }
//! ```
//!
//! The boundary is enforced by the compiler. An `Actor` cannot be made outside the core:
//!
//! ```compile_fail
//! use medconnect_core::Actor;
//! use medconnect_core::domain::{Role, UserId};
//! let forged = Actor { user_id: UserId::new(), role: Role::Admin, session_id: uuid::Uuid::nil(), patient_id: None };
//! ```
//!
//! and the database cannot be reached around the use cases, neither through the pool
//!
//! ```compile_fail
//! fn sneak(app: &medconnect_core::MedConnect) { let _ = app.pool(); }
//! ```
//!
//! nor through the repositories:
//!
//! ```compile_fail
//! use medconnect_core::store::medical;
//! ```

pub mod ai;
pub mod audit;
pub mod auth;
pub(crate) mod cache;
mod clock;
pub mod config;
pub mod domain;
pub mod error;
mod keys;
pub mod pagination;
pub mod services;
pub(crate) mod store;
#[cfg(feature = "test-support")]
pub mod test_support;

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::watch;

pub use audit::{AuditProblem, AuditRecord, AuditVerification, VerifyAudit};
pub use auth::{Actor, ClientAddress, TokenPair};
pub use cache::{CacheStatus, CacheTtl};
pub use config::{Config, SignInLimits};
pub use error::{Error, Result};
pub use keys::SecretKey;
pub use pagination::{Page, PageRequest};

/// The handle every adapter holds. Clones share one pool and one set of background tasks
/// (the audit writers and sealer), which stop when the last clone is dropped.
#[derive(Clone)]
pub struct MedConnect {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    interactions: Arc<ai::interactions::InteractionKb>,
    /// The shipped risk models, in `RiskKind::ALL` order; checked at start-up.
    risk_models: Vec<ai::risk::RiskModel>,
    tokens: auth::tokens::TokenIssuer,
    hasher: auth::password::PasswordHasher,
    throttle: auth::throttle::SignInThrottle,
    cursors: pagination::Cursors,
    audit_keys: audit::chain::ChainKeys,
    audit_writer: audit::writer::AuditWriter,
    cache: cache::Cache,
    clock: clock::Clock,
    /// How long a doctor keeps care after a consultation they accepted has ended.
    consultation_grace: chrono::Duration,
    /// Dropping it stops the background tasks (the sealer, the cache's subscriber).
    _stop_background: watch::Sender<bool>,
}

impl MedConnect {
    /// Connects to PostgreSQL, applies pending migrations and starts the background tasks.
    /// Must be called inside a tokio runtime.
    pub async fn connect(config: Config) -> Result<Self> {
        let pool = store::connect(&config.database_url, config.max_connections, config.acquire_timeout).await?;
        store::migrate(&pool).await?;
        Self::start(pool, &config)
    }

    fn start(pool: PgPool, config: &Config) -> Result<Self> {
        let tokens = auth::tokens::TokenIssuer::new(&config.signing_key, config.access_ttl, config.refresh_ttl);
        let hasher = auth::password::PasswordHasher::new(config.hash_workers, config.hash_queue)?;
        let interactions = ai::interactions::InteractionKb::shared()?;
        let risk_models =
            ai::risk::RiskKind::ALL.iter().map(|k| ai::risk::RiskModel::shipped(*k)).collect::<Result<Vec<_>>>()?;
        let audit_keys = audit::chain::ChainKeys::new(&config.audit_key);
        // The audit tasks have connections of their own, so that requests filling the main
        // pool never keep their own audit rows from being committed: one each writer lane
        // keeps, one for the sealer.
        let lanes = config.audit_lanes.clamp(1, audit::writer::MAX_LANES);
        let audit_pool = store::side_pool(&pool, lanes as u32 + 1);
        let audit_writer = audit::writer::AuditWriter::start(audit_pool.clone(), lanes);
        let (stop_background, stopped) = watch::channel(false);
        let cache = match &config.redis_url {
            _ if !config.cache_enabled => cache::Cache::off(config.cache_ttl.clone()),
            Some(url) => cache::Cache::shared(
                url,
                &config.cache_namespace,
                config.cache_ttl.clone(),
                cache::SharedLimits {
                    capacity: config.cache_capacity,
                    op_timeout: config.redis_timeout,
                    lease: config.cache_lease,
                    takes_lease: config.cache_lease_holder,
                },
                stopped.clone(),
            )?,
            None => cache::Cache::local(config.cache_ttl.clone(), config.cache_capacity),
        };
        tokio::spawn(audit::sealer::run(audit_pool, audit_keys.clone(), config.audit_seal_within, stopped));
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                interactions,
                risk_models,
                tokens,
                hasher,
                throttle: auth::throttle::SignInThrottle::new(&config.signing_key, config.sign_in.clone()),
                cursors: pagination::Cursors::new(&config.signing_key),
                audit_keys,
                audit_writer,
                cache,
                clock: clock::Clock::system(),
                consultation_grace: config.consultation_grace,
                _stop_background: stop_background,
            }),
        })
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// A pooled connection. Boxed, as every wait that may reach PostgreSQL or Redis
    /// (`acquire`'s future alone is 8.6 KB): a request's future holds what it awaits inline,
    /// even on a branch it does not take, and poem's layers copy the whole future each time
    /// they move it, several times a request. Unboxed, every operation's future was 9–13 KB.
    /// One allocation is nothing beside a round trip.
    pub(crate) async fn connection(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>> {
        Ok(Box::pin(self.pool().acquire()).await?)
    }

    /// A transaction on a pooled connection (boxed: see [`MedConnect::connection`]).
    pub(crate) async fn transaction(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        Ok(Box::pin(self.pool().begin()).await?)
    }

    pub(crate) fn tokens(&self) -> &auth::tokens::TokenIssuer {
        &self.inner.tokens
    }

    pub(crate) fn hasher(&self) -> &auth::password::PasswordHasher {
        &self.inner.hasher
    }

    pub(crate) fn throttle(&self) -> &auth::throttle::SignInThrottle {
        &self.inner.throttle
    }

    pub(crate) fn cursors(&self) -> &pagination::Cursors {
        &self.inner.cursors
    }

    pub(crate) fn audit_keys(&self) -> &audit::chain::ChainKeys {
        &self.inner.audit_keys
    }

    pub(crate) fn audit_writer(&self) -> &audit::writer::AuditWriter {
        &self.inner.audit_writer
    }

    pub(crate) fn cache(&self) -> &cache::Cache {
        &self.inner.cache
    }

    pub(crate) fn clock(&self) -> &clock::Clock {
        &self.inner.clock
    }

    pub(crate) fn consultation_grace(&self) -> chrono::Duration {
        self.inner.consultation_grace
    }

    /// Where sign-in counters live: Redis when configured, PostgreSQL otherwise.
    pub(crate) fn counters(&self) -> auth::throttle::Counters<'_> {
        auth::throttle::Counters { pool: self.pool(), redis: self.cache().redis() }
    }

    /// The drug-interaction knowledge base.
    pub fn interactions(&self) -> &ai::interactions::InteractionKb {
        &self.inner.interactions
    }

    /// The shipped model of a risk kind.
    pub fn risk_model(&self, kind: ai::risk::RiskKind) -> &ai::risk::RiskModel {
        let index = ai::risk::RiskKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        &self.inner.risk_models[index]
    }

    /// Readiness: the database answers (an error otherwise), and how the cache is doing
    /// (`degraded` is not down: requests go to PostgreSQL).
    pub async fn ready(&self) -> Result<CacheStatus> {
        sqlx::query("select 1").execute(self.pool()).await?;
        Ok(self.cache().status())
    }
}
