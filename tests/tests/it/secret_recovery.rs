//! Through both transports, a created key's one-time secret reaches the
//! caller from every odd reply, including a body whose connection breaks off after the secret
//! (the transports keep the bytes received with `TransportError::with_received`, and the
//! call driver recovers the secret from them). A scripted server on
//! 127.0.0.1 answers with exact bytes; each reply is served once, so nothing may be resent.

use std::time::Duration;

use prime_core::endpoints::CreateApiUserKey;
use prime_core::{Error, ResponseError};
use prime_test_support::scripted;

const SECRET: &str = "CutOffSecret-6xq8p1mvk9r3n7swt2l5cj4eaydhzbf";
/// Serves one connection with `response` (raw bytes), then closes it. A second connection
/// (a resend) is answered with a 500 so a test would notice it.
fn serve_once(response: Vec<u8>) -> String {
    scripted::serve(vec![response, scripted::reply(500, b"")])
}

fn whole_body() -> String {
    serde_json::json!({"error": [], "result": {
        "api_secret": SECRET, "id": "K1", "api_key": "KEY", "user_id": "U1",
        "permissions": ["read::marketdata"], "whitelisted_ips": [],
    }})
    .to_string()
}

/// Responses whose body breaks off after the secret: a declared length that never arrives, at
/// several cut points, and a chunked body that stops.
fn cut_responses() -> Vec<(String, Vec<u8>)> {
    let body = whole_body();
    let after_secret = body.find(SECRET).expect("secret") + SECRET.len() + 1;
    let mut responses = Vec::new();
    for cut in [after_secret, after_secret + 3, body.len() - 1] {
        let mut bytes = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&body.as_bytes()[..cut]);
        responses.push((format!("content-length, cut at {cut}"), bytes));
    }
    let mut chunked =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    chunked.extend_from_slice(format!("{:x}\r\n", after_secret).as_bytes());
    chunked.extend_from_slice(&body.as_bytes()[..after_secret]);
    chunked.extend_from_slice(b"\r\n");
    responses.push(("chunked, stopped".to_owned(), chunked));
    responses
}

fn assert_recovered(result: Result<prime_core::endpoints::CreatedApiUserKey, Error>, what: &str) {
    let error = result.expect_err(what);
    let Some(ResponseError::KeyCreated { key, problem }) = error.response() else {
        panic!("{what}: the secret was lost: {error:?}");
    };
    assert_eq!(key.api_secret().expose(), SECRET, "{what}");
    assert_eq!(key.api_key(), Some("KEY"));
    assert!(matches!(**problem, ResponseError::Decode { .. }), "{what}");
    assert!(!error.is_outcome_unknown(), "{what}: the key was created");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(SECRET), "{what}: {shown}");
}

#[test]
fn blocking_recovers_the_secret_from_a_body_cut_off_after_it() {
    for (what, response) in cut_responses() {
        let url = serve_once(response);
        let client = prime_blocking::Client::builder(prime_core::example::credentials())
            .base_url(&url)
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        assert_recovered(
            client
                .send(CreateApiUserKey::new("U1"))
                .map(|reply| reply.result),
            &what,
        );
    }
}

#[test]
fn async_recovers_the_secret_from_a_body_cut_off_after_it() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for (what, response) in cut_responses() {
        let url = serve_once(response);
        let client = prime_async::Client::builder(prime_core::example::credentials())
            .base_url(&url)
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        assert_recovered(
            runtime
                .block_on(client.send(CreateApiUserKey::new("U1")))
                .map(|reply| reply.result),
            &what,
        );
    }
}

#[test]
fn a_body_cut_off_before_the_secret_is_still_an_unknown_outcome() {
    let body = whole_body();
    let inside_secret = body.find(SECRET).expect("secret") + 4;
    let mut bytes =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    bytes.extend_from_slice(&body.as_bytes()[..inside_secret]);
    let url = serve_once(bytes);
    let client = prime_blocking::Client::builder(prime_core::example::credentials())
        .base_url(&url)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let error = client
        .send(CreateApiUserKey::new("U1"))
        .map(|reply| reply.result)
        .expect_err("cut");
    assert!(error.is_outcome_unknown(), "{error:?}");
    assert!(error.response().is_none());
}
