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
use std::process::{Command, Stdio};

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
/// `vault kv put secret/desk1 api_secret=-`. Only exit status 0 counts as delivered. Its
/// stdout goes to this process's stderr, so a program's own stdout stays clean; its stderr is
/// inherited.
#[derive(Debug, Clone)]
pub struct CommandSink {
    program: PathBuf,
    args: Vec<String>,
    shown: String,
}

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
        }
    }

    /// `command` run by `sh -c`.
    pub fn shell(command: &str) -> Self {
        let mut sink = Self::new("sh", ["-c".to_owned(), command.to_owned()]);
        sink.shown = command.to_owned();
        sink
    }
}

impl SecretSink for CommandSink {
    fn deliver(&mut self, secret: &ApiSecret) -> Result<(), SinkError> {
        let shown = &self.shown;
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(io::stderr()))
            .spawn()
            .map_err(|e| SinkError::new(format!("cannot run `{shown}`: {e}")))?;
        let written = match child.stdin.take() {
            Some(mut stdin) => stdin
                .write_all(secret.expose().as_bytes())
                .and_then(|()| stdin.write_all(b"\n")),
            None => Err(io::Error::other("no stdin")),
        };
        // Wait in any case, so no child is left behind; a command that exits without reading
        // all of its stdin made the write fail, and its status decides.
        let status = child
            .wait()
            .map_err(|e| SinkError::new(format!("`{shown}`: {e}")))?;
        match (status.success(), written) {
            (true, Ok(())) => Ok(()),
            (true, Err(e)) => Err(SinkError::new(format!(
                "`{shown}` did not read the secret: {e}"
            ))),
            (false, _) => Err(SinkError::new(format!("`{shown}` failed: {status}"))),
        }
    }

    fn describe(&self) -> String {
        format!("`{}`", self.shown)
    }
}
