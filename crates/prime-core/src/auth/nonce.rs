//! Nonces: strictly increasing per API key, forever, in one unit per key.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The unit a clock nonce counts in: the Unix time in milliseconds, microseconds or
/// nanoseconds.
///
/// Kraken compares each nonce with the last one it accepted for the key, whatever produced
/// it, so every tool that shares a key must use the same unit: a key last used by a
/// millisecond tool (`1700000000000`) accepts a nanosecond nonce (`1700000000000000000`),
/// after which the millisecond tool is refused for good. Kraken's guide calls milliseconds
/// the common choice and a higher resolution the way to send bursts; this crate defaults to
/// nanoseconds and lets a key shared with a millisecond tool stay in milliseconds.
///
/// ```
/// use std::time::Duration;
/// use prime_core::NonceUnit;
///
/// let since_epoch = Duration::from_millis(1_616_492_376_594);
/// assert_eq!(NonceUnit::Milliseconds.count(since_epoch), 1_616_492_376_594);
/// assert_eq!(NonceUnit::Nanoseconds.count(since_epoch), 1_616_492_376_594_000_000);
/// assert_eq!("ms".parse::<NonceUnit>(), Ok(NonceUnit::Milliseconds));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum NonceUnit {
    /// Milliseconds since the Unix epoch (13 digits today): what most Kraken tools send.
    Milliseconds,
    /// Microseconds since the Unix epoch (16 digits today).
    Microseconds,
    /// Nanoseconds since the Unix epoch (19 digits today): the default, room for bursts.
    #[default]
    Nanoseconds,
}

impl NonceUnit {
    /// The time since the Unix epoch in this unit, saturating at `u64::MAX`.
    pub fn count(self, since_epoch: Duration) -> u64 {
        let count = match self {
            Self::Milliseconds => since_epoch.as_millis(),
            Self::Microseconds => since_epoch.as_micros(),
            Self::Nanoseconds => since_epoch.as_nanos(),
        };
        u64::try_from(count).unwrap_or(u64::MAX)
    }

    /// The unit's short name: `ms`, `us` or `ns`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Milliseconds => "ms",
            Self::Microseconds => "us",
            Self::Nanoseconds => "ns",
        }
    }

    /// The unit a nonce most likely counts in, judged by its number of digits against today's
    /// Unix time (13 digits in ms, 16 in µs, 19 in ns); `None` for a nonce that is no clock
    /// reading in any of them (a counter, say).
    pub fn guess(nonce: u64) -> Option<Self> {
        match nonce.checked_ilog10()? + 1 {
            12..=14 => Some(Self::Milliseconds),
            15..=17 => Some(Self::Microseconds),
            18..=20 => Some(Self::Nanoseconds),
            _ => None,
        }
    }
}

impl fmt::Display for NonceUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A nonce unit name that is not `ms`, `us` or `ns`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown nonce unit (expected ms, us or ns)")]
pub struct UnknownNonceUnit;

impl FromStr for NonceUnit {
    type Err = UnknownNonceUnit;

    /// Parses `ms`, `us` (or `µs`) and `ns`, and the long names (`milliseconds`, …).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ms" | "millis" | "milliseconds" => Ok(Self::Milliseconds),
            "us" | "µs" | "micros" | "microseconds" => Ok(Self::Microseconds),
            "ns" | "nanos" | "nanoseconds" => Ok(Self::Nanoseconds),
            _ => Err(UnknownNonceUnit),
        }
    }
}

/// Supplies the nonce for each signed request.
///
/// Kraken rejects a nonce that is not greater than the last one it accepted for the key (unless
/// the key has a nonce window), and a nonce too far in the future poisons the key for good. An
/// implementation must therefore return strictly increasing values across all threads sharing
/// the key.
pub trait NonceSource: Send + Sync {
    /// Returns the next nonce.
    fn next_nonce(&self) -> u64;

    /// The clock unit its nonces count in, if they are clock readings (used to explain a
    /// refused nonce). Default `None`.
    fn unit(&self) -> Option<NonceUnit> {
        None
    }
}

/// The default nonce source: `max(previous + 1, unix time in its unit)`.
///
/// Lock-free (one compare-and-swap loop) and strictly increasing under any thread interleaving,
/// even when the wall clock steps backwards: it then counts up from the last value until the
/// clock catches up. The default unit, nanoseconds, leaves room for millions of requests per
/// second before the counter runs ahead of the clock; a key shared with a tool that sends
/// milliseconds needs [`ClockNonce::with_unit`] (see [`NonceUnit`]).
#[derive(Debug, Default)]
pub struct ClockNonce {
    last: AtomicU64,
    unit: NonceUnit,
}

impl ClockNonce {
    /// A new nanosecond source that has issued nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new source counting in `unit`.
    pub fn with_unit(unit: NonceUnit) -> Self {
        Self {
            last: AtomicU64::new(0),
            unit,
        }
    }

    /// A source that will only issue values greater than `floor` (e.g. the last nonce persisted
    /// by a previous process using the same key).
    #[must_use]
    pub fn after(floor: u64) -> Self {
        Self::with_unit(NonceUnit::default()).starting_after(floor)
    }

    /// This source, issuing only values greater than `floor`.
    #[must_use]
    pub fn starting_after(self, floor: u64) -> Self {
        self.last.fetch_max(floor, Ordering::Relaxed);
        self
    }

    /// The unit this source counts in.
    pub fn clock_unit(&self) -> NonceUnit {
        self.unit
    }

    /// The next nonce given the current time in this source's unit: `max(previous + 1, now)`.
    ///
    /// This is the pure heart of [`NonceSource::next_nonce`], exposed so tests can drive the
    /// clock. Saturates at `u64::MAX` (year 2554 in nanoseconds).
    pub fn next_at(&self, now: u64) -> u64 {
        let mut previous = self.last.load(Ordering::Relaxed);
        loop {
            let next = previous.saturating_add(1).max(now);
            match self.last.compare_exchange_weak(
                previous,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(actual) => previous = actual,
            }
        }
    }

    /// The last nonce issued (0 if none).
    pub fn last(&self) -> u64 {
        self.last.load(Ordering::Relaxed)
    }
}

impl NonceSource for ClockNonce {
    fn next_nonce(&self) -> u64 {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.next_at(self.unit.count(since_epoch))
    }

    fn unit(&self) -> Option<NonceUnit> {
        Some(self.unit)
    }
}

/// A deterministic source for tests and tools: `start`, `start + 1`, …
#[derive(Debug)]
pub struct CountingNonce {
    next: AtomicU64,
}

impl CountingNonce {
    /// A source whose first nonce is `start`.
    pub fn starting_at(start: u64) -> Self {
        Self {
            next: AtomicU64::new(start),
        }
    }
}

impl NonceSource for CountingNonce {
    fn next_nonce(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}

impl<T: NonceSource + ?Sized> NonceSource for std::sync::Arc<T> {
    fn next_nonce(&self) -> u64 {
        (**self).next_nonce()
    }

    fn unit(&self) -> Option<NonceUnit> {
        (**self).unit()
    }
}
