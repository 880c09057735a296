//! Retry decisions: a pure function of idempotency, the failure and the attempt.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::{Delivery, Error, TransportErrorKind};
use crate::endpoints::Idempotency;
use crate::wire::ErrorCode;
use crate::wire::ResponseError;

/// How many times and how patiently to retry.
///
/// Build it from [`RetryPolicy::default`] (or [`RetryPolicy::never`]) and the `with_*`
/// setters; new settings may be added, so it cannot be written as a struct literal.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use prime_core::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_rate_limit_delays(Duration::from_secs(2), Duration::from_secs(60))
///     .with_max_throttle_wait(Duration::from_secs(120));
/// assert_eq!(policy.max_attempts, 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Total attempts including the first (1 disables retries). The single re-signed resend
    /// after `EAPI:Invalid nonce` is allowed on top of this.
    pub max_attempts: u32,
    /// Delay before the first retry of a transient failure; doubles with each further attempt.
    pub base_delay: Duration,
    /// Upper bound of a transient failure's delay.
    pub max_delay: Duration,
    /// Delay before the first retry after a rate-limit refusal (`EAPI:Rate limit exceeded`,
    /// `EGeneral:Too many requests`, an untimed throttle, HTTP 429); doubles with each further
    /// attempt. Kraken's guide warns that calls made while limited keep the limit in force
    /// longer, so this starts slower than `base_delay`.
    pub rate_limit_base_delay: Duration,
    /// Ceiling of the rate-limit delay, and the longest `Retry-After` waited for on a 429.
    pub max_rate_limit_delay: Duration,
    /// The longest wait for the time an `EService: Throttled: <ts>` names; a later time
    /// returns the error instead.
    pub max_throttle_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            rate_limit_base_delay: Duration::from_secs(1),
            max_rate_limit_delay: Duration::from_secs(30),
            max_throttle_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry (the `EAPI:Invalid nonce` resend still applies).
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets [`RetryPolicy::max_attempts`].
    #[must_use]
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Sets the transient-failure backoff: [`RetryPolicy::base_delay`] and
    /// [`RetryPolicy::max_delay`].
    #[must_use]
    pub fn with_delays(mut self, base_delay: Duration, max_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self.max_delay = max_delay;
        self
    }

    /// Sets the rate-limit backoff: [`RetryPolicy::rate_limit_base_delay`] and its ceiling
    /// [`RetryPolicy::max_rate_limit_delay`].
    #[must_use]
    pub fn with_rate_limit_delays(mut self, base_delay: Duration, ceiling: Duration) -> Self {
        self.rate_limit_base_delay = base_delay;
        self.max_rate_limit_delay = ceiling;
        self
    }

    /// Sets [`RetryPolicy::max_throttle_wait`].
    #[must_use]
    pub fn with_max_throttle_wait(mut self, max_throttle_wait: Duration) -> Self {
        self.max_throttle_wait = max_throttle_wait;
        self
    }
}

/// Where a call stands: how many attempts failed, and whether the invalid-nonce resend was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    number: u32,
    nonce_resent: bool,
}

impl Attempt {
    /// The first attempt.
    pub fn first() -> Self {
        Self {
            number: 1,
            nonce_resent: false,
        }
    }

    /// 1-based number of this attempt.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// The attempt that follows a [`RetryDecision::Retry`].
    pub fn next(self, decision: &RetryDecision) -> Self {
        Self {
            number: self.number + 1,
            nonce_resent: self.nonce_resent
                || matches!(
                    decision,
                    RetryDecision::Retry {
                        reason: RetryReason::InvalidNonce,
                        ..
                    }
                ),
        }
    }
}

/// Why a retry is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryReason {
    /// The request was never sent.
    NotSent,
    /// Kraken refused the nonce before executing: one re-signed resend is safe.
    InvalidNonce,
    /// Kraken rejected the request for rate before executing it.
    RateLimited,
    /// Kraken throttled the request (`EService: Throttled: <ts>`) before executing it; the
    /// retry waits until after the named time.
    Throttled,
    /// A transient failure of an idempotent request.
    Transient,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Re-sign with a fresh nonce and send again after `after`.
    Retry {
        /// How long to wait first.
        after: Duration,
        /// Why this is safe.
        reason: RetryReason,
    },
    /// Return the error to the caller.
    Stop,
}

impl RetryPolicy {
    /// Decides whether the failed `attempt` may be retried, without a clock.
    ///
    /// As [`RetryPolicy::decide_at`], except that a throttle naming a time
    /// (`EService: Throttled: <ts>`) stops: without the current time the wait cannot be
    /// known, and resending early would keep the throttle in force. Prefer `decide_at`.
    pub fn decide(
        &self,
        idempotency: Idempotency,
        failure: &Error,
        attempt: Attempt,
        jitter: f64,
    ) -> RetryDecision {
        self.decide_inner(idempotency, failure, attempt, jitter, None)
    }

    /// Decides whether the failed `attempt` may be retried; `now` is the current wall-clock
    /// time, best the server's own (its response's `Date`, as the call driver passes it), and
    /// only throttles read it.
    ///
    /// The rules, in order:
    /// - argument errors and most Kraken errors (invalid key or signature, permission, invalid
    ///   arguments, temporary lockout, unknown codes) stop;
    /// - `EAPI:Invalid nonce` is a rejection before execution: one immediate re-signed resend,
    ///   for any endpoint;
    /// - a request that was *not sent* is retried with the transient backoff, for any endpoint;
    /// - a rate-limit refusal (`EAPI:Rate limit exceeded`, `EGeneral:Too many requests`, an
    ///   untimed throttle, HTTP 429) was not executed: it is retried for any endpoint with the
    ///   rate-limit backoff, which doubles from `rate_limit_base_delay` up to
    ///   `max_rate_limit_delay`;
    /// - `EService: Throttled: <ts>` was not executed either: it is retried for any endpoint
    ///   once the second `ts` is over, unless that is more than `max_throttle_wait` away (then
    ///   it stops);
    /// - a response over the size cap stops (it would be over the cap again);
    /// - anything else (outcome unknown, 5xx, `EService:*`, internal errors, undecodable bodies)
    ///   is retried only for [`Idempotency::Idempotent`] endpoints: a non-idempotent call that
    ///   may have reached the server is never resent.
    ///
    /// Every retry counts against `max_attempts`. Backoff delays double from their base with
    /// each attempt, capped at their ceiling; `jitter` in `[0, 1)` (from the caller's random
    /// source) spreads them over `[delay / 2, delay)`, keeping this function pure; a non-finite
    /// jitter counts as 0. A `Retry-After` from the server is a floor on the delay, and one
    /// longer than the ceiling stops.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime, UNIX_EPOCH};
    /// use prime_core::http::{HeaderMap, StatusCode};
    /// use prime_core::transport::{Attempt, RetryDecision, RetryReason};
    /// use prime_core::{Error, Idempotency, RetryPolicy, parse_response};
    ///
    /// let body = br#"{"error":["EService: Throttled: 1795880010"]}"#;
    /// let failure = Error::Response(
    ///     parse_response::<serde_json::Value>(StatusCode::OK, &HeaderMap::new(), body).unwrap_err(),
    /// );
    /// let now = UNIX_EPOCH + Duration::from_secs(1_795_880_000);
    /// // Not executed, so even a create may be resent: after the named second is over.
    /// let decision = RetryPolicy::default()
    ///     .decide_at(Idempotency::NonIdempotent, &failure, Attempt::first(), 0.0, now);
    /// assert_eq!(
    ///     decision,
    ///     RetryDecision::Retry { after: Duration::from_secs(11), reason: RetryReason::Throttled }
    /// );
    /// ```
    pub fn decide_at(
        &self,
        idempotency: Idempotency,
        failure: &Error,
        attempt: Attempt,
        jitter: f64,
        now: SystemTime,
    ) -> RetryDecision {
        self.decide_inner(idempotency, failure, attempt, jitter, Some(now))
    }

    fn decide_inner(
        &self,
        idempotency: Idempotency,
        failure: &Error,
        attempt: Attempt,
        jitter: f64,
        now: Option<SystemTime>,
    ) -> RetryDecision {
        let reason = match classify(idempotency, failure) {
            Some(RetryReason::InvalidNonce) if !attempt.nonce_resent => {
                return RetryDecision::Retry {
                    after: Duration::ZERO,
                    reason: RetryReason::InvalidNonce,
                };
            }
            Some(RetryReason::InvalidNonce) | None => return RetryDecision::Stop,
            Some(reason) => reason,
        };
        // The nonce resend does not count against the budget.
        let spent = attempt.number - u32::from(attempt.nonce_resent);
        if spent >= self.max_attempts {
            return RetryDecision::Stop;
        }
        if reason == RetryReason::Throttled {
            let Some(now) = now else {
                return RetryDecision::Stop;
            };
            let Some(until) = throttled_until(failure) else {
                return RetryDecision::Stop;
            };
            // "Try again after <ts>": the whole second `ts` must be over.
            let resume = UNIX_EPOCH + Duration::from_secs(until.saturating_add(1));
            let after = resume.duration_since(now).unwrap_or(Duration::ZERO);
            if after > self.max_throttle_wait {
                return RetryDecision::Stop;
            }
            return RetryDecision::Retry { after, reason };
        }
        let (base, ceiling) = if reason == RetryReason::RateLimited {
            (self.rate_limit_base_delay, self.max_rate_limit_delay)
        } else {
            (self.base_delay, self.max_delay)
        };
        let backoff = base
            .saturating_mul(1 << spent.saturating_sub(1).min(16))
            .min(ceiling);
        // The caller's random value may be anything: NaN or infinities count as 0, and a
        // delay too large for float arithmetic is kept whole rather than panicking.
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let mut after = Duration::try_from_secs_f64(backoff.as_secs_f64() * (0.5 + 0.5 * jitter))
            .map_or(backoff, |d| d.min(backoff));
        // A server's Retry-After is a floor, not a hint: an earlier resend would only be
        // refused again. One longer than the policy will wait returns the error instead.
        if let Error::Response(ResponseError::Status {
            retry_after: Some(retry_after),
            ..
        }) = failure
        {
            if *retry_after > ceiling {
                return RetryDecision::Stop;
            }
            after = after.max(*retry_after);
        }
        RetryDecision::Retry { after, reason }
    }
}

/// The latest time named by the throttles among a failure's errors.
fn throttled_until(failure: &Error) -> Option<u64> {
    let Error::Response(ResponseError::Api { errors, .. }) = failure else {
        return None;
    };
    errors
        .iter()
        .filter_map(|e| match e.code() {
            ErrorCode::Throttled { until } => *until,
            _ => None,
        })
        .max()
}

fn classify(idempotency: Idempotency, failure: &Error) -> Option<RetryReason> {
    let idempotent = idempotency == Idempotency::Idempotent;
    let transient = idempotent.then_some(RetryReason::Transient);
    match failure {
        // The driver makes these only once a call has stopped; a mismatch stays one.
        Error::InvalidArgument(_) | Error::NonceRefused(_) | Error::NonceUnitMismatch(_) => None,
        // An oversized answer would be oversized again: resending only repeats the work.
        Error::Transport(t) if matches!(t.kind(), TransportErrorKind::BodyTooLarge { .. }) => None,
        Error::Transport(t) => match t.delivery() {
            Delivery::NotSent => Some(RetryReason::NotSent),
            Delivery::MaybeSent => transient,
        },
        Error::Response(ResponseError::Api { errors, .. }) => {
            let codes = || errors.iter().map(|e| e.code());
            if codes().any(|c| *c == ErrorCode::InvalidNonce) {
                Some(RetryReason::InvalidNonce)
            } else if codes().all(ErrorCode::is_rate_limit) {
                // A throttle naming its time is waited out exactly; the others back off.
                if codes().any(|c| matches!(c, ErrorCode::Throttled { until: Some(_) })) {
                    Some(RetryReason::Throttled)
                } else {
                    Some(RetryReason::RateLimited)
                }
            } else if codes().all(|c| {
                matches!(
                    c,
                    ErrorCode::ServiceUnavailable
                        | ErrorCode::ServiceBusy
                        | ErrorCode::InternalError
                )
            }) {
                transient
            } else {
                None
            }
        }
        Error::Response(ResponseError::Status { status, .. }) => {
            if *status == http::StatusCode::TOO_MANY_REQUESTS {
                Some(RetryReason::RateLimited)
            } else if status.is_server_error() {
                transient
            } else {
                None
            }
        }
        Error::Response(ResponseError::Decode { .. }) => transient,
        // A key was created: sending again would create another.
        Error::Response(ResponseError::KeyCreated { .. }) => None,
    }
}
