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
use sha2::block_api::{compress256, compress512};

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

struct Floor {
    sha256_blocks: Vec<[u8; 64]>,
    ipad: [u64; 8],
    opad: [u64; 8],
    inner_block: [u8; 128],
    outer_block: [u8; 128],
}

impl Floor {
    fn new(body: &[u8]) -> Self {
        let message: Vec<u8> = [NONCE.to_string().as_bytes(), body].concat();
        let secret = STANDARD.decode(SECRET).expect("base64");
        let path = CreateApiUserKey::PATH.as_bytes();
        let mut inner_block: [u8; 128] = pad(&vec![0; path.len() + 32], 128, 128, 16)
            .try_into()
            .expect("one block");
        inner_block[..path.len()].copy_from_slice(path);
        Self {
            sha256_blocks: pad(&message, 0, 64, 8)
                .chunks_exact(64)
                .map(|c| c.try_into().expect("64 bytes"))
                .collect(),
            ipad: prepared_state(&secret, 0x36),
            opad: prepared_state(&secret, 0x5c),
            inner_block,
            outer_block: pad(&[0; 64], 128, 128, 16).try_into().expect("one block"),
        }
    }

    fn run(&mut self) -> [u64; 8] {
        let path_len = CreateApiUserKey::PATH.len();
        let mut s256 = SHA256_IV;
        compress256(&mut s256, black_box(&self.sha256_blocks));
        for (i, word) in s256.iter().enumerate() {
            self.inner_block[path_len + 4 * i..path_len + 4 * i + 4]
                .copy_from_slice(&word.to_be_bytes());
        }
        let mut inner = self.ipad;
        compress512(&mut inner, &[self.inner_block]);
        for (i, word) in inner.iter().enumerate() {
            self.outer_block[8 * i..8 * i + 8].copy_from_slice(&word.to_be_bytes());
        }
        let mut outer = self.opad;
        compress512(&mut outer, &[self.outer_block]);
        outer
    }
}

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
                .build_http1(black_box(&endpoint), &credentials, black_box(NONCE), &mut buf)
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
