//! `--timeout`: the overall bound of a `users`, `keys` or `settlement` command — every call
//! with its retries and waits, every check, every `--secret-cmd` delivery.
//!
//! Each part is bounded by what is left ([`remaining`]): a call's attempt, a retry wait, a
//! check's connection and reads (an absolute deadline, not a per-read timeout that every
//! dripped byte resets), a command's delivery. A watchdog thread is the backstop: when the
//! time is up (and half a second more) it ends what `prime` started, says what was under way and what that means, and
//! exits 1 — except inside a [`hold`](crate::activity::hold), where a one-time secret is being handed over (that
//! part has its own bound, the same deadline).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::activity::{activity_note, holding};
use crate::clock::seconds;

static DEADLINE: OnceLock<(Instant, Duration)> = OnceLock::new();
/// How long after the deadline the watchdog acts.
const WATCHDOG_GRACE: Duration = Duration::from_millis(500);

/// Starts the budget of `timeout` from now, with its watchdog.
pub fn start(timeout: Duration) {
    let start = Instant::now();
    if DEADLINE.set((start + timeout, timeout)).is_err() {
        return;
    }
    std::thread::spawn(move || {
        // Each part is bounded by the deadline itself and reports its own failure; the
        // watchdog is the backstop for what is not, a moment later.
        let deadline = start + timeout + WATCHDOG_GRACE;
        loop {
            let now = Instant::now();
            if now >= deadline && !holding() {
                break;
            }
            let nap = deadline
                .saturating_duration_since(now)
                .max(Duration::from_millis(20));
            std::thread::sleep(nap.min(Duration::from_millis(250)));
        }
        if !crate::processes::begin_stop() {
            // A signal is already stopping the process.
            return;
        }
        let ended = crate::processes::end_all();
        let children = if ended == 0 {
            String::new()
        } else {
            " (it ended what it started)".to_owned()
        };
        crate::output::stderr(&format!(
            "prime: --timeout {} ran out{children}{}\n",
            seconds(timeout),
            activity_note()
        ));
        std::process::exit(1);
    });
}

/// The absolute deadline, if a budget was started.
pub fn deadline() -> Option<Instant> {
    DEADLINE.get().map(|(deadline, _)| *deadline)
}

/// What is left of the budget (the whole of `fallback` without one).
pub fn remaining(fallback: Duration) -> Duration {
    match deadline() {
        Some(deadline) => deadline.saturating_duration_since(Instant::now()),
        None => fallback,
    }
}
