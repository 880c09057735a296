//! Every `EAPI:Invalid signature` is diagnosed: the simulator names the known client mistake
//! that reproduces the refused signature, logs it and serves the latest at
//! `GET /__mock/last-rejection`. The wrong signatures are made with the `hmac`/`sha2` crates,
//! as a client making that mistake computes them.

use crate::http_client;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prime_core::Endpoint;
use prime_core::endpoints::ListApiUsers;
use prime_mock::MockServer;
use prime_test_support::reference::{self, hex, hmac_sha512};

use http_client::HttpClient;

/// The HMAC-SHA512 tag of `path || inner`.
fn tag(key: &[u8], path: &[u8], inner: &[u8]) -> Vec<u8> {
    hmac_sha512(key, &[path, inner])
}

/// SHA-256 of `a || b`.
fn sha256(a: &[u8], b: &[u8]) -> Vec<u8> {
    reference::sha256(&[a, b])
}

/// Sends `ListPrimeApiUsers` with `body` and the given `API-Sign`; returns the first error.
fn send(client: &mut HttpClient, server: &MockServer, body: &str, sign: &str) -> Option<String> {
    client
        .send_parts(
            "POST",
            ListApiUsers::PATH,
            &[
                ("Content-Type", b"application/json"),
                ("API-Key", server.account_api_key().as_bytes()),
                ("API-Sign", sign.as_bytes()),
            ],
            body.as_bytes(),
        )
        .response()
        .first_error()
}

fn ids(rejection: &serde_json::Value) -> Vec<String> {
    rejection["diagnosis"]
        .as_array()
        .expect("a diagnosis list")
        .iter()
        .map(|d| d["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// Makes a wrong signature from the nonce's digits and the body sent.
type MakeSign<'a> = dyn Fn(&str, &str) -> String + 'a;

#[test]
fn each_refused_signature_is_diagnosed_and_served() {
    let server = MockServer::start().expect("simulator");
    let mut client = HttpClient::new(server.addr());
    let secret_text = server.account_secret().expose().to_owned();
    let secret = STANDARD.decode(&secret_text).expect("base64");
    let path = ListApiUsers::PATH.as_bytes();
    assert_eq!(server.last_rejection(), None);
    let before: serde_json::Value = ureq_free_get(&server);
    assert!(before.is_null(), "{before}");

    let mut nonce = 1_000u64;
    let cases: Vec<(&str, Box<MakeSign<'_>>)> = vec![
        (
            "secret-not-decoded",
            Box::new(|n: &str, b: &str| {
                STANDARD.encode(tag(
                    secret_text.as_bytes(),
                    path,
                    &sha256(n.as_bytes(), b.as_bytes()),
                ))
            }),
        ),
        (
            "hex-digest",
            Box::new(|n: &str, b: &str| {
                hex(&tag(&secret, path, &sha256(n.as_bytes(), b.as_bytes())))
            }),
        ),
        (
            "path-without-0",
            Box::new(|n: &str, b: &str| {
                STANDARD.encode(tag(
                    &secret,
                    &path[2..],
                    &sha256(n.as_bytes(), b.as_bytes()),
                ))
            }),
        ),
        (
            "full-url-signed",
            Box::new(|n: &str, b: &str| {
                let url = format!("{}{}", server.url(), ListApiUsers::PATH);
                STANDARD.encode(tag(
                    &secret,
                    url.as_bytes(),
                    &sha256(n.as_bytes(), b.as_bytes()),
                ))
            }),
        ),
        (
            "nonce-not-prefixed",
            Box::new(|_: &str, b: &str| {
                STANDARD.encode(tag(&secret, path, &sha256(b"", b.as_bytes())))
            }),
        ),
        (
            "inner-hex",
            Box::new(|n: &str, b: &str| {
                STANDARD.encode(tag(
                    &secret,
                    path,
                    hex(&sha256(n.as_bytes(), b.as_bytes())).as_bytes(),
                ))
            }),
        ),
        (
            "body-reserialized",
            Box::new(|n: &str, _: &str| {
                // Python's json.dumps({"nonce": n}) signed; the compact body sent.
                let python = format!("{{\"nonce\": {n}}}");
                STANDARD.encode(tag(&secret, path, &sha256(n.as_bytes(), python.as_bytes())))
            }),
        ),
        (
            "unknown",
            Box::new(|_: &str, _: &str| STANDARD.encode([7u8; 64])),
        ),
    ];
    for (id, make) in &cases {
        nonce += 1;
        let digits = nonce.to_string();
        let body = format!("{{\"nonce\":{digits}}}");
        let sign = make(&digits, &body);
        assert_eq!(
            send(&mut client, &server, &body, &sign).as_deref(),
            Some("EAPI:Invalid signature"),
            "{id}"
        );
        let rejection = server.last_rejection().expect("a rejection");
        assert_eq!(ids(&rejection), [id.to_string()], "{rejection}");
        assert_eq!(rejection["method"], "ListPrimeApiUsers");
        // Over HTTP the same document; it never holds the secret or the signature.
        let served = ureq_free_get(&server);
        assert_eq!(served, rejection);
        let text = served.to_string();
        assert!(
            !text.contains(&secret_text) && !text.contains(&sign),
            "{text}"
        );
    }
}

/// `GET /__mock/last-rejection` over the test's own HTTP client.
fn ureq_free_get(server: &MockServer) -> serde_json::Value {
    let mut client = HttpClient::new(server.addr());
    client
        .send_parts("GET", "/__mock/last-rejection", &[], b"")
        .response()
        .json()
}
