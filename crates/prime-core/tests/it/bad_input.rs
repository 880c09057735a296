//! The "Bad input" table of docs/library.md, row by row: each kind of bad input yields the typed error the
//! table names, with a message that says what is wrong and where (or what to fix), and never
//! the secret it was given. If a row here changes, the table must change with it.

use http::{HeaderMap, StatusCode};
use prime_core::endpoints::{
    ApiUser, ApiUserKeyInfo, BatchList, BatchResult, CreateApiUser, CreateApiUserKey,
    CreatedApiUserKey, Data, GetApiUser, ListSettlementBatches, MAX_NAME_LEN, MAX_WHITELISTED_IPS,
    Role, UpdateApiUser, UpdateApiUserKey,
};
use prime_core::transport::BodyBuffer;
use prime_core::{
    ArgumentError, Credentials, CredentialsError, Endpoint, ErrorCode, RequestBuilder,
    ResponseError, Severity, TransportErrorKind, parse_response,
};

/// The official vector's secret: valid base64 of 64 bytes.
const SECRET: &str = prime_core::example::SECRET;

/// The refusal of `secret`, checked to name what to fix and to quote none of the secret.
#[track_caller]
fn secret_refusal(secret: &str, says: &str) -> CredentialsError {
    let error = Credentials::new("KRA5L19LAW8Z", secret).expect_err("refused");
    let message = error.to_string();
    assert!(message.contains(says), "{message:?} should say {says:?}");
    for shown in [message, format!("{error:?}")] {
        // Any 8 characters of the secret would be a leak; shorter runs occur by chance.
        for window in secret.as_bytes().windows(8) {
            let window = String::from_utf8_lossy(window);
            assert!(!shown.contains(&*window), "{shown:?} quotes the secret");
        }
    }
    error
}

#[test]
fn malformed_secrets_are_refused_with_what_to_fix() {
    assert_eq!(secret_refusal("", "empty"), CredentialsError::EmptySecret);
    // A copy-paste line break, a space, a tab: the first one's position is named.
    let mut wrapped = SECRET.to_owned();
    wrapped.insert(40, '\n');
    assert_eq!(
        secret_refusal(&wrapped, "remove spaces and line breaks"),
        CredentialsError::SecretWhitespace { position: 40 }
    );
    assert_eq!(
        secret_refusal(
            &format!(" {} {}", &SECRET[..8], &SECRET[8..]),
            "remove spaces and line breaks"
        ),
        CredentialsError::SecretWhitespace { position: 9 }
    );
    // Whitespace around the secret (a file's trailing newline) is not an error.
    for padded in [
        format!(" {SECRET}"),
        format!("{SECRET}\t"),
        format!("{SECRET}\n"),
    ] {
        assert!(
            Credentials::new("KRA5L19LAW8Z", &padded).is_ok(),
            "{padded:?}"
        );
    }
    // Not base64: a URL-safe alphabet, a stray character, bad padding.
    let url_safe = SECRET.replace('/', "_").replace('+', "-");
    assert!(matches!(
        secret_refusal(&url_safe, "paste it exactly as Kraken showed it"),
        CredentialsError::SecretNotBase64 { .. }
    ));
    let mut stray = SECRET.to_owned();
    stray.replace_range(10..11, "!");
    assert_eq!(
        secret_refusal(&stray, "problem at byte 10"),
        CredentialsError::SecretNotBase64 { position: 10 }
    );
    assert!(matches!(
        secret_refusal(SECRET.trim_end_matches('='), "not valid base64"),
        CredentialsError::SecretNotBase64 { .. }
    ));
    // Valid base64 of any length is a usable HMAC key: Kraken's own SDK tests with 32 bytes.
    for other_length in [&SECRET[..44], &"ab".repeat(64), &"A".repeat(1 << 20)] {
        assert!(Credentials::new("KRA5L19LAW8Z", other_length).is_ok());
    }
    // Not base64 however it is padded: reported, never guessed at.
    for junk in ["=", "A", "AB=", "A===", "****"] {
        assert!(
            matches!(
                Credentials::new("KRA5L19LAW8Z", junk),
                Err(CredentialsError::SecretNotBase64 { .. } | CredentialsError::EmptySecret)
            ),
            "{junk:?}"
        );
    }
}

#[test]
fn malformed_keys_are_refused_with_the_position() {
    let refusal = |key: &str| Credentials::new(key, SECRET).expect_err("refused");
    assert_eq!(refusal(""), CredentialsError::EmptyKey);
    for (key, position) in [("KRA5 L19", 4), ("KRA5L19\n", 7), ("\u{e9}KRA", 0)] {
        let error = refusal(key);
        assert_eq!(error, CredentialsError::InvalidKey { position }, "{key:?}");
        assert!(
            error.to_string().contains("printable ASCII without spaces"),
            "{error}"
        );
    }
}

/// `endpoint` is refused for `field` with a reason containing `says`.
#[track_caller]
fn argument_refusal<E: Endpoint>(endpoint: &E, field: &str, says: &str) {
    let error: ArgumentError = endpoint.validate().expect_err("refused");
    assert_eq!(error.field(), field, "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("invalid argument `{field}`: ")) && message.contains(says),
        "{message:?} should say {says:?}"
    );
}

#[test]
fn invalid_ids_names_and_over_limit_arguments_are_refused_before_signing() {
    argument_refusal(&GetApiUser::new(""), "user_id", "must not be empty");
    argument_refusal(
        &GetApiUser::new("x".repeat(129)),
        "user_id",
        "is 129 bytes long; at most 128",
    );
    argument_refusal(
        &CreateApiUserKey::new("2T0 RXL"),
        "user_id",
        "space, control or non-ASCII character at byte 3",
    );
    argument_refusal(
        &UpdateApiUserKey::new("2T0RXL", "k\u{e9}y"),
        "key_id",
        "at byte 1",
    );
    // User names.
    argument_refusal(
        &CreateApiUser::new("  ", Role::Viewer),
        "name",
        "must not be empty",
    );
    argument_refusal(
        &CreateApiUser::new("n".repeat(MAX_NAME_LEN + 1), Role::Viewer),
        "name",
        "longer than 256 characters",
    );
    argument_refusal(
        &UpdateApiUser::new("2T0RXL").name("bot\u{7}"),
        "name",
        "control characters",
    );
    // IP allow-lists: a bad entry is named by its index; too many entries by the count.
    argument_refusal(
        &UpdateApiUserKey::new("u", "k").whitelisted_ips(["10.0.0.1", "10.0.0.0/33"]),
        "whitelisted_ips",
        "entry 1 is not an IP address or CIDR range",
    );
    let too_many: Vec<String> = (0..=MAX_WHITELISTED_IPS)
        .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
        .collect();
    argument_refusal(
        &UpdateApiUserKey::new("u", "k").whitelisted_ips(too_many),
        "whitelisted_ips",
        "has 1001 entries; at most 1000",
    );
    // Paging and time windows.
    for limit in [0, 201] {
        argument_refusal(
            &ListSettlementBatches {
                limit: Some(limit),
                ..ListSettlementBatches::new()
            },
            "limit",
            "must be between 1 and 200",
        );
    }
    argument_refusal(
        &ListSettlementBatches {
            from: Some(2),
            until: Some(1),
            ..ListSettlementBatches::new()
        },
        "from",
        "must not be later than `until`",
    );
    argument_refusal(
        &ListSettlementBatches {
            until: Some(-1),
            ..ListSettlementBatches::new()
        },
        "until",
        "not negative",
    );
}

#[test]
fn bad_client_settings_are_refused_with_the_setting_named() {
    for (url, says) in [
        (
            "ftp://api.kraken.com",
            "must start with http:// or https://",
        ),
        ("api.kraken.com", "must start with http:// or https://"),
        (
            "https://api.kraken.com/?x=1",
            "must not have a query or fragment",
        ),
        (
            "https://api.kraken.com/#top",
            "must not have a query or fragment",
        ),
        ("https://api kraken.com", "not a valid URL"),
    ] {
        let error = RequestBuilder::new().with_base_url(url).expect_err(url);
        assert_eq!(error.field(), "base_url");
        assert!(error.to_string().contains(says), "{url}: {error}");
    }
    let error = RequestBuilder::new()
        .with_user_agent("bot\r\nX-Injected: 1")
        .expect_err("a header injection");
    assert_eq!(error.field(), "user_agent");
    assert!(error.to_string().contains("visible ASCII"), "{error}");
}

fn parse<T: serde::de::DeserializeOwned>(
    status: u16,
    body: &[u8],
) -> Result<prime_core::Reply<T>, ResponseError> {
    parse_response::<T>(
        StatusCode::from_u16(status).expect("a status"),
        &HeaderMap::new(),
        body,
    )
}

/// A 200 `body` that must fail to decode as `T` at `path`; the message names the place and
/// the body is kept byte for byte.
#[track_caller]
fn undecodable<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    body: &[u8],
    path: &str,
) -> String {
    match parse::<T>(200, body) {
        Err(error @ ResponseError::Decode { .. }) => {
            let ResponseError::Decode {
                path: found,
                message,
                body: kept,
            } = &error
            else {
                unreachable!()
            };
            // A trailing `*` accepts any path under the prefix (deep paths are long).
            match path.strip_suffix('*') {
                Some(prefix) => assert!(found.starts_with(prefix), "{error}"),
                None => assert_eq!(found, path, "{error}"),
            }
            assert!(!message.is_empty());
            assert_eq!(kept.as_bytes(), body);
            let shown = error.to_string();
            assert!(
                shown.starts_with(&format!("unexpected response body at `{found}`: ")),
                "{shown}"
            );
            shown
        }
        other => panic!("expected a decode error at {path}, got {other:?}"),
    }
}

#[test]
fn non_2xx_statuses_keep_the_body_and_any_kraken_errors() {
    let html = b"<html><head><title>502 Bad Gateway</title></head></html>";
    let error = parse::<ApiUser>(502, html).expect_err("502");
    assert!(
        matches!(&error, ResponseError::Status { status, errors, body, .. }
            if status.as_u16() == 502 && errors.is_empty() && body.as_bytes() == html),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "HTTP status 502 Bad Gateway");
    let error =
        parse::<ApiUser>(500, br#"{"error":["EGeneral:Internal error"]}"#).expect_err("500");
    assert_eq!(
        error.to_string(),
        "HTTP status 500 Internal Server Error with EGeneral:Internal error"
    );
    // An empty 503 is still a status error, not a decode error.
    assert!(matches!(
        parse::<ApiUser>(503, b"").expect_err("503"),
        ResponseError::Status { .. }
    ));
}

#[test]
fn kraken_error_strings_are_typed_and_unknown_ones_kept() {
    let body =
        br#"{"error":["EGeneral:Invalid arguments:user_id","WGeneral:Deprecated","Nonsense"]}"#;
    let error = parse::<ApiUser>(200, body).expect_err("errors");
    let ResponseError::Api {
        errors, warnings, ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(
        errors[0].code(),
        &ErrorCode::InvalidArguments {
            field: Some("user_id".into())
        }
    );
    // A string without an `E`/`W` prefix is kept and treated as an error, never as success.
    assert_eq!(errors[1].code(), &ErrorCode::Other("Nonsense".into()));
    assert_eq!(errors[1].severity(), Severity::Error);
    assert_eq!(warnings[0].as_str(), "WGeneral:Deprecated");
    assert_eq!(
        error.to_string(),
        "Kraken returned EGeneral:Invalid arguments:user_id; Nonsense"
    );
}

#[test]
fn bodies_that_are_html_empty_or_not_the_envelope_are_decode_errors_at_the_root() {
    for body in [
        &b"<html><body>maintenance</body></html>"[..],
        b"",
        b"   ",
        b"\"EAPI:Invalid key\"",
    ] {
        undecodable::<ApiUser>(body, "$");
    }
    assert!(undecodable::<ApiUser>(b"null", "$").contains("expected struct Envelope"));
    // `[]` reads as an envelope without a result.
    let shown = undecodable::<ApiUser>(b"[]", "result");
    assert!(shown.contains("missing `result` and no error"), "{shown}");
}

#[test]
fn truncated_bodies_are_decode_errors_that_say_where() {
    let body = br#"{"error":[],"result":{"id":"2T0RXL","name":"bot","status":"Enabled","roles":["Viewer"]}}"#;
    // Cut inside the result, and cut after it (only the closing brace missing): the latter
    // used to be reported at the meaningless path `?`.
    assert!(
        undecodable::<ApiUser>(&body[..40], "result").contains("EOF while parsing"),
        "says the body ended early"
    );
    assert!(undecodable::<ApiUser>(&body[..body.len() - 1], "$").contains("EOF while parsing"));
    undecodable::<ApiUser>(&body[..5], "$");
    undecodable::<ApiUser>(br#"{"error":["EAPI:Inv"#, "error[0]");
    // Every cut point is a decode error somewhere, never a panic or a success.
    for cut in 0..body.len() {
        assert!(
            matches!(
                parse::<ApiUser>(200, &body[..cut]),
                Err(ResponseError::Decode { .. })
            ),
            "cut at {cut}"
        );
    }
}

#[test]
fn deeply_nested_bodies_hit_the_recursion_limit_not_the_stack() {
    for depth in [200, 10_000, 1_000_000] {
        // In a field this version does not know, which is kept as JSON.
        let body = format!(
            r#"{{"error":[],"result":{{"id":"2T0RXL","status":"Enabled","deep":{}{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let shown = undecodable::<ApiUser>(body.as_bytes(), "result.deep*");
        assert!(shown.contains("recursion limit exceeded"), "{shown}");
    }
    // Nesting as the `result` itself is skipped over as raw JSON without recursing, then
    // refused by type.
    let depth = 1_000_000;
    let body = format!(
        r#"{{"error":[],"result":{}{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let shown = undecodable::<ApiUser>(body.as_bytes(), "result");
    assert!(shown.contains("invalid type: sequence"), "{shown}");
}

#[test]
fn huge_numbers_are_decode_errors_at_their_field() {
    let key = |updated_at: &str| {
        format!(
            r#"{{"error":[],"result":{{"data":[{{"id":"K","key":"KEY","updated_at":{updated_at}}}]}}}}"#
        )
    };
    for huge in ["99999999999999999999999", "1e400", "-1e400", "1.5"] {
        undecodable::<Data<Vec<ApiUserKeyInfo>>>(key(huge).as_bytes(), "result.data[0].updated_at");
    }
    let batch = r#"{"error":[],"result":{"batch":{"id":"B","attributes":{"status":"unsettled","trade_count":18446744073709551616}}}}"#;
    undecodable::<BatchResult>(batch.as_bytes(), "result.batch.attributes.trade_count");
    // Amounts are exact text: a JSON number, however long, is refused rather than rounded.
    let list = r#"{"error":[],"result":{"data":[{"id":"B","attributes":{"status":"unsettled"},"legs":[{"status":"unsettled","asset":"BTC","amount":1234567890123456789012.5}]}],"pagination":{"has_more":false}}}"#;
    undecodable::<BatchList>(list.as_bytes(), "result.data[0].legs[0].amount");
}

#[test]
fn invalid_utf8_is_a_decode_error_that_never_echoes_the_bytes() {
    undecodable::<ApiUser>(b"\xff\xfe{\"error\":[]}", "$");
    let body = b"{\"error\":[],\"result\":{\"id\":\"2T0\xc3\x28RXL\",\"status\":\"Enabled\"}}";
    // Located by line and column: the envelope itself is unreadable as UTF-8.
    let shown = undecodable::<ApiUser>(body, "$");
    assert!(
        shown.contains("invalid unicode code point at line 1 column 32"),
        "{shown}"
    );
    // In an error string: the envelope cannot be read at all.
    undecodable::<ApiUser>(b"{\"error\":[\"EAPI:\xffInvalid key\"]}", "error[0]");
}

#[test]
fn a_created_key_in_a_broken_body_is_never_quoted_by_the_error() {
    // The one-time secret arrives in a body whose shape is wrong elsewhere: the message
    // names the place without quoting the value, and the body is still kept for recovery.
    let secret = "c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1wcmludGVk";
    let body = format!(
        r#"{{"error":[],"result":{{"id":"K","api_key":"KEY","api_secret":"{secret}","permissions":"{secret}"}}}}"#
    );
    // The key exists, so the error is `KeyCreated`: it carries the secret (for delivery) and
    // the decode problem, and neither its message nor its `Debug` quotes the secret.
    let error = parse::<CreatedApiUserKey>(200, body.as_bytes()).expect_err("bad shape");
    let ResponseError::KeyCreated { key, problem } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(key.api_secret().expose(), secret);
    assert!(
        matches!(&**problem, ResponseError::Decode { path, .. } if path == "result.permissions"),
        "{problem:?}"
    );
    assert_eq!(error.body().as_bytes(), body.as_bytes());
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
fn oversized_bodies_are_refused_at_the_cap() {
    // Announced too large: refused before a byte is read.
    let error = BodyBuffer::new(1024, Some(1025)).expect_err("announced over the cap");
    assert_eq!(
        error.kind(),
        TransportErrorKind::BodyTooLarge { limit: 1024 }
    );
    assert!(
        error.to_string().contains("exceeds the size cap"),
        "{error}"
    );
    // Unannounced: refused by the chunk that crosses the cap.
    let mut buffer = BodyBuffer::new(1024, None).expect("within the cap");
    buffer.extend(&[b'x'; 1000]).expect("under the cap");
    let error = buffer.extend(&[b'x'; 25]).expect_err("crosses the cap");
    assert_eq!(
        error.kind(),
        TransportErrorKind::BodyTooLarge { limit: 1024 }
    );
    // The outcome is unknown (the server answered), and it is not worth retrying.
    let error = prime_core::Error::from(error);
    assert!(error.is_outcome_unknown());
    assert_eq!(
        prime_core::RetryPolicy::default().decide(
            <GetApiUser as Endpoint>::IDEMPOTENCY,
            &error,
            prime_core::transport::Attempt::first(),
            0.5
        ),
        prime_core::transport::RetryDecision::Stop
    );
}

#[test]
fn unusable_second_factors_are_refused_before_signing() {
    use prime_core::{Otp, RequestBuilder, endpoints::ListApiUsers};

    assert_eq!(Otp::password("").unwrap_err(), CredentialsError::EmptyOtp);
    for (password, position) in [("12\n34", 2), ("\t1", 0), ("1\u{7f}", 1)] {
        let error = Otp::password(password).unwrap_err();
        assert_eq!(
            error,
            CredentialsError::InvalidOtp { position },
            "{password:?}"
        );
        assert!(error.to_string().contains(&format!("byte {position}")));
    }
    let credentials = Credentials::new("KRA5L19LAW8Z", SECRET)
        .unwrap()
        .with_otp(Otp::generator(|| {
            zeroize::Zeroizing::new("12\r\n".to_owned())
        }));
    let error = RequestBuilder::new()
        .build(&ListApiUsers::new(), &credentials, 1)
        .unwrap_err();
    assert_eq!(error.field(), "otp");
    assert!(error.reason().contains("control character"), "{error}");
}
