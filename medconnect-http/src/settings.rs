//! Settings of the HTTP adapter, from the environment (see `.env.example`).

use medconnect_core::{Error, Result};

use crate::client_address::TrustedProxies;

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// `MEDCONNECT_BIND`, default `127.0.0.1:8000`.
    pub bind: String,
    /// `MEDCONNECT_PUBLIC_URL`: the base URL clients use, shown as the spec's server. By
    /// default `/`, relative to wherever the spec was fetched, so Swagger UI works from any
    /// host name, behind a proxy or on a LAN address.
    pub public_url: String,
    /// `MEDCONNECT_MAX_BODY_BYTES`, default 1 MiB.
    pub max_body_bytes: usize,
    /// `MEDCONNECT_TRUSTED_PROXIES`: proxies whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: TrustedProxies,
    /// `MEDCONNECT_CORS_ORIGINS`: web origins (`https://app.example.org`, comma-separated) whose
    /// pages may call the API from a browser. Empty (the default): no CORS headers at all.
    pub cors_origins: Vec<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8000".into(),
            public_url: "/".into(),
            max_body_bytes: 1 << 20,
            trusted_proxies: TrustedProxies::default(),
            cors_origins: Vec::new(),
        }
    }
}

impl HttpSettings {
    pub fn from_env() -> Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut s = Self::default();
        if let Some(bind) = var("MEDCONNECT_BIND") {
            s.bind = bind;
        }
        if let Some(url) = var("MEDCONNECT_PUBLIC_URL") {
            s.public_url = url;
        }
        if let Some(max) = var("MEDCONNECT_MAX_BODY_BYTES") {
            s.max_body_bytes = max.parse().ok().filter(|n| (1024..=64 << 20).contains(n)).ok_or_else(|| {
                Error::invalid("MEDCONNECT_MAX_BODY_BYTES", "must be a number of bytes from 1024 to 67108864")
            })?;
        }
        if let Some(origins) = var("MEDCONNECT_CORS_ORIGINS") {
            s.cors_origins = origins
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect();
            let bad = |o: &String| match o.split_once("://") {
                Some(("http" | "https", host)) => host.is_empty() || host.contains('/'),
                _ => true,
            };
            if s.cors_origins.iter().any(bad) {
                return Err(Error::invalid(
                    "MEDCONNECT_CORS_ORIGINS",
                    "must list origins such as https://app.example.org, comma-separated",
                ));
            }
        }
        if let Some(proxies) = var("MEDCONNECT_TRUSTED_PROXIES") {
            s.trusted_proxies = TrustedProxies::parse(&proxies)?;
        }
        Ok(s)
    }
}
