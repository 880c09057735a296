//! What an adopter matches on and relies on: errors sorted in one step, the overall deadline
//! in the call driver, constant-time secret comparison, and the generated methods' doc links.

use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, StatusCode};
use prime_core::endpoints::{CreateApiUserKey, ListApiUsers};
use prime_core::transport::{ClientCore, Step, maybe_sent, not_sent};
use prime_core::{
    ApiSecret, CountingNonce, Credentials, Delivery, Error, ErrorCode, ErrorKind, KrakenError,
    ResponseError, RetryPolicy, RetryWait, Settings, TransportErrorKind, parse_response,
};

fn refused(status: u16, body: &str, headers: HeaderMap) -> Error {
    let status = StatusCode::from_u16(status).expect("status");
    parse_response::<serde_json::Value>(status, &headers, body.as_bytes())
        .expect_err("a refusal")
        .into()
}

fn kraken(code: &str) -> Error {
    refused(200, &format!(r#"{{"error":["{code}"]}}"#), HeaderMap::new())
}

#[test]
fn every_documented_code_has_its_kind_and_the_codes_are_one_call_away() {
    let table = [
        ("EAPI:Invalid key", ErrorKind::InvalidKey, false),
        ("EAPI:Invalid signature", ErrorKind::InvalidSignature, false),
        ("EAPI:Invalid nonce", ErrorKind::InvalidNonce, true),
        (
            "EGeneral:Permission denied",
            ErrorKind::PermissionDenied,
            false,
        ),
        (
            "EGeneral:Invalid arguments:user_id",
            ErrorKind::InvalidArguments,
            false,
        ),
        ("EAPI:Rate limit exceeded", ErrorKind::RateLimited, true),
        (
            "EService: Throttled: 1700000000",
            ErrorKind::RateLimited,
            true,
        ),
        ("EGeneral:Too many requests", ErrorKind::RateLimited, true),
        ("EAuth:Rate limit exceeded", ErrorKind::RateLimited, true),
        ("EAuth:Too many requests", ErrorKind::RateLimited, true),
        ("EGeneral:Temporary lockout", ErrorKind::Lockout, true),
        (
            "EAuth:Account temporary disabled",
            ErrorKind::AccountDisabled,
            false,
        ),
        (
            "EAuth:Account unconfirmed",
            ErrorKind::AccountUnconfirmed,
            false,
        ),
        ("EService:Unavailable", ErrorKind::Unavailable, true),
        ("EService:Busy", ErrorKind::Unavailable, true),
        ("EGeneral:Internal error", ErrorKind::Unavailable, true),
        ("EFunding:Something new", ErrorKind::Other, false),
    ];
    for (text, kind, retryable) in table {
        let error = kraken(text);
        assert_eq!(error.kind(), kind, "{text}");
        assert_eq!(error.is_retryable(), retryable, "{text}");
        assert!(!error.is_outcome_unknown(), "{text}");
        let codes: Vec<&ErrorCode> = error.kraken_codes().collect();
        assert_eq!(codes, [KrakenError::parse(text).code()], "{text}");
        assert_eq!(ErrorKind::of_code(codes[0]), kind, "{text}");
        // The same code in a non-2xx answer is the same kind.
        assert_eq!(
            refused(503, &format!(r#"{{"error":["{text}"]}}"#), HeaderMap::new()).kind(),
            kind,
            "{text} with 503"
        );
    }
    assert!(kraken("EGeneral:Permission denied").is_permission_denied());
    assert!(kraken("EAPI:Invalid key").is_invalid_key());
    assert!(kraken("EAPI:Rate limit exceeded").is_rate_limited());
    assert!(kraken("EAPI:Invalid nonce").is_invalid_nonce());
    // With several codes, the first decides the kind; all are listed.
    let both = kraken(r#"EGeneral:Permission denied","EAPI:Invalid nonce"#);
    assert_eq!(both.kind(), ErrorKind::PermissionDenied);
    assert_eq!(both.kraken_codes().count(), 2);
}

#[test]
fn transport_status_and_shape_failures_have_kinds_too() {
    let not = Error::Transport(not_sent(TransportErrorKind::Connect, "refused"));
    assert_eq!(not.kind(), ErrorKind::NotSent);
    assert!(not.is_retryable() && !not.is_outcome_unknown());
    for kind in [
        TransportErrorKind::Io,
        TransportErrorKind::Timeout,
        TransportErrorKind::Deadline,
    ] {
        let maybe = Error::Transport(maybe_sent(kind, "cut"));
        assert_eq!(maybe.kind(), ErrorKind::OutcomeUnknown, "{kind:?}");
        assert!(
            !maybe.is_retryable() && maybe.is_outcome_unknown(),
            "{kind:?}"
        );
        assert_eq!(maybe.kraken_codes().count(), 0);
    }
    let html = refused(502, "<html>bad gateway</html>", HeaderMap::new());
    assert_eq!(html.kind(), ErrorKind::Unavailable);
    assert!(
        !html.is_retryable(),
        "a 5xx from the edge may follow execution"
    );
    assert_eq!(
        refused(404, "{}", HeaderMap::new()).kind(),
        ErrorKind::HttpStatus
    );
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from_static("7"));
    let limited = refused(429, "", headers);
    assert_eq!(limited.kind(), ErrorKind::RateLimited);
    assert_eq!(
        limited.retry_wait(),
        Some(RetryWait::After(Duration::from_secs(7)))
    );
    assert_eq!(
        refused(200, "not json", HeaderMap::new()).kind(),
        ErrorKind::BadResponse
    );
    let throttled = kraken("EService: Throttled: 1700000000");
    assert_eq!(
        throttled.retry_wait(),
        Some(RetryWait::Until(
            UNIX_EPOCH + Duration::from_secs(1_700_000_001)
        ))
    );
    let salvaged = refused(
        500,
        r#"{"error":["EGeneral:Internal error"],"result":{"api_secret":"s3cr3t"}}"#,
        HeaderMap::new(),
    );
    assert_eq!(salvaged.kind(), ErrorKind::KeyCreated);
    assert!(!salvaged.is_retryable());
    let text = salvaged.to_string();
    assert!(
        text.contains("a key was created") && !text.contains("outcome unknown"),
        "{text}"
    );
}

#[test]
fn secrets_compare_equal_exactly_when_their_text_is_equal() {
    let base = "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf";
    let secret = |text: &str| ApiSecret::new(text.to_owned());
    assert_eq!(secret(base), secret(base));
    // A difference at every position, and every length change, is seen.
    for at in 0..base.len() {
        let mut other = base.as_bytes().to_vec();
        other[at] ^= 1;
        let other = String::from_utf8(other).expect("ascii");
        assert_ne!(secret(base), secret(&other), "differs at {at}");
        assert_ne!(secret(base), secret(&base[..at]), "prefix of {at}");
    }
    assert_ne!(secret(base), secret(&format!("{base}x")));
    assert_eq!(secret(""), secret(""));
}

fn core(settings: Settings) -> ClientCore {
    let credentials =
        Credentials::new("KRA5L19LAW8Z", prime_core::example::SECRET).expect("credentials");
    ClientCore::new(
        credentials,
        &settings.nonce_source(Arc::new(CountingNonce::starting_at(1))),
    )
    .expect("settings")
}

#[test]
fn the_deadline_stops_retries_that_would_end_past_it_and_cuts_each_attempt() {
    let policy = RetryPolicy::default()
        .with_max_attempts(100)
        .with_delays(Duration::from_millis(100), Duration::from_millis(100));
    let core = core(
        Settings::default()
            .retry_policy(policy)
            .timeout(Duration::from_secs(5))
            .deadline(Duration::from_secs(1)),
    );
    let endpoint = ListApiUsers::new();
    let start = Instant::now();
    let mut call = core.start(&endpoint, start).expect("valid");
    assert_eq!(call.time_left(start), Some(Duration::from_secs(1)));
    assert_eq!(
        call.attempt_timeout(start),
        Duration::from_secs(1),
        "cut to the deadline"
    );
    // Each attempt fails at once; the clock advances by the waits the driver asks for.
    let mut now = start;
    let mut attempts = 0;
    let stopped = loop {
        call.request_at(now).expect("in time");
        attempts += 1;
        let failure = not_sent(TransportErrorKind::Connect, "refused");
        match call.on_transport_error(now, failure) {
            Step::Retry { after } => {
                assert!(
                    now + after < start + Duration::from_secs(1),
                    "no wait past it"
                );
                now += after;
            }
            Step::Stop(error) => break error,
            Step::Done(_) => unreachable!(),
        }
    };
    assert!(
        (5..=20).contains(&attempts),
        "{attempts} attempts in a second of 50-100 ms waits"
    );
    assert_eq!(stopped.kind(), ErrorKind::NotSent);

    // A timeout that runs into the deadline is the deadline's, and a write's is unknown.
    let create = CreateApiUserKey::new("U1");
    let mut call = core.start(&create, start).expect("valid");
    call.request_at(start).expect("in time");
    let late = start + Duration::from_secs(1);
    let Step::Stop(error) =
        call.on_transport_error(late, maybe_sent(TransportErrorKind::Timeout, "slow"))
    else {
        panic!("a write is never resent");
    };
    let Error::Transport(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(failure.kind(), TransportErrorKind::Deadline);
    assert!(error.is_outcome_unknown());

    // Once it has passed, nothing more is signed: not sent.
    let mut call = core.start(&endpoint, start).expect("valid");
    let error = call.request_at(late).expect_err("too late");
    let Error::Transport(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (failure.kind(), failure.delivery()),
        (TransportErrorKind::Deadline, Delivery::NotSent)
    );
    // The same for the bytes output: nothing is written into the buffer.
    let mut call = core.start(&endpoint, start).expect("valid");
    let mut bytes = Vec::new();
    let error = call
        .request_bytes_at(late, &mut bytes)
        .expect_err("too late");
    assert!(bytes.is_empty());
    let Error::Transport(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (failure.kind(), failure.delivery()),
        (TransportErrorKind::Deadline, Delivery::NotSent)
    );
    call.request_bytes_at(start, &mut bytes)
        .expect_err("the call has finished");
    let mut call = core.start(&endpoint, start).expect("valid");
    call.request_bytes_at(start, &mut bytes).expect("in time");
    assert!(bytes.starts_with(b"POST /0/private/ListPrimeApiUsers HTTP/1.1\r\n"));

    // Per call, and none at all: the per-attempt timeout alone.
    let unbounded = core.start_within(&endpoint, start, None).expect("valid");
    assert_eq!(unbounded.time_left(start), None);
    assert_eq!(unbounded.attempt_timeout(start), Duration::from_secs(5));
    let tighter = core
        .start_within(&endpoint, start, Some(Duration::from_millis(10)))
        .expect("valid");
    assert_eq!(tighter.attempt_timeout(start), Duration::from_millis(10));
    assert_eq!(
        Settings::default()
            .deadline(Duration::ZERO)
            .validate()
            .unwrap_err()
            .setting(),
        "deadline"
    );
}

/// A limit the driver stops on (not waited out, by default) is still the kind of Kraken's
/// refusal, retryable, and `retry_wait` is the wait it recommends; so is the error of a call
/// the client holds off.
#[test]
fn a_limit_the_client_stops_on_keeps_its_kind_and_gives_its_wait() {
    let answers: [(u16, &str, ErrorKind, u64); 4] = [
        (
            200,
            r#"{"error":["EAPI:Rate limit exceeded"]}"#,
            ErrorKind::RateLimited,
            45,
        ),
        (
            200,
            r#"{"error":["EAuth:Too many requests"]}"#,
            ErrorKind::RateLimited,
            45,
        ),
        (
            200,
            r#"{"error":["EGeneral:Temporary lockout"]}"#,
            ErrorKind::Lockout,
            900,
        ),
        // No Kraken code at all: an HTTP 429.
        (429, "", ErrorKind::RateLimited, 45),
    ];
    for (status, body, kind, seconds) in answers {
        let wait = RetryWait::After(Duration::from_secs(seconds));
        let core = core(Settings::default());
        let endpoint = CreateApiUserKey::new("U1");
        let start = Instant::now();
        let mut call = core.start(&endpoint, start).expect("valid");
        call.request_at(start).expect("signed");
        let status = StatusCode::from_u16(status).expect("status");
        let Step::Stop(error) = call.on_response(start, status, &HeaderMap::new(), body.as_bytes())
        else {
            panic!("{body}: a limit is not waited out by default");
        };
        assert!(
            matches!(error.response(), Some(ResponseError::Limited { .. })),
            "{body}: {error:?}"
        );
        assert_eq!(error.kind(), kind, "{body}");
        assert!(error.is_retryable(), "{body}");
        assert!(!error.is_outcome_unknown(), "{body}");
        assert_eq!(error.retry_wait(), Some(wait), "{body}");
        assert_eq!(
            error.kraken_codes().count(),
            usize::from(!body.is_empty()),
            "{body}"
        );
        // The next call, held off unsent: the same kind, with the wait that is left.
        let later = start + Duration::from_secs(5);
        let held = core.start(&endpoint, later).expect_err("held off");
        assert_eq!(held.kind(), kind, "{body}");
        assert!(held.is_retryable(), "{body}");
        assert_eq!(
            held.retry_wait(),
            Some(RetryWait::After(Duration::from_secs(seconds - 5))),
            "{body}"
        );
    }
}

/// A caller who opted in to waiting limits out, whose deadline ends before the wait would:
/// the call stops with the refusal as `Limited`, its wait given, and nothing held off.
#[test]
fn a_limit_wait_past_the_deadline_stops_with_the_wait() {
    let core = core(
        Settings::default()
            .retry_policy(RetryPolicy::default().with_wait_out_limits(true))
            .deadline(Duration::from_secs(10)),
    );
    let endpoint = ListApiUsers::new();
    let start = Instant::now();
    let mut call = core.start(&endpoint, start).expect("valid");
    call.request_at(start).expect("signed");
    let body = br#"{"error":["EAPI:Rate limit exceeded"]}"#;
    let Step::Stop(error) = call.on_response(start, StatusCode::OK, &HeaderMap::new(), body) else {
        panic!("a 45 s wait does not fit in a 10 s deadline");
    };
    assert!(
        matches!(error.response(), Some(ResponseError::Limited { .. })),
        "{error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(
        error.retry_wait(),
        Some(RetryWait::After(Duration::from_secs(45)))
    );
    assert!(core.start(&endpoint, start).is_ok(), "not held off");
}

/// rustdoc resolves the generated methods' `prime_core::…` links (see the crate's
/// `generated_methods` docs), but a `$crate::…` link is not a path to it: it renders dead and
/// nothing warns. None may be written.
#[test]
fn the_generated_methods_link_by_paths_rustdoc_checks() {
    let sources = [
        include_str!("../../src/transport/client_methods.rs"),
        include_str!("../../src/transport/settings.rs"),
        include_str!("../../src/workflow/methods.rs"),
        include_str!("../../src/endpoints/table.rs"),
    ];
    for source in sources {
        for line in source.lines().filter(|l| l.trim_start().starts_with("///")) {
            assert!(
                !line.contains("]($crate"),
                "a link rustdoc cannot check: {line}"
            );
        }
    }
}
