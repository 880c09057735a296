//! What `prime` started, and ends however it stops short of SIGKILL: child process groups
//! (a `vectors verify --signer`, a `keys rotate --secret-cmd`) and files that must not outlive
//! the process (`prime mock --credentials-out`, a rotation's lock).
//!
//! SIGINT, SIGTERM and SIGHUP are caught by a thread (the handler itself only records the
//! signal): it ends every tracked process group (SIGTERM, a moment, then SIGKILL), removes the
//! tracked files, says so on stderr and exits with 128 + the signal's number, as a shell
//! reports a process killed by it. Error paths end their children where they fail; the
//! [`--timeout`](crate::budget) watchdog calls [`end_all`] too.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Process groups started and not yet waited for (each child leads its own group).
static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// Files to remove when the process is stopped.
static FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Set once a stop (signal or watchdog) is under way: it decides the exit code.
static STOPPING: AtomicBool = AtomicBool::new(false);
/// Set when the main thread has finished its work and report.
static MAIN_DONE: AtomicBool = AtomicBool::new(false);

/// Marks a stop as under way; `false` if one already was.
pub fn begin_stop() -> bool {
    !STOPPING.swap(true, Ordering::SeqCst)
}

/// Called by the main thread before it exits: while a stop is under way (its thread ending
/// the children it killed may have made the command fail quickly), the stop decides how the
/// process ends, so this waits for it.
pub fn let_a_stop_finish() {
    MAIN_DONE.store(true, Ordering::SeqCst);
    if STOPPING.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}

/// A child leading its own process group was started.
pub fn track_group(pid: u32) {
    GROUPS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(pid);
}

/// The child was waited for: its group is no longer ours to end.
pub fn untrack_group(pid: u32) {
    GROUPS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .retain(|&p| p != pid);
}

/// `path` is removed if the process is stopped by a signal or the watchdog.
pub fn remove_on_stop(path: &Path) {
    FILES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(path.to_owned());
}

/// `path` is no longer removed on a stop (it was removed, or is meant to stay).
pub fn keep(path: &Path) {
    FILES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .retain(|p| p != path);
}

/// Ends every tracked process group and removes every tracked file. Returns how many groups
/// were ended.
pub fn end_all() -> usize {
    let groups: Vec<u32> =
        std::mem::take(&mut *GROUPS.lock().unwrap_or_else(PoisonError::into_inner));
    #[cfg(unix)]
    {
        use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
        let pids: Vec<Pid> = groups
            .iter()
            .filter_map(|&p| i32::try_from(p).ok().and_then(Pid::from_raw))
            .collect();
        for &pid in &pids {
            let _ = kill_process_group(pid, Signal::TERM);
        }
        // A moment to exit cleanly, then no choice.
        let grace = Instant::now() + Duration::from_millis(300);
        while Instant::now() < grace && pids.iter().any(|&p| test_kill_process_group(p).is_ok()) {
            std::thread::sleep(Duration::from_millis(10));
        }
        for &pid in &pids {
            let _ = kill_process_group(pid, Signal::KILL);
        }
    }
    let files: Vec<PathBuf> =
        std::mem::take(&mut *FILES.lock().unwrap_or_else(PoisonError::into_inner));
    for file in files {
        let _ = std::fs::remove_file(file);
    }
    groups.len()
}

/// Starts the thread that answers SIGINT, SIGTERM and SIGHUP (see the module docs).
pub fn install() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                if !begin_stop() {
                    // The watchdog is already stopping the process.
                    return;
                }
                let name = match signal {
                    SIGINT => "SIGINT",
                    SIGTERM => "SIGTERM",
                    _ => "SIGHUP",
                };
                let ended = end_all();
                // A one-time secret being handed over (its command was just ended, so the
                // hand-over fails now): let the main thread print it and record that before
                // the process ends, so what was printed and what a rerun does agree.
                let limit = Instant::now() + Duration::from_secs(5);
                while crate::activity::holding()
                    && !MAIN_DONE.load(Ordering::SeqCst)
                    && Instant::now() < limit
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                let children = match ended {
                    0 => String::new(),
                    1 => " (it ended the process it started)".to_owned(),
                    n => format!(" (it ended the {n} processes it started)"),
                };
                crate::output::stderr(&format!(
                    "prime: stopped by {name}{children}{}\n",
                    crate::activity::activity_note()
                ));
                std::process::exit(128 + signal);
            }
        });
    }
}
