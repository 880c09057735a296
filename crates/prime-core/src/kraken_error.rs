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

/// The documented Kraken error codes, with a catch-all that keeps anything else.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `EAPI:Invalid key`: the `API-Key` is unknown, deleted or its user disabled.
    InvalidKey,
    /// `EAPI:Invalid signature`: `API-Sign` does not match the request.
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
    /// `EAPI:Rate limit exceeded`.
    RateLimitExceeded,
    /// `EGeneral:Temporary lockout`: too many failures; wait before trying again.
    TemporaryLockout,
    /// `EService:Unavailable`.
    ServiceUnavailable,
    /// `EService:Busy`.
    ServiceBusy,
    /// `EGeneral:Internal error`.
    InternalError,
    /// Any other string, kept as `Category:Type[:extra]` (without the severity letter).
    Other(String),
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
        // any code may carry (for invalid arguments, the field). The raw string keeps it all.
        let (kind, extra) = match rest.match_indices(':').nth(1) {
            Some((at, _)) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let code = match kind {
            "API:Invalid key" => ErrorCode::InvalidKey,
            "API:Invalid signature" => ErrorCode::InvalidSignature,
            "API:Invalid nonce" => ErrorCode::InvalidNonce,
            "General:Permission denied" => ErrorCode::PermissionDenied,
            "API:Rate limit exceeded" => ErrorCode::RateLimitExceeded,
            "General:Temporary lockout" => ErrorCode::TemporaryLockout,
            "Service:Unavailable" => ErrorCode::ServiceUnavailable,
            "Service:Busy" => ErrorCode::ServiceBusy,
            "General:Internal error" => ErrorCode::InternalError,
            "General:Invalid arguments" => ErrorCode::InvalidArguments {
                field: extra.filter(|f| !f.is_empty()).map(str::to_owned),
            },
            _ => ErrorCode::Other(rest.to_owned()),
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
