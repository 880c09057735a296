//! The simulator's throughput: verified requests per second on loopback.
//!
//! Every request is a fresh, correctly signed `ListPrimeSettlementBatches` call (signed before
//! the timed loop), so the simulator verifies the signature, checks and advances the key's
//! nonce, parses the body and answers with the one batch it holds. `mock/verified/N` sends
//! them over `N` kept-alive connections at once, one `Trader` key and one thread per
//! connection (a key's nonces must arrive in order), with a default `ureq::Agent` each.
//! Criterion reports the time per request and, from `Throughput::Elements`, requests per
//! second. The load generator shares the machine's cores with the simulator.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use prime_benches::{mock_with_batch, presigned, trader_credentials};
use prime_core::endpoints::ListSettlementBatches;
use prime_core::{ClockNonce, Credentials, Endpoint, RequestBuilder};

/// One load-generating connection: its own key, nonces and kept-alive connection.
struct Connection {
    credentials: Credentials,
    nonces: ClockNonce,
    agent: ureq::Agent,
}

impl Connection {
    /// Signs `count` requests, waits for the start, then sends them one after another.
    fn send(&self, builder: &RequestBuilder, count: u64, start: &Barrier) {
        let endpoint = ListSettlementBatches::new();
        let requests = presigned(builder, &endpoint, &self.credentials, &self.nonces, count);
        start.wait();
        for request in requests {
            let response = self.agent.run(request).expect("the simulator answers");
            black_box(response.into_body().read_to_vec().expect("a body"));
        }
    }
}

fn mock(c: &mut Criterion) {
    let (server, _endpoint, first_key) = mock_with_batch();
    let builder = RequestBuilder::new()
        .with_base_url(&server.url())
        .expect("the simulator's URL is valid");
    let connection = |credentials| Connection {
        credentials,
        nonces: ClockNonce::new(),
        agent: ureq::Agent::new_with_defaults(),
    };
    let mut connections = vec![connection(first_key)];
    let mut group = c.benchmark_group("mock");
    group.throughput(Throughput::Elements(1));
    for count in [1, 2, 4] {
        while connections.len() < count {
            connections.push(connection(trader_credentials(&server)));
        }
        let connections = &connections[..count];
        let builder = &builder;
        group.bench_function(BenchmarkId::new("verified", count), |b| {
            b.iter_custom(|iters| {
                let before = server.executions(ListSettlementBatches::NAME);
                let start = Barrier::new(count + 1);
                let elapsed = std::thread::scope(|scope| {
                    let senders: Vec<_> = connections
                        .iter()
                        .enumerate()
                        .map(|(i, connection)| {
                            // Share `iters` out; the first connections take the remainder.
                            let share =
                                iters / count as u64 + u64::from((i as u64) < iters % count as u64);
                            let start = &start;
                            scope.spawn(move || connection.send(builder, share, start))
                        })
                        .collect();
                    start.wait();
                    let started = Instant::now();
                    for sender in senders {
                        sender.join().expect("a sender thread");
                    }
                    started.elapsed()
                });
                // Refused requests are cheaper; only executed ones count.
                assert_eq!(
                    server.executions(ListSettlementBatches::NAME) - before,
                    iters,
                    "every request was executed"
                );
                elapsed
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = prime_benches::round_trip_config();
    targets = mock
}
criterion_main!(benches);
