//! Both clients with the host send order: separate clients (each with its own order, as
//! separate processes have) on one key with no nonce window never get a nonce refused, and the
//! async client waits for a held turn without blocking its runtime.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prime_blocking::HostSendOrder;
use prime_core::transport::SendOrder as _;
use prime_core::{ApiKey, ClockNonce, Credentials, NonceSource as _, Settings};
use prime_mock::MockServer;

// The example transport (`examples/tcp_transport.rs`), as a third client of the order.
use crate::fault_matrix::tcp_transport;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "prime-tests-host-order-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn credentials(server: &MockServer) -> Credentials {
    server.account_credentials()
}

#[test]
fn blocking_and_async_clients_sharing_the_order_never_collide() {
    const CALLS: usize = 40;
    let server = MockServer::start().expect("simulator");
    let dir = scratch("mixed");
    let url = server.url();

    let blocking: Vec<_> = (0..3)
        .map(|_| {
            let client = prime_blocking::Client::builder(credentials(&server))
                .base_url(&url)
                .send_order(Arc::new(HostSendOrder::in_dir(&dir)))
                .build()
                .expect("a client");
            std::thread::spawn(move || {
                (0..CALLS)
                    .map(|_| client.list_api_users().map(|_| ()))
                    .collect::<Result<Vec<()>, _>>()
            })
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let asynchronous: Result<Vec<()>, prime_core::Error> = runtime.block_on(async {
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let client = prime_async::Client::builder(credentials(&server))
                    .base_url(&url)
                    .send_order(Arc::new(HostSendOrder::in_dir(&dir)))
                    .build()
                    .expect("a client");
                tokio::spawn(async move {
                    for _ in 0..CALLS {
                        client.list_api_users().await?;
                    }
                    Ok::<(), prime_core::Error>(())
                })
            })
            .collect();
        let mut done = Vec::new();
        for task in tasks {
            done.push(task.await.expect("no panic")?);
        }
        Ok(done)
    });
    asynchronous.expect("every async call succeeds");
    for thread in blocking {
        thread
            .join()
            .expect("no panic")
            .expect("every blocking call succeeds");
    }
    assert_eq!(server.executions("ListPrimeApiUsers"), 6 * CALLS as u64);
    assert_eq!(
        server.last_rejection(),
        None,
        "no nonce was refused, not even once"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_async_client_waits_for_a_held_turn_without_blocking_its_runtime() {
    let server = MockServer::start().expect("simulator");
    let dir = scratch("held");
    // Another "process" holds the key's turn.
    let other = HostSendOrder::in_dir(&dir);
    let key = ApiKey::new(server.account_api_key()).expect("valid key");
    let held = other.take_turn(&key).expect("a turn");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let ticks = Arc::new(AtomicU64::new(0));
    let client = prime_async::Client::builder(credentials(&server))
        .base_url(&server.url())
        .send_order(Arc::new(HostSendOrder::in_dir(&dir)))
        .build()
        .expect("a client");
    let releaser = std::thread::spawn({
        let ticks = ticks.clone();
        move || {
            // Hand the turn on once the runtime has shown it still runs other tasks (bounded).
            for _ in 0..500 {
                if ticks.load(Ordering::Relaxed) >= 5 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(held);
        }
    });
    runtime.block_on(async {
        let ticker = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    ticks.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        });
        client
            .list_api_users()
            .await
            .expect("sent once the turn is free");
        ticker.abort();
    });
    releaser.join().expect("no panic");
    assert!(
        ticks.load(Ordering::Relaxed) >= 5,
        "the runtime kept running other tasks while the call waited for its turn"
    );
    assert_eq!(server.executions("ListPrimeApiUsers"), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_example_transport_signs_inside_the_hosts_turn() {
    let server = MockServer::start().expect("simulator");
    let dir = scratch("example");
    let order = Arc::new(HostSendOrder::in_dir(&dir));
    let key = ApiKey::new(server.account_api_key()).expect("valid key");
    // Another process on the host left the key's last nonce an hour ahead of this clock.
    let ahead = ClockNonce::new().next_nonce() + 3_600_000_000_000;
    order
        .take_turn(&key)
        .expect("a turn")
        .record(ahead)
        .expect("recorded");

    let settings = Settings::default()
        .base_url(&server.url())
        .send_order(order.clone());
    let client = tcp_transport::TcpClient::new(credentials(&server), &settings).expect("a client");
    client.list_api_users().expect("the call succeeds");
    // The nonce went above the other process's, and was recorded before it was sent.
    assert_eq!(order.take_turn(&key).expect("a turn").floor(), ahead + 1);
    assert_eq!(server.executions("ListPrimeApiUsers"), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_async_client_waits_for_the_host_turn_no_longer_than_its_deadline() {
    let server = MockServer::start().expect("simulator");
    let dir = scratch("deadline");
    // Another "process" holds the key's turn until told, or for 5 s at most (then a client
    // that ignored its deadline would get the turn and succeed, failing this test).
    let key = ApiKey::new(server.account_api_key()).expect("valid key");
    let (taken, is_taken) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn({
        let (dir, key) = (dir.clone(), key.clone());
        move || {
            let other = HostSendOrder::in_dir(&dir);
            let held = other.take_turn(&key).expect("a turn");
            taken.send(()).expect("the test waits");
            let _ = released.recv_timeout(Duration::from_secs(5));
            drop(held);
        }
    });
    is_taken.recv().expect("the turn was taken");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let client = prime_async::Client::builder(credentials(&server))
        .base_url(&server.url())
        .send_order(Arc::new(HostSendOrder::in_dir(&dir)))
        .deadline(Duration::from_millis(200))
        .build()
        .expect("a client");
    let error = runtime
        .block_on(client.list_api_users())
        .expect_err("the turn never came");
    let prime_core::Error::Transport(failure) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(
        failure.kind(),
        prime_core::TransportErrorKind::Deadline,
        "{error}"
    );
    assert!(!error.is_outcome_unknown(), "nothing was signed: {error}");
    assert_eq!(server.executions("ListPrimeApiUsers"), 0);
    release.send(()).expect("the holder waits");
    holder.join().expect("no panic");
    // The turn the abandoned wait takes later is handed straight on.
    let next = HostSendOrder::in_dir(&dir);
    drop(next.take_turn(&key).expect("the turn is free again"));
    let _ = std::fs::remove_dir_all(dir);
}
