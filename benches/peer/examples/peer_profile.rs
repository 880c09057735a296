//! Runs one of the peer bench's measurements `N` times, for instruction counts under callgrind
//! (stable on a shared, noisy machine where wall-clock medians are not):
//!
//! ```text
//! cargo build --profile bench --example peer_profile
//! valgrind --tool=callgrind <target>/release/examples/peer_profile bytes 20000
//! ```
//!
//! Modes: `floor`, `signature`, `request`, `bytes`, `peer`. Run once with `N = 0` and
//! subtract to remove set-up.
//!
//! Mode `time ROUNDS`: wall-clock times that hold up on a loaded machine. Each round runs a
//! short batch (100 iterations, tens of microseconds) of each of the five in turn, so load
//! hits them alike; a batch that was not preempted is the fastest, so the quoted figure per
//! measurement is its fastest batch (and the 10th percentile, to show the spread).

use std::hint::black_box;

use prime_core::endpoints::CreateApiUserKey;
use prime_core::{Credentials, Endpoint, RequestBuilder, encode_body};
use prime_peer_bench::{Floor, KEY, NONCE, SECRET, USER_ID};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "bytes".to_owned());
    let count: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let credentials = Credentials::new(KEY, SECRET).expect("valid credentials");
    let endpoint = CreateApiUserKey::new(USER_ID);
    let builder = RequestBuilder::new();
    let body = encode_body(&endpoint, NONCE).expect("valid endpoint");
    let body_text = String::from_utf8(body.clone()).expect("UTF-8");
    let digits = NONCE.to_string();
    let key = credentials.signing_key();
    let mut floor = Floor::new(&body);
    let mut buf = Vec::new();
    match mode.as_str() {
        "floor" => (0..count).for_each(|_| {
            black_box(floor.run());
        }),
        "signature" => (0..count).for_each(|_| {
            black_box(key.sign(
                CreateApiUserKey::PATH,
                black_box(digits.as_bytes()),
                black_box(&body),
            ));
        }),
        "request" => (0..count).for_each(|_| {
            black_box(
                builder
                    .build(black_box(&endpoint), &credentials, black_box(NONCE))
                    .expect("valid request"),
            );
        }),
        "bytes" => (0..count).for_each(|_| {
            builder
                .build_http1(
                    black_box(&endpoint),
                    &credentials,
                    black_box(NONCE),
                    &mut buf,
                )
                .expect("valid request");
            black_box(&buf);
        }),
        "peer" => (0..count).for_each(|_| {
            black_box(kraken_async_rs::crypto::signatures::generate_signature(
                black_box(NONCE),
                black_box(SECRET),
                CreateApiUserKey::PATH,
                body_text.clone(),
            ));
        }),
        "time" => {
            let mut run = |which: usize| match which {
                0 => drop(black_box(floor.run())),
                1 => drop(black_box(key.sign(
                    CreateApiUserKey::PATH,
                    black_box(digits.as_bytes()),
                    black_box(&body),
                ))),
                2 => drop(black_box(
                    builder
                        .build(black_box(&endpoint), &credentials, black_box(NONCE))
                        .expect("valid request"),
                )),
                3 => {
                    builder
                        .build_http1(
                            black_box(&endpoint),
                            &credentials,
                            black_box(NONCE),
                            &mut buf,
                        )
                        .expect("valid request");
                    black_box(&buf);
                }
                _ => drop(black_box(
                    kraken_async_rs::crypto::signatures::generate_signature(
                        black_box(NONCE),
                        black_box(SECRET),
                        CreateApiUserKey::PATH,
                        body_text.clone(),
                    ),
                )),
            };
            const NAMES: [&str; 5] = ["floor", "signature", "request", "bytes", "peer"];
            const BATCH: u32 = 100;
            let mut times: [Vec<f64>; 5] = Default::default();
            for _ in 0..count {
                for (which, samples) in times.iter_mut().enumerate() {
                    let started = std::time::Instant::now();
                    (0..BATCH).for_each(|_| run(which));
                    samples.push(started.elapsed().as_nanos() as f64 / f64::from(BATCH));
                }
            }
            let mut fastest = [0.0; 5];
            for (which, samples) in times.iter_mut().enumerate() {
                samples.sort_by(f64::total_cmp);
                fastest[which] = samples[0];
                let decile = samples[samples.len() / 10];
                println!(
                    "{:<9} fastest {:7.1} ns, 10th percentile {:7.1} ns",
                    NAMES[which], samples[0], decile
                );
            }
            let [floor, signature, request, bytes, peer] = fastest;
            println!("signature / floor {:.3}", signature / floor);
            println!("request / floor   {:.3}", request / floor);
            println!("bytes / floor     {:.3}", bytes / floor);
            println!("peer / request    {:.3}", peer / request);
            println!("peer / bytes      {:.3}", peer / bytes);
            println!("bytes / request   {:.3}", bytes / request);
        }
        other => panic!("unknown mode {other}: floor, signature, request, bytes, peer or time"),
    }
}
