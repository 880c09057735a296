//! The signature test-vector kit: the committed edge vectors against an independent
//! implementation (the `hmac`/`sha2` crates used directly, and Python's `hmac`/`hashlib`
//! pinned), external signers through `prime vectors verify --signer`, and `prime sign
//! --expect` naming each known mistake.

use super::{prime, run, scratch, workspace_file};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use prime_test_support::reference::{hex, hmac_sha256 as hmac256, hmac_sha512 as hmac512, sha256};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn field<'a>(v: &'a serde_json::Value, name: &str) -> &'a str {
    v[name].as_str().unwrap_or_else(|| panic!("{name} in {v}"))
}

/// A vector's signature computed with `hmac`/`sha2` directly, and the lengths of the messages
/// it hashes (for the coverage check).
fn independent(v: &serde_json::Value) -> (String, Vec<(&'static str, usize)>) {
    match v["scheme"].as_str().unwrap_or("rest") {
        "rest" => {
            let inner = [field(v, "nonce").as_bytes(), field(v, "body").as_bytes()].concat();
            let digest = sha256(&[&inner]);
            let path = field(v, "path").as_bytes();
            let secret = STANDARD.decode(field(v, "secret")).expect("base64 secret");
            let sign = STANDARD.encode(hmac512(&secret, &[path, &digest]));
            (
                sign,
                vec![
                    ("sha256-input", inner.len()),
                    ("hmac-inner", path.len() + 32),
                    ("rest-key", secret.len()),
                ],
            )
        }
        "prime-ws" => {
            let message = [
                "GET",
                field(v, "timestamp"),
                field(v, "host"),
                field(v, "path"),
            ]
            .join("\n");
            let key = field(v, "secret").as_bytes();
            (
                URL_SAFE.encode(hmac256(key, message.as_bytes())),
                vec![("ws", message.len()), ("text-key", key.len())],
            )
        }
        "prime-fix" => {
            let seq = v["seq_num"].as_u64().expect("seq_num").to_string();
            let message = [
                field(v, "sending_time"),
                &seq,
                field(v, "sender"),
                field(v, "target"),
            ]
            .join("\u{1}");
            let key = field(v, "secret").as_bytes();
            (
                URL_SAFE.encode(hmac256(key, message.as_bytes())),
                vec![("fix", message.len()), ("text-key", key.len())],
            )
        }
        other => panic!("unknown scheme {other}"),
    }
}

fn expected(v: &serde_json::Value) -> &str {
    v["api_sign"]
        .as_str()
        .or_else(|| v["signature"].as_str())
        .expect("a signature")
}

#[test]
fn the_edge_vectors_hit_every_edge_agree_with_hmac_sha2_and_python_and_verify() {
    let path = workspace_file("vectors/edges.json");
    let file = std::fs::read_to_string(&path).expect("vectors/edges.json");
    let vectors: Vec<serde_json::Value> = serde_json::from_str(&file).expect("JSON");
    let mut lengths = std::collections::BTreeSet::new();
    for v in &vectors {
        let (signature, seen) = independent(v);
        assert_eq!(signature, expected(v), "{}", field(v, "name"));
        lengths.extend(seen);
    }
    // Both sides of every padding edge, on every hashed message.
    for edge in [55, 56, 63, 64, 119, 120, 111, 112, 127, 128, 239, 240] {
        assert!(
            lengths.contains(&("sha256-input", edge)),
            "nonce ++ body of {edge}"
        );
    }
    for edge in [111, 112, 127, 128, 239, 240] {
        assert!(
            lengths.contains(&("hmac-inner", edge)),
            "path ++ digest of {edge}"
        );
    }
    for edge in [55, 56, 63, 64, 119, 120] {
        assert!(
            lengths.contains(&("ws", edge)),
            "WebSocket message of {edge}"
        );
        assert!(lengths.contains(&("fix", edge)), "FIX message of {edge}");
    }
    for len in [1, 32, 63, 64, 65, 127, 128, 129, 200, 300] {
        assert!(
            lengths.contains(&("rest-key", len)),
            "REST key of {len} bytes"
        );
    }
    for len in [1, 63, 64, 65, 300] {
        assert!(
            lengths.contains(&("text-key", len)),
            "issued key of {len} bytes"
        );
    }
    let bodies: Vec<&str> = vectors.iter().filter_map(|v| v["body"].as_str()).collect();
    assert!(bodies.contains(&""), "an empty body");
    assert!(bodies.iter().any(|b| !b.is_ascii()), "a non-ASCII body");
    assert!(
        bodies.iter().any(|b| b.starts_with("nonce=")),
        "a form body"
    );
    let nonces: Vec<usize> = vectors
        .iter()
        .filter_map(|v| v["nonce"].as_str())
        .map(str::len)
        .collect();
    assert!(
        nonces.contains(&19) && nonces.contains(&20),
        "19- and 20-digit nonces"
    );

    // Python's hmac/hashlib agree with every vector of this file; pinned output of
    //   python3 -c 'import base64,hashlib,hmac,json,sys; ...' (the check is spelled out in
    //   vectors/README.md) = "122 agree, 0 differ; sha256 of all signatures: c030…9d77",
    // and the file still holds exactly those signatures:
    let all: String = vectors.iter().map(expected).collect();
    assert_eq!(vectors.len(), 122);
    assert_eq!(
        hex(&sha256(&[all.as_bytes()])),
        "c03059508e18e9d6f2ac889608b9ec3ebe842ebe26d0122397e231cc99519d77"
    );

    // The committed file is what the generator writes for its seed.
    let generated = run(prime().args(["vectors", "generate", "--edges", "--seed", "15"]));
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    assert_eq!(text(&generated.stdout), file, "byte for byte");

    let verified = run(prime().args(["vectors", "verify"]).arg(&path));
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stderr)
    );
    assert!(text(&verified.stdout).ends_with("122 passed, 0 failed\n"));
}

fn python() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("python3 not found: the external-signer tests need it");
    }
    found
}

/// `prime vectors verify FILE --signer COMMAND`, timed.
fn verify_with(file: &str, signer: &str, extra: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let output = run(prime()
        .args(["vectors", "verify"])
        .arg(workspace_file(file))
        .args(["--signer", signer])
        .args(extra));
    (output, started.elapsed())
}

fn count(file: &str) -> usize {
    let text = std::fs::read_to_string(workspace_file(file)).expect("vectors");
    serde_json::from_str::<Vec<serde_json::Value>>(&text)
        .expect("JSON")
        .len()
}

#[test]
fn a_correct_external_signer_passes_every_vector() {
    if !python() {
        return;
    }
    let signer = format!(
        "python3 {}",
        workspace_file("vectors/example_signer.py").display()
    );
    for file in ["vectors/api-sign.json", "vectors/edges.json"] {
        let (output, _) = verify_with(file, &signer, &[]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{file}: {}",
            text(&output.stdout)
        );
        assert_eq!(
            text(&output.stdout),
            format!("{} passed, 0 failed\n", count(file))
        );
    }
}

#[test]
fn a_hex_signer_fails_every_vector_and_is_diagnosed() {
    if !python() {
        return;
    }
    let dir = scratch("hex");
    let signer = dir.join("hex_signer.py");
    let correct =
        std::fs::read_to_string(workspace_file("vectors/example_signer.py")).expect("signer");
    // The same signer, with hex output instead of base64 for every scheme.
    let hexed = correct
        .replace(
            "base64.b64encode(hmac.new(base64.b64decode(v[\"secret\"]), msg, hashlib.sha512).digest()).decode()",
            "hmac.new(base64.b64decode(v[\"secret\"]), msg, hashlib.sha512).hexdigest()",
        )
        .replace(
            "base64.urlsafe_b64encode(hmac.new(v[\"secret\"].encode(), msg, hashlib.sha256).digest()).decode()",
            "hmac.new(v[\"secret\"].encode(), msg, hashlib.sha256).hexdigest()",
        );
    assert_eq!(
        hexed.matches("hexdigest").count(),
        2,
        "both encodings replaced"
    );
    std::fs::write(&signer, hexed).expect("write signer");
    for file in ["vectors/api-sign.json", "vectors/edges.json"] {
        let (output, _) = verify_with(file, &format!("python3 {}", signer.display()), &[]);
        assert_eq!(output.status.code(), Some(1));
        let out = text(&output.stdout);
        let n = count(file);
        assert!(out.ends_with(&format!("0 passed, {n} failed\n")), "{out}");
        assert_eq!(out.matches("FAIL ").count(), n);
        // Every REST mismatch is named for what it is.
        for line in out.lines().filter(|l| {
            l.starts_with("FAIL rest")
                || l.starts_with("FAIL kraken")
                || l.starts_with("FAIL python")
        }) {
            assert!(line.ends_with("(diagnosis: hex-digest)"), "{line}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_signer_that_crashes_hangs_or_answers_garbage_fails_the_run_promptly() {
    if !python() {
        return;
    }
    let dir = scratch("broken");
    let correct =
        std::fs::read_to_string(workspace_file("vectors/example_signer.py")).expect("signer");
    // Answers three vectors, then dies.
    let crashing = correct.replace(
        "for line in sys.stdin:\n",
        "for i, line in enumerate(sys.stdin):\n    if i == 3: sys.exit(3)\n",
    );
    assert_ne!(crashing, correct);
    let crash = dir.join("crash.py");
    std::fs::write(&crash, crashing).expect("write");
    let n = count("vectors/api-sign.json");
    let cases = [
        (
            format!("python3 {}", crash.display()),
            "the signer exited",
            3,
        ),
        ("sleep 30".to_owned(), "no answer within 1 s", 0),
        (
            "printf 'not\\001a signature\\n'; sleep 30".to_owned(),
            "which is not a signature",
            0,
        ),
        (
            "head -c 5000 /dev/zero | tr '\\0' A; sleep 30".to_owned(),
            "more than 1024 bytes",
            0,
        ),
        ("exit 0".to_owned(), "", 0),
    ];
    for (signer, reason, passed) in cases {
        let (output, took) =
            verify_with("vectors/api-sign.json", &signer, &["--signer-timeout", "1"]);
        let out = text(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{signer}: {out}");
        assert!(out.contains(reason), "{signer}: {out}");
        assert!(
            out.ends_with(&format!("{passed} passed, {} failed\n", n - passed)),
            "{signer}: {out}"
        );
        // Bounded: one timeout plus the grace given to the signer to exit, not 30 s.
        assert!(took < Duration::from_secs(10), "{signer} took {took:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Kraken's published example secret.
const SECRET: &str = prime_core::example::SECRET;

/// Every id, made the way a client with that mistake makes it (hmac/sha2 directly), on a JSON
/// body with a query string, then explained by `prime sign --expect`.
#[test]
fn expect_names_each_mistake_and_accepts_the_right_signature() {
    let secret = STANDARD.decode(SECRET).expect("base64");
    let calls = [
        (
            "/0/private/GetCustodyTask?id=TGWOJ4JQPOTZT2",
            "1616492376594",
            r#"{"nonce":1616492376594}"#,
        ),
        (
            "/0/private/ListPrimeApiUsers?a=1",
            "1795000000123456789",
            r#"{"nonce":1795000000123456789,"x":[1,2]}"#,
        ),
    ];
    let mut named = std::collections::BTreeSet::new();
    for (path, nonce, body) in calls {
        let (p, n, b) = (path.as_bytes(), nonce.as_bytes(), body.as_bytes());
        let right = STANDARD.encode(hmac512(&secret, &[p, &sha256(&[n, b])]));
        let python_body = body.replace(',', ", ").replace(':', ": ");
        let cases = [
            (
                "secret-not-decoded",
                STANDARD.encode(hmac512(SECRET.as_bytes(), &[p, &sha256(&[n, b])])),
            ),
            ("hex-digest", hex(&hmac512(&secret, &[p, &sha256(&[n, b])]))),
            (
                "url-safe-base64",
                URL_SAFE.encode(hmac512(&secret, &[p, &sha256(&[n, b])])),
            ),
            (
                "path-without-0",
                STANDARD.encode(hmac512(&secret, &[&p[2..], &sha256(&[n, b])])),
            ),
            (
                "full-url-signed",
                STANDARD.encode(hmac512(
                    &secret,
                    &[
                        format!("https://api.kraken.com{path}").as_bytes(),
                        &sha256(&[n, b]),
                    ],
                )),
            ),
            (
                "query-string-dropped",
                STANDARD.encode(hmac512(
                    &secret,
                    &[
                        path.split('?').next().unwrap_or_default().as_bytes(),
                        &sha256(&[n, b]),
                    ],
                )),
            ),
            (
                "nonce-not-prefixed",
                STANDARD.encode(hmac512(&secret, &[p, &sha256(&[b])])),
            ),
            (
                "inner-hex",
                STANDARD.encode(hmac512(&secret, &[p, hex(&sha256(&[n, b])).as_bytes()])),
            ),
            (
                "body-reserialized",
                STANDARD.encode(hmac512(
                    &secret,
                    &[p, &sha256(&[n, python_body.as_bytes()])],
                )),
            ),
            ("unknown", STANDARD.encode([9u8; 64])),
        ];
        for (id, wrong) in cases {
            if wrong == right {
                continue; // URL-safe base64 without + or / is the right signature.
            }
            let output = run(prime().env("KRAKEN_API_SECRET", SECRET).args([
                "sign", "--path", path, "--nonce", nonce, "--body", body, "--expect", &wrong,
            ]));
            assert_eq!(output.status.code(), Some(1), "{id}");
            let out = text(&output.stdout);
            let diagnoses: Vec<&str> = out
                .lines()
                .filter(|l| l.starts_with("diagnosis: "))
                .collect();
            assert_eq!(diagnoses.len(), 1, "{id}: {out}");
            assert!(
                diagnoses[0].starts_with(&format!("diagnosis: {id}: ")),
                "{id}: {out}"
            );
            assert!(!out.contains(SECRET) && !text(&output.stderr).contains(SECRET));
            named.insert(id);
        }
        let output = run(prime().env("KRAKEN_API_SECRET", SECRET).args([
            "sign", "--path", path, "--nonce", nonce, "--body", body, "--expect", &right,
        ]));
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    }
    assert_eq!(named.len(), 10, "every id was shown: {named:?}");
}

/// Malformed vector files of every kind are usage errors naming the problem; a tampered vector
/// of any scheme fails by name.
#[test]
fn bad_vector_files_are_refused_and_tampered_vectors_of_every_scheme_fail() {
    let dir = scratch("bad-files");
    let edges: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(workspace_file("vectors/edges.json")).expect("edges"),
    )
    .expect("JSON");
    let of = |scheme: &str| {
        edges
            .iter()
            .find(|v| v["scheme"].as_str().unwrap_or("rest") == scheme)
            .expect("a vector of each scheme")
            .clone()
    };
    let (rest, ws, fix) = (of("rest"), of("prime-ws"), of("prime-fix"));
    let with = |mut v: serde_json::Value, field: &str, value: serde_json::Value| {
        v[field] = value;
        v
    };
    let without = |mut v: serde_json::Value, field: &str| {
        v.as_object_mut().expect("object").remove(field);
        v
    };
    let bad = [
        (serde_json::json!({"not": "an array"}), "not a JSON array"),
        (
            serde_json::json!([with(rest.clone(), "scheme", "grpc".into())]),
            "unknown scheme",
        ),
        (
            serde_json::json!([with(rest.clone(), "host", "x".into())]),
            "host does not belong to scheme rest",
        ),
        (
            serde_json::json!([with(ws.clone(), "nonce", "1".into())]),
            "nonce does not belong to scheme prime-ws",
        ),
        (
            serde_json::json!([without(fix.clone(), "sender")]),
            "needs sender",
        ),
        (
            serde_json::json!([without(rest.clone(), "api_sign")]),
            "needs api_sign",
        ),
        (
            serde_json::json!([with(fix.clone(), "seq_num", 0.into())]),
            "seq_num must be a positive integer",
        ),
        (
            serde_json::json!([with(fix.clone(), "seq_num", "x1".into())]),
            "seq_num must be a positive integer",
        ),
        (
            serde_json::json!([with(rest.clone(), "extra", 1.into())]),
            "unknown field",
        ),
    ];
    for (i, (content, message)) in bad.iter().enumerate() {
        let file = dir.join(format!("bad-{i}.json"));
        std::fs::write(&file, content.to_string()).expect("write");
        let output = run(prime().args(["vectors", "verify"]).arg(&file));
        assert_eq!(output.status.code(), Some(2), "{content}");
        assert!(
            text(&output.stderr).contains(message),
            "{message}: {}",
            text(&output.stderr)
        );
    }
    // One tampered vector of each scheme among good ones: exactly those fail, by name.
    let tampered = serde_json::json!([
        with(rest.clone(), "body", "{\"nonce\":0}".into()),
        with(ws.clone(), "host", "other.example".into()),
        with(fix.clone(), "target", "OTHER".into()),
        rest,
        ws,
        fix,
    ]);
    let file = dir.join("tampered.json");
    std::fs::write(&file, tampered.to_string()).expect("write");
    let output = run(prime().args(["vectors", "verify"]).arg(&file));
    assert_eq!(output.status.code(), Some(1));
    let out = text(&output.stdout);
    assert_eq!(out.matches("FAIL ").count(), 3, "{out}");
    assert!(out.ends_with("3 passed, 3 failed\n"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}
