//! The state the server's tasks and the [`MockServer`](crate::MockServer) handle share: the
//! simulated account and the queued faults.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::account::Account;
use crate::fault::FaultQueue;

/// State shared by the server task and the [`MockServer`](crate::MockServer) handle.
pub(crate) struct Shared {
    simulator: Mutex<Account>,
    faults: Mutex<FaultQueue>,
    /// How long a request body may take to arrive once its headers have.
    pub(crate) body_timeout: Duration,
    /// How many requests an `execute-after-hangup` fault holds unexecuted. Other requests
    /// wait until it is zero before they execute, so a held request executes (when its client
    /// hangs up) before anything the client sends next: the simulator's stand-in for a
    /// server that runs a request late but in order.
    pub(crate) held: tokio::sync::watch::Sender<usize>,
    /// Whether error replies carry `"result": {}`.
    error_result: AtomicBool,
}

impl Shared {
    pub(crate) fn new(simulator: Account, body_timeout: Duration, error_result: bool) -> Self {
        Self {
            simulator: Mutex::new(simulator),
            faults: Mutex::new(FaultQueue::default()),
            body_timeout,
            held: tokio::sync::watch::Sender::new(0),
            error_result: AtomicBool::new(error_result),
        }
    }

    /// An error reply's body, shaped as configured.
    pub(crate) fn error_body(&self, error: &str) -> Vec<u8> {
        crate::account::error_body_shaped(error, self.error_result.load(Ordering::Relaxed))
    }

    /// Whether error replies carry `"result": {}` from now on.
    pub(crate) fn set_error_result(&self, on: bool) {
        self.error_result.store(on, Ordering::Relaxed);
    }

    /// The simulator, even if a panic elsewhere poisoned the lock (its state stays consistent:
    /// every call validates before it mutates).
    pub(crate) fn simulator(&self) -> MutexGuard<'_, Account> {
        self.simulator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultQueue> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
