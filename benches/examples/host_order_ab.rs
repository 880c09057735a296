//! Interleaved A/B of the host send order's cost per call, robust to a machine whose load
//! drifts: rounds of `blocking/client`, `blocking/client_host_order` and the raw ureq client
//! doing the core's work (as in the transports bench), and a client with an order that does no
//! IO, each round timing `CALLS` calls of each, one after the other on the same simulator.
//! Prints the median per-call time of each and the medians of the per-round ratios; the no-IO
//! order separates what the driver's side of a turn costs from the file lock's system calls.
//!
//! `cargo run --profile bench -p prime-benches --example host_order_ab -- [ROUNDS]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use prime_benches::mock_with_batch;
use prime_core::endpoints::BatchList;
use prime_core::{ClockNonce, NonceSource as _, RequestBuilder, parse_response};
use prime_host_order::HostSendOrder;

const CALLS: u32 = 200;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let (server, endpoint, credentials) = mock_with_batch();
    let url = server.url();
    let nonces = Arc::new(ClockNonce::new());
    let order_dir =
        std::env::temp_dir().join(format!("prime-bench-ab-send-order-{}", std::process::id()));
    let client = prime_blocking::Client::builder(credentials.clone())
        .base_url(&url)
        .nonce_source(nonces.clone())
        .build()
        .expect("valid client settings");
    let ordered = prime_blocking::Client::builder(credentials.clone())
        .base_url(&url)
        .nonce_source(nonces.clone())
        .send_order(Arc::new(HostSendOrder::in_dir(&order_dir)))
        .build()
        .expect("valid client settings");
    let in_memory = prime_blocking::Client::builder(credentials.clone())
        .base_url(&url)
        .nonce_source(nonces.clone())
        .send_order(Arc::new(NoIo::default()))
        .build()
        .expect("valid client settings");
    let builder = RequestBuilder::new()
        .with_base_url(&url)
        .expect("the simulator's URL is valid");
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let raw_core = || {
        let request = builder
            .build(&endpoint, &credentials, nonces.next_nonce())
            .expect("valid request");
        let (head, mut body) = agent
            .run(request)
            .expect("the simulator answers")
            .into_parts();
        let body = body.read_to_vec().expect("a body");
        parse_response::<BatchList>(head.status, &head.headers, &body).expect("a batch list");
    };
    let time = |f: &dyn Fn()| {
        let started = Instant::now();
        for _ in 0..CALLS {
            f();
        }
        started.elapsed() / CALLS
    };
    let per_call = |d: Duration| d.as_secs_f64() * 1e6;
    // Warm every path once.
    time(&|| drop(client.send(endpoint.clone()).expect("ok")));
    time(&|| drop(ordered.send(endpoint.clone()).expect("ok")));
    time(&raw_core);

    let (mut plain, mut with_order, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    let mut no_io = Vec::new();
    let (mut order_over_raw, mut order_over_plain, mut plain_over_raw) =
        (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let p = per_call(time(&|| drop(client.send(endpoint.clone()).expect("ok"))));
        let o = per_call(time(&|| drop(ordered.send(endpoint.clone()).expect("ok"))));
        let r = per_call(time(&raw_core));
        let m = per_call(time(&|| {
            drop(in_memory.send(endpoint.clone()).expect("ok"))
        }));
        no_io.push(m / p);
        plain.push(p);
        with_order.push(o);
        raw.push(r);
        order_over_raw.push(o / r);
        order_over_plain.push(o / p);
        plain_over_raw.push(p / r);
    }
    println!("rounds {rounds} x {CALLS} calls each");
    println!("blocking/client              {:.2} µs", median(&mut plain));
    println!(
        "blocking/client_host_order   {:.2} µs",
        median(&mut with_order)
    );
    println!("blocking/raw_ureq_core       {:.2} µs", median(&mut raw));
    println!(
        "client / raw+core            {:.3}",
        median(&mut plain_over_raw)
    );
    println!(
        "client_host_order / raw+core {:.3}",
        median(&mut order_over_raw)
    );
    println!(
        "client_host_order / client   {:.3}",
        median(&mut order_over_plain)
    );
    println!("client_no_io_order / client  {:.3}", median(&mut no_io));
    let _ = std::fs::remove_dir_all(order_dir);
}

/// An order that does no IO: what the driver's and the client's side of a turn cost.
#[derive(Debug, Default)]
struct NoIo(Arc<std::sync::atomic::AtomicU64>);

struct NoIoTurn(Arc<std::sync::atomic::AtomicU64>);

impl prime_core::transport::SendOrder for NoIo {
    fn take_turn(
        &self,
        _key: &prime_core::ApiKey,
    ) -> Result<Box<dyn prime_core::transport::SendTurn>, prime_core::transport::SendOrderError>
    {
        Ok(Box::new(NoIoTurn(self.0.clone())))
    }
}

impl prime_core::transport::SendTurn for NoIoTurn {
    fn floor(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
    fn record(&mut self, nonce: u64) -> Result<(), prime_core::transport::SendOrderError> {
        self.0.store(nonce, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}
