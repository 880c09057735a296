//! `Credentials`, `ApiKey` and `SigningKey::from_base64`: typed refusals with positions, and
//! what is accepted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prime_core::{ApiKey, ApiSecret, Credentials, CredentialsError, SECRET_LEN, SigningKey};

const SECRET: &str =
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";

#[test]
fn valid_credentials_keep_the_key_and_mark_it_sensitive() {
    let credentials = Credentials::new("KRA5L19LAW8Z", SECRET).expect("valid");
    assert_eq!(credentials.api_key().as_str(), "KRA5L19LAW8Z");
    assert_eq!(credentials.api_key().header_value(), "KRA5L19LAW8Z");
    assert!(credentials.api_key().header_value().is_sensitive());

    let parts = Credentials::from_parts(
        ApiKey::new("KRA5L19LAW8Z").expect("valid key"),
        SigningKey::from_base64(SECRET).expect("valid secret"),
    );
    assert_eq!(
        parts.signing_key().sign("/p", b"1", b"{}"),
        credentials.signing_key().sign("/p", b"1", b"{}")
    );
}

#[test]
fn the_api_key_is_masked_in_debug() {
    let key = ApiKey::new("KRA5L19LAW8Z").expect("valid key");
    let debug = format!("{key:?}");
    assert!(debug.contains("KRA5"), "{debug}");
    assert!(!debug.contains("KRA5L"), "{debug}");
    assert!(debug.contains("12 chars"), "{debug}");
}

#[test]
fn bad_api_keys_are_refused_with_the_position() {
    assert_eq!(ApiKey::new("").unwrap_err(), CredentialsError::EmptyKey);
    for (key, position) in [
        ("KRA 5", 3),
        ("KRA5\n", 4),
        ("\tKRA5", 0),
        ("Kéy", 1),
        ("K\u{7f}", 1),
    ] {
        assert_eq!(
            ApiKey::new(key).unwrap_err(),
            CredentialsError::InvalidKey { position },
            "{key:?}"
        );
        assert_eq!(
            Credentials::new(key, SECRET).unwrap_err(),
            CredentialsError::InvalidKey { position }
        );
    }
}

#[test]
fn bad_secrets_are_refused_with_a_typed_reason() {
    let short = STANDARD.encode([7u8; 32]);
    let long = STANDARD.encode([7u8; 65]);
    let huge = "A".repeat(100_000);
    let cases: [(&str, CredentialsError); 11] = [
        ("", CredentialsError::EmptySecret),
        (" kQH5", CredentialsError::SecretWhitespace { position: 0 }),
        (
            // A line break pasted into the middle.
            &format!("{}\n{}", &SECRET[..24], &SECRET[24..]),
            CredentialsError::SecretWhitespace { position: 24 },
        ),
        (
            &format!("{SECRET}\n"),
            CredentialsError::SecretWhitespace { position: 88 },
        ),
        (
            &SECRET.replacen('/', "!", 1),
            CredentialsError::SecretNotBase64 { position: 6 },
        ),
        (
            // The URL-safe alphabet is not what Kraken issues.
            &SECRET.replacen('/', "_", 1),
            CredentialsError::SecretNotBase64 { position: 6 },
        ),
        (
            // Missing padding: reported at the end.
            SECRET.trim_end_matches('='),
            CredentialsError::SecretNotBase64 { position: 86 },
        ),
        (
            // Bits after the last byte must be zero ("Xg==" is canonical, "Xh==" is not).
            &SECRET.replace("Xg==", "Xh=="),
            CredentialsError::SecretNotBase64 { position: 85 },
        ),
        (&short, CredentialsError::SecretLength { decoded_len: 32 }),
        (&long, CredentialsError::SecretLength { decoded_len: 65 }),
        (
            &huge,
            CredentialsError::SecretLength {
                decoded_len: 75_000,
            },
        ),
    ];
    for (secret, expected) in cases {
        let shown: String = secret.chars().take(40).collect();
        assert_eq!(
            SigningKey::from_base64(secret).unwrap_err(),
            expected,
            "{shown:?}"
        );
        assert_eq!(
            Credentials::new("KRA5L19LAW8Z", secret).unwrap_err(),
            expected
        );
    }
}

#[test]
fn credential_errors_say_what_to_fix() {
    let message = |e: CredentialsError| e.to_string();
    assert_eq!(
        message(CredentialsError::EmptySecret),
        "the API secret is empty"
    );
    assert!(message(CredentialsError::SecretWhitespace { position: 24 }).contains("byte 24"));
    assert!(
        message(CredentialsError::SecretNotBase64 { position: 6 }).contains("not valid base64")
    );
    let length = message(CredentialsError::SecretLength { decoded_len: 32 });
    assert!(length.contains("32 bytes") && length.contains(&SECRET_LEN.to_string()));
    assert!(message(CredentialsError::InvalidKey { position: 3 }).contains("byte 3"));
}

#[test]
fn an_issued_secret_turns_into_credentials() {
    let secret = ApiSecret::new(SECRET.to_owned());
    let credentials = secret.credentials_for("KRA5L19LAW8Z").expect("valid");
    assert_eq!(credentials.api_key().as_str(), "KRA5L19LAW8Z");
    assert_eq!(
        ApiSecret::new("not base64".to_owned())
            .credentials_for("KRA5L19LAW8Z")
            .unwrap_err(),
        CredentialsError::SecretWhitespace { position: 3 }
    );
}

#[test]
fn core_types_can_be_shared_across_threads_and_boxed_as_errors() {
    // Transports share one `Credentials` and nonce source across threads and tasks, and
    // callers box errors (`?` into `Box<dyn Error + Send + Sync>`).
    fn send_sync<T: Send + Sync + 'static>() {}
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    send_sync::<Credentials>();
    send_sync::<SigningKey>();
    send_sync::<ApiSecret>();
    send_sync::<prime_core::ClockNonce>();
    send_sync::<prime_core::RequestBuilder>();
    error::<CredentialsError>();
    error::<prime_core::ArgumentError>();
    error::<prime_core::ResponseError>();
    error::<prime_core::TransportError>();
    error::<prime_core::Error>();
}
