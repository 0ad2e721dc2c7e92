//! MedConnect core: the clinical-data library behind the HTTP server and the Python bindings.
//!
//! Everything goes through [`MedConnect`], a cheap-to-clone handle on the database pool,
//! the token issuer and the password hasher. Every use case takes the [`auth::Actor`]
//! first and decides access itself, so no adapter can forget to authorise:
//!
//! ```no_run
//! # async fn demo() -> medconnect_core::Result<()> {
//! use medconnect_core::{Config, MedConnect};
//! let app = MedConnect::connect(Config::from_env()?).await?;
//! let tokens = app.login("dr.house@example.org", "a long passphrase").await?;
//! let actor = app.authenticate(&tokens.access_token).await?;
//! let me = app.me(&actor).await?;
//! # Ok(()) }
//! ```

pub mod ai;
pub mod auth;
pub mod config;
pub mod domain;
pub mod error;
pub mod pagination;
pub mod services;
pub mod store;

use std::sync::Arc;

use sqlx::PgPool;

pub use auth::{Actor, TokenPair};
pub use config::Config;
pub use error::{Error, Result};
pub use pagination::{Page, PageRequest};

/// The handle every adapter holds. Clones share one pool.
#[derive(Clone)]
pub struct MedConnect {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    interactions: Arc<ai::interactions::InteractionKb>,
    /// The shipped risk models, in `RiskKind::ALL` order; checked at start-up.
    risk_models: Vec<ai::risk::RiskModel>,
    tokens: auth::TokenIssuer,
    hasher: auth::PasswordHasher,
    login_max_failures: i64,
    login_window: chrono::Duration,
}

impl MedConnect {
    /// Connects to PostgreSQL and applies pending migrations.
    pub async fn connect(config: Config) -> Result<Self> {
        let pool = store::connect(&config.database_url, config.max_connections).await?;
        store::migrate(&pool).await?;
        Self::with_pool(pool, &config)
    }

    /// Wraps an existing pool whose schema is already migrated.
    pub fn with_pool(pool: PgPool, config: &Config) -> Result<Self> {
        let tokens = auth::TokenIssuer::new(&config.signing_key, config.access_ttl, config.refresh_ttl);
        let hasher = auth::PasswordHasher::new()?;
        let interactions = ai::interactions::InteractionKb::shared()?;
        let risk_models =
            ai::risk::RiskKind::ALL.iter().map(|k| ai::risk::RiskModel::shipped(*k)).collect::<Result<Vec<_>>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                interactions,
                risk_models,
                tokens,
                hasher,
                login_max_failures: config.login_max_failures,
                login_window: config.login_window,
            }),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    pub(crate) fn tokens(&self) -> &auth::TokenIssuer {
        &self.inner.tokens
    }

    /// The drug-interaction knowledge base.
    pub fn interactions(&self) -> &ai::interactions::InteractionKb {
        &self.inner.interactions
    }

    /// (failures allowed, window) for sign-in throttling.
    pub(crate) fn login_limits(&self) -> (i64, chrono::Duration) {
        (self.inner.login_max_failures, self.inner.login_window)
    }

    /// The shipped model of a risk kind.
    pub fn risk_model(&self, kind: ai::risk::RiskKind) -> &ai::risk::RiskModel {
        let index = ai::risk::RiskKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        &self.inner.risk_models[index]
    }

    pub(crate) fn hasher(&self) -> &auth::PasswordHasher {
        &self.inner.hasher
    }

    /// Readiness: the database answers.
    pub async fn ready(&self) -> Result<()> {
        sqlx::query("select 1").execute(self.pool()).await?;
        Ok(())
    }
}
