//! Writing a one-time API secret to a new file that only its owner can read.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use prime_core::ApiSecret;

use crate::failure::Failure;

/// Refuses a path that exists already, *before* a key is created: the secret must never meet
/// a file it cannot be written to.
pub fn ensure_absent(path: &Path) -> Result<(), Failure> {
    if path.exists() {
        return Err(Failure::Usage(format!(
            "--secret-out {}: the file exists; refusing to overwrite it (choose a new path)",
            path.display()
        )));
    }
    Ok(())
}

/// Creates `path` (never overwriting; mode 0600 on Unix) and writes the secret and a newline.
pub fn write(path: &Path, secret: &ApiSecret) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(secret.expose().as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}
