//! Response parsing: every response example of the spec, in both envelopes; warnings; HTTP
//! status errors; decode errors with their JSON path; unknown enum values and extra fields.

use std::fmt::Debug;
use std::time::Duration;

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
use prime_core::{
    ApiSecret, Endpoint, ErrorCode, KrakenError, Reply, ResponseError, Severity, parse_response,
};
use serde_json::json;

// The spec's response examples, converted from its YAML to JSON unchanged (key order kept).
// Each carries the sample error string `EGeneral:Invalid arguments` beside its result, as the
// spec literally shows them.
const CREATE_KEY: &str = r#"{"result":{"id":"3RM9K4ZTC0C00","api_key":"KRA5L19LAW8Z","api_secret":"6xq8p1mvk9r3n7swt2l5cj4eaydhzbf","user_id":"2T0RXL9B8K5D6","permissions":["read::marketdata"],"whitelisted_ips":["192.168.1.1"]},"error":["EGeneral:Invalid arguments"]}"#;
const LIST_KEYS: &str = r#"{"result":{"data":[{"id":"3RM9K4ZTC0C00","key":"KRA5L19LAW8Z","user_id":"2T0RXL9B8K5D6","updated_at":123,"permissions":["read::marketdata"],"whitelisted_ips":[]}]},"error":["EGeneral:Invalid arguments"]}"#;
const UPDATE_KEY: &str = r#"{"result":{"id":"3RM9K4ZTC0C00","api_key":"KRA5L19LAW8Z","user_id":"2T0RXL9B8K5D6","permissions":["read::marketdata"],"whitelisted_ips":["192.168.1.1"],"updated_at":123},"error":["EGeneral:Invalid arguments"]}"#;
const DELETE_KEY: &str = r#"{"result":{"deleted":true},"error":["EGeneral:Invalid arguments"]}"#;
const CREATE_USER: &str = r#"{"result":{"id":"2T0RXL9B8K5D6","name":"Test User","status":"Enabled","roles":["Trader"]},"error":["EGeneral:Invalid arguments"]}"#;
const GET_USER: &str = r#"{"result":{"data":{"id":"2T0RXL9B8K5D6","name":"Test User","status":"Enabled","roles":["Trader"]}},"error":["EGeneral:Invalid arguments"]}"#;
const LIST_USERS: &str = r#"{"result":{"data":[{"id":"2T0RXL9B8K5D6","name":"Test User","status":"Enabled","roles":["Trader"]}]},"error":["EGeneral:Invalid arguments"]}"#;
const UPDATE_USER: &str = r#"{"result":{"id":"2T0RXL9B8K5D6","name":"Test User","status":"Enabled","roles":["Trader"]},"error":["EGeneral:Invalid arguments"]}"#;
const UPDATE_ROLES: &str = r#"{"result":{"id":"2T0RXL9B8K5D6","name":"Test User","status":"Enabled","roles":["Trader"]},"error":["EGeneral:Invalid arguments"]}"#;
const CREATE_BATCH: &str = r#"{"result":{"batch":{"id":"B_Y7T2LPVX","attributes":{"status":"unsettled","confirmed":false,"created_at":1700000000000,"trade_count":5,"asset_kind":"currency","updated_at":1700000100000},"legs":[{"status":"unsettled","asset":"BTC","amount":"1.5","can_settle":true,"settled_at":123,"latest_spot_transfer":{}}],"trade_ids":["3f435d6b-62fd-4f26-b1c5-68ef573d93ef","7f6a6d75-6470-4f65-8b24-9858f28ede83"]}},"error":["EGeneral:Invalid arguments"]}"#;
const GET_BATCH: &str = r#"{"result":{"batch":{"id":"B_Y7T2LPVX","attributes":{"status":"unsettled","confirmed":false,"created_at":1700000000000,"trade_count":5,"updated_at":1700000100000},"legs":[{"status":"unsettled","asset":"BTC","amount":"1.5","can_settle":true,"settled_at":123,"latest_spot_transfer":{}}]}},"error":["EGeneral:Invalid arguments"]}"#;
const LIST_BATCHES: &str = r#"{"result":{"data":[{"id":"B_Y7T2LPVX","attributes":{"status":"unsettled","confirmed":false,"created_at":1700000000000,"trade_count":5,"updated_at":1700000100000},"legs":[{"status":"unsettled","asset":"BTC","amount":"1.5","can_settle":true,"settled_at":123,"latest_spot_transfer":{}}]}],"pagination":{"has_more":true,"limit":123,"offset":123}},"error":["EGeneral:Invalid arguments"]}"#;
const SETTLE: &str = r#"{"result":{"transfer":{"id":"100","attributes":{"transfer_status":"pending","transfer_amount":"1.5","transfer_asset":"BTC"},"relationships":{"leg":{"status":"unsettled","asset":"BTC","amount":"1.5","can_settle":true,"settled_at":123,"latest_spot_transfer":{}}}}},"error":["EGeneral:Invalid arguments"]}"#;

const SAMPLE_ERROR: &str = r#""error":["EGeneral:Invalid arguments"]"#;

/// The problem behind a [`ResponseError::KeyCreated`], or the error itself.
fn without_salvage(error: &ResponseError) -> &ResponseError {
    match error {
        ResponseError::KeyCreated { problem, .. } => problem,
        other => other,
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &str) -> Result<Reply<T>, ResponseError> {
    parse_response(StatusCode::OK, &HeaderMap::new(), body.as_bytes())
}

/// The example as a success envelope, `"error": []`, with nothing else changed.
fn success(example: &str) -> String {
    assert!(example.contains(SAMPLE_ERROR));
    example.replace(SAMPLE_ERROR, r#""error":[]"#)
}

/// Both envelopes of one example: the success envelope gives `expected`; the spec's literal
/// envelope is an `InvalidArguments` API error that keeps the body, and the result it carries
/// is recovered intact.
fn check_example<E: Endpoint>(example: &str, expected: &E::Response)
where
    E::Response: PartialEq + Debug,
{
    let reply = parse::<E::Response>(&success(example))
        .unwrap_or_else(|e| panic!("{}: success envelope: {e}", E::NAME));
    assert_eq!(&reply.result, expected, "{}", E::NAME);
    assert!(reply.warnings.is_empty());

    let error = parse::<E::Response>(example).expect_err("the spec's envelope carries an error");
    // Only a created key's reply carries a secret; there the API error is wrapped with it.
    assert_eq!(
        error.salvaged_key().is_some(),
        E::NAME == "CreatePrimeApiUserKey",
        "{}",
        E::NAME
    );
    let ResponseError::Api {
        errors,
        warnings,
        body,
    } = without_salvage(&error)
    else {
        panic!("{}: expected an API error, got {error:?}", E::NAME);
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].as_str(), "EGeneral:Invalid arguments");
    assert_eq!(errors[0].severity(), Severity::Error);
    assert_eq!(
        errors[0].code(),
        &ErrorCode::InvalidArguments { field: None }
    );
    assert!(warnings.is_empty());
    assert_eq!(body.as_bytes(), example.as_bytes());
    assert_eq!(error.kraken_errors(), errors.as_slice());
    assert!(
        error
            .to_string()
            .ends_with("Kraken returned EGeneral:Invalid arguments"),
        "{error}"
    );
    assert_eq!(
        error.recover_result::<E::Response>().as_ref(),
        Some(expected),
        "{}: the result beside the error is recoverable",
        E::NAME
    );
}

fn user() -> ApiUser {
    ApiUser {
        id: "2T0RXL9B8K5D6".into(),
        name: "Test User".into(),
        status: UserStatus::Enabled,
        roles: vec![Role::Trader],
        extra: Extra::new(),
    }
}

fn leg() -> SettlementLeg {
    SettlementLeg {
        status: LegStatus::Unsettled,
        asset: "BTC".into(),
        amount: Amount::new("1.5"),
        can_settle: true,
        settled_at: Some(123),
        latest_spot_transfer: Some(json!({})),
        extra: Extra::new(),
    }
}

fn batch(asset_kind: Option<AssetKind>, trade_ids: Option<Vec<String>>) -> SettlementBatch {
    SettlementBatch {
        id: "B_Y7T2LPVX".into(),
        attributes: BatchAttributes {
            status: BatchStatus::Unsettled,
            confirmed: false,
            created_at: Some(1_700_000_000_000),
            trade_count: Some(5),
            asset_kind,
            updated_at: Some(1_700_000_100_000),
            extra: Extra::new(),
        },
        legs: vec![leg()],
        trade_ids,
        extra: Extra::new(),
    }
}

fn created_key() -> CreatedApiUserKey {
    let mut key = CreatedApiUserKey::new(
        "3RM9K4ZTC0C00",
        "KRA5L19LAW8Z",
        ApiSecret::new("6xq8p1mvk9r3n7swt2l5cj4eaydhzbf".into()),
    );
    key.user_id = "2T0RXL9B8K5D6".into();
    key.permissions = vec!["read::marketdata".into()];
    key.whitelisted_ips = vec!["192.168.1.1".into()];
    key
}

#[test]
fn create_api_user_key_example() {
    check_example::<CreateApiUserKey>(CREATE_KEY, &created_key());
}

#[test]
fn the_one_time_secret_survives_an_error_envelope() {
    // The spec's own example: an error AND a created key. The key must not be lost.
    let error = parse::<CreatedApiUserKey>(CREATE_KEY).expect_err("carries an error");
    assert_eq!(error.body().as_bytes(), CREATE_KEY.as_bytes());
    let key: CreatedApiUserKey = error.recover_result().expect("the result is recoverable");
    assert_eq!(key.api_secret().expose(), "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf");
    assert_eq!(key.api_key, "KRA5L19LAW8Z");
    // The same holds when the status is not 200 but the body still carries the key.
    let error = parse_response::<CreatedApiUserKey>(
        StatusCode::INTERNAL_SERVER_ERROR,
        &HeaderMap::new(),
        CREATE_KEY.as_bytes(),
    )
    .expect_err("500");
    assert!(matches!(
        without_salvage(&error),
        ResponseError::Status { .. }
    ));
    let key: CreatedApiUserKey = error.recover_result().expect("recoverable from a 500 too");
    assert_eq!(key.api_secret().expose(), "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf");
}

#[test]
fn list_api_user_keys_example() {
    let expected = Data {
        data: vec![ApiUserKeyInfo {
            id: "3RM9K4ZTC0C00".into(),
            api_key: "KRA5L19LAW8Z".into(),
            user_id: "2T0RXL9B8K5D6".into(),
            updated_at: Some(123),
            permissions: vec!["read::marketdata".into()],
            whitelisted_ips: vec![],
            extra: Extra::new(),
        }],
        extra: Extra::new(),
    };
    check_example::<ListApiUserKeys>(LIST_KEYS, &expected);
}

#[test]
fn update_api_user_key_example() {
    let expected = UpdatedApiUserKey {
        id: "3RM9K4ZTC0C00".into(),
        api_key: "KRA5L19LAW8Z".into(),
        user_id: "2T0RXL9B8K5D6".into(),
        permissions: vec!["read::marketdata".into()],
        whitelisted_ips: vec!["192.168.1.1".into()],
        updated_at: Some(123),
        extra: Extra::new(),
    };
    check_example::<UpdateApiUserKey>(UPDATE_KEY, &expected);
}

#[test]
fn delete_api_user_key_example() {
    let expected = DeletedApiUserKey {
        deleted: true,
        extra: Extra::new(),
    };
    check_example::<DeleteApiUserKey>(DELETE_KEY, &expected);
}

#[test]
fn api_user_examples() {
    check_example::<CreateApiUser>(CREATE_USER, &user());
    check_example::<GetApiUser>(
        GET_USER,
        &Data {
            data: user(),
            extra: Extra::new(),
        },
    );
    check_example::<ListApiUsers>(
        LIST_USERS,
        &Data {
            data: vec![user()],
            extra: Extra::new(),
        },
    );
    check_example::<UpdateApiUser>(UPDATE_USER, &user());
    check_example::<UpdateApiUserRoles>(UPDATE_ROLES, &user());
}

#[test]
fn create_settlement_batch_example() {
    let expected = BatchResult {
        batch: batch(
            Some(AssetKind::Currency),
            Some(vec![
                "3f435d6b-62fd-4f26-b1c5-68ef573d93ef".into(),
                "7f6a6d75-6470-4f65-8b24-9858f28ede83".into(),
            ]),
        ),
        extra: Extra::new(),
    };
    check_example::<CreateSettlementBatch>(CREATE_BATCH, &expected);
}

#[test]
fn get_settlement_batch_example() {
    let expected = BatchResult {
        batch: batch(None, None),
        extra: Extra::new(),
    };
    check_example::<GetSettlementBatch>(GET_BATCH, &expected);
}

#[test]
fn list_settlement_batches_example() {
    let expected = BatchList {
        data: vec![batch(None, None)],
        pagination: Some(Pagination {
            has_more: true,
            limit: Some(123),
            offset: Some(123),
            extra: Extra::new(),
        }),
        extra: Extra::new(),
    };
    check_example::<ListSettlementBatches>(LIST_BATCHES, &expected);
}

#[test]
fn settle_settlement_batch_asset_example() {
    let expected = TransferResult {
        transfer: SettlementTransfer {
            id: "100".into(),
            attributes: TransferAttributes {
                status: TransferStatus::Pending,
                amount: Amount::new("1.5"),
                asset: "BTC".into(),
                extra: Extra::new(),
            },
            relationships: Some(TransferRelationships {
                leg: Some(leg()),
                extra: Extra::new(),
            }),
            extra: Extra::new(),
        },
        extra: Extra::new(),
    };
    check_example::<SettleSettlementBatchAsset>(SETTLE, &expected);
}

#[test]
fn warnings_beside_a_result_are_kept_in_order() {
    let body = CREATE_USER.replace(
        SAMPLE_ERROR,
        r#""error":["WGeneral:Deprecated call","WAPI:Rate limit exceeded"]"#,
    );
    let reply = parse::<ApiUser>(&body).expect("warnings alone are a success");
    assert_eq!(reply.result, user());
    let warnings: Vec<&str> = reply.warnings.iter().map(KrakenError::as_str).collect();
    assert_eq!(
        warnings,
        ["WGeneral:Deprecated call", "WAPI:Rate limit exceeded"]
    );
    assert!(
        reply
            .warnings
            .iter()
            .all(|w| w.severity() == Severity::Warning)
    );
    assert_eq!(reply.warnings[1].code(), &ErrorCode::RateLimitExceeded);
}

#[test]
fn warnings_beside_errors_are_kept_apart() {
    let body = CREATE_USER.replace(
        SAMPLE_ERROR,
        r#""error":["WGeneral:Deprecated call","EAPI:Invalid key","EGeneral:Permission denied"]"#,
    );
    let error = parse::<ApiUser>(&body).expect_err("an E string is an error");
    let ResponseError::Api {
        errors, warnings, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    let codes: Vec<&ErrorCode> = errors.iter().map(KrakenError::code).collect();
    assert_eq!(
        codes,
        [&ErrorCode::InvalidKey, &ErrorCode::PermissionDenied]
    );
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].as_str(), "WGeneral:Deprecated call");
    assert_eq!(
        error.to_string(),
        "Kraken returned EAPI:Invalid key; EGeneral:Permission denied"
    );
}

#[test]
fn an_error_without_a_result_is_an_api_error() {
    let body = br#"{"error":["EAPI:Invalid nonce"]}"#;
    let error =
        parse_response::<ApiUser>(StatusCode::OK, &HeaderMap::new(), body).expect_err("error");
    assert_eq!(error.kraken_errors()[0].code(), &ErrorCode::InvalidNonce);
    assert_eq!(error.body().as_bytes(), body);
    assert_eq!(error.recover_result::<ApiUser>(), None);
}

#[test]
fn non_2xx_html_keeps_the_raw_body() {
    let html =
        "<html><head><title>502 Bad Gateway</title></head>\r\n<body>cloudflare</body></html>";
    let error =
        parse_response::<ApiUser>(StatusCode::BAD_GATEWAY, &HeaderMap::new(), html.as_bytes())
            .expect_err("502");
    let ResponseError::Status {
        status,
        errors,
        retry_after,
        body,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*status, StatusCode::BAD_GATEWAY);
    assert!(errors.is_empty());
    assert_eq!(*retry_after, None);
    assert_eq!(body.as_bytes(), html.as_bytes());
    assert_eq!(error.to_string(), "HTTP status 502 Bad Gateway");
    // Cloudflare's 520 is not a registered status but must parse the same way.
    let status = StatusCode::from_u16(520).expect("valid code");
    let error =
        parse_response::<ApiUser>(status, &HeaderMap::new(), html.as_bytes()).expect_err("520");
    assert!(matches!(error, ResponseError::Status { status, .. } if status.as_u16() == 520));
}

#[test]
fn non_2xx_keeps_kraken_errors_and_retry_after() {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static(" 7 "));
    let body = br#"{"error":["EService:Unavailable"]}"#;
    let error = parse_response::<ApiUser>(StatusCode::SERVICE_UNAVAILABLE, &headers, body)
        .expect_err("503");
    let ResponseError::Status {
        errors,
        retry_after,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(errors[0].code(), &ErrorCode::ServiceUnavailable);
    assert_eq!(*retry_after, Some(Duration::from_secs(7)));
    assert_eq!(
        error.to_string(),
        "HTTP status 503 Service Unavailable with EService:Unavailable"
    );

    // An HTTP-date Retry-After is not a number of seconds: ignored, not misread.
    headers.insert(
        http::header::RETRY_AFTER,
        HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    let error =
        parse_response::<ApiUser>(StatusCode::TOO_MANY_REQUESTS, &headers, b"").expect_err("429");
    assert!(matches!(
        error,
        ResponseError::Status {
            retry_after: None,
            ..
        }
    ));
}

/// The path of a decode error, with the body kept.
fn decode_path<T: serde::de::DeserializeOwned + Debug>(body: &[u8]) -> String {
    match parse_response::<T>(StatusCode::OK, &HeaderMap::new(), body)
        .as_ref()
        .map_err(without_salvage)
    {
        Err(ResponseError::Decode {
            path,
            message,
            body: kept,
        }) => {
            assert_eq!(kept.as_bytes(), body);
            assert!(!message.is_empty());
            path.clone()
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn decode_errors_name_the_json_path() {
    // Wrong types deep inside a result.
    let body = success(LIST_KEYS).replace(r#""updated_at":123"#, r#""updated_at":"yesterday""#);
    assert_eq!(
        decode_path::<Data<Vec<ApiUserKeyInfo>>>(body.as_bytes()),
        "result.data[0].updated_at"
    );
    let body = success(GET_BATCH).replace(r#""amount":"1.5""#, r#""amount":1.5"#);
    assert_eq!(
        decode_path::<BatchResult>(body.as_bytes()),
        "result.batch.legs[0].amount"
    );
    let body = success(LIST_BATCHES).replace(r#""has_more":true"#, r#""has_more":"yes""#);
    assert_eq!(
        decode_path::<BatchList>(body.as_bytes()),
        "result.pagination.has_more"
    );
    let body = success(CREATE_KEY).replace(
        r#""api_secret":"6xq8p1mvk9r3n7swt2l5cj4eaydhzbf""#,
        r#""api_secret":null"#,
    );
    assert_eq!(
        decode_path::<CreatedApiUserKey>(body.as_bytes()),
        "result.api_secret"
    );
    // A missing required field is reported at the object that lacks it.
    let body = success(CREATE_USER).replace(r#""status":"Enabled","#, "");
    assert_eq!(decode_path::<ApiUser>(body.as_bytes()), "result");
    // A result that is not an object at all.
    assert_eq!(
        decode_path::<ApiUser>(br#"{"error":[],"result":[1,2]}"#),
        "result"
    );
    // A 64-bit overflow.
    let body = success(LIST_KEYS).replace(
        r#""updated_at":123"#,
        r#""updated_at":99999999999999999999999"#,
    );
    assert_eq!(
        decode_path::<Data<Vec<ApiUserKeyInfo>>>(body.as_bytes()),
        "result.data[0].updated_at"
    );
}

#[test]
fn a_missing_or_null_result_without_error_is_a_decode_error() {
    assert_eq!(decode_path::<ApiUser>(br#"{"error":[]}"#), "result");
    assert_eq!(
        decode_path::<ApiUser>(br#"{"error":[],"result":null}"#),
        "result"
    );
}

#[test]
fn bodies_that_are_not_the_envelope_are_decode_errors() {
    let truncated = &success(CREATE_KEY)[..60];
    for body in [
        &b""[..],
        b"not json",
        b"<html>502</html>",
        b"[]",
        b"null",
        br#"{"error":[],"result":{}} trailing"#,
        b"\xff\xfe{}",
        br#"{"error":[],"result":{"id":"\xff"}}"#,
        truncated.as_bytes(),
    ] {
        let path = decode_path::<ApiUser>(body);
        assert!(
            path == "$" || path.starts_with("result"),
            "{path} for {:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn the_error_array_must_hold_strings() {
    assert_eq!(
        decode_path::<ApiUser>(br#"{"error":[42],"result":{}}"#),
        "error[0]"
    );
    assert_eq!(
        decode_path::<ApiUser>(br#"{"error":"EAPI:Invalid key"}"#),
        "error"
    );
}

#[test]
fn a_null_error_array_means_no_errors() {
    let body = success(CREATE_USER).replace(r#""error":[]"#, r#""error":null"#);
    assert_eq!(parse::<ApiUser>(&body).expect("tolerated").result, user());
}

#[test]
fn a_result_beside_a_malformed_error_array_is_still_recoverable() {
    let body = CREATE_KEY.replace(SAMPLE_ERROR, r#""error":[{"code":"EGeneral"}]"#);
    let error = parse::<CreatedApiUserKey>(&body).expect_err("malformed error array");
    assert!(
        matches!(without_salvage(&error), ResponseError::Decode { path, .. } if path == "error[0]"),
        "{error:?}"
    );
    let key: CreatedApiUserKey = error.recover_result().expect("the key is not lost");
    assert_eq!(key.api_secret().expose(), "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf");
}

#[test]
fn truncated_bodies_are_located() {
    // Cut inside the result: the envelope is readable up to `result`.
    let body = success(CREATE_KEY);
    let cut = &body[..body.find("whitelisted").expect("field")];
    assert_eq!(decode_path::<CreatedApiUserKey>(cut.as_bytes()), "result");
}

#[test]
fn deeply_nested_json_is_a_decode_error_not_a_stack_overflow() {
    let depth = 100_000;
    let body = format!(
        r#"{{"error":[],"result":{{"id":"x","status":"Enabled","deep":{}{}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = parse::<ApiUser>(&body).expect_err("too deep");
    assert!(matches!(error, ResponseError::Decode { .. }), "{error:?}");
    assert!(error.to_string().contains("recursion limit"), "{error}");
}

#[test]
fn unknown_enum_values_are_kept() {
    let body = success(CREATE_USER)
        .replace(r#""status":"Enabled""#, r#""status":"Frozen""#)
        .replace(r#""roles":["Trader"]"#, r#""roles":["Admin","Viewer"]"#);
    let user = parse::<ApiUser>(&body).expect("tolerated").result;
    assert_eq!(user.status, UserStatus::Other("Frozen".into()));
    assert_eq!(user.status.as_str(), "Frozen");
    assert_eq!(user.roles, [Role::Other("Admin".into()), Role::Viewer]);

    let body = success(CREATE_BATCH)
        .replace(
            r#""status":"unsettled","confirmed""#,
            r#""status":"new_status","confirmed""#,
        )
        .replace(r#""asset_kind":"currency""#, r#""asset_kind":"commodity""#)
        .replace(
            r#""status":"unsettled","asset""#,
            r#""status":"reversed","asset""#,
        );
    let batch = parse::<BatchResult>(&body).expect("tolerated").result.batch;
    assert_eq!(
        batch.attributes.status,
        BatchStatus::Other("new_status".into())
    );
    assert_eq!(
        batch.attributes.asset_kind,
        Some(AssetKind::Other("commodity".into()))
    );
    assert_eq!(batch.legs[0].status, LegStatus::Other("reversed".into()));

    let body = success(SETTLE).replace(r#""pending""#, r#""on_hold""#);
    let transfer = parse::<TransferResult>(&body)
        .expect("tolerated")
        .result
        .transfer;
    assert_eq!(
        transfer.attributes.status,
        TransferStatus::Other("on_hold".into())
    );
    // Kept verbatim: an unknown value serializes back to the same text.
    assert_eq!(
        serde_json::to_string(&transfer.attributes.status).expect("serialize"),
        r#""on_hold""#
    );
}

#[test]
fn extra_fields_are_kept_at_every_level() {
    let body = success(CREATE_KEY).replace(
        r#""user_id":"2T0RXL9B8K5D6","#,
        r#""user_id":"2T0RXL9B8K5D6","expires_at":1893456000000,"label":{"team":"ops"},"#,
    );
    let key = parse::<CreatedApiUserKey>(&body).expect("tolerated").result;
    assert_eq!(key.extra["expires_at"], json!(1_893_456_000_000_i64));
    assert_eq!(key.extra["label"], json!({"team": "ops"}));
    assert_eq!(key.api_secret().expose(), "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf");

    // The oldest revision's leg `direction`, plus new fields on the batch, its attributes, the
    // result and the pagination.
    let body = success(LIST_BATCHES)
        .replace(
            r#""can_settle":true"#,
            r#""can_settle":true,"direction":"incoming""#,
        )
        .replace(r#""trade_count":5"#, r#""trade_count":5,"venue":"prime""#)
        .replace(r#""legs":"#, r#""notes":null,"legs":"#)
        .replace(
            r#""pagination":{"#,
            r#""total":9,"pagination":{"cursor":"abc","#,
        );
    let list = parse::<BatchList>(&body).expect("tolerated").result;
    assert_eq!(list.data[0].legs[0].extra["direction"], json!("incoming"));
    assert_eq!(list.data[0].attributes.extra["venue"], json!("prime"));
    assert_eq!(list.data[0].extra["notes"], json!(null));
    assert_eq!(list.extra["total"], json!(9));
    let pagination = list.pagination.expect("present");
    assert_eq!(pagination.extra["cursor"], json!("abc"));
    assert!(pagination.has_more);

    let body = success(GET_USER).replace(r#"{"data":"#, r#"{"count":1,"data":"#);
    let data = parse::<Data<ApiUser>>(&body).expect("tolerated").result;
    assert_eq!(data.extra["count"], json!(1));
    assert_eq!(data.data, user());
}

#[test]
fn amounts_stay_exact_text() {
    let body = success(GET_BATCH).replace(
        r#""amount":"1.5""#,
        r#""amount":"-0.100000000000000000000000000001""#,
    );
    let batch = parse::<BatchResult>(&body).expect("valid").result.batch;
    assert_eq!(
        batch.legs[0].amount.as_str(),
        "-0.100000000000000000000000000001"
    );
    assert_eq!(
        batch.legs[0].amount.to_string(),
        "-0.100000000000000000000000000001"
    );
}
