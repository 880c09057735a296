//! `--timeout`: the overall bound of a `users`, `keys` or `settlement` command — every call
//! with its retries and waits, every check, every `--secret-cmd` delivery.
//!
//! Each part is bounded by what is left ([`remaining`]): a call's attempt, a retry wait, a
//! check's connection and reads (an absolute deadline, not a per-read timeout that every
//! dripped byte resets), a command's delivery. A watchdog thread is the backstop: when the
//! time is up (and half a second more) it ends what `prime` started, says what was under way and what that means, and
//! exits 1 — except inside a [`hold`], where a one-time secret is being handed over (that
//! part has its own bound, the same deadline).

use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static DEADLINE: OnceLock<(Instant, Duration)> = OnceLock::new();
/// How long after the deadline the watchdog acts.
const WATCHDOG_GRACE: Duration = Duration::from_millis(500);
static ACTIVITY: Mutex<String> = Mutex::new(String::new());
static HOLDS: AtomicUsize = AtomicUsize::new(0);
static CALL: Mutex<Option<String>> = Mutex::new(None);

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
            if now >= deadline && HOLDS.load(Ordering::SeqCst) == 0 {
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

/// `12 s`, `1.5 s`.
pub fn seconds(duration: Duration) -> String {
    let s = duration.as_secs_f64();
    if (s - s.round()).abs() < 1e-9 {
        format!("{} s", s.round())
    } else {
        format!("{s:.1} s")
    }
}

/// A moment as people read it: `10:31:07 UTC` today, or `2026-12-04 10:31:07 UTC` on
/// another day, with how far away it is (`in 1 h 2 min`).
pub fn human_time(unix_seconds: u64, now_unix: u64) -> String {
    let (date, time) = utc(unix_seconds);
    let (today, _) = utc(now_unix);
    let when = if date == today {
        format!("{time} UTC")
    } else {
        format!("{date} {time} UTC")
    };
    let away = unix_seconds.saturating_sub(now_unix);
    let distance = if unix_seconds <= now_unix {
        "now".to_owned()
    } else if away < 60 {
        format!("in {away} s")
    } else if away < 3600 {
        format!("in {} min {} s", away / 60, away % 60)
    } else if away < 86_400 {
        format!("in {} h {} min", away / 3600, (away % 3600) / 60)
    } else {
        format!("in {} days", away / 86_400)
    };
    format!("{when} ({distance})")
}

/// (`YYYY-MM-DD`, `HH:MM:SS`) of a Unix time, UTC (the civil-from-days algorithm).
fn utc(unix_seconds: u64) -> (String, String) {
    let days = i64::try_from(unix_seconds / 86_400).unwrap_or(i64::MAX / 2);
    let rest = unix_seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!(
            "{:02}:{:02}:{:02}",
            rest / 3600,
            (rest % 3600) / 60,
            rest % 60
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_time_reads_as_a_clock_and_a_distance() {
        // 2026-12-03 09:00:00 UTC.
        let now = 1_796_288_400;
        assert_eq!(human_time(now + 12, now), "09:00:12 UTC (in 12 s)");
        assert_eq!(human_time(now + 3600, now), "10:00:00 UTC (in 1 h 0 min)");
        assert_eq!(human_time(now + 125, now), "09:02:05 UTC (in 2 min 5 s)");
        assert_eq!(
            human_time(now + 16 * 3600, now),
            "2026-12-04 01:00:00 UTC (in 16 h 0 min)"
        );
        assert_eq!(human_time(0, now), "1970-01-01 00:00:00 UTC (now)");
        assert_eq!(utc(951_782_400).0, "2000-02-29");
        assert!(utc(u64::MAX).0.len() > 4);
    }
}
