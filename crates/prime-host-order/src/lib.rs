//! One send order per Kraken API key for every process on a host, with a persisted nonce
//! high-water mark: a [`SendOrder`] for the
//! [kraken-prime](https://github.com/kraken-prime/kraken-prime) clients.
//!
//! Kraken refuses a nonce that is not above the last one it accepted for the key. One client
//! keeps its own requests in order, but two processes using the same key (a service and `prime`
//! run from cron, two services, a key rotation beside a settlement job) overtake each other, and
//! a clock stepped back (NTP, a restored VM) makes a restarted process reuse lower nonces.
//! [`HostSendOrder`] closes both gaps on one host:
//!
//! - **One turn per key across processes**: an OS file lock (`flock` on Unix, `LockFileEx` on
//!   Windows, through [`std::fs::File::lock`]) on a file named from a hash of the API key
//!   (never the key itself), held from signing until the response head arrives. A process
//!   killed while holding it releases it: the OS drops the lock with the process.
//! - **A high-water mark beside it**: each nonce is the larger of the clock and the last nonce
//!   used + 1 (the call driver takes `max(source's next, floor + 1)`), so neither a clock
//!   stepped back nor a restart reuses a nonce.
//!
//! ```
//! use std::sync::Arc;
//! use prime_core::{ApiKey, Settings};
//! use prime_host_order::HostSendOrder;
//! # let dir = std::env::temp_dir().join(format!("prime-host-order-doc-{}", std::process::id()));
//!
//! // Every process that uses the key on this host: the same directory (by default the user's
//! // state directory, see `HostSendOrder::new`).
//! let order = Arc::new(HostSendOrder::in_dir(&dir));
//! let settings = Settings::default().send_order(order.clone());
//! # let _ = settings;
//!
//! // What a transport does for each attempt (both clients do it for you):
//! let key = ApiKey::new("KRA5L19LAW8Z")?;
//! use prime_core::transport::SendOrder as _;
//! let mut turn = order.take_turn(&key)?;
//! turn.record(turn.floor().max(1_700_000_000_000_000_000) + 1)?;
//! drop(turn); // the response head arrived: the next holder may sign
//! assert_eq!(order.take_turn(&key)?.floor(), 1_700_000_000_000_000_001);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With the clients it is one line: `Client::builder(credentials).host_send_order()` in
//! `prime-blocking` and `prime-async` (which re-export this crate); the `prime` command takes
//! the order on every call unless told `--nonce-order off`.
//!
//! # What is durable, and when
//!
//! The state file holds one line: the key's last nonce, a bound above every nonce ever sent,
//! and the boot it was written in. Each turn reads it and writes the new last nonce in place
//! (two small system calls): once written, every other process sees it, even if the writer is
//! killed the next instant, because the page cache outlives the process. What a crash of the
//! *machine* could lose is what was not yet on disk, so before a nonce above the synced bound
//! leaves, the bound moves one second (in the nonce's unit) ahead of it and the file is synced
//! (`fdatasync`): at most about one sync a second. After a reboot (a new boot id) the floor is
//! the synced bound, so no nonce sent before the crash comes back. Where the OS names no boot
//! (anything but Linux), the floor is always the last nonce written, which survives a killed
//! process but not a power cut that coincides with the clock going back.
//!
//! # What it does not do
//!
//! It orders the processes of **one host**. Processes on several hosts sharing a key need
//! Kraken's own answers: a nonce window on the key, or one key per worker. A distributed lock
//! would add a network round trip to every call and still fail the way any lock service does;
//! this crate does not try.
//!
//! Processes that use the key without this order (another tool) are not held back by it. And
//! every process must use the same directory: by default the user's state directory, so two
//! system users sharing a key need a directory both can write ([`HostSendOrder::in_dir`]).
#![forbid(unsafe_code)]

// The README's example is compiled as a doctest, so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod mark;

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};

use prime_core::ApiKey;
use prime_core::transport::{SendOrder, SendOrderError, SendTurn};
use sha2::{Digest as _, Sha256};

use mark::{LINE_LEN, Mark};

/// The order every process on this host takes before signing for a key, and the key's nonce
/// high-water mark: see the [crate docs](crate).
///
/// Cheap to share (put it in an `Arc` and give it to every client); state files are opened
/// once per key and kept open.
pub struct HostSendOrder {
    dir: Option<PathBuf>,
    keys: Mutex<HashMap<String, Arc<KeyFile>>>,
}

impl HostSendOrder {
    /// An order kept in the user's state directory ([`HostSendOrder::state_dir`]), resolved
    /// and created when a key's turn is first taken.
    pub fn new() -> Self {
        Self {
            dir: None,
            keys: Mutex::default(),
        }
    }

    /// An order kept in `dir` (created when a key's turn is first taken). Every process
    /// sharing a key must name the same directory.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            keys: Mutex::default(),
        }
    }

    /// The user's state directory for the order: `$XDG_STATE_HOME/kraken-prime/send-order`,
    /// else `$HOME/.local/state/kraken-prime/send-order` (on Windows
    /// `%LOCALAPPDATA%\kraken-prime\send-order`); `None` when none of these is set.
    pub fn state_dir() -> Option<PathBuf> {
        let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        let base = if cfg!(windows) {
            non_empty("LOCALAPPDATA").map(PathBuf::from)
        } else {
            non_empty("XDG_STATE_HOME")
                .map(PathBuf::from)
                .or_else(|| non_empty("HOME").map(|home| Path::new(&home).join(".local/state")))
        };
        base.map(|base| base.join("kraken-prime").join("send-order"))
    }

    /// The file holding `key`'s lock and high-water mark: named from a SHA-256 of the key,
    /// never the key itself.
    ///
    /// # Errors
    /// [`SendOrderError`] when no directory was given and there is no state directory.
    pub fn file_for(&self, key: &ApiKey) -> Result<PathBuf, SendOrderError> {
        let dir = match &self.dir {
            Some(dir) => dir.clone(),
            None => Self::state_dir().ok_or_else(|| {
                SendOrderError::new(
                    "no state directory for the send order (set XDG_STATE_HOME or HOME, or give a directory)",
                )
            })?,
        };
        Ok(dir.join(format!("{}.order", key_hash(key))))
    }

    /// The key's state, opened on first use.
    fn key_file(&self, key: &ApiKey) -> Result<Arc<KeyFile>, SendOrderError> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = keys.get(key.as_str()) {
            return Ok(open.clone());
        }
        let path = self.file_for(key)?;
        let opened = KeyFile::open(path)?;
        keys.insert(key.as_str().to_owned(), opened.clone());
        Ok(opened)
    }
}

impl Default for HostSendOrder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for HostSendOrder {
    // Names the directory, not the keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostSendOrder")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl SendOrder for HostSendOrder {
    fn take_turn(&self, key: &ApiKey) -> Result<Box<dyn SendTurn>, SendOrderError> {
        let file = self.key_file(key)?;
        Ok(Box::new(KeyFile::take_turn(file, Wait::Yes)?.ok_or_else(
            || SendOrderError::new("the send order was not taken"),
        )?))
    }

    fn try_take_turn(&self, key: &ApiKey) -> Result<Option<Box<dyn SendTurn>>, SendOrderError> {
        let file = self.key_file(key)?;
        Ok(KeyFile::take_turn(file, Wait::No)?.map(|turn| Box::new(turn) as Box<dyn SendTurn>))
    }
}

/// Whether taking a turn may wait for its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Yes,
    No,
}

/// A hex SHA-256 of the key (domain-separated), shortened: a file name that says which key
/// without saying the key.
fn key_hash(key: &ApiKey) -> String {
    let digest = Sha256::new()
        .chain_update(b"kraken-prime send order\0")
        .chain_update(key.as_str().as_bytes())
        .finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// This boot's id (Linux), or empty where the OS names none.
fn boot_id() -> &'static str {
    static BOOT: OnceLock<String> = OnceLock::new();
    BOOT.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|id| id.trim().to_owned())
            .unwrap_or_default()
    })
}

/// One key's open state file; the threads of this process take turns on it (the OS lock only
/// tells processes apart).
struct KeyFile {
    path: PathBuf,
    file: File,
    turns: Mutex<Turns>,
    freed: Condvar,
}

/// This process's turns on one key.
#[derive(Debug, Default)]
struct Turns {
    busy: bool,
    /// Threads waiting for `busy` to clear: without any, handing on wakes nobody (a
    /// notification is a system call even when no one waits).
    waiting: usize,
}

impl KeyFile {
    fn open(path: PathBuf) -> Result<Arc<Self>, SendOrderError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                SendOrderError::with_source(
                    format!("cannot create the send-order directory {}", dir.display()),
                    e,
                )
            })?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                SendOrderError::with_source(
                    format!("cannot open the send-order file {}", path.display()),
                    e,
                )
            })?;
        Ok(Arc::new(Self {
            path,
            file,
            turns: Mutex::default(),
            freed: Condvar::new(),
        }))
    }

    /// Waits for this process's turn, then for the host's, and reads the mark; with
    /// [`Wait::No`], `None` instead of waiting.
    fn take_turn(key: Arc<Self>, wait: Wait) -> Result<Option<HostTurn>, SendOrderError> {
        {
            let mut turns = key.turns.lock().unwrap_or_else(PoisonError::into_inner);
            while turns.busy {
                if wait == Wait::No {
                    return Ok(None);
                }
                turns.waiting += 1;
                turns = key
                    .freed
                    .wait(turns)
                    .unwrap_or_else(PoisonError::into_inner);
                turns.waiting -= 1;
            }
            turns.busy = true;
        }
        // From here on the turn owns `busy`: dropping it (also on an error below) frees it.
        let mut turn = HostTurn {
            key,
            mark: Mark::default(),
            locked: false,
            waited_for_another: false,
        };
        turn.waited_for_another = match turn.key.file.try_lock() {
            Ok(()) => false,
            // Dropping the turn frees this process's part of it.
            Err(TryLockError::WouldBlock) if wait == Wait::No => return Ok(None),
            Err(TryLockError::WouldBlock) => {
                turn.key.file.lock().map_err(|e| turn.failed("lock", e))?;
                true
            }
            Err(TryLockError::Error(e)) => return Err(turn.failed("lock", e)),
        };
        turn.locked = true;
        turn.mark = turn.read()?;
        Ok(Some(turn))
    }
}

/// A turn of one key: this process's and the host's lock, and the mark as read.
struct HostTurn {
    key: Arc<KeyFile>,
    mark: Mark,
    locked: bool,
    waited_for_another: bool,
}

impl HostTurn {
    fn failed(&self, what: &str, error: std::io::Error) -> SendOrderError {
        SendOrderError::with_source(
            format!(
                "cannot {what} the send-order file {}",
                self.key.path.display()
            ),
            error,
        )
    }

    fn read(&self) -> Result<Mark, SendOrderError> {
        // One line is expected; a little more is read so a longer file is seen as damaged.
        let mut buffer = [0u8; 2 * LINE_LEN];
        // A regular file reads short only at its end: one call reads it all.
        let read = read_at(&self.key.file, &mut buffer, 0).map_err(|e| self.failed("read", e))?;
        let bytes = &buffer[..read];
        Mark::decode(bytes).ok_or_else(|| {
            SendOrderError::new(format!(
                "the send-order file {} is damaged; it holds the key's last nonce, so it is not \
                 replaced: check the file, or remove it once no process uses the key",
                self.key.path.display()
            ))
        })
    }
}

impl SendTurn for HostTurn {
    fn floor(&self) -> u64 {
        self.mark.floor(boot_id())
    }

    fn record(&mut self, nonce: u64) -> Result<(), SendOrderError> {
        let sync = self.mark.record(nonce, boot_id());
        let line = self.mark.encode();
        write_at_start(&self.key.file, line.as_bytes()).map_err(|e| self.failed("write", e))?;
        if sync {
            self.key
                .file
                .sync_data()
                .map_err(|e| self.failed("sync", e))?;
        }
        Ok(())
    }

    fn waited_for_another(&self) -> bool {
        self.waited_for_another
    }
}

// One system call each where the OS offers positioned IO; a seek and a read or write
// elsewhere. Only the turn's holder touches the file, so the shared cursor is no race.
#[cfg(unix)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buffer, offset)
}

#[cfg(unix)]
fn write_at_start(file: &File, bytes: &[u8]) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, 0)
}

#[cfg(not(unix))]
fn read_at(mut file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<usize> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read(buffer)
}

#[cfg(not(unix))]
fn write_at_start(mut file: &File, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::{Seek as _, SeekFrom, Write as _};
    file.seek(SeekFrom::Start(0))?;
    file.write_all(bytes)
}

impl Drop for HostTurn {
    fn drop(&mut self) {
        if self.locked {
            // Closing the process would release it too; a failed unlock leaves nothing to do.
            let _ = self.key.file.unlock();
        }
        let mut turns = self
            .key
            .turns
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        turns.busy = false;
        if turns.waiting > 0 {
            self.key.freed.notify_one();
        }
    }
}
