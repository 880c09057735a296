//! `prime sign --scheme prime-ws|prime-fix` against an independent implementation (the `hmac`
//! and `sha2` crates used directly) on random inputs, and `prime keys check` / `keys create
//! --check` against the simulator's WebSocket and FIX checks.

use super::{new_user, prime, prime_on, run, scratch};
use std::path::PathBuf;
use std::process::Output;

use prime_core::endpoints::Role;
use prime_core::example::ISSUED_SECRET;
use prime_mock::MockServer;
use proptest::prelude::*;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// HMAC-SHA256 keyed with the secret's text bytes, URL-safe base64 with padding.
fn reference(secret: &str, message: &str) -> String {
    prime_test_support::reference::issued_signature(secret, message.as_bytes())
}

/// `prime sign` with the secret in the environment; its stdout, which must be one line.
fn sign(secret: &str, args: &[String]) -> String {
    let output = run(prime()
        .env("KRAKEN_API_SECRET", secret)
        .arg("sign")
        .args(args));
    assert!(
        output.status.success(),
        "{args:?}: {}",
        text(&output.stderr)
    );
    let stdout = text(&output.stdout);
    // (A short random secret can occur in a base64 signature by chance.)
    if secret.len() >= 12 {
        assert!(!stdout.contains(secret), "the secret is never printed");
    }
    stdout.strip_suffix('\n').expect("one line").to_owned()
}

#[test]
fn sign_prime_ws_of_krakens_example_string() {
    // python3 -c "import hmac,hashlib,base64;print(base64.urlsafe_b64encode(hmac.new(b'6xq8p1mvk9r3n7swt2l5cj4eaydhzbf',b'GET\n2019-02-13T05:17:32.000000Z\nwss.sandbox.prime.kraken.com\n/ws/v1',hashlib.sha256).digest()).decode())"
    let args = [
        "--scheme=prime-ws",
        "--timestamp=2019-02-13T05:17:32.000000Z",
        "--host=wss.sandbox.prime.kraken.com",
        "--path=/ws/v1",
    ]
    .map(String::from);
    assert_eq!(
        sign(ISSUED_SECRET, &args),
        "9dyoiBOs3lhpUVXfrcnDiJP8kcZu4F2US5U7RcgyoaM="
    );
    // The same from a file; its final line break is not part of the secret.
    let dir = scratch("sign-file");
    let file = dir.join("secret");
    std::fs::write(&file, format!("{ISSUED_SECRET}\n")).unwrap();
    let output = run(prime()
        .arg("sign")
        .args(&args)
        .arg("--secret-file")
        .arg(&file));
    assert_eq!(
        text(&output.stdout),
        "9dyoiBOs3lhpUVXfrcnDiJP8kcZu4F2US5U7RcgyoaM=\n",
        "{}",
        text(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sign_prime_fix_of_a_pinned_logon() {
    // python3 -c "import hmac,hashlib,base64;print(base64.urlsafe_b64encode(hmac.new(b'6xq8p1mvk9r3n7swt2l5cj4eaydhzbf',b'20220915-18:29:58.756\x011\x01CUSTOMER\x01KRAKEN',hashlib.sha256).digest()).decode())"
    let args = [
        "--scheme=prime-fix",
        "--sending-time=20220915-18:29:58.756",
        "--seq-num=1",
        "--sender=CUSTOMER",
        "--target=KRAKEN",
    ]
    .map(String::from);
    assert_eq!(
        sign(ISSUED_SECRET, &args),
        "H_AfO7_mhTvdvUnGG-OUZo4jhMVKJYGw12hT1LXz2As="
    );
}

#[test]
fn sign_with_json_names_the_field() {
    let secret = ISSUED_SECRET;
    let fix = run(prime().env("KRAKEN_API_SECRET", secret).args([
        "--json",
        "sign",
        "--scheme=prime-fix",
        "--sending-time=20220915-18:29:58.756",
        "--seq-num=1",
        "--sender=CUSTOMER",
        "--target=KRAKEN",
    ]));
    let document: serde_json::Value = serde_json::from_slice(&fix.stdout).expect("JSON");
    assert_eq!(
        document,
        serde_json::json!({ "raw_data": "H_AfO7_mhTvdvUnGG-OUZo4jhMVKJYGw12hT1LXz2As=" })
    );
    let ws = run(prime().env("KRAKEN_API_SECRET", secret).args([
        "--json",
        "sign",
        "--scheme=prime-ws",
        "--timestamp=2019-02-13T05:17:32.000000Z",
        "--host=wss.sandbox.prime.kraken.com",
        "--path=/ws/v1",
    ]));
    let document: serde_json::Value = serde_json::from_slice(&ws.stdout).expect("JSON");
    assert_eq!(
        document,
        serde_json::json!({ "api_sign": "9dyoiBOs3lhpUVXfrcnDiJP8kcZu4F2US5U7RcgyoaM=" })
    );
}

#[test]
fn sign_refuses_missing_foreign_and_malformed_inputs_with_exit_2() {
    let secret = ISSUED_SECRET;
    let cases: &[(&[&str], &str)] = &[
        (
            &["--scheme=prime-ws", "--host=h", "--path=/ws/v1"],
            "needs --timestamp",
        ),
        (
            &[
                "--scheme=prime-ws",
                "--timestamp=2019-02-13T05:17:32Z",
                "--host=h",
                "--path=/",
            ],
            "--timestamp",
        ),
        (
            &[
                "--scheme=prime-ws",
                "--timestamp=2019-02-13T05:17:32.000000Z",
                "--host=h",
                "--path=ws",
            ],
            "--path",
        ),
        (
            &[
                "--scheme=prime-ws",
                "--timestamp=2019-02-13T05:17:32.000000Z",
                "--host=h",
                "--path=/",
                "--nonce=1",
            ],
            "--nonce does not apply to --scheme prime-ws",
        ),
        (
            &[
                "--scheme=prime-fix",
                "--sending-time=20220915-18:29:58.756",
                "--seq-num=1",
                "--sender=S",
            ],
            "needs --target",
        ),
        (
            &[
                "--scheme=prime-fix",
                "--sending-time=2022-09-15",
                "--seq-num=1",
                "--sender=S",
                "--target=T",
            ],
            "--sending-time",
        ),
        (
            &[
                "--scheme=prime-fix",
                "--sending-time=20220915-18:29:58.756",
                "--seq-num=0",
                "--sender=S",
                "--target=T",
            ],
            "--seq-num",
        ),
        (
            &["--path=/0/private/X", "--nonce=1", "--body={}", "--host=h"],
            "--host does not apply",
        ),
        (&["--path=/0/private/X", "--body={}"], "needs --nonce"),
    ];
    for (args, expected) in cases {
        let output = run(prime()
            .env("KRAKEN_API_SECRET", secret)
            .arg("sign")
            .args(*args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains(secret));
        assert!(output.stdout.is_empty());
    }
    // A secret with inner whitespace is refused, not trimmed; its text is never echoed.
    let output = run(prime().env("KRAKEN_API_SECRET", "abc def-secret").args([
        "sign",
        "--scheme=prime-ws",
        "--timestamp=2019-02-13T05:17:32.000000Z",
        "--host=h",
        "--path=/",
    ]));
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("whitespace at byte 3"));
    assert!(!text(&output.stderr).contains("def-secret"));
}

fn secret_text() -> impl Strategy<Value = String> {
    // Opaque text like the documented example, and beyond: any visible ASCII, any length.
    "[!-~]{1,80}"
}

fn api_timestamp() -> impl Strategy<Value = String> {
    (
        1970u32..=9999,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        0u32..1_000_000,
    )
        .prop_map(|(y, mo, d, h, mi, s, us)| {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z")
        })
}

fn sending_time() -> impl Strategy<Value = String> {
    (
        1970u32..=9999,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        0u32..1_000,
    )
        .prop_map(|(y, mo, d, h, mi, s, ms)| {
            format!("{y:04}{mo:02}{d:02}-{h:02}:{mi:02}:{s:02}.{ms:03}")
        })
}

proptest! {
    // Each case starts the binary; 32 cases per scheme keep this under a few seconds.
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn sign_prime_ws_equals_an_independent_implementation(
        secret in secret_text(),
        timestamp in api_timestamp(),
        host in "[a-z0-9.-]{1,40}(:[0-9]{1,5})?",
        path in "/[!-~]{0,40}",
    ) {
        let signature = sign(&secret, &[
            "--scheme=prime-ws".to_owned(),
            format!("--timestamp={timestamp}"),
            format!("--host={host}"),
            format!("--path={path}"),
        ]);
        let expected = reference(&secret, &format!("GET\n{timestamp}\n{host}\n{path}"));
        prop_assert_eq!(signature, expected);
    }

    #[test]
    fn sign_prime_fix_equals_an_independent_implementation(
        secret in secret_text(),
        sending_time in sending_time(),
        seq in 1u64..=u64::MAX,
        sender in "[!-~]{1,20}",
        target in "[!-~]{1,20}",
    ) {
        let signature = sign(&secret, &[
            "--scheme=prime-fix".to_owned(),
            format!("--sending-time={sending_time}"),
            format!("--seq-num={seq}"),
            format!("--sender={sender}"),
            format!("--target={target}"),
        ]);
        let expected = reference(&secret, &format!("{sending_time}\x01{seq}\x01{sender}\x01{target}"));
        prop_assert_eq!(signature, expected);
    }
}

// --- keys check against the simulator ---

/// Creates a key with `keys create --secret-out`; returns (key id, api key, secret file).
fn create_key(server: &MockServer, user: &str, dir: &std::path::Path) -> (String, String, PathBuf) {
    let file = dir.join(format!("secret-{}", rand_suffix()));
    let output = run(prime_on(server)
        .args([
            "--json",
            "keys",
            "create",
            "--user-id",
            user,
            "--secret-out",
        ])
        .arg(&file));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    (
        created["id"].as_str().unwrap().to_owned(),
        created["api_key"].as_str().unwrap().to_owned(),
        file,
    )
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn keys_check(server: &MockServer, api_key: &str, secret_file: &std::path::Path) -> Output {
    run(prime()
        .args(["keys", "check", "--api-key", api_key, "--secret-file"])
        .arg(secret_file)
        .args(["--ws-url", &server.ws_url()])
        .args(["--fix-addr", &server.fix_addr().to_string()])
        .args(["--sender", "CUSTOMER", "--target", "KRAKEN"]))
}

#[test]
fn keys_check_authenticates_a_fresh_key_and_reports_each_refusal() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Viewer);
    let dir = scratch("keys-check");
    let (key_id, api_key, secret_file) = create_key(&server, &user, &dir);
    let secret = std::fs::read_to_string(&secret_file).unwrap();

    let output = keys_check(&server, &api_key, &secret_file);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("websocket ws://127.0.0.1:"), "{stdout}");
    assert!(
        stdout.contains("authenticated (101 Switching Protocols)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("authenticated (Logon 35=A from KRAKEN)"),
        "{stdout}"
    );
    assert!(!stdout.contains(secret.trim()));

    // A wrong secret: 401 on WebSocket, Logout with a reason on FIX, exit 1.
    let wrong = dir.join("wrong");
    std::fs::write(&wrong, "not-the-secret\n").unwrap();
    let output = keys_check(&server, &api_key, &wrong);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("refused: 401 Unauthorized: ApiSign does not match"),
        "{stdout}"
    );
    assert!(
        stdout.contains("refused: Logout 35=5: 58=96 (RawData) does not match"),
        "{stdout}"
    );
    assert!(text(&output.stderr).contains("did not authenticate on: websocket, fix"));

    // An allow-list without the loopback address, then a deleted key.
    let restricted = run(prime_on(&server).args([
        "keys",
        "update",
        "--user-id",
        &user,
        "--key-id",
        &key_id,
        "--whitelisted-ips",
        "192.0.2.1",
    ]));
    assert!(restricted.status.success());
    let stdout = text(&keys_check(&server, &api_key, &secret_file).stdout);
    assert_eq!(
        stdout.matches("not on the key's IP allow-list").count(),
        2,
        "{stdout}"
    );
    let deleted =
        run(prime_on(&server).args(["keys", "delete", "--user-id", &user, "--key-id", &key_id]));
    assert!(deleted.status.success());
    let output = keys_check(&server, &api_key, &secret_file);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stdout)
            .matches("not a live issued key")
            .count(),
        2
    );

    // Nothing listening: a failure, exit 1, not a hang.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let output = run(prime()
        .args([
            "--timeout",
            "5",
            "keys",
            "check",
            "--api-key",
            &api_key,
            "--secret-file",
        ])
        .arg(&secret_file)
        .args(["--ws-url", &format!("ws://{addr}/ws/v1")]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).contains("failed: cannot connect"),
        "{}",
        text(&output.stdout)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn keys_check_needs_compids_with_a_fix_address() {
    let dir = scratch("compids");
    let file = dir.join("secret");
    std::fs::write(&file, "s").unwrap();
    let output = run(prime()
        .args(["keys", "check", "--api-key", "K", "--secret-file"])
        .arg(&file)
        .args(["--fix-addr", "127.0.0.1:1", "--sender", "S"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--fix-addr needs --target"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn keys_create_check_on_a_loopback_base_url_checks_the_simulators_websocket() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Viewer);
    let dir = scratch("create-check");
    let output = run(prime_on(&server)
        .args([
            "keys",
            "create",
            "--user-id",
            &user,
            "--check",
            "--secret-out",
        ])
        .arg(dir.join("secret")));
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains(&format!("websocket {}: authenticated", server.ws_url())),
        "{stdout}"
    );
    // With explicit endpoints, FIX too.
    let output = run(prime_on(&server)
        .args([
            "keys",
            "create",
            "--user-id",
            &user,
            "--check",
            "--secret-out",
        ])
        .arg(dir.join("secret2"))
        .args([
            "--ws-url",
            &server.ws_url(),
            "--fix-addr",
            &server.fix_addr().to_string(),
        ])
        .args(["--sender", "ME", "--target", "THEM"]));
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains("authenticated (Logon 35=A from THEM)"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn prime_mock_names_its_issued_key_endpoints_and_create_check_uses_them() {
    let (_child, first) = super::start_mock("11");
    let url = first["url"].as_str().unwrap();
    let ws_url = first["ws_url"].as_str().expect("ws_url");
    let fix_addr = first["fix_addr"].as_str().expect("fix_addr");
    assert_eq!(
        ws_url,
        format!("{}/ws/v1", url.replacen("http://", "ws://", 1))
    );
    assert!(fix_addr.starts_with("127.0.0.1:"), "{fix_addr}");

    let dir = scratch("mock-file");
    let credentials = dir.join("mock.json");
    std::fs::write(&credentials, first.to_string()).unwrap();
    let created = run(prime().arg("--credentials").arg(&credentials).args([
        "--json", "users", "create", "--name", "N", "--role", "Trader",
    ]));
    let user: serde_json::Value = serde_json::from_slice(&created.stdout).expect("JSON");
    let output = run(prime()
        .arg("--credentials")
        .arg(&credentials)
        .args([
            "keys",
            "create",
            "--user-id",
            user["id"].as_str().unwrap(),
            "--check",
            "--secret-out",
        ])
        .arg(dir.join("secret")));
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains(&format!("websocket {ws_url}: authenticated")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("fix {fix_addr}: authenticated")),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_demo_shows_both_checks_passing_then_refusing_the_deleted_key() {
    let output = run(prime().args(["demo", "--seed", "5"]));
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains("WebSocket: authenticated (101 Switching Protocols)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FIX: authenticated (Logon 35=A"),
        "{stdout}"
    );
    // Once deleted, both refuse it.
    assert!(
        stdout.contains("WebSocket: refused (401 Unauthorized: ApiKey is not a live issued key"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FIX: refused (Logout 35=5: 58=554 (Password) is not a live issued key"),
        "{stdout}"
    );
}

#[test]
fn keys_check_json_tls_and_verbose_logs() {
    let server = MockServer::start().expect("simulator");
    let user = new_user(&server, Role::Viewer);
    let dir = scratch("json-tls");
    let (_, api_key, secret_file) = create_key(&server, &user, &dir);
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    let secret = secret.trim_end();

    // --json: one document with a result per surface.
    let output = run(prime()
        .args([
            "--json",
            "keys",
            "check",
            "--api-key",
            &api_key,
            "--secret-file",
        ])
        .arg(&secret_file)
        .args([
            "--ws-url",
            &server.ws_url(),
            "--fix-addr",
            &server.fix_addr().to_string(),
        ])
        .args(["--sender", "S", "--target", "T"]));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(document["api_key"], api_key.as_str());
    let results: Vec<_> = document["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["surface"].as_str().unwrap(),
                c["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [("websocket", "authenticated"), ("fix", "authenticated")]
    );

    // TLS where the simulator speaks plain: the client really starts TLS, and the failure is
    // reported (exit 1), not hung.
    let output = run(prime()
        .args([
            "--timeout",
            "5",
            "keys",
            "check",
            "--api-key",
            &api_key,
            "--secret-file",
        ])
        .arg(&secret_file)
        .args(["--ws-url", &server.ws_url().replacen("ws://", "wss://", 1)])
        .args([
            "--fix-addr",
            &server.fix_addr().to_string(),
            "--fix-transport",
            "tls",
        ])
        .args(["--sender", "S", "--target", "T"]));
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(stdout.matches(": failed: ").count(), 2, "{stdout}");

    // -vv logs everything but the secret.
    let output = run(prime()
        .args([
            "-vv",
            "keys",
            "check",
            "--api-key",
            &api_key,
            "--secret-file",
        ])
        .arg(&secret_file)
        .args([
            "--ws-url",
            &server.ws_url(),
            "--fix-addr",
            &server.fix_addr().to_string(),
        ])
        .args(["--sender", "S", "--target", "T"]));
    assert!(output.status.success());
    assert!(!text(&output.stderr).contains(secret));
    assert!(!text(&output.stdout).contains(secret));
    let _ = std::fs::remove_dir_all(dir);
}
