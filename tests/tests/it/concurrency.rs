//! One client shared by 16 threads (blocking) or 16 tasks (async), 200 calls each, against
//! prime-mock, which refuses any nonce not above the key's last accepted one. With the default
//! ordered sends there must be no nonce error at all: every call is signed exactly once (a
//! nonce error would show up as a second, re-signed attempt), every call is executed once.
//!
//! With `concurrent_sends(true)` and a nonce window on the key, the same load also succeeds.

use std::time::{Duration, Instant};

use prime_core::{NonceSource, RetryPolicy};
use prime_mock::MockServer;
use prime_tests::RecordedNonces;

const WORKERS: usize = 16;
const CALLS_EACH: usize = 200;
/// Generous for 3 200 loopback round trips on a loaded 2-core machine; measured far lower.
const TIME_LIMIT: Duration = Duration::from_secs(120);

fn assert_each_call_signed_once(nonces: &RecordedNonces, server: &MockServer, calls: usize) {
    let issued = nonces.issued();
    assert_eq!(
        issued.len(),
        calls,
        "some call was re-signed: a nonce error happened"
    );
    assert_eq!(server.executions("ListPrimeApiUsers"), calls as u64);
    assert!(
        issued.windows(2).all(|w| w[0] < w[1]),
        "nonces not strictly increasing"
    );
}

#[test]
fn blocking_16_threads_share_one_client_without_nonce_errors() {
    let server = MockServer::builder().seed(16).start().unwrap();
    let nonces = RecordedNonces::new();
    let client = prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .nonce_source(nonces.clone())
        .retry_policy(RetryPolicy::never())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let started = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                (0..CALLS_EACH)
                    .filter(|_| client.list_api_users().is_err())
                    .count()
            })
        })
        .collect();
    let failures: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let elapsed = started.elapsed();
    eprintln!(
        "blocking: {} calls in {elapsed:?} ({:.0} calls/s)",
        WORKERS * CALLS_EACH,
        (WORKERS * CALLS_EACH) as f64 / elapsed.as_secs_f64()
    );

    assert_eq!(failures, 0);
    assert!(elapsed < TIME_LIMIT, "took {elapsed:?}");
    assert_each_call_signed_once(&nonces, &server, WORKERS * CALLS_EACH);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_16_tasks_share_one_client_without_nonce_errors() {
    let server = MockServer::builder().seed(17).start().unwrap();
    let nonces = RecordedNonces::new();
    let client = prime_async::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .nonce_source(nonces.clone())
        .retry_policy(RetryPolicy::never())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let started = Instant::now();
    let tasks: Vec<_> = (0..WORKERS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut failures = 0;
                for _ in 0..CALLS_EACH {
                    failures += usize::from(client.list_api_users().await.is_err());
                }
                failures
            })
        })
        .collect();
    let all = async {
        let mut failures = 0;
        for task in tasks {
            failures += task.await.unwrap();
        }
        failures
    };
    let failures = tokio::time::timeout(TIME_LIMIT, all)
        .await
        .expect("bounded in time");
    let elapsed = started.elapsed();
    eprintln!(
        "async: {} calls in {elapsed:?} ({:.0} calls/s)",
        WORKERS * CALLS_EACH,
        (WORKERS * CALLS_EACH) as f64 / elapsed.as_secs_f64()
    );

    assert_eq!(failures, 0);
    assert_each_call_signed_once(&nonces, &server, WORKERS * CALLS_EACH);
}

/// A window of ten seconds (in nanosecond nonces) covers any reordering on loopback.
const WINDOW_NS: u64 = 10_000_000_000;

#[test]
fn blocking_concurrent_sends_with_a_nonce_window() {
    let server = MockServer::builder().seed(18).start().unwrap();
    assert!(server.set_nonce_window(server.account_api_key(), WINDOW_NS));
    let nonces = RecordedNonces::new();
    let client = prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .nonce_source(nonces.clone())
        .retry_policy(RetryPolicy::never())
        .concurrent_sends(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let calls = 50;
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                (0..calls)
                    .filter(|_| client.list_api_users().is_err())
                    .count()
            })
        })
        .collect();
    let failures: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(failures, 0);
    assert_each_call_signed_once(&nonces, &server, WORKERS * calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_concurrent_sends_with_a_nonce_window() {
    let server = MockServer::builder().seed(19).start().unwrap();
    assert!(server.set_nonce_window(server.account_api_key(), WINDOW_NS));
    let nonces = RecordedNonces::new();
    let client = prime_async::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .nonce_source(nonces.clone())
        .retry_policy(RetryPolicy::never())
        .concurrent_sends(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let calls = 50;
    let tasks: Vec<_> = (0..WORKERS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut failures = 0;
                for _ in 0..calls {
                    failures += usize::from(client.list_api_users().await.is_err());
                }
                failures
            })
        })
        .collect();
    let mut failures = 0;
    for task in tasks {
        failures += tokio::time::timeout(TIME_LIMIT, task)
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(failures, 0);
    assert_each_call_signed_once(&nonces, &server, WORKERS * calls);
}

// `RecordedNonces` must itself be strictly increasing, or the tests above prove nothing.
#[test]
fn recorded_nonces_strictly_increase() {
    let nonces = RecordedNonces::new();
    let drawn: Vec<u64> = (0..1000).map(|_| nonces.next_nonce()).collect();
    assert!(drawn.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(nonces.issued(), drawn);
}
