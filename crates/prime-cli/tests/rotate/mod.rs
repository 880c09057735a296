//! `prime keys rotate` and `keys create`'s orphan handling, run as a user runs them: against
//! `prime mock --credentials-out` (a separate process) or the in-process simulator with
//! faults, with the `prime` process aborted at every step and rerun.

use super::{prime, prime_on, run, scratch, spawn_mock_writing, stderr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use prime_mock::{Fault, FaultKind, MockServer};
use serde_json::Value;

/// `prime mock --credentials-out FILE` as its own process; killed on drop.
struct Mock {
    child: Child,
    credentials: PathBuf,
}

impl Mock {
    fn start(dir: &Path) -> Self {
        let credentials = dir.join("mock.json");
        let child = spawn_mock_writing(&credentials);
        Self { child, credentials }
    }

    /// `prime --credentials FILE --json ARGS...`.
    fn prime(&self) -> Command {
        let mut command = prime();
        command
            .arg("--credentials")
            .arg(&self.credentials)
            .arg("--json");
        command
    }

    fn json(&self, args: &[&str]) -> Value {
        let output = run(self.prime().args(args));
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        serde_json::from_slice(&output.stdout).expect("JSON")
    }

    /// A user with one key whose allow-list is set; returns (user, key id, api key, secret file).
    fn user_with_key(&self, dir: &Path, name: &str) -> (String, String, String, PathBuf) {
        let user = self.json(&["users", "create", "--name", name, "--role", "Trader"])["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let secret = dir.join(format!("{name}.old"));
        let key = self.json(&[
            "keys",
            "create",
            "--user-id",
            &user,
            "--secret-out",
            secret.to_str().expect("utf-8 path"),
        ]);
        let id = key["id"].as_str().expect("id").to_owned();
        let api_key = key["api_key"].as_str().expect("api_key").to_owned();
        self.json(&[
            "keys",
            "update",
            "--user-id",
            &user,
            "--key-id",
            &id,
            "--whitelisted-ips",
            "127.0.0.1,10.1.0.0/16",
        ]);
        (user, id, api_key, secret)
    }

    fn keys(&self, user: &str) -> Vec<Value> {
        self.json(&["keys", "list", "--user-id", user])
            .as_array()
            .expect("array")
            .clone()
    }

    /// `prime keys check` on the simulator's WebSocket and FIX (from the credentials file).
    fn authenticates(&self, api_key: &str, secret_file: &Path) -> bool {
        run(self
            .prime()
            .args(["keys", "check", "--api-key", api_key, "--secret-file"])
            .arg(secret_file))
        .status
        .success()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The end state of every rotation: exactly one new key (plus the old one with --keep-old),
/// its secret in FILE (0600) authenticating on WebSocket and FIX, the old allow-list on it,
/// the old key refused (or still working with --keep-old).
fn assert_rotated(
    mock: &Mock,
    (user, old_id, old_api_key, old_secret): (&str, &str, &str, &Path),
    file: &Path,
    keep_old: bool,
    context: &str,
) {
    let keys = mock.keys(user);
    let new: Vec<&Value> = keys.iter().filter(|k| k["id"] != old_id).collect();
    assert_eq!(new.len(), 1, "exactly one new key: {context}: {keys:?}");
    assert_eq!(
        keys.len(),
        if keep_old { 2 } else { 1 },
        "{context}: {keys:?}"
    );
    let new = new[0];
    assert_eq!(
        new["whitelisted_ips"],
        serde_json::json!(["127.0.0.1", "10.1.0.0/16"]),
        "{context}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(file)
            .expect("secret file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{context}");
    }
    let api_key = new["key"].as_str().expect("key");
    assert!(mock.authenticates(api_key, file), "new key: {context}");
    assert_eq!(
        mock.authenticates(old_api_key, old_secret),
        keep_old,
        "old key: {context}"
    );
    let journal: Value =
        serde_json::from_slice(&std::fs::read(journal_of(file)).expect("journal")).expect("json");
    assert_eq!(journal["stage"], "done", "{context}");
    let secret = std::fs::read_to_string(file).expect("secret");
    let journal_text = std::fs::read_to_string(journal_of(file)).expect("journal");
    assert!(
        !journal_text.contains(secret.trim()),
        "no secret in the journal"
    );
}

fn journal_of(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".rotation.json");
    PathBuf::from(name)
}

fn rotate(mock: &Mock, user: &str, old: &str, file: &Path, extra: &[&str]) -> Command {
    let mut command = mock.prime();
    command
        .args([
            "keys",
            "rotate",
            "--user-id",
            user,
            "--key-id",
            old,
            "--secret-out",
        ])
        .arg(file)
        .args(extra);
    command
}

#[test]
fn rotate_against_prime_mock_moves_the_allow_list_and_retires_the_old_key() {
    let dir = scratch("plain");
    let mock = Mock::start(&dir);
    for keep_old in [false, true] {
        let name = format!("desk-keep-{keep_old}");
        let (user, old, old_api_key, old_secret) = mock.user_with_key(&dir, &name);
        let file = dir.join(format!("{name}.new"));
        let extra: &[&str] = if keep_old { &["--keep-old"] } else { &[] };
        let output = run(&mut rotate(&mock, &user, &old, &file, extra));
        assert!(output.status.success(), "{}", stderr(&output));
        // Progress: one JSON object per line on stderr (--json), each step in order.
        let events: Vec<String> = stderr(&output)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("a JSON progress line"))
            .map(|v| v["event"].as_str().expect("event").to_owned())
            .collect();
        assert_eq!(
            events,
            [
                "old_key_read",
                "delivered",
                "allow_list_set",
                "check",
                "checked",
                "finished"
            ]
        );
        let summary: Value = serde_json::from_slice(&output.stdout).expect("summary");
        assert_eq!(summary["old_key_deleted"], !keep_old);
        assert_rotated(
            &mock,
            (&user, &old, &old_api_key, &old_secret),
            &file,
            keep_old,
            &name,
        );
        // Rerunning a finished rotation changes nothing.
        let again = run(&mut rotate(&mock, &user, &old, &file, extra));
        assert!(again.status.success(), "{}", stderr(&again));
        assert_rotated(
            &mock,
            (&user, &old, &old_api_key, &old_secret),
            &file,
            keep_old,
            &name,
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `prime keys rotate` aborted right after each step (as by a crash or kill -9), then run
/// again with the same command: the same end state, with exactly one new key.
#[test]
fn killing_rotate_at_every_step_and_rerunning_ends_in_the_same_state() {
    let dir = scratch("kill");
    let mock = Mock::start(&dir);
    let points = [
        "old_key_read",
        "created",
        "delivery_done",
        "delivered",
        "allow_list_set",
        "checked",
        "finished",
    ];
    for keep_old in [false, true] {
        for point in points {
            let name = format!("{point}-{keep_old}");
            let (user, old, old_api_key, old_secret) = mock.user_with_key(&dir, &name);
            let file = dir.join(format!("{name}.new"));
            let extra: &[&str] = if keep_old { &["--keep-old"] } else { &[] };
            let killed =
                run(rotate(&mock, &user, &old, &file, extra).env("PRIME_TEST_ABORT_AFTER", point));
            assert!(
                !killed.status.success(),
                "{point}: not aborted: {}",
                stderr(&killed)
            );
            assert!(
                stderr(&killed).contains(&format!("aborting after {point}")),
                "{}",
                stderr(&killed)
            );
            let rerun = run(&mut rotate(&mock, &user, &old, &file, extra));
            assert!(rerun.status.success(), "{point}: rerun: {}", stderr(&rerun));
            let context = format!("aborted after {point}, keep_old {keep_old}");
            // A key created but not recorded as delivered is deleted by the rerun.
            if matches!(point, "created" | "delivery_done") {
                assert!(
                    stderr(&rerun).contains("orphan_deleted"),
                    "{context}: {}",
                    stderr(&rerun)
                );
            }
            assert_rotated(
                &mock,
                (&user, &old, &old_api_key, &old_secret),
                &file,
                keep_old,
                &context,
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The secret printed on stderr by a failed delivery (the simulator's secrets are 31
/// alphanumerics on a line of their own).
fn printed_secret(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .find(|l| l.len() == 31 && l.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(str::to_owned)
}

/// Every kind of `--secret-cmd` that does not take the secret — fails, never reads, reads part,
/// reads without waiting for the end of input — is a failed delivery: exit 1, the secret on
/// stderr, nothing deleted, and the printed secret is good for the key that is kept. The rerun
/// agrees with the message: it continues with that key (no orphan deletion, no second key).
#[test]
fn secret_cmd_that_does_not_take_the_secret_prints_it_and_the_rerun_keeps_its_key() {
    let dir = scratch("cmd");
    let mock = Mock::start(&dir);
    let partial = dir.join("partial.txt");
    let commands = [
        "cat > /dev/null; exit 3".to_owned(),
        "true".to_owned(),
        "sleep 0.3; echo stored".to_owned(),
        format!("head -c 5 > '{}'", partial.display()),
    ];
    for (n, command) in commands.iter().enumerate() {
        let (user, old, old_api_key, old_secret) = mock.user_with_key(&dir, &format!("vault{n}"));
        let started = Instant::now();
        let failing = run(mock
            .prime()
            .current_dir(&dir)
            .args(["keys", "rotate", "--user-id", &user, "--key-id", &old])
            .args(["--secret-cmd", command]));
        assert!(started.elapsed() < Duration::from_secs(20), "{command}");
        assert_eq!(
            failing.status.code(),
            Some(1),
            "{command}: {}",
            stderr(&failing)
        );
        let shown = stderr(&failing);
        assert!(
            shown.contains("could not be delivered"),
            "{command}: {shown}"
        );
        let secret = printed_secret(&shown).unwrap_or_else(|| panic!("{command}: {shown}"));
        let keys = mock.keys(&user);
        assert_eq!(keys.len(), 2, "{command}: nothing deleted");
        assert!(mock.authenticates(&old_api_key, &old_secret), "{command}");
        let new = keys
            .iter()
            .find(|k| k["id"] != old.as_str())
            .expect("the new key");
        let new_id = new["id"].as_str().expect("id").to_owned();
        assert!(
            shown.contains(&format!("Key {new_id}")),
            "{command}: {shown}"
        );
        assert!(shown.contains("continues with key"), "{command}: {shown}");
        // What the message says to keep does work.
        let stored = dir.join(format!("stored{n}"));
        std::fs::write(&stored, format!("{secret}\n")).expect("store");
        let new_api_key = new["key"].as_str().expect("key").to_owned();
        assert!(mock.authenticates(&new_api_key, &stored), "{command}");
        let journal = dir.join(format!("prime-rotate-{user}-{old}.json"));
        let recorded = std::fs::read_to_string(&journal).expect("journal");
        assert!(recorded.contains("secret_shown"), "{recorded}");
        assert!(!recorded.contains(&secret), "no secret in the journal");
        let lock = dir.join(format!("prime-rotate-{user}-{old}.json.lock"));
        assert!(!lock.exists(), "{command}: no lock file left");
        // The rerun does what the message said: it continues with the shown key.
        let rerun = run(mock
            .prime()
            .current_dir(&dir)
            .args([
                "keys",
                "rotate",
                "--user-id",
                &user,
                "--key-id",
                &old,
                "--no-check",
            ])
            .args(["--secret-cmd", command]));
        assert!(rerun.status.success(), "{command}: {}", stderr(&rerun));
        assert!(!stderr(&rerun).contains("orphan"), "{}", stderr(&rerun));
        // The summary does not claim the command holds the secret.
        let summary: Value = serde_json::from_slice(&rerun.stdout).expect("JSON summary");
        assert_eq!(
            summary["secret"], "printed by an earlier run (its delivery failed)",
            "{summary}"
        );
        let keys = mock.keys(&user);
        assert_eq!(keys.len(), 1, "{command}: {keys:?}");
        assert_eq!(keys[0]["id"], new_id.as_str(), "{command}");
        assert!(mock.authenticates(&new_api_key, &stored), "{command}");
        assert!(!mock.authenticates(&old_api_key, &old_secret), "{command}");
        assert!(!lock.exists(), "{command}: no lock file left");
    }
    // A command that takes the secret: delivered, rotated in one run.
    let (user, old, old_api_key, old_secret) = mock.user_with_key(&dir, "vaultok");
    let vault = dir.join("vault.txt");
    let command = format!("cat > '{}'", vault.display());
    let output = run(mock
        .prime()
        .current_dir(&dir)
        .args(["keys", "rotate", "--user-id", &user, "--key-id", &old])
        .args(["--secret-cmd", &command]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        printed_secret(&stderr(&output)).is_none(),
        "a delivered secret is not printed"
    );
    let keys = mock.keys(&user);
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(mock.authenticates(keys[0]["key"].as_str().expect("key"), &vault));
    assert!(!mock.authenticates(&old_api_key, &old_secret));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rotate_refuses_bad_invocations_before_creating_anything() {
    let dir = scratch("usage");
    let mock = Mock::start(&dir);
    let (user, old, _, old_secret) = mock.user_with_key(&dir, "usage");
    // No sink; an existing secret file; an unknown old key; someone else's journal.
    let no_sink = run(mock
        .prime()
        .args(["keys", "rotate", "--user-id", &user, "--key-id", &old]));
    assert_eq!(no_sink.status.code(), Some(2), "{}", stderr(&no_sink));
    let exists = run(&mut rotate(&mock, &user, &old, &old_secret, &[]));
    assert_eq!(exists.status.code(), Some(2), "{}", stderr(&exists));
    let missing = run(&mut rotate(
        &mock,
        &user,
        &old,
        &dir.join("no-such-dir").join("s"),
        &[],
    ));
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("no key was created"),
        "{}",
        stderr(&missing)
    );
    // A rotation already running on the same journal: the second one changes nothing.
    let busy = dir.join("busy");
    let holder = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join("busy.rotation.json.lock"))
        .expect("lock file");
    holder.lock().expect("lock");
    let locked = run(&mut rotate(&mock, &user, &old, &busy, &[]));
    assert_eq!(locked.status.code(), Some(2), "{}", stderr(&locked));
    assert!(
        stderr(&locked).contains("another `prime keys rotate`"),
        "{}",
        stderr(&locked)
    );
    drop(holder);
    let file = dir.join("new");
    let unknown = run(&mut rotate(&mock, &user, "NOSUCHKEY", &file, &[]));
    assert_eq!(unknown.status.code(), Some(1), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("NOSUCHKEY"));
    std::fs::write(
        journal_of(&file),
        "{\"version\":1,\"user_id\":\"OTHER\",\"old_key_id\":\"K\",\"stage\":\"creating\"}",
    )
    .expect("journal");
    let foreign = run(&mut rotate(&mock, &user, &old, &file, &[]));
    assert_eq!(foreign.status.code(), Some(2), "{}", stderr(&foreign));
    assert_eq!(mock.keys(&user).len(), 1, "nothing was created");
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// keys create: orphans under a drop-after-execute fault.

fn key_ids(server: &MockServer, user: &str) -> Vec<String> {
    let output = run(prime_on(server).args(["--json", "keys", "list", "--user-id", user]));
    let keys: Vec<Value> = serde_json::from_slice(&output.stdout).expect("keys");
    keys.iter()
        .map(|k| k["id"].as_str().expect("id").to_owned())
        .collect()
}

#[test]
fn keys_create_reports_orphans_and_deletes_them_on_request() {
    let server = MockServer::start().expect("simulator");
    let output = run(prime_on(&server).args([
        "--json", "users", "create", "--name", "o", "--role", "Viewer",
    ]));
    let user: Value = serde_json::from_slice(&output.stdout).expect("user");
    let user = user["id"].as_str().expect("id").to_owned();

    server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("CreatePrimeApiUserKey"));
    let reported = run(prime_on(&server).args(["keys", "create", "--user-id", &user]));
    assert_eq!(reported.status.code(), Some(1), "{}", stderr(&reported));
    assert!(reported.stdout.is_empty(), "no secret, no key printed");
    let orphans = key_ids(&server, &user);
    assert_eq!(orphans.len(), 1);
    let command = format!("prime keys delete --user-id {user} --key-id {}", orphans[0]);
    assert!(
        stderr(&reported).contains(&command),
        "{}",
        stderr(&reported)
    );

    server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("CreatePrimeApiUserKey"));
    let created = run(prime_on(&server).args([
        "--json",
        "keys",
        "create",
        "--user-id",
        &user,
        "--delete-orphans",
    ]));
    assert!(created.status.success(), "{}", stderr(&created));
    let key: Value = serde_json::from_slice(&created.stdout).expect("key");
    // The orphan of this run went; the first run's orphan was not this run's to delete.
    let ids = key_ids(&server, &user);
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&orphans[0]));
    assert!(ids.iter().any(|id| key["id"] == id.as_str()));
    assert!(
        stderr(&created).contains("deleted orphaned key"),
        "{}",
        stderr(&created)
    );

    // A clean user: drop-after-execute with --delete-orphans ends with exactly one key, and
    // its secret authenticates.
    let output = run(prime_on(&server).args([
        "--json", "users", "create", "--name", "p", "--role", "Viewer",
    ]));
    let user: Value = serde_json::from_slice(&output.stdout).expect("user");
    let user = user["id"].as_str().expect("id").to_owned();
    server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("CreatePrimeApiUserKey"));
    let created = run(prime_on(&server).args([
        "--json",
        "keys",
        "create",
        "--user-id",
        &user,
        "--delete-orphans",
        "--check",
    ]));
    assert!(created.status.success(), "{}", stderr(&created));
    let stdout = String::from_utf8_lossy(&created.stdout);
    let key: Value = serde_json::Deserializer::from_str(&stdout)
        .into_iter::<Value>()
        .next()
        .expect("a document")
        .expect("JSON");
    let ids = key_ids(&server, &user);
    assert_eq!(ids, [key["id"].as_str().expect("id")]);
    assert!(key["api_secret"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(server.executions("DeletePrimeApiUserKey"), 2);
}

/// Progress, logs at TRACE and the journal never hold the new secret (it only goes to FILE).
#[test]
fn rotate_never_shows_the_new_secret_outside_its_file() {
    let dir = scratch("hygiene");
    let mock = Mock::start(&dir);
    for json in [false, true] {
        let name = format!("hygiene-{json}");
        let (user, old, _, _) = mock.user_with_key(&dir, &name);
        let file = dir.join(format!("{name}.new"));
        let mut command = prime();
        command
            .arg("--credentials")
            .arg(&mock.credentials)
            .arg("-vv");
        if json {
            command.arg("--json");
        }
        let output = run(command
            .env("PRIME_LOG", "trace")
            .args([
                "keys",
                "rotate",
                "--user-id",
                &user,
                "--key-id",
                &old,
                "--secret-out",
            ])
            .arg(&file));
        assert!(output.status.success(), "{}", stderr(&output));
        let secret = std::fs::read_to_string(&file).expect("secret");
        let secret = secret.trim_end();
        assert_eq!(secret.len(), 31, "the simulator's secret shape");
        let shown = [
            stderr(&output),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            std::fs::read_to_string(journal_of(&file)).expect("journal"),
        ];
        for text in shown {
            assert!(!text.contains(secret), "secret shown: {text}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
