//! [`ErrorKind`]: an [`Error`] sorted into what a caller does about it, in one step.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::{Delivery, Error, TransportErrorKind};
use crate::wire::{ErrorCode, ResponseError};

/// What kind of failure an [`Error`] is, sorted by what the caller does next. From
/// [`Error::kind`].
///
/// Kraken's codes are folded into the kinds a program acts on; the exact codes stay
/// available from [`Error::kraken_codes`]. New Kraken codes this version does not know are
/// [`ErrorKind::Other`].
///
/// ```
/// use prime_core::{Error, ErrorKind};
///
/// fn advice(error: &Error) -> &'static str {
///     match error.kind() {
///         ErrorKind::OutcomeUnknown => "it may have executed: check the account before calling again",
///         ErrorKind::PermissionDenied => "give the key the permission the endpoint needs",
///         ErrorKind::InvalidKey | ErrorKind::InvalidSignature => "check the key and secret",
///         ErrorKind::RateLimited => "slow down, then call again",
///         _ if error.is_retryable() => "call again later",
///         _ => "a bug or a refusal: read the message",
///     }
/// }
/// let refused = prime_core::transport::not_sent(prime_core::TransportErrorKind::Connect, "offline");
/// assert_eq!(advice(&Error::Transport(refused)), "call again later");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument was refused before anything was signed or sent.
    InvalidArgument,
    /// The request certainly never reached the server (resolve, connect, TLS, the overall
    /// deadline before sending).
    NotSent,
    /// The request may have been executed, and no answer says whether it was: check the
    /// server's state before calling again ([`Error::is_outcome_unknown`]).
    OutcomeUnknown,
    /// A key was created and its one-time secret recovered from an odd reply
    /// ([`ResponseError::KeyCreated`]): store the secret; do not create again.
    KeyCreated,
    /// `EAPI:Invalid key`: unknown or deleted key, or its user is disabled.
    InvalidKey,
    /// `EAPI:Invalid signature`: wrong secret, or a 2FA key without its `otp`.
    InvalidSignature,
    /// `EAPI:Invalid nonce`: the nonce was not above the last one the key used (another
    /// process with the same key, or a different nonce unit).
    InvalidNonce,
    /// `EGeneral:Permission denied`: the key lacks the endpoint's permission.
    PermissionDenied,
    /// `EGeneral:Invalid arguments[:field]`: Kraken refused an argument.
    InvalidArguments,
    /// Refused for rate before execution (`EAPI:` and `EAuth:Rate limit exceeded`,
    /// `EAuth:Too many requests`, a throttle, `EGeneral:Too many requests`, HTTP 429). By
    /// default the clients do not wait a rate limit out: they stop with
    /// [`ResponseError::Limited`], whose wait [`Error::retry_wait`] gives.
    RateLimited,
    /// `EGeneral:Temporary lockout`: too many failures; wait before calling again (as for
    /// [`ErrorKind::RateLimited`], the error carries the recommended wait).
    Lockout,
    /// `EAuth:Account temporary disabled`: the account is disabled for now. Not executed;
    /// Kraken names no wait, so calling again is not advised (ask Kraken).
    AccountDisabled,
    /// `EAuth:Account unconfirmed`: the account is not verified yet. Not executed; nothing
    /// but verifying the account helps.
    AccountUnconfirmed,
    /// The service is unavailable, busy or failed internally (`EService:*`,
    /// `EGeneral:Internal error`, HTTP 5xx).
    Unavailable,
    /// Another non-2xx HTTP status without a Kraken error.
    HttpStatus,
    /// The reply was not the documented JSON shape, or too large.
    BadResponse,
    /// A Kraken code this version does not sort into a kind (see [`Error::kraken_codes`]).
    Other,
}

/// How long to wait before calling again, when the error says. From [`Error::retry_wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryWait {
    /// At least this long from when the error was made: the wait the client's
    /// [`RetryPolicy`](crate::RetryPolicy) recommends after a rate limit or lockout
    /// ([`ResponseError::Limited`]), or an HTTP `Retry-After`.
    After(Duration),
    /// Not before this wall-clock time (`EService: Throttled: <unix ts>`).
    Until(SystemTime),
}

impl ErrorKind {
    /// The kind of one Kraken code. Total: codes this version does not sort are
    /// [`ErrorKind::Other`].
    ///
    /// ```
    /// use prime_core::{ErrorKind, KrakenError};
    ///
    /// let kind = |text: &str| ErrorKind::of_code(KrakenError::parse(text).code());
    /// assert_eq!(kind("EAuth:Too many requests"), ErrorKind::RateLimited);
    /// assert_eq!(kind("EAuth:Account temporary disabled"), ErrorKind::AccountDisabled);
    /// assert_eq!(kind("EFunding:Something new"), ErrorKind::Other);
    /// ```
    pub fn of_code(code: &ErrorCode) -> Self {
        // Every known code by name, so that a new one cannot go unsorted.
        match code {
            ErrorCode::InvalidKey => Self::InvalidKey,
            ErrorCode::InvalidSignature => Self::InvalidSignature,
            ErrorCode::InvalidNonce => Self::InvalidNonce,
            ErrorCode::PermissionDenied => Self::PermissionDenied,
            ErrorCode::InvalidArguments { .. } => Self::InvalidArguments,
            ErrorCode::RateLimitExceeded
            | ErrorCode::AuthRateLimitExceeded
            | ErrorCode::AuthTooManyRequests
            | ErrorCode::Throttled { .. }
            | ErrorCode::TooManyRequests => Self::RateLimited,
            ErrorCode::TemporaryLockout => Self::Lockout,
            ErrorCode::AccountTemporaryDisabled => Self::AccountDisabled,
            ErrorCode::AccountUnconfirmed => Self::AccountUnconfirmed,
            ErrorCode::ServiceUnavailable | ErrorCode::ServiceBusy | ErrorCode::InternalError => {
                Self::Unavailable
            }
            ErrorCode::Other(_) => Self::Other,
        }
    }

    /// The kind of a server's answer: a limit the client stopped on is the kind of the
    /// refusal it wraps.
    fn of_response(response: &ResponseError) -> Self {
        match response {
            ResponseError::KeyCreated { .. } => Self::KeyCreated,
            ResponseError::Limited { refusal, .. } => Self::of_response(refusal),
            response => match response.kraken_errors().first() {
                Some(first) => Self::of_code(first.code()),
                None => match response {
                    ResponseError::Status { status, .. } if status.as_u16() == 429 => {
                        Self::RateLimited
                    }
                    ResponseError::Status { status, .. } if status.is_server_error() => {
                        Self::Unavailable
                    }
                    ResponseError::Status { .. } => Self::HttpStatus,
                    _ => Self::BadResponse,
                },
            },
        }
    }
}

impl Error {
    /// What kind of failure this is (see [`ErrorKind`] for a `match` example). With several
    /// Kraken errors, the first one's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Self::Transport(t) if matches!(t.kind(), TransportErrorKind::BodyTooLarge { .. }) => {
                ErrorKind::BadResponse
            }
            Self::Transport(t) => match t.delivery() {
                Delivery::NotSent => ErrorKind::NotSent,
                Delivery::MaybeSent => ErrorKind::OutcomeUnknown,
            },
            Self::Response(response) => ErrorKind::of_response(response),
        }
    }

    /// The Kraken error codes the server answered with, in order (none for transport and
    /// argument errors).
    ///
    /// ```
    /// use prime_core::{Error, ErrorCode, ErrorKind, parse_response};
    /// use prime_core::http::{HeaderMap, StatusCode};
    ///
    /// let body = br#"{"error":["EGeneral:Permission denied"]}"#;
    /// let refused = parse_response::<serde_json::Value>(StatusCode::OK, &HeaderMap::new(), body);
    /// let error = Error::from(refused.unwrap_err());
    /// assert!(error.kraken_codes().any(|code| *code == ErrorCode::PermissionDenied));
    /// assert_eq!(error.kind(), ErrorKind::PermissionDenied);
    /// ```
    pub fn kraken_codes(&self) -> impl Iterator<Item = &ErrorCode> + '_ {
        self.response()
            .map(ResponseError::kraken_errors)
            .unwrap_or_default()
            .iter()
            .map(|e| e.code())
    }

    /// `true` when calling again (after [`Error::retry_wait`], if it says) is safe for *any*
    /// endpoint, writes included, and may succeed: the request certainly was not executed and
    /// the cause is passing (not sent, rate limits, lockouts, an unavailable or busy service,
    /// an invalid nonce, which a fresh nonce fixes). `false` for an unknown outcome: check
    /// first ([`Error::is_outcome_unknown`]); `false` for a disabled or unconfirmed account,
    /// which waiting does not fix. A read (list, get) may be sent again after any
    /// failure but a refusal; the clients already retry within their
    /// [`RetryPolicy`](crate::RetryPolicy).
    pub fn is_retryable(&self) -> bool {
        match self.kind() {
            ErrorKind::NotSent
            | ErrorKind::RateLimited
            | ErrorKind::Lockout
            | ErrorKind::InvalidNonce => true,
            // A 5xx from the edge may come after execution; Kraken's own service errors
            // answer before it.
            ErrorKind::Unavailable => self.kraken_codes().next().is_some(),
            _ => false,
        }
    }

    /// How long to wait before calling again, when the error says: the wait the client
    /// recommends after a rate limit or lockout it stopped on ([`ResponseError::Limited`],
    /// the same as [`Error::recommended_wait`]), the time an `EService: Throttled: <ts>`
    /// names, or a `Retry-After` header.
    ///
    /// ```
    /// use std::time::Duration;
    /// use prime_core::{Error, ErrorKind, ResponseError, RetryWait, parse_response};
    /// use prime_core::http::{HeaderMap, StatusCode};
    ///
    /// let body = br#"{"error":["EAPI:Rate limit exceeded"]}"#;
    /// let refusal = parse_response::<serde_json::Value>(StatusCode::OK, &HeaderMap::new(), body);
    /// // What a client returns when it stops on a rate limit instead of waiting it out.
    /// let limited = Error::Response(ResponseError::Limited {
    ///     wait: Duration::from_secs(45),
    ///     refusal: Box::new(refusal.unwrap_err()),
    /// });
    /// assert_eq!(limited.kind(), ErrorKind::RateLimited);
    /// assert!(limited.is_retryable());
    /// assert_eq!(limited.retry_wait(), Some(RetryWait::After(Duration::from_secs(45))));
    /// ```
    pub fn retry_wait(&self) -> Option<RetryWait> {
        if let Some(wait) = self.recommended_wait() {
            return Some(RetryWait::After(wait));
        }
        if let Some(until) = self
            .kraken_codes()
            .filter_map(|code| match code {
                ErrorCode::Throttled { until } => *until,
                _ => None,
            })
            .max()
        {
            return Some(RetryWait::Until(
                UNIX_EPOCH + Duration::from_secs(until.saturating_add(1)),
            ));
        }
        match self.response() {
            Some(ResponseError::Status {
                retry_after: Some(after),
                ..
            }) => Some(RetryWait::After(*after)),
            _ => None,
        }
    }

    /// Shorthand for `kind() == ErrorKind::PermissionDenied`.
    pub fn is_permission_denied(&self) -> bool {
        self.kind() == ErrorKind::PermissionDenied
    }

    /// Shorthand for `kind() == ErrorKind::InvalidKey`.
    pub fn is_invalid_key(&self) -> bool {
        self.kind() == ErrorKind::InvalidKey
    }

    /// Shorthand for `kind() == ErrorKind::RateLimited`.
    pub fn is_rate_limited(&self) -> bool {
        self.kind() == ErrorKind::RateLimited
    }

    /// Shorthand for `kind() == ErrorKind::InvalidNonce`.
    pub fn is_invalid_nonce(&self) -> bool {
        self.kind() == ErrorKind::InvalidNonce
    }
}
