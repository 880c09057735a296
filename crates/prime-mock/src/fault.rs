//! Faults a test queues to make the next matching request misbehave.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// What goes wrong. See [`Fault`] for how faults are queued and consumed.
///
/// "Executed" means the request is authenticated and carried out as usual (state changes,
/// nonce consumed) before the response is spoiled: the client cannot know whether its call
/// took effect. "Not executed" faults answer before anything is checked, and change nothing.
///
/// Each kind also has a text form (its [`Display`](fmt::Display) and [`FromStr`]), used by the
/// HTTP control interface and handy for command lines: `delay:250` (milliseconds),
/// `drop-before-execute`, `drop-after-execute`, `execute-after-hangup`, `bad-gateway-html`, `internal-server-error`,
/// `malformed-json`, `truncated-body`, `oversized-body:1000000` (bytes) and
/// `kraken-error:EService:Busy`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Waits this long, then behaves normally.
    Delay(Duration),
    /// Closes the connection without executing or answering (safe to resend).
    DropBeforeExecute,
    /// Executes, then closes the connection without answering: the outcome-unknown case.
    DropAfterExecute,
    /// Holds the request without answering until the client hangs up (its timeout or
    /// deadline, a dropped future), and executes it then, although nobody is left to answer:
    /// as a real server may carry out a request whose client gave up. The client's next
    /// requests execute after it. A client that never hangs up gets its answer after 30 s.
    ExecuteAfterHangup,
    /// HTTP 502 with an HTML page, as an edge proxy sends it. Not executed.
    BadGatewayHtml,
    /// HTTP 500 with `{"error":["EGeneral:Internal error"]}`. Not executed.
    InternalServerError,
    /// Executed, then answered with a 200 whose body is not valid JSON (the real body with its
    /// last byte cut off), as when a middlebox mangles a response.
    MalformedJson,
    /// Executed, then answered with a 200 whose `Content-Length` is the full body's but whose
    /// connection closes after half of it.
    TruncatedBody,
    /// Executed, then answered with the real envelope padded (by an extra `"padding"` member)
    /// to about this many bytes; still valid JSON. Capped at [`FaultKind::MAX_OVERSIZED_BODY`].
    OversizedBody(usize),
    /// A 200 with `{"error":["<this string>"]}`, not executed: e.g. `EAPI:Rate limit exceeded`,
    /// `EAPI:Invalid nonce`, `EService:Unavailable`, `EService:Busy`.
    KrakenError(String),
}

impl FaultKind {
    /// The largest body [`FaultKind::OversizedBody`] builds (256 MiB), so a typo cannot
    /// exhaust memory.
    pub const MAX_OVERSIZED_BODY: usize = 256 * 1024 * 1024;

    /// `EAPI:Rate limit exceeded`, not executed (one refusal; for Kraken's counter and
    /// lockouts see [`RateLimits`](crate::RateLimits)).
    pub fn rate_limited() -> Self {
        Self::KrakenError(prime_core::ErrorCode::RateLimitExceeded.as_str().to_owned())
    }

    /// `EService: Throttled: <until>` (Kraken's spelling, with spaces): not executed; try
    /// again after the Unix time `until` (seconds).
    pub fn throttled(until: u64) -> Self {
        Self::KrakenError(prime_core::ErrorCode::Throttled { until: Some(until) }.to_string())
    }

    /// `EGeneral:Too many requests`, not executed. No Kraken page shows this string; it is
    /// here to test clients against an undocumented refusal for rate.
    pub fn too_many_requests() -> Self {
        Self::KrakenError(prime_core::ErrorCode::TooManyRequests.as_str().to_owned())
    }

    /// `EService:Unavailable`, not executed.
    pub fn service_unavailable() -> Self {
        Self::KrakenError(
            prime_core::ErrorCode::ServiceUnavailable
                .as_str()
                .to_owned(),
        )
    }

    /// `EService:Busy`, not executed.
    pub fn service_busy() -> Self {
        Self::KrakenError(prime_core::ErrorCode::ServiceBusy.as_str().to_owned())
    }

    /// Whether the request is carried out before the fault spoils the answer.
    pub fn executes(&self) -> bool {
        matches!(
            self,
            Self::Delay(_)
                | Self::DropAfterExecute
                | Self::ExecuteAfterHangup
                | Self::MalformedJson
                | Self::TruncatedBody
                | Self::OversizedBody(_)
        )
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Delay(delay) => write!(f, "delay:{}", delay.as_millis()),
            Self::DropBeforeExecute => f.write_str("drop-before-execute"),
            Self::DropAfterExecute => f.write_str("drop-after-execute"),
            Self::ExecuteAfterHangup => f.write_str("execute-after-hangup"),
            Self::BadGatewayHtml => f.write_str("bad-gateway-html"),
            Self::InternalServerError => f.write_str("internal-server-error"),
            Self::MalformedJson => f.write_str("malformed-json"),
            Self::TruncatedBody => f.write_str("truncated-body"),
            Self::OversizedBody(bytes) => write!(f, "oversized-body:{bytes}"),
            Self::KrakenError(error) => write!(f, "kraken-error:{error}"),
        }
    }
}

/// Text that is not a [`FaultKind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultParseError {
    text: String,
}

impl fmt::Display for FaultParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown fault `{}`: expected delay:<ms>, drop-before-execute, drop-after-execute, \
             execute-after-hangup, \
             bad-gateway-html, internal-server-error, malformed-json, truncated-body, \
             oversized-body:<bytes> or kraken-error:<string>",
            self.text
        )
    }
}

impl std::error::Error for FaultParseError {}

impl FromStr for FaultKind {
    type Err = FaultParseError;

    /// ```
    /// use std::time::Duration;
    /// use prime_mock::FaultKind;
    ///
    /// assert_eq!("delay:250".parse(), Ok(FaultKind::Delay(Duration::from_millis(250))));
    /// assert_eq!(
    ///     "kraken-error:EService:Busy".parse(),
    ///     Ok(FaultKind::service_busy())
    /// );
    /// assert!("explode".parse::<FaultKind>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || FaultParseError {
            text: text.to_owned(),
        };
        let (name, argument) = match text.split_once(':') {
            Some((name, argument)) => (name, Some(argument)),
            None => (text, None),
        };
        let kind = match (name, argument) {
            ("delay", Some(ms)) => {
                Self::Delay(Duration::from_millis(ms.parse().map_err(|_| error())?))
            }
            ("drop-before-execute", None) => Self::DropBeforeExecute,
            ("drop-after-execute", None) => Self::DropAfterExecute,
            ("execute-after-hangup", None) => Self::ExecuteAfterHangup,
            ("bad-gateway-html", None) => Self::BadGatewayHtml,
            ("internal-server-error", None) => Self::InternalServerError,
            ("malformed-json", None) => Self::MalformedJson,
            ("truncated-body", None) => Self::TruncatedBody,
            ("oversized-body", Some(bytes)) => {
                Self::OversizedBody(bytes.parse().map_err(|_| error())?)
            }
            ("kraken-error", Some(message)) if !message.is_empty() => {
                Self::KrakenError(message.to_owned())
            }
            _ => return Err(error()),
        };
        Ok(kind)
    }
}

/// A queued fault: what goes wrong, for which method, how many times.
///
/// Queue it with [`crate::MockServer::push_fault`] (or `POST /__mock/faults`). Each request to
/// one of the 13 Prime endpoints takes the oldest queued fault whose method filter matches it
/// (any method when unset), consuming one of its `times`. Requests to unknown paths and to the
/// control interface never consume faults.
///
/// ```
/// use prime_mock::{Fault, FaultKind};
///
/// let fault = Fault::new(FaultKind::DropAfterExecute)
///     .on("CreatePrimeApiUserKey")
///     .times(2);
/// assert_eq!(fault.method(), Some("CreatePrimeApiUserKey"));
/// assert_eq!(fault.remaining(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    kind: FaultKind,
    method: Option<String>,
    remaining: u32,
}

impl Fault {
    /// A fault that hits the next request to any endpoint, once.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            method: None,
            remaining: 1,
        }
    }

    /// Only requests to `method` (e.g. `CreatePrimeApiUserKey`) take this fault.
    #[must_use]
    pub fn on(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Hits this many matching requests (default 1; 0 makes the fault a no-op).
    #[must_use]
    pub fn times(mut self, times: u32) -> Self {
        self.remaining = times;
        self
    }

    /// What goes wrong.
    pub fn kind(&self) -> &FaultKind {
        &self.kind
    }

    /// The method filter, if any.
    pub fn method(&self) -> Option<&str> {
        self.method.as_deref()
    }

    /// How many more requests it will hit.
    pub fn remaining(&self) -> u32 {
        self.remaining
    }

    fn matches(&self, method: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
    }
}

/// The queue of pending faults, oldest first.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    faults: VecDeque<Fault>,
}

impl FaultQueue {
    pub(crate) fn push(&mut self, fault: Fault) {
        if fault.remaining > 0 {
            self.faults.push_back(fault);
        }
    }

    /// Consumes one hit of the oldest fault matching `method`.
    pub(crate) fn take(&mut self, method: &str) -> Option<FaultKind> {
        let index = self.faults.iter().position(|f| f.matches(method))?;
        let fault = &mut self.faults[index];
        fault.remaining -= 1;
        let kind = fault.kind.clone();
        if fault.remaining == 0 {
            self.faults.remove(index);
        }
        Some(kind)
    }

    pub(crate) fn clear(&mut self) -> usize {
        let count = self.faults.len();
        self.faults.clear();
        count
    }

    pub(crate) fn pending(&self) -> Vec<Fault> {
        self.faults.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_taken_oldest_first_by_method() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::new(FaultKind::BadGatewayHtml).on("A").times(2));
        queue.push(Fault::new(FaultKind::MalformedJson));
        queue.push(Fault::new(FaultKind::TruncatedBody).times(0));
        assert_eq!(queue.take("B"), Some(FaultKind::MalformedJson));
        assert_eq!(queue.take("B"), None);
        assert_eq!(queue.take("A"), Some(FaultKind::BadGatewayHtml));
        assert_eq!(queue.take("A"), Some(FaultKind::BadGatewayHtml));
        assert_eq!(queue.take("A"), None);
    }

    #[test]
    fn text_forms_round_trip() {
        for kind in [
            FaultKind::Delay(Duration::from_millis(1500)),
            FaultKind::DropBeforeExecute,
            FaultKind::DropAfterExecute,
            FaultKind::BadGatewayHtml,
            FaultKind::InternalServerError,
            FaultKind::MalformedJson,
            FaultKind::TruncatedBody,
            FaultKind::OversizedBody(1 << 20),
            FaultKind::rate_limited(),
            FaultKind::throttled(1_795_880_000),
            FaultKind::too_many_requests(),
            FaultKind::service_unavailable(),
        ] {
            assert_eq!(kind.to_string().parse::<FaultKind>(), Ok(kind));
        }
        for bad in [
            "",
            "delay",
            "delay:x",
            "oversized-body",
            "kraken-error:",
            "drop-after-execute:1",
        ] {
            assert!(bad.parse::<FaultKind>().is_err(), "{bad}");
        }
    }
}
