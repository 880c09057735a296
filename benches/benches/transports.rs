//! Transport overhead: each client against the simulator on loopback, next to the raw HTTP
//! client it is built on sending the same request bytes to the same server over the same
//! kind of kept-alive connection. Quote `client / raw` per transport (see BENCHMARKS.md).
//!
//! - `blocking/client`: `prime_blocking::Client::send(&ListSettlementBatches)`: take the send
//!   turn, draw a nonce, sign, send, read the capped body, parse the typed result.
//! - `blocking/raw_ureq`: a default `ureq::Agent` sends a request signed before the timed loop
//!   and reads the body into a `Vec`; nothing is parsed.
//! - `async/client` and `async/raw_hyper`: the same with `prime_async::Client` and a default
//!   `hyper_util` legacy client, on one current-thread tokio runtime.
//! - `*/client_host_order`: the same client with the host send order on
//!   (`ClientBuilder::host_send_order`, in a temporary directory): per call it also takes the
//!   key's OS file lock, reads the high-water mark, writes the new nonce in place, about once
//!   a second syncs the file to disk, and unlocks. `client_host_order / raw_*_core` is the
//!   ratio quoted for it.
//! - `example/client` and `example/raw_tcp`: the example transport (`examples/tcp_transport.rs`:
//!   the call driver's HTTP/1.1 bytes over `std::net::TcpStream`, a connection per call) and a
//!   minimal hand-written HTTP/1.1 exchange doing the same: connect, write the request bytes
//!   (signed before the timed loop), read the head (`httparse`) and the body by its
//!   `Content-Length`.
//! - `*/raw_*_core`: the raw client doing the core's work inline: each request is built and
//!   signed in the timed loop and its body parsed with `parse_response`. `client / raw_*_core`
//!   is what the transport shell itself adds (send order, timeouts, delivery probe, body cap,
//!   retry bookkeeping); `raw_*_core / raw_*` is the protocol work (signing, typed parsing).
//!
//! Fairness: the simulator refuses replayed nonces, and a refusal skips execution, so every
//! raw request is a fresh one: a batch is signed with increasing nonces outside the timed loop
//! (from the nonce source the client also uses) and the simulator's execution counter is
//! checked after every batch, so both sides make the server do the same work: verify the
//! signature, check the nonce, parse the body and answer with the same batch list. What the
//! ratio shows is then exactly the client's own work per call: signing, the send-order lock,
//! the delivery probe, the body cap, parsing and the retry bookkeeping.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use prime_benches::{mock_with_batch, presigned, raw_tcp};
use prime_core::endpoints::{BatchList, ListSettlementBatches};
use prime_core::transport::SendOrder as _;
use prime_core::{ClockNonce, Endpoint, NonceSource as _, RequestBuilder, parse_response};
use prime_host_order::HostSendOrder;

// The example transport, measured as its users would run it.
#[path = "../../examples/tcp_transport.rs"]
mod tcp_transport;

fn transports(c: &mut Criterion) {
    let (server, endpoint, credentials) = mock_with_batch();
    let url = server.url();
    let builder = RequestBuilder::new()
        .with_base_url(&url)
        .expect("the simulator's URL is valid");
    // One nonce source for every sender of this key, so all their nonces increase.
    let nonces = Arc::new(ClockNonce::new());
    let executions = || server.executions(ListSettlementBatches::NAME);
    // Checks outside the timed loop that every raw request of a batch was executed, not
    // refused (a refusal would make the baseline cheaper than the client's calls).
    let all_executed = |before: u64, count: u64| {
        assert_eq!(executions() - before, count, "every request was executed");
    };

    // The host send order's state, in a folder of this run.
    let order_dir =
        std::env::temp_dir().join(format!("prime-bench-send-order-{}", std::process::id()));
    let host_order = Arc::new(HostSendOrder::in_dir(&order_dir));

    let mut group = c.benchmark_group("blocking");
    let client = prime_blocking::Client::builder(credentials.clone())
        .base_url(&url)
        .nonce_source(nonces.clone())
        .build()
        .expect("valid client settings");
    group.bench_function("client", |b| {
        b.iter(|| {
            client
                .send(black_box(endpoint.clone()))
                .expect("the call succeeds")
        });
    });
    let ordered = prime_blocking::Client::builder(credentials.clone())
        .base_url(&url)
        .nonce_source(nonces.clone())
        .send_order(host_order.clone())
        .build()
        .expect("valid client settings");
    group.bench_function("client_host_order", |b| {
        b.iter(|| {
            ordered
                .send(black_box(endpoint.clone()))
                .expect("the call succeeds")
        });
    });
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    group.bench_function("raw_ureq", |b| {
        b.iter_custom(|iters| {
            let requests = presigned(&builder, &endpoint, &credentials, &*nonces, iters);
            let before = executions();
            let started = Instant::now();
            for request in requests {
                let response = agent.run(request).expect("the simulator answers");
                black_box(response.into_body().read_to_vec().expect("a body"));
            }
            let elapsed = started.elapsed();
            all_executed(before, iters);
            elapsed
        });
    });
    group.bench_function("raw_ureq_core", |b| {
        b.iter(|| {
            let request = builder
                .build(&endpoint, &credentials, nonces.next_nonce())
                .expect("valid request");
            let (head, mut body) = agent
                .run(request)
                .expect("the simulator answers")
                .into_parts();
            let body = body.read_to_vec().expect("a body");
            parse_response::<BatchList>(head.status, &head.headers, &body).expect("a batch list")
        });
    });
    group.finish();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut group = c.benchmark_group("async");
    let client = prime_async::Client::builder(credentials.clone())
        .base_url(&url)
        .nonce_source(nonces.clone())
        .build()
        .expect("valid client settings");
    group.bench_function("client", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(
                        client
                            .send(endpoint.clone())
                            .await
                            .expect("the call succeeds"),
                    );
                }
                started.elapsed()
            })
        });
    });
    let ordered = prime_async::Client::builder(credentials.clone())
        .base_url(&url)
        .nonce_source(nonces.clone())
        .send_order(host_order.clone())
        .build()
        .expect("valid client settings");
    group.bench_function("client_host_order", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(
                        ordered
                            .send(endpoint.clone())
                            .await
                            .expect("the call succeeds"),
                    );
                }
                started.elapsed()
            })
        });
    });
    // The socket options prime-async sets: no Nagle delay on small request writes.
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let hyper_client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
    group.bench_function("raw_hyper", |b| {
        b.iter_custom(|iters| {
            let requests = presigned(&builder, &endpoint, &credentials, &*nonces, iters);
            let before = executions();
            let elapsed = runtime.block_on(async {
                let started = Instant::now();
                for request in requests {
                    let request = request.map(|body| Full::new(Bytes::from(body)));
                    let response = hyper_client
                        .request(request)
                        .await
                        .expect("the simulator answers");
                    let body = response.into_body().collect().await.expect("a body");
                    black_box(body.to_bytes());
                }
                started.elapsed()
            });
            all_executed(before, iters);
            elapsed
        });
    });
    group.bench_function("raw_hyper_core", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    let request = builder
                        .build(&endpoint, &credentials, nonces.next_nonce())
                        .expect("valid request")
                        .map(|body| Full::new(Bytes::from(body)));
                    let response = hyper_client
                        .request(request)
                        .await
                        .expect("the simulator answers");
                    let (head, body) = response.into_parts();
                    let body = body.collect().await.expect("a body").to_bytes();
                    black_box(
                        parse_response::<BatchList>(head.status, &head.headers, &body)
                            .expect("a batch list"),
                    );
                }
                started.elapsed()
            })
        });
    });
    group.finish();

    // The host send order alone, per call: take the turn (OS lock, read the mark), record a
    // nonce (write it; about once a second also sync), hand the turn on.
    let mut group = c.benchmark_group("host_order");
    let key = credentials.api_key().clone();
    group.bench_function("turn", |b| {
        b.iter(|| {
            let mut turn = host_order.take_turn(&key).expect("a turn");
            let next = turn.floor().max(nonces.next_nonce()) + 1;
            turn.record(black_box(next)).expect("recorded");
        });
    });
    group.finish();
    let _ = std::fs::remove_dir_all(order_dir);
}

fn example_transport(c: &mut Criterion) {
    let (server, endpoint, credentials) = mock_with_batch();
    let url = server.url();
    let address = server.addr();
    let builder = RequestBuilder::new()
        .with_base_url(&url)
        .expect("the simulator's URL is valid");
    let nonces = Arc::new(ClockNonce::new());
    let executions = || server.executions(ListSettlementBatches::NAME);

    let mut group = c.benchmark_group("example");
    let settings = prime_core::Settings::default()
        .base_url(&url)
        .nonce_source(nonces.clone());
    let client = tcp_transport::TcpClient::new(credentials.clone(), &settings)
        .expect("valid client settings");
    group.bench_function("client", |b| {
        b.iter(|| {
            client
                .send(black_box(endpoint.clone()))
                .expect("the call succeeds")
        });
    });
    let mut received = Vec::with_capacity(8192);
    group.bench_function("raw_tcp", |b| {
        b.iter_custom(|iters| {
            let requests: Vec<Vec<u8>> = (0..iters)
                .map(|_| {
                    let mut bytes = Vec::new();
                    builder
                        .build_http1(&endpoint, &credentials, nonces.next_nonce(), &mut bytes)
                        .expect("valid request");
                    bytes
                })
                .collect();
            let before = executions();
            let started = Instant::now();
            for request in &requests {
                black_box(raw_tcp(address, request, &mut received));
            }
            let elapsed = started.elapsed();
            assert_eq!(executions() - before, iters, "every request was executed");
            elapsed
        });
    });
    let mut request = Vec::with_capacity(1024);
    group.bench_function("raw_tcp_core", |b| {
        b.iter(|| {
            builder
                .build_http1(&endpoint, &credentials, nonces.next_nonce(), &mut request)
                .expect("valid request");
            let (status, headers, body_start) = raw_tcp(address, &request, &mut received);
            parse_response::<BatchList>(status, &headers, &received[body_start..])
                .expect("a batch list")
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = prime_benches::round_trip_config();
    targets = transports, example_transport
}
criterion_main!(benches);
