//! Signing side by side with a peer Kraken client, in one criterion run (BENCHMARKS.md):
//!
//! - `floor`: the four compressions the protocol cannot avoid (two SHA-256 blocks of
//!   `nonce ++ body`, the HMAC-SHA512 inner and outer blocks from the prepared key schedule),
//!   on blocks padded outside the loop; checked to produce the same tag.
//! - `signature`: `prime_core::SigningKey::sign` (given the body).
//! - `request`: `prime_core::RequestBuilder::build`: a whole signed `http::Request`.
//! - `bytes`: `prime_core::RequestBuilder::build_http1`: the same whole signed request as
//!   HTTP/1.1 bytes (request line, headers, body), into a buffer reused from call to call.
//! - `peer`: kraken-async-rs 0.16 `crypto::signatures::generate_signature` for the same body
//!   (it takes the body as an owned `String`, so the bench hands it a copy, as a caller that
//!   just serialized it would).

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, criterion_group, criterion_main};
use prime_core::endpoints::CreateApiUserKey;
use prime_core::{Credentials, Endpoint, RequestBuilder, encode_body};
use prime_peer_bench::{Floor, KEY, NONCE, SECRET, USER_ID};

fn peer(c: &mut Criterion) {
    let credentials = Credentials::new(KEY, SECRET).expect("valid credentials");
    let endpoint = CreateApiUserKey::new(USER_ID);
    let builder = RequestBuilder::new();
    let body = encode_body(&endpoint, NONCE).expect("valid endpoint");
    let body_text = String::from_utf8(body.clone()).expect("UTF-8");
    let digits = NONCE.to_string();
    let key = credentials.signing_key();
    let mut floor = Floor::new(&body);

    // All four compute the same signature.
    let ours = key.sign(CreateApiUserKey::PATH, digits.as_bytes(), &body);
    let tag: Vec<u8> = floor.run().iter().flat_map(|w| w.to_be_bytes()).collect();
    assert_eq!(STANDARD.encode(tag), ours.as_str());
    let request = builder
        .build(&endpoint, &credentials, NONCE)
        .expect("request");
    assert_eq!(request.headers()["API-Sign"], ours.as_str());
    let mut buf = Vec::new();
    builder
        .build_http1(&endpoint, &credentials, NONCE, &mut buf)
        .expect("request bytes");
    let signed_line = format!("\r\napi-sign: {}\r\n", ours.as_str());
    assert!(
        buf.windows(signed_line.len())
            .any(|w| w == signed_line.as_bytes())
    );
    let theirs = kraken_async_rs::crypto::signatures::generate_signature(
        NONCE,
        SECRET,
        CreateApiUserKey::PATH,
        body_text.clone(),
    );
    assert_eq!(theirs.signature, ours.as_str());

    let mut group = c.benchmark_group("peer");
    group.bench_function("floor", |b| b.iter(|| floor.run()));
    group.bench_function("signature", |b| {
        b.iter(|| {
            key.sign(
                CreateApiUserKey::PATH,
                black_box(digits.as_bytes()),
                black_box(&body),
            )
        })
    });
    group.bench_function("request", |b| {
        b.iter(|| {
            builder
                .build(black_box(&endpoint), &credentials, black_box(NONCE))
                .expect("valid request")
        })
    });
    group.bench_function("bytes", |b| {
        b.iter(|| {
            builder
                .build_http1(
                    black_box(&endpoint),
                    &credentials,
                    black_box(NONCE),
                    &mut buf,
                )
                .expect("valid request")
        })
    });
    group.bench_function("peer", |b| {
        b.iter(|| {
            kraken_async_rs::crypto::signatures::generate_signature(
                black_box(NONCE),
                black_box(SECRET),
                CreateApiUserKey::PATH,
                body_text.clone(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, peer);
criterion_main!(benches);
