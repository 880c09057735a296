//! Retry decisions, a pure function: what may be resent, when, and what never is.

use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode};
use prime_core::endpoints::ApiUser;
use prime_core::transport::{Attempt, RetryDecision, RetryReason};
use prime_core::{
    ArgumentError, Delivery, Error, Idempotency, RetryPolicy, TransportError, TransportErrorKind,
    parse_response,
};
use proptest::prelude::*;

use Idempotency::{Idempotent, NonIdempotent};

fn transport(delivery: Delivery, kind: TransportErrorKind) -> Error {
    Error::Transport(TransportError::from_kind(delivery, kind))
}

/// A response error exactly as `parse_response` makes it from what a server could send.
fn response(status: u16, retry_after: Option<&str>, body: &str) -> Error {
    let mut headers = HeaderMap::new();
    if let Some(value) = retry_after {
        headers.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_str(value).expect("header"),
        );
    }
    let status = StatusCode::from_u16(status).expect("status");
    Error::Response(
        parse_response::<ApiUser>(status, &headers, body.as_bytes()).expect_err("a failure"),
    )
}

fn kraken(code: &str) -> Error {
    response(200, None, &format!(r#"{{"error":["{code}"]}}"#))
}

/// Failures after which the request may have been executed: the outcome is unknown, or the
/// server answered with something other than a result.
fn maybe_executed() -> Vec<(&'static str, Error)> {
    vec![
        (
            "timeout after sending",
            transport(Delivery::MaybeSent, TransportErrorKind::Timeout),
        ),
        (
            "reset after sending",
            transport(Delivery::MaybeSent, TransportErrorKind::Io),
        ),
        (
            "500",
            response(500, None, r#"{"error":["EGeneral:Internal error"]}"#),
        ),
        ("502 html", response(502, None, "<html>Bad Gateway</html>")),
        ("503 retry-after", response(503, Some("1"), "")),
        ("520 html", response(520, None, "<html>origin error</html>")),
        (
            "undecodable 200",
            response(200, None, "{\"error\":[],\"result\":"),
        ),
        ("EService:Unavailable", kraken("EService:Unavailable")),
        ("EService:Busy", kraken("EService:Busy")),
        ("EGeneral:Internal error", kraken("EGeneral:Internal error")),
    ]
}

fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(5)
        .with_delays(Duration::from_millis(100), Duration::from_millis(1_000))
}

#[test]
fn create_api_user_key_is_never_resent_once_it_may_have_been_executed() {
    let generous = policy().with_max_attempts(100);
    for (name, failure) in maybe_executed() {
        for attempt in [
            Attempt::first(),
            Attempt::first().next(&RetryDecision::Stop),
        ] {
            assert_eq!(
                generous.decide(NonIdempotent, &failure, attempt, 0.5),
                RetryDecision::Stop,
                "{name}"
            );
        }
    }
}

#[test]
fn the_same_failures_are_retried_for_idempotent_reads() {
    for (name, failure) in maybe_executed() {
        assert!(
            matches!(
                policy().decide(Idempotent, &failure, Attempt::first(), 0.5),
                RetryDecision::Retry {
                    reason: RetryReason::Transient,
                    ..
                }
            ),
            "{name}"
        );
    }
}

#[test]
fn a_request_that_was_not_sent_is_retried_for_any_endpoint() {
    for kind in [TransportErrorKind::Connect, TransportErrorKind::Tls] {
        let failure = transport(Delivery::NotSent, kind);
        for idempotency in [Idempotent, NonIdempotent] {
            assert_eq!(
                policy().decide(idempotency, &failure, Attempt::first(), 1.0),
                RetryDecision::Retry {
                    after: Duration::from_millis(100),
                    reason: RetryReason::NotSent
                }
            );
        }
    }
}

#[test]
fn invalid_nonce_gives_exactly_one_immediate_resend() {
    let failure = kraken("EAPI:Invalid nonce");
    for idempotency in [Idempotent, NonIdempotent] {
        // Even a policy that disables retries allows the one re-signed resend: the request
        // was rejected before execution.
        for policy in [policy(), RetryPolicy::never()] {
            let first = policy.decide(idempotency, &failure, Attempt::first(), 0.9);
            assert_eq!(
                first,
                RetryDecision::Retry {
                    after: Duration::ZERO,
                    reason: RetryReason::InvalidNonce
                }
            );
            let second = Attempt::first().next(&first);
            assert_eq!(second.number(), 2);
            assert_eq!(
                policy.decide(idempotency, &failure, second, 0.9),
                RetryDecision::Stop
            );
        }
    }
}

#[test]
fn the_nonce_resend_does_not_use_up_the_budget() {
    let policy = policy().with_max_attempts(2);
    let nonce = policy.decide(
        Idempotent,
        &kraken("EAPI:Invalid nonce"),
        Attempt::first(),
        0.0,
    );
    let attempt = Attempt::first().next(&nonce);
    let busy = kraken("EService:Busy");
    let retry = policy.decide(Idempotent, &busy, attempt, 1.0);
    // The first backoff step, as if the nonce resend had not happened.
    assert_eq!(
        retry,
        RetryDecision::Retry {
            after: Duration::from_millis(100),
            reason: RetryReason::Transient
        }
    );
    assert_eq!(
        policy.decide(Idempotent, &busy, attempt.next(&retry), 1.0),
        RetryDecision::Stop
    );
}

/// Follows the decisions for one failure repeated until `Stop`, returning the delays.
fn delays(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    failure: &Error,
    jitter: f64,
) -> Vec<Duration> {
    let mut attempt = Attempt::first();
    let mut delays = Vec::new();
    // Bounded: a policy must stop by its own budget, long before this.
    for _ in 0..64 {
        match policy.decide(idempotency, failure, attempt, jitter) {
            RetryDecision::Retry { after, .. } => {
                delays.push(after);
                attempt = attempt.next(&RetryDecision::Retry {
                    after,
                    reason: RetryReason::Transient,
                });
            }
            RetryDecision::Stop => return delays,
        }
    }
    panic!("no Stop after 64 attempts");
}

#[test]
fn transient_failures_back_off_exponentially_up_to_the_cap_and_the_budget() {
    let ms = Duration::from_millis;
    let policy = policy().with_max_attempts(7);
    let busy = kraken("EService:Busy");
    // jitter 1.0 is the full delay: doubling from 100 ms, capped at 1 s, 6 retries for 7
    // attempts in all.
    assert_eq!(
        delays(&policy, Idempotent, &busy, 1.0),
        [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
    );
    // jitter 0.0 halves each delay.
    assert_eq!(
        delays(&policy, Idempotent, &busy, 0.0),
        [ms(50), ms(100), ms(200), ms(400), ms(500), ms(500)]
    );
    assert!(delays(&RetryPolicy::never(), Idempotent, &busy, 0.5).is_empty());
    assert_eq!(RetryPolicy::default().max_attempts, 3);
    assert_eq!(
        delays(&RetryPolicy::default(), Idempotent, &busy, 0.5).len(),
        2
    );
}

/// Every refusal for rate without a named time, as Kraken (or an HTTP edge) sends it.
fn rate_limits() -> Vec<Error> {
    vec![
        kraken("EAPI:Rate limit exceeded"),
        kraken("EAuth:Rate limit exceeded"),
        kraken("EAuth:Too many requests"),
        kraken("EGeneral:Too many requests"),
        kraken("EService: Throttled"),
        response(429, None, ""),
        response(429, Some("3"), ""),
        response(
            200,
            None,
            r#"{"error":["EAPI:Rate limit exceeded"],"result":{}}"#,
        ),
    ]
}

#[test]
fn rate_limits_and_lockouts_stop_by_default_and_recommend_the_wait() {
    // Calling while limited prolongs the limit (Kraken's rate-limit guide): no retry, for
    // any endpoint, at any attempt; the recommended wait comes with the error.
    let policy = policy().with_max_attempts(100);
    let locked = [
        kraken("EGeneral:Temporary lockout"),
        response(
            200,
            None,
            r#"{"error":["EAPI:Rate limit exceeded","EGeneral:Temporary lockout"]}"#,
        ),
    ];
    for failure in rate_limits().iter().chain(&locked) {
        for idempotency in [Idempotent, NonIdempotent] {
            let mut attempt = Attempt::first();
            for _ in 0..5 {
                let decision = policy.decide(idempotency, failure, attempt, 0.5);
                assert_eq!(decision, RetryDecision::Stop, "{failure}");
                attempt = attempt.next(&decision);
            }
        }
    }
    // A `Retry-After` shorter than the policy's wait does not shorten it.
    for failure in rate_limits() {
        assert_eq!(
            policy.recommended_wait(&failure),
            Some(policy.rate_limit_wait),
            "{failure}"
        );
    }
    for failure in &locked {
        assert_eq!(
            policy.recommended_wait(failure),
            Some(Duration::from_secs(15 * 60)),
            "{failure}"
        );
    }
    assert_eq!(
        RetryPolicy::default().rate_limit_wait,
        Duration::from_secs(45)
    );
    // Nothing else recommends a wait: it is not a limit.
    for (name, failure) in maybe_executed() {
        assert_eq!(policy.recommended_wait(&failure), None, "{name}");
    }
    assert_eq!(policy.recommended_wait(&kraken("EAPI:Invalid nonce")), None);
    assert_eq!(
        policy.recommended_wait(&kraken("EService: Throttled: 1795880010")),
        None,
        "a throttle names its own time"
    );
}

#[test]
fn a_retry_after_longer_than_the_rate_limit_wait_is_the_wait() {
    let policy = policy().with_limit_waits(Duration::from_secs(2), Duration::from_secs(9));
    assert_eq!(
        policy.recommended_wait(&response(429, Some("30"), "")),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        policy.recommended_wait(&response(429, Some("1"), "")),
        Some(Duration::from_secs(2))
    );
}

#[test]
fn the_opt_in_policy_waits_out_limits_for_any_endpoint_within_its_budget() {
    let policy = policy()
        .with_max_attempts(3)
        .with_limit_waits(Duration::from_millis(700), Duration::from_secs(9))
        .with_wait_out_limits(true);
    let lockout = kraken("EGeneral:Temporary lockout");
    for idempotency in [Idempotent, NonIdempotent] {
        for failure in rate_limits() {
            let floor = match policy.recommended_wait(&failure) {
                Some(wait) => wait,
                None => panic!("{failure} is a limit"),
            };
            // Exactly the recommended wait, whatever the jitter: shorter would prolong it.
            for jitter in [0.0, 0.5, 0.999] {
                assert_eq!(
                    delays(&policy, idempotency, &failure, jitter),
                    [floor, floor],
                    "{failure}"
                );
            }
            assert!(matches!(
                policy.decide(idempotency, &failure, Attempt::first(), 0.5),
                RetryDecision::Retry {
                    reason: RetryReason::RateLimited,
                    ..
                }
            ));
        }
        assert_eq!(
            policy.decide(idempotency, &lockout, Attempt::first(), 0.5),
            RetryDecision::Retry {
                after: Duration::from_secs(9),
                reason: RetryReason::LockedOut
            }
        );
    }
}

#[test]
fn retry_after_is_respected_whatever_the_jitter() {
    for jitter in [0.0, 0.25, 0.5, 0.999, 1.0] {
        let failure = response(503, Some("3"), "");
        let policy = policy().with_delays(Duration::from_millis(100), Duration::from_secs(5));
        let RetryDecision::Retry { after, .. } =
            policy.decide(Idempotent, &failure, Attempt::first(), jitter)
        else {
            panic!("retryable");
        };
        assert!(
            after >= Duration::from_secs(3),
            "{after:?} at jitter {jitter}"
        );
        assert!(
            after <= Duration::from_secs(5),
            "{after:?} at jitter {jitter}"
        );
    }
}

#[test]
fn a_retry_after_beyond_the_cap_stops_instead_of_retrying_early() {
    // Waiting less than the server asked would only be refused again; waiting longer than
    // the caller allows is not this policy's call. The error (with `retry_after`) goes back.
    let failure = response(429, Some("60"), "");
    assert_eq!(
        policy().decide(Idempotent, &failure, Attempt::first(), 0.5),
        RetryDecision::Stop
    );
}

#[test]
fn rejections_that_a_resend_cannot_fix_stop() {
    let failures = [
        kraken("EAPI:Invalid key"),
        kraken("EAPI:Invalid signature"),
        kraken("EGeneral:Permission denied"),
        kraken("EGeneral:Invalid arguments"),
        kraken("EGeneral:Invalid arguments:user_id"),
        kraken("EGeneral:Temporary lockout"),
        kraken("EOrder:Something unknown"),
        response(400, None, "bad request"),
        response(401, None, ""),
        response(403, None, r#"{"error":["EGeneral:Permission denied"]}"#),
        response(404, None, "<html>not found</html>"),
        Error::InvalidArgument(ArgumentError::new("user_id", "must not be empty")),
        transport(
            Delivery::MaybeSent,
            TransportErrorKind::BodyTooLarge { limit: 1024 },
        ),
    ];
    for failure in &failures {
        for idempotency in [Idempotent, NonIdempotent] {
            assert_eq!(
                policy().decide(idempotency, failure, Attempt::first(), 0.5),
                RetryDecision::Stop,
                "{failure}"
            );
        }
    }
}

#[test]
fn odd_jitter_and_huge_delays_do_not_panic() {
    let busy = kraken("EService:Busy");
    for jitter in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 7.0] {
        let RetryDecision::Retry { after, .. } =
            policy().decide(Idempotent, &busy, Attempt::first(), jitter)
        else {
            panic!("retryable");
        };
        assert!(
            (Duration::from_millis(50)..=Duration::from_millis(100)).contains(&after),
            "{after:?} at jitter {jitter}"
        );
    }
    let unbounded = RetryPolicy::default()
        .with_max_attempts(40)
        .with_delays(Duration::MAX, Duration::MAX);
    assert_eq!(delays(&unbounded, Idempotent, &busy, 1.0).len(), 39);
}

fn any_failure() -> impl Strategy<Value = (String, u16, Option<u64>, bool)> {
    (
        prop::sample::select(vec![
            "EAPI:Invalid key",
            "EAPI:Invalid nonce",
            "EAPI:Rate limit exceeded",
            "EService:Unavailable",
            "EService:Busy",
            "EGeneral:Internal error",
            "EGeneral:Temporary lockout",
            "EOther:Thing",
        ])
        .prop_map(str::to_owned),
        prop::sample::select(vec![200_u16, 400, 429, 500, 502, 503, 520]),
        prop::option::of(0_u64..100),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For any failure, attempt, policy and jitter: no panic, never resent when a
    /// non-idempotent call may have executed, and never a delay above the cap.
    #[test]
    fn decisions_are_safe_for_any_input(
        (code, status, retry_after, maybe_sent) in any_failure(),
        attempts in 1_usize..12,
        max_attempts in 0_u32..10,
        base_ms in 0_u64..10_000,
        max_ms in 0_u64..60_000,
        jitter in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), -2.0..2.0_f64, any::<f64>()],
    ) {
        // Only non-2xx answers are status errors, which is where Retry-After is read.
        let floor = (!maybe_sent && status != 200)
            .then(|| retry_after.map(Duration::from_secs))
            .flatten();
        let failure = if maybe_sent {
            transport(Delivery::MaybeSent, TransportErrorKind::Timeout)
        } else {
            let retry_after = retry_after.map(|s| s.to_string());
            response(status, retry_after.as_deref(), &format!(r#"{{"error":["{code}"]}}"#))
        };
        let policy = RetryPolicy::default()
            .with_max_attempts(max_attempts)
            .with_delays(Duration::from_millis(base_ms), Duration::from_millis(max_ms));
        let mut attempt = Attempt::first();
        for _ in 0..attempts {
            let decision = policy.decide(NonIdempotent, &failure, attempt, jitter);
            if let RetryDecision::Retry { after, reason } = decision {
                prop_assert!(after <= policy.max_delay);
                // The default policy does not call into a rate limit or lockout again.
                prop_assert!(
                    matches!(reason, RetryReason::InvalidNonce),
                    "non-idempotent resent for {reason:?}"
                );
            }
            let idempotent = policy.decide(Idempotent, &failure, attempt, jitter);
            if let RetryDecision::Retry { after, .. } = idempotent {
                prop_assert!(after <= policy.max_delay);
                prop_assert!(floor.is_none_or(|floor| after >= floor), "{after:?} < {floor:?}");
            }
            attempt = attempt.next(&idempotent);
        }
    }
}

/// The moment the tests call "now": 10 s before the throttles below lift.
fn now() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + Duration::from_secs(1_795_880_000)
}

#[test]
fn a_throttle_is_resent_by_any_endpoint_after_its_time() {
    // Kraken names the second after which to try again; the call was not executed, so even
    // a create may be resent, but not before that second is over.
    for text in [
        "EService: Throttled: 1795880010",
        "EService:Throttled:1795880010",
    ] {
        for idempotency in [Idempotent, NonIdempotent] {
            for jitter in [0.0, 0.5, 0.999] {
                assert_eq!(
                    policy()
                        .with_max_throttle_wait(Duration::from_secs(60))
                        .decide_at(idempotency, &kraken(text), Attempt::first(), jitter, now()),
                    RetryDecision::Retry {
                        after: Duration::from_secs(11),
                        reason: RetryReason::Throttled
                    },
                    "{text}"
                );
            }
        }
    }
    // A time already past: resend at once.
    assert_eq!(
        policy().decide_at(
            NonIdempotent,
            &kraken("EService: Throttled: 1795879000"),
            Attempt::first(),
            0.5,
            now()
        ),
        RetryDecision::Retry {
            after: Duration::ZERO,
            reason: RetryReason::Throttled
        }
    );
}

#[test]
fn a_throttle_beyond_the_maximum_wait_stops() {
    let failure = kraken("EService: Throttled: 1795880010");
    let impatient = policy().with_max_throttle_wait(Duration::from_secs(10));
    assert_eq!(
        impatient.decide_at(Idempotent, &failure, Attempt::first(), 0.5, now()),
        RetryDecision::Stop
    );
    let patient = policy().with_max_throttle_wait(Duration::from_secs(11));
    assert!(matches!(
        patient.decide_at(Idempotent, &failure, Attempt::first(), 0.5, now()),
        RetryDecision::Retry { .. }
    ));
    // Without a clock the wait is unknown: stop rather than resend early.
    assert_eq!(
        patient.decide(Idempotent, &failure, Attempt::first(), 0.5),
        RetryDecision::Stop
    );
    // Throttles count against the attempt budget like any retry.
    let one = policy().with_max_attempts(1);
    assert_eq!(
        one.decide_at(Idempotent, &failure, Attempt::first(), 0.5, now()),
        RetryDecision::Stop
    );
}

#[test]
fn untimed_throttles_and_too_many_requests_are_rate_limits() {
    for text in [
        "EGeneral:Too many requests",
        "EService: Throttled",
        "EAPI:Rate limit exceeded",
        "EAuth:Rate limit exceeded",
        "EAuth:Too many requests",
    ] {
        for idempotency in [Idempotent, NonIdempotent] {
            assert_eq!(
                policy().decide(idempotency, &kraken(text), Attempt::first(), 1.0),
                RetryDecision::Stop,
                "{text}"
            );
            let decision = policy()
                .with_limit_waits(Duration::from_millis(100), Duration::from_secs(1))
                .with_wait_out_limits(true)
                .decide(idempotency, &kraken(text), Attempt::first(), 1.0);
            assert_eq!(
                decision,
                RetryDecision::Retry {
                    after: Duration::from_millis(100),
                    reason: RetryReason::RateLimited
                },
                "{text}"
            );
        }
    }
    // A throttle beside a non-rate error is not a pure refusal for rate: it stops.
    let mixed = Error::Response(
        parse_response::<serde_json::Value>(
            StatusCode::OK,
            &HeaderMap::new(),
            br#"{"error":["EService: Throttled: 1795880010","EGeneral:Invalid arguments"]}"#,
        )
        .unwrap_err(),
    );
    assert_eq!(
        policy().decide_at(NonIdempotent, &mixed, Attempt::first(), 0.5, now()),
        RetryDecision::Stop
    );
}
