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
use crate::keys::{MacKey, SecretKey};
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
    /// Counted in Redis (settled there too), or in PostgreSQL.
    in_redis: bool,
}

/// Where counters live: Redis when it is configured and answers, shared by every instance;
/// PostgreSQL otherwise (also shared).
#[derive(Clone, Copy)]
pub(crate) struct Counters<'a> {
    pub pool: &'a PgPool,
    pub redis: Option<&'a crate::cache::SharedCache>,
}

#[derive(Clone)]
pub(crate) struct SignInThrottle {
    key: MacKey,
    limits: SignInLimits,
}

impl SignInThrottle {
    pub fn new(secret: &SecretKey, limits: SignInLimits) -> Self {
        Self { key: secret.mac_key("medconnect sign-in counters v1"), limits }
    }

    /// Counters are stored under keyed hashes: no e-mail or address is written down.
    fn counter(&self, parts: &[&str]) -> Vec<u8> {
        let mut mac = self.key.start();
        for part in parts {
            mac.update(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().to_vec()
    }

    /// Takes a place for one sign-in attempt, or refuses with the time left in the window.
    pub async fn sign_in(&self, counters: Counters<'_>, email: &str, from: ClientAddress) -> Result<Ticket> {
        let bucket = from.bucket();
        let pair = self.counter(&["sign-in", email, &bucket]);
        let address = self.counter(&["sign-in from", &bucket]);
        let limits = [(pair.clone(), self.limits.per_account_and_address), (address.clone(), self.limits.per_address)];
        let in_redis = self.take(counters, &limits).await?;
        Ok(Ticket { reset: vec![pair], shared: vec![address], in_redis })
    }

    /// Takes a place for one self sign-up from this address, or refuses.
    pub async fn sign_up(&self, counters: Counters<'_>, from: ClientAddress) -> Result<Ticket> {
        let address = self.counter(&["sign-up from", &from.bucket()]);
        let in_redis = self.take(counters, &[(address.clone(), self.limits.sign_ups_per_address)]).await?;
        Ok(Ticket { reset: vec![], shared: vec![address], in_redis })
    }

    /// Counts the attempt (in Redis when it answers, in PostgreSQL otherwise) and refuses
    /// past a limit. Returns whether Redis counted it.
    async fn take(&self, counters: Counters<'_>, limits: &[(Vec<u8>, u32)]) -> Result<bool> {
        let keys: Vec<Vec<u8>> = limits.iter().map(|(k, _)| k.clone()).collect();
        let in_redis = match counters.redis {
            Some(redis) => redis.count(&keys.iter().map(hex::encode).collect::<Vec<_>>(), self.limits.window).await,
            None => None,
        };
        let (counted, used_redis): (Vec<(u32, Duration)>, bool) = match in_redis {
            Some(counts) => {
                (counts.into_iter().map(|(n, left)| (u32::try_from(n).unwrap_or(u32::MAX), left)).collect(), true)
            }
            None => {
                let rows = store::throttle::take(counters.pool, &keys, self.limits.window).await?;
                // Rows come back in key order; line them up with `keys`.
                let by_key = |k: &Vec<u8>| rows.iter().find(|r| &r.key == k);
                let counted = keys
                    .iter()
                    .filter_map(by_key)
                    .map(|r| {
                        let left = Duration::from_secs_f64(r.seconds_left.max(0.0));
                        (u32::try_from(r.attempts).unwrap_or(u32::MAX), left)
                    })
                    .collect();
                (counted, false)
            }
        };
        let mut wait: Option<Duration> = None;
        for ((_, limit), (attempts, left)) in limits.iter().zip(&counted) {
            if attempts > limit {
                wait = Some(wait.map_or(*left, |w| w.max(*left)));
            }
        }
        match wait {
            None => Ok(used_redis),
            Some(left) => {
                Err(Error::RateLimited { retry_after: Duration::from_secs(left.as_secs_f64().ceil().max(1.0) as u64) })
            }
        }
    }

    /// The attempt was never checked (the hashers were busy): it does not count.
    pub async fn not_checked(&self, counters: Counters<'_>, ticket: Ticket) -> Result<()> {
        let all: Vec<Vec<u8>> = ticket.reset.iter().chain(&ticket.shared).cloned().collect();
        Self::settle(counters, ticket.in_redis, &[], &all).await
    }

    /// The attempt succeeded: the (e-mail, address) counter starts again, as OWASP advises
    /// after a successful sign-in, and the address gets its place back, so that successful
    /// sign-ins from a shared address (an office, a NAT) never add up to a limit.
    pub async fn succeeded(&self, counters: Counters<'_>, ticket: Ticket) -> Result<()> {
        Self::settle(counters, ticket.in_redis, &ticket.reset, &ticket.shared).await
    }

    async fn settle(counters: Counters<'_>, in_redis: bool, reset: &[Vec<u8>], give_back: &[Vec<u8>]) -> Result<()> {
        if let (true, Some(redis)) = (in_redis, counters.redis) {
            let hex_keys = |keys: &[Vec<u8>]| keys.iter().map(hex::encode).collect::<Vec<_>>();
            // A settle Redis cannot take leaves one attempt counted: the safe side.
            redis.settle(&hex_keys(reset), &hex_keys(give_back)).await;
            return Ok(());
        }
        store::throttle::settle(counters.pool, reset, give_back).await
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
