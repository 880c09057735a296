//! A reply that carries a created key's one-time secret delivers it, whatever
//! else is odd about it. Every field of the result is replaced by every JSON kind (and removed),
//! the body is cut at every byte after the secret, garbage is appended, errors and statuses come
//! beside it; the secret must come back each time, typed, and never in `Display`/`Debug`.

use http::{HeaderMap, StatusCode};
use prime_core::endpoints::CreatedApiUserKey;
use prime_core::{Reply, ResponseError, parse_response};
use serde_json::{Value, json};

const SECRET: &str = "s3cr3t-Only-Once-6xq8p1mvk9r3n7swt2l5cj4eaydhzbf";

fn documented() -> Value {
    json!({
        "id": "3RM9K4ZTC0C00",
        "api_key": "KRA5L19LAW8Z",
        "api_secret": SECRET,
        "user_id": "2T0RXL9B8K5D6",
        "permissions": ["read::marketdata"],
        "whitelisted_ips": ["192.168.1.1"],
    })
}

fn parse_at(status: StatusCode, body: &[u8]) -> Result<Reply<CreatedApiUserKey>, ResponseError> {
    parse_response(status, &HeaderMap::new(), body)
}

/// The secret reached the caller: as a result, or as `KeyCreated` (never a plain error), and the
/// error's text never shows it.
fn assert_delivered(body: &[u8], status: StatusCode, context: &str) -> Option<ResponseError> {
    match parse_at(status, body) {
        Ok(reply) => {
            assert_eq!(reply.result.api_secret().expose(), SECRET, "{context}");
            None
        }
        Err(error) => {
            let key = error
                .salvaged_key()
                .unwrap_or_else(|| panic!("{context}: secret lost: {error}"));
            assert_eq!(key.api_secret().expose(), SECRET, "{context}");
            let shown = format!("{error} | {error:?} | {key:?}");
            assert!(!shown.contains(SECRET), "{context}: secret shown: {shown}");
            assert!(shown.contains("key was created"), "{context}: {shown}");
            // The raw body is still there, whole.
            assert_eq!(error.body().as_bytes(), body, "{context}");
            Some(error)
        }
    }
}

const ODD_VALUES: [&str; 9] = [
    "null",
    "7",
    "-1.5e300",
    "true",
    "\"\"",
    "[]",
    "[null,1,{}]",
    "{}",
    "{\"a\":[1,{\"b\":null}]}",
];

#[test]
fn every_field_of_every_kind_or_missing_still_delivers_the_secret() {
    let mut odd = 0;
    for field in [
        "id",
        "api_key",
        "user_id",
        "permissions",
        "whitelisted_ips",
        "unknown_field",
    ] {
        for value in ODD_VALUES {
            let mut result = documented();
            result[field] = serde_json::from_str(value).unwrap();
            let body = json!({"error": [], "result": result}).to_string();
            let context = format!("{field} = {value}");
            odd +=
                usize::from(assert_delivered(body.as_bytes(), StatusCode::OK, &context).is_some());
        }
        let mut result = documented();
        result.as_object_mut().unwrap().remove(field);
        let body = json!({"error": [], "result": result}).to_string();
        assert_delivered(body.as_bytes(), StatusCode::OK, &format!("{field} missing"));
    }
    // Each list element, too.
    for list in ["permissions", "whitelisted_ips"] {
        for value in ODD_VALUES {
            let mut result = documented();
            result[list] = json!(["x", serde_json::from_str::<Value>(value).unwrap()]);
            let body = json!({"error": [], "result": result}).to_string();
            assert_delivered(
                body.as_bytes(),
                StatusCode::OK,
                &format!("{list}[1] = {value}"),
            );
        }
    }
    assert!(odd > 20, "the probe must reach the odd path ({odd})");
}

#[test]
fn the_issue_examples_are_key_created_errors_with_the_fields_that_were_strings() {
    for (field, value) in [
        ("whitelisted_ips", json!(null)),
        ("permissions", json!(null)),
        ("id", json!(12345)),
        ("user_id", json!(null)),
    ] {
        let mut result = documented();
        result[field] = value;
        let body = json!({"error": [], "result": result}).to_string();
        let error = parse_at(StatusCode::OK, body.as_bytes()).expect_err(field);
        let ResponseError::KeyCreated { key, problem } = &error else {
            panic!("{field}: {error:?}")
        };
        assert!(matches!(**problem, ResponseError::Decode { .. }), "{field}");
        assert_eq!(key.api_key(), Some("KRA5L19LAW8Z"));
        assert_eq!(key.id(), (field != "id").then_some("3RM9K4ZTC0C00"));
        assert_eq!(
            key.user_id(),
            (field != "user_id").then_some("2T0RXL9B8K5D6")
        );
    }
    let mut result = documented();
    result.as_object_mut().unwrap().remove("id");
    let body = json!({"error": [], "result": result}).to_string();
    let error = parse_at(StatusCode::OK, body.as_bytes()).unwrap_err();
    assert_eq!(error.salvaged_key().unwrap().id(), None);
}

#[test]
fn a_body_cut_anywhere_after_the_secret_still_delivers_it() {
    for secret_first in [true, false] {
        // The secret early in the result, or last (after every other field).
        let body = if secret_first {
            format!(
                r#"{{"error":[],"result":{{"api_secret":"{SECRET}","id":"K","api_key":"A","user_id":"U","permissions":["p"],"whitelisted_ips":["1.2.3.4"]}}}}"#
            )
        } else {
            format!(
                r#"{{"error":[],"result":{{"id":"K","api_key":"A","user_id":"U","permissions":["p"],"whitelisted_ips":["1.2.3.4"],"api_secret":"{SECRET}"}}}}"#
            )
        };
        let end_of_secret = body.find(SECRET).unwrap() + SECRET.len() + 1;
        for cut in end_of_secret..body.len() {
            assert_delivered(
                &body.as_bytes()[..cut],
                StatusCode::OK,
                &format!("cut at {cut} of {}", body.len()),
            );
        }
        // Cut before the secret is complete: there is no secret to deliver, and no
        // partial secret is ever passed off as one.
        for cut in 0..end_of_secret {
            let error = parse_at(StatusCode::OK, &body.as_bytes()[..cut]).unwrap_err();
            assert!(error.salvaged_key().is_none(), "cut at {cut}");
        }
    }
}

#[test]
fn garbage_after_or_around_a_complete_reply_still_delivers_the_secret() {
    let good = json!({"error": [], "result": documented()}).to_string();
    for garbage in [
        "x",
        "}",
        "]]]",
        "\u{0}",
        "{\"error\":[]}",
        " \n<html>502</html>",
        ",",
    ] {
        let body = format!("{good}{garbage}");
        assert_delivered(body.as_bytes(), StatusCode::OK, &format!("+{garbage:?}"));
    }
    // Malformed members *after* the result, and a broken error list before it.
    for body in [
        format!(r#"{{"result":{},"error":[1,2]}}"#, documented()),
        format!(
            r#"{{"result":{},"error":"EGeneral:Internal error"}}"#,
            documented()
        ),
        format!(r#"{{"result":{},"error":[],"x":}}"#, documented()),
        format!(r#"{{"error":null,"result":{}}}"#, documented()),
        format!(r#"{{"result":{},"result":null}}"#, documented()),
    ] {
        assert_delivered(body.as_bytes(), StatusCode::OK, &body);
    }
}

#[test]
fn errors_and_statuses_beside_the_secret_still_deliver_it_and_keep_the_errors() {
    let result = documented();
    for errors in [
        json!(["EGeneral:Invalid arguments"]),
        json!(["EService:Unavailable", "WGeneral:Something"]),
        json!(["EAPI:Invalid nonce"]),
        json!(["EFoo:\u{1b}[31mred"]),
    ] {
        let body = json!({"error": errors, "result": result}).to_string();
        let error = assert_delivered(body.as_bytes(), StatusCode::OK, &body).unwrap();
        assert!(!error.kraken_errors().is_empty(), "{body}");
        let ResponseError::KeyCreated { problem, .. } = &error else {
            unreachable!()
        };
        assert!(matches!(**problem, ResponseError::Api { .. }));
    }
    for status in [400u16, 404, 429, 500, 502, 503, 520] {
        let status = StatusCode::from_u16(status).unwrap();
        let body = json!({"error": [], "result": result}).to_string();
        let error = assert_delivered(body.as_bytes(), status, &status.to_string()).unwrap();
        let ResponseError::KeyCreated { problem, .. } = &error else {
            unreachable!()
        };
        assert!(matches!(**problem, ResponseError::Status { .. }));
    }
}

#[test]
fn secret_text_is_decoded_as_json_and_the_first_string_wins() {
    // JSON escapes in the secret are decoded, exactly as the strict parser would.
    let body = r#"{"error":[1],"result":{"api_secret":"a\u0041\/b\\c"}}"#;
    let error = parse_at(StatusCode::OK, body.as_bytes()).unwrap_err();
    assert_eq!(
        error.salvaged_key().unwrap().api_secret().expose(),
        "aA/b\\c"
    );
    // A duplicate member never replaces the first secret; a non-string one is not a secret.
    let body =
        r#"{"error":[1],"result":{"api_secret":7,"api_secret":"first","api_secret":"second"}}"#;
    let error = parse_at(StatusCode::OK, body.as_bytes()).unwrap_err();
    assert_eq!(error.salvaged_key().unwrap().api_secret().expose(), "first");
}

#[test]
fn replies_without_a_string_secret_are_unchanged() {
    for body in [
        r#"{"error":[],"result":{"api_secret":null,"id":"K"}}"#.to_owned(),
        r#"{"error":[],"result":{"api_secret":12,"id":"K"}}"#.to_owned(),
        r#"{"error":[],"result":{"api_secret":{"text":"x"}}}"#.to_owned(),
        r#"{"error":[],"result":{"nested":{"api_secret":"x"}}}"#.to_owned(),
        r#"{"error":[],"api_secret":"x"}"#.to_owned(),
        r#"{"error":[],"result":"api_secret"}"#.to_owned(),
        r#"{"error":[],"result":["api_secret","x"]}"#.to_owned(),
        r#"["result",{"api_secret":"x"}]"#.to_owned(),
        "<html>502</html>".to_owned(),
        String::new(),
    ] {
        let error = parse_at(StatusCode::OK, body.as_bytes()).unwrap_err();
        assert!(error.salvaged_key().is_none(), "{body}: {error:?}");
        assert!(!matches!(error, ResponseError::KeyCreated { .. }));
    }
}

#[test]
fn a_created_key_is_never_resent_whatever_the_problem() {
    use prime_core::transport::{Attempt, RetryDecision};
    use prime_core::{Error, Idempotency, RetryPolicy};
    let result = documented();
    let bodies = [
        (
            StatusCode::OK,
            json!({"error": ["EAPI:Invalid nonce"], "result": result}),
        ),
        (
            StatusCode::OK,
            json!({"error": ["EService:Unavailable"], "result": result}),
        ),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": [], "result": result}),
        ),
        (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": [], "result": result}),
        ),
        (
            StatusCode::OK,
            json!({"error": [], "result": {"api_secret": SECRET, "id": 1}}),
        ),
    ];
    for (status, body) in bodies {
        let error = Error::from(parse_at(status, body.to_string().as_bytes()).unwrap_err());
        assert!(error.response().unwrap().salvaged_key().is_some());
        for idempotency in [Idempotency::Idempotent, Idempotency::NonIdempotent] {
            let decision =
                RetryPolicy::default().decide(idempotency, &error, Attempt::first(), 0.5);
            assert!(
                matches!(decision, RetryDecision::Stop),
                "{status} {body}: {decision:?}"
            );
        }
    }
}
