//! A refused nonce explained, and a nonce unit that does not match the key's.

use std::fmt;

use crate::auth::NonceUnit;
use crate::wire::{ErrorCode, ResponseError};

/// Kraken refused a nonce (`EAPI:Invalid nonce`: not above the last one it accepted for the
/// key), even after the one re-signed resend: what this client sent, what it knew, and what
/// most likely happened.
///
/// Kraken does not say which nonce it had seen, so the causes are the likely ones given what
/// the client knows: its unit, whether it shares a [`SendOrder`](crate::transport::SendOrder)
/// with the other processes of its host (and whether one of them had just sent), and whether
/// it sends concurrently. `Display` says all of it in one line, with the remedy.
///
/// ```
/// use prime_core::transport::{NonceCause, NonceRefusal};
/// use prime_core::{NonceUnit, ResponseError, parse_response};
/// use prime_core::endpoints::BatchList;
/// use prime_core::http::{HeaderMap, StatusCode};
///
/// let refused = parse_response::<BatchList>(
///     StatusCode::OK,
///     &HeaderMap::new(),
///     br#"{"error":["EAPI:Invalid nonce"],"result":{}}"#,
/// )
/// .unwrap_err();
/// let refusal = NonceRefusal::new(refused, 1_700_000_000_000, Some(NonceUnit::Milliseconds))
///     .unwrap();
/// assert_eq!(refusal.sent(), 1_700_000_000_000);
/// assert!(matches!(refusal.causes()[0], NonceCause::LargerScale { .. }));
/// assert!(refusal.to_string().contains("larger scale"));
/// ```
#[derive(Debug, Clone)]
pub struct NonceRefusal {
    sent: u64,
    unit: Option<NonceUnit>,
    shared: Option<SharedTurn>,
    concurrent_sends: bool,
    response: ResponseError,
}

/// What the shared send order told the refused attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SharedTurn {
    floor: u64,
    waited_for_another: bool,
}

/// A likely cause of a refused nonce, most likely first (see [`NonceRefusal::causes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonceCause {
    /// Another tool used the key with nonces of a larger scale (e.g. nanoseconds, 19 digits,
    /// where this client sends milliseconds, 13 digits): every nonce of this client is now too
    /// low. Remedy: send in that tool's unit.
    LargerScale {
        /// The unit this client sends (or its nonces look like).
        this_client: NonceUnit,
    },
    /// A request signed elsewhere with the same key reached Kraken with a higher nonce first:
    /// another process not sharing this client's send order, a process on another host, or
    /// a tool that keeps its own order. Remedy: the shared host send order in every process of
    /// the host; beyond one host, a nonce window or one key per worker.
    SentElsewhere {
        /// Whether this client shares a send order with the other processes of its host.
        shared_order: bool,
    },
    /// This client signs and sends concurrently, so its own requests overtake each other, and
    /// the key's nonce window (if any) is too narrow for it. Remedy: a wider window, or
    /// sending in order.
    NoWindow,
}

impl NonceRefusal {
    /// The refusal of `sent` (in `unit`, if known) that `response` carries.
    ///
    /// # Errors
    /// `response` itself, given back, when it is not an `EAPI:Invalid nonce`.
    pub fn new(
        response: ResponseError,
        sent: u64,
        unit: Option<NonceUnit>,
    ) -> Result<Self, ResponseError> {
        let refused = response
            .kraken_errors()
            .iter()
            .any(|e| *e.code() == ErrorCode::InvalidNonce);
        if !refused {
            return Err(response);
        }
        Ok(Self {
            sent,
            unit,
            shared: None,
            concurrent_sends: false,
            response,
        })
    }

    /// Notes what the shared send order said: the key's recorded high-water mark before this
    /// nonce, and whether another process held the order just before.
    #[must_use]
    pub fn with_shared_order(mut self, floor: u64, waited_for_another: bool) -> Self {
        self.shared = Some(SharedTurn {
            floor,
            waited_for_another,
        });
        self
    }

    /// Notes that the client sends concurrently (no send order).
    #[must_use]
    pub fn with_concurrent_sends(mut self, on: bool) -> Self {
        self.concurrent_sends = on;
        self
    }

    /// The nonce Kraken refused (the last one this client sent).
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// The unit this client's nonces count in: its source's, or else the one the refused
    /// nonce looks like ([`NonceUnit::guess`]).
    pub fn unit(&self) -> Option<NonceUnit> {
        self.unit.or_else(|| NonceUnit::guess(self.sent))
    }

    /// The last nonce recorded for the key by the shared send order before the refused one,
    /// if the client shares one.
    pub fn recorded(&self) -> Option<u64> {
        self.shared.map(|s| s.floor)
    }

    /// Whether another process held the shared send order just before this attempt (`None`
    /// without a shared order).
    pub fn waited_for_another(&self) -> Option<bool> {
        self.shared.map(|s| s.waited_for_another)
    }

    /// The likely causes, most likely first.
    pub fn causes(&self) -> Vec<NonceCause> {
        let mut causes = Vec::with_capacity(3);
        if self.concurrent_sends {
            causes.push(NonceCause::NoWindow);
        }
        match self.unit() {
            Some(NonceUnit::Nanoseconds) => {}
            Some(this_client) => causes.push(NonceCause::LargerScale { this_client }),
            None => {}
        }
        causes.push(NonceCause::SentElsewhere {
            shared_order: self.shared.is_some(),
        });
        causes
    }

    /// Kraken's answer.
    pub fn response(&self) -> &ResponseError {
        &self.response
    }
}

impl fmt::Display for NonceRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kraken refused nonce {}", self.sent)?;
        if let Some(unit) = self.unit() {
            write!(f, " (a {unit} nonce)")?;
        }
        f.write_str(" as not above the last nonce it accepted for this key")?;
        match self.shared {
            Some(SharedTurn {
                floor,
                waited_for_another,
            }) => {
                write!(
                    f,
                    "; this host's send order had {floor} as the key's last nonce"
                )?;
                if waited_for_another {
                    f.write_str(", and another process had just held it")?;
                }
            }
            None => f.write_str("; this client shares no send order with other processes")?,
        }
        f.write_str(". Likely: ")?;
        for (i, cause) in self.causes().iter().enumerate() {
            if i > 0 {
                f.write_str("; or ")?;
            }
            write!(f, "{cause}")?;
        }
        f.write_str(
            ". Kraken counts invalid nonces against the key and locks it out after repeated ones",
        )
    }
}

impl fmt::Display for NonceCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LargerScale { this_client } => write!(
                f,
                "another tool used the key with nonces of a larger scale than {this_client} \
                 (its nonces have more digits): send in that tool's unit (the nonce unit \
                 setting, `prime --nonce-unit`); every tool on a key must use one unit"
            ),
            Self::SentElsewhere { shared_order: true } => f.write_str(
                "a request with this key from outside this host's send order (another host, or a \
                 tool that does not use the order) arrived first: give the key a nonce window, \
                 or each worker its own key",
            ),
            Self::SentElsewhere {
                shared_order: false,
            } => f.write_str(
                "another process with this key sent at the same time: turn on the host send \
                 order in every process that uses the key (on by default in `prime`), or give \
                 each worker its own key",
            ),
            Self::NoWindow => f.write_str(
                "this client sends concurrently and the key's nonce window is too narrow for \
                 it: widen the window or turn concurrent sends off",
            ),
        }
    }
}

impl std::error::Error for NonceRefusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.response)
    }
}

/// The key's recorded nonces count in another unit than this client's: refused before
/// anything was signed, because sending would break the key's one format.
///
/// A larger unit than the key's (nanoseconds on a millisecond key) would be accepted and lock
/// every tool that sends the smaller one out of the key for good; a smaller one would be
/// refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the last nonce recorded for this key ({recorded}) counts in {recorded_unit}, but this client \
     sends {unit} nonces; nothing was sent. Every tool on a key must use one unit: set the nonce \
     unit to {recorded_unit} (`prime --nonce-unit {recorded_unit}`); to move the key to {unit} on \
     purpose, first stop every tool that sends {recorded_unit} and remove the key's send-order \
     state"
)]
pub struct NonceUnitMismatch {
    recorded: u64,
    recorded_unit: NonceUnit,
    unit: NonceUnit,
}

impl NonceUnitMismatch {
    /// `None` unless `recorded` looks like a reading in another unit than `unit`.
    pub fn check(recorded: u64, unit: NonceUnit) -> Option<Self> {
        let recorded_unit = NonceUnit::guess(recorded)?;
        (recorded_unit != unit).then_some(Self {
            recorded,
            recorded_unit,
            unit,
        })
    }

    /// The key's last recorded nonce.
    pub fn recorded(&self) -> u64 {
        self.recorded
    }

    /// The unit it looks like.
    pub fn recorded_unit(&self) -> NonceUnit {
        self.recorded_unit
    }

    /// The unit this client sends.
    pub fn unit(&self) -> NonceUnit {
        self.unit
    }
}
