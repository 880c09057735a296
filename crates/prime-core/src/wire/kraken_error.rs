//! Kraken's error and warning strings: `<E|W><Category>:<Type>[:<extra>]`.

use std::fmt;

/// Whether a Kraken message is an error (`E…`) or a warning (`W…`) that may accompany a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// `E…`: the request failed.
    Error,
    /// `W…`: informational; a result may still be present.
    Warning,
}

/// Kraken's error codes this crate knows, with a catch-all that keeps anything else.
///
/// Each variant says where Kraken shows its string: the Spot REST errors guide
/// (<https://docs.kraken.com/exchange/guides/general/errors>), the Spot REST rate-limit guide
/// (<https://docs.kraken.com/exchange/guides/rest/ratelimits>) or Kraken support's
/// "API error messages" article
/// (<https://support.kraken.com/hc/en-us/articles/360001491786-API-Error-Codes>); the Prime
/// pages document no error strings of their own and call their REST surface identical to
/// Spot's. One string no Kraken page shows is recognised too, and says so.
///
/// [`ErrorCode::as_str`] is the one table of Kraken's strings: the parser reads through it and
/// the simulator answers with it. Parsing ignores spaces around the `:` separators, since
/// Kraken writes some codes with them (`EService: Throttled: 1700000000`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `EAPI:Invalid key`: the `API-Key` is unknown, deleted or its user disabled.
    InvalidKey,
    /// `EAPI:Invalid signature`: `API-Sign` does not match the request, or a key with API 2FA
    /// got no `otp` or a wrong one.
    InvalidSignature,
    /// `EAPI:Invalid nonce`: the nonce was not greater than the last accepted one.
    /// The request was rejected before execution.
    InvalidNonce,
    /// `EGeneral:Permission denied`: the key lacks the permission.
    PermissionDenied,
    /// `EGeneral:Invalid arguments[:<field>]`.
    InvalidArguments {
        /// The field Kraken named, if any.
        field: Option<String>,
    },
    /// `EAPI:Rate limit exceeded`: the key's call counter is full (rate-limit guide). Not
    /// executed. Calls made while limited keep the limit in force longer.
    RateLimitExceeded,
    /// `EAuth:Rate limit exceeded` (Spot errors guide): a rate limit on authentication. Not
    /// executed; handled like [`ErrorCode::RateLimitExceeded`].
    AuthRateLimitExceeded,
    /// `EAuth:Too many requests` (Spot errors guide): too many authentication requests. Not
    /// executed; handled like [`ErrorCode::RateLimitExceeded`].
    AuthTooManyRequests,
    /// `EService: Throttled: <unix ts>` (also without the spaces; rate-limit guide): too many
    /// concurrent requests, not executed; try again after the timestamp.
    Throttled {
        /// The Unix time (seconds) after which to try again, if the string carried one.
        until: Option<u64>,
    },
    /// `EGeneral:Too many requests`. **No Kraken page shows this string**; it is recognised
    /// (as a rate limit, the safe reading of its words) because Kraken's other APIs and
    /// client libraries mention it, not because Kraken documents it for REST.
    TooManyRequests,
    /// `EGeneral:Temporary lockout` (errors guide, support article): too many failed or
    /// rate-limited calls; the key is locked out for "a few minutes" (guide) or about 15
    /// minutes (support). Not executed. Failed calls count towards it too.
    TemporaryLockout,
    /// `EAuth:Account temporary disabled` (Spot errors guide): the account is disabled for
    /// now. Not executed; not retried (Kraken names no wait).
    AccountTemporaryDisabled,
    /// `EAuth:Account unconfirmed` (Spot errors guide): the account is not verified. Not
    /// retried.
    AccountUnconfirmed,
    /// `EService:Unavailable`.
    ServiceUnavailable,
    /// `EService:Busy`.
    ServiceBusy,
    /// `EGeneral:Internal error`.
    InternalError,
    /// Any other string, kept as `Category:Type[:extra]` (without the severity letter).
    Other(String),
}

/// Every known code, in its data-free form; [`KrakenError::parse`] matches against their
/// [`ErrorCode::as_str`].
const KNOWN: &[ErrorCode] = &[
    ErrorCode::InvalidKey,
    ErrorCode::InvalidSignature,
    ErrorCode::InvalidNonce,
    ErrorCode::PermissionDenied,
    ErrorCode::InvalidArguments { field: None },
    ErrorCode::RateLimitExceeded,
    ErrorCode::AuthRateLimitExceeded,
    ErrorCode::AuthTooManyRequests,
    ErrorCode::Throttled { until: None },
    ErrorCode::TooManyRequests,
    ErrorCode::TemporaryLockout,
    ErrorCode::AccountTemporaryDisabled,
    ErrorCode::AccountUnconfirmed,
    ErrorCode::ServiceUnavailable,
    ErrorCode::ServiceBusy,
    ErrorCode::InternalError,
];

impl ErrorCode {
    /// The code's string as Kraken sends it, without any `:<extra>` (field, timestamp).
    /// [`ErrorCode::Other`] gives back what it keeps.
    ///
    /// ```
    /// use prime_core::ErrorCode;
    ///
    /// assert_eq!(ErrorCode::InvalidKey.as_str(), "EAPI:Invalid key");
    /// assert_eq!(ErrorCode::Throttled { until: Some(1) }.as_str(), "EService: Throttled");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidKey => "EAPI:Invalid key",
            Self::InvalidSignature => "EAPI:Invalid signature",
            Self::InvalidNonce => "EAPI:Invalid nonce",
            Self::PermissionDenied => "EGeneral:Permission denied",
            Self::InvalidArguments { .. } => "EGeneral:Invalid arguments",
            Self::RateLimitExceeded => "EAPI:Rate limit exceeded",
            Self::AuthRateLimitExceeded => "EAuth:Rate limit exceeded",
            Self::AuthTooManyRequests => "EAuth:Too many requests",
            // Spelled as Kraken's rate-limit guide shows it.
            Self::Throttled { .. } => "EService: Throttled",
            Self::TooManyRequests => "EGeneral:Too many requests",
            Self::TemporaryLockout => "EGeneral:Temporary lockout",
            Self::AccountTemporaryDisabled => "EAuth:Account temporary disabled",
            Self::AccountUnconfirmed => "EAuth:Account unconfirmed",
            Self::ServiceUnavailable => "EService:Unavailable",
            Self::ServiceBusy => "EService:Busy",
            Self::InternalError => "EGeneral:Internal error",
            Self::Other(text) => text,
        }
    }

    /// Whether Kraken refused the call for rate before executing it (`EAPI:` and `EAuth:Rate
    /// limit exceeded`, `EAuth:Too many requests`, a throttle, `EGeneral:Too many requests`):
    /// resending later is safe for any endpoint, resending soon prolongs the limit.
    ///
    /// ```
    /// use prime_core::KrakenError;
    ///
    /// for text in ["EAPI:Rate limit exceeded", "EAuth:Rate limit exceeded", "EAuth:Too many requests"] {
    ///     assert!(KrakenError::parse(text).code().is_rate_limit(), "{text}");
    /// }
    /// assert!(!KrakenError::parse("EGeneral:Temporary lockout").code().is_rate_limit());
    /// ```
    pub fn is_rate_limit(&self) -> bool {
        matches!(
            self,
            Self::RateLimitExceeded
                | Self::AuthRateLimitExceeded
                | Self::AuthTooManyRequests
                | Self::Throttled { .. }
                | Self::TooManyRequests
        )
    }

    /// Whether the key is locked out for a while (`EGeneral:Temporary lockout`): not
    /// executed, and calling before the lockout ends only meets it again.
    pub fn is_lockout(&self) -> bool {
        matches!(self, Self::TemporaryLockout)
    }
}

/// The complete error string: [`ErrorCode::as_str`] plus the field or timestamp it carries,
/// e.g. `EGeneral:Invalid arguments:user_id` or `EService: Throttled: 1700000000`.
impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        match self {
            Self::InvalidArguments { field: Some(field) } => write!(f, ":{field}"),
            Self::Throttled { until: Some(until) } => write!(f, ": {until}"),
            _ => Ok(()),
        }
    }
}

/// `Category:Type` with the spaces around each part removed, for comparing codes.
fn same_kind(known: &str, category: &str, kind: &str) -> bool {
    let Some((known_category, known_kind)) = known[1..].split_once(':') else {
        return false;
    };
    known_category.trim() == category.trim() && known_kind.trim() == kind.trim()
}

/// One parsed entry of the `error` array. The original string is always kept.
///
/// ```
/// use prime_core::{ErrorCode, KrakenError, Severity};
///
/// let e = KrakenError::parse("EGeneral:Invalid arguments:user_id");
/// assert_eq!(e.severity(), Severity::Error);
/// assert_eq!(e.code(), &ErrorCode::InvalidArguments { field: Some("user_id".into()) });
/// assert_eq!(e.as_str(), "EGeneral:Invalid arguments:user_id");
///
/// let w = KrakenError::parse("WFunding:Something new");
/// assert_eq!(w.severity(), Severity::Warning);
/// assert_eq!(w.code(), &ErrorCode::Other("Funding:Something new".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KrakenError {
    severity: Severity,
    code: ErrorCode,
    raw: String,
}

impl KrakenError {
    /// Parses one error string. A documented code followed by `:<extra>` keeps its code (the
    /// extra is the field for invalid arguments, and stays in [`Self::as_str`] for all).
    /// Never fails: unknown or malformed strings become
    /// [`ErrorCode::Other`] errors (a string without a leading `W` is treated as an error, so
    /// nothing unexpected is mistaken for success).
    pub fn parse(raw: &str) -> Self {
        let (severity, rest) = match raw.as_bytes().first() {
            Some(b'W') => (Severity::Warning, &raw[1..]),
            Some(b'E') => (Severity::Error, &raw[1..]),
            _ => (Severity::Error, raw),
        };
        // `Category:Type` names the code; anything after a further `:` is extra detail that
        // any code may carry (for invalid arguments, the field; for a throttle, the time). The
        // raw string keeps it all.
        let (kind, extra) = match rest.match_indices(':').nth(1) {
            Some((at, _)) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (category, name) = kind.split_once(':').unwrap_or((kind, ""));
        let known = KNOWN
            .iter()
            .find(|code| same_kind(code.as_str(), category, name));
        let code = match known {
            Some(ErrorCode::InvalidArguments { .. }) => ErrorCode::InvalidArguments {
                field: extra.filter(|f| !f.is_empty()).map(str::to_owned),
            },
            Some(ErrorCode::Throttled { .. }) => ErrorCode::Throttled {
                until: extra.and_then(|ts| ts.trim().parse().ok()),
            },
            Some(code) => code.clone(),
            None => ErrorCode::Other(rest.to_owned()),
        };
        Self {
            severity,
            code,
            raw: raw.to_owned(),
        }
    }

    /// Error or warning.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The parsed code.
    pub fn code(&self) -> &ErrorCode {
        &self.code
    }

    /// The string exactly as Kraken sent it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for KrakenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Joins error strings for messages: `EAPI:Invalid key; EGeneral:Internal error`.
pub(crate) struct JoinedErrors<'a>(pub(crate) &'a [KrakenError]);

impl fmt::Display for JoinedErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            f.write_str(e.as_str())?;
        }
        Ok(())
    }
}
