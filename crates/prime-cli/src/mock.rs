//! `prime mock`: the simulator as a standalone server.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::MockArgs;
use crate::failure::Failure;
use crate::output;

pub fn run(args: &MockArgs) -> Result<(), Failure> {
    // A stale file from an earlier run must not be mistaken for this run's: it goes first, and
    // the new one appears only once the simulator accepts connections.
    if let Some(path) = &args.credentials_out {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Failure::Usage(format!(
                    "--credentials-out {}: cannot replace it: {e}",
                    path.display()
                )));
            }
        }
    }
    let mut builder = prime_mock::MockServer::builder().listen(args.listen);
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    builder = builder
        .rate_limit(args.rate_limits)
        .unknown_fields(args.unknown_fields);
    let server = builder
        .start()
        .map_err(|e| Failure::Usage(format!("cannot listen on {}: {e}", args.listen)))?;
    // Machine-readable: a credentials file for `--credentials`.
    let line = Zeroizing::new(
        json!({
            "url": server.url(),
            "api_key": server.account_api_key(),
            "api_secret": server.account_secret().expose(),
            "ws_url": server.ws_url(),
            "fix_addr": server.fix_addr().to_string(),
        })
        .to_string(),
    );
    if let Some(path) = &args.credentials_out {
        // Registered first: a stop between the rename and the registration must not leave a
        // file that says "serving" for a simulator that is gone.
        crate::processes::remove_on_stop(path);
        write_atomically(path, line.as_bytes())
            .map_err(|e| Failure::Usage(format!("--credentials-out {}: {e}", path.display())))?;
    }
    // The first line of stdout, as before; a closed stdout does not stop the simulator when
    // the credentials went to a file.
    match output::stdout(&format!("{}\n", *line)) {
        Ok(()) => {}
        Err(_) if args.credentials_out.is_some() => {}
        Err(failure) => return Err(failure),
    }
    output::stderr(&format!(
        "prime mock: serving on {}; press Ctrl-C to stop\n",
        server.url()
    ));
    // Serve until the process is interrupted: SIGINT/SIGTERM/SIGHUP end it and remove the
    // credentials file (see `processes`).
    server.serve_forever();
    if let Some(path) = &args.credentials_out {
        let _ = std::fs::remove_file(path);
    }
    Err(Failure::Call(
        "the simulator stopped unexpectedly".to_owned(),
    ))
}

/// Writes `bytes` to a new temporary file (mode 0600) beside `path`, syncs it and renames it
/// over `path`: a reader sees no file or the whole file, never a partial one.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary: PathBuf = path.with_file_name(temporary_name);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.write_all(b"\n")?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(e)
        }
    }
}
