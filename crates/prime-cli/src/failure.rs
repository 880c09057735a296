//! How a command fails: a message for stderr and an exit code.

use std::fmt;
use std::process::ExitCode;

/// A failed command. `Usage` problems (exit 2) are the caller's to fix; `Call` failures
/// (exit 1) come from Kraken, the network or a failed check.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments, credentials or files.
    Usage(String),
    /// The call or check failed.
    Call(String),
}

impl Failure {
    /// Prints the message as one line on stderr and returns the exit code.
    pub fn report(self) -> ExitCode {
        eprintln!("prime: {self}");
        match self {
            Self::Usage(_) => ExitCode::from(2),
            Self::Call(_) => ExitCode::from(1),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) | Self::Call(message) => f.write_str(message),
        }
    }
}

impl From<prime_core::Error> for Failure {
    fn from(error: prime_core::Error) -> Self {
        match error {
            prime_core::Error::InvalidArgument(e) => Self::Usage(e.to_string()),
            other if other.is_outcome_unknown() => Self::Call(format!(
                "{}; check the account's state before repeating a create, update, delete or settle",
                with_causes(&other)
            )),
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
