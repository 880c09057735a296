//! How a command fails: a message for stderr and an exit code.

use std::fmt;
use std::io;
use std::process::ExitCode;

use prime_core::{Endpoint, Idempotency};

/// A failed command. `Usage` problems (exit 2) are the caller's to fix; `Call` failures
/// (exit 1) come from Kraken, the network or a failed check.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments, credentials or files.
    Usage(String),
    /// The call or check failed.
    Call(String),
    /// Whoever read stdout went away (`prime ... | head -1`): not an error of `prime`, so it
    /// ends quietly with exit 0, as other command-line tools do.
    StdoutClosed,
}

impl Failure {
    /// The exit code: 2 for usage, 1 for a failed call, 0 when stdout's reader went away.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Usage(_) => ExitCode::from(2),
            Self::Call(_) => ExitCode::from(1),
            Self::StdoutClosed => ExitCode::SUCCESS,
        }
    }

    /// A failed write to stdout: a closed pipe is [`Failure::StdoutClosed`], anything else (a
    /// full disk, an I/O error) a [`Failure::Call`].
    pub fn from_stdout(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Self::StdoutClosed
        } else {
            Self::Call(format!("cannot write to stdout: {error}"))
        }
    }

    /// A failed call to `E`, with advice that fits it: a read that may have been sent is safe
    /// to repeat; a write whose outcome is unknown must be checked first.
    pub fn from_call<E: Endpoint>(error: prime_core::Error) -> Self {
        let hint = hints(&error);
        match Self::call_failure::<E>(error) {
            Self::Call(message) => Self::Call(format!("{message}{hint}")),
            other => other,
        }
    }

    fn call_failure<E: Endpoint>(error: prime_core::Error) -> Self {
        match error {
            prime_core::Error::InvalidArgument(e) => Self::Usage(e.to_string()),
            prime_core::Error::NonceUnitMismatch(e) => Self::Usage(e.to_string()),
            other if other.is_outcome_unknown() => Self::Call(match E::IDEMPOTENCY {
                Idempotency::Idempotent => format!(
                    "{}: {}; it only reads, so repeating it is safe",
                    E::NAME,
                    with_causes(&other)
                ),
                Idempotency::NonIdempotent => format!(
                    "{}: {}; it may have taken effect: check the account's state before repeating it",
                    E::NAME,
                    with_causes(&other)
                ),
            }),
            other => Self::Call(format!("{}: {}", E::NAME, with_causes(&other))),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) | Self::Call(message) => f.write_str(message),
            Self::StdoutClosed => f.write_str("stdout was closed"),
        }
    }
}

/// What a person needs beside the error's own words: when a throttle ends, when a rate limit
/// or lockout may be called into again, and the API 2FA hint for `EAPI:Invalid signature`.
/// Empty for other errors.
pub fn hints(error: &prime_core::Error) -> String {
    format!(
        "{}{}{}",
        throttled_until(error),
        limited_until(error),
        otp_hint(error)
    )
}

/// `; call again with this key after 10:31:07 UTC (in 45 s)` for a rate limit or lockout the
/// client stopped on (the error already says how long to wait), else nothing.
fn limited_until(error: &prime_core::Error) -> String {
    let Some(wait) = error.recommended_wait() else {
        return String::new();
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let until = now
        .saturating_add(wait.as_secs())
        .saturating_add(u64::from(wait.subsec_nanos() > 0));
    format!(
        "; call again with this key after {}",
        crate::clock::human_time(until, now)
    )
}

/// Whether the calls carry an API 2FA password (for the hint on `EAPI:Invalid signature`).
static OTP_GIVEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The calls carry an API 2FA password: a refused signature's hint says so.
pub fn note_otp_given() {
    OTP_GIVEN.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Kraken answers a missing or wrong API 2FA password as `EAPI:Invalid signature`: say so,
/// pointing at `--otp`.
fn otp_hint(error: &prime_core::Error) -> &'static str {
    let invalid_signature = error.response().is_some_and(|response| {
        response
            .kraken_errors()
            .iter()
            .any(|e| matches!(e.code(), prime_core::ErrorCode::InvalidSignature))
    });
    match (
        invalid_signature,
        OTP_GIVEN.load(std::sync::atomic::Ordering::Relaxed),
    ) {
        (false, _) => "",
        (true, false) => {
            "; if the key has API 2FA, Kraken answers a call without its password this way: \
             pass --otp CODE (or KRAKEN_API_OTP)"
        }
        (true, true) => {
            "; if the --otp code is wrong or expired (a TOTP code changes every 30 s), Kraken \
             answers this way too"
        }
    }
}

/// `; Kraken takes calls again at 10:31:07 UTC (in 1 h 0 min)` for a throttle that names its
/// end (a raw Unix time tells a person nothing), else nothing.
fn throttled_until(error: &prime_core::Error) -> String {
    let until = error.response().and_then(|response| {
        response
            .kraken_errors()
            .iter()
            .find_map(|e| match e.code() {
                prime_core::ErrorCode::Throttled { until } => *until,
                _ => None,
            })
    });
    let Some(until) = until else {
        return String::new();
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "; Kraken takes calls again at {}",
        crate::clock::human_time(until, now)
    )
}

/// Without knowing the call (the demo, the simulator): the error's own words, which already
/// say whether the request may have been executed.
impl From<prime_core::Error> for Failure {
    fn from(error: prime_core::Error) -> Self {
        match error {
            prime_core::Error::InvalidArgument(e) => Self::Usage(e.to_string()),
            prime_core::Error::NonceUnitMismatch(e) => Self::Usage(e.to_string()),
            other => Self::Call(with_causes(&other)),
        }
    }
}

/// An error's message followed by its causes: errors do not repeat their `source()` in their
/// own message, so the chain is walked here.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        message.push_str(": ");
        message.push_str(&e.to_string());
        cause = e.source();
    }
    message
}

impl From<prime_core::workflow::CreateKeyError> for Failure {
    fn from(error: prime_core::workflow::CreateKeyError) -> Self {
        Self::Call(with_causes(&error))
    }
}

impl From<prime_core::BuildError> for Failure {
    fn from(error: prime_core::BuildError) -> Self {
        Self::Usage(error.to_string())
    }
}

impl From<prime_core::ArgumentError> for Failure {
    fn from(error: prime_core::ArgumentError) -> Self {
        Self::Usage(error.to_string())
    }
}
