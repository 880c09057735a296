//! The signing hot path, side by side with the floor the protocol sets and the way typical
//! clients sign. Compare the medians of one run as ratios (see BENCHMARKS.md):
//!
//! - `signing/sign`: a complete signed `CreatePrimeApiUserKey` request with prepared
//!   `Credentials` (body serialization, nonce digits, SHA-256, HMAC-SHA512, base64, headers).
//! - `signing/floor`: only the compressions the protocol cannot avoid for the same input: the
//!   SHA-256 blocks of `nonce ++ body` and the two SHA-512 blocks of the HMAC inner and outer
//!   message, with the HMAC key schedule prepared.
//! - `signing/naive`: what typical clients do on every call: decode the base64 secret, key the
//!   HMAC, format strings, then build the same request.
//! - `signing/bytes`: the same signed request as `sign`, written as HTTP/1.1 bytes into a
//!   buffer reused from call to call (`RequestBuilder::build_http1`).
//!
//! `signing_parts` splits `sign` so the overhead above the floor can be attributed:
//! `signature` is `SigningKey::sign` alone (SHA-256, HMAC-SHA512, base64, given the body) and
//! `body` is the JSON body alone; the rest of `sign` is assembling the `http::Request`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use prime_benches::{NONCE, SigningInputs};
use prime_core::endpoints::CreateApiUserKey;
use prime_core::{Credentials, Endpoint, encode_body};

fn signing(c: &mut Criterion) {
    let mut inputs = SigningInputs::new();
    let mut group = c.benchmark_group("signing");
    group.bench_function("sign", |b| b.iter(|| inputs.sign()));
    group.bench_function("floor", |b| b.iter(|| inputs.floor()));
    group.bench_function("naive", |b| b.iter(|| inputs.naive()));
    let mut buf = Vec::new();
    group.bench_function("bytes", |b| b.iter(|| inputs.bytes(&mut buf)));
    group.finish();
}

fn signing_parts(c: &mut Criterion) {
    let credentials =
        Credentials::new(prime_benches::KEY, prime_benches::SECRET).expect("valid credentials");
    let endpoint = CreateApiUserKey::new(prime_benches::USER_ID);
    let body = encode_body(&endpoint, NONCE).expect("valid endpoint");
    let digits = NONCE.to_string();
    let key = credentials.signing_key();
    let mut group = c.benchmark_group("signing_parts");
    group.bench_function("signature", |b| {
        b.iter(|| {
            key.sign(
                CreateApiUserKey::PATH,
                black_box(digits.as_bytes()),
                black_box(&body),
            )
        });
    });
    group.bench_function("body", |b| {
        b.iter(|| encode_body(black_box(&endpoint), black_box(NONCE)).expect("valid endpoint"));
    });
    group.finish();
}

criterion_group!(benches, signing, signing_parts);
criterion_main!(benches);
