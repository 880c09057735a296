//! Writing a one-time API secret to a new file that only its owner can read.
//!
//! The file is *opened* before the key is created, so every reason it could not be written
//! (it exists, it is a symlink, dangling or not, its folder is missing or is a file, the path
//! names a folder, the file system is read-only, permission is denied) stops the command
//! before a key exists. Only the write itself can still fail afterwards (a full disk): then the
//! empty file is removed, so the same path can be used again, and the caller prints the secret
//! on stderr instead.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use prime_core::ApiSecret;

use crate::failure::Failure;

/// A new, empty secret file, opened (create-new, mode 0600, no symlink followed) but not yet
/// written. Dropped without [`SecretFile::write`] succeeding, it removes itself.
pub struct SecretFile {
    path: PathBuf,
    file: Option<File>,
}

impl SecretFile {
    /// Creates `path` for writing. Never overwrites anything and never follows a symlink.
    ///
    /// # Errors
    /// [`Failure::Usage`] naming the path and the reason.
    pub fn create(path: &Path) -> Result<Self, Failure> {
        let mut options = OpenOptions::new();
        // `create_new` is O_CREAT|O_EXCL: it fails on anything at the path, a dangling symlink
        // included (POSIX); O_NOFOLLOW says the same once more.
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = options.open(path).map_err(|e| {
            Failure::Usage(format!(
                "--secret-out {}: {}",
                path.display(),
                open_reason(path, &e)
            ))
        })?;
        Ok(Self {
            path: path.to_owned(),
            file: Some(file),
        })
    }

    /// The path given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the secret and a newline and makes them durable (fsync). On failure the file is
    /// removed and the error returned: the caller must then deliver the secret another way.
    ///
    /// # Errors
    /// The write or sync error.
    pub fn write(mut self, secret: &ApiSecret) -> io::Result<()> {
        let Some(mut file) = self.file.take() else {
            return Err(io::Error::other("the secret file was already written"));
        };
        let written = file
            .write_all(secret.expose().as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all());
        match written {
            Ok(()) => Ok(()),
            Err(e) => {
                drop(file);
                let _ = std::fs::remove_file(&self.path);
                Err(e)
            }
        }
    }
}

impl Drop for SecretFile {
    // Not written (no key was created, or the write failed): leave no empty file behind.
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            drop(file);
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Words for why a path could not be created, clearer than the bare OS error for the cases
/// people meet.
fn open_reason(path: &Path, error: &io::Error) -> String {
    let is_symlink = path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink());
    match error.kind() {
        io::ErrorKind::AlreadyExists if is_symlink => {
            "the path is a symbolic link; refusing to follow it (choose a new path)".to_owned()
        }
        io::ErrorKind::AlreadyExists if path.is_dir() => {
            "the path is a folder; give the path of a new file in it".to_owned()
        }
        io::ErrorKind::AlreadyExists => {
            "the file exists; refusing to overwrite it (choose a new path)".to_owned()
        }
        io::ErrorKind::NotFound => format!("cannot create it ({error}): does its folder exist?"),
        _ => format!("cannot create it: {error}"),
    }
}

/// Writes a fresh secret file in one go (the demo's case: no request depends on it).
///
/// # Errors
/// As [`SecretFile::create`] and [`SecretFile::write`].
pub fn write_new(path: &Path, secret: &ApiSecret) -> Result<(), Failure> {
    SecretFile::create(path)?
        .write(secret)
        .map_err(|e| Failure::Call(format!("cannot write {}: {e}", path.display())))
}
