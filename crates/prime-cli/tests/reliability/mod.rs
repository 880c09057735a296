//! The one-time secret survives everything, and `prime` never panics: one test per
//! class of the probes that found the bugs, each over many variations. The built binary runs
//! against the simulator, or against a scripted server (127.0.0.1, port 0) that answers with
//! any bytes, to produce replies the simulator never would.

use super::{is_issued_secret, new_user, prime, prime_on, run, scratch, stderr};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use prime_core::endpoints::Role;
use prime_mock::{Fault, FaultKind, MockServer};
use prime_test_support::scripted;

const OFFICIAL_SECRET: &str =
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";

// ---------------------------------------------------------------------------------------------
// Harness

fn prime_at(url: &str) -> Command {
    let mut command = prime();
    command
        .env("KRAKEN_API_KEY", "KRA5L19LAW8Z")
        .env("KRAKEN_API_SECRET", OFFICIAL_SECRET)
        .args(["--base-url", url, "--timeout", "10"]);
    command
}

fn out(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// No probe may end in a panic (exit 101) or print one.
fn assert_no_panic(output: &Output, context: &str) {
    assert_ne!(
        output.status.code(),
        Some(101),
        "{context}: {}",
        stderr(output)
    );
    assert!(
        output.status.code().is_some(),
        "{context}: killed by a signal"
    );
    assert!(
        !stderr(output).contains("panicked"),
        "{context}: {}",
        stderr(output)
    );
}

/// A server that answers each of the next `replies` requests with its status and body bytes,
/// whatever was asked, then closes the connection. Returns its URL.
fn scripted(replies: Vec<(u16, Vec<u8>)>) -> String {
    scripted::serve(
        replies
            .iter()
            .map(|(status, body)| scripted::reply(*status, body))
            .collect(),
    )
}

/// The reply to the listing `keys create` makes before it creates (to name orphans if the
/// creation's outcome turns out unknown): no keys yet.
fn no_keys() -> (u16, Vec<u8>) {
    (200, br#"{"error":[],"result":{"data":[]}}"#.to_vec())
}

/// `sh -c SCRIPT prime ARGS...`: for redirections a `Command` cannot express.
fn shell(script: &str, command: &Command) -> Output {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(script)
        .arg(command.get_program())
        .args(command.get_args())
        .stdin(Stdio::null());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => sh.env(name, value),
            None => sh.env_remove(name),
        };
    }
    sh.output().expect("sh runs")
}

// ---------------------------------------------------------------------------------------------
// Class 1: an odd reply that carries the secret delivers it.

const SECRET: &str = "OddReplySecret-6xq8p1mvk9r3n7swt2l5cj4eaydhzbf";

fn odd_create_replies() -> Vec<(u16, String)> {
    let documented = serde_json::json!({
        "id": "3RM9K4ZTC0C00", "api_key": "KRA5L19LAW8Z", "api_secret": SECRET,
        "user_id": "2T0RXL9B8K5D6", "permissions": ["read::marketdata"],
        "whitelisted_ips": ["192.168.1.1"],
    });
    let mut replies = Vec::new();
    for (field, value) in [
        ("whitelisted_ips", serde_json::json!(null)),
        ("permissions", serde_json::json!(null)),
        ("id", serde_json::json!(12345)),
        ("user_id", serde_json::json!(null)),
        ("api_key", serde_json::json!({"k": 1})),
        ("permissions", serde_json::json!("read")),
        ("whitelisted_ips", serde_json::json!([1, 2])),
    ] {
        let mut result = documented.clone();
        result[field] = value;
        replies.push((
            200,
            serde_json::json!({"error": [], "result": result}).to_string(),
        ));
    }
    let mut missing = documented.clone();
    missing.as_object_mut().expect("object").remove("id");
    replies.push((
        200,
        serde_json::json!({"error": [], "result": missing}).to_string(),
    ));
    let whole = serde_json::json!({"error": [], "result": documented}).to_string();
    // Cut right after the secret, and one byte short of complete (the malformed-json fault).
    let after_secret = whole.find(SECRET).expect("secret") + SECRET.len() + 1;
    replies.push((200, whole[..after_secret].to_owned()));
    replies.push((200, whole[..whole.len() - 1].to_owned()));
    replies.push((200, format!("{whole}<html>garbage</html>")));
    replies.push((
        200,
        serde_json::json!({"error": ["EGeneral:Internal error"], "result": documented}).to_string(),
    ));
    replies.push((502, whole.clone()));
    replies
}

#[test]
fn odd_create_replies_deliver_the_secret_to_stdout_json_or_the_file() {
    let dir = scratch("odd");
    for (i, (status, body)) in odd_create_replies().into_iter().enumerate() {
        for mode in ["text", "json", "file"] {
            let url = scripted(vec![no_keys(), (status, body.clone().into_bytes())]);
            let mut command = prime_at(&url);
            if mode == "json" {
                command.arg("--json");
            }
            command.args(["keys", "create", "--user-id", "2T0RXL9B8K5D6"]);
            let file = dir.join(format!("secret-{i}"));
            if mode == "file" {
                command.arg("--secret-out").arg(&file);
            }
            let output = run(&mut command);
            let context = format!("{mode} {status} {body}");
            assert_no_panic(&output, &context);
            assert_eq!(
                output.status.code(),
                Some(1),
                "{context}: {}",
                stderr(&output)
            );
            assert!(
                stderr(&output).contains("key was created"),
                "{context}: {}",
                stderr(&output)
            );
            match mode {
                "file" => {
                    let written = std::fs::read_to_string(&file).expect("the file was written");
                    assert_eq!(written, format!("{SECRET}\n"), "{context}");
                    assert!(!out(&output).contains(SECRET) && !stderr(&output).contains(SECRET));
                }
                "json" => {
                    let document: serde_json::Value =
                        serde_json::from_slice(&output.stdout).expect("JSON on stdout");
                    assert_eq!(document["api_secret"], SECRET, "{context}");
                }
                _ => assert!(
                    out(&output).contains(&format!("api_secret={SECRET}")),
                    "{context}: {}",
                    out(&output)
                ),
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn replies_without_a_secret_fail_without_pretending_a_key_was_made() {
    for body in [
        r#"{"error":[],"result":{"api_secret":null,"id":"K"}}"#,
        r#"{"error":[],"result":{"id":"K","api_key":"A","api_se"#,
        "<html>502</html>",
        "",
    ] {
        let url = scripted(vec![no_keys(), (200, body.as_bytes().to_vec())]);
        let output = run(prime_at(&url).args(["keys", "create", "--user-id", "U1"]));
        assert_no_panic(&output, body);
        assert_eq!(output.status.code(), Some(1), "{body}");
        assert!(
            !stderr(&output).contains("key was created"),
            "{body}: {}",
            stderr(&output)
        );
        assert!(out(&output).is_empty(), "{body}");
    }
}

#[test]
fn the_simulators_malformed_json_fault_on_create_still_delivers_a_working_secret() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    server.push_fault(Fault::new(FaultKind::MalformedJson).on("CreatePrimeApiUserKey"));
    let output = run(prime_on(&server).args(["--json", "keys", "create", "--user-id", &user]));
    assert_no_panic(&output, "malformed-json");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        server.executions("CreatePrimeApiUserKey"),
        1,
        "never resent"
    );
    let key: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_issued_key_works(
        &server,
        key["api_key"].as_str().expect("api_key"),
        key["api_secret"].as_str().expect("secret"),
    );
}

/// The key authenticates where issued keys are used: `prime keys check` on the simulator's
/// Prime WebSocket.
fn assert_issued_key_works(server: &MockServer, api_key: &str, secret: &str) {
    let dir = scratch("issued-check");
    let file = dir.join("secret");
    std::fs::write(&file, secret).expect("write the secret");
    let output = run(prime_on(server)
        .args([
            "keys",
            "check",
            "--api-key",
            api_key,
            "--ws-url",
            &server.ws_url(),
            "--secret-file",
        ])
        .arg(&file));
    assert!(
        output.status.success(),
        "the key must authenticate: {}",
        stderr(&output)
    );
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Class 2: a stdout that cannot take the secret.

/// The secret line on stderr after a failed delivery: a secret as the simulator issues them.
fn secret_on_stderr(output: &Output) -> String {
    stderr(output)
        .lines()
        .find(|l| is_issued_secret(l.trim()))
        .unwrap_or_else(|| panic!("no secret on stderr: {}", stderr(output)))
        .trim()
        .to_owned()
}

#[test]
fn a_stdout_that_fails_sends_the_secret_to_stderr_and_exits_1() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    let mut created = 0;
    for json in [false, true] {
        let mut command = prime_on(&server);
        if json {
            command.arg("--json");
        }
        command.args(["keys", "create", "--user-id", &user]);

        // A full device.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let output = command.stdout(full).output().expect("runs");
        assert_no_panic(&output, "/dev/full");
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        secret_on_stderr(&output);
        created += 1;

        // A pipe whose reader is gone.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let output = command.stdout(writer).output().expect("runs");
        assert_no_panic(&output, "closed pipe");
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        secret_on_stderr(&output);
        created += 1;
        assert_eq!(server.key_count(&user), created);
    }
}

#[test]
fn a_closed_or_null_stdout_is_refused_before_a_key_is_created() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    for (script, what) in [
        (r#"exec "$0" "$@" >&-"#, "closed"),
        (r#"exec "$0" "$@" >/dev/null"#, "/dev/null"),
        (r#"exec "$0" "$@" 1<>/dev/null"#, "/dev/null read-write"),
    ] {
        for json in [false, true] {
            let mut command = prime_on(&server);
            if json {
                command.arg("--json");
            }
            command.args(["keys", "create", "--user-id", &user]);
            let output = shell(script, &command);
            assert_no_panic(&output, what);
            assert_eq!(output.status.code(), Some(2), "{what}: {}", stderr(&output));
            assert!(
                stderr(&output).contains("no key was created"),
                "{}",
                stderr(&output)
            );
        }
    }
    assert_eq!(server.key_count(&user), 0);
    // With --secret-out, stdout does not matter for the secret: a closed stdout is fine.
    let dir = scratch("closed-stdout");
    let file = dir.join("secret");
    let mut command = prime_on(&server);
    command
        .args(["keys", "create", "--user-id", &user, "--secret-out"])
        .arg(&file);
    let output = shell(r#"exec "$0" "$@" >&-"#, &command);
    assert_no_panic(&output, "closed stdout with --secret-out");
    assert!(std::fs::read_to_string(&file).is_ok_and(|s| s.ends_with('\n') && s.len() > 10));
    assert_eq!(server.key_count(&user), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn with_secret_out_a_failing_stdout_leaves_the_secret_safe_in_its_file() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    let dir = scratch("secret-out-full");
    let file = dir.join("secret");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let output = prime_on(&server)
        .args(["keys", "create", "--user-id", &user, "--secret-out"])
        .arg(&file)
        .stdout(full)
        .output()
        .expect("runs");
    assert_no_panic(&output, "secret-out + /dev/full");
    assert_eq!(output.status.code(), Some(1));
    let secret = std::fs::read_to_string(&file).expect("file");
    assert!(
        is_issued_secret(secret.trim()),
        "the issued secret is in the file"
    );
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Class 3: --secret-out is checked by creating it before anything is sent.

#[cfg(unix)]
#[test]
fn every_unusable_secret_out_path_is_refused_before_a_key_is_created() {
    use std::os::unix::fs::symlink;

    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    let dir = scratch("secret-out-paths");
    let existing = dir.join("existing");
    std::fs::write(&existing, "keep me").expect("file");
    let folder = dir.join("folder");
    std::fs::create_dir(&folder).expect("dir");
    symlink(dir.join("nowhere"), dir.join("dangling")).expect("symlink");
    symlink(&existing, dir.join("to-file")).expect("symlink");
    symlink(&folder, dir.join("to-folder")).expect("symlink");
    symlink(dir.join("loop"), dir.join("loop")).expect("symlink");

    let cases: Vec<(PathBuf, &str)> = vec![
        (dir.join("dangling"), "dangling symlink"),
        (dir.join("to-file"), "symlink to a file"),
        (dir.join("to-folder"), "symlink to a folder"),
        (dir.join("loop"), "symlink loop"),
        (existing.clone(), "existing file"),
        (folder.clone(), "existing folder"),
        (dir.join("missing").join("secret"), "missing parent folder"),
        (dir.join("a").join("b").join("c"), "missing grandparent"),
        (existing.join("secret"), "path under a regular file"),
        (dir.join("new-folder/"), "trailing slash, no such folder"),
        (
            PathBuf::from("/sys/prime-secret-probe"),
            "a place we may not write (sysfs)",
        ),
        (PathBuf::from("/proc/prime-secret-probe"), "procfs"),
        (
            PathBuf::from("/proc/self/prime-secret-probe"),
            "procfs, per process",
        ),
        (PathBuf::from(""), "empty path"),
        (PathBuf::from("/dev/full"), "a device"),
    ];
    for (path, what) in cases {
        let output = run(prime_on(&server)
            .args(["keys", "create", "--user-id", &user, "--secret-out"])
            .arg(&path));
        assert_no_panic(&output, what);
        assert_eq!(output.status.code(), Some(2), "{what}: {}", stderr(&output));
        // (clap itself refuses an empty path, in its own words.)
        if !path.as_os_str().is_empty() {
            assert!(
                stderr(&output).contains("no key was created"),
                "{what}: {}",
                stderr(&output)
            );
        }
        assert_eq!(server.key_count(&user), 0, "{what}: a key was created");
    }
    // Nothing was created, followed or overwritten.
    assert!(!dir.join("nowhere").exists());
    assert!(!dir.join("new-folder").exists());
    assert!(!dir.join("missing").exists());
    assert_eq!(std::fs::read_to_string(&existing).expect("file"), "keep me");
    assert_eq!(std::fs::read_dir(&folder).expect("dir").count(), 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(unix)]
#[test]
fn a_secret_file_that_cannot_be_written_is_removed_and_the_secret_printed() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    let dir = scratch("secret-write-fails");
    let file = dir.join("secret");
    // A file-size limit of 0 makes the write fail after the file was created, as a full disk
    // does (the signal it raises is ignored, so the write returns EFBIG). It would also stop
    // the host send order from recording the nonce (and then nothing is sent): this test is
    // about the secret file, so the order is off.
    let mut command = prime_on(&server);
    command
        .env("PRIME_NONCE_ORDER", "off")
        .args(["keys", "create", "--user-id", &user, "--secret-out"])
        .arg(&file);
    let output = shell(r#"trap '' XFSZ; ulimit -f 0; exec "$0" "$@""#, &command);
    assert_no_panic(&output, "EFBIG");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let secret = secret_on_stderr(&output);
    assert!(!file.exists(), "the empty file must be removed");
    assert_eq!(server.key_count(&user), 1);
    // The same path works for the next key.
    let output = run(prime_on(&server)
        .args(["keys", "create", "--user-id", &user, "--secret-out"])
        .arg(&file));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_ne!(std::fs::read_to_string(&file).expect("file").trim(), secret);
    // A create that fails leaves no empty file behind either.
    let other = dir.join("unused");
    let output = run(prime_on(&server)
        .args(["keys", "create", "--user-id", "NOSUCHUSER", "--secret-out"])
        .arg(&other));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!other.exists());
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Class 4: no input makes `prime` panic.

#[test]
fn bad_timeouts_are_usage_errors_not_panics() {
    let server = MockServer::start().expect("simulator");
    for timeout in [
        "1.8e19",
        "1e300",
        "18446744073709551615",
        "86401",
        "inf",
        "NaN",
        "-1",
        "0",
        "-0",
        "1e-12",
    ] {
        for command in [&["users", "list"][..], &["demo", "--seed", "1"][..]] {
            let output = run(prime_on(&server)
                .arg(format!("--timeout={timeout}"))
                .args(command));
            assert_no_panic(&output, timeout);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{timeout}: {}",
                stderr(&output)
            );
            assert!(stderr(&output).contains("--timeout"), "{}", stderr(&output));
        }
    }
    // The limits themselves are accepted.
    for timeout in ["86400", "5"] {
        let output = run(prime_on(&server).args(["--timeout", timeout, "users", "list"]));
        assert_eq!(
            output.status.code(),
            Some(0),
            "{timeout}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_reader_that_goes_away_ends_every_plain_command_quietly() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors/api-sign.json");
    let commands: Vec<Vec<String>> = vec![
        vec![
            "vectors".into(),
            "generate".into(),
            "--count".into(),
            "5000".into(),
        ],
        vec![
            "vectors".into(),
            "generate".into(),
            "--count".into(),
            u64::MAX.to_string(),
        ],
        vec![
            "vectors".into(),
            "verify".into(),
            vectors.display().to_string(),
        ],
        vec!["users".into(), "list".into()],
        vec![
            "users".into(),
            "get".into(),
            "--user-id".into(),
            user.clone(),
        ],
        vec![
            "keys".into(),
            "list".into(),
            "--user-id".into(),
            user.clone(),
        ],
        vec!["demo".into(), "--seed".into(), "2".into()],
        vec!["--help".into()],
    ];
    for args in &commands {
        for json in [false, true] {
            let mut command = prime_on(&server);
            if json {
                command.arg("--json");
            }
            command.args(args);
            // `| head -c1`, and a pipe already closed before the first write.
            let started = Instant::now();
            let output = shell(r#""$0" "$@" | head -c1 >/dev/null"#, &command);
            assert_no_panic(&output, &format!("{args:?} | head -c1"));
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{args:?} kept running"
            );
            let (reader, writer) = std::io::pipe().expect("pipe");
            drop(reader);
            let output = command.stdout(writer).output().expect("runs");
            assert_no_panic(&output, &format!("{args:?} closed pipe"));
            assert_eq!(
                output.status.code(),
                Some(0),
                "{args:?}: {}",
                stderr(&output)
            );
            assert!(
                stderr(&output).is_empty(),
                "{args:?} should end quietly: {}",
                stderr(&output)
            );
        }
    }
}

#[test]
fn a_full_stdout_or_stderr_is_an_error_exit_not_a_panic() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
    };
    for args in [
        &["vectors", "generate", "--count", "100"][..],
        &["users", "list"][..],
        &["keys", "list", "--user-id", user.as_str()][..],
        &["demo", "--seed", "2"][..],
    ] {
        let output = prime_on(&server)
            .args(args)
            .stdout(full())
            .output()
            .expect("runs");
        assert_no_panic(&output, &format!("{args:?} > /dev/full"));
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("cannot write to stdout"),
            "{}",
            stderr(&output)
        );
    }
    // Errors and logs to a full stderr: the exit code still tells.
    for (args, code) in [
        (&["users", "get", "--user-id", "NOSUCH"][..], 1),
        (
            &["users", "create", "--name", "", "--role", "Trader"][..],
            2,
        ),
        (&["-vv", "users", "list"][..], 0),
    ] {
        let output = prime_on(&server)
            .args(args)
            .stderr(full())
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(code), "{args:?} 2> /dev/full");
    }
    // clap's own help and errors.
    let output = prime().arg("--help").stdout(full()).output().expect("runs");
    assert_ne!(output.status.code(), Some(101));
    let output = prime()
        .arg("--no-such-flag")
        .stderr(full())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn vectors_generate_streams_the_same_document_for_any_count() {
    for count in [0u64, 1, 3, 250] {
        let output = run(prime()
            .args(["vectors", "generate", "--seed", "9", "--count"])
            .arg(count.to_string()));
        assert_eq!(output.status.code(), Some(0));
        // Exactly what serde_json's pretty printer makes of the whole array, then a newline.
        // The vector format, fields in their documented order.
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Vector {
            name: String,
            secret: String,
            nonce: String,
            path: String,
            body: String,
            api_sign: String,
        }
        let parsed: Vec<Vector> = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(parsed.len() as u64, count);
        let whole = serde_json::to_string_pretty(&parsed).expect("json") + "\n";
        assert_eq!(out(&output), whole);
    }
    // A huge count starts writing at once instead of allocating first.
    let mut child = prime()
        .args(["vectors", "generate", "--count", "18446744073709551615"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 4096];
    let started = Instant::now();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("output arrives");
    assert!(started.elapsed() < Duration::from_secs(10));
    let status = child.wait().expect("ends when its reader goes away");
    assert_eq!(status.code(), Some(0));
}

// ---------------------------------------------------------------------------------------------
// Class 5: `prime mock --credentials-out` and the empty credentials file.

#[test]
fn mock_writes_its_credentials_file_atomically_before_serving() {
    let dir = scratch("mock-credentials");
    let file = dir.join("mock.json");
    std::fs::write(&file, "stale from an earlier run").expect("stale");
    let mut child = prime()
        .args(["mock", "--seed", "7", "--credentials-out"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prime mock starts");
    // The recipe of docs/simulator.md: wait for the file, then use it at once. Every read of the file is
    // either the stale text, no file, or the complete new file.
    let started = Instant::now();
    let text = loop {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no credentials file"
        );
        match std::fs::read_to_string(&file) {
            Ok(text) if text != "stale from an earlier run" => break text,
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).expect("complete JSON at first sight");
    assert!(
        value["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://127.0.0.1:"))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let output = run(prime()
        .arg("--credentials")
        .arg(&file)
        .args(["users", "list"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_empty_credentials_file_says_so() {
    let dir = scratch("empty-credentials");
    for (name, content) in [("empty", ""), ("blank", " \n\t\n")] {
        let file = dir.join(name);
        std::fs::write(&file, content).expect("file");
        let output = run(prime()
            .arg("--credentials")
            .arg(&file)
            .args(["users", "list"]));
        assert_eq!(output.status.code(), Some(2));
        assert!(stderr(&output).contains("is empty"), "{}", stderr(&output));
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Class 6: allow-lists can be cleared; an update that changes nothing is refused unsent.

#[test]
fn allow_lists_clear_explicitly_and_empty_updates_are_refused_before_sending() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    let key = prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .build()
        .expect("client")
        .create_api_user_key(&user)
        .expect("key");
    let update = |extra: &[&str]| {
        let mut command = prime_on(&server);
        command.args([
            "--json",
            "keys",
            "update",
            "--user-id",
            &user,
            "--key-id",
            &key.id,
        ]);
        command.args(extra);
        run(&mut command)
    };
    let output = update(&["--whitelisted-ips", "10.0.0.1,10.0.0.0/8"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = update(&["--clear-whitelisted-ips"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let cleared: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(cleared["whitelisted_ips"], serde_json::json!([]));
    let listed = prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .build()
        .expect("client")
        .list_api_user_keys(&user)
        .expect("list");
    assert!(listed[0].whitelisted_ips.is_empty());
    let sent = server.executions("UpdatePrimeApiUserKey");
    for extra in [
        &[][..],
        &["--whitelisted-ips", ""][..],
        &["--whitelisted-ips="][..],
        &["--whitelisted-ips", ","][..],
        &["--whitelisted-ips", " "][..],
        &["--whitelisted-ips", "10.0.0.1", "--clear-whitelisted-ips"][..],
    ] {
        let output = update(extra);
        assert_no_panic(&output, &format!("{extra:?}"));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{extra:?}: {}",
            stderr(&output)
        );
    }
    assert!(stderr(&update(&["--whitelisted-ips", ""])).contains("--clear-whitelisted-ips"));
    assert_eq!(
        server.executions("UpdatePrimeApiUserKey"),
        sent,
        "nothing was sent"
    );
    // The same for users: an update with nothing to change.
    let output = run(prime_on(&server).args(["users", "update", "--user-id", &user]));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(server.executions("UpdatePrimeApiUser"), 0);
}

// ---------------------------------------------------------------------------------------------
// Class 7: --json is honoured by every command.

#[test]
fn every_command_prints_json_with_json() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    let dir = scratch("json-everywhere");
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors/api-sign.json");
    let secret_file = dir.join("secret");
    let runs: Vec<Vec<String>> = vec![
        vec![
            "sign",
            "--path",
            "/0/private/X",
            "--nonce",
            "1",
            "--body",
            "{}",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        vec![
            "vectors".into(),
            "verify".into(),
            vectors.display().to_string(),
        ],
        vec![
            "vectors".into(),
            "generate".into(),
            "--count".into(),
            "2".into(),
        ],
        vec!["demo".into(), "--seed".into(), "5".into()],
        vec!["users".into(), "list".into()],
        vec![
            "users".into(),
            "get".into(),
            "--user-id".into(),
            user.clone(),
        ],
        vec![
            "users".into(),
            "update".into(),
            "--user-id".into(),
            user.clone(),
            "--name".into(),
            "J".into(),
        ],
        vec![
            "users".into(),
            "set-role".into(),
            "--user-id".into(),
            user.clone(),
            "--role".into(),
            "Viewer".into(),
        ],
        vec![
            "keys".into(),
            "create".into(),
            "--user-id".into(),
            user.clone(),
        ],
        vec![
            "keys".into(),
            "create".into(),
            "--user-id".into(),
            user.clone(),
            "--secret-out".into(),
            secret_file.display().to_string(),
        ],
        vec![
            "keys".into(),
            "list".into(),
            "--user-id".into(),
            user.clone(),
        ],
    ];
    for args in runs {
        let output = run(prime_on(&server).arg("--json").args(&args));
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        let text = out(&output);
        serde_json::from_str::<serde_json::Value>(&text)
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON document ({e}): {text}"));
    }
    // A failed verification is JSON too, with each failure named.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"name":"n","secret":"kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==","nonce":"1","path":"/","body":"","api_sign":"x"}]"#,
    )
    .expect("file");
    let output = run(prime().args(["--json", "vectors", "verify"]).arg(&bad));
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["failed"], 1);
    assert_eq!(report["failures"][0]["name"], "n");
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Class 8: advice fits the call.

#[test]
fn outcome_unknown_advice_matches_reads_and_writes() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    // Reads are retried: enough drops to exhaust the retries.
    server.push_fault(
        Fault::new(FaultKind::DropAfterExecute)
            .on("ListPrimeApiUsers")
            .times(20),
    );
    let output = run(prime_on(&server).args(["users", "list"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("only reads"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stderr(&output).contains("before repeating"),
        "{}",
        stderr(&output)
    );
    server.clear_faults();
    for (method, args) in [
        (
            "CreatePrimeApiUser",
            vec!["users", "create", "--name", "N", "--role", "Trader"],
        ),
        (
            "CreatePrimeApiUserKey",
            vec!["keys", "create", "--user-id", user.as_str()],
        ),
        (
            "UpdatePrimeApiUserRoles",
            vec![
                "users",
                "set-role",
                "--user-id",
                user.as_str(),
                "--role",
                "Viewer",
            ],
        ),
    ] {
        server.push_fault(Fault::new(FaultKind::DropAfterExecute).on(method));
        let output = run(prime_on(&server).args(&args));
        assert_eq!(
            output.status.code(),
            Some(1),
            "{method}: {}",
            stderr(&output)
        );
        if method == "CreatePrimeApiUserKey" {
            // A key creation is reconciled instead: the orphan is named with the command that
            // deletes it (tests/rotate/mod.rs).
            assert!(
                stderr(&output).contains("prime keys delete --user-id"),
                "{}",
                stderr(&output)
            );
            continue;
        }
        assert!(
            stderr(&output).contains("before repeating it"),
            "{method}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(method),
            "{method}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("only reads"));
    }
}

// ---------------------------------------------------------------------------------------------
// Class 9: what a server or a file sends is escaped in text output.

const HOSTILE: [&str; 8] = [
    "\u{1b}[31mred\u{1b}[0m",
    "line\nprime: fake line",
    "back\rover",
    "bell\u{7}",
    "\u{9b}31m C1 CSI",
    "rtl\u{202e}txt.exe",
    "zero\u{200b}width",
    "tab\tnul\u{0}",
];

fn assert_escaped(text: &str, context: &str) {
    for c in text.chars() {
        let bad = (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{200b}'..='\u{200f}' | '\u{2066}'..='\u{2069}');
        assert!(!bad, "{context}: unescaped {c:?} in {text:?}");
    }
}

#[test]
fn server_and_file_text_is_escaped_in_text_output_and_exact_in_json() {
    for hostile in HOSTILE {
        let user = serde_json::json!({"id": hostile, "name": hostile, "status": hostile, "roles": [hostile]});
        let users_body = serde_json::json!({"error": [], "result": {"data": [user]}}).to_string();
        let url = scripted(vec![(200, users_body.clone().into_bytes()); 2]);
        let output = run(prime_at(&url).args(["users", "list"]));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_escaped(&out(&output), hostile);
        assert_eq!(
            out(&output).lines().count(),
            1,
            "{hostile:?}: a fake line: {}",
            out(&output)
        );
        let output = run(prime_at(&url).args(["--json", "users", "list"]));
        let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(parsed[0]["name"], hostile, "JSON keeps the exact text");

        // Kraken error strings on stderr.
        let error_body = serde_json::json!({"error": [format!("EGeneral:{hostile}")]}).to_string();
        let url = scripted(vec![(200, error_body.into_bytes())]);
        let output = run(prime_at(&url).args(["users", "list"]));
        assert_eq!(output.status.code(), Some(1));
        assert_escaped(&stderr(&output), hostile);
        assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));

        // A created key's fields, and even its secret (shown escaped, with a note).
        let key = serde_json::json!({"error": [], "result": {
            "id": hostile, "api_key": hostile, "api_secret": format!("s{hostile}"),
            "user_id": hostile, "permissions": [], "whitelisted_ips": []}});
        let url = scripted(vec![no_keys(), (200, key.to_string().into_bytes())]);
        let output = run(prime_at(&url).args(["keys", "create", "--user-id", "U"]));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_escaped(&out(&output), hostile);

        // Vector names and values in a vectors file.
        let dir = scratch("hostile-vectors");
        let file = dir.join("v.json");
        let vectors = serde_json::json!([{"name": hostile, "secret": OFFICIAL_SECRET, "nonce": "1",
            "path": "/", "body": "", "api_sign": hostile}]);
        std::fs::write(&file, vectors.to_string()).expect("file");
        let output = run(prime().args(["vectors", "verify"]).arg(&file));
        assert_eq!(output.status.code(), Some(1));
        assert_escaped(&out(&output), hostile);
        assert_eq!(out(&output).lines().count(), 2, "{}", out(&output));
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn no_colour_codes_on_a_stderr_that_is_not_a_terminal() {
    let server = MockServer::start().expect("simulator");
    for args in [
        &["-vv", "users", "list"][..],
        &["-v", "demo", "--seed", "1"][..],
    ] {
        let output = run(prime_on(&server).args(args));
        assert_eq!(output.status.code(), Some(0));
        assert!(!stderr(&output).is_empty(), "{args:?} logs something");
        assert!(
            !stderr(&output).contains('\u{1b}'),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let output = run(prime().arg("--no-such-flag"));
    assert!(!stderr(&output).contains('\u{1b}'));
}

// ---------------------------------------------------------------------------------------------
// Class 10: a variable that is set but not UTF-8.

#[cfg(unix)]
#[test]
fn non_utf8_credentials_in_the_environment_are_named_precisely() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt as _;

    for bytes in [&b"\xff"[..], b"KRA\xc3\x28", b"\x80abc", b"ok\xed\xa0\x80"] {
        let bad = OsStr::from_bytes(bytes);
        for (var, command) in [
            ("KRAKEN_API_KEY", &["users", "list"][..]),
            ("KRAKEN_API_SECRET", &["users", "list"][..]),
            (
                "KRAKEN_API_SECRET",
                &["sign", "--path", "/", "--nonce", "1", "--body", ""][..],
            ),
        ] {
            let output = run(prime()
                .env("KRAKEN_API_KEY", "KRA5L19LAW8Z")
                .env("KRAKEN_API_SECRET", OFFICIAL_SECRET)
                .env(var, bad)
                .args(command));
            assert_eq!(output.status.code(), Some(2), "{var}");
            let text = stderr(&output);
            assert!(
                text.contains(var) && text.contains("not valid UTF-8"),
                "{var}: {text}"
            );
            assert!(!text.contains("not set"), "{var}: {text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Class 12: an empty vector file verifies nothing.

#[test]
fn an_empty_vector_list_fails() {
    let dir = scratch("empty-vectors");
    for content in ["[]", " [ ]\n", "[\n]"] {
        let file = dir.join("v.json");
        std::fs::write(&file, content).expect("file");
        for json in [false, true] {
            let mut command = prime();
            if json {
                command.arg("--json");
            }
            let output = run(command.args(["vectors", "verify"]).arg(&file));
            assert_eq!(output.status.code(), Some(1), "{content:?}");
            assert!(
                stderr(&output).contains("no vectors"),
                "{}",
                stderr(&output)
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
