//! argon2id password hashing, always off the async threads.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

use crate::error::{Error, Result};

/// Hashes and verifies passwords with argon2id (the crate's default parameters).
#[derive(Clone)]
pub struct PasswordHasher {
    /// A hash of a random password, verified against when the e-mail is unknown so
    /// that unknown accounts and wrong passwords take the same time.
    decoy: Arc<str>,
}

impl PasswordHasher {
    pub fn new() -> Result<Self> {
        let random: [u8; 24] = rand::random();
        let decoy = hash_blocking(&random)?;
        Ok(Self { decoy: decoy.into() })
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.as_bytes().to_vec();
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await.map_err(Error::internal)?
    }

    /// Verifies `password` against `stored`, or against the decoy when there is no stored hash.
    /// Returns true only for a real hash that matches.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool> {
        let is_real = stored.is_some();
        let hash = stored.map(str::to_owned).unwrap_or_else(|| self.decoy.to_string());
        let password = password.as_bytes().to_vec();
        let matches = tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash).map_err(Error::internal)?;
            Ok::<_, Error>(Argon2::default().verify_password(&password, &parsed).is_ok())
        })
        .await
        .map_err(Error::internal)??;
        Ok(is_real && matches)
    }
}

fn hash_blocking(password: &[u8]) -> Result<String> {
    Argon2::default().hash_password(password).map(|h| h.to_string()).map_err(Error::internal)
}
