//! What the command is doing right now, for the messages of a stop (the `--timeout` watchdog,
//! a signal) and for announcements: the activity under way, the call under way, and whether a
//! one-time secret is being handed over (a [`hold`], which the watchdog waits for).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

static ACTIVITY: Mutex<String> = Mutex::new(String::new());
static HOLDS: AtomicUsize = AtomicUsize::new(0);
static CALL: Mutex<Option<String>> = Mutex::new(None);

/// What the command is doing, for the message of a stop: a clause that says what was under
/// way and what that means (e.g. `during CreatePrimeApiUserKey, which may have taken effect`).
pub fn doing(activity: impl Into<String>) {
    *ACTIVITY.lock().unwrap_or_else(PoisonError::into_inner) = activity.into();
}

/// The call under way (`CreatePrimeApiUserKey`), for announcements; `None` between calls.
pub fn calling(name: Option<&str>) {
    *CALL.lock().unwrap_or_else(PoisonError::into_inner) = name.map(str::to_owned);
}

/// See [`calling`].
pub fn current_call() -> Option<String> {
    CALL.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// ` <activity>` for a stop message, or nothing.
pub fn activity_note() -> String {
    let activity = ACTIVITY.lock().unwrap_or_else(PoisonError::into_inner);
    if activity.is_empty() {
        String::new()
    } else {
        format!(" {activity}")
    }
}

/// While the returned guard lives, the watchdog waits (a secret is being handed over).
pub fn hold() -> Hold {
    HOLDS.fetch_add(1, Ordering::SeqCst);
    Hold(())
}

/// Whether a [`hold`] is active.
pub fn holding() -> bool {
    HOLDS.load(Ordering::SeqCst) > 0
}

/// See [`hold`].
pub struct Hold(());

impl Hold {
    /// Keeps the watchdog waiting for the rest of the process: the command is about to report
    /// a handed-over secret (or its failed delivery) and exit, and that report must not be cut
    /// short by a timeout message.
    pub fn until_exit(self) {
        std::mem::forget(self);
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        HOLDS.fetch_sub(1, Ordering::SeqCst);
    }
}
