//! Configuration of the core, read from the environment (see `.env.example`).

use chrono::Duration;

use crate::auth::SigningKey;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub max_connections: u32,
    pub signing_key: SigningKey,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// Failed sign-ins per e-mail within `login_window` before sign-in is refused (429).
    pub login_max_failures: i64,
    pub login_window: Duration,
}

impl Config {
    /// Defaults around a database URL and a signing key.
    pub fn new(database_url: impl Into<String>, signing_key: SigningKey) -> Self {
        Self {
            database_url: database_url.into(),
            max_connections: 10,
            signing_key,
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
            login_max_failures: 10,
            login_window: Duration::minutes(15),
        }
    }

    /// Reads `DATABASE_URL`, `MEDCONNECT_JWT_SECRET`, `MEDCONNECT_DEV`,
    /// `MEDCONNECT_ACCESS_TTL_SECS`, `MEDCONNECT_REFRESH_TTL_DAYS`, `MEDCONNECT_LOGIN_MAX_FAILURES` and
    /// `MEDCONNECT_DB_MAX_CONNECTIONS`.
    ///
    /// Outside dev mode a missing or weak signing key is an error; in dev mode a missing
    /// key is replaced by a random one (tokens then die with the process).
    pub fn from_env() -> Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let database_url = var("DATABASE_URL").ok_or_else(|| Error::invalid("DATABASE_URL", "must be set"))?;
        let dev = var("MEDCONNECT_DEV").is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
        let signing_key = match var("MEDCONNECT_JWT_SECRET") {
            Some(raw) => SigningKey::parse(&raw)?,
            None if dev => SigningKey::random(),
            None => {
                return Err(Error::invalid("MEDCONNECT_JWT_SECRET", "must be set outside dev mode (MEDCONNECT_DEV=1)"));
            }
        };
        let number = |name: &'static str, default: i64, range: std::ops::RangeInclusive<i64>| -> Result<i64> {
            let value = match var(name) {
                None => default,
                Some(v) => v.trim().parse().map_err(|_| Error::invalid(name, "must be a whole number"))?,
            };
            if !range.contains(&value) {
                return Err(Error::invalid(name, format!("must be between {} and {}", range.start(), range.end())));
            }
            Ok(value)
        };
        let mut config = Self::new(database_url, signing_key);
        config.access_ttl = Duration::seconds(number("MEDCONNECT_ACCESS_TTL_SECS", 900, 30..=86_400)?);
        config.refresh_ttl = Duration::days(number("MEDCONNECT_REFRESH_TTL_DAYS", 30, 1..=365)?);
        config.login_max_failures = number("MEDCONNECT_LOGIN_MAX_FAILURES", 10, 1..=1000)?;
        config.max_connections = u32::try_from(number("MEDCONNECT_DB_MAX_CONNECTIONS", 10, 1..=500)?).unwrap_or(10);
        Ok(config)
    }
}
