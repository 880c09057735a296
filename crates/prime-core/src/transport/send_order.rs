//! [`SendOrder`]: one order of signed requests per key, shared beyond one client (e.g. by every
//! process on a host), with the nonce high-water mark it keeps.
//!
//! The core only defines the interface; taking a turn waits and recording a nonce writes, so
//! implementations live outside it (the `prime-host-order` crate keeps one per key in an OS
//! file lock and a small state file).

use std::error::Error as StdError;
use std::fmt;

use crate::auth::ApiKey;

/// The order requests signed for one key leave in, shared by everyone who signs for that key
/// through it, and the last nonce any of them used.
///
/// A transport takes a [`SendTurn`] before signing and drops it once the response head has
/// arrived, exactly as it holds its in-process send order; the call driver signs inside the
/// turn with [`Call::request_in_turn_at`](crate::transport::Call::request_in_turn_at), taking the
/// nonce as `max(the nonce source's next, the turn's floor + 1)` and recording it before the
/// request leaves. Together they make the nonces of every holder strictly increasing, across
/// processes and restarts and whatever the wall clock does.
///
/// Set one with [`Settings::send_order`](crate::Settings::send_order). It is not used when
/// [`Settings::concurrent_sends`](crate::Settings::concurrent_sends) is on: a key with a nonce
/// window does not need one order.
///
/// ```
/// use std::sync::{Arc, Condvar, Mutex};
/// use prime_core::ApiKey;
/// use prime_core::transport::{SendOrder, SendOrderError, SendTurn};
///
/// /// An order for the threads of one process: the mark lives as long as the value.
/// #[derive(Debug, Default)]
/// struct InMemory(Arc<(Mutex<(bool, u64)>, Condvar)>);
///
/// struct Turn(Arc<(Mutex<(bool, u64)>, Condvar)>, u64);
///
/// impl SendOrder for InMemory {
///     fn take_turn(&self, _key: &ApiKey) -> Result<Box<dyn SendTurn>, SendOrderError> {
///         let (state, freed) = &*self.0;
///         let mut state = state.lock().unwrap();
///         while state.0 {
///             state = freed.wait(state).unwrap();
///         }
///         state.0 = true;
///         Ok(Box::new(Turn(self.0.clone(), state.1)))
///     }
/// }
///
/// impl SendTurn for Turn {
///     fn floor(&self) -> u64 {
///         self.1
///     }
///     fn record(&mut self, nonce: u64) -> Result<(), SendOrderError> {
///         self.0.0.lock().unwrap().1 = nonce;
///         Ok(())
///     }
/// }
///
/// impl Drop for Turn {
///     fn drop(&mut self) {
///         self.0.0.lock().unwrap().0 = false;
///         self.0.1.notify_one();
///     }
/// }
///
/// let order = InMemory::default();
/// let key = ApiKey::new("KEY")?;
/// let mut turn = order.take_turn(&key)?;
/// turn.record(1_700_000_000_000)?;
/// drop(turn);
/// assert_eq!(order.take_turn(&key)?.floor(), 1_700_000_000_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait SendOrder: Send + Sync + fmt::Debug {
    /// Waits until it is the caller's turn to sign and send for `key`, blocking the thread.
    /// The turn lasts until the returned value is dropped, and owns what it holds, so an
    /// async transport can take it off its runtime's threads (e.g. in `spawn_blocking`).
    ///
    /// # Errors
    /// [`SendOrderError`] when the order cannot be taken (its state cannot be opened or read);
    /// nothing has been signed or sent then.
    fn take_turn(&self, key: &ApiKey) -> Result<Box<dyn SendTurn>, SendOrderError>;

    /// Takes the turn only if it is free now, without waiting: `Ok(None)` when someone else
    /// holds it. An async transport tries this on its own thread first and moves to a
    /// blocking thread ([`SendOrder::take_turn`]) only when it must wait. Default: `Ok(None)`.
    ///
    /// # Errors
    /// As [`SendOrder::take_turn`].
    fn try_take_turn(&self, key: &ApiKey) -> Result<Option<Box<dyn SendTurn>>, SendOrderError> {
        let _ = key;
        Ok(None)
    }
}

/// One turn of a [`SendOrder`]: held from signing until the response head arrives; dropping it
/// hands the turn on.
pub trait SendTurn: Send {
    /// The largest nonce recorded for the key by any holder so far (0 if none): the next
    /// nonce must be greater.
    fn floor(&self) -> u64;

    /// Records `nonce` as used, before the request carrying it leaves: once this returns, no
    /// later turn, in this process or another, after a crash or a restart, has a floor
    /// below it.
    ///
    /// # Errors
    /// [`SendOrderError`] when it could not be recorded; the request must then not be sent.
    fn record(&mut self, nonce: u64) -> Result<(), SendOrderError>;

    /// Whether another holder (another process) had the turn when this one was asked for.
    /// Reported with a refused nonce. Default `false`.
    fn waited_for_another(&self) -> bool {
        false
    }
}

impl<T: SendOrder + ?Sized> SendOrder for std::sync::Arc<T> {
    fn take_turn(&self, key: &ApiKey) -> Result<Box<dyn SendTurn>, SendOrderError> {
        (**self).take_turn(key)
    }

    fn try_take_turn(&self, key: &ApiKey) -> Result<Option<Box<dyn SendTurn>>, SendOrderError> {
        (**self).try_take_turn(key)
    }
}

/// A [`SendOrder`] that could not be taken, or a nonce that could not be recorded: nothing
/// was sent.
#[derive(Debug)]
pub struct SendOrderError {
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl SendOrderError {
    /// An error saying what failed.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error saying what failed, caused by `source` (e.g. an `io::Error`).
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// What failed.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SendOrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for SendOrderError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
