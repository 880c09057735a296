//! The HTTP/1.1 bytes output (`RequestBuilder::build_http1`, `build_http1_into`): the same
//! request as the `http::Request` path, byte for byte through a plain HTTP/1.1 writer, read
//! back by an independent parser (`httparse`) into the same method, path, headers and body;
//! into a reused `Vec`, or a fixed slice with a clear "too small" error.
//!
//! The property tests of every endpoint's request (`properties.rs`) run
//! [`assert_http1_matches`] on each generated request, so every endpoint with arbitrary
//! arguments and nonces is covered.

use std::io::Write as _;

use http::Request;
use prime_core::endpoints::{
    AssetKind, CreateApiUser, CreateApiUserKey, CreateSettlementBatch, DeleteApiUserKey,
    GetApiUser, GetSettlementBatch, ListApiUserKeys, ListApiUsers, ListSettlementBatches, Role,
    SettleSettlementBatchAsset, UpdateApiUser, UpdateApiUserKey, UpdateApiUserRoles, UserStatus,
};
use prime_core::{ArgumentError, Credentials, Endpoint, Otp, RequestBuilder, WriteRequestError};
use proptest::prelude::*;

const SECRET: &str = prime_core::example::SECRET;

/// A plain HTTP/1.1 writer for an `http::Request<Vec<u8>>`, written apart from the core's:
/// the request line, `host` from the URI, the request's headers in their order,
/// `content-length` from the body, an empty line, the body.
fn plain_http1(request: &Request<Vec<u8>>) -> Vec<u8> {
    let uri = request.uri();
    let host = uri.host().expect("an absolute URI");
    let mut out = Vec::new();
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    write!(
        out,
        "{} {target} HTTP/1.1\r\nhost: {host}",
        request.method()
    )
    .expect("a Vec");
    if let Some(port) = uri.port() {
        write!(out, ":{port}").expect("a Vec");
    }
    out.extend_from_slice(b"\r\n");
    for (name, value) in request.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    write!(out, "content-length: {}\r\n\r\n", request.body().len()).expect("a Vec");
    out.extend_from_slice(request.body());
    out
}

/// The base URLs and `User-Agent`s the bytes are checked under: the default, a prefix path
/// with a port, an IPv6 host, and user info in the URL (never sent in `host`).
fn builders() -> Vec<RequestBuilder> {
    let with = |url: &str| {
        RequestBuilder::new()
            .with_base_url(url)
            .expect("valid base URL")
    };
    vec![
        RequestBuilder::new(),
        with("http://127.0.0.1:8080/prefix/")
            .with_user_agent("desk/1.0 (ops; +https://example.com)")
            .expect("valid user agent"),
        with("http://[::1]:9000"),
        with("https://user:pass@prime.example.com"),
    ]
}

/// A key without 2FA and one with a static password that JSON must escape.
fn all_credentials() -> Vec<Credentials> {
    let plain = Credentials::new("KRA5L19LAW8Z", SECRET).expect("valid credentials");
    let password = Otp::password("pa\"ss\\wörd").expect("a valid password");
    vec![plain.clone(), plain.with_otp(password)]
}

/// `bytes` read back with `httparse`: the method, target, headers and body of `request`, plus
/// `host` and `content-length`.
fn assert_parses_as(bytes: &[u8], request: &Request<Vec<u8>>) -> Result<(), TestCaseError> {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut parsed = httparse::Request::new(&mut headers);
    let status = parsed
        .parse(bytes)
        .map_err(|e| TestCaseError::fail(format!("httparse refused the bytes: {e}")))?;
    let httparse::Status::Complete(head_len) = status else {
        return Err(TestCaseError::fail("the head is incomplete"));
    };
    prop_assert_eq!(parsed.method, Some("POST"));
    prop_assert_eq!(parsed.version, Some(1));
    let target = request.uri().path_and_query().map(|p| p.as_str());
    prop_assert_eq!(parsed.path, target);
    let got: Vec<(String, &[u8])> = parsed
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value))
        .collect();
    let uri = request.uri();
    let host = match uri.port() {
        Some(port) => format!("{}:{port}", uri.host().unwrap_or_default()),
        None => uri.host().unwrap_or_default().to_owned(),
    };
    let length = request.body().len().to_string();
    let mut expected: Vec<(String, &[u8])> = vec![("host".to_owned(), host.as_bytes())];
    expected.extend(
        request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes())),
    );
    expected.push(("content-length".to_owned(), length.as_bytes()));
    prop_assert_eq!(got, expected);
    prop_assert_eq!(&bytes[head_len..], request.body().as_slice());
    Ok(())
}

/// For every builder and both keys: the bytes in a reused `Vec` and in a fixed slice are the
/// plain HTTP/1.1 writing of the `http::Request` the same inputs build, `httparse` reads them
/// back into that request, and a slice one byte short is refused with the size needed.
pub(crate) fn assert_http1_matches<E: Endpoint>(
    endpoint: &E,
    nonce: u64,
) -> Result<(), TestCaseError> {
    for builder in builders() {
        for credentials in all_credentials() {
            let request = builder
                .build(endpoint, &credentials, nonce)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let expected = plain_http1(&request);

            // A buffer still holding an earlier, longer request: replaced, not appended to.
            let mut buf = b"POST /an/earlier/request HTTP/1.1\r\n".repeat(20);
            builder
                .build_http1(endpoint, &credentials, nonce, &mut buf)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(
                String::from_utf8_lossy(&buf),
                String::from_utf8_lossy(&expected)
            );
            assert_parses_as(&buf, &request)?;

            let mut slice = vec![0xA5; expected.len() + 9];
            let len = builder
                .build_http1_into(endpoint, &credentials, nonce, &mut slice)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&slice[..len], expected.as_slice());
            let mut exact = vec![0; expected.len()];
            let written = builder.build_http1_into(endpoint, &credentials, nonce, &mut exact);
            prop_assert_eq!(written, Ok(expected.len()));
            let mut short = vec![0; expected.len() - 1];
            let refused = builder.build_http1_into(endpoint, &credentials, nonce, &mut short);
            prop_assert_eq!(
                refused,
                Err(WriteRequestError::BufferTooSmall {
                    needed: expected.len(),
                    available: expected.len() - 1,
                })
            );
        }
    }
    Ok(())
}

fn check<E: Endpoint>(endpoint: &E) {
    for nonce in [0, 1, 9, 10, 1_616_492_376_594, u64::MAX] {
        assert_http1_matches(endpoint, nonce)
            .unwrap_or_else(|e| panic!("{} with nonce {nonce}: {e}", E::NAME));
    }
}

/// One request of each of the 13 endpoints, at nonces of every length class.
#[test]
fn every_endpoint_writes_the_bytes_of_its_http_request() {
    check(&CreateApiUserKey::new("2T0RXL9B8K5D6"));
    check(&ListApiUserKeys::new("2T0RXL9B8K5D6"));
    check(&UpdateApiUserKey {
        user_id: "2T0RXL9B8K5D6".into(),
        key_id: "3RM9K4ZTC0C00".into(),
        whitelisted_ips: Some(vec!["192.168.1.1".into(), "10.0.0.0/8".into()]),
    });
    check(&DeleteApiUserKey::new("2T0RXL9B8K5D6", "3RM9K4ZTC0C00"));
    check(&CreateApiUser::new("Desk \"1\" — ünïcode", Role::Trader));
    check(&GetApiUser::new("2T0RXL9B8K5D6"));
    check(&ListApiUsers::new());
    check(&UpdateApiUser {
        user_id: "2T0RXL9B8K5D6".into(),
        name: Some("Renamed".into()),
        status: Some(UserStatus::Disabled),
    });
    check(&UpdateApiUserRoles::new("2T0RXL9B8K5D6", Role::Viewer));
    check(&CreateSettlementBatch {
        asset_kind: Some(AssetKind::Currency),
    });
    check(&CreateSettlementBatch { asset_kind: None });
    check(&GetSettlementBatch {
        batch_id: "B_Y7T2LPVX".into(),
        asset_kind: None,
    });
    check(&ListSettlementBatches {
        asset_kind: Some(AssetKind::Spot),
        statuses: Some(vec![prime_core::endpoints::BatchStatus::Unsettled]),
        from: Some(1),
        until: Some(2),
        limit: Some(50),
        offset: Some(0),
    });
    check(&ListSettlementBatches::default());
    check(&SettleSettlementBatchAsset::new("B_Y7T2LPVX", "BTC"));
}

/// Every buffer shorter than the request is refused with both sizes, never a panic, and an
/// error message that says what to do.
#[test]
fn a_buffer_of_any_shorter_size_is_refused_with_the_size_needed() {
    let builder = RequestBuilder::new();
    let credentials = Credentials::new("KRA5L19LAW8Z", SECRET).expect("valid credentials");
    let endpoint = ListApiUserKeys::new("2T0RXL9B8K5D6");
    let mut whole = Vec::new();
    builder
        .build_http1(&endpoint, &credentials, 42, &mut whole)
        .expect("valid request");
    for available in 0..whole.len() {
        let mut buf = vec![0; available];
        let error = builder
            .build_http1_into(&endpoint, &credentials, 42, &mut buf)
            .expect_err("too small");
        assert_eq!(
            error,
            WriteRequestError::BufferTooSmall {
                needed: whole.len(),
                available
            }
        );
    }
    let error = WriteRequestError::BufferTooSmall {
        needed: 400,
        available: 100,
    };
    assert_eq!(
        error.to_string(),
        "the buffer holds 100 bytes; this signed request needs 400"
    );
}

#[test]
fn invalid_arguments_sign_nothing_and_leave_the_buffer_empty() {
    let builder = RequestBuilder::new();
    let credentials = Credentials::new("KRA5L19LAW8Z", SECRET).expect("valid credentials");
    let mut buf = b"an earlier request".to_vec();
    let error = builder
        .build_http1(&GetApiUser::new(""), &credentials, 1, &mut buf)
        .expect_err("an empty id is refused");
    assert_eq!(error.field(), "user_id");
    assert!(buf.is_empty());
    let mut slice = [0u8; 512];
    let error = builder
        .build_http1_into(&GetApiUser::new("a b"), &credentials, 1, &mut slice)
        .expect_err("a space is refused");
    assert!(
        matches!(&error, WriteRequestError::InvalidArgument(e) if e.field() == "user_id"),
        "{error:?}"
    );

    // An endpoint whose fields are not a JSON object is refused the same way.
    #[derive(serde::Serialize)]
    struct NotAnObject(u8);
    impl Endpoint for NotAnObject {
        const NAME: &'static str = "NotAnObject";
        const PATH: &'static str = "/0/private/NotAnObject";
        const IDEMPOTENCY: prime_core::Idempotency = prime_core::Idempotency::Idempotent;
        type Response = serde_json::Value;
    }
    let mut buf = b"an earlier request".to_vec();
    let error: ArgumentError = builder
        .build_http1(&NotAnObject(1), &credentials, 1, &mut buf)
        .expect_err("not an object");
    assert_eq!(error.field(), "body");
    assert!(buf.is_empty());
    let refused = builder.build_http1_into(&NotAnObject(1), &credentials, 1, &mut slice);
    assert!(matches!(
        refused,
        Err(WriteRequestError::InvalidArgument(_))
    ));
}

/// An endpoint outside the crate's table gets its path (and the base URL's prefix) too.
#[test]
fn an_endpoint_of_its_own_is_written_like_the_built_ones() {
    #[derive(serde::Serialize)]
    struct Custom {
        asset: &'static str,
    }
    impl Endpoint for Custom {
        const NAME: &'static str = "CustomCall";
        const PATH: &'static str = "/0/private/CustomCall";
        const IDEMPOTENCY: prime_core::Idempotency = prime_core::Idempotency::Idempotent;
        type Response = serde_json::Value;
    }
    check(&Custom { asset: "XBT" });
}
