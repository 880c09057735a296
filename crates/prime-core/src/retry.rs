//! Retry decisions: a pure function of idempotency, the failure and the attempt.

use std::time::Duration;

use crate::endpoint::Idempotency;
use crate::error::{Delivery, Error, TransportErrorKind};
use crate::kraken_error::ErrorCode;
use crate::response::ResponseError;

/// How many times and how patiently to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 disables retries). The single re-signed resend
    /// after `EAPI:Invalid nonce` is allowed on top of this.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles with each further attempt.
    pub base_delay: Duration,
    /// Upper bound of any delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
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
pub enum RetryReason {
    /// The request was never sent.
    NotSent,
    /// Kraken refused the nonce before executing: one re-signed resend is safe.
    InvalidNonce,
    /// Kraken rejected the request for rate before executing it.
    RateLimited,
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
    /// Decides whether the failed `attempt` may be retried.
    ///
    /// The rules, in order:
    /// - argument errors and most Kraken errors (invalid key or signature, permission, invalid
    ///   arguments, temporary lockout, unknown codes) stop;
    /// - `EAPI:Invalid nonce` is a rejection before execution: one immediate re-signed resend,
    ///   for any endpoint;
    /// - a request that was *not sent*, or rejected for rate (`EAPI:Rate limit exceeded`, HTTP
    ///   429), is retried with backoff for any endpoint;
    /// - a response over the size cap stops (it would be over the cap again);
    /// - anything else (outcome unknown, 5xx, `EService:*`, internal errors, undecodable bodies)
    ///   is retried only for [`Idempotency::Idempotent`] endpoints: a non-idempotent call that
    ///   may have reached the server is never resent.
    ///
    /// The delay doubles from `base_delay` with each attempt, capped at `max_delay`. `jitter`
    /// in `[0, 1)` (from the caller's random source) spreads it over `[delay / 2, delay)`,
    /// keeping this function pure; a non-finite jitter counts as 0. A `Retry-After` from the
    /// server is a floor on the delay, and one longer than `max_delay` stops.
    pub fn decide(
        &self,
        idempotency: Idempotency,
        failure: &Error,
        attempt: Attempt,
        jitter: f64,
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
        let backoff = self
            .base_delay
            .saturating_mul(1 << spent.saturating_sub(1).min(16))
            .min(self.max_delay);
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
            if *retry_after > self.max_delay {
                return RetryDecision::Stop;
            }
            after = after.max(*retry_after);
        }
        RetryDecision::Retry { after, reason }
    }
}

fn classify(idempotency: Idempotency, failure: &Error) -> Option<RetryReason> {
    let idempotent = idempotency == Idempotency::Idempotent;
    let transient = idempotent.then_some(RetryReason::Transient);
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
            } else if codes().all(|c| *c == ErrorCode::RateLimitExceeded) {
                Some(RetryReason::RateLimited)
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
