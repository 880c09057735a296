//! Secret sinks: where a new key's one-time secret goes, durably, before anything depends on
//! it. Used by key rotation ([`prime_core::rotation`]): only a successful delivery counts.
//!
//! They do blocking IO (files, processes), so they live here rather than in the sans-IO core;
//! an async program can call them from a blocking task.
//!
//! ```no_run
//! use prime_blocking::sink::{CommandSink, FileSink, SecretSink};
//! use prime_blocking::prime_core::ApiSecret;
//!
//! let secret = ApiSecret::new(prime_blocking::prime_core::example::ISSUED_SECRET.to_owned());
//! FileSink::new("desk1.secret").deliver(&secret)?;
//! CommandSink::shell("vault kv put secret/desk1 api_secret=-").deliver(&secret)?;
//! # Ok::<(), prime_blocking::sink::SinkError>(())
//! ```

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prime_core::ApiSecret;
use zeroize::Zeroizing;

/// Why a sink could not take a secret. Never contains the secret.
#[derive(Debug)]
pub struct SinkError {
    message: String,
}

impl SinkError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SinkError {}

/// A destination for one-time secrets.
pub trait SecretSink {
    /// Stores `secret` durably; `Ok` only once it is safe.
    ///
    /// # Errors
    /// [`SinkError`] saying why; the caller must then show the secret another way.
    fn deliver(&mut self, secret: &ApiSecret) -> Result<(), SinkError>;

    /// Removes what an earlier, interrupted delivery may have left (its key was deleted).
    /// Nothing to remove is success.
    ///
    /// # Errors
    /// [`SinkError`] when something is left that could not be removed.
    fn withdraw(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    /// The delivered secret, if this sink can give it back (a file can; a vault command
    /// cannot).
    ///
    /// # Errors
    /// [`SinkError`] when it should be readable but is not.
    fn read_back(&self) -> Result<Option<ApiSecret>, SinkError> {
        Ok(None)
    }

    /// Where the secret goes, for messages (never the secret).
    fn describe(&self) -> String;
}

/// A new file only its owner can read: created new (never overwriting, never following a
/// symlink), mode 0600, the secret and a newline written, the file fsynced, then its
/// directory fsynced so the new name survives a crash too.
#[derive(Debug, Clone)]
pub struct FileSink {
    path: PathBuf,
}

impl FileSink {
    /// A sink writing to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory holding the file ("." for a bare file name).
    pub fn directory(&self) -> &Path {
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        }
    }

    fn fsync_directory(&self) -> io::Result<()> {
        // Opening a directory read-only and syncing it makes a new or removed entry durable
        // (POSIX leaves this to the file system; Linux and the BSDs honour it).
        File::open(self.directory())?.sync_all()
    }
}

impl SecretSink for FileSink {
    fn deliver(&mut self, secret: &ApiSecret) -> Result<(), SinkError> {
        let mut options = OpenOptions::new();
        // `create_new` is O_CREAT|O_EXCL, which already refuses any existing path, a dangling
        // symlink included; O_NOFOLLOW says so once more.
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let shown = self.path.display();
        let mut file = options
            .open(&self.path)
            .map_err(|e| SinkError::new(format!("cannot create {shown}: {e}")))?;
        let written = file
            .write_all(secret.expose().as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all());
        drop(file);
        if let Err(e) = written {
            // Leave no partial secret behind; the caller shows it another way.
            let _ = std::fs::remove_file(&self.path);
            return Err(SinkError::new(format!("cannot write {shown}: {e}")));
        }
        self.fsync_directory()
            .map_err(|e| SinkError::new(format!("cannot sync the folder of {shown}: {e}")))
    }

    fn withdraw(&mut self) -> Result<(), SinkError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => self.fsync_directory().map_err(|e| {
                SinkError::new(format!(
                    "cannot sync the folder of {}: {e}",
                    self.path.display()
                ))
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(SinkError::new(format!(
                "cannot remove {}: {e}",
                self.path.display()
            ))),
        }
    }

    fn read_back(&self) -> Result<Option<ApiSecret>, SinkError> {
        let mut text = Zeroizing::new(String::new());
        File::open(&self.path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map_err(|e| SinkError::new(format!("cannot read {}: {e}", self.path.display())))?;
        let secret = text.strip_suffix('\n').unwrap_or(&text);
        Ok(Some(ApiSecret::new(secret.to_owned())))
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// A command that reads the secret (and a newline) on its stdin, e.g.
/// `vault kv put secret/desk1 api_secret=-`.
///
/// **Delivered** means: the command read every byte of the secret and its newline, was then
/// given the end of its input (stdin closed) while still running, and exited with status 0.
/// A command that exits 0 without reading its input (`true`, `sleep 1; echo stored`), reads
/// only part of it (`head -c 5 > f`) or exits before its input ended is a failed delivery,
/// as is one that does not finish within the [timeout](CommandSink::timeout) (it is then
/// killed). The command runs in a process group of its own, which is ended on every failure,
/// so a pipeline it started does not outlive the delivery.
///
/// Its stdout goes to this process's stderr, so a program's own stdout stays clean; its
/// stderr is inherited.
#[derive(Clone)]
pub struct CommandSink {
    program: PathBuf,
    args: Vec<String>,
    shown: String,
    timeout: Duration,
    deadline: Option<Instant>,
    watcher: Option<Arc<dyn Fn(ChildEvent) + Send + Sync>>,
}

/// What [`CommandSink::on_child`] is told: the command's process (also its process group)
/// started or ended. A program that ends its children on a signal keeps this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChildEvent {
    /// The command started; on Unix `pid` is also the id of its process group.
    Started {
        /// Its process id.
        pid: u32,
    },
    /// The command was waited for: it and its process group are gone or being ended.
    Ended {
        /// Its process id.
        pid: u32,
    },
}

impl fmt::Debug for CommandSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandSink")
            .field("command", &self.shown)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// How long a command may take by default: a vault write over a slow network, not a hang.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

impl CommandSink {
    /// `program` with `args`, run directly.
    pub fn new(program: impl Into<PathBuf>, args: impl IntoIterator<Item = String>) -> Self {
        let program = program.into();
        let args: Vec<String> = args.into_iter().collect();
        let shown = std::iter::once(program.display().to_string())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            program,
            args,
            shown,
            timeout: DEFAULT_COMMAND_TIMEOUT,
            deadline: None,
            watcher: None,
        }
    }

    /// `command` run by `sh -c`.
    pub fn shell(command: &str) -> Self {
        let mut sink = Self::new("sh", ["-c".to_owned(), command.to_owned()]);
        sink.shown = command.to_owned();
        sink
    }

    /// The longest one delivery may take, from the command's start to its exit (default 60 s).
    /// A command still running then is killed and the delivery fails.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// An absolute bound as well (the end of a larger operation); the earlier of this and
    /// [`CommandSink::timeout`] applies.
    #[must_use]
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Calls `watcher` when the command starts and when it has been waited for, so a program
    /// can end it (and its process group) if the program itself is interrupted.
    #[must_use]
    pub fn on_child(mut self, watcher: impl Fn(ChildEvent) + Send + Sync + 'static) -> Self {
        self.watcher = Some(Arc::new(watcher));
        self
    }

    fn notify(&self, event: ChildEvent) {
        if let Some(watcher) = &self.watcher {
            watcher(event);
        }
    }
}

impl SecretSink for CommandSink {
    fn deliver(&mut self, secret: &ApiSecret) -> Result<(), SinkError> {
        let started = Instant::now();
        let deadline = match self.deadline {
            Some(deadline) => deadline.min(started + self.timeout),
            None => started + self.timeout,
        };
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(io::stderr()));
        // A group of its own: ending the delivery ends everything the command started.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let shown = self.shown.clone();
        let mut child = command
            .spawn()
            .map_err(|e| SinkError::new(format!("cannot run `{shown}`: {e}")))?;
        let pid = child.id();
        self.notify(ChildEvent::Started { pid });
        let outcome = supervise(&mut child, secret, deadline, &shown);
        if outcome.is_err() {
            end_group(&mut child);
        }
        // Waited for in every case: no child is left behind.
        let _ = child.wait();
        self.notify(ChildEvent::Ended { pid });
        outcome
    }

    fn describe(&self) -> String {
        format!("`{}`", self.shown)
    }
}

/// How often a delivery looks at the pipe and the command.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// Writes the secret, waits until the command has read all of it (the pipe is empty) while
/// still running, closes its stdin, and waits for its exit; all before `deadline`.
fn supervise(
    child: &mut Child,
    secret: &ApiSecret,
    deadline: Instant,
    shown: &str,
) -> Result<(), SinkError> {
    let Some(stdin) = child.stdin.take() else {
        return Err(SinkError::new(format!("`{shown}`: no stdin")));
    };
    let total = secret.expose().len() + 1;
    // The write end stays open (through `stdin` or `watch`) until the pipe is empty: a
    // command that exits before then did not read the whole secret and its end of input.
    let watch = PipeWatch::new(&stdin);
    let mut input = Zeroizing::new(secret.expose().as_bytes().to_vec());
    input.push(b'\n');
    // A writer thread: a secret larger than the pipe blocks until it is read, and that wait
    // must be bounded like every other.
    let writer = std::thread::spawn(move || {
        let mut stdin = stdin;
        let written = stdin.write_all(&input);
        (stdin, written)
    });
    // Phase 1: the secret goes in and is read while the command runs.
    let stdin = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| SinkError::new(format!("`{shown}`: {e}")))?
        {
            let unread = watch.unread().unwrap_or(0);
            return Err(SinkError::new(if unread > 0 {
                format!(
                    "`{shown}` exited ({status}) without reading the secret \
                     ({unread} of {total} bytes unread): not delivered"
                )
            } else {
                format!(
                    "`{shown}` exited ({status}) before its input ended (it did not wait for the \
                     end of the secret): not delivered"
                )
            }));
        }
        if writer.is_finished() && watch.unread().is_none_or(|n| n == 0) {
            match writer.join() {
                Ok((stdin, Ok(()))) => break stdin,
                // The command closed its input before reading all of it (a broken pipe).
                Ok((_, Err(e))) => {
                    return Err(SinkError::new(format!(
                        "`{shown}` did not read the secret ({e}): not delivered"
                    )));
                }
                Err(_) => return Err(SinkError::new(format!("`{shown}`: the writer failed"))),
            }
        }
        if Instant::now() >= deadline {
            return Err(SinkError::new(format!(
                "`{shown}` did not read the secret in time; it was ended: not delivered"
            )));
        }
        std::thread::sleep(POLL_INTERVAL);
    };
    // Phase 2: the end of input, then the exit status.
    drop(stdin);
    drop(watch);
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| SinkError::new(format!("`{shown}`: {e}")))?
        {
            return if status.success() {
                Ok(())
            } else {
                Err(SinkError::new(format!("`{shown}` failed: {status}")))
            };
        }
        if Instant::now() >= deadline {
            return Err(SinkError::new(format!(
                "`{shown}` read the secret but did not exit in time; it was ended: not delivered"
            )));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// A second handle on the write end of the command's stdin, to ask how many bytes are still
/// unread in the pipe.
struct PipeWatch {
    #[cfg(unix)]
    fd: Option<std::os::fd::OwnedFd>,
}

impl PipeWatch {
    fn new(stdin: &ChildStdin) -> Self {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd as _;
            Self {
                fd: stdin.as_fd().try_clone_to_owned().ok(),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = stdin;
            Self {}
        }
    }

    /// Bytes written and not yet read; `None` where the platform cannot tell (then a
    /// finished write counts as read).
    fn unread(&self) -> Option<u64> {
        #[cfg(unix)]
        {
            self.fd
                .as_ref()
                .and_then(|fd| rustix::io::ioctl_fionread(fd).ok())
        }
        #[cfg(not(unix))]
        {
            Some(0)
        }
    }
}

/// Ends the command's process group: SIGTERM, a moment to exit, then SIGKILL.
fn end_group(child: &mut Child) {
    #[cfg(unix)]
    {
        use rustix::process::{Pid, Signal, kill_process_group};
        if let Some(group) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) {
            let _ = kill_process_group(group, Signal::TERM);
            let grace = Instant::now() + Duration::from_millis(200);
            while Instant::now() < grace {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(POLL_INTERVAL);
            }
            let _ = kill_process_group(group, Signal::KILL);
        }
    }
    let _ = child.kill();
}
