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

use prime_blocking::sink::{ChildEvent, CommandSink, FileSink, SecretSink};
use prime_core::rotation::{
    Action, Event, JOURNAL_VERSION, Journal, Rotation, RotationError, RotationOptions, Stage,
};
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
                let mut sink = CommandSink::shell(command).on_child(|event| match event {
                    ChildEvent::Started { pid } => crate::processes::track_group(pid),
                    ChildEvent::Ended { pid } => crate::processes::untrack_group(pid),
                    _ => {}
                });
                // The delivery is bounded by what is left of --timeout.
                if let Some(deadline) = crate::budget::deadline() {
                    sink = sink.deadline(deadline);
                }
                (Box::new(sink), journal)
            }
            _ => {
                return Err(Failure::Usage(
                    "keys rotate needs one of --secret-out FILE or --secret-cmd COMMAND".into(),
                ));
            }
        };
    // One rotation per journal at a time: two running at once could both create a key. The
    // lock is the OS's, so a killed run holds none; its file is removed when this run ends.
    let _lock = RotationLock::acquire(&journal_path)?;
    crate::activity::doing(format!(
        "during the key rotation: the journal {} records each completed step; run the same \
         command again to resume",
        journal_path.display()
    ));
    if !args.no_check {
        crate::issued_check::validate(global, &args.endpoints)?;
    }
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
            // The earlier run printed the secret and said to store it in the file: continue
            // only once it is there, or the finished rotation would point at a missing file.
            if journal.stage == Stage::SecretShown
                && let Some(file) = &args.secret_out
                && sink.read_back().is_err()
            {
                return Err(Failure::Usage(format!(
                    "key {} holds the secret an earlier run printed on stderr, and {} does not \
                     hold it: write that secret to {} (as its only line), then run the same \
                     command again (nothing was changed)",
                    journal.new_key.as_ref().map_or("?", |k| k.id.as_str()),
                    file.display(),
                    file.display()
                )));
            }
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
    let mut holding = None;
    loop {
        match client.run_workflow(&mut rotation) {
            Action::Record(event) => {
                write_journal(&journal_path, rotation.journal())?;
                report(global.json, &event);
                abort_after(event.name());
                rotation.on_recorded();
                // A shown secret is reported with the failure that follows: keep holding.
                if rotation.journal().stage != Stage::SecretShown {
                    holding = None;
                }
            }
            Action::Deliver => {
                // From here until the outcome is recorded the one-time secret is being handed
                // over: the --timeout watchdog waits (the delivery has the same deadline).
                holding = Some(crate::activity::hold());
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
                // A secret that was printed was not delivered to a command: say where it is.
                let secret = if journal.secret_shown && args.secret_cmd.is_some() {
                    "printed by an earlier run (its delivery failed)".to_owned()
                } else {
                    sink.describe()
                };
                let document = json!({
                    "user_id": journal.user_id,
                    "old_key_id": journal.old_key_id,
                    "old_key_deleted": journal.old_deleted,
                    "new_key_id": new.id,
                    "api_key": new.api_key,
                    "secret": secret,
                    "whitelisted_ips": journal.old_whitelisted_ips,
                    "journal": journal_path,
                });
                return if global.json {
                    output::stdout(&format!("{}\n", output::to_json(&document)))
                } else {
                    output::stdout(&format!(
                        "rotated key {} of user {}: new key {} (api_key {}), secret {}; old key {}\n",
                        journal.old_key_id,
                        journal.user_id,
                        new.id,
                        new.api_key,
                        if journal.secret_shown && args.secret_cmd.is_some() {
                            secret
                        } else {
                            format!("in {secret}")
                        },
                        if journal.old_deleted {
                            "deleted"
                        } else {
                            "kept"
                        }
                    ))
                };
            }
            Action::Failed(error) => {
                let hints = match &error {
                    RotationError::Call { source, .. } => crate::failure::hints(source),
                    _ => String::new(),
                };
                if let Some(hold) = holding {
                    hold.until_exit();
                }
                return Err(
                    match failed(&error, rotation.journal(), &journal_path, args) {
                        Failure::Call(message) if !hints.is_empty() => Failure::Call(format!(
                            "{message}. Note: {}",
                            hints.trim_start_matches("; ")
                        )),
                        other => other,
                    },
                );
            }
            _ => return Err(Failure::Call("an action this version does not know".into())),
        }
    }
}

/// The failure of a rotation, with the advice that fits where it stopped.
fn failed(error: &RotationError, journal: &Journal, path: &Path, args: &RotateArgs) -> Failure {
    match (error, &journal.new_key) {
        // A journal this version cannot continue: a rerun would fail the same way.
        (RotationError::Journal(reason), _) => Failure::Usage(format!(
            "the journal {}: {reason}; nothing was changed",
            path.display()
        )),
        (RotationError::Delivery(_), Some(new)) if journal.stage == Stage::SecretShown => {
            let next = match &args.secret_out {
                Some(file) => format!(
                    "write it to {} (as its only line), then run the same command again: it \
                     continues with key {} (no other key is created), checks it with that file \
                     and deletes the old key only once it authenticates",
                    file.display(),
                    new.id
                ),
                // The rerun cannot read a secret back from a command to check the key.
                None => format!(
                    "store it where it belongs, check it with `prime keys check --api-key {} \
                     --secret-file FILE`, then run the same command again with --no-check: it \
                     continues with key {} (no other key is created), sets its allow-list and \
                     deletes the old key",
                    new.api_key, new.id
                ),
            };
            Failure::Call(format!(
                "{error}. Key {} (api_key {}) holds the secret printed above: {next}. The \
                 journal {} records this",
                new.id,
                new.api_key,
                path.display()
            ))
        }
        (_, _) if journal.stage == Stage::Started => {
            Failure::Call(format!("{error}; nothing was changed"))
        }
        (_, new) => {
            // What exists now, in plain words, then how to go on.
            let state = match (journal.stage, new) {
                (Stage::Creating, _) => {
                    "a new key may have been created; nobody has its secret, and the rerun \
                     deletes it before creating another"
                        .to_owned()
                }
                (_, Some(new)) => format!(
                    "new key {} exists and its secret is {}; the old key {}",
                    new.id,
                    if journal.secret_shown {
                        "the one printed by an earlier run"
                    } else {
                        "delivered"
                    },
                    if journal.old_deleted {
                        "is deleted"
                    } else {
                        "is untouched"
                    }
                ),
                (_, None) => "the old key is untouched".to_owned(),
            };
            Failure::Call(format!(
                "{error}; {state}. The journal {} records the progress (stage {:?}): run the \
                 same command again to resume",
                path.display(),
                journal.stage
            ))
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

/// An exclusive lock on `JOURNAL.lock`, held while this lives; its file is removed when the
/// run ends (finished, refused or failed), and on SIGINT/SIGTERM.
struct RotationLock {
    path: PathBuf,
    _file: File,
}

impl RotationLock {
    fn acquire(journal: &Path) -> Result<Self, Failure> {
        let mut name = journal.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        // A run that ends removes the file while holding the lock; a run that opened the old
        // file meanwhile then holds a lock on a removed file, so it checks that the lock it got
        // is still the file at the path, and tries again otherwise.
        for _ in 0..16 {
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
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Failure::Usage(format!(
                        "another `prime keys rotate` holds {}; wait for it to finish (nothing \
                         was changed)",
                        path.display()
                    )));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Failure::Usage(format!(
                        "cannot lock {}: {e}",
                        path.display()
                    )));
                }
            }
            if same_file(&file, &path) {
                crate::processes::remove_on_stop(&path);
                return Ok(Self { path, _file: file });
            }
        }
        Err(Failure::Usage(format!(
            "cannot lock {}: it keeps being replaced; is another rotation starting and \
             stopping? (nothing was changed)",
            path.display()
        )))
    }
}

impl Drop for RotationLock {
    fn drop(&mut self) {
        // Removed while still held (the file closes after this), so no other run can hold a
        // lock on it meanwhile and find the path gone.
        let _ = std::fs::remove_file(&self.path);
        crate::processes::keep(&self.path);
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(named)) => held.dev() == named.dev() && held.ino() == named.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
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
        Ok(bytes) => {
            newer_version(path, &bytes)?;
            serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Failure::Usage(format!(
                    "the journal {} is not a rotation journal: {e}",
                    path.display()
                ))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::Usage(format!(
            "cannot read the journal {}: {e}",
            path.display()
        ))),
    }
}

/// Refuses a journal written by a newer `prime` (its version is above [`JOURNAL_VERSION`]):
/// only that version can carry on with it, and rerunning this one would never succeed.
fn newer_version(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    #[derive(serde::Deserialize)]
    struct Versioned {
        version: u64,
    }
    match serde_json::from_slice::<Versioned>(bytes) {
        Ok(Versioned { version }) if version > u64::from(JOURNAL_VERSION) => {
            Err(Failure::Usage(format!(
                "the journal {} was written by a newer prime (journal version {version}; this \
                 one reads version {JOURNAL_VERSION}): finish the rotation with that version \
                 (nothing was changed)",
                path.display()
            )))
        }
        _ => Ok(()),
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
