//! Sign-in throttling, shared by every instance through PostgreSQL.
//!
//! Following the OWASP Authentication Cheat Sheet ("Account lockout"), failures are
//! counted per (e-mail, client address) and per client address, never per e-mail alone:
//! someone who guesses at an account from one place slows themself down, not the owner
//! signing in from another. Each attempt takes its place in the counters *before* the
//! password is checked, in one atomic upsert, so a burst of N parallel guesses gets at most
//! the limit checked. A success gives its places back; so does an attempt that could not
//! be checked (the hashers were busy).

use std::net::IpAddr;
use std::time::Duration;

use hmac::Mac;
use sqlx::PgPool;

use crate::config::SignInLimits;
use crate::error::{Error, Result};
use crate::keys::{SecretKey, keyed};
use crate::store;

/// Where a request comes from, as far as the adapter can tell. IPv6 addresses are
/// counted per /64, the block one subscriber usually holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(Option<IpAddr>);

impl ClientAddress {
    pub fn ip(ip: IpAddr) -> Self {
        Self(Some(ip))
    }

    /// A caller in the same process (the Python bindings, the command line): one shared bucket.
    pub fn local() -> Self {
        Self(None)
    }

    fn bucket(&self) -> String {
        match self.0 {
            None => "local".to_owned(),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        }
    }
}

/// The counters one attempt took: `reset` starts again after a success (the (e-mail,
/// address) pair), `shared` is only given back (the address, which others share).
pub(crate) struct Ticket {
    reset: Vec<Vec<u8>>,
    shared: Vec<Vec<u8>>,
}

#[derive(Clone)]
pub(crate) struct SignInThrottle {
    key: [u8; 32],
    limits: SignInLimits,
}

impl SignInThrottle {
    pub fn new(secret: &SecretKey, limits: SignInLimits) -> Self {
        Self { key: secret.derive("medconnect sign-in counters v1"), limits }
    }

    /// Counters are stored under keyed hashes: no e-mail or address is written down.
    fn counter(&self, parts: &[&str]) -> Vec<u8> {
        let mut mac = keyed(&self.key);
        for part in parts {
            mac.update(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().to_vec()
    }

    /// Takes a place for one sign-in attempt, or refuses with the time left in the window.
    pub async fn sign_in(&self, pool: &PgPool, email: &str, from: ClientAddress) -> Result<Ticket> {
        let bucket = from.bucket();
        let pair = self.counter(&["sign-in", email, &bucket]);
        let address = self.counter(&["sign-in from", &bucket]);
        let limits = [(pair.clone(), self.limits.per_account_and_address), (address.clone(), self.limits.per_address)];
        self.take(pool, &limits).await?;
        Ok(Ticket { reset: vec![pair], shared: vec![address] })
    }

    /// Takes a place for one self sign-up from this address, or refuses.
    pub async fn sign_up(&self, pool: &PgPool, from: ClientAddress) -> Result<Ticket> {
        let address = self.counter(&["sign-up from", &from.bucket()]);
        self.take(pool, &[(address.clone(), self.limits.sign_ups_per_address)]).await?;
        Ok(Ticket { reset: vec![], shared: vec![address] })
    }

    async fn take(&self, pool: &PgPool, limits: &[(Vec<u8>, u32)]) -> Result<()> {
        let keys: Vec<Vec<u8>> = limits.iter().map(|(k, _)| k.clone()).collect();
        let counted = store::throttle::take(pool, &keys, self.limits.window).await?;
        let mut wait: Option<f64> = None;
        for c in &counted {
            let limit = limits.iter().find(|(k, _)| *k == c.key).map_or(0, |(_, l)| *l);
            if u32::try_from(c.attempts).unwrap_or(u32::MAX) > limit {
                wait = Some(wait.map_or(c.seconds_left, |w| w.max(c.seconds_left)));
            }
        }
        match wait {
            None => Ok(()),
            Some(seconds) => {
                Err(Error::RateLimited { retry_after: Duration::from_secs(seconds.ceil().max(1.0) as u64) })
            }
        }
    }

    /// The attempt was never checked (the hashers were busy): it does not count.
    pub async fn not_checked(&self, pool: &PgPool, ticket: Ticket) -> Result<()> {
        let all: Vec<Vec<u8>> = ticket.reset.into_iter().chain(ticket.shared).collect();
        store::throttle::settle(pool, &[], &all).await
    }

    /// The attempt succeeded: the (e-mail, address) counter starts again, as OWASP advises
    /// after a successful sign-in, and the address gets its place back, so that successful
    /// sign-ins from a shared address (an office, a NAT) never add up to a limit.
    pub async fn succeeded(&self, pool: &PgPool, ticket: Ticket) -> Result<()> {
        store::throttle::settle(pool, &ticket.reset, &ticket.shared).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_share_a_bucket_per_64_and_mapped_ipv4_is_ipv4() {
        let a = ClientAddress::ip("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        let b = ClientAddress::ip("2001:db8:1:2:bbbb::9".parse().expect("ip"));
        let c = ClientAddress::ip("2001:db8:1:3::1".parse().expect("ip"));
        assert_eq!(a.bucket(), b.bucket());
        assert_ne!(a.bucket(), c.bucket());
        let mapped = ClientAddress::ip("::ffff:192.0.2.7".parse().expect("ip"));
        assert_eq!(mapped.bucket(), "192.0.2.7");
        assert_eq!(ClientAddress::local().bucket(), "local");
    }

    #[test]
    fn counters_are_keyed_hashes_that_separate_their_parts() {
        let throttle = SignInThrottle::new(&SecretKey::random(), SignInLimits::default());
        let k = throttle.counter(&["sign-in", "a@example.org", "127.0.0.1"]);
        assert_eq!(k.len(), 32);
        assert_ne!(k, throttle.counter(&["sign-in", "a@example.org1", "27.0.0.1"]));
        let other = SignInThrottle::new(&SecretKey::random(), SignInLimits::default());
        assert_ne!(k, other.counter(&["sign-in", "a@example.org", "127.0.0.1"]));
    }
}
