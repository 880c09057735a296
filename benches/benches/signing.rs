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

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use prime_core::endpoints::CreateApiUserKey;
use prime_core::{Credentials, Endpoint, RequestBuilder, encode_body};
use sha2::block_api::{compress256, compress512};
use sha2::{Digest, Sha256, Sha512};

const KEY: &str = "KRA5L19LAW8Z";
const SECRET: &str =
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
const USER_ID: &str = "2T0RXL9B8K5D6";
const NONCE: u64 = 1_795_000_000_123_456_789;

const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const SHA512_IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// SHA padding of `message` into `block`-byte blocks with a `len_bytes`-byte big-endian bit
/// length, as the hash functions do it; done once, outside the measured loop.
fn pad(message: &[u8], prefix_len: usize, block: usize, len_bytes: usize) -> Vec<u8> {
    let mut padded = message.to_vec();
    padded.push(0x80);
    while !(padded.len() + len_bytes).is_multiple_of(block) {
        padded.push(0);
    }
    let bits = ((prefix_len + message.len()) as u128) * 8;
    padded.extend_from_slice(&bits.to_be_bytes()[16 - len_bytes..]);
    padded
}

/// The HMAC-SHA512 key schedule by hand: the state after the ipad or opad block.
fn prepared_state(secret: &[u8], pad_byte: u8) -> [u64; 8] {
    let mut block = [0u8; 128];
    block[..secret.len()].copy_from_slice(secret);
    for b in &mut block {
        *b ^= pad_byte;
    }
    let mut state = SHA512_IV;
    compress512(&mut state, &[block]);
    state
}

fn signing(c: &mut Criterion) {
    let credentials = Credentials::new(KEY, SECRET).expect("valid credentials");
    let builder = RequestBuilder::new();
    let endpoint = CreateApiUserKey::new(USER_ID);

    // Floor inputs, prepared once.
    let digits = NONCE.to_string();
    let body = encode_body(&endpoint, NONCE).expect("valid endpoint");
    let message: Vec<u8> = [digits.as_bytes(), &body].concat();
    let sha256_blocks: Vec<[u8; 64]> = pad(&message, 0, 64, 8)
        .chunks_exact(64)
        .map(|c| c.try_into().expect("64-byte chunk"))
        .collect();
    let secret = STANDARD.decode(SECRET).expect("base64");
    let ipad = prepared_state(&secret, 0x36);
    let opad = prepared_state(&secret, 0x5c);
    let path = CreateApiUserKey::PATH.as_bytes();
    let inner_len = path.len() + 32;
    let mut inner_block: [u8; 128] = pad(&vec![0; inner_len], 128, 128, 16)
        .try_into()
        .expect("one block: path + digest fit");
    inner_block[..path.len()].copy_from_slice(path);
    let mut outer_block: [u8; 128] = pad(&[0; 64], 128, 128, 16)
        .try_into()
        .expect("one block");

    // The floor must compute what signing computes.
    {
        let mut s256 = SHA256_IV;
        compress256(&mut s256, &sha256_blocks);
        let digest: Vec<u8> = s256.iter().flat_map(|w| w.to_be_bytes()).collect();
        assert_eq!(digest, Sha256::digest(&message).to_vec());
    }

    let mut group = c.benchmark_group("signing");
    group.bench_function("sign", |b| {
        b.iter(|| {
            builder
                .build(black_box(&endpoint), &credentials, black_box(NONCE))
                .expect("valid request")
        });
    });
    group.bench_function("floor", |b| {
        b.iter(|| {
            let mut s256 = SHA256_IV;
            compress256(&mut s256, black_box(&sha256_blocks));
            for (i, word) in s256.iter().enumerate() {
                inner_block[path.len() + 4 * i..path.len() + 4 * i + 4]
                    .copy_from_slice(&word.to_be_bytes());
            }
            let mut inner = ipad;
            compress512(&mut inner, &[inner_block]);
            for (i, word) in inner.iter().enumerate() {
                outer_block[8 * i..8 * i + 8].copy_from_slice(&word.to_be_bytes());
            }
            let mut outer = opad;
            compress512(&mut outer, &[outer_block]);
            black_box(outer)
        });
    });
    group.bench_function("naive", |b| {
        b.iter(|| {
            let secret = STANDARD.decode(black_box(SECRET)).expect("base64");
            let body = serde_json::json!({ "nonce": black_box(NONCE), "user_id": USER_ID }).to_string();
            let nonce = NONCE.to_string();
            let mut sha = Sha256::new();
            sha.update(nonce.as_bytes());
            sha.update(body.as_bytes());
            let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(&secret).expect("any length");
            mac.update(CreateApiUserKey::PATH.as_bytes());
            mac.update(&sha.finalize());
            let sign = STANDARD.encode(mac.finalize().into_bytes());
            http::Request::post(format!("https://api.kraken.com{}", CreateApiUserKey::PATH))
                .header("Content-Type", "application/json")
                .header("User-Agent", prime_core::DEFAULT_USER_AGENT)
                .header("API-Key", KEY)
                .header("API-Sign", sign)
                .body(body.into_bytes())
                .expect("valid request")
        });
    });
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);
