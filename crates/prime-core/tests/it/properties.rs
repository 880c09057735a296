//! Property tests: signature inputs, agreement with a naive HMAC, `verify`, parser robustness,
//! and round trips of every request and response type.

use std::fmt::Debug;
use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderValue, StatusCode};
use prime_core::endpoints::{
    Amount, ApiUser, ApiUserKeyInfo, AssetKind, BatchAttributes, BatchList, BatchResult,
    BatchStatus, CreateApiUser, CreateApiUserKey, CreateSettlementBatch, CreatedApiUserKey, Data,
    DeleteApiUserKey, DeletedApiUserKey, Extra, GetApiUser, GetSettlementBatch, LegStatus,
    ListApiUserKeys, ListApiUsers, ListSettlementBatches, Pagination, Role,
    SettleSettlementBatchAsset, SettlementBatch, SettlementLeg, SettlementTransfer,
    TransferAttributes, TransferRelationships, TransferResult, TransferStatus, UpdateApiUser,
    UpdateApiUserKey, UpdateApiUserRoles, UpdatedApiUserKey, UserStatus,
};
use prime_core::{Credentials, Endpoint, RequestBuilder, SigningKey, encode_body, parse_response};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

const CASES: u32 = 128;

// ---------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------

/// `API-Sign` computed the naive way, straight from the definition, with a fresh HMAC.
fn naive_sign(secret: &[u8], path: &str, nonce: &[u8], body: &[u8]) -> String {
    let mut inner = Vec::with_capacity(nonce.len() + body.len());
    inner.extend_from_slice(nonce);
    inner.extend_from_slice(body);
    let mut mac = Hmac::<Sha512>::new_from_slice(secret).expect("any key length");
    mac.update(path.as_bytes());
    mac.update(&Sha256::digest(&inner));
    STANDARD.encode(mac.finalize().into_bytes())
}

fn path() -> impl Strategy<Value = String> {
    "/0/private/[A-Za-z]{1,40}(\\?[a-z=&0-9]{0,20})?"
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..300)
}

fn secret() -> impl Strategy<Value = [u8; 64]> {
    prop::array::uniform32(any::<u8>())
        .prop_flat_map(|a| prop::array::uniform32(any::<u8>()).prop_map(move |b| (a, b)))
        .prop_map(|(a, b)| {
            let mut secret = [0u8; 64];
            secret[..32].copy_from_slice(&a);
            secret[32..].copy_from_slice(&b);
            secret
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Changing any one input — path, nonce, body or secret — changes the signature.
    #[test]
    fn every_signature_input_changes_the_signature(
        secret in secret(),
        other_secret in secret(),
        path in path(),
        other_path in path(),
        nonce in any::<u64>(),
        other_nonce in any::<u64>(),
        body in body(),
        other_body in body(),
    ) {
        let key = SigningKey::from_bytes(&secret);
        let digits = nonce.to_string();
        let base = key.sign(&path, digits.as_bytes(), &body);
        if other_path != path {
            prop_assert_ne!(key.sign(&other_path, digits.as_bytes(), &body), base);
        }
        if other_nonce != nonce {
            let other_digits = other_nonce.to_string();
            prop_assert_ne!(key.sign(&path, other_digits.as_bytes(), &body), base);
        }
        if other_body != body {
            prop_assert_ne!(key.sign(&path, digits.as_bytes(), &other_body), base);
        }
        if other_secret != secret {
            let other_key = SigningKey::from_bytes(&other_secret);
            prop_assert_ne!(other_key.sign(&path, digits.as_bytes(), &body), base);
        }
    }

    /// A one-bit change of any input, specifically, also changes it.
    #[test]
    fn a_single_bit_flip_in_body_or_secret_changes_the_signature(
        secret in secret(),
        body in prop::collection::vec(any::<u8>(), 1..200),
        at in any::<prop::sample::Index>(),
        bit in 0_u8..8,
    ) {
        let key = SigningKey::from_bytes(&secret);
        let base = key.sign("/0/private/X", b"1", &body);
        let mut flipped = body.clone();
        let i = at.index(flipped.len());
        flipped[i] ^= 1 << bit;
        prop_assert_ne!(key.sign("/0/private/X", b"1", &flipped), base);
        let mut flipped_secret = secret;
        flipped_secret[at.index(64)] ^= 1 << bit;
        prop_assert_ne!(SigningKey::from_bytes(&flipped_secret).sign("/0/private/X", b"1", &body), base);
    }

    /// The prepared key agrees with a naive HMAC for any secret length and input, and a
    /// base64 secret decodes to the same key.
    #[test]
    fn sign_agrees_with_a_naive_hmac(
        raw in prop::collection::vec(any::<u8>(), 0..200),
        secret in secret(),
        path in path(),
        nonce in any::<u64>(),
        body in body(),
    ) {
        let digits = nonce.to_string();
        let sign = SigningKey::from_bytes(&raw).sign(&path, digits.as_bytes(), &body);
        prop_assert_eq!(sign.as_str(), naive_sign(&raw, &path, digits.as_bytes(), &body));
        let key = SigningKey::from_base64(&STANDARD.encode(secret)).expect("64 bytes");
        let sign = key.sign(&path, digits.as_bytes(), &body);
        prop_assert_eq!(sign.as_str(), naive_sign(&secret, &path, digits.as_bytes(), &body));
    }

    /// `verify` accepts exactly what `sign` produced and refuses any single-byte change of it.
    #[test]
    fn verify_accepts_sign_output_and_refuses_any_single_byte_change(
        secret in secret(),
        path in path(),
        nonce in any::<u64>(),
        body in body(),
        at in any::<prop::sample::Index>(),
        replacement in any::<u8>(),
    ) {
        let key = SigningKey::from_bytes(&secret);
        let digits = nonce.to_string();
        let sign = key.sign(&path, digits.as_bytes(), &body);
        prop_assert!(key.verify(&path, digits.as_bytes(), &body, sign.as_str().as_bytes()));
        let mut changed = sign.as_str().as_bytes().to_vec();
        let i = at.index(changed.len());
        prop_assume!(changed[i] != replacement);
        changed[i] = replacement;
        prop_assert!(!key.verify(&path, digits.as_bytes(), &body, &changed));
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing never panics
// ---------------------------------------------------------------------------------------------

/// Arbitrary JSON, nested a few levels, with keys the response types know so that decoding
/// gets past the first field.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        Just(json!("1.5")),
        Just(json!("unsettled")),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "id",
                    "api_key",
                    "api_secret",
                    "key",
                    "data",
                    "status",
                    "roles",
                    "batch",
                    "attributes",
                    "legs",
                    "amount",
                    "asset",
                    "transfer",
                    "pagination",
                    "deleted",
                    "updated_at",
                    "error",
                    "result",
                    "x",
                ])
                .prop_map(str::to_owned),
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn status() -> impl Strategy<Value = StatusCode> {
    prop_oneof![Just(200_u16), Just(201), 100_u16..1000]
        .prop_map(|s| StatusCode::from_u16(s).expect("100..1000 is valid"))
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    prop::option::of("[ -~]{0,12}").prop_map(|retry_after| {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(http::header::RETRY_AFTER, value);
        }
        headers
    })
}

/// Parses `body` as several response types; any outcome but a panic is fine, and every
/// error keeps the body.
fn parse_all(status: StatusCode, headers: &HeaderMap, body: &[u8]) {
    fn one<T: DeserializeOwned + Debug>(status: StatusCode, headers: &HeaderMap, body: &[u8]) {
        if let Err(error) = parse_response::<T>(status, headers, body) {
            assert_eq!(error.body().as_bytes(), body);
            let _ = (error.to_string(), format!("{error:?}"));
            let _ = error.recover_result::<T>();
        }
    }
    one::<CreatedApiUserKey>(status, headers, body);
    one::<Data<Vec<ApiUserKeyInfo>>>(status, headers, body);
    one::<Data<ApiUser>>(status, headers, body);
    one::<BatchList>(status, headers, body);
    one::<BatchResult>(status, headers, body);
    one::<TransferResult>(status, headers, body);
    one::<DeletedApiUserKey>(status, headers, body);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsing_arbitrary_bytes_never_panics(
        status in status(),
        headers in headers(),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        parse_all(status, &headers, &body);
    }

    #[test]
    fn parsing_arbitrary_envelopes_never_panics(
        status in status(),
        headers in headers(),
        errors in prop::collection::vec("[EW]?[A-Za-z]{0,8}(:[A-Za-z ]{0,12}){0,3}", 0..3),
        result in json_value(),
        cut in any::<prop::sample::Index>(),
    ) {
        let body = serde_json::to_vec(&json!({"error": errors, "result": result}))
            .expect("serializable");
        parse_all(status, &headers, &body);
        // The same, truncated anywhere.
        parse_all(status, &headers, &body[..cut.index(body.len() + 1)]);
    }
}

// ---------------------------------------------------------------------------------------------
// Request round trips: build -> parse the body -> the same request
// ---------------------------------------------------------------------------------------------

fn id() -> impl Strategy<Value = String> {
    "[!-~]{1,40}"
}

fn name() -> impl Strategy<Value = String> {
    "[^\\p{Cc}]{1,40}".prop_filter("not blank", |n| !n.trim().is_empty())
}

/// A known value or an unknown word, normalized so that an unknown word that happens to be a
/// known value becomes that value (as it would on the wire).
fn word_enum<T: for<'a> From<&'a str> + Clone + Debug + 'static>(
    known: Vec<T>,
) -> impl Strategy<Value = T> {
    prop_oneof![
        prop::sample::select(known),
        "[!-~]{1,16}".prop_map(|w| T::from(w.as_str())),
    ]
}

fn role() -> impl Strategy<Value = Role> {
    word_enum(vec![Role::Trader, Role::Viewer])
}

fn user_status() -> impl Strategy<Value = UserStatus> {
    word_enum(vec![UserStatus::Enabled, UserStatus::Disabled])
}

fn asset_kind() -> impl Strategy<Value = AssetKind> {
    word_enum(vec![
        AssetKind::Currency,
        AssetKind::TokenizedEquity,
        AssetKind::Spot,
        AssetKind::Option,
        AssetKind::Future,
    ])
}

fn batch_status() -> impl Strategy<Value = BatchStatus> {
    word_enum(vec![
        BatchStatus::Unsettled,
        BatchStatus::PartiallySettled,
        BatchStatus::Settled,
        BatchStatus::Completed,
    ])
}

fn ip() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<Ipv4Addr>().prop_map(|a| a.to_string()),
        (any::<Ipv4Addr>(), 0_u8..=32).prop_map(|(a, p)| format!("{a}/{p}")),
        any::<Ipv6Addr>().prop_map(|a| a.to_string()),
        (any::<Ipv6Addr>(), 0_u8..=128).prop_map(|(a, p)| format!("{a}/{p}")),
    ]
}

fn list_settlement_batches() -> impl Strategy<Value = ListSettlementBatches> {
    (
        prop::option::of(asset_kind()),
        prop::option::of(prop::collection::vec(batch_status(), 0..4)),
        prop::option::of(0_i64..i64::MAX),
        prop::option::of(0_i64..i64::MAX),
        prop::option::of(1_u32..=200),
        prop::option::of(any::<u32>()),
    )
        .prop_map(|(asset_kind, statuses, from, until, limit, offset)| {
            // Keep the window valid: `from` must not be after `until`.
            let (from, until) = match (from, until) {
                (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                other => other,
            };
            ListSettlementBatches {
                asset_kind,
                statuses,
                from,
                until,
                limit,
                offset,
            }
        })
}

const SECRET: &str = prime_core::example::SECRET;

/// The body of `endpoint` with `nonce` parses back, minus the nonce, into an equal request;
/// the built request carries exactly those bytes, signed.
fn assert_request_round_trip<E>(endpoint: &E, nonce: u64) -> Result<(), TestCaseError>
where
    E: Endpoint + DeserializeOwned + PartialEq + Debug,
{
    let body = encode_body(endpoint, nonce).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let prefix = format!("{{\"nonce\":{nonce}");
    prop_assert!(body.starts_with(prefix.as_bytes()), "the nonce comes first");
    let mut object: serde_json::Map<String, Value> =
        serde_json::from_slice(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(object.remove("nonce"), Some(Value::from(nonce)));
    prop_assert!(
        object.values().all(|v| !v.is_null()),
        "unset fields are omitted, not null"
    );
    let back: E = serde_json::from_value(Value::Object(object))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, endpoint);

    let credentials = Credentials::new("KRA5L19LAW8Z", SECRET).expect("valid");
    let request = RequestBuilder::new()
        .build(endpoint, &credentials, nonce)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(request.body(), &body);
    let digits = nonce.to_string();
    prop_assert!(credentials.signing_key().verify(
        E::PATH,
        digits.as_bytes(),
        &body,
        request.headers()["API-Sign"].as_bytes(),
    ));
    // The HTTP/1.1 bytes output writes this same request.
    crate::http1::assert_http1_matches(endpoint, nonce)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn api_user_requests_round_trip(
        nonce in any::<u64>(),
        user_id in id(),
        name in name(),
        optional_name in prop::option::of(name()),
        role in role(),
        status in prop::option::of(user_status()),
    ) {
        assert_request_round_trip(&CreateApiUser::new(name, role.clone()), nonce)?;
        assert_request_round_trip(&GetApiUser::new(user_id.clone()), nonce)?;
        assert_request_round_trip(&ListApiUsers::new(), nonce)?;
        let update = UpdateApiUser { user_id: user_id.clone(), name: optional_name, status };
        assert_request_round_trip(&update, nonce)?;
        assert_request_round_trip(&UpdateApiUserRoles::new(user_id, role), nonce)?;
    }

    #[test]
    fn api_user_key_requests_round_trip(
        nonce in any::<u64>(),
        user_id in id(),
        key_id in id(),
        ips in prop::option::of(prop::collection::vec(ip(), 0..6)),
    ) {
        assert_request_round_trip(&CreateApiUserKey::new(user_id.clone()), nonce)?;
        assert_request_round_trip(&ListApiUserKeys::new(user_id.clone()), nonce)?;
        let update = UpdateApiUserKey {
            user_id: user_id.clone(),
            key_id: key_id.clone(),
            whitelisted_ips: ips,
        };
        assert_request_round_trip(&update, nonce)?;
        assert_request_round_trip(&DeleteApiUserKey::new(user_id, key_id), nonce)?;
    }

    #[test]
    fn settlement_requests_round_trip(
        nonce in any::<u64>(),
        batch_id in id(),
        asset in id(),
        kind in prop::option::of(asset_kind()),
        list in list_settlement_batches(),
    ) {
        assert_request_round_trip(&CreateSettlementBatch { asset_kind: kind.clone() }, nonce)?;
        let get = GetSettlementBatch { batch_id: batch_id.clone(), asset_kind: kind };
        assert_request_round_trip(&get, nonce)?;
        assert_request_round_trip(&list, nonce)?;
        assert_request_round_trip(&SettleSettlementBatchAsset::new(batch_id, asset), nonce)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Response round trips: serialize -> parse_response in an envelope -> equal
// ---------------------------------------------------------------------------------------------

/// Unknown fields: keys no type knows (prefixed `x_`), with values that survive JSON exactly
/// (floats are left out: without serde_json's `float_roundtrip` they may not).
fn extra() -> impl Strategy<Value = Extra> {
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ".{0,10}".prop_map(Value::from),
        prop::collection::vec(any::<i32>(), 0..3).prop_map(Value::from),
    ];
    prop::collection::btree_map("x_[a-z]{1,8}", value, 0..3).prop_map(|m| m.into_iter().collect())
}

fn text() -> impl Strategy<Value = String> {
    ".{0,20}"
}

fn strings() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(), 0..3)
}

fn api_user() -> impl Strategy<Value = ApiUser> {
    (
        text(),
        text(),
        user_status(),
        prop::collection::vec(role(), 0..3),
        extra(),
    )
        .prop_map(|(id, name, status, roles, extra)| ApiUser {
            id,
            name,
            status,
            roles,
            extra,
        })
}

fn key_info() -> impl Strategy<Value = ApiUserKeyInfo> {
    (
        text(),
        text(),
        text(),
        prop::option::of(any::<i64>()),
        strings(),
        strings(),
        extra(),
    )
        .prop_map(
            |(id, key, user_id, updated_at, permissions, whitelisted_ips, extra)| ApiUserKeyInfo {
                id,
                api_key: key,
                user_id,
                updated_at,
                permissions,
                whitelisted_ips,
                extra,
            },
        )
}

fn updated_key() -> impl Strategy<Value = UpdatedApiUserKey> {
    (
        text(),
        text(),
        text(),
        strings(),
        strings(),
        prop::option::of(any::<i64>()),
        extra(),
    )
        .prop_map(
            |(id, api_key, user_id, permissions, whitelisted_ips, updated_at, extra)| {
                UpdatedApiUserKey {
                    id,
                    api_key,
                    user_id,
                    permissions,
                    whitelisted_ips,
                    updated_at,
                    extra,
                }
            },
        )
}

fn leg() -> impl Strategy<Value = SettlementLeg> {
    (
        word_enum(vec![
            LegStatus::Unsettled,
            LegStatus::Pending,
            LegStatus::Settled,
        ]),
        text(),
        "-?[0-9]{1,30}(\\.[0-9]{1,30})?".prop_map(Amount::new),
        any::<bool>(),
        prop::option::of(any::<i64>()),
        // `Some(null)` would read back as `None`: a JSON null carries no more than absence.
        prop::option::of(extra().prop_map(Value::Object)),
        extra(),
    )
        .prop_map(
            |(status, asset, amount, can_settle, settled_at, latest_spot_transfer, extra)| {
                SettlementLeg {
                    status,
                    asset,
                    amount,
                    can_settle,
                    settled_at,
                    latest_spot_transfer,
                    extra,
                }
            },
        )
}

fn batch() -> impl Strategy<Value = SettlementBatch> {
    let attributes = (
        batch_status(),
        any::<bool>(),
        prop::option::of(any::<i64>()),
        prop::option::of(any::<u64>()),
        prop::option::of(asset_kind()),
        prop::option::of(any::<i64>()),
        extra(),
    )
        .prop_map(
            |(status, confirmed, created_at, trade_count, asset_kind, updated_at, extra)| {
                BatchAttributes {
                    status,
                    confirmed,
                    created_at,
                    trade_count,
                    asset_kind,
                    updated_at,
                    extra,
                }
            },
        );
    (
        text(),
        attributes,
        prop::collection::vec(leg(), 0..3),
        prop::option::of(strings()),
        extra(),
    )
        .prop_map(|(id, attributes, legs, trade_ids, extra)| SettlementBatch {
            id,
            attributes,
            legs,
            trade_ids,
            extra,
        })
}

fn transfer() -> impl Strategy<Value = TransferResult> {
    let attributes = (
        word_enum(vec![
            TransferStatus::Pending,
            TransferStatus::Completed,
            TransferStatus::Failed,
        ]),
        "[0-9]{1,20}\\.[0-9]{1,20}".prop_map(Amount::new),
        text(),
        extra(),
    )
        .prop_map(
            |(transfer_status, transfer_amount, transfer_asset, extra)| TransferAttributes {
                status: transfer_status,
                amount: transfer_amount,
                asset: transfer_asset,
                extra,
            },
        );
    let relationships = (prop::option::of(leg()), extra())
        .prop_map(|(leg, extra)| TransferRelationships { leg, extra });
    (
        text(),
        attributes,
        prop::option::of(relationships),
        extra(),
        extra(),
    )
        .prop_map(
            |(id, attributes, relationships, extra, outer)| TransferResult {
                transfer: SettlementTransfer {
                    id,
                    attributes,
                    relationships,
                    extra,
                },
                extra: outer,
            },
        )
}

fn assert_response_round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let body = serde_json::to_vec(&json!({"error": [], "result": value}))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let reply = parse_response::<T>(StatusCode::OK, &HeaderMap::new(), &body)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&reply.result, value);
    prop_assert!(reply.warnings.is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn api_user_responses_round_trip(
        user in api_user(),
        users in prop::collection::vec(api_user(), 0..3),
        extra in extra(),
    ) {
        assert_response_round_trip(&user)?;
        assert_response_round_trip(&Data { data: user, extra: extra.clone() })?;
        assert_response_round_trip(&Data { data: users, extra })?;
    }

    #[test]
    fn api_user_key_responses_round_trip(
        keys in prop::collection::vec(key_info(), 0..3),
        updated in updated_key(),
        deleted in any::<bool>(),
        extra in extra(),
    ) {
        assert_response_round_trip(&Data { data: keys, extra: extra.clone() })?;
        assert_response_round_trip(&updated)?;
        assert_response_round_trip(&DeletedApiUserKey { deleted, extra })?;
    }

    #[test]
    fn settlement_responses_round_trip(
        batch in batch(),
        batches in prop::collection::vec(batch(), 0..3),
        pagination in prop::option::of((any::<bool>(), prop::option::of(any::<u32>()), prop::option::of(any::<u32>()), extra())),
        transfer in transfer(),
        extra in extra(),
    ) {
        assert_response_round_trip(&BatchResult { batch, extra: extra.clone() })?;
        let pagination = pagination.map(|(has_more, limit, offset, extra)| Pagination {
            has_more,
            limit,
            offset,
            extra,
        });
        assert_response_round_trip(&BatchList { data: batches, pagination, extra })?;
        assert_response_round_trip(&transfer)?;
    }

    /// `CreatedApiUserKey` has no `Serialize` (the secret must not leave by accident), so its
    /// JSON is built by hand.
    #[test]
    fn created_key_responses_round_trip(
        id in text(),
        api_key in text(),
        api_secret in ".{0,100}",
        user_id in text(),
        permissions in strings(),
        whitelisted_ips in strings(),
        extra in extra(),
    ) {
        let mut result = json!({
            "id": id,
            "api_key": api_key,
            "api_secret": api_secret,
            "user_id": user_id,
            "permissions": permissions,
            "whitelisted_ips": whitelisted_ips,
        });
        let object = result.as_object_mut().expect("an object");
        object.extend(extra.clone());
        let body = serde_json::to_vec(&json!({"error": [], "result": result})).expect("json");
        let key = parse_response::<CreatedApiUserKey>(StatusCode::OK, &HeaderMap::new(), &body)
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .result;
        prop_assert_eq!(&key.id, &id);
        prop_assert_eq!(&key.api_key, &api_key);
        prop_assert_eq!(key.api_secret().expose(), api_secret.as_str());
        prop_assert_eq!(&key.user_id, &user_id);
        prop_assert_eq!(&key.permissions, &permissions);
        prop_assert_eq!(&key.whitelisted_ips, &whitelisted_ips);
        prop_assert_eq!(&key.extra, &extra);
    }
}
