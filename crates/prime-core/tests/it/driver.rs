//! The call driver, fed scripted outcomes: every rule of a call is checked here once, with no
//! network, for any transport that drives it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, StatusCode};
use prime_core::endpoints::{CreateApiUserKey, GetApiUser, ListApiUsers};
use prime_core::transport::{ClientCore, Step, maybe_sent, not_sent};
use prime_core::{
    CountingNonce, Credentials, Delivery, Endpoint, Error, NonceSource, ResponseError, RetryPolicy,
    Settings, TransportErrorKind,
};
use proptest::prelude::*;

const OK_USERS: &[u8] = br#"{"error":[],"result":{"data":[]}}"#;
const OK_KEY: &[u8] = br#"{"error":[],"result":{"id":"K1","api_key":"KEY","api_secret":"c2VjcmV0","user_id":"U1","permissions":[],"whitelisted_ips":[]}}"#;

/// Kraken's documented example secret.
const SECRET: &str = prime_core::example::SECRET;

fn core(nonces: &Arc<CountingNonce>) -> ClientCore {
    let credentials = Credentials::new("KRA5L19LAW8Z", SECRET).expect("valid credentials");
    let settings = Settings::default()
        .nonce_source(nonces.clone())
        .retry_policy(RetryPolicy::default());
    ClientCore::new(credentials, &settings).expect("valid settings")
}

/// What a scripted transport does on one attempt.
#[derive(Debug, Clone)]
enum Outcome {
    Answer(u16, &'static [u8]),
    NotSent,
    MaybeSent,
}

/// Which of the driver's two outputs a scripted transport takes.
#[derive(Debug, Clone, Copy)]
enum Output {
    /// `Call::request`: an `http::Request`.
    Request,
    /// `Call::request_bytes`: HTTP/1.1 bytes in a reused buffer.
    Bytes,
}

/// Drives a call of `endpoint` through `script` (one outcome per attempt, the last repeated)
/// with each of the driver's outputs, checks that both behave alike (same result, same
/// nonces, same waits), and returns how it ended, the nonces of the signed requests and the
/// waits asked for. Every rule below is thus checked for both outputs.
fn drive<E: Endpoint>(
    endpoint: &E,
    script: &[Outcome],
) -> (Result<(), Error>, Vec<u64>, Vec<Duration>) {
    let (result, signed, waits) = drive_with(Output::Request, endpoint, script);
    let (bytes_result, bytes_signed, bytes_waits) = drive_with(Output::Bytes, endpoint, script);
    assert_eq!(
        result.as_ref().map_err(ToString::to_string),
        bytes_result.as_ref().map_err(ToString::to_string),
        "both outputs end the same"
    );
    assert_eq!(
        result.as_ref().err().map(Error::is_outcome_unknown),
        bytes_result.as_ref().err().map(Error::is_outcome_unknown)
    );
    assert_eq!(signed, bytes_signed, "both outputs sign the same nonces");
    assert_eq!(waits, bytes_waits, "both outputs wait the same");
    (result, signed, waits)
}

fn drive_with<E: Endpoint>(
    output: Output,
    endpoint: &E,
    script: &[Outcome],
) -> (Result<(), Error>, Vec<u64>, Vec<Duration>) {
    let nonces = Arc::new(CountingNonce::starting_at(100));
    let core = core(&nonces);
    let mut call = match core.start(endpoint, Instant::now()) {
        Ok(call) => call,
        Err(e) => return (Err(e), Vec::new(), Vec::new()),
    };
    let mut signed = Vec::new();
    let mut waits = Vec::new();
    let mut buf = Vec::new();
    for attempt in 0.. {
        assert!(attempt < 50, "the driver must stop");
        let nonce = match output {
            Output::Request => {
                let request = call.request().expect("the driver signs");
                request
                    .headers()
                    .get("api-sign")
                    .map(|_| nonce_of(request.body()))
            }
            Output::Bytes => {
                call.request_bytes(&mut buf).expect("the driver signs");
                let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n");
                let head_end = head_end.expect("a complete head") + 4;
                let head = std::str::from_utf8(&buf[..head_end]).expect("an ASCII head");
                head.contains("\r\napi-sign: ")
                    .then(|| nonce_of(&buf[head_end..]))
            }
        };
        signed.push(nonce.expect("every request is signed"));
        let outcome = script[attempt.min(script.len() - 1)].clone();
        let now = Instant::now();
        let step = match outcome {
            Outcome::Answer(status, body) => call.on_response(
                now,
                StatusCode::from_u16(status).expect("status"),
                &HeaderMap::new(),
                body,
            ),
            Outcome::NotSent => {
                call.on_transport_error(now, not_sent(TransportErrorKind::Connect, "refused"))
            }
            Outcome::MaybeSent => {
                call.on_transport_error(now, maybe_sent(TransportErrorKind::Io, "reset"))
            }
        };
        match step {
            Step::Done(_) => return (Ok(()), signed, waits),
            Step::Stop(error) => return (Err(error), signed, waits),
            Step::Retry { after } => waits.push(after),
        }
    }
    unreachable!()
}

fn nonce_of(body: &[u8]) -> u64 {
    let text = std::str::from_utf8(body).expect("JSON body");
    let digits: String = text["{\"nonce\":".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("a nonce first")
}

#[test]
fn a_write_that_may_have_executed_is_sent_once_and_reported_unknown() {
    let (result, signed, _) = drive(&CreateApiUserKey::new("U1"), &[Outcome::MaybeSent]);
    let error = result.expect_err("no result");
    assert!(error.is_outcome_unknown(), "{error:?}");
    assert_eq!(signed.len(), 1, "never resent");
    // The same for a 5xx and an undecodable 200: the server answered, so it may have executed.
    for body in [
        Outcome::Answer(502, b"<html>"),
        Outcome::Answer(200, b"{\"error\":[],\"result\":"),
    ] {
        let (result, signed, _) = drive(&CreateApiUserKey::new("U1"), &[body]);
        assert!(result.is_err());
        assert_eq!(signed.len(), 1, "never resent");
    }
}

#[test]
fn a_read_is_retried_within_the_budget_each_time_re_signed() {
    let (result, signed, waits) = drive(&ListApiUsers::new(), &[Outcome::MaybeSent]);
    assert!(result.expect_err("budget spent").is_outcome_unknown());
    assert_eq!(signed.len(), 3, "the default policy's 3 attempts");
    assert!(signed.windows(2).all(|w| w[0] < w[1]), "{signed:?}");
    assert_eq!(waits.len(), 2);
    assert!(
        waits
            .iter()
            .all(|w| !w.is_zero() && *w <= Duration::from_secs(5))
    );

    let (result, signed, _) = drive(
        &ListApiUsers::new(),
        &[Outcome::Answer(502, b""), Outcome::Answer(200, OK_USERS)],
    );
    assert!(result.is_ok());
    assert_eq!(signed.len(), 2);
}

#[test]
fn not_sent_is_retried_for_writes_too() {
    let (result, signed, _) = drive(
        &CreateApiUserKey::new("U1"),
        &[Outcome::NotSent, Outcome::Answer(200, OK_KEY)],
    );
    assert!(result.is_ok());
    assert_eq!(signed.len(), 2);
}

#[test]
fn an_invalid_nonce_gets_one_immediate_re_signed_resend() {
    let nonce = br#"{"error":["EAPI:Invalid nonce"]}"#;
    let (result, signed, waits) = drive(
        &CreateApiUserKey::new("U1"),
        &[Outcome::Answer(200, nonce), Outcome::Answer(200, OK_KEY)],
    );
    assert!(result.is_ok());
    assert_eq!(waits, [Duration::ZERO]);
    assert!(signed[1] > signed[0]);

    let (result, signed, _) = drive(&CreateApiUserKey::new("U1"), &[Outcome::Answer(200, nonce)]);
    assert!(result.is_err());
    assert_eq!(signed.len(), 2, "one resend only");
}

#[test]
fn a_rate_limit_or_lockout_is_not_called_into_again_and_the_error_says_how_long_to_wait() {
    let limits: [(&[u8], u64); 5] = [
        (br#"{"error":["EAPI:Rate limit exceeded"],"result":{}}"#, 45),
        (br#"{"error":["EAuth:Rate limit exceeded"]}"#, 45),
        (br#"{"error":["EAuth:Too many requests"]}"#, 45),
        (
            br#"{"error":["EGeneral:Temporary lockout"],"result":{}}"#,
            900,
        ),
        // A lockout beside an invalid nonce: resending with a fresh nonce would meet it again.
        (
            br#"{"error":["EAPI:Invalid nonce","EGeneral:Temporary lockout"]}"#,
            900,
        ),
    ];
    for (body, seconds) in limits {
        for read in [true, false] {
            let script = [Outcome::Answer(200, body), Outcome::Answer(200, OK_KEY)];
            let (result, signed, waits) = if read {
                drive(&ListApiUsers::new(), &script)
            } else {
                drive(&CreateApiUserKey::new("U1"), &script)
            };
            let error = result.expect_err("stops");
            let text = String::from_utf8_lossy(body);
            assert_eq!(signed.len(), 1, "not sent again: {text}");
            assert!(waits.is_empty(), "{text}");
            assert_eq!(
                error.recommended_wait(),
                Some(Duration::from_secs(seconds)),
                "{text}"
            );
            assert!(
                matches!(error.response(), Some(ResponseError::Limited { .. })),
                "{error:?}"
            );
            // The original refusal and body are kept; the message says how long to wait.
            assert_eq!(error.response().map(|r| r.body().as_bytes()), Some(body));
            let wait_text = if seconds == 45 {
                "wait 45 s"
            } else {
                "wait 15 min"
            };
            assert!(error.to_string().contains(wait_text), "{error}");
            assert!(
                error.to_string().starts_with("Kraken returned E"),
                "{error}"
            );
            assert!(!error.is_outcome_unknown());
        }
    }
}

/// Starts a call of `endpoint` at `now` and answers its first request with `body`.
fn answer_once<E: Endpoint>(core: &ClientCore, endpoint: &E, now: Instant, body: &[u8]) -> Error {
    let mut call = core.start(endpoint, now).expect("not held off");
    call.request().expect("signed");
    match call.on_response(now, StatusCode::OK, &HeaderMap::new(), body) {
        Step::Stop(error) => error,
        _ => panic!("expected a stop"),
    }
}

#[test]
fn after_a_limit_the_client_holds_off_every_call_until_the_wait_is_over() {
    let limited = br#"{"error":["EAPI:Rate limit exceeded"],"result":{}}"#;
    let locked = br#"{"error":["EGeneral:Temporary lockout"],"result":{}}"#;
    for (body, wait) in [
        (&limited[..], Duration::from_secs(45)),
        (&locked[..], Duration::from_secs(900)),
    ] {
        let nonces = Arc::new(CountingNonce::starting_at(100));
        let core = core(&nonces);
        let start = Instant::now();
        let list = ListApiUsers::new();
        let error = answer_once(&core, &list, start, body);
        assert_eq!(error.recommended_wait(), Some(wait));
        let signed = nonces.next_nonce();
        // Any endpoint, at any time within the wait: refused before anything is signed, with
        // the wait that is left.
        for elapsed in [
            Duration::ZERO,
            Duration::from_secs(10),
            wait - Duration::from_millis(1),
        ] {
            let create = CreateApiUserKey::new("U1");
            let held = core.start(&create, start + elapsed).expect_err("held off");
            assert_eq!(held.recommended_wait(), Some(wait - elapsed));
            assert!(!held.is_outcome_unknown());
            assert_eq!(held.response().map(|r| r.body().as_bytes()), Some(body));
        }
        assert_eq!(
            nonces.next_nonce(),
            signed + 1,
            "nothing was signed meanwhile"
        );
        // Once the wait is over, calls go out again.
        assert!(core.start(&list, start + wait).is_ok());
        assert!(core.start(&list, start + wait).is_ok());
    }
}

#[test]
fn the_opt_in_policy_does_not_hold_off_and_a_huge_wait_does_not_panic() {
    let credentials = Credentials::new("KRA5L19LAW8Z", SECRET).expect("valid credentials");
    let limited = br#"{"error":["EAuth:Too many requests"]}"#;
    let waiting = ClientCore::new(
        credentials.clone(),
        &Settings::default().retry_policy(
            RetryPolicy::default()
                .with_max_attempts(1)
                .with_wait_out_limits(true),
        ),
    )
    .expect("valid settings");
    let start = Instant::now();
    let list = ListApiUsers::new();
    // With no attempt left the call stops, but a caller who opted in is not held off.
    let error = answer_once(&waiting, &list, start, limited);
    assert_eq!(error.recommended_wait(), Some(Duration::from_secs(45)));
    assert!(waiting.start(&list, start).is_ok());

    let patient = ClientCore::new(
        credentials,
        &Settings::default()
            .retry_policy(RetryPolicy::default().with_limit_waits(Duration::MAX, Duration::MAX)),
    )
    .expect("valid settings");
    let error = answer_once(&patient, &list, start, limited);
    assert_eq!(error.recommended_wait(), Some(Duration::MAX));
    let held = patient
        .start(&list, start + Duration::from_secs(3600))
        .expect_err("held off");
    assert!(held.recommended_wait() > Some(Duration::from_secs(3600)));
}

#[test]
fn bad_arguments_stop_before_a_nonce_is_spent() {
    let nonces = Arc::new(CountingNonce::starting_at(7));
    let core = core(&nonces);
    let error = core
        .start(&GetApiUser::new(""), Instant::now())
        .expect_err("an empty id is refused");
    assert!(matches!(error, Error::InvalidArgument(ref e) if e.field() == "user_id"));
    assert_eq!(nonces.next_nonce(), 7, "no nonce spent");
}

#[test]
fn a_finished_call_signs_nothing_more() {
    let nonces = Arc::new(CountingNonce::starting_at(1));
    let core = core(&nonces);
    let endpoint = ListApiUsers::new();
    let mut call = core.start(&endpoint, Instant::now()).expect("valid");
    let _request = call.request().expect("signed");
    let step = call.on_response(Instant::now(), StatusCode::OK, &HeaderMap::new(), OK_USERS);
    assert!(matches!(step, Step::Done(_)));
    assert!(call.request().is_err());
    let mut buf = b"left alone".to_vec();
    assert!(call.request_bytes(&mut buf).is_err());
    assert_eq!(buf, b"left alone", "nothing signed into the buffer");
    assert_eq!(call.attempts(), 1);
    assert_eq!(nonces.next_nonce(), 2, "no nonce spent after the end");
}

#[test]
fn settings_are_validated_once_with_the_setting_named() {
    let credentials = || Credentials::new("KEY", SECRET).expect("valid");
    let refused = |settings: Settings| {
        ClientCore::new(credentials(), &settings)
            .expect_err("refused")
            .setting()
    };
    assert_eq!(refused(Settings::default().base_url("ftp://x")), "base_url");
    assert_eq!(
        refused(Settings::default().base_url("http://h/?q")),
        "base_url"
    );
    assert_eq!(
        refused(Settings::default().user_agent("a\nb")),
        "user_agent"
    );
    assert_eq!(
        refused(Settings::default().timeout(Duration::ZERO)),
        "timeout"
    );
    assert_eq!(
        refused(Settings::default().connect_timeout(Duration::ZERO)),
        "connect_timeout"
    );
    assert_eq!(
        refused(Settings::default().max_response_bytes(0)),
        "max_response_bytes"
    );
}

proptest! {
    /// Whatever a transport reports, in any order: a write is never signed again after an
    /// outcome that may have reached the server (except the invalid-nonce resend, a rejection
    /// before execution), every request has a higher nonce, and the call always ends.
    #[test]
    fn no_script_resends_a_write_that_may_have_executed(
        script in proptest::collection::vec(0u8..6, 1..8)
    ) {
        let outcomes: Vec<Outcome> = script
            .iter()
            .map(|n| match n {
                0 => Outcome::NotSent,
                1 => Outcome::MaybeSent,
                2 => Outcome::Answer(502, b"<html>"),
                3 => Outcome::Answer(200, br#"{"error":["EAPI:Invalid nonce"]}"#),
                4 => Outcome::Answer(200, br#"{"error":["EAPI:Rate limit exceeded"]}"#),
                _ => Outcome::Answer(200, OK_KEY),
            })
            .collect();
        let (result, signed, _) = drive(&CreateApiUserKey::new("U1"), &outcomes);
        prop_assert!(signed.windows(2).all(|w| w[0] < w[1]));
        for (attempt, _) in signed.iter().enumerate().skip(1) {
            let previous = &outcomes[(attempt - 1).min(outcomes.len() - 1)];
            prop_assert!(
                !matches!(previous, Outcome::MaybeSent | Outcome::Answer(502, _)),
                "resent after {previous:?}: {outcomes:?}"
            );
        }
        if let Err(error) = result {
            let last = &outcomes[(signed.len() - 1).min(outcomes.len() - 1)];
            prop_assert_eq!(
                error.is_outcome_unknown(),
                matches!(last, Outcome::MaybeSent),
                "{:?}", error
            );
            if let Error::Transport(t) = &error {
                prop_assert_eq!(t.delivery() == Delivery::MaybeSent, error.is_outcome_unknown());
            }
        }
    }
}
