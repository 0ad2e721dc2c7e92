//! The time the rules run on. Time-limited care ends by the clock, so tests move the clock
//! forward instead of sleeping: `Clock::system()` is the wall clock plus an offset that only
//! tests (`test_support::advance_clock`) change.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

#[derive(Clone, Default)]
pub(crate) struct Clock {
    /// Milliseconds added to the wall clock.
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, to the microsecond (as PostgreSQL stores it, so a stored time compares equal).
    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed));
        DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }

    /// Moves the clock forward (tests only).
    #[cfg_attr(not(feature = "test-support"), allow(dead_code))]
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward_by_that_much() {
        let clock = Clock::system();
        let before = clock.now();
        clock.advance(chrono::Duration::days(8));
        let after = clock.now();
        assert!(after - before >= chrono::Duration::days(8));
        assert!(after - before < chrono::Duration::days(8) + chrono::Duration::seconds(5));
    }
}
