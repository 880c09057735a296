//! `prime keys rotate`: drives [`prime_core::rotation::Rotation`] with the blocking client,
//! a secret sink from `prime_blocking::sink`, a journal file, and the issued-key check.
//!
//! The journal sits beside the secret file (`FILE.rotation.json`) with `--secret-out`; with
//! `--secret-cmd` it is `--journal PATH`, by default `prime-rotate-USER-OLDKEY.json` in
//! the current directory — a name the same command finds again when it is rerun. It is
//! replaced atomically (new file, fsync, rename, fsync of the folder) at every step, and holds
//! no secret.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use prime_blocking::sink::{CommandSink, FileSink, SecretSink};
use prime_core::rotation::{Action, Event, Journal, Rotation, RotationOptions, Stage};
use serde_json::json;

use crate::cli::{Global, RotateArgs};
use crate::failure::Failure;
use crate::new_key::{self, NewKey};
use crate::output;

/// Test hook: `PRIME_TEST_ABORT_AFTER=<point>` aborts the process right after that point, as
/// a crash or `kill -9` would. Points: an event name (after its journal record: `old_key_read`,
/// `orphan_deleted`, `delivered`, `allow_list_set`, `checked`, `finished`), `created` (the
/// creation answered, nothing delivered yet) and `delivery_done` (secret delivered, not yet
/// recorded).
const ABORT_VAR: &str = "PRIME_TEST_ABORT_AFTER";

fn abort_after(point: &str) {
    if std::env::var_os(ABORT_VAR).is_some_and(|v| v == point) {
        output::stderr(&format!(
            "prime keys rotate: aborting after {point} ({ABORT_VAR})\n"
        ));
        std::process::abort();
    }
}

pub fn run(global: &Global, args: &RotateArgs) -> Result<(), Failure> {
    let (mut sink, journal_path): (Box<dyn SecretSink>, PathBuf) =
        match (&args.secret_out, &args.secret_cmd) {
            (Some(file), None) => {
                let journal = args.journal.clone().unwrap_or_else(|| beside(file));
                (Box::new(FileSink::new(file)), journal)
            }
            (None, Some(command)) => {
                let journal = args.journal.clone().unwrap_or_else(|| {
                    PathBuf::from(format!(
                        "prime-rotate-{}-{}.json",
                        safe(&args.user_id),
                        safe(&args.key_id)
                    ))
                });
                (Box::new(CommandSink::shell(command)), journal)
            }
            _ => {
                return Err(Failure::Usage(
                    "keys rotate needs one of --secret-out FILE or --secret-cmd COMMAND".into(),
                ));
            }
        };
    // One rotation per journal at a time: two running at once could both create a key. The
    // lock is the OS's, so a killed run leaves none behind.
    let _lock = lock(&journal_path)?;
    let options = RotationOptions::default()
        .keep_old(args.keep_old)
        .check(!args.no_check);
    let mut rotation = match read_journal(&journal_path)? {
        Some(journal) => {
            if journal.user_id != args.user_id || journal.old_key_id != args.key_id {
                return Err(Failure::Usage(format!(
                    "the journal {} belongs to the rotation of key {} of user {}; \
                     give another --journal or --secret-out",
                    journal_path.display(),
                    journal.old_key_id,
                    journal.user_id
                )));
            }
            progress(
                global.json,
                &format!(
                    "resuming from {} at stage {:?}",
                    journal_path.display(),
                    journal.stage
                ),
                json!({"event": "resumed", "stage": journal.stage, "journal": journal_path}),
            );
            Rotation::resume(journal, options)
        }
        None => {
            // Refused before anything is created: a fresh rotation writes a new file.
            if let Some(file) = &args.secret_out {
                probe(file)?;
            }
            Rotation::new(&args.user_id, &args.key_id, options)
        }
    };
    let client = crate::credentials::client(global)?;
    loop {
        match client.run_workflow(&mut rotation) {
            Action::Record(event) => {
                write_journal(&journal_path, rotation.journal())?;
                report(global.json, &event);
                abort_after(event.name());
                rotation.on_recorded();
            }
            Action::Deliver => {
                abort_after("created");
                let Some(key) = rotation.created_key() else {
                    rotation.on_delivered(Err("no key".into()));
                    continue;
                };
                let outcome = match sink.deliver(key.api_secret()) {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        // The only copy of the secret: show it before anything else happens.
                        let reason = format!(
                            "the new key was created but its secret could not be delivered to {}: {e}",
                            sink.describe()
                        );
                        let _ = new_key::rescue(&NewKey::from(key), &reason);
                        Err(e.to_string())
                    }
                };
                if outcome.is_ok() {
                    abort_after("delivery_done");
                }
                rotation.on_delivered(outcome);
            }
            Action::Withdraw => {
                rotation.on_withdrawn(sink.withdraw().map_err(|e| e.to_string()));
            }
            Action::Check { api_key } => {
                let secret = match rotation.created_key() {
                    Some(key) => Some(key.api_secret().clone()),
                    None => sink.read_back().map_err(|e| {
                        Failure::Call(format!("cannot read the new secret back: {e}"))
                    })?,
                };
                let outcome = match secret {
                    Some(secret) => crate::issued_check::check_for_rotation(
                        global,
                        &args.endpoints,
                        &api_key,
                        &secret,
                    )?,
                    None => Err(format!(
                        "after a resume the secret cannot be read back from {}: check key \
                         {api_key} with `prime keys check`, then rerun with --no-check",
                        sink.describe()
                    )),
                };
                if let Ok(detail) = &outcome {
                    progress(
                        global.json,
                        &format!("    key {api_key}: {detail}"),
                        json!({"event": "check", "api_key": api_key, "detail": detail}),
                    );
                }
                rotation.on_checked(outcome.map(|_| ()));
            }
            Action::Done(new) => {
                let journal = rotation.journal();
                let document = json!({
                    "user_id": journal.user_id,
                    "old_key_id": journal.old_key_id,
                    "old_key_deleted": journal.old_deleted,
                    "new_key_id": new.id,
                    "api_key": new.api_key,
                    "secret": sink.describe(),
                    "whitelisted_ips": journal.old_whitelisted_ips,
                    "journal": journal_path,
                });
                return if global.json {
                    output::stdout(&format!("{}\n", output::to_json(&document)))
                } else {
                    output::stdout(&format!(
                        "rotated key {} of user {}: new key {} (api_key {}), secret in {}; old key {}\n",
                        journal.old_key_id,
                        journal.user_id,
                        new.id,
                        new.api_key,
                        sink.describe(),
                        if journal.old_deleted {
                            "deleted"
                        } else {
                            "kept"
                        }
                    ))
                };
            }
            Action::Failed(error) => {
                let stage = rotation.journal().stage;
                let resume = if stage == Stage::Started {
                    String::new()
                } else {
                    format!(
                        "; the journal {} records the progress (stage {stage:?}): run the same \
                         command again to resume",
                        journal_path.display()
                    )
                };
                return Err(Failure::Call(format!("{error}{resume}")));
            }
            _ => return Err(Failure::Call("an action this version does not know".into())),
        }
    }
}

/// Refuses a `--secret-out` path the secret could not be written to, before any key exists:
/// it is created (create-new, 0600, as the sink will) and removed again.
fn probe(file: &Path) -> Result<(), Failure> {
    let refuse = |reason: String| {
        Failure::Usage(format!(
            "--secret-out {}: {reason}; no key was created",
            file.display()
        ))
    };
    if file.symlink_metadata().is_ok() {
        return Err(refuse(
            "the path exists; refusing to overwrite it (choose a new path)".into(),
        ));
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
        .open(file)
        .map_err(|e| refuse(format!("cannot create it: {e}")))?;
    std::fs::remove_file(file).map_err(|e| refuse(format!("cannot remove the probe: {e}")))
}

/// An exclusive lock on `JOURNAL.lock`, held while the returned file is open.
fn lock(journal: &Path) -> Result<File, Failure> {
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| {
            Failure::Usage(format!(
                "cannot create the lock {}: {e}; no key was created",
                path.display()
            ))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Failure::Usage(format!(
            "another `prime keys rotate` holds {}; wait for it to finish (nothing was changed)",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(Failure::Usage(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// `FILE.rotation.json` beside `FILE`.
fn beside(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".rotation.json");
    PathBuf::from(name)
}

/// An id as part of a file name.
fn safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn progress(json: bool, text: &str, document: serde_json::Value) {
    if json {
        output::stderr(&format!("{document}\n"));
    } else {
        output::stderr(&format!("prime keys rotate: {}\n", output::clean(text)));
    }
}

fn report(json: bool, event: &Event) {
    let document = serde_json::to_value(event).unwrap_or_else(|_| json!({"event": event.name()}));
    progress(json, &event.to_string(), document);
}

fn read_journal(path: &Path) -> Result<Option<Journal>, Failure> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Failure::Usage(format!(
                "the journal {} is not a rotation journal: {e}",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::Usage(format!(
            "cannot read the journal {}: {e}",
            path.display()
        ))),
    }
}

/// Replaces the journal atomically: a crash leaves the old or the new one, never a torn one.
fn write_journal(path: &Path, journal: &Journal) -> Result<(), Failure> {
    let fail = |e: std::io::Error| {
        Failure::Call(format!("cannot write the journal {}: {e}", path.display()))
    };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let bytes = serde_json::to_vec_pretty(journal).map_err(|e| fail(std::io::Error::other(e)))?;
    let mut file = options.open(&temporary).map_err(fail)?;
    file.write_all(&bytes)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(fail)?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(fail)?;
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(folder).and_then(|f| f.sync_all()).map_err(fail)
}
