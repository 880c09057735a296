//! Kraken's error strings, `<E|W><Category>:<Type>[:<extra>]`, parsed into typed codes without
//! losing anything.

use prime_core::{ErrorCode, KrakenError, Severity};

/// Every code `docs/spec/protocol.md` lists.
const DOCUMENTED: [(&str, ErrorCode); 14] = [
    ("EAPI:Invalid key", ErrorCode::InvalidKey),
    ("EAPI:Invalid signature", ErrorCode::InvalidSignature),
    ("EAPI:Invalid nonce", ErrorCode::InvalidNonce),
    ("EGeneral:Permission denied", ErrorCode::PermissionDenied),
    (
        "EGeneral:Invalid arguments",
        ErrorCode::InvalidArguments { field: None },
    ),
    ("EAPI:Rate limit exceeded", ErrorCode::RateLimitExceeded),
    ("EGeneral:Temporary lockout", ErrorCode::TemporaryLockout),
    (
        "EAuth:Rate limit exceeded",
        ErrorCode::AuthRateLimitExceeded,
    ),
    ("EAuth:Too many requests", ErrorCode::AuthTooManyRequests),
    (
        "EAuth:Account temporary disabled",
        ErrorCode::AccountTemporaryDisabled,
    ),
    ("EAuth:Account unconfirmed", ErrorCode::AccountUnconfirmed),
    ("EService:Unavailable", ErrorCode::ServiceUnavailable),
    ("EService:Busy", ErrorCode::ServiceBusy),
    ("EGeneral:Internal error", ErrorCode::InternalError),
];

#[test]
fn every_documented_code_is_recognised() {
    for (text, code) in DOCUMENTED {
        let error = KrakenError::parse(text);
        assert_eq!(error.code(), &code, "{text}");
        assert_eq!(error.severity(), Severity::Error, "{text}");
        assert_eq!(error.as_str(), text);
        assert_eq!(error.to_string(), text);
    }
}

#[test]
fn documented_codes_as_warnings_keep_their_code() {
    for (text, code) in DOCUMENTED {
        let warning_text = format!("W{}", &text[1..]);
        let warning = KrakenError::parse(&warning_text);
        assert_eq!(warning.severity(), Severity::Warning, "{warning_text}");
        assert_eq!(warning.code(), &code, "{warning_text}");
        assert_eq!(warning.as_str(), warning_text);
    }
}

#[test]
fn invalid_arguments_names_the_field() {
    let cases = [
        ("EGeneral:Invalid arguments:user_id", Some("user_id")),
        (
            "EGeneral:Invalid arguments:whitelisted_ips",
            Some("whitelisted_ips"),
        ),
        // Anything after the second colon is the field, colons included.
        ("EGeneral:Invalid arguments:a:b", Some("a:b")),
        // An empty extra names no field.
        ("EGeneral:Invalid arguments:", None),
    ];
    for (text, field) in cases {
        let error = KrakenError::parse(text);
        assert_eq!(
            error.code(),
            &ErrorCode::InvalidArguments {
                field: field.map(str::to_owned)
            },
            "{text}"
        );
        assert_eq!(error.as_str(), text);
    }
}

#[test]
fn documented_codes_with_extra_text_keep_their_code() {
    // The format allows `:<extra>` after any code; the extra stays in the raw string.
    let cases = [
        (
            "EService:Unavailable:maintenance",
            ErrorCode::ServiceUnavailable,
        ),
        ("EAPI:Invalid nonce:window", ErrorCode::InvalidNonce),
        ("EAPI:Rate limit exceeded:10s", ErrorCode::RateLimitExceeded),
        (
            "EGeneral:Permission denied:settle",
            ErrorCode::PermissionDenied,
        ),
    ];
    for (text, code) in cases {
        let error = KrakenError::parse(text);
        assert_eq!(error.code(), &code, "{text}");
        assert_eq!(error.as_str(), text);
    }
}

#[test]
fn unknown_strings_are_kept_verbatim() {
    let cases = [
        (
            "EOrder:Insufficient funds",
            Severity::Error,
            "Order:Insufficient funds",
        ),
        (
            "WFunding:Something new",
            Severity::Warning,
            "Funding:Something new",
        ),
        ("EAPI:Invalid Key", Severity::Error, "API:Invalid Key"),
        ("EAPI:Invalid keys", Severity::Error, "API:Invalid keys"),
        ("EAPI", Severity::Error, "API"),
        // Without a severity letter nothing is assumed to be a success.
        ("Invalid key", Severity::Error, "Invalid key"),
        ("", Severity::Error, ""),
        ("E", Severity::Error, ""),
        ("Ünïcode:Wörds", Severity::Error, "Ünïcode:Wörds"),
    ];
    for (text, severity, other) in cases {
        let error = KrakenError::parse(text);
        assert_eq!(error.severity(), severity, "{text:?}");
        assert_eq!(
            error.code(),
            &ErrorCode::Other(other.to_owned()),
            "{text:?}"
        );
        assert_eq!(error.as_str(), text);
        assert_eq!(error.to_string(), text);
    }
}

#[test]
fn throttles_keep_their_time_with_or_without_spaces() {
    // Kraken's rate-limit guide spells it with spaces; the spaceless form must mean the same.
    for text in [
        "EService: Throttled: 1795880000",
        "EService:Throttled:1795880000",
        "EService:Throttled: 1795880000",
        "EService : Throttled : 1795880000 ",
    ] {
        let error = KrakenError::parse(text);
        assert_eq!(
            error.code(),
            &ErrorCode::Throttled {
                until: Some(1_795_880_000)
            },
            "{text:?}"
        );
        assert_eq!(error.as_str(), text, "the raw string is kept");
        assert!(error.code().is_rate_limit());
    }
    // Without a usable time it is still a throttle, just an untimed one.
    for text in [
        "EService: Throttled",
        "EService:Throttled:",
        "EService:Throttled:soon",
        "EService:Throttled:-5",
        "EService:Throttled:99999999999999999999999",
    ] {
        assert_eq!(
            KrakenError::parse(text).code(),
            &ErrorCode::Throttled { until: None },
            "{text:?}"
        );
    }
    let busy = KrakenError::parse("EGeneral:Too many requests");
    assert_eq!(busy.code(), &ErrorCode::TooManyRequests);
    assert!(busy.code().is_rate_limit());
    assert!(!ErrorCode::ServiceBusy.is_rate_limit());
}

#[test]
fn the_table_and_the_parser_agree() {
    // Every code's own string (and its complete Display form) parses back to it: the
    // simulator answers with these strings, the clients read them.
    let codes = [
        ErrorCode::InvalidKey,
        ErrorCode::InvalidSignature,
        ErrorCode::InvalidNonce,
        ErrorCode::PermissionDenied,
        ErrorCode::InvalidArguments { field: None },
        ErrorCode::InvalidArguments {
            field: Some("user_id".into()),
        },
        ErrorCode::RateLimitExceeded,
        ErrorCode::Throttled { until: None },
        ErrorCode::Throttled {
            until: Some(1_795_880_000),
        },
        ErrorCode::TooManyRequests,
        ErrorCode::TemporaryLockout,
        ErrorCode::AuthRateLimitExceeded,
        ErrorCode::AuthTooManyRequests,
        ErrorCode::AccountTemporaryDisabled,
        ErrorCode::AccountUnconfirmed,
        ErrorCode::ServiceUnavailable,
        ErrorCode::ServiceBusy,
        ErrorCode::InternalError,
    ];
    for code in codes {
        assert_eq!(
            KrakenError::parse(&code.to_string()).code(),
            &code,
            "{code}"
        );
        assert!(code.as_str().starts_with('E'), "{code}");
    }
    assert_eq!(
        ErrorCode::Throttled {
            until: Some(1_795_880_000)
        }
        .to_string(),
        "EService: Throttled: 1795880000"
    );
    assert_eq!(
        ErrorCode::InvalidArguments {
            field: Some("limit".into())
        }
        .to_string(),
        "EGeneral:Invalid arguments:limit"
    );
}

#[test]
fn every_documented_rate_limit_is_typed_as_one_from_any_server() {
    // Kraken's Spot errors guide lists the `EAuth:` ones beside `EAPI:Rate limit exceeded`;
    // spacing and an extra part do not hide them, warnings included.
    for text in [
        "EAPI:Rate limit exceeded",
        "EAuth:Rate limit exceeded",
        "EAuth:Too many requests",
        "EAuth : Rate limit exceeded",
        "EAuth:Rate limit exceeded:retry later",
        "WAuth:Rate limit exceeded",
        "EService: Throttled: 1795880000",
    ] {
        let code = KrakenError::parse(text).code().clone();
        assert!(code.is_rate_limit(), "{text} is a rate limit");
        assert!(!code.is_lockout(), "{text}");
    }
    let lockout = KrakenError::parse("EGeneral:Temporary lockout");
    assert!(lockout.code().is_lockout());
    assert!(!lockout.code().is_rate_limit());
    for text in [
        "EAuth:Account temporary disabled",
        "EAuth:Account unconfirmed",
        "EAPI:Invalid nonce",
        "EAuth:Something new",
    ] {
        let code = KrakenError::parse(text).code().clone();
        assert!(!code.is_rate_limit() && !code.is_lockout(), "{text}");
    }
}
