//! The server itself: starting from plain and async tests, shutting down on drop, HTTPS,
//! determinism with a seed, and the HTTP control interface.

use crate::http_client;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use prime_core::endpoints::{
    CreateSettlementBatch, GetSettlementBatch, ListApiUsers, Role, SettleSettlementBatchAsset,
};
use prime_core::{Credentials, RequestBuilder};
use prime_mock::MockServer;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use http_client::{HttpClient, Session};

/// The bytes of a request for a raw socket, asking the server to close afterwards.
fn request_bytes(request: &prime_core::http::Request<Vec<u8>>) -> Vec<u8> {
    let host = request.uri().authority().expect("an absolute URL").as_str();
    http_client::request_bytes(request, host)
}

/// Reads one response whose body is bounded by `Content-Length`; returns (head, body).
fn read_response(stream: &mut impl Read) -> (String, Vec<u8>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    // Bounded: at most 1000 reads of the small responses used here.
    for _ in 0..1000 {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap();
            if buffer.len() >= end + 4 + length {
                return (head, buffer[end + 4..end + 4 + length].to_vec());
            }
        }
        let read = stream.read(&mut chunk).expect("read the response");
        assert!(
            read > 0,
            "the connection closed before the response was complete"
        );
        buffer.extend_from_slice(&chunk[..read]);
    }
    panic!("no complete response");
}

fn list_users_request(server: &MockServer, nonce: u64) -> prime_core::http::Request<Vec<u8>> {
    RequestBuilder::new()
        .with_base_url(&server.url())
        .unwrap()
        .build(&ListApiUsers::new(), &server.account_credentials(), nonce)
        .unwrap()
}

#[test]
fn dropping_the_server_closes_connections_and_releases_the_port() {
    let server = MockServer::start().unwrap();
    let addr = server.addr();
    assert_eq!(server.url(), format!("http://{addr}"));
    assert!(addr.ip().is_loopback());

    // An idle keep-alive connection.
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut session = Session::new(&server);
    session.ok(&server.account_credentials(), &ListApiUsers::new());

    drop(server);
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("the connection should be closed, got {other:?}"),
    }
    TcpListener::bind(addr).expect("the port is free again");
}

#[tokio::test]
async fn starts_and_stops_inside_a_current_thread_runtime() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = MockServer::start().unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(&request_bytes(&list_users_request(&server, 1)))
        .await
        .unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    assert!(
        text.ends_with(r#"{"error":[],"result":{"data":[]}}"#),
        "{text}"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_and_stops_inside_a_multi_thread_runtime() {
    let server = MockServer::start().unwrap();
    let url = server.url();
    drop(server);
    let second = MockServer::start().unwrap();
    assert_ne!(second.url(), "");
    assert!(url.starts_with("http://127.0.0.1:"));
}

#[test]
fn a_seed_makes_ids_and_secrets_repeatable() {
    let run = |seed: u64| {
        let server = MockServer::builder().seed(seed).start().unwrap();
        assert_eq!(server.seed(), seed);
        let admin = server.account_credentials();
        let mut session = Session::new(&server);
        let (user, key) = session.user_with_key(&admin, "U", Role::Trader);
        let batch = session.ok(&admin, &CreateSettlementBatch::new()).batch;
        (
            server.account_api_key().to_owned(),
            server.account_secret().expose().to_owned(),
            user,
            key.id.clone(),
            key.api_key.clone(),
            key.api_secret().expose().to_owned(),
            batch.id,
            batch.trade_ids,
        )
    };
    let first = run(42);
    assert_eq!(first, run(42));
    let other = run(43);
    assert_ne!(first.0, other.0);
    assert_ne!(first.1, other.1);
    assert_ne!(first.5, other.5);
    // Without a seed, two servers differ.
    let a = MockServer::start().unwrap();
    let b = MockServer::start().unwrap();
    assert_ne!(a.account_api_key(), b.account_api_key());
    assert_ne!(a.seed(), b.seed());
}

#[test]
fn the_account_credentials_are_consistent_and_never_printed() {
    let server = MockServer::builder().seed(9).start().unwrap();
    let secret = server.account_secret().expose().to_owned();
    assert_eq!(secret.len(), 88, "base64 of 64 bytes");
    let rebuilt = Credentials::new(server.account_api_key(), &secret).unwrap();
    assert_eq!(rebuilt.api_key(), server.account_credentials().api_key());
    let shown = format!("{server:?}");
    assert!(!shown.contains(&secret));
    assert!(shown.contains(&server.url()));
    assert!(!format!("{:?}", server.account_secret()).contains(&secret));
}

fn tls_config() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cert = CertificateDer::from_pem_slice(include_bytes!("tls/localhost.cert.pem")).unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("tls/localhost.key.pem")).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

#[test]
fn serves_https_with_a_rustls_config() {
    let (server_config, client_config) = tls_config();
    let server = MockServer::builder().tls(server_config).start().unwrap();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let request = list_users_request(&server, 1);

    let tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let connection = rustls::ClientConnection::new(client_config, name).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    tls.write_all(&request_bytes(&request)).unwrap();
    let (head, body) = read_response(&mut tls);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert_eq!(body, br#"{"error":[],"result":{"data":[]}}"#);
    assert_eq!(server.executions("ListPrimeApiUsers"), 1);

    // Plain HTTP to the TLS port is not served.
    let mut plain = TcpStream::connect(server.addr()).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(&request_bytes(&list_users_request(&server, 2)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/1.1 200"));
    assert_eq!(server.executions("ListPrimeApiUsers"), 1);
}

#[test]
fn the_control_interface_drives_settlement_over_http() {
    let server = MockServer::builder().seed_trades(false).start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let (_, key) = session.user_with_key(&admin, "T", Role::Trader);
    let trader = admin.clone();
    let control = |method: &str, route: &str, body: &str| {
        let response = HttpClient::new(server.addr())
            .send_parts(method, route, &[], body.as_bytes())
            .response();
        (response.status, response.json())
    };

    let (status, added) = control(
        "POST",
        "/__mock/trades",
        r#"{"asset":"BTC","amount":"0.5","asset_kind":"currency","id":"trade-1"}"#,
    );
    assert_eq!(
        (status, &added),
        (200, &serde_json::json!({"id": "trade-1"}))
    );
    let (status, refused) = control("POST", "/__mock/trades", r#"{"asset":"BTC","amount":"x"}"#);
    assert_eq!(status, 400);
    assert!(refused["error"].as_str().unwrap().contains("amount"));

    let batch = session.ok(&trader, &CreateSettlementBatch::new()).batch;
    assert_eq!(batch.legs[0].amount.as_str(), "0.5");
    let (status, _) = control(
        "POST",
        "/__mock/batches/confirm",
        &format!(r#"{{"batch_id":"{}"}}"#, batch.id),
    );
    assert_eq!(status, 200);
    let (status, _) = control(
        "POST",
        "/__mock/batches/confirm",
        r#"{"batch_id":"B_NOSUCH"}"#,
    );
    assert_eq!(status, 404);
    session.ok(&trader, &SettleSettlementBatchAsset::new(&batch.id, "BTC"));
    let (_, completed) = control("POST", "/__mock/transfers/complete", "");
    assert_eq!(completed["completed"], 1);
    let done = session
        .ok(&trader, &GetSettlementBatch::new(&batch.id))
        .batch;
    assert_eq!(done.attributes.status.as_str(), "completed");

    let (status, state) = control("GET", "/__mock/state", "");
    assert_eq!(status, 200);
    assert_eq!(state, server.state());
    assert_eq!(state["transfers"][0]["status"], "completed");
    assert_eq!(state["executions"]["SettlePrimeSettlementBatchAsset"], 1);
    assert_eq!(state["keys"].as_array().unwrap().len(), 2);
    assert!(!state.to_string().contains(key.api_secret().expose()));
    assert!(!state.to_string().contains(server.account_secret().expose()));

    let (status, _) = control(
        "POST",
        "/__mock/nonce-window",
        &format!(
            r#"{{"api_key":"{}","window":50}}"#,
            server.account_api_key()
        ),
    );
    assert_eq!(status, 200);
    assert_eq!(server.state()["keys"][0]["nonce_window"], 50);
    let (status, _) = control("POST", "/__mock/rate-limit", r#"{"enabled":true}"#);
    assert_eq!(status, 200);
    assert_eq!(server.state()["rate_limit"], true);
    assert_eq!(server.state()["rate_limits"]["max_calls"], 20);
    let (status, _) = control(
        "POST",
        "/__mock/rate-limit",
        r#"{"enabled":true,"max_calls":3,"decay_ms":250,"refused_calls_count":false,"lockout_after":2,"lockout_ms":500,"prolong_lockout":false}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(
        server.state()["rate_limits"],
        serde_json::json!({"max_calls":3,"decay_ms":250,"refused_calls_count":false,"lockout_after":2,"lockout_ms":500,"prolong_lockout":false})
    );
    let (status, _) = control("POST", "/__mock/rate-limit", r#"{"enabled":false}"#);
    assert_eq!(status, 200);
    assert_eq!(server.state()["rate_limits"], serde_json::Value::Null);
    let (status, _) = control(
        "POST",
        "/__mock/unknown-fields",
        r#"{"unknown_fields":"ignore"}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(server.state()["unknown_fields"], "ignore");
    let (status, _) = control(
        "POST",
        "/__mock/unknown-fields",
        r#"{"unknown_fields":"drop"}"#,
    );
    assert_eq!(status, 400);
    let (status, _) = control(
        "POST",
        "/__mock/check-order",
        r#"{"allow_list_first":true}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(
        server.state()["check_order"],
        serde_json::json!({"allow_list_first":true,"arguments_before_permission":false})
    );
    // Error replies carry `"result": {}` unless switched off, and back on.
    let unsigned = || control("POST", "/0/private/ListPrimeApiUsers", r#"{"nonce":1}"#).1;
    assert_eq!(
        unsigned(),
        serde_json::json!({"error": ["EAPI:Invalid key"], "result": {}})
    );
    let (status, _) = control("POST", "/__mock/error-result", r#"{"result":false}"#);
    assert_eq!(status, 200);
    assert_eq!(
        unsigned(),
        serde_json::json!({"error": ["EAPI:Invalid key"]})
    );
    server.set_error_result(true);
    assert_eq!(unsigned()["result"], serde_json::json!({}));
    let (status, _) = control("GET", "/__mock/nothing", "");
    assert_eq!(status, 404);
    let (status, _) = control(
        "POST",
        "/__mock/trades",
        r#"{"asset":"BTC","amount":"1","extra":1}"#,
    );
    assert_eq!(status, 400);
}

#[test]
fn keep_alive_reuses_one_connection() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    for _ in 0..20 {
        session.ok(&server.account_credentials(), &ListApiUsers::new());
    }
    assert_eq!(session.client.connections_opened, 1);
}
