//! Secret hygiene: with a recognisable secret, nothing that can be printed — `Debug`,
//! `Display`, error messages — shows it, and the secret types cannot be displayed or
//! serialized at all.

use std::marker::PhantomData;

use http::{HeaderMap, StatusCode};
use prime_core::endpoints::{CreateApiUserKey, CreatedApiUserKey, DeletedApiUserKey};
use prime_core::{
    ApiSecret, Credentials, CredentialsError, Delivery, Endpoint as _, RawBody, Reply,
    RequestBuilder, ResponseError, SigningKey, TransportError, TransportErrorKind, parse_response,
};

/// A valid 64-byte secret whose text is easy to spot in any output.
const SECRET: &str =
    "Sup3rS3cr3tZQx7Sup3rS3cr3tZQx7Sup3rS3cr3tZQx7Sup3rS3cr3tZQx7Sup3rS3cr3tZQx7Sup3rS3cr3Q==";

/// Fails if `text` holds the secret or any 8-character run of it (a recognisable fragment:
/// long enough not to occur in English messages, short enough to catch partial leaks).
#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    let chars: Vec<char> = SECRET.chars().collect();
    for window in chars.windows(8) {
        let fragment: String = window.iter().collect();
        assert!(
            !text.contains(&fragment),
            "{what} shows {fragment:?} of the secret: {text}"
        );
    }
}

#[track_caller]
fn assert_debug_and_display_clean<T: std::fmt::Debug + std::fmt::Display>(what: &str, value: &T) {
    assert_no_secret(&format!("{what} (Debug)"), &format!("{value:?}"));
    assert_no_secret(&format!("{what} (alternate Debug)"), &format!("{value:#?}"));
    assert_no_secret(&format!("{what} (Display)"), &value.to_string());
}

/// `implements!(T: Trait)`: whether `T` implements `Trait`, decided at compile time. An
/// inherent associated const whose bound holds wins over the trait's fallback.
macro_rules! implements {
    ($ty:ty: $($bound:tt)+) => {{
        struct Probe<T: ?Sized>(PhantomData<T>);
        #[allow(dead_code)]
        trait Fallback {
            const YES: bool = false;
        }
        impl<T: ?Sized> Fallback for Probe<T> {}
        #[allow(dead_code)]
        impl<T: ?Sized + $($bound)+> Probe<T> {
            const YES: bool = true;
        }
        <Probe<$ty>>::YES
    }};
}

#[test]
fn the_probe_detects_implementations() {
    // Guards the check below against a probe that always says "no".
    assert!(implements!(String: std::fmt::Display));
    assert!(implements!(String: serde::Serialize));
    assert!(!implements!(Vec<u8>: std::fmt::Display));
}

#[test]
fn secret_types_cannot_be_displayed_or_serialized() {
    assert!(!implements!(ApiSecret: std::fmt::Display));
    assert!(!implements!(ApiSecret: serde::Serialize));
    assert!(!implements!(Credentials: std::fmt::Display));
    assert!(!implements!(Credentials: serde::Serialize));
    assert!(!implements!(SigningKey: std::fmt::Display));
    assert!(!implements!(SigningKey: serde::Serialize));
    assert!(!implements!(CreatedApiUserKey: std::fmt::Display));
    assert!(!implements!(CreatedApiUserKey: serde::Serialize));
    assert!(!implements!(Reply<CreatedApiUserKey>: serde::Serialize));
    assert!(!implements!(RawBody: std::fmt::Display));
    assert!(!implements!(RawBody: serde::Serialize));
}

#[test]
fn credentials_and_keys_never_print_the_secret() {
    let credentials = Credentials::new("KRA5L19LAW8Z", SECRET).expect("valid");
    assert_no_secret("Credentials", &format!("{credentials:?} {credentials:#?}"));
    assert_no_secret("Credentials clone", &format!("{:?}", credentials.clone()));
    let key = SigningKey::from_base64(SECRET).expect("valid");
    assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
    let secret = ApiSecret::new(SECRET.to_owned());
    assert_eq!(format!("{secret:?}"), "ApiSecret(<redacted>)");
    assert_eq!(secret.expose(), SECRET);

    // The signed request carries the key and signature as sensitive headers, never the
    // secret; `http` prints sensitive values as `Sensitive`.
    let request = RequestBuilder::new()
        .build(&CreateApiUserKey::new("2T0RXL9B8K5D6"), &credentials, 1)
        .expect("valid");
    let debug = format!("{request:?}");
    assert_no_secret("signed request", &debug);
    assert!(!debug.contains("KRA5L19LAW8Z"), "{debug}");
}

#[test]
fn credential_errors_never_show_the_secret_or_a_fragment() {
    let malformed = [
        format!(" {} {SECRET}", &SECRET[..40]),
        format!("{}\n{SECRET}\n", &SECRET[..40]),
        format!("{} {}", &SECRET[..40], &SECRET[40..]),
        format!("{}!{}", &SECRET[..40], &SECRET[41..]),
        SECRET.trim_end_matches('=').to_owned(),
        SECRET[..61].to_owned(),
        format!("{}{SECRET}", &SECRET[..85]),
        SECRET.replace('3', "-"),
        SECRET.replace('3', "_"),
        SECRET.repeat(100),
    ];
    let mut seen = Vec::new();
    for secret in &malformed {
        let error = SigningKey::from_base64(secret).expect_err("malformed");
        assert_debug_and_display_clean("CredentialsError", &error);
        let via_credentials = Credentials::new("KRA5L19LAW8Z", secret).expect_err("malformed");
        assert_eq!(via_credentials, error);
        let unified = std::mem::discriminant(&error);
        if !seen.contains(&unified) {
            seen.push(unified);
        }
    }
    // Whitespace and not base64 are both exercised (any length is accepted).
    assert!(seen.len() >= 2, "{seen:?}");
    for password in ["", "zq7\nXv9", "zq7Xv9\u{7f}"] {
        let error = prime_core::Otp::password(password).expect_err("refused");
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains("zq7") && !shown.contains("Xv9"), "{shown}");
        }
    }
    for error in [
        CredentialsError::EmptyKey,
        CredentialsError::EmptySecret,
        CredentialsError::InvalidKey { position: 3 },
    ] {
        assert_debug_and_display_clean("CredentialsError", &error);
    }
}

fn created_key_body(error: &str) -> String {
    format!(
        r#"{{"error":[{error}],"result":{{"id":"3RM9K4ZTC0C00","api_key":"KRA5L19LAW8Z","api_secret":"{SECRET}","user_id":"2T0RXL9B8K5D6","permissions":["read::marketdata"],"whitelisted_ips":[]}}}}"#
    )
}

#[test]
fn the_created_key_and_its_reply_never_print_the_secret() {
    let body = created_key_body(r#""WGeneral:Notice""#);
    let reply =
        parse_response::<CreatedApiUserKey>(StatusCode::OK, &HeaderMap::new(), body.as_bytes())
            .expect("valid");
    assert_eq!(reply.result.api_secret().expose(), SECRET);
    assert_no_secret(
        "CreatedApiUserKey",
        &format!("{:?} {:#?}", reply.result, reply.result),
    );
    assert_no_secret("Reply<CreatedApiUserKey>", &format!("{reply:?} {reply:#?}"));
    let debug = format!("{:?}", reply.result);
    assert!(debug.contains("KRA5L19LAW8Z"), "the rest is shown: {debug}");
}

/// Response errors built from bodies that carry the secret, one per way a body can fail.
fn errors_from_bodies_with_the_secret() -> Vec<(&'static str, ResponseError)> {
    let parse = |status: u16, body: String| {
        parse_response::<CreatedApiUserKey>(
            StatusCode::from_u16(status).expect("status"),
            &HeaderMap::new(),
            body.as_bytes(),
        )
        .expect_err("a failure")
    };
    let with_secret = created_key_body("");
    vec![
        (
            "Api",
            parse(200, created_key_body(r#""EGeneral:Invalid arguments""#)),
        ),
        (
            "Status with JSON",
            parse(500, created_key_body(r#""EGeneral:Internal error""#)),
        ),
        (
            "Status with HTML",
            parse(502, format!("<html>{SECRET}</html>")),
        ),
        // serde_json quotes offending strings in its messages; they must be elided.
        (
            "Decode: wrong type holding the secret",
            parse(
                200,
                with_secret.replace(
                    r#""whitelisted_ips":[]"#,
                    &format!(r#""whitelisted_ips":"{SECRET}""#),
                ),
            ),
        ),
        (
            "Decode: the secret as the error field",
            parse(200, format!(r#"{{"error":"{SECRET}"}}"#)),
        ),
        (
            "Decode: the secret as an array element of the wrong type",
            parse(
                200,
                with_secret.replace(
                    r#""permissions":["read::marketdata"]"#,
                    &format!(r#""permissions":[1,"{SECRET}",{{}}]"#),
                ),
            ),
        ),
        (
            "Decode: truncated inside the secret",
            parse(
                200,
                with_secret[..with_secret.find("Sup3rS3cr3tZQx7Sup").expect("inside") + 18]
                    .to_owned(),
            ),
        ),
        (
            "Decode: bad escape inside the secret",
            parse(
                200,
                with_secret.replace("Sup3rS3cr3tZQx7Sup", r"Sup3rS3cr3tZQx7\qSup"),
            ),
        ),
        (
            "Decode: a missing field beside the secret",
            parse(200, with_secret.replace(r#""id":"3RM9K4ZTC0C00","#, "")),
        ),
        (
            "Decode: trailing garbage",
            parse(200, format!("{with_secret}{SECRET}")),
        ),
    ]
}

#[test]
fn response_errors_never_print_a_secret_from_the_body() {
    let errors = errors_from_bodies_with_the_secret();
    let mut kinds = Vec::new();
    for (what, error) in errors {
        // The body is kept, secret included, for recovery...
        assert!(
            String::from_utf8_lossy(error.body().as_bytes()).contains("Sup3rS3cr3t"),
            "{what}: body kept"
        );
        assert_eq!(
            format!("{:?}", error.body()),
            format!("RawBody({} bytes)", error.body().len())
        );
        // ...but never printed, neither as a ResponseError nor as the unified Error.
        assert_debug_and_display_clean(what, &error);
        let kind = std::mem::discriminant(&error);
        let unified = prime_core::Error::Response(error);
        assert_debug_and_display_clean(what, &unified);
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    assert_eq!(kinds.len(), 3, "Status, Api and Decode are all covered");
}

#[test]
fn a_recovered_secret_is_still_a_secret() {
    let body = created_key_body(r#""EGeneral:Invalid arguments""#);
    let error =
        parse_response::<CreatedApiUserKey>(StatusCode::OK, &HeaderMap::new(), body.as_bytes())
            .expect_err("error envelope");
    let key: CreatedApiUserKey = error.recover_result().expect("recoverable");
    assert_eq!(key.api_secret().expose(), SECRET);
    assert_no_secret("recovered key", &format!("{key:?}"));
    // Recovering as another type finds nothing rather than something wrong.
    assert_eq!(error.recover_result::<DeletedApiUserKey>(), None);
}

#[test]
fn other_unified_errors_never_print_the_secret() {
    let transport = prime_core::Error::Transport(TransportError::from_kind(
        Delivery::MaybeSent,
        TransportErrorKind::Timeout,
    ));
    assert_debug_and_display_clean("Transport", &transport);
    assert!(transport.is_outcome_unknown());
    let argument: prime_core::Error = CreateApiUserKey::new(SECRET.replace('3', " "))
        .validate()
        .expect_err("an id with spaces")
        .into();
    assert_debug_and_display_clean("InvalidArgument", &argument);
}
