//! Heap allocations on the signing hot path, counted with dhat's global allocator.
//!
//! The signature computation itself (SHA-256, HMAC-SHA512 from the prepared key, base64 into
//! a stack buffer) must not touch the heap; building the whole request allocates only what an
//! `http::Request` needs; the HTTP/1.1 bytes output allocates nothing once its buffer has
//! grown, whether built directly or through the call driver.

use std::sync::Arc;
use std::time::Instant;

use prime_core::endpoints::{CreateApiUserKey, ListApiUsers, UpdateApiUserKey};
use prime_core::transport::ClientCore;
use prime_core::{CountingNonce, Credentials, RequestBuilder, Settings};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const SECRET: &str = prime_core::example::SECRET;

fn blocks_allocated_by(f: impl FnOnce()) -> u64 {
    let before = dhat::HeapStats::get().total_blocks;
    f();
    dhat::HeapStats::get().total_blocks - before
}

/// The fewest blocks any of three runs of `f` allocated. dhat counts every thread, and the
/// test harness's own thread allocates now and then; an allocation `f` makes shows in every
/// run, a stray one of another thread not in all three.
fn fewest_blocks_allocated_by(mut f: impl FnMut()) -> u64 {
    (0..3)
        .map(|_| blocks_allocated_by(&mut f))
        .min()
        .unwrap_or(0)
}

// One test function: dhat allows one profiler per process at a time.
#[test]
fn signing_allocates_nothing_and_a_request_allocates_little() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let credentials = Credentials::new("KRA5L19LAW8Z", SECRET).expect("valid credentials");
    let key = credentials.signing_key();
    let body = br#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6"}"#;

    let signing = blocks_allocated_by(|| {
        let sign = key.sign("/0/private/CreatePrimeApiUserKey", b"1616492376594", body);
        std::hint::black_box(sign);
    });
    assert_eq!(signing, 0, "the signature computation must not allocate");

    let verifying = blocks_allocated_by(|| {
        let ok = key.verify(
            "/0/private/CreatePrimeApiUserKey",
            b"1616492376594",
            body,
            b"Odms2WiIx3jcXvDagtr5k9m0cRSYMCm/IUVaBgEt06WS88u15Nig4QHpAn4E8FC/0dfWxpaP5SNGkUCCmnO2kA==",
        );
        assert!(ok);
    });
    assert_eq!(verifying, 0, "verification must not allocate");

    let builder = RequestBuilder::new();
    let endpoint = CreateApiUserKey::new("2T0RXL9B8K5D6");
    let request = blocks_allocated_by(|| {
        let request = builder
            .build(&endpoint, &credentials, 1616492376594)
            .expect("valid request");
        std::hint::black_box(request);
    });
    // The body buffer, the header map (its entries and its index table: `http::HeaderMap`
    // allocates both on the first insert) and the API-Sign header value (a `HeaderValue` owns
    // its bytes; only `'static` ones are free): what an `http::Request<Vec<u8>>` with four
    // headers needs, even for the first request of a key. Fewer needs a request type other
    // than `http::Request<Vec<u8>>`: the bytes output below (see BENCHMARKS.md).
    assert!(request <= 4, "a signed request took {request} allocations");

    // The bytes output: the first request grows the buffer, every later one reuses it, for
    // endpoints of different body shapes and nonces of every length.
    let update = UpdateApiUserKey {
        user_id: "2T0RXL9B8K5D6".into(),
        key_id: "3RM9K4ZTC0C00".into(),
        whitelisted_ips: Some(vec!["192.168.1.1".into(), "10.0.0.0/8".into()]),
    };
    let mut buf = Vec::new();
    builder
        .build_http1(&update, &credentials, u64::MAX, &mut buf)
        .expect("valid request");
    let mut slice = [0u8; 1024];
    let bytes = fewest_blocks_allocated_by(|| {
        for nonce in (0..64).map(|n| 1u64 << n) {
            builder
                .build_http1(&endpoint, &credentials, nonce, &mut buf)
                .expect("valid request");
            builder
                .build_http1(&update, &credentials, nonce, &mut buf)
                .expect("valid request");
            builder
                .build_http1(&ListApiUsers::new(), &credentials, nonce, &mut buf)
                .expect("valid request");
            let len = builder
                .build_http1_into(&update, &credentials, nonce, &mut slice)
                .expect("fits");
            std::hint::black_box((&buf, len));
        }
    });
    assert_eq!(
        bytes, 0,
        "256 bytes requests into grown buffers took at least {bytes} allocations"
    );

    // Through the call driver: starting a call and signing its attempt as bytes.
    let settings = Settings::default().nonce_source(Arc::new(CountingNonce::starting_at(1)));
    let core = ClientCore::new(credentials.clone(), &settings).expect("valid settings");
    let now = Instant::now();
    let driven = fewest_blocks_allocated_by(|| {
        for _ in 0..64 {
            let mut call = core.start(&update, now).expect("valid call");
            call.request_bytes(&mut buf).expect("signed");
            std::hint::black_box(&buf);
        }
    });
    assert_eq!(
        driven, 0,
        "64 driven bytes requests took at least {driven} allocations"
    );
    eprintln!(
        "allocations: sign {signing}, verify {verifying}, whole request {request}, \
         256 bytes requests {bytes}, 64 driven bytes requests {driven}"
    );
}
