//! Secret keys from the configuration: the token-signing key and the audit key. Both
//! must be long and random; from each, keys for narrower purposes are derived with
//! HMAC-SHA256, so one secret never serves two uses directly.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::error::{Error, Result};

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A secret key read from an environment variable. Never printed: `Debug` shows no bytes.
#[derive(Clone)]
pub struct SecretKey(SecretString);

impl SecretKey {
    pub const MIN_BYTES: usize = 32;

    /// Accepts only keys of at least 32 bytes that are not repetitive or a placeholder;
    /// `variable` names the setting in the error.
    pub fn parse(variable: &'static str, raw: &str) -> Result<Self> {
        if let Some(weakness) = weakness(raw) {
            return Err(Error::invalid(variable, weakness));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    /// Accepts any non-empty key, for development mode only; says why the key is weak.
    pub fn parse_weak(variable: &'static str, raw: &str) -> Result<(Self, Option<&'static str>)> {
        if raw.is_empty() {
            return Err(Error::invalid(variable, "must not be empty"));
        }
        Ok((Self(SecretString::from(raw.to_owned())), weakness(raw)))
    }

    /// A fresh random key (development and tests).
    pub fn random() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub(crate) fn expose(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }

    /// A key for one purpose: HMAC-SHA256(key, purpose).
    pub(crate) fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = keyed(self.expose());
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The MAC key for one purpose, derived as [`SecretKey::derive`] does.
    pub(crate) fn mac_key(&self, purpose: &str) -> MacKey {
        MacKey(keyed(&self.derive(purpose)))
    }
}

/// An HMAC-SHA256 key with its two padded key blocks already hashed. Each MAC starts from
/// a copy: keying anew hashed those blocks every time, two of the four SHA-256 blocks of a
/// short message such as an audit row.
#[derive(Clone)]
pub(crate) struct MacKey(HmacSha256);

impl MacKey {
    /// A MAC under this key, ready for its message.
    pub fn start(&self) -> HmacSha256 {
        self.0.clone()
    }
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(..)")
    }
}

/// An HMAC-SHA256 instance under `key` (HMAC takes keys of any length).
pub(crate) fn keyed(key: &[u8]) -> HmacSha256 {
    match <HmacSha256 as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

fn weakness(raw: &str) -> Option<&'static str> {
    let bytes = raw.as_bytes();
    if bytes.len() < SecretKey::MIN_BYTES {
        return Some("must be at least 32 bytes");
    }
    let distinct = bytes.iter().collect::<std::collections::HashSet<_>>().len();
    let lower = raw.to_ascii_lowercase();
    let placeholder = ["changeme", "change-me", "secret", "password", "example"].iter().any(|w| lower.contains(w));
    (distinct < 12 || placeholder).then_some("is too weak: use 32 or more random bytes")
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_keys_are_refused_and_named() {
        let err = SecretKey::parse("MEDCONNECT_JWT_SECRET", "short").expect_err("short");
        assert!(err.to_string().contains("MEDCONNECT_JWT_SECRET"));
        assert!(SecretKey::parse("K", &"a".repeat(64)).is_err());
        assert!(SecretKey::parse("K", "changeme-changeme-changeme-changeme-1234").is_err());
        assert!(SecretKey::parse("K", "q8Zr2-Lm4Xp9Wt7Vb3Nc6Hd1Jf5Kg0Ys").is_ok());
    }

    #[test]
    fn development_mode_takes_a_weak_key_and_says_why() {
        let (_, why) = SecretKey::parse_weak("K", "dev").expect("accepted");
        assert_eq!(why, Some("must be at least 32 bytes"));
        assert!(SecretKey::parse_weak("K", "").is_err());
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_never_print() {
        let key = SecretKey::random();
        assert_ne!(key.derive("cursor"), key.derive("audit"));
        assert_eq!(key.derive("cursor"), key.derive("cursor"));
        assert_eq!(format!("{key:?}"), "SecretKey(..)");
    }

    #[test]
    fn a_mac_key_gives_the_mac_of_its_derived_key_every_time() {
        let key = SecretKey::random();
        let mac_key = key.mac_key("cursor");
        let fresh = |message: &[u8]| {
            let mut mac = keyed(&key.derive("cursor"));
            mac.update(message);
            mac.finalize().into_bytes()
        };
        for message in [&b""[..], b"one", b"a longer message than one SHA-256 block of sixty-four bytes, to be sure"] {
            let mut mac = mac_key.start();
            mac.update(message);
            assert_eq!(mac.finalize().into_bytes(), fresh(message));
        }
        let mut other = key.mac_key("audit").start();
        other.update(b"one");
        assert_ne!(other.finalize().into_bytes(), fresh(b"one"));
        assert_eq!(format!("{mac_key:?}"), "MacKey(..)");
    }
}
