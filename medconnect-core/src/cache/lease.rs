//! When an instance may answer from its own memory without asking Redis.
//!
//! An instance holds a **lease** while Redis lists it among the instances that confirm every
//! invalidation. A write's bump waits until every listed instance has confirmed it (or has
//! been struck off the list and its lease has run out), so an instance holding a lease has
//! applied every bump acknowledged so far, and its in-process entries are current without a
//! round trip. The lease is renewed a few times per period; an instance that cannot renew
//! it (Redis down, subscription lost, struck off) stops answering from memory when it ends,
//! by its own clock, a tenth of the period before Redis's.
//!
//! **Seen counters** keep a read that raced an invalidation from putting an old value back
//! into memory: a request notes the counter of its scope when it starts, and an entry is
//! kept only if no invalidation of that scope (or of everything) arrived meanwhile.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Scopes share this many counters: a bump of one scope makes reads of the others that
/// share its counter skip keeping their entry once, nothing worse.
const STRIPES: usize = 256;

pub(super) struct Freshness {
    base: Instant,
    /// Nanoseconds after `base` until which the lease holds; 0: none.
    until: AtomicU64,
    /// Moves when everything held is forgotten (a lease lost or newly taken, the
    /// subscription dropped).
    everything: AtomicU64,
    stripes: Box<[AtomicU64]>,
}

impl Freshness {
    pub fn new() -> Self {
        Self {
            base: Instant::now(),
            until: AtomicU64::new(0),
            everything: AtomicU64::new(0),
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn stripe(&self, scope_key: &str) -> &AtomicU64 {
        // FNV-1a: stable, and enough to spread scope keys.
        let hash =
            scope_key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        &self.stripes[(hash % STRIPES as u64) as usize]
    }

    /// What this instance has received of the scope's invalidations so far.
    pub fn seen(&self, scope_key: &str) -> u64 {
        self.everything.load(Ordering::Acquire).wrapping_add(self.stripe(scope_key).load(Ordering::Acquire))
    }

    /// An invalidation of the scope arrived (or this instance bumped it).
    pub fn invalidated(&self, scope_key: &str) {
        self.stripe(scope_key).fetch_add(1, Ordering::AcqRel);
    }

    /// Everything held is about to be forgotten: reads in flight must not keep theirs.
    pub fn forget_all(&self) {
        self.everything.fetch_add(1, Ordering::AcqRel);
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX).max(1)
    }

    /// Whether the lease holds now.
    pub fn leased(&self) -> bool {
        self.nanos(Instant::now()) < self.until.load(Ordering::Acquire)
    }

    /// Redis renewed the lease on a request sent at `sent`: it holds for nine tenths of
    /// `lease` from then (Redis counts the whole period from later than `sent`).
    pub fn renewed(&self, sent: Instant, lease: Duration) {
        self.until.store(self.nanos(sent + lease * 9 / 10), Ordering::Release);
    }

    /// The lease is gone (struck off, subscription lost, stopping).
    pub fn lost(&self) {
        self.until.store(0, Ordering::Release);
        self.forget_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_an_invalidation_of_its_scope_or_of_everything_is_noticed() {
        let f = Freshness::new();
        let before = f.seen("p:1");
        assert_eq!(f.seen("p:1"), before, "nothing arrived");
        f.invalidated("p:1");
        assert_ne!(f.seen("p:1"), before);
        let before = f.seen("p:1");
        f.forget_all();
        assert_ne!(f.seen("p:1"), before);
    }

    #[test]
    fn the_lease_holds_from_its_renewal_for_nine_tenths_of_the_period_and_ends_when_lost() {
        let f = Freshness::new();
        assert!(!f.leased(), "no lease at first");
        f.renewed(Instant::now(), Duration::from_secs(60));
        assert!(f.leased());
        f.lost();
        assert!(!f.leased());
        f.renewed(Instant::now() - Duration::from_secs(10), Duration::from_secs(10));
        assert!(!f.leased(), "a renewal sent a whole period ago has lapsed");
    }
}
