//! Rate limits and lockouts per key, modelled on Kraken's Spot REST guides (Prime documents no
//! limits of its own): a call counter that decays with time and refuses calls over its maximum
//! with `EAPI:Rate limit exceeded`, where refused calls count too; and a count of refused calls
//! that locks the key out with `EGeneral:Temporary lockout` once it reaches a threshold.

use std::time::{Duration, Instant};

use prime_core::ErrorCode;

/// The rate-limit and lockout model of [`MockBuilder::rate_limits`](crate::MockBuilder::rate_limits).
///
/// Modelled on Kraken's Spot REST rate-limit guide
/// (<https://docs.kraken.com/exchange/guides/rest/ratelimits>) and Kraken support's "API error
/// messages" article
/// (<https://support.kraken.com/hc/en-us/articles/360001491786-API-Error-Codes>); Kraken's
/// Prime pages document no limits, so every number here is the Spot guide's or the
/// simulator's own choice, as each field says.
///
/// - Every call naming a live account key raises that key's counter by one; the counter
///   forgets one call per [`RateLimits::decay`]. A call that takes it over
///   [`RateLimits::max_calls`] is refused with `EAPI:Rate limit exceeded` (guide). Refused
///   calls count too ([`RateLimits::refused_calls_count`], support: "that error still counts
///   against your API limits"), so calls made while limited keep the limit in force longer,
///   as the guide warns.
/// - Every refused call (any error, the rate limit included) raises a second counter that
///   decays the same way; when it reaches [`RateLimits::lockout_after`] the key is locked out
///   for [`RateLimits::lockout`]: every call is answered `EGeneral:Temporary lockout` (support:
///   failed calls "may result in a temporary lockout"). With
///   [`RateLimits::prolong_lockout`] each call made while locked out starts the lockout over.
///
/// The defaults are the guide's Intermediate/Pro maximum (20) with the Pro decay (one call per
/// second), a lockout after 10 refused calls (the threshold is undocumented) lasting 15 minutes
/// (support's figure; the errors guide says "a few minutes"). Tests use short durations:
///
/// ```
/// use std::time::Duration;
/// use prime_mock::{MockServer, RateLimits};
///
/// let limits = RateLimits::default()
///     .max_calls(5)
///     .decay(Duration::from_millis(50))
///     .lockout_after(3)
///     .lockout(Duration::from_millis(300));
/// let server = MockServer::builder().rate_limits(limits).start()?;
/// assert_eq!(server.state()["rate_limits"]["max_calls"], 5);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// The counter's maximum, in calls (guide: 15 Starter, 20 Intermediate and Pro).
    pub max_calls: u32,
    /// How long the counter takes to forget one call (guide: 3 s Starter, 2 s Intermediate,
    /// 1 s Pro).
    pub decay: Duration,
    /// Whether refused calls raise the counter too (support: they do). `false` counts only
    /// executed calls.
    pub refused_calls_count: bool,
    /// How many refused calls (decaying like the counter) lock the key out; `0` never locks
    /// out. Undocumented: Kraken names no number.
    pub lockout_after: u32,
    /// How long a lockout lasts (support: about 15 minutes; errors guide: "a few minutes").
    pub lockout: Duration,
    /// Whether a call made during a lockout starts it over. Undocumented for lockouts; the
    /// guide says it of rate limits.
    pub prolong_lockout: bool,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            max_calls: 20,
            decay: Duration::from_secs(1),
            refused_calls_count: true,
            lockout_after: 10,
            lockout: Duration::from_secs(15 * 60),
            prolong_lockout: true,
        }
    }
}

impl RateLimits {
    /// Sets [`RateLimits::max_calls`] (at least 1).
    #[must_use]
    pub fn max_calls(mut self, max_calls: u32) -> Self {
        self.max_calls = max_calls.max(1);
        self
    }

    /// Sets [`RateLimits::decay`] (at least 1 ms).
    #[must_use]
    pub fn decay(mut self, per_call: Duration) -> Self {
        self.decay = per_call.max(Duration::from_millis(1));
        self
    }

    /// Sets [`RateLimits::refused_calls_count`].
    #[must_use]
    pub fn refused_calls_count(mut self, on: bool) -> Self {
        self.refused_calls_count = on;
        self
    }

    /// Sets [`RateLimits::lockout_after`] (`0`: never lock out).
    #[must_use]
    pub fn lockout_after(mut self, refused_calls: u32) -> Self {
        self.lockout_after = refused_calls;
        self
    }

    /// Sets [`RateLimits::lockout`].
    #[must_use]
    pub fn lockout(mut self, duration: Duration) -> Self {
        self.lockout = duration;
        self
    }

    /// Sets [`RateLimits::prolong_lockout`].
    #[must_use]
    pub fn prolong_lockout(mut self, on: bool) -> Self {
        self.prolong_lockout = on;
        self
    }

    /// The model as JSON (`GET /__mock/state`'s `rate_limits`).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "max_calls": self.max_calls,
            "decay_ms": duration_ms(self.decay),
            "refused_calls_count": self.refused_calls_count,
            "lockout_after": self.lockout_after,
            "lockout_ms": duration_ms(self.lockout),
            "prolong_lockout": self.prolong_lockout,
        })
    }
}

/// `now + duration`, or as far as an `Instant` goes for a duration too long to add.
fn later(now: Instant, duration: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(duration)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Counted in thousandths of a call so decay is smooth without floats.
const MILLI: u128 = 1000;

/// A counter that forgets one unit per `decay`.
#[derive(Debug, Default, Clone, Copy)]
struct Bucket {
    level: u128,
    at: Option<Instant>,
}

impl Bucket {
    fn level_at(&self, now: Instant, decay: Duration) -> u128 {
        let Some(at) = self.at else {
            return 0;
        };
        let elapsed = now.saturating_duration_since(at).as_nanos();
        let forgotten = elapsed.saturating_mul(MILLI) / decay.as_nanos().max(1);
        self.level.saturating_sub(forgotten)
    }

    /// Whole units held at `now`, rounded up.
    fn units_at(&self, now: Instant, decay: Duration) -> u128 {
        self.level_at(now, decay).div_ceil(MILLI)
    }

    fn add_one(&mut self, now: Instant, decay: Duration) {
        self.level = self.level_at(now, decay).saturating_add(MILLI);
        self.at = Some(now);
    }

    fn clear(&mut self) {
        *self = Self::default();
    }
}

/// One key's counters under a [`RateLimits`] model.
#[derive(Debug, Default)]
pub(crate) struct KeyLimits {
    calls: Bucket,
    refused: Bucket,
    locked_until: Option<Instant>,
    /// Calls answered `EAPI:Rate limit exceeded`.
    rate_limited: u64,
    /// Calls answered `EGeneral:Temporary lockout`.
    locked_out: u64,
    /// How many times the key was locked out.
    lockouts: u64,
}

impl KeyLimits {
    /// A call naming this key arrives at `now`: `Err` with the refusal if the key is locked out
    /// or over its limit. With `refused_calls_count` the call is counted here, whatever comes
    /// of it; otherwise [`KeyLimits::executed`] counts it.
    pub(crate) fn arrive(&mut self, model: &RateLimits, now: Instant) -> Result<(), ErrorCode> {
        if let Some(until) = self.locked_until {
            if now < until {
                self.locked_out += 1;
                if model.prolong_lockout {
                    self.locked_until = Some(later(now, model.lockout));
                }
                return Err(ErrorCode::TemporaryLockout);
            }
            self.locked_until = None;
        }
        let max = u128::from(model.max_calls);
        let over = if model.refused_calls_count {
            self.calls.add_one(now, model.decay);
            self.calls.level_at(now, model.decay) > max * MILLI
        } else {
            self.calls.level_at(now, model.decay) + MILLI > max * MILLI
        };
        if over {
            self.rate_limited += 1;
            return Err(ErrorCode::RateLimitExceeded);
        }
        Ok(())
    }

    /// The call was executed: counted now if refused calls do not count.
    pub(crate) fn executed(&mut self, model: &RateLimits, now: Instant) {
        if !model.refused_calls_count {
            self.calls.add_one(now, model.decay);
        }
    }

    /// The call was refused (for any reason but a lockout): one more towards a lockout.
    pub(crate) fn refused(&mut self, model: &RateLimits, now: Instant) {
        if model.lockout_after == 0 {
            return;
        }
        self.refused.add_one(now, model.decay);
        if self.refused.units_at(now, model.decay) >= u128::from(model.lockout_after) {
            self.locked_until = Some(later(now, model.lockout));
            self.lockouts += 1;
            self.refused.clear();
        }
    }

    /// The counters as JSON (`GET /__mock/state`, per key).
    pub(crate) fn to_json(&self, model: &RateLimits, now: Instant) -> serde_json::Value {
        let locked_for = self
            .locked_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        serde_json::json!({
            "calls": u64::try_from(self.calls.units_at(now, model.decay)).unwrap_or(u64::MAX),
            "refused": u64::try_from(self.refused.units_at(now, model.decay)).unwrap_or(u64::MAX),
            "locked_out_for_ms": duration_ms(locked_for),
            "rate_limited_answers": self.rate_limited,
            "lockout_answers": self.locked_out,
            "lockouts": self.lockouts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> RateLimits {
        RateLimits::default()
            .max_calls(5)
            .decay(Duration::from_secs(1))
            .lockout_after(0)
    }

    #[test]
    fn the_counter_fills_and_decays() {
        let start = Instant::now();
        let model = model().refused_calls_count(false);
        let mut key = KeyLimits::default();
        for _ in 0..5 {
            assert_eq!(key.arrive(&model, start), Ok(()));
            key.executed(&model, start);
        }
        assert_eq!(key.arrive(&model, start), Err(ErrorCode::RateLimitExceeded));
        let almost = start + Duration::from_millis(999);
        assert_eq!(
            key.arrive(&model, almost),
            Err(ErrorCode::RateLimitExceeded)
        );
        assert_eq!(key.arrive(&model, start + Duration::from_secs(1)), Ok(()));
    }

    #[test]
    fn refused_calls_count_so_calling_while_limited_prolongs_the_limit() {
        let start = Instant::now();
        let model = model();
        let patient = {
            let mut key = KeyLimits::default();
            for _ in 0..6 {
                let _ = key.arrive(&model, start);
            }
            key
        };
        let mut hammering = KeyLimits::default();
        for _ in 0..6 {
            let _ = hammering.arrive(&model, start);
        }
        // Ten more calls while limited: all refused, all counted.
        for _ in 0..10 {
            assert_eq!(
                hammering.arrive(&model, start),
                Err(ErrorCode::RateLimitExceeded)
            );
        }
        // Two seconds later the patient key has room again; the hammering one does not.
        let later = start + Duration::from_secs(2);
        let mut patient = patient;
        assert_eq!(patient.arrive(&model, later), Ok(()));
        assert_eq!(
            hammering.arrive(&model, later),
            Err(ErrorCode::RateLimitExceeded)
        );
    }

    #[test]
    fn refused_calls_lock_the_key_out_and_calls_during_the_lockout_prolong_it() {
        let start = Instant::now();
        let lockout = Duration::from_secs(60);
        for prolong in [true, false] {
            let model = model()
                .lockout_after(3)
                .lockout(lockout)
                .prolong_lockout(prolong);
            let mut key = KeyLimits::default();
            for _ in 0..3 {
                assert_eq!(key.arrive(&model, start), Ok(()));
                key.refused(&model, start);
            }
            let during = start + Duration::from_secs(30);
            assert_eq!(key.arrive(&model, during), Err(ErrorCode::TemporaryLockout));
            let after = start + lockout + Duration::from_secs(1);
            let outcome = key.arrive(&model, after);
            if prolong {
                assert_eq!(outcome, Err(ErrorCode::TemporaryLockout));
                assert_eq!(key.arrive(&model, after + lockout), Ok(()));
            } else {
                assert_eq!(outcome, Ok(()));
            }
        }
    }
}
