//! The example transport against a hand-written HTTP/1.1 exchange, interleaved, for a ratio
//! that holds up on a loaded machine (see BENCHMARKS.md): each round runs a short batch of
//! `example/client` calls, then of `example/raw_tcp_core` (the same exchange by hand, the
//! core's work inline: build the bytes, parse the typed result), so load hits both alike.
//! Quoted per side: the median and the fastest batch.
//!
//! ```text
//! cargo run --profile bench -p prime-benches --example transport_profile -- 300 [BATCH]
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use prime_benches::{mock_with_batch, raw_tcp};
use prime_core::endpoints::BatchList;
use prime_core::{ClockNonce, NonceSource as _, RequestBuilder, Settings, parse_response};

#[path = "../../examples/tcp_transport.rs"]
mod tcp_transport;

/// Calls per batch unless told: a few milliseconds, short enough that load changes little
/// within one.
const BATCH: u32 = 20;

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(300);
    let batch: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(BATCH);
    let (server, endpoint, credentials) = mock_with_batch();
    let url = server.url();
    let address = server.addr();
    let builder = RequestBuilder::new()
        .with_base_url(&url)
        .expect("valid URL");
    let nonces = Arc::new(ClockNonce::new());
    let settings = Settings::default()
        .base_url(&url)
        .nonce_source(nonces.clone());
    let client =
        tcp_transport::TcpClient::new(credentials.clone(), &settings).expect("valid settings");
    let mut request = Vec::with_capacity(1024);
    let mut received = Vec::with_capacity(8192);
    let mut client_times = Vec::new();
    let mut raw_times = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..batch {
            // The client takes its request by value; cloning this empty filter allocates nothing.
            black_box(client.send(endpoint.clone()).expect("the call succeeds"));
        }
        client_times.push(started.elapsed().as_nanos() as f64 / f64::from(batch));
        let started = Instant::now();
        for _ in 0..batch {
            builder
                .build_http1(&endpoint, &credentials, nonces.next_nonce(), &mut request)
                .expect("valid request");
            let (status, headers, body_start) = raw_tcp(address, &request, &mut received);
            black_box(
                parse_response::<BatchList>(status, &headers, &received[body_start..])
                    .expect("a batch list"),
            );
        }
        raw_times.push(started.elapsed().as_nanos() as f64 / f64::from(batch));
    }
    for times in [&mut client_times, &mut raw_times] {
        times.sort_by(f64::total_cmp);
    }
    let median = |times: &[f64]| times[times.len() / 2];
    let (client_median, raw_median) = (median(&client_times), median(&raw_times));
    println!(
        "example/client       median {:8.1} µs, fastest {:8.1} µs",
        client_median / 1e3,
        client_times[0] / 1e3
    );
    println!(
        "example/raw_tcp_core median {:8.1} µs, fastest {:8.1} µs",
        raw_median / 1e3,
        raw_times[0] / 1e3
    );
    println!(
        "client / (raw TCP + core work): median {:.3}, fastest {:.3}",
        client_median / raw_median,
        client_times[0] / raw_times[0]
    );
}
