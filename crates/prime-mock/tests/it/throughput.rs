//! Verified requests per second over loopback keep-alive connections: every request is signed,
//! and the simulator verifies the signature, checks the nonce, parses the body and executes
//! `ListPrimeSettlementBatches`. Bounded in count and time. Run with
//! `cargo test -p prime-mock --release --test throughput -- --ignored --nocapture`.

use crate::http_client;

use std::time::{Duration, Instant};

use prime_core::endpoints::{ListSettlementBatches, Role};
use prime_core::{Credentials, RequestBuilder};
use prime_mock::MockServer;

use http_client::HttpClient;

/// Each connection stops after this many requests or this long, whichever comes first.
const MAX_REQUESTS: u64 = 200_000;
const MAX_TIME: Duration = Duration::from_secs(3);

fn viewer_key(server: &MockServer) -> Credentials {
    http_client::account_key_beside_a_user(server, "Load", Role::Viewer)
}

/// Sends verified requests on one connection; returns how many succeeded.
fn load(server: &MockServer, credentials: &Credentials) -> u64 {
    let builder = RequestBuilder::new().with_base_url(&server.url()).unwrap();
    let mut client = HttpClient::new(server.addr());
    let endpoint = ListSettlementBatches::new();
    let started = Instant::now();
    let mut done = 0;
    while done < MAX_REQUESTS && started.elapsed() < MAX_TIME {
        let request = builder.build(&endpoint, credentials, done + 1).unwrap();
        let response = client.send(&request).response();
        assert_eq!(response.first_error(), None);
        done += 1;
    }
    assert_eq!(client.connections_opened, 1, "keep-alive held");
    done
}

fn measure(connections: usize) -> f64 {
    let server = MockServer::builder().seed_trades(false).start().unwrap();
    // One key per connection, so each connection's nonces are in order.
    let keys: Vec<Credentials> = (0..connections).map(|_| viewer_key(&server)).collect();
    let before = server.executions("ListPrimeSettlementBatches");
    let started = Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = keys
            .iter()
            .map(|key| scope.spawn(|| load(&server, key)))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(
        server.executions("ListPrimeSettlementBatches") - before,
        total
    );
    total as f64 / elapsed
}

#[test]
#[ignore = "a load measurement: run it in release with --ignored --nocapture"]
fn verified_requests_per_second_on_loopback() {
    for connections in [1, 2, 4] {
        let rate = measure(connections);
        println!(
            "prime-mock: {connections} keep-alive connection(s): {rate:.0} verified requests/s"
        );
        assert!(rate > 100.0);
    }
}
