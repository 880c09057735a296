//! A delivered secret is a secret someone holds, every wait is bounded and announced, `prime`
//! ends what it started, and every message tells the truth. One test per class, each over a
//! family of inputs, asserting the property: the secret held or printed and nothing deleted;
//! bounded time; no child process left; the exit code; the message names the failed call.
//! (`docs/reliability.md` lists them.)

use super::{prime, prime_on, run, scratch};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prime_core::endpoints::Role;
use prime_mock::{AccountKeySpec, Fault, FaultKind, MockServer, Permission};

fn err(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn out(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn client(server: &MockServer) -> prime_blocking::Client {
    prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .build()
        .expect("client")
}

/// A user with one key (whose secret goes to `dir/old.secret`); returns (user, key id).
fn user_with_key(server: &MockServer, dir: &Path) -> (String, String) {
    let admin = client(server);
    let user = admin
        .create_api_user("desk", Role::Trader)
        .expect("user")
        .id;
    let key = admin.create_api_user_key(&user).expect("key");
    std::fs::write(dir.join("old.secret"), key.api_secret().expose()).expect("old secret");
    (user, key.id)
}

/// Whether process `pid` still runs (a zombie does not count: it ran to its end).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits (bounded) until `path` holds a pid, and returns it.
fn pid_in(path: &Path) -> u32 {
    let started = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no pid in {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (bounded) for `pid` to be gone.
fn gone(pid: u32) -> bool {
    let started = Instant::now();
    while alive(pid) {
        if started.elapsed() > Duration::from_secs(5) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{name} {pid}");
}

/// Runs `command` to its end, killing it if it outlives `limit` (then the test fails).
fn run_within(command: &mut Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prime runs");
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!("still running after {limit:?}: {}", err(&output));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    (output, started.elapsed())
}

/// A server that accepts connections and sends each one byte of `prefix` every 100 ms, for
/// at most 30 s: an answer that never completes. Returns its address.
fn dripping(prefix: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(30);
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
                let mut sink = [0u8; 4096];
                for byte in prefix.iter().cycle() {
                    if Instant::now() > until {
                        return;
                    }
                    let _ = stream.read(&mut sink);
                    if stream.write_all(&[*byte]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
            if Instant::now() > until {
                return;
            }
        }
    });
    addr
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

// ---------------------------------------------------------------------------------------------
// Class: a secret "delivered" to a command that never read it (see also the rotate module's
// `secret_cmd_that_does_not_take_the_secret_prints_it_and_the_rerun_keeps_its_key` and
// prime-blocking's `a_command_sink_refuses_every_command_that_does_not_consume_its_input`).

/// A `--secret-cmd` that hangs is ended at `--timeout`: the secret is printed, its key kept,
/// nothing deleted, no process left, in bounded time.
#[test]
fn a_hung_secret_cmd_is_ended_at_the_timeout_and_its_secret_printed() {
    let dir = scratch("hung-cmd");
    let server = MockServer::start().expect("simulator");
    for (n, script) in [
        "echo $$ > {P}; exec sleep 30",
        "echo $$ > {P}; cat > /dev/null; sleep 30",
        "echo $$ > {P}; (sleep 30; echo late) & sleep 30",
    ]
    .iter()
    .enumerate()
    {
        let (user, old) = user_with_key(&server, &dir);
        let pidfile = dir.join(format!("cmd{n}.pid"));
        let command = script.replace("{P}", &pidfile.display().to_string());
        let (output, took) = run_within(
            prime_on(&server)
                .current_dir(&dir)
                .args(["--timeout", "3", "keys", "rotate", "--no-check"])
                .args([
                    "--user-id",
                    &user,
                    "--key-id",
                    &old,
                    "--secret-cmd",
                    &command,
                ]),
            Duration::from_secs(20),
        );
        assert_eq!(output.status.code(), Some(1), "{command}: {}", err(&output));
        assert!(took < Duration::from_secs(12), "{command}: took {took:?}");
        let stderr = err(&output);
        assert!(
            stderr.contains("could not be delivered"),
            "{command}: {stderr}"
        );
        assert!(stderr.contains("is kept"), "{command}: {stderr}");
        assert_eq!(server.key_count(&user), 2, "{command}: nothing deleted");
        assert!(gone(pid_in(&pidfile)), "{command}: the command was ended");
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Class: blaming a call that was never sent. Every multi-call command with each of its calls
// failing names the call, and says when nothing was changed.

#[test]
fn keys_create_names_the_call_that_failed_and_says_when_nothing_was_created() {
    let server = MockServer::start().expect("simulator");
    let admin = client(&server);
    let refused = || FaultKind::KrakenError("EGeneral:Permission denied".to_owned());
    // (fault, call it hits, words the message must hold, keys the user ends with)
    let cases: Vec<(Fault, &str, Vec<&str>, usize)> = vec![
        (
            Fault::new(refused()).on("ListPrimeApiUserKeys"),
            "ListPrimeApiUserKeys",
            vec![
                "ListPrimeApiUserKeys",
                "no creation was sent",
                "no key was created",
            ],
            0,
        ),
        (
            Fault::new(FaultKind::BadGatewayHtml)
                .on("ListPrimeApiUserKeys")
                .times(5),
            "ListPrimeApiUserKeys",
            vec!["ListPrimeApiUserKeys", "no key was created"],
            0,
        ),
        (
            Fault::new(refused()).on("CreatePrimeApiUserKey"),
            "CreatePrimeApiUserKey",
            vec!["CreatePrimeApiUserKey", "Permission denied"],
            0,
        ),
        (
            Fault::new(FaultKind::DropAfterExecute).on("CreatePrimeApiUserKey"),
            "CreatePrimeApiUserKey",
            vec!["orphan", "prime keys delete"],
            1,
        ),
    ];
    for (fault, call, words, keys) in cases {
        let user = admin
            .create_api_user("desk", Role::Trader)
            .expect("user")
            .id;
        let creations = server.executions("CreatePrimeApiUserKey");
        server.push_fault(fault);
        let (output, _) = run_within(
            prime_on(&server).args(["keys", "create", "--user-id", &user]),
            Duration::from_secs(30),
        );
        server.clear_faults();
        let stderr = err(&output);
        assert_eq!(output.status.code(), Some(1), "{call}: {stderr}");
        for word in words {
            assert!(stderr.contains(word), "{call}: {word:?} in {stderr}");
        }
        if call == "ListPrimeApiUserKeys" {
            assert!(!stderr.contains("CreatePrimeApiUserKey:"), "{stderr}");
            assert!(!stderr.contains("may have taken effect"), "{stderr}");
            assert_eq!(
                server.executions("CreatePrimeApiUserKey"),
                creations,
                "not sent"
            );
        }
        assert_eq!(server.key_count(&user), keys, "{call}: {stderr}");
        assert!(!out(&output).contains("api_secret"), "no secret for {call}");
    }
    // The creation works and only the check fails: the message says the key exists.
    let user = admin
        .create_api_user("desk", Role::Trader)
        .expect("user")
        .id;
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/ws/v1", closed.local_addr().expect("addr"));
    drop(closed);
    let output = run(prime_on(&server).args([
        "keys",
        "create",
        "--user-id",
        &user,
        "--check",
        "--ws-url",
        &url,
    ]));
    assert_eq!(output.status.code(), Some(1), "{}", err(&output));
    assert!(
        err(&output).contains("only the check failed"),
        "{}",
        err(&output)
    );
    assert!(
        out(&output).contains("api_secret="),
        "the secret was delivered"
    );
    assert_eq!(server.key_count(&user), 1);
}

#[test]
fn keys_rotate_names_each_call_that_fails() {
    let dir = scratch("rotate-calls");
    let server = MockServer::start().expect("simulator");
    let refused = || FaultKind::KrakenError("EGeneral:Permission denied".to_owned());
    for (n, (call, nothing_changed)) in [
        ("ListPrimeApiUserKeys", true),
        ("CreatePrimeApiUserKey", false),
        ("UpdatePrimeApiUserKey", false),
        ("DeletePrimeApiUserKey", false),
    ]
    .into_iter()
    .enumerate()
    {
        let (user, old) = user_with_key(&server, &dir);
        // The allow-list step only calls when the old key has one.
        client(&server)
            .update_api_user_key(
                prime_core::endpoints::UpdateApiUserKey::new(&user, &old)
                    .whitelisted_ips(["127.0.0.1"]),
            )
            .expect("allow-list");
        server.push_fault(Fault::new(refused()).on(call));
        let secret = dir.join(format!("new{n}.secret"));
        let (output, _) = run_within(
            prime_on(&server)
                .args([
                    "keys",
                    "rotate",
                    "--no-check",
                    "--user-id",
                    &user,
                    "--key-id",
                    &old,
                ])
                .arg("--secret-out")
                .arg(&secret),
            Duration::from_secs(30),
        );
        server.clear_faults();
        let stderr = err(&output);
        assert_eq!(output.status.code(), Some(1), "{call}: {stderr}");
        let last = stderr.lines().last().unwrap_or_default();
        assert!(last.contains(call), "{call} named: {last}");
        assert_eq!(
            last.contains("nothing was changed"),
            nothing_changed,
            "{last}"
        );
        assert!(
            client(&server)
                .list_api_user_keys(&user)
                .expect("list")
                .iter()
                .any(|k| k.id == old),
            "{call}: the old key is kept"
        );
        let mut lock = secret.as_os_str().to_owned();
        lock.push(".rotation.json.lock");
        assert!(!PathBuf::from(lock).exists(), "{call}: no lock file left");
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Class: waits that are not bounded, or not announced.

/// Every wait on a server that drips its answer a byte at a time ends within `--timeout`
/// (plus scheduling slack), with exit 1 and nothing deleted: the REST call, the WebSocket
/// and FIX checks, `keys create --check` and the rotation's check.
#[test]
fn every_wait_on_a_dripping_server_ends_within_the_timeout() {
    let dir = scratch("drip");
    let server = MockServer::start().expect("simulator");
    let secret = dir.join("issued.secret");
    std::fs::write(&secret, "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf\n").expect("secret");
    let http = dripping(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
    let ws = format!(
        "ws://{}/ws/v1",
        dripping(b"HTTP/1.1 101 Switching Protocols\r\n")
    );
    let fix = dripping(b"8=FIX.4.4\x019=");
    let (user, old) = user_with_key(&server, &dir);
    let timeout = 2.0;
    let mut cases: Vec<(&str, Command)> = Vec::new();
    let mut rest = prime();
    rest.env("KRAKEN_API_KEY", "KRA5L19LAW8Z")
        .env("KRAKEN_API_SECRET", prime_core::example::SECRET)
        .args(["--base-url", &format!("http://{http}"), "users", "list"]);
    cases.push(("REST call", rest));
    let mut check_ws = prime();
    check_ws
        .args(["keys", "check", "--api-key", "K", "--secret-file"])
        .arg(&secret)
        .args(["--ws-url", &ws]);
    cases.push(("keys check (WebSocket)", check_ws));
    let mut check_fix = prime();
    check_fix
        .args(["keys", "check", "--api-key", "K", "--secret-file"])
        .arg(&secret)
        .args(["--fix-addr", &fix, "--sender", "S", "--target", "T"]);
    cases.push(("keys check (FIX)", check_fix));
    let mut create = prime_on(&server);
    create.args([
        "keys",
        "create",
        "--user-id",
        &user,
        "--check",
        "--ws-url",
        &ws,
    ]);
    cases.push(("keys create --check", create));
    let mut rotate = prime_on(&server);
    rotate
        .args([
            "keys",
            "rotate",
            "--user-id",
            &user,
            "--key-id",
            &old,
            "--ws-url",
            &ws,
        ])
        .arg("--secret-out")
        .arg(dir.join("rotated.secret"));
    cases.push(("keys rotate's check", rotate));
    for (what, mut command) in cases {
        command.args(["--timeout", &timeout.to_string()]);
        let (output, took) = run_within(&mut command, Duration::from_secs(25));
        assert_eq!(output.status.code(), Some(1), "{what}: {}", err(&output));
        assert!(
            took < Duration::from_secs_f64(timeout + 6.0),
            "{what}: took {took:?} with --timeout {timeout}"
        );
        assert!(
            !err(&output).contains("panicked"),
            "{what}: {}",
            err(&output)
        );
    }
    // The rotation's failed check deleted nothing: old key, new key.
    assert_eq!(
        server.key_count(&user),
        3,
        "old, created by keys create, rotated-to"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A throttle: a short one is waited for and announced with its end in UTC; one longer than
/// what `--timeout` leaves is not waited for; a far one is reported in human terms, never as a
/// raw Unix time.
#[test]
fn throttles_are_bounded_announced_and_said_in_human_terms() {
    let server = MockServer::start().expect("simulator");
    // Waited for (about 2 s) and announced.
    let until = now_unix() + 2;
    server.push_fault(Fault::new(FaultKind::throttled(until)).on("ListPrimeApiUsers"));
    let (output, _) = run_within(
        prime_on(&server).args(["--timeout", "30", "users", "list"]),
        Duration::from_secs(25),
    );
    assert!(output.status.success(), "{}", err(&output));
    let stderr = err(&output);
    assert!(
        stderr.contains("ListPrimeApiUsers was throttled"),
        "{stderr}"
    );
    assert!(stderr.contains(" UTC (in "), "{stderr}");
    assert!(
        !stderr.contains(&until.to_string()),
        "no raw Unix time: {stderr}"
    );
    // A rate limit is not waited out (calls made while limited prolong it): the command ends
    // at once and says how long to wait, in human terms.
    server.push_fault(
        Fault::new(FaultKind::rate_limited())
            .on("ListPrimeApiUsers")
            .times(2),
    );
    let (output, took) = run_within(
        prime_on(&server).args(["--timeout", "30", "users", "list"]),
        Duration::from_secs(25),
    );
    server.clear_faults();
    let stderr = err(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(stderr.contains("wait 45 s"), "{stderr}");
    assert!(
        stderr.contains("call again with this key after") && stderr.contains(" UTC (in 45 s)"),
        "{stderr}"
    );
    assert!(!stderr.contains("waiting"), "not waited for: {stderr}");
    // Longer than --timeout allows, or an hour away: not waited for, said in human terms.
    for (ahead, timeout) in [(20, "2"), (3600, "30")] {
        let until = now_unix() + ahead;
        server.push_fault(Fault::new(FaultKind::throttled(until)).on("ListPrimeApiUsers"));
        let (output, took) = run_within(
            prime_on(&server).args(["--timeout", timeout, "users", "list"]),
            Duration::from_secs(25),
        );
        server.clear_faults();
        let stderr = err(&output);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            took < Duration::from_secs(10),
            "{ahead} s ahead: took {took:?}"
        );
        assert!(stderr.contains("Kraken takes calls again at"), "{stderr}");
        assert!(stderr.contains(" UTC (in "), "{stderr}");
        assert!(!stderr.contains("waiting"), "not waited for: {stderr}");
    }
}

/// `vectors verify --signer` with a signer that does not read: the write of a large vector
/// is bounded by --signer-timeout too, and the signer is ended.
#[test]
fn a_signer_that_does_not_read_its_input_is_ended_in_time() {
    let dir = scratch("signer-write");
    let big = dir.join("big.json");
    let body = format!("nonce=1&pad={}", "x".repeat(2 << 20));
    std::fs::write(
        &big,
        serde_json::to_string(&serde_json::json!([{
            "scheme": "rest", "name": "large", "secret": prime_core::example::SECRET,
            "path": "/0/private/AddOrder", "nonce": "1", "body": body,
            "api_sign": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0u8; 64]),
        }]))
        .expect("json"),
    )
    .expect("vector file");
    let pidfile = dir.join("signer.pid");
    let signer = format!("echo $$ > '{}'; exec sleep 30", pidfile.display());
    let (output, took) = run_within(
        prime().args(["vectors", "verify"]).arg(&big).args([
            "--signer",
            &signer,
            "--signer-timeout",
            "1",
        ]),
        Duration::from_secs(25),
    );
    assert_eq!(output.status.code(), Some(1), "{}", err(&output));
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        out(&output).contains("did not read its input"),
        "{}",
        out(&output)
    );
    assert!(gone(pid_in(&pidfile)), "the signer was ended");
    // A signer that answers nonsense and leaves a background child: the child is ended too.
    let child_pid = dir.join("child.pid");
    let signer = format!(
        "sleep 30 & echo $! > '{}'; read -r line; echo not-a-signature; exec sleep 30",
        child_pid.display()
    );
    let vectors = super::workspace_file("vectors/api-sign.json");
    let (output, took) = run_within(
        prime().args(["vectors", "verify"]).arg(&vectors).args([
            "--signer",
            &signer,
            "--signer-timeout",
            "2",
        ]),
        Duration::from_secs(25),
    );
    assert_eq!(output.status.code(), Some(1), "{}", err(&output));
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(gone(pid_in(&child_pid)), "the signer's child was ended");
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Class: processes and files left behind. Real signals, every command that starts something.

#[test]
fn sigint_and_sigterm_end_what_prime_started_and_remove_its_files() {
    let dir = scratch("signals");
    let server = MockServer::start().expect("simulator");
    let vectors = super::workspace_file("vectors/api-sign.json");
    for (signal_name, code) in [("INT", 130), ("TERM", 143)] {
        // A signer, a --secret-cmd: each in its own process group, ended with prime.
        let (user, old) = user_with_key(&server, &dir);
        let signer_pid = dir.join(format!("signer-{signal_name}.pid"));
        let cmd_pid = dir.join(format!("cmd-{signal_name}.pid"));
        let hang = |pidfile: &Path| format!("echo $$ > '{}'; exec sleep 30", pidfile.display());
        let mut signer = prime();
        signer
            .args(["vectors", "verify"])
            .arg(&vectors)
            .args(["--signer", &hang(&signer_pid)]);
        let mut rotate = prime_on(&server);
        rotate
            .current_dir(&dir)
            .args([
                "keys",
                "rotate",
                "--no-check",
                "--user-id",
                &user,
                "--key-id",
                &old,
            ])
            .args(["--secret-cmd", &hang(&cmd_pid)]);
        let mut stderrs = Vec::new();
        for (what, mut command, pidfile) in [
            ("vectors verify --signer", signer, &signer_pid),
            ("keys rotate --secret-cmd", rotate, &cmd_pid),
        ] {
            let started = Instant::now();
            let mut child = command
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("prime");
            let started_pid = pid_in(pidfile);
            signal(child.id(), signal_name);
            let status = loop {
                if let Some(status) = child.try_wait().expect("wait") {
                    break status;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "{what}: still running"
                );
                std::thread::sleep(Duration::from_millis(20));
            };
            let mut stderr = String::new();
            let _ = child
                .stderr
                .take()
                .map(|mut e| e.read_to_string(&mut stderr));
            assert_eq!(
                status.code(),
                Some(code),
                "{what} on SIG{signal_name}: {stderr}"
            );
            assert!(
                stderr.contains(&format!("stopped by SIG{signal_name}")),
                "{stderr}"
            );
            assert!(
                gone(started_pid),
                "{what}: its child was ended on SIG{signal_name}"
            );
            stderrs.push(stderr);
        }
        // The interrupted rotation: nothing deleted, no lock left, and the journal agrees with
        // what was printed: a printed secret's key is kept (`secret_shown`), else the key
        // nobody has is the rerun's to delete (`creating`).
        assert_eq!(server.key_count(&user), 2);
        let journal = dir.join(format!("prime-rotate-{user}-{old}.json"));
        let recorded = std::fs::read_to_string(&journal).expect("journal");
        let printed = stderrs
            .last()
            .is_some_and(|text| text.contains("shown once; store it now"));
        assert_eq!(
            recorded.contains("\"secret_shown\""),
            printed,
            "{recorded} / {stderrs:?}"
        );
        let mut lock = journal.as_os_str().to_owned();
        lock.push(".lock");
        assert!(!PathBuf::from(lock).exists(), "no lock file left");
        let vault = dir.join(format!("vault-{signal_name}"));
        let rerun = run(prime_on(&server)
            .current_dir(&dir)
            .args([
                "keys",
                "rotate",
                "--no-check",
                "--user-id",
                &user,
                "--key-id",
                &old,
            ])
            .args(["--secret-cmd", &format!("cat > '{}'", vault.display())]));
        assert!(rerun.status.success(), "{}", err(&rerun));
        assert_eq!(server.key_count(&user), 1);
        // `prime mock --credentials-out`: the file goes with the simulator.
        let credentials = dir.join(format!("mock-{signal_name}.json"));
        let mut mock = super::spawn_mock_writing(&credentials);
        signal(mock.id(), signal_name);
        let status = mock.wait().expect("wait");
        assert_eq!(status.code(), Some(code));
        assert!(
            !credentials.exists(),
            "the credentials file outlived the simulator"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The simulator recipe of `prime mock --help`, run as a script several times in one folder:
/// each run talks to its own simulator, and no credentials file is left.
#[test]
fn the_simulator_recipe_works_when_repeated_in_one_folder() {
    let dir = scratch("recipe");
    let bin = Path::new(env!("CARGO_BIN_EXE_prime"))
        .parent()
        .expect("bin folder")
        .to_owned();
    let script = r#"set -e
rm -f mock.json; prime mock --credentials-out mock.json > /dev/null & mock=$!
n=0; until [ -e mock.json ]; do n=$((n+1)); [ $n -lt 200 ] || exit 9; sleep 0.1; done
prime --credentials mock.json users create --name "Desk 1" --role Trader > /dev/null
prime --credentials mock.json --json users list
kill $mock; wait $mock || true
"#;
    for round in 0..4 {
        let output = run(Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(&dir)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env_remove("KRAKEN_API_KEY")
            .env_remove("KRAKEN_API_SECRET")
            .stdin(Stdio::null()));
        assert!(output.status.success(), "round {round}: {}", err(&output));
        let users: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(
            users.as_array().map(Vec::len),
            Some(1),
            "round {round}: a fresh simulator each time"
        );
        assert!(!dir.join("mock.json").exists(), "round {round}: file left");
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Class: the exit-code contract. Usage and local-file problems exit 2, before anything is
// created, with advice that can work.

#[test]
fn malformed_endpoint_flags_exit_2_before_anything_is_created() {
    let dir = scratch("usage-flags");
    let server = MockServer::start().expect("simulator");
    let secret = dir.join("issued.secret");
    std::fs::write(&secret, "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf\n").expect("secret");
    let (user, old) = user_with_key(&server, &dir);
    let mut bad: Vec<(&str, Vec<String>)> = Vec::new();
    for url in [
        "not a url",
        "http://127.0.0.1:1/ws/v1",
        "ws://",
        "ws:///path",
        "wss://h:0/x",
        "wss://h:99999/x",
        "127.0.0.1:80",
    ] {
        bad.push(("--ws-url", vec!["--ws-url".into(), url.into()]));
    }
    for addr in [
        "nohost",
        "host:",
        ":443",
        "host:0",
        "host:99999",
        "a b:1",
        "host:port",
    ] {
        bad.push((
            "--fix-addr",
            ["--fix-addr", addr, "--sender", "S", "--target", "T"]
                .map(String::from)
                .to_vec(),
        ));
    }
    for (flag, value) in [
        ("--sender", ""),
        ("--sender", "A B"),
        ("--sender", "X\u{1}Y"),
        ("--target", "é"),
    ] {
        let mut args = vec!["--fix-addr".into(), "127.0.0.1:1".into()];
        args.extend(["--sender", "S", "--target", "T"].map(String::from));
        let at = args.iter().position(|a| a == flag).expect("flag") + 1;
        args[at] = value.to_owned();
        bad.push((flag, args));
    }
    let creations = server.executions("CreatePrimeApiUserKey");
    for (flag, args) in &bad {
        let rotated = dir.join("rotated.secret");
        let commands: Vec<(&str, Vec<String>)> = vec![
            ("keys check", {
                let mut a: Vec<String> = ["keys", "check", "--api-key", "K", "--secret-file"]
                    .map(String::from)
                    .to_vec();
                a.push(secret.display().to_string());
                a
            }),
            (
                "keys create --check",
                ["keys", "create", "--check", "--user-id", &user]
                    .map(String::from)
                    .to_vec(),
            ),
            ("keys rotate", {
                let mut a: Vec<String> = [
                    "keys",
                    "rotate",
                    "--user-id",
                    &user,
                    "--key-id",
                    &old,
                    "--secret-out",
                ]
                .map(String::from)
                .to_vec();
                a.push(rotated.display().to_string());
                a
            }),
        ];
        for (what, base) in commands {
            let output = run(prime_on(&server).current_dir(&dir).args(&base).args(args));
            assert_eq!(
                output.status.code(),
                Some(2),
                "{what} {args:?}: {}",
                err(&output)
            );
            assert!(
                err(&output).contains(flag),
                "{what} {args:?}: {}",
                err(&output)
            );
        }
    }
    assert_eq!(
        server.executions("CreatePrimeApiUserKey"),
        creations,
        "nothing created"
    );
    assert_eq!(server.key_count(&user), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_journal_from_a_newer_version_exits_2_and_changes_nothing() {
    let dir = scratch("newer-journal");
    let server = MockServer::start().expect("simulator");
    let (user, old) = user_with_key(&server, &dir);
    let secret = dir.join("new.secret");
    let journal = dir.join("new.secret.rotation.json");
    for document in [
        serde_json::json!({"version": 2, "user_id": user, "old_key_id": old, "stage": "creating"}),
        serde_json::json!({"version": 7, "user_id": user, "old_key_id": old, "stage": "a_stage_from_the_future", "extra": [1]}),
    ] {
        std::fs::write(&journal, document.to_string()).expect("journal");
        let output = run(prime_on(&server)
            .args([
                "keys",
                "rotate",
                "--user-id",
                &user,
                "--key-id",
                &old,
                "--secret-out",
            ])
            .arg(&secret));
        let stderr = err(&output);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("newer prime"), "{stderr}");
        assert!(!stderr.contains("run the same command again"), "{stderr}");
        assert_eq!(server.key_count(&user), 1, "nothing created");
        let mut lock = journal.as_os_str().to_owned();
        lock.push(".lock");
        assert!(!PathBuf::from(lock).exists(), "no lock file left");
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Class: diagnostics that go silent.

/// A raw HTTP/1.1 request to the simulator's control interface: (status, body).
fn control(server: &MockServer, method: &str, route: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "{method} /__mock/{route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn a_missing_or_wrong_otp_is_diagnosed_by_the_simulator_and_the_cli() {
    let server = MockServer::start().expect("simulator");
    let minted = server
        .mint_account_key(&AccountKeySpec::new(Permission::ALL).otp("s3cond"))
        .expect("2FA key");
    let with_key = || {
        let mut command = prime();
        command
            .env("KRAKEN_API_KEY", &minted.api_key)
            .env("KRAKEN_API_SECRET", minted.api_secret().expose())
            .args(["--base-url", &server.url(), "users", "list"]);
        command
    };
    for (otp, id, hint) in [
        (None, "otp-missing", "pass --otp"),
        (Some("wrong"), "otp-wrong", "--otp code"),
    ] {
        let mut command = with_key();
        if let Some(otp) = otp {
            command.args(["--otp", otp]);
        }
        let output = run(&mut command);
        assert_eq!(output.status.code(), Some(1), "{}", err(&output));
        assert!(
            err(&output).contains("EAPI:Invalid signature"),
            "{}",
            err(&output)
        );
        assert!(err(&output).contains(hint), "{}", err(&output));
        let last = server.last_rejection().expect("a rejection is reported");
        assert_eq!(last["diagnosis"][0]["id"], id, "{last}");
        let (status, body) = control(&server, "GET", "last-rejection", "");
        assert_eq!(status, 200);
        assert!(body.contains(id), "{body}");
    }
    let output = run(with_key().args(["--otp", "s3cond"]));
    assert!(output.status.success(), "{}", err(&output));
    // The multi-call commands give the same hint, naming the call that was refused.
    let dir = scratch("otp");
    let (user, old) = user_with_key(&server, &dir);
    for args in [
        vec!["keys", "create", "--user-id", &user],
        vec![
            "keys",
            "rotate",
            "--no-check",
            "--user-id",
            &user,
            "--key-id",
            &old,
            "--secret-out",
            "new.secret",
        ],
    ] {
        let output = run(prime()
            .current_dir(&dir)
            .env("KRAKEN_API_KEY", &minted.api_key)
            .env("KRAKEN_API_SECRET", minted.api_secret().expose())
            .args(["--base-url", &server.url()])
            .args(&args));
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", err(&output));
        let stderr = err(&output);
        assert!(
            stderr.contains("ListPrimeApiUserKeys"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("--otp"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("nothing was changed") || stderr.contains("no key was created"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(server.key_count(&user), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_simulator_refuses_invalid_allow_list_entries_with_a_clear_400() {
    let server = MockServer::start().expect("simulator");
    for entry in [
        "10.0.0.300",
        "10.0.0.0/33",
        "::1/129",
        "host.example",
        " 10.0.0.1",
        "10.0.0.1/",
        "10.0.0.1/-1",
        "",
    ] {
        let body = serde_json::json!({"whitelisted_ips": ["127.0.0.1", entry]}).to_string();
        let (status, reply) = control(&server, "POST", "account-keys", &body);
        assert_eq!(status, 400, "{entry:?}: {reply}");
        assert!(
            reply.contains("whitelisted_ips: entry 1"),
            "{entry:?}: {reply}"
        );
    }
    let body = serde_json::json!({"whitelisted_ips": ["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"]})
        .to_string();
    let (status, reply) = control(&server, "POST", "account-keys", &body);
    assert_eq!(status, 200, "{reply}");
}

#[test]
fn sign_expect_recognises_every_base64_mix_up_of_prime_ws_and_fix() {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let dir = scratch("expect-b64");
    let secret = dir.join("issued.secret");
    std::fs::write(&secret, "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf\n").expect("secret");
    let mut differing = 0;
    for n in 0..12 {
        for scheme in ["prime-ws", "prime-fix"] {
            let mut base = prime();
            base.args(["sign", "--scheme", scheme, "--secret-file"])
                .arg(&secret);
            match scheme {
                "prime-ws" => base.args([
                    "--timestamp",
                    &format!("2019-02-13T05:17:{n:02}.000000Z"),
                    "--host",
                    "wss.prime.kraken.com",
                    "--path",
                    "/ws/v1",
                ]),
                _ => base.args([
                    "--sending-time",
                    &format!("20220915-18:29:{n:02}.756"),
                    "--seq-num",
                    "1",
                    "--sender",
                    "S",
                    "--target",
                    "T",
                ]),
            };
            let right = out(&run(&mut base)).trim().to_owned();
            let mac = URL_SAFE.decode(&right).expect("URL-safe base64");
            let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
            for (given, id) in [
                (STANDARD.encode(&mac), "standard-base64"),
                (URL_SAFE_NO_PAD.encode(&mac), "unpadded-base64"),
                (STANDARD_NO_PAD.encode(&mac), "standard-base64-unpadded"),
                (hex, "hex-digest"),
            ] {
                if given == right {
                    continue;
                }
                differing += 1;
                let output = run(base.args(["--expect", &given]));
                assert_eq!(output.status.code(), Some(1), "{scheme} {id}");
                assert!(
                    out(&output).contains(&format!("diagnosis: {id}:")),
                    "{scheme} {id}: {}",
                    out(&output)
                );
                // `args` accumulates: start the next variant from a fresh command.
                base = prime();
                base.args(["sign", "--scheme", scheme, "--secret-file"])
                    .arg(&secret);
                match scheme {
                    "prime-ws" => base.args([
                        "--timestamp",
                        &format!("2019-02-13T05:17:{n:02}.000000Z"),
                        "--host",
                        "wss.prime.kraken.com",
                        "--path",
                        "/ws/v1",
                    ]),
                    _ => base.args([
                        "--sending-time",
                        &format!("20220915-18:29:{n:02}.756"),
                        "--seq-num",
                        "1",
                        "--sender",
                        "S",
                        "--target",
                        "T",
                    ]),
                };
            }
        }
    }
    assert!(
        differing > 40,
        "enough variants differ from the right encoding: {differing}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_fix_vector_whose_seq_num_is_a_string_is_refused() {
    let dir = scratch("seq-num");
    for seq_num in [
        serde_json::json!("7"),
        serde_json::json!("007"),
        serde_json::json!(""),
        serde_json::json!("x"),
        serde_json::json!(" 7"),
    ] {
        let file = dir.join("fix.json");
        let vector = serde_json::json!([{
            "scheme": "prime-fix", "name": "string-seq", "secret": "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf",
            "sending_time": "20220915-18:29:58.756", "seq_num": seq_num, "sender": "S", "target": "T",
            "signature": "AAAA",
        }]);
        std::fs::write(&file, vector.to_string()).expect("file");
        let output = run(prime().args(["vectors", "verify"]).arg(&file));
        assert_eq!(output.status.code(), Some(2), "{seq_num}: {}", err(&output));
        assert!(
            err(&output).contains("it is the string"),
            "{seq_num}: {}",
            err(&output)
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// With `--secret-out`, the message after a failed delivery says to write the printed secret
/// to the file; the rerun continues only once the file holds it (exit 2 before that, nothing
/// changed), then finishes with that key, checked with that secret.
#[test]
fn a_shown_secret_is_continued_with_only_once_it_is_in_the_secret_file() {
    let dir = scratch("shown-file");
    let server = MockServer::start().expect("simulator");
    let (user, old) = user_with_key(&server, &dir);
    // The key an earlier run created and whose secret it printed.
    let shown = client(&server).create_api_user_key(&user).expect("key");
    let file = dir.join("new.secret");
    let journal = dir.join("new.secret.rotation.json");
    let keys_before: Vec<String> = vec![old.clone()];
    std::fs::write(
        &journal,
        serde_json::json!({
            "version": 1, "user_id": user, "old_key_id": old, "stage": "secret_shown",
            "old_whitelisted_ips": [], "keys_before": keys_before, "deleted_orphans": [],
            "new_key": {"id": shown.id, "api_key": shown.api_key},
            "checked": false, "old_deleted": false, "secret_shown": true,
        })
        .to_string(),
    )
    .expect("journal");
    let rotate = || {
        let mut command = prime_on(&server);
        command
            .args(["keys", "rotate", "--user-id", &user, "--key-id", &old])
            .args(["--ws-url", &server.ws_url(), "--secret-out"])
            .arg(&file);
        command
    };
    let refused = run(&mut rotate());
    assert_eq!(refused.status.code(), Some(2), "{}", err(&refused));
    assert!(
        err(&refused).contains("does not hold it"),
        "{}",
        err(&refused)
    );
    assert_eq!(server.key_count(&user), 2, "nothing changed");
    std::fs::write(&file, format!("{}\n", shown.api_secret().expose())).expect("store");
    let finished = run(&mut rotate());
    assert!(finished.status.success(), "{}", err(&finished));
    let keys = client(&server).list_api_user_keys(&user).expect("list");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].id, shown.id, "finished with the shown key");
    let _ = std::fs::remove_dir_all(dir);
}
