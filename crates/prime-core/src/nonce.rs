//! Nonces: strictly increasing per API key, forever.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Supplies the nonce for each signed request.
///
/// Kraken rejects a nonce that is not greater than the last one it accepted for the key (unless
/// the key has a nonce window), and a nonce too far in the future poisons the key for good. An
/// implementation must therefore return strictly increasing values across all threads sharing
/// the key.
pub trait NonceSource: Send + Sync {
    /// Returns the next nonce.
    fn next_nonce(&self) -> u64;
}

/// The default nonce source: `max(previous + 1, unix time in nanoseconds)`.
///
/// Lock-free (one compare-and-swap loop) and strictly increasing under any thread interleaving,
/// even when the wall clock steps backwards: it then counts up from the last value until the
/// clock catches up. Nanoseconds are what Kraken recommends, and they leave room for
/// millions of requests per second before the counter runs ahead of the clock.
#[derive(Debug, Default)]
pub struct ClockNonce {
    last: AtomicU64,
}

impl ClockNonce {
    /// A new source that has issued nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A source that will only issue values greater than `floor` (e.g. the last nonce persisted
    /// by a previous process using the same key).
    pub fn after(floor: u64) -> Self {
        Self {
            last: AtomicU64::new(floor),
        }
    }

    /// The next nonce given the current time: `max(previous + 1, now_ns)`.
    ///
    /// This is the pure heart of [`NonceSource::next_nonce`], exposed so tests can drive the
    /// clock. Saturates at `u64::MAX` (year 2554 in nanoseconds).
    pub fn next_at(&self, now_ns: u64) -> u64 {
        let mut previous = self.last.load(Ordering::Relaxed);
        loop {
            let next = previous.saturating_add(1).max(now_ns);
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
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        self.next_at(now_ns)
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
}
