//! Heap allocations on the signing hot path, counted with dhat's global allocator.
//!
//! The signature computation itself (SHA-256, HMAC-SHA512 from the prepared key, base64 into
//! a stack buffer) must not touch the heap; building the whole request allocates only what an
//! `http::Request` needs.

use prime_core::endpoints::CreateApiUserKey;
use prime_core::{Credentials, RequestBuilder};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const SECRET: &str = prime_core::example::SECRET;

fn blocks_allocated_by(f: impl FnOnce()) -> u64 {
    let before = dhat::HeapStats::get().total_blocks;
    f();
    dhat::HeapStats::get().total_blocks - before
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
    // headers needs, even for the first request of a key. Three would
    // need a request type other than `http::Request<Vec<u8>>` (see BENCHMARKS.md).
    assert!(request <= 4, "a signed request took {request} allocations");
    eprintln!("allocations: sign {signing}, verify {verifying}, whole request {request}");
}
