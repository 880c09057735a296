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
        match error {
            prime_core::Error::InvalidArgument(e) => Self::Usage(e.to_string()),
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

/// Without knowing the call (the demo, the simulator): the error's own words, which already
/// say whether the request may have been executed.
impl From<prime_core::Error> for Failure {
    fn from(error: prime_core::Error) -> Self {
        match error {
            prime_core::Error::InvalidArgument(e) => Self::Usage(e.to_string()),
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
