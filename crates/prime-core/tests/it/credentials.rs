//! `Credentials`, `ApiKey` and `SigningKey::from_base64`: typed refusals with positions, and
//! what is accepted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prime_core::{ApiKey, ApiSecret, Credentials, CredentialsError, SECRET_LEN, SigningKey};

const SECRET: &str = prime_core::example::SECRET;

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
    let cases: [(&str, CredentialsError); 10] = [
        ("", CredentialsError::EmptySecret),
        (" \n\t ", CredentialsError::EmptySecret),
        (
            " kQH5 kQH5",
            CredentialsError::SecretWhitespace { position: 5 },
        ),
        (
            // A line break pasted into the middle.
            &format!("{}\n{}", &SECRET[..24], &SECRET[24..]),
            CredentialsError::SecretWhitespace { position: 24 },
        ),
        (
            // Inner whitespace is reported where it is in the text as given.
            &format!("  {}\r\n{}\n", &SECRET[..10], &SECRET[10..]),
            CredentialsError::SecretWhitespace { position: 12 },
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
        (
            // Positions count bytes of the text as given, trimmed (here two-byte) space included.
            &format!("\u{a0}{}!{}", &SECRET[..10], &SECRET[11..]),
            CredentialsError::SecretNotBase64 { position: 12 },
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
    assert!(message(CredentialsError::InvalidOtp { position: 2 }).contains("byte 2"));
    assert!(message(CredentialsError::InvalidKey { position: 3 }).contains("byte 3"));
}

#[test]
fn secrets_of_any_length_sign_and_surrounding_whitespace_is_ignored() {
    // HMAC takes keys of any length: Kraken's own Rust SDK tests with a 32-byte secret. The
    // expected values come from Python, independently of this crate:
    // python3 -c "import hmac,hashlib,base64; k=bytes(range(N)); m=b'/0/private/X'+hashlib.sha256(b'1'+b'{\"nonce\":1}').digest(); print(base64.b64encode(hmac.new(k,m,hashlib.sha512).digest()).decode())"
    let cases = [
        (
            1,
            "EGBn1ALjk8y8R6I30a3QUjvJHzqboYnay1lUwysAsL9k4eTeu94f0NIdRqj36isOJ4vNYo28HURD1S7aRY5X5Q==",
        ),
        (
            32,
            "mcM4LQxTo9kHpp6tmoo20FCteAEtTflCiWOz2h768SqIRbKtoEWmN73TUb5DuStdbEhFymVyPhuitkd+l5pJDw==",
        ),
        (
            128,
            "Y//bg76XW0VP6XCT6mxV8SLDlrHRsFoRsueXCX08b30vpuL6I+GN6bmH6wUHPjlF6jX3dDdJntCABG9/bdRJfg==",
        ),
        (
            200,
            "itrmAKl9Qw0WH2Za/QAHZuDrDwE/sVTz2LdLd+uL4We+t5UX4SchZg2EvyLzLJakr6oJd9x7Xq1CXmxyF7jKpg==",
        ),
    ];
    for (len, expected) in cases {
        let bytes: Vec<u8> = (0..len).map(|b| u8::try_from(b).unwrap()).collect();
        let secret = STANDARD.encode(&bytes);
        for text in [
            secret.clone(),
            format!("{secret}\n"),
            format!("  {secret}\r\n"),
            format!("\t{secret} "),
        ] {
            let key = SigningKey::from_base64(&text).expect("any non-empty base64 secret");
            assert_eq!(key.secret_len(), len);
            assert_eq!(
                key.sign("/0/private/X", b"1", br#"{"nonce":1}"#).as_str(),
                expected,
                "{len} bytes"
            );
            let credentials = Credentials::new("K", &text).expect("valid");
            assert_eq!(credentials.signing_key().secret_len(), len);
        }
    }
    assert_eq!(
        SigningKey::from_base64(SECRET).unwrap().secret_len(),
        SECRET_LEN
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
