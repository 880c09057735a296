//! Golden requests: every endpoint, built with a fixed key, secret and nonce, must match byte
//! for byte (URL, method, every header, body) a request whose `API-Sign` was computed
//! independently with Python's `hmac`/`hashlib` and pinned here.
//!
//! The Python one-liner beside each value reproduces it: it signs `path ++ SHA256(nonce ++
//! body)` with HMAC-SHA512 under the base64-decoded secret (the secret of Kraken's official
//! vector). The expected bodies were written by hand from the spec, not copied from the code.

use http::Method;
use http::header::{CONTENT_TYPE, USER_AGENT};
use prime_core::endpoints::{
    AssetKind, BatchStatus, CreateApiUser, CreateApiUserKey, CreateSettlementBatch,
    DeleteApiUserKey, GetApiUser, GetSettlementBatch, ListApiUserKeys, ListApiUsers,
    ListSettlementBatches, Role, SettleSettlementBatchAsset, UpdateApiUser, UpdateApiUserKey,
    UpdateApiUserRoles, UserStatus,
};
use prime_core::example::API_KEY;
use prime_core::{Endpoint, Idempotency, RequestBuilder, encode_body};

// Every call is signed with Kraken's example credentials (`prime_core::example`, the secret of
// the official signing vector in docs/spec/protocol.md).

/// Builds `endpoint` with the default builder and checks every observable part of the request.
fn assert_golden<E: Endpoint>(endpoint: &E, nonce: u64, url: &str, body: &str, api_sign: &str) {
    let credentials = prime_core::example::credentials();
    let request = RequestBuilder::new()
        .build(endpoint, &credentials, nonce)
        .expect("golden arguments are valid");

    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri().to_string(), url);
    // Compare as text first for a readable diff, then as bytes, which is what is signed.
    assert_eq!(String::from_utf8_lossy(request.body()), body);
    assert_eq!(request.body().as_slice(), body.as_bytes());

    let headers = request.headers();
    assert_eq!(headers.len(), 4, "exactly four headers: {headers:?}");
    assert_eq!(headers[CONTENT_TYPE], "application/json");
    let user_agent = format!("kraken-prime/{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(headers[USER_AGENT], user_agent.as_str());
    assert_eq!(headers["API-Key"], API_KEY);
    assert_eq!(headers["API-Sign"], api_sign);
    // Both authentication headers are marked sensitive so HTTP clients keep them out of logs.
    assert!(headers["API-Key"].is_sensitive());
    assert!(headers["API-Sign"].is_sensitive());

    // The same bytes come out of the unsigned encoder, and they verify under the same key.
    assert_eq!(
        encode_body(endpoint, nonce).expect("valid arguments"),
        body.as_bytes()
    );
    let digits = nonce.to_string();
    assert!(credentials.signing_key().verify(
        E::PATH,
        digits.as_bytes(),
        body.as_bytes(),
        api_sign.as_bytes()
    ));
    assert_eq!(
        url.strip_prefix("https://api.kraken.com"),
        Some(E::PATH),
        "the URL is the base URL followed by the signed path"
    );
}

/// Creates a key for the spec's example user.
#[test]
fn create_key() {
    assert_golden(
        &CreateApiUserKey::new("2T0RXL9B8K5D6"),
        1616492376594,
        "https://api.kraken.com/0/private/CreatePrimeApiUserKey",
        r#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/CreatePrimeApiUserKey 1616492376594 '{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6"}'
        "Odms2WiIx3jcXvDagtr5k9m0cRSYMCm/IUVaBgEt06WS88u15Nig4QHpAn4E8FC/0dfWxpaP5SNGkUCCmnO2kA==",
    );
}

/// A one-digit nonce: the signed digits are exactly the body's digits.
#[test]
fn create_key_nonce_1() {
    assert_golden(
        &CreateApiUserKey::new("2T0RXL9B8K5D6"),
        1,
        "https://api.kraken.com/0/private/CreatePrimeApiUserKey",
        r#"{"nonce":1,"user_id":"2T0RXL9B8K5D6"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/CreatePrimeApiUserKey 1 '{"nonce":1,"user_id":"2T0RXL9B8K5D6"}'
        "XoVt4ztMzPBw2nu/QcymVnC0t8MDbLOnjsy98P2zErT/kzV+CmCmYhB9XYYB6zK1Z2Ylm0Sguc+71wlmPwT9VA==",
    );
}

/// Same body as create_key, other path: the path is part of the signature.
#[test]
fn list_keys() {
    assert_golden(
        &ListApiUserKeys::new("2T0RXL9B8K5D6"),
        1616492376594,
        "https://api.kraken.com/0/private/ListPrimeApiUserKeys",
        r#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/ListPrimeApiUserKeys 1616492376594 '{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6"}'
        "s00Io6+kbAPuXdf7KzWXFJ5chhMUZ1ZaMoPErjs7hNK4A627qn2KzZ3s1slpwAI7RTzgH8T6o0uYKPSgkvgpfQ==",
    );
}

/// IPv4, an IPv4 CIDR range and IPv6, sent in the given order.
#[test]
fn update_key_ips() {
    assert_golden(
        &UpdateApiUserKey::new("2T0RXL9B8K5D6", "3RM9K4ZTC0C00").whitelisted_ips([
            "192.168.1.1",
            "10.0.0.0/8",
            "2001:db8::1",
        ]),
        1616492376594,
        "https://api.kraken.com/0/private/UpdatePrimeApiUserKey",
        r#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","key_id":"3RM9K4ZTC0C00","whitelisted_ips":["192.168.1.1","10.0.0.0/8","2001:db8::1"]}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/UpdatePrimeApiUserKey 1616492376594 '{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","key_id":"3RM9K4ZTC0C00","whitelisted_ips":["192.168.1.1","10.0.0.0/8","2001:db8::1"]}'
        "3U8KkfiTQGmzzZzYodxR/9NbvQXLdqs4+UdWGlC8aHXp2/z/8opY9vflpQm2g2Is67hED4vc7G7mghlQwAh7LQ==",
    );
}

/// Unset `whitelisted_ips` is omitted, not sent as null.
#[test]
fn update_key_unset() {
    assert_golden(
        &UpdateApiUserKey::new("2T0RXL9B8K5D6", "3RM9K4ZTC0C00"),
        1616492376594,
        "https://api.kraken.com/0/private/UpdatePrimeApiUserKey",
        r#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","key_id":"3RM9K4ZTC0C00"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/UpdatePrimeApiUserKey 1616492376594 '{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","key_id":"3RM9K4ZTC0C00"}'
        "vbAued12tzBwsAYaotCusoUnPmc+cQVBX/PJVfIXuIkucGBSIdUIUTT4MJfBkkvEUL7z8EtVDPp1VsBlo0sJrw==",
    );
}

/// An explicitly empty list is sent as `[]` (distinct from unset).
#[test]
fn update_key_empty() {
    assert_golden(
        &UpdateApiUserKey::new("2T0RXL9B8K5D6", "3RM9K4ZTC0C00")
            .whitelisted_ips(Vec::<String>::new()),
        1616492376594,
        "https://api.kraken.com/0/private/UpdatePrimeApiUserKey",
        r#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","key_id":"3RM9K4ZTC0C00","whitelisted_ips":[]}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/UpdatePrimeApiUserKey 1616492376594 '{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","key_id":"3RM9K4ZTC0C00","whitelisted_ips":[]}'
        "ZTXVj+ER6DvB20v0y1EeE89RvSZulqhm5PQjo7mFezXKlVtBSJrQHa88npYMelpTlFl252eL6rlW+EVNoBn34Q==",
    );
}

#[test]
fn delete_key() {
    assert_golden(
        &DeleteApiUserKey::new("2T0RXL9B8K5D6", "3RM9K4ZTC0C00"),
        1616492376594,
        "https://api.kraken.com/0/private/DeletePrimeApiUserKey",
        r#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","key_id":"3RM9K4ZTC0C00"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/DeletePrimeApiUserKey 1616492376594 '{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","key_id":"3RM9K4ZTC0C00"}'
        "LlrUlkgIAqRmoaAI1VcN14+hjXh7noWhg3qO6+PJbXq3kCcGY7vm600geyS2pcVw4NMVSaQOgwqWQEZOjuPU1g==",
    );
}

/// The spec's request example.
#[test]
fn create_user() {
    assert_golden(
        &CreateApiUser::new("Test User", Role::Trader),
        1616492376594,
        "https://api.kraken.com/0/private/CreatePrimeApiUser",
        r#"{"nonce":1616492376594,"name":"Test User","role":"Trader"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/CreatePrimeApiUser 1616492376594 '{"nonce":1616492376594,"name":"Test User","role":"Trader"}'
        "6PPux/gEJK7ZwVyAwBDBJABqvBw3U0WyW2PKxiRd4IKs4RcqIXNZUsqv+MaxZjm+KJ/dnASzwK/neKYokA6XFg==",
    );
}

/// Non-ASCII is sent as UTF-8 and quotes are JSON-escaped; the signature covers those bytes.
#[test]
fn create_user_escaped() {
    assert_golden(
        &CreateApiUser::new("Zoë \"Z\" Test", Role::Viewer),
        1616492376594,
        "https://api.kraken.com/0/private/CreatePrimeApiUser",
        r#"{"nonce":1616492376594,"name":"Zoë \"Z\" Test","role":"Viewer"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/CreatePrimeApiUser 1616492376594 '{"nonce":1616492376594,"name":"Zoë \"Z\" Test","role":"Viewer"}'
        "wHLsRUtnVQQC+wxj9LHqW3fQwWISWCEnv0vr0Zhoop/kokkoxdpCCuKKBXNR8xOj85KT6ZZy3C0P+A/ad8diPw==",
    );
}

/// The spec's request example (`user_abc123`).
#[test]
fn get_user() {
    assert_golden(
        &GetApiUser::new("user_abc123"),
        1616492376594,
        "https://api.kraken.com/0/private/GetPrimeApiUser",
        r#"{"nonce":1616492376594,"user_id":"user_abc123"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/GetPrimeApiUser 1616492376594 '{"nonce":1616492376594,"user_id":"user_abc123"}'
        "fREQ9BXuohWLeVNwrHUyJuECOBgj+btopNji15dSmqtIWZFBE8Qip8zQRKFZceek+28G3wRBaOHglqw0Budk/Q==",
    );
}

/// No fields: the body is the nonce alone.
#[test]
fn list_users() {
    assert_golden(
        &ListApiUsers::new(),
        1616492376594,
        "https://api.kraken.com/0/private/ListPrimeApiUsers",
        r#"{"nonce":1616492376594}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/ListPrimeApiUsers 1616492376594 '{"nonce":1616492376594}'
        "XLGGWFb8g4TYNzuMWfmVvGq3JYiEgSzvedsR/lx5nl9jqHaoC2N+7SOskLPeleiprOlb0kaflZUIDvB5JlMvEQ==",
    );
}

/// The spec's request example: name and status.
#[test]
fn update_user_all() {
    assert_golden(
        &UpdateApiUser::new("2T0RXL9B8K5D6")
            .name("Updated User Name")
            .status(UserStatus::Enabled),
        1616492376594,
        "https://api.kraken.com/0/private/UpdatePrimeApiUser",
        r#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","name":"Updated User Name","status":"Enabled"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/UpdatePrimeApiUser 1616492376594 '{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","name":"Updated User Name","status":"Enabled"}'
        "yZqxBdn5KO0lFqaWN0gr33qN6CA2D+ED8U6lsFQhaSp+ciz2VrAMTWHw9gy2yYKwx4cdXz0dmtm9FlpAJ5xaxA==",
    );
}

/// Status only: the unset name is omitted.
#[test]
fn update_user_status() {
    assert_golden(
        &UpdateApiUser::new("2T0RXL9B8K5D6").status(UserStatus::Disabled),
        1616492376594,
        "https://api.kraken.com/0/private/UpdatePrimeApiUser",
        r#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","status":"Disabled"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/UpdatePrimeApiUser 1616492376594 '{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","status":"Disabled"}'
        "zR5xDpPs60hHf+7qqQcOediyrQFdQgr83G+fsacGhckbcWDbo7lSu7h8rREi0ZSj6h80mwrXk1XQMjbRiSReSw==",
    );
}

/// Nothing optional set.
#[test]
fn update_user_unset() {
    assert_golden(
        &UpdateApiUser::new("2T0RXL9B8K5D6"),
        1616492376594,
        "https://api.kraken.com/0/private/UpdatePrimeApiUser",
        r#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/UpdatePrimeApiUser 1616492376594 '{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6"}'
        "OBusAZrtBtUNtdox9fWEHM9vM8IlHuDyzJHsfXr9o+QvQowg18yAWEW34OkI0nLyuLY72eA2Rbes3rJ55rJJlg==",
    );
}

/// Singular `role` in the request.
#[test]
fn update_roles() {
    assert_golden(
        &UpdateApiUserRoles::new("2T0RXL9B8K5D6", Role::Viewer),
        1616492376594,
        "https://api.kraken.com/0/private/UpdatePrimeApiUserRoles",
        r#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","role":"Viewer"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/UpdatePrimeApiUserRoles 1616492376594 '{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6","role":"Viewer"}'
        "RFkQGHwr91N3UPkT1NVWzqVI0iof0QN/Iv5xXGqEgJXwHOo978YTQi3oErjUWzNKqfiP69y008cybn3nQTsiQQ==",
    );
}

#[test]
fn create_batch_kind() {
    assert_golden(
        &CreateSettlementBatch::new().asset_kind(AssetKind::TokenizedEquity),
        1616492376594,
        "https://api.kraken.com/0/private/CreatePrimeSettlementBatch",
        r#"{"nonce":1616492376594,"asset_kind":"tokenized_equity"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/CreatePrimeSettlementBatch 1616492376594 '{"nonce":1616492376594,"asset_kind":"tokenized_equity"}'
        "JLAqPXNry6EbM51OKMGxgAs16lwFZnhXiTmGCgS40Q2JV2ABt8Tj3fHd9qyKRCrNY3PV1Vz0KFlN5YEwkaB4wg==",
    );
}

/// Unset `asset_kind` is omitted (Kraken defaults to `currency`).
#[test]
fn create_batch_default() {
    assert_golden(
        &CreateSettlementBatch::new(),
        1616492376594,
        "https://api.kraken.com/0/private/CreatePrimeSettlementBatch",
        r#"{"nonce":1616492376594}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/CreatePrimeSettlementBatch 1616492376594 '{"nonce":1616492376594}'
        "mPuwZEAIlLz8MSjJtcGdG12KZcSyOlT47SVnWYF5EjsExRwIN/6jK/Qyd2rewJwVORDGYbawLC7chrPlUtnP5w==",
    );
}

#[test]
fn get_batch() {
    assert_golden(
        &GetSettlementBatch::new("B_Y7T2LPVX"),
        1616492376594,
        "https://api.kraken.com/0/private/GetPrimeSettlementBatch",
        r#"{"nonce":1616492376594,"batch_id":"B_Y7T2LPVX"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/GetPrimeSettlementBatch 1616492376594 '{"nonce":1616492376594,"batch_id":"B_Y7T2LPVX"}'
        "wFyv+KMgIbP7sv0x3hGyTgyzIE3d81KRi1mCgk0JjlGdt/jR4wdd/Nu2edjV2LK5OPrV4Ufrdb5rB64OJApGzw==",
    );
}

/// With the optional (older revision) asset-kind filter.
#[test]
fn get_batch_kind() {
    assert_golden(
        &GetSettlementBatch {
            batch_id: "B_Y7T2LPVX".to_owned(),
            asset_kind: Some(AssetKind::Spot),
        },
        1616492376594,
        "https://api.kraken.com/0/private/GetPrimeSettlementBatch",
        r#"{"nonce":1616492376594,"batch_id":"B_Y7T2LPVX","asset_kind":"spot"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/GetPrimeSettlementBatch 1616492376594 '{"nonce":1616492376594,"batch_id":"B_Y7T2LPVX","asset_kind":"spot"}'
        "koFRhYqOD8MBjhH6JQlRQi+zMoKA4pirKUaeArFGGz+WtORlnQg1NWKGtteboaTeTJFMKEoVedWs32k1ZHOxTg==",
    );
}

/// Every filter set, in declaration order (the spec's example plus `asset_kind`); `offset: 0` is sent, not dropped.
#[test]
fn list_batches_all() {
    assert_golden(
        &ListSettlementBatches {
            asset_kind: Some(AssetKind::Spot),
            statuses: Some(vec![BatchStatus::Unsettled, BatchStatus::PartiallySettled]),
            from: Some(1_700_000_000_000),
            until: Some(1_700_100_000_000),
            limit: Some(20),
            offset: Some(0),
        },
        1616492376594,
        "https://api.kraken.com/0/private/ListPrimeSettlementBatches",
        r#"{"nonce":1616492376594,"asset_kind":"spot","statuses":["unsettled","partially_settled"],"from":1700000000000,"until":1700100000000,"limit":20,"offset":0}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/ListPrimeSettlementBatches 1616492376594 '{"nonce":1616492376594,"asset_kind":"spot","statuses":["unsettled","partially_settled"],"from":1700000000000,"until":1700100000000,"limit":20,"offset":0}'
        "1bEpshs2xTw5UtvhkqJbpr/8gME1E+LQ6v/OTPhsEcLZxdMmUSkw10ztlvOG321FuQasXTEWuc5d3TKPvq+bSQ==",
    );
}

/// No filter: the body is the nonce alone.
#[test]
fn list_batches_unset() {
    assert_golden(
        &ListSettlementBatches::new(),
        1616492376594,
        "https://api.kraken.com/0/private/ListPrimeSettlementBatches",
        r#"{"nonce":1616492376594}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/ListPrimeSettlementBatches 1616492376594 '{"nonce":1616492376594}'
        "caX7CYcrOy+fsZTPMPtM14Jv4aEdweEpyRyEBSOnNRfqc+4bnspMRJey0oUlbbsrpvNpouI2uYHu48AbWUH5kw==",
    );
}

#[test]
fn settle() {
    assert_golden(
        &SettleSettlementBatchAsset::new("B_Y7T2LPVX", "BTC"),
        1616492376594,
        "https://api.kraken.com/0/private/SettlePrimeSettlementBatchAsset",
        r#"{"nonce":1616492376594,"batch_id":"B_Y7T2LPVX","asset":"BTC"}"#,
        // python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/SettlePrimeSettlementBatchAsset 1616492376594 '{"nonce":1616492376594,"batch_id":"B_Y7T2LPVX","asset":"BTC"}'
        "js7FidlSk7OrJK/rCJc/Lb/e8x2dtjdiWPLNEg3WrRSVgX34YS+bJ08WpeYbEakIQZyimk3MEfwXid4ibZdODA==",
    );
}

/// Only the path is signed: another base URL (trailing slash ignored, or with a path prefix)
/// and another `User-Agent` change the URL and header, not the body or the signature.
#[test]
fn base_url_and_user_agent_do_not_change_the_signature() {
    let endpoint = CreateApiUserKey::new("2T0RXL9B8K5D6");
    let credentials = prime_core::example::credentials();
    for (base, url) in [
        (
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080/0/private/CreatePrimeApiUserKey",
        ),
        (
            "https://proxy.example/kraken",
            "https://proxy.example/kraken/0/private/CreatePrimeApiUserKey",
        ),
    ] {
        let builder = RequestBuilder::new()
            .with_base_url(base)
            .expect("valid base URL")
            .with_user_agent("my-desk/2.1")
            .expect("valid user agent");
        assert_eq!(builder.base_url(), base.trim_end_matches('/'));
        assert_eq!(builder.url::<CreateApiUserKey>(), url);
        let request = builder
            .build(&endpoint, &credentials, 1616492376594)
            .expect("valid arguments");
        assert_eq!(request.uri().to_string(), url);
        assert_eq!(request.headers()[USER_AGENT], "my-desk/2.1");
        assert_eq!(
            request.body().as_slice(),
            br#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6"}"#
        );
        // The create_key golden value: unchanged by base URL and User-Agent.
        assert_eq!(
            request.headers()["API-Sign"],
            "Odms2WiIx3jcXvDagtr5k9m0cRSYMCm/IUVaBgEt06WS88u15Nig4QHpAn4E8FC/0dfWxpaP5SNGkUCCmnO2kA=="
        );
    }
}

#[test]
fn bad_base_urls_and_user_agents_are_refused() {
    for base in [
        "",
        "api.kraken.com",
        "ftp://api.kraken.com",
        "https://",
        "https://api.kraken.com?x=1",
        "https://api.kraken.com/#top",
        "https://api kraken.com",
    ] {
        let error = RequestBuilder::new()
            .with_base_url(base)
            .expect_err(&format!("{base:?} must be refused"));
        assert_eq!(error.field(), "base_url", "{base:?}");
    }
    for agent in ["line\nbreak", "nul\0", "bell\x07"] {
        let error = RequestBuilder::new()
            .with_user_agent(agent)
            .expect_err(&format!("{agent:?} must be refused"));
        assert_eq!(error.field(), "user_agent");
    }
}

/// Names and paths as the spec (`docs/spec/prime-rest.openapi.yaml`) has them, and idempotency as
/// the retry rules need it: reads are safe to resend, creates, updates, the delete and the
/// settlement are not.
#[test]
fn every_endpoint_names_its_path_and_idempotency() {
    fn check<E: Endpoint>(name: &str, idempotency: Idempotency) {
        assert_eq!(E::NAME, name);
        assert_eq!(E::PATH, format!("/0/private/{name}"));
        assert_eq!(E::IDEMPOTENCY, idempotency, "{name}");
    }
    use Idempotency::{Idempotent, NonIdempotent};
    check::<CreateApiUser>("CreatePrimeApiUser", NonIdempotent);
    check::<GetApiUser>("GetPrimeApiUser", Idempotent);
    check::<ListApiUsers>("ListPrimeApiUsers", Idempotent);
    check::<UpdateApiUser>("UpdatePrimeApiUser", NonIdempotent);
    check::<UpdateApiUserRoles>("UpdatePrimeApiUserRoles", NonIdempotent);
    check::<CreateApiUserKey>("CreatePrimeApiUserKey", NonIdempotent);
    check::<ListApiUserKeys>("ListPrimeApiUserKeys", Idempotent);
    check::<UpdateApiUserKey>("UpdatePrimeApiUserKey", NonIdempotent);
    check::<DeleteApiUserKey>("DeletePrimeApiUserKey", NonIdempotent);
    check::<CreateSettlementBatch>("CreatePrimeSettlementBatch", NonIdempotent);
    check::<GetSettlementBatch>("GetPrimeSettlementBatch", Idempotent);
    check::<ListSettlementBatches>("ListPrimeSettlementBatches", Idempotent);
    check::<SettleSettlementBatchAsset>("SettlePrimeSettlementBatchAsset", NonIdempotent);
}
