//! The built `prime` binary against the simulator: every command, the secret-out rules, the
//! vector tools and the error exits.

// One binary: issued keys (`sign --scheme`, `keys check`), the reliability classes (the
// one-time secret; held secrets, bounded waits, ended processes and truthful messages), key
// rotation, and the vector kit each live in a module of their own.
mod held_and_bounded;
mod issued_keys;
mod nonces;
mod reliability;
mod rotate;
mod vectors_kit;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use prime_core::endpoints::Role;
use prime_mock::MockServer;

const OFFICIAL_SECRET: &str = prime_core::example::SECRET;

/// `prime` with nothing from the test's own environment that would change what it does:
/// credentials, logging, colour, the rotation test hook, the nonce settings. Shared by every
/// test module. The host send order lives in a folder of this test run, not the user's.
fn prime() -> Command {
    static SEND_ORDER_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let send_order_dir = SEND_ORDER_DIR.get_or_init(|| scratch("send-order"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_prime"));
    command
        .env("PRIME_SEND_ORDER_DIR", send_order_dir)
        .env_remove("PRIME_NONCE_UNIT")
        .env_remove("PRIME_NONCE_ORDER")
        .env_remove("KRAKEN_API_KEY")
        .env_remove("KRAKEN_API_SECRET")
        .env_remove("KRAKEN_API_OTP")
        .env_remove("PRIME_LOG")
        .env_remove("NO_COLOR")
        .env_remove("PRIME_TEST_ABORT_AFTER")
        .stdin(Stdio::null());
    command
}

/// `prime --base-url URL` signed with the simulator's account key.
fn prime_on(server: &MockServer) -> Command {
    let mut command = prime();
    command
        .env("KRAKEN_API_KEY", server.account_api_key())
        .env("KRAKEN_API_SECRET", server.account_secret().expose())
        .args(["--base-url", &server.url()]);
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the prime binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs and requires success, returning stdout.
fn ok(command: &mut Command) -> String {
    let output = run(command);
    assert!(
        output.status.success(),
        "prime failed ({:?}):\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

fn json(command: &mut Command) -> serde_json::Value {
    let text = ok(command.arg("--json"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn scratch(name: &str) -> PathBuf {
    // One test binary, one process id: a counter keeps every module's folders apart.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("prime-cli-test-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `prime mock --credentials-out FILE` as its own process, returned once the file exists (the
/// recipe of `docs/simulator.md`). Shared by every test module.
fn spawn_mock_writing(credentials: &Path) -> std::process::Child {
    let child = prime()
        .args(["mock", "--credentials-out"])
        .arg(credentials)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prime mock starts");
    let started = std::time::Instant::now();
    while !credentials.exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no credentials file"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child
}

fn workspace_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

#[test]
fn users_commands_cover_every_user_endpoint() {
    let server = MockServer::start().expect("simulator");
    let created =
        json(prime_on(&server).args(["users", "create", "--name", "Ada", "--role", "Viewer"]));
    let id = created["id"].as_str().expect("user id").to_owned();
    assert_eq!(created["roles"], serde_json::json!(["Viewer"]));

    let text = ok(prime_on(&server).args(["users", "get", "--user-id", &id]));
    assert!(text.contains(&id) && text.contains("Ada"), "{text}");

    let listed = json(prime_on(&server).args(["users", "list"]));
    assert_eq!(listed.as_array().map(Vec::len), Some(1));

    let updated = json(prime_on(&server).args([
        "users",
        "update",
        "--user-id",
        &id,
        "--name",
        "Ada L.",
        "--status",
        "Disabled",
    ]));
    assert_eq!(updated["name"], "Ada L.");
    assert_eq!(updated["status"], "Disabled");

    let promoted =
        json(prime_on(&server).args(["users", "set-role", "--user-id", &id, "--role", "Trader"]));
    assert_eq!(promoted["roles"], serde_json::json!(["Trader"]));
}

#[test]
fn global_options_may_come_before_the_subcommand() {
    let server = MockServer::start().expect("simulator");
    let mut command = prime();
    command
        .env("KRAKEN_API_KEY", server.account_api_key())
        .env("KRAKEN_API_SECRET", server.account_secret().expose())
        .args([
            "--base-url",
            &server.url(),
            "--json",
            "--timeout",
            "5",
            "users",
            "list",
        ]);
    let listed: serde_json::Value = serde_json::from_str(&ok(&mut command)).expect("JSON");
    assert!(listed.is_array());
}

fn new_user(server: &MockServer, role: Role) -> String {
    let client = prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .build()
        .expect("client");
    client.create_api_user("cli test", role).expect("user").id
}

#[test]
fn keys_create_prints_the_secret_once_with_a_warning() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    let output = run(prime_on(&server).args(["--json", "keys", "create", "--user-id", &user]));
    assert!(output.status.success(), "{}", stderr(&output));
    let key: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let secret = key["api_secret"].as_str().expect("secret printed");
    assert!(
        stderr(&output).contains("shown once"),
        "{}",
        stderr(&output)
    );
    assert_eq!(stdout(&output).matches(secret).count(), 1);
    // The printed secret is the issued one: opaque WebSocket/FIX text, never base64.
    assert!(is_issued_secret(secret), "{secret}");
    assert!(prime_core::Credentials::new(key["api_key"].as_str().expect("key"), secret).is_err());
}

/// Whether `text` looks like a secret CreatePrimeApiUserKey issues (the documented example
/// is `6xq8p1mvk9r3n7swt2l5cj4eaydhzbf`).
fn is_issued_secret(text: &str) -> bool {
    text.len() == 31
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[cfg(unix)]
#[test]
fn keys_create_with_secret_out_writes_a_0600_file_and_prints_no_secret() {
    use std::os::unix::fs::PermissionsExt;

    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    let dir = scratch("secret-out");
    let file = dir.join("secret");
    let output = run(prime_on(&server)
        .args(["keys", "create", "--user-id", &user, "--secret-out"])
        .arg(&file));
    assert!(output.status.success(), "{}", stderr(&output));
    let secret = std::fs::read_to_string(&file).expect("secret file");
    let secret = secret.trim_end();
    assert_eq!(
        std::fs::metadata(&file)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert!(!stdout(&output).contains(secret) && !stderr(&output).contains(secret));
    assert!(stdout(&output).contains(file.to_str().expect("utf-8 path")));
    assert_eq!(server.key_count(&user), 1);

    // An existing file is never overwritten, and no key is created for nothing.
    let again = run(prime_on(&server)
        .args(["keys", "create", "--user-id", &user, "--secret-out"])
        .arg(&file));
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("refusing to overwrite"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("file").trim_end(),
        secret
    );
    assert_eq!(
        server.key_count(&user),
        1,
        "no key may be created when the file is refused"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn keys_create_refuses_a_secret_out_in_a_missing_folder_before_creating_a_key() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Viewer);
    let dir = scratch("unwritable");
    // A path inside a directory that does not exist: the file is opened before the request,
    // so this is refused before a key exists (the write-failure fallback to stderr is tested
    // in tests/reliability/mod.rs).
    let file = dir.join("missing-dir").join("secret");
    let output = run(prime_on(&server)
        .args(["keys", "create", "--user-id", &user, "--secret-out"])
        .arg(&file));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("no key was created"), "{err}");
    assert_eq!(server.key_count(&user), 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn keys_list_update_and_delete() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    let created = json(prime_on(&server).args(["keys", "create", "--user-id", &user]));
    let key_id = created["id"].as_str().expect("key id").to_owned();

    let listed = json(prime_on(&server).args(["keys", "list", "--user-id", &user]));
    assert_eq!(listed[0]["id"], key_id.as_str());
    assert!(
        !listed
            .to_string()
            .contains(created["api_secret"].as_str().expect("secret"))
    );

    let updated = json(prime_on(&server).args([
        "keys",
        "update",
        "--user-id",
        &user,
        "--key-id",
        &key_id,
        "--whitelisted-ips",
        "127.0.0.1,10.0.0.0/8",
    ]));
    assert_eq!(
        updated["whitelisted_ips"],
        serde_json::json!(["127.0.0.1", "10.0.0.0/8"])
    );

    let deleted =
        json(prime_on(&server).args(["keys", "delete", "--user-id", &user, "--key-id", &key_id]));
    assert_eq!(deleted["deleted"], true);
    assert_eq!(server.key_count(&user), 0);
}

#[test]
fn settlement_commands_create_get_list_and_settle() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Trader);
    json(prime_on(&server).args(["keys", "create", "--user-id", &user]));
    // Settlement runs on the account key, like everything on REST.
    let mut trader = prime();
    let trader_env = |command: &mut Command| {
        command
            .env("KRAKEN_API_KEY", server.account_api_key())
            .env("KRAKEN_API_SECRET", server.account_secret().expose())
            .args(["--base-url", &server.url()]);
    };
    trader_env(&mut trader);
    let batch = json(trader.args(["settlement", "create", "--asset-kind", "currency"]));
    let batch_id = batch["id"].as_str().expect("batch id").to_owned();
    assert!(server.confirm_batch(&batch_id));

    let mut get = prime();
    trader_env(&mut get);
    let fetched = json(get.args(["settlement", "get", "--batch-id", &batch_id]));
    assert_eq!(fetched["attributes"]["confirmed"], true);
    let asset = fetched["legs"][0]["asset"]
        .as_str()
        .expect("a leg")
        .to_owned();

    let mut list = prime();
    trader_env(&mut list);
    let listed = json(list.args([
        "settlement",
        "list",
        "--statuses",
        "unsettled,partially_settled",
        "--limit",
        "10",
    ]));
    assert_eq!(listed["data"][0]["id"], batch_id.as_str());

    let mut settle = prime();
    trader_env(&mut settle);
    let transfer = json(settle.args([
        "settlement",
        "settle",
        "--batch-id",
        &batch_id,
        "--asset",
        &asset,
    ]));
    assert_eq!(transfer["attributes"]["transfer_asset"], asset.as_str());
    assert_eq!(server.executions("SettlePrimeSettlementBatchAsset"), 1);
}

#[test]
fn sign_reproduces_krakens_official_vector() {
    let text = ok(prime().env("KRAKEN_API_SECRET", OFFICIAL_SECRET).args([
        "sign",
        "--path",
        "/0/private/AddOrder",
        "--nonce",
        "1616492376594",
        "--body",
        "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
    ]));
    assert_eq!(
        text,
        "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==\n"
    );
}

#[test]
fn secrets_of_any_length_sign_with_one_warning() {
    // Expected values from Python, independently of this project:
    // python3 -c "import hmac,hashlib,base64; k=bytes(range(N)); print(base64.b64encode(hmac.new(k, b'/0/private/X'+hashlib.sha256(b'1'+b'{\"nonce\":1}').digest(), hashlib.sha512).digest()).decode())"
    let cases = [
        (
            32,
            "mcM4LQxTo9kHpp6tmoo20FCteAEtTflCiWOz2h768SqIRbKtoEWmN73TUb5DuStdbEhFymVyPhuitkd+l5pJDw==",
        ),
        (
            128,
            "Y//bg76XW0VP6XCT6mxV8SLDlrHRsFoRsueXCX08b30vpuL6I+GN6bmH6wUHPjlF6jX3dDdJntCABG9/bdRJfg==",
        ),
    ];
    for (len, expected) in cases {
        let bytes: Vec<u8> = (0..len)
            .map(|b: u32| u8::try_from(b).expect("a byte"))
            .collect();
        let secret = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes);
        // A secret read from a file keeps its newline: trimmed, not refused.
        let output = run(prime()
            .env("KRAKEN_API_SECRET", format!("{secret}\n"))
            .args([
                "sign",
                "--path",
                "/0/private/X",
                "--nonce",
                "1",
                "--body",
                r#"{"nonce":1}"#,
            ]));
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(stdout(&output), format!("{expected}\n"));
        let warning = stderr(&output);
        assert_eq!(warning.lines().count(), 1, "{warning}");
        assert!(
            warning.contains(&format!("decodes to {len} bytes, not the 64")),
            "{warning}"
        );
        assert!(!warning.contains(&secret[..8]), "{warning}");
    }
    // Kraken's own 64-byte secret signs without a warning.
    let output = run(prime().env("KRAKEN_API_SECRET", OFFICIAL_SECRET).args([
        "sign",
        "--path",
        "/0/private/X",
        "--nonce",
        "1",
        "--body",
        "{}",
    ]));
    assert!(output.status.success());
    assert_eq!(stderr(&output), "");
}

#[test]
fn the_otp_comes_from_the_flag_or_the_environment_and_is_signed() {
    let server = MockServer::start().expect("simulator");
    let minted = server
        .mint_account_key(
            &prime_mock::AccountKeySpec::new(prime_mock::Permission::ALL).otp("zq7 2fa pass"),
        )
        .expect("a key with 2FA");
    let with_2fa = || {
        let mut command = prime();
        command
            .env("KRAKEN_API_KEY", &minted.api_key)
            .env("KRAKEN_API_SECRET", minted.api_secret().expose())
            .args(["--base-url", &server.url()]);
        command
    };
    ok(with_2fa().args(["--otp", "zq7 2fa pass", "users", "list"]));
    ok(with_2fa()
        .env("KRAKEN_API_OTP", "zq7 2fa pass")
        .args(["settlement", "list"]));
    // The flag wins over the environment.
    ok(with_2fa()
        .env("KRAKEN_API_OTP", "wrong")
        .args(["users", "list", "--otp", "zq7 2fa pass"]));
    for refused in [
        with_2fa().args(["users", "list"]),
        with_2fa().args(["--otp", "zq7 2fa wrong", "users", "list"]),
    ] {
        let output = run(refused);
        assert_eq!(output.status.code(), Some(1));
        assert!(
            stderr(&output).contains("EAPI:Invalid signature"),
            "{}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("zq7"));
    }
    let output = run(with_2fa().args(["--otp", "", "users", "list"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(server.executions("ListPrimeApiUsers"), 2);
    // A credentials file may carry the password too.
    let dir = scratch("otp-file");
    let file = dir.join("credentials.json");
    let contents = serde_json::json!({
        "url": server.url(),
        "api_key": minted.api_key,
        "api_secret": minted.api_secret().expose(),
        "otp": "zq7 2fa pass",
    });
    std::fs::write(&file, contents.to_string()).expect("write");
    ok(prime()
        .arg("--credentials")
        .arg(&file)
        .args(["users", "list"]));
    assert_eq!(server.executions("ListPrimeApiUsers"), 3);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unusual_secret_length_warns_once_and_still_signs_a_call() {
    let server = MockServer::start().expect("simulator");
    let short = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [9u8; 32]);
    let output = run(prime()
        .env("KRAKEN_API_KEY", server.account_api_key())
        .env("KRAKEN_API_SECRET", &short)
        .args(["--base-url", &server.url(), "users", "list"]));
    // Signed, sent and refused by the server: the length alone stops nothing.
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(
        err.matches("warning: the API secret decodes to 32 bytes")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("EAPI:Invalid signature"), "{err}");
    assert!(!err.contains(&short), "{err}");
}

#[test]
fn vectors_verify_passes_the_shipped_file() {
    let text = ok(prime()
        .args(["vectors", "verify"])
        .arg(workspace_file("vectors/api-sign.json")));
    assert_eq!(text.lines().last(), Some("13 passed, 0 failed"));
}

#[test]
fn vectors_verify_names_each_failing_vector_and_fails() {
    let dir = scratch("vectors");
    let shipped =
        std::fs::read_to_string(workspace_file("vectors/api-sign.json")).expect("vectors");
    let mut vectors: serde_json::Value = serde_json::from_str(&shipped).expect("JSON");
    vectors[1]["body"] = serde_json::json!("{\"nonce\":1616492376594,\"user_id\":\"tampered\"}");
    vectors[3]["secret"] = serde_json::json!("not base64!");
    let file = dir.join("tampered.json");
    std::fs::write(&file, vectors.to_string()).expect("write");
    let output = run(prime().args(["vectors", "verify"]).arg(&file));
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains(vectors[1]["name"].as_str().expect("name")),
        "{text}"
    );
    assert!(
        text.contains(vectors[3]["name"].as_str().expect("name")),
        "{text}"
    );
    assert_eq!(text.lines().last(), Some("11 passed, 2 failed"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn vectors_generate_is_seeded_and_verifies() {
    let dir = scratch("generate");
    let first = ok(prime().args(["vectors", "generate", "--count", "5", "--seed", "9"]));
    let second = ok(prime().args(["vectors", "generate", "--count", "5", "--seed", "9"]));
    let other = ok(prime().args(["vectors", "generate", "--count", "5", "--seed", "10"]));
    assert_eq!(first, second);
    assert_ne!(first, other);
    let generated: serde_json::Value = serde_json::from_str(&first).expect("JSON");
    assert_eq!(generated.as_array().map(Vec::len), Some(5));
    let file = dir.join("generated.json");
    std::fs::write(&file, &first).expect("write");
    let text = ok(prime().args(["vectors", "verify"]).arg(&file));
    assert_eq!(text.lines().last(), Some("5 passed, 0 failed"));
    let _ = std::fs::remove_dir_all(dir);
}

/// Kills the child on drop so a failing test never leaves a server running.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `prime mock --seed SEED` and returns it with the JSON object of its first line.
fn start_mock(seed: &str) -> (Child, serde_json::Value) {
    start_mock_with(&["--seed", seed])
}

/// Starts `prime mock ARGS…` and returns it with the JSON object of its first line.
fn start_mock_with(args: &[&str]) -> (Child, serde_json::Value) {
    let mut child = Child(
        prime()
            .arg("mock")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("prime mock starts"),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let first = serde_json::from_str(&line).expect("one JSON object");
    (child, first)
}

#[test]
fn mock_prints_credentials_then_serves_them() {
    let (_child, first) = start_mock("7");
    let url = first["url"].as_str().expect("url");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    // The first line is a credentials file.
    let dir = scratch("mock");
    let file = dir.join("credentials.json");
    std::fs::write(&file, first.to_string()).expect("write");
    let created = json(
        prime()
            .arg("--credentials")
            .arg(&file)
            .args(["users", "create", "--name", "Via mock", "--role", "Viewer"]),
    );
    assert_eq!(created["name"], "Via mock");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_rate_limit_or_lockout_ends_the_command_with_how_long_to_wait() {
    let server = MockServer::start().expect("the simulator starts");
    for (fault, wait) in [
        (prime_mock::FaultKind::rate_limited(), "wait 45 s"),
        (
            prime_mock::FaultKind::KrakenError("EAuth:Rate limit exceeded".to_owned()),
            "wait 45 s",
        ),
        (
            prime_mock::FaultKind::KrakenError("EGeneral:Temporary lockout".to_owned()),
            "wait 15 min",
        ),
    ] {
        server.push_fault(prime_mock::Fault::new(fault).times(5));
        let output = run(prime_on(&server).args(["users", "list"]));
        assert_eq!(output.status.code(), Some(1));
        let message = stderr(&output);
        assert!(message.contains(wait), "{message}");
        assert_eq!(message.lines().count(), 1, "{message}");
        // Not called again: the rest of the queued fault is still there.
        assert_eq!(server.pending_faults().len(), 1, "{message}");
        server.clear_faults();
    }
}

#[test]
fn mock_with_rate_limits_refuses_the_21st_call_and_prime_says_how_long_to_wait() {
    let (_child, first) =
        start_mock_with(&["--seed", "7", "--rate-limits", "--unknown-fields", "ignore"]);
    let dir = scratch("mock-limits");
    let file = dir.join("credentials.json");
    std::fs::write(&file, first.to_string()).expect("write");
    let mut refused = None;
    // The default counter holds 20 calls.
    for call in 0..25 {
        let output = run(prime()
            .arg("--credentials")
            .arg(&file)
            .args(["users", "list"]));
        if !output.status.success() {
            refused = Some((call, stderr(&output)));
            break;
        }
    }
    let (call, message) = refused.expect("refused within 25 calls");
    assert_eq!(call, 20, "{message}");
    assert!(message.contains("EAPI:Rate limit exceeded"), "{message}");
    assert!(message.contains("wait 45 s"), "{message}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn demo_walks_the_workflow_without_printing_secrets() {
    let output = run(prime().args(["demo", "--seed", "3"]));
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(
        text.contains("[11/11]") && text.contains("demo complete"),
        "{text}"
    );
    assert!(text.contains("EAPI:Invalid key"), "{text}");
    // Without -v nothing is logged: stderr stays empty.
    assert_eq!(
        stderr(&output),
        "",
        "the default log level must keep stderr quiet"
    );
    // The same seed gives the simulator the same account secret: it must appear nowhere.
    let server = MockServer::builder().seed(3).start().expect("simulator");
    let account_secret = server.account_secret().expose();
    assert!(!text.contains(account_secret) && !stderr(&output).contains(account_secret));
}

#[test]
fn missing_credentials_exit_2_with_one_line_naming_the_fix() {
    let output = run(prime().args(["users", "list"]));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("KRAKEN_API_KEY"), "{err}");
}

#[test]
fn malformed_secrets_exit_2_without_echoing_them() {
    for secret in [
        "c2VjcmV0 c2VjcmV0",
        "not-base64-at-all!!",
        "c2hvcnQ",
        "",
        " \n",
    ] {
        let output = run(prime()
            .env("KRAKEN_API_KEY", "KEY")
            .env("KRAKEN_API_SECRET", secret)
            .args(["--base-url", "http://127.0.0.1:9", "users", "list"]));
        assert_eq!(output.status.code(), Some(2), "secret {secret:?}");
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("KRAKEN_API_SECRET"), "{err}");
        if !secret.is_empty() {
            assert!(!err.contains(secret), "{err}");
        }
    }
}

#[test]
fn invalid_arguments_exit_2_before_anything_is_sent() {
    let server = MockServer::start().expect("simulator");
    for args in [
        &["settlement", "list", "--limit", "500"][..],
        &["users", "get", "--user-id", ""],
        &[
            "keys",
            "update",
            "--user-id",
            "U",
            "--key-id",
            "K",
            "--whitelisted-ips",
            "not-an-ip",
        ],
        &["users", "list", "--timeout", "0"],
    ] {
        let output = run(prime_on(&server).args(args));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).starts_with("prime: "),
            "{}",
            stderr(&output)
        );
    }
    // A clap usage error is exit 2 too.
    assert_eq!(
        run(prime().args(["users", "frobnicate"])).status.code(),
        Some(2)
    );
}

#[test]
fn kraken_errors_exit_1_with_the_error_string() {
    let server = MockServer::start().expect("simulator");
    let output = run(prime_on(&server).args(["users", "get", "--user-id", "NOSUCHUSER"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("EGeneral:Invalid arguments"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn verbose_logging_never_includes_the_wire_dump() {
    let output = run(prime().args(["-vv", "demo", "--seed", "5"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("TRACE"), "-vv logs at TRACE: {err}");
    assert!(
        !err.lines()
            .any(|l| l.contains("TRACE") && l.contains("ureq_proto")),
        "ureq_proto's TRACE wire dump must be dropped"
    );
}
