//! Kraken's per-key rate-limit model: every call adds to a counter that decays with time; a
//! call that would push it over the maximum is refused with `EAPI:Rate limit exceeded`.

use std::time::Instant;

/// The counter's maximum, in calls (Kraken's tiers use 15 to 20).
pub(crate) const MAX_CALLS: u64 = 20;
/// How many calls the counter forgets per second.
pub(crate) const DECAY_CALLS_PER_SECOND: u64 = 1;

/// Counted in thousandths of a call so decay is smooth without floats.
const MILLI: u64 = 1000;

#[derive(Debug, Default)]
pub(crate) struct RateCounter {
    level: u64,
    at: Option<Instant>,
}

impl RateCounter {
    fn level_at(&self, now: Instant) -> u64 {
        let Some(at) = self.at else {
            return 0;
        };
        let elapsed_ms =
            u64::try_from(now.saturating_duration_since(at).as_millis()).unwrap_or(u64::MAX);
        self.level
            .saturating_sub(elapsed_ms.saturating_mul(DECAY_CALLS_PER_SECOND))
    }

    /// Whether one more call fits at `now`. Checking changes nothing.
    pub(crate) fn admits(&self, now: Instant) -> bool {
        self.level_at(now) + MILLI <= MAX_CALLS * MILLI
    }

    /// Counts one call.
    pub(crate) fn charge(&mut self, now: Instant) {
        self.level = self.level_at(now) + MILLI;
        self.at = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_counter_fills_and_decays() {
        let start = Instant::now();
        let mut counter = RateCounter::default();
        for _ in 0..MAX_CALLS {
            assert!(counter.admits(start));
            counter.charge(start);
        }
        assert!(!counter.admits(start));
        assert!(!counter.admits(start + Duration::from_millis(999)));
        assert!(counter.admits(start + Duration::from_secs(1)));
    }
}
