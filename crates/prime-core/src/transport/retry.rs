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
/// **Rate limits and lockouts.** Kraken's rate-limit guide warns that calls made while a key is
/// limited keep the limit in force longer, and its support article says refused calls count
/// against the limits and may lead to a temporary lockout. So by default a call refused with a
/// [rate limit](crate::ErrorCode::is_rate_limit) or `EGeneral:Temporary lockout` is not sent
/// again: it stops with [`ResponseError::Limited`], which carries the wait this policy
/// recommends ([`RetryPolicy::rate_limit_wait`], [`RetryPolicy::lockout_wait`]), and the
/// client holds off: until that wait is over, every call it starts, of any endpoint, is
/// refused with the same error before anything is signed or sent
/// ([`ClientCore::start`](crate::transport::ClientCore::start)).
/// [`RetryPolicy::with_wait_out_limits`] opts in to waiting that long and calling again
/// instead (each call then waits for itself; nothing is held off).
///
/// ```
/// use std::time::Duration;
/// use prime_core::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_limit_waits(Duration::from_secs(60), Duration::from_secs(20 * 60))
///     .with_wait_out_limits(true)
///     .with_max_throttle_wait(Duration::from_secs(120));
/// assert_eq!(policy.max_attempts, 5);
/// assert!(!RetryPolicy::default().wait_out_limits);
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
    /// How long to wait after a rate-limit refusal (`EAPI:Rate limit exceeded`,
    /// `EAuth:Rate limit exceeded`, `EAuth:Too many requests`, `EGeneral:Too many requests`,
    /// an untimed throttle, HTTP 429) before calling again with the key. An HTTP
    /// `Retry-After` longer than this wins. Default 45 s: at every tier of Kraken's
    /// rate-limit guide a full counter drains within 45 s (Starter: 15 calls at 0.33 per
    /// second) when no call adds to it.
    pub rate_limit_wait: Duration,
    /// How long to wait after `EGeneral:Temporary lockout` before calling again with the key.
    /// Default 15 min: Kraken support's advice (the errors guide says "a few minutes").
    pub lockout_wait: Duration,
    /// Whether a call refused for rate or by a lockout waits ([`RetryPolicy::rate_limit_wait`]
    /// or [`RetryPolicy::lockout_wait`]) and is sent again, within
    /// [`RetryPolicy::max_attempts`]. Off by default: the call stops with
    /// [`ResponseError::Limited`] and the caller decides.
    pub wait_out_limits: bool,
    /// The longest wait for the time an `EService: Throttled: <ts>` names; a later time
    /// returns the error instead. (Kraken says to "try again after" that time, so a throttle
    /// is waited out by default.)
    pub max_throttle_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            rate_limit_wait: Duration::from_secs(45),
            lockout_wait: Duration::from_secs(15 * 60),
            wait_out_limits: false,
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

    /// Sets the waits after a rate limit and after a lockout:
    /// [`RetryPolicy::rate_limit_wait`] and [`RetryPolicy::lockout_wait`].
    #[must_use]
    pub fn with_limit_waits(mut self, rate_limit_wait: Duration, lockout_wait: Duration) -> Self {
        self.rate_limit_wait = rate_limit_wait;
        self.lockout_wait = lockout_wait;
        self
    }

    /// Sets [`RetryPolicy::wait_out_limits`]: `true` waits out rate limits and lockouts and
    /// calls again.
    #[must_use]
    pub fn with_wait_out_limits(mut self, on: bool) -> Self {
        self.wait_out_limits = on;
        self
    }

    /// Sets [`RetryPolicy::max_throttle_wait`].
    #[must_use]
    pub fn with_max_throttle_wait(mut self, max_throttle_wait: Duration) -> Self {
        self.max_throttle_wait = max_throttle_wait;
        self
    }

    /// The wait this policy recommends before calling again with the key after `failure`,
    /// when it is a rate-limit refusal or a lockout ([`RetryPolicy::rate_limit_wait`], a
    /// longer `Retry-After`, [`RetryPolicy::lockout_wait`]); `None` for anything else,
    /// including a throttle that names its time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use prime_core::http::{HeaderMap, StatusCode};
    /// use prime_core::{Error, RetryPolicy, parse_response};
    ///
    /// let refused = |body: &[u8]| {
    ///     Error::from(parse_response::<serde_json::Value>(StatusCode::OK, &HeaderMap::new(), body).unwrap_err())
    /// };
    /// let policy = RetryPolicy::default();
    /// let limited = refused(br#"{"error":["EAuth:Rate limit exceeded"],"result":{}}"#);
    /// assert_eq!(policy.recommended_wait(&limited), Some(Duration::from_secs(45)));
    /// let locked = refused(br#"{"error":["EGeneral:Temporary lockout"],"result":{}}"#);
    /// assert_eq!(policy.recommended_wait(&locked), Some(Duration::from_secs(15 * 60)));
    /// let denied = refused(br#"{"error":["EGeneral:Permission denied"],"result":{}}"#);
    /// assert_eq!(policy.recommended_wait(&denied), None);
    /// ```
    pub fn recommended_wait(&self, failure: &Error) -> Option<Duration> {
        match limit_of(failure)? {
            Limit::Lockout => Some(self.lockout_wait),
            Limit::Rate => {
                let server_says = match failure {
                    Error::Response(ResponseError::Status { retry_after, .. }) => *retry_after,
                    _ => None,
                };
                Some(server_says.map_or(self.rate_limit_wait, |s| s.max(self.rate_limit_wait)))
            }
        }
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
    /// Kraken rejected the request for rate before executing it, and the policy waits out
    /// rate limits ([`RetryPolicy::wait_out_limits`]).
    RateLimited,
    /// Kraken locked the key out (`EGeneral:Temporary lockout`) before executing, and the
    /// policy waits out lockouts ([`RetryPolicy::wait_out_limits`]).
    LockedOut,
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
    ///   arguments, unknown codes) stop;
    /// - `EAPI:Invalid nonce` is a rejection before execution: one immediate re-signed resend,
    ///   for any endpoint;
    /// - a request that was *not sent* is retried with the transient backoff, for any endpoint;
    /// - a rate-limit refusal ([`ErrorCode::is_rate_limit`] without a named time, HTTP 429) or
    ///   `EGeneral:Temporary lockout` was not executed, but calling again soon prolongs it:
    ///   it stops, unless [`RetryPolicy::wait_out_limits`] is set; then it is retried for any
    ///   endpoint after [`RetryPolicy::recommended_wait`];
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
        if matches!(reason, RetryReason::RateLimited | RetryReason::LockedOut) {
            if !self.wait_out_limits {
                return RetryDecision::Stop;
            }
            return match self.recommended_wait(failure) {
                Some(after) => RetryDecision::Retry { after, reason },
                None => RetryDecision::Stop,
            };
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
        let (base, ceiling) = (self.base_delay, self.max_delay);
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

/// Which limit refused a call: rate (calls too many or too fast) or a lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    Rate,
    Lockout,
}

/// The limit that refused `failure`, if that is all that refused it: a lockout among its
/// errors, or only rate limits without a named time, or HTTP 429 without Kraken errors.
fn limit_of(failure: &Error) -> Option<Limit> {
    let Error::Response(response) = failure else {
        return None;
    };
    let errors = response.kraken_errors();
    if matches!(response, ResponseError::KeyCreated { .. }) {
        return None;
    }
    if errors.iter().any(|e| e.code().is_lockout()) {
        return Some(Limit::Lockout);
    }
    let timed = |c: &ErrorCode| matches!(c, ErrorCode::Throttled { until: Some(_) });
    if !errors.is_empty()
        && errors
            .iter()
            .all(|e| e.code().is_rate_limit() && !timed(e.code()))
    {
        return Some(Limit::Rate);
    }
    match response {
        ResponseError::Status { status, errors, .. }
            if errors.is_empty() && *status == http::StatusCode::TOO_MANY_REQUESTS =>
        {
            Some(Limit::Rate)
        }
        _ => None,
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
    match limit_of(failure) {
        Some(Limit::Lockout) => return Some(RetryReason::LockedOut),
        Some(Limit::Rate) => return Some(RetryReason::RateLimited),
        None => {}
    }
    match failure {
        Error::InvalidArgument(_) => None,
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
                // The untimed ones are limits (above); a throttle naming its time is waited
                // out exactly.
                Some(RetryReason::Throttled)
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
            if status.is_server_error() {
                transient
            } else {
                None
            }
        }
        Error::Response(ResponseError::Decode { .. }) => transient,
        // A key was created: sending again would create another.
        Error::Response(ResponseError::KeyCreated { .. }) => None,
        // Already judged: the client stopped calling.
        Error::Response(ResponseError::Limited { .. }) => None,
    }
}
