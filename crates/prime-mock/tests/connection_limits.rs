//! The simulator cannot be held hostage by its clients. A request body that
//! stalls is answered `408` and closed after the body timeout; a declared `Content-Length` above
//! the request cap is refused with `413` before anything is read; and a flood of stalled
//! connections is capped, so the server's file descriptors stay bounded and a real call still
//! gets through. Every count and wait below is bounded; everything binds 127.0.0.1.

#[path = "it/http_client/mod.rs"]
mod http_client;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prime_core::RequestBuilder;
use prime_core::endpoints::ListApiUsers;
use prime_mock::MockServer;

/// The tests count this process's file descriptors: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn connect(server: &MockServer) -> TcpStream {
    let stream = TcpStream::connect(server.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Sends the head of a POST to `path` declaring `length` body bytes, then `sent` bytes of it.
fn stall(server: &MockServer, path: &str, length: &str, sent: usize) -> TcpStream {
    let mut stream = connect(server);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n",
        server.addr()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&vec![b' '; sent]).unwrap();
    stream
}

/// Everything the server sends until it closes (bounded by the read timeout and 1 MiB).
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    while all.len() < 1 << 20 {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("no close within the read timeout: {e}"),
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or("")
}

#[test]
fn a_stalled_body_is_answered_408_and_closed_after_the_body_timeout() {
    let _serial = serial();
    let server = MockServer::builder()
        .request_body_timeout(Duration::from_millis(300))
        .start()
        .unwrap();
    for path in [
        "/0/private/ListPrimeApiUsers",
        "/0/private/CreatePrimeApiUserKey",
        "/__mock/faults",
    ] {
        for (length, sent) in [(1usize, 0usize), (100, 0), (100, 99), (65_536, 1000)] {
            let started = Instant::now();
            let mut stream = stall(&server, path, &length.to_string(), sent);
            let response = read_to_close(&mut stream);
            let waited = started.elapsed();
            assert!(
                status_line(&response).contains("408"),
                "{path} {length}/{sent}: {response}"
            );
            assert!(
                waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
                "{path} {length}/{sent}: {waited:?}"
            );
        }
    }
    // Nothing that stalled was executed.
    assert_eq!(server.executions("CreatePrimeApiUserKey"), 0);
}

#[test]
fn a_declared_body_over_the_cap_is_refused_413_at_once() {
    let _serial = serial();
    // A long body timeout proves the refusal does not wait for it.
    let server = MockServer::builder()
        .request_body_timeout(Duration::from_secs(60))
        .start()
        .unwrap();
    for path in ["/0/private/ListPrimeApiUsers", "/__mock/faults", "/nowhere"] {
        for length in ["65537", "1048576", "10737418240", "1099511627776"] {
            let started = Instant::now();
            let mut stream = stall(&server, path, length, 10);
            let response = read_to_close(&mut stream);
            assert!(
                status_line(&response).contains("413"),
                "{path} {length}: {response}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{path} {length}: took {:?}",
                started.elapsed()
            );
        }
    }
    // u64::MAX and lengths that are not even a u64 are refused by the HTTP layer (400 or 431),
    // at once too.
    for length in [
        "18446744073709551614",
        "18446744073709551615",
        "99999999999999999999999",
        "-1",
        "1e9",
    ] {
        let started = Instant::now();
        let mut stream = stall(&server, "/0/private/ListPrimeApiUsers", length, 0);
        let response = read_to_close(&mut stream);
        assert!(
            status_line(&response).contains(" 4"),
            "{length}: {response}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{length}");
    }
}

fn open_descriptors() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count())
}

fn list_users(server: &MockServer, nonce: u64) -> String {
    let request = RequestBuilder::new()
        .with_base_url(&server.url())
        .unwrap()
        .build(&ListApiUsers::new(), &server.account_credentials(), nonce)
        .unwrap();
    let bytes = http_client::request_bytes(&request, &server.addr().to_string());
    let mut stream = connect(server);
    stream.write_all(&bytes).unwrap();
    read_to_close(&mut stream)
}

#[test]
fn a_flood_of_stalled_connections_is_capped_and_the_server_keeps_serving() {
    let _serial = serial();
    const CAP: usize = 8;
    const FLOOD: usize = 64;
    let server = MockServer::builder()
        .max_connections(CAP)
        .request_body_timeout(Duration::from_millis(500))
        .start()
        .unwrap();
    // A real call works before the flood.
    assert!(status_line(&list_users(&server, 1)).contains("200"));
    let before = open_descriptors();
    let flood: Vec<TcpStream> = (0..FLOOD)
        .map(|_| stall(&server, "/0/private/ListPrimeApiUsers", "100", 0))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    if let (Some(before), Some(during)) = (before, open_descriptors()) {
        // Our FLOOD client sockets, plus at most CAP accepted by the server (and a little
        // slack for the runtime): not one server socket per stalled client.
        assert!(
            during <= before + FLOOD + CAP + 8,
            "{during} descriptors open, {before} before a flood of {FLOOD} (cap {CAP})"
        );
    } else {
        println!("skipped the descriptor count: /proc/self/fd is not readable here");
    }
    // Stalled connections time out in turn, so a real call gets through while the flood is
    // still connected: the wait is bounded by FLOOD / CAP body timeouts.
    let started = Instant::now();
    let response = list_users(&server, 2);
    assert!(status_line(&response).contains("200"), "{response}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "served after {:?}",
        started.elapsed()
    );
    drop(flood);
    // And at once when the flood is gone.
    std::thread::sleep(Duration::from_millis(600));
    let started = Instant::now();
    assert!(status_line(&list_users(&server, 3)).contains("200"));
    assert!(started.elapsed() < Duration::from_secs(2));
}
