//! Rate limits and lockouts as Kraken describes them, through both clients against the
//! simulator's model (short durations so the tests stay quick):
//!
//! - failed calls push a key into `EGeneral:Temporary lockout`;
//! - the default policy stops at the first limit and reports the wait instead of calling into
//!   it again, and the client holds off every further call until the wait is over, so the
//!   lockout ends on time however hard the program keeps calling;
//! - the opt-in policy waits the lockout (or the rate limit) out and then succeeds;
//! - `EAuth:Rate limit exceeded` from any server is typed as a rate limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use prime_core::{CountingNonce, Error, ErrorCode, NonceSource, ResponseError, RetryPolicy};
use prime_mock::{Fault, FaultKind, MockServer, RateLimits};
use prime_tests::RecordedNonces;

/// How long the simulator locks a key out in these tests.
const LOCKOUT: Duration = Duration::from_millis(800);

/// A lockout after 6 refused calls, a counter high enough never to rate limit.
fn lockout_model() -> RateLimits {
    RateLimits::default()
        .max_calls(1000)
        .decay(Duration::from_secs(10))
        .lockout_after(6)
        .lockout(LOCKOUT)
}

#[derive(Debug, Clone, Copy)]
enum Transport {
    Blocking,
    Async,
}

const TRANSPORTS: [Transport; 2] = [Transport::Blocking, Transport::Async];

/// One client of either transport, driven synchronously.
enum Caller {
    Blocking(prime_blocking::Client),
    Async(tokio::runtime::Runtime, prime_async::Client),
}

impl Caller {
    fn new(
        transport: Transport,
        server: &MockServer,
        nonces: Arc<dyn NonceSource>,
        policy: RetryPolicy,
    ) -> Self {
        let credentials = server.account_credentials();
        match transport {
            Transport::Blocking => Self::Blocking(
                prime_blocking::Client::builder(credentials)
                    .base_url(&server.url())
                    .nonce_source(nonces)
                    .retry_policy(policy)
                    .build()
                    .expect("a blocking client"),
            ),
            Transport::Async => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                let client = prime_async::Client::builder(credentials)
                    .base_url(&server.url())
                    .nonce_source(nonces)
                    .retry_policy(policy)
                    .build()
                    .expect("an async client");
                Self::Async(runtime, client)
            }
        }
    }

    fn list_users(&self) -> Result<usize, Error> {
        match self {
            Self::Blocking(c) => c.list_api_users(),
            Self::Async(rt, c) => rt.block_on(c.list_api_users()),
        }
        .map(|users| users.len())
    }
}

fn codes(error: &Error) -> Vec<ErrorCode> {
    error
        .response()
        .map(|r| r.kraken_errors().iter().map(|e| e.code().clone()).collect())
        .unwrap_or_default()
}

fn key_limits(server: &MockServer) -> serde_json::Value {
    server.state()["keys"][0]["limits"].clone()
}

/// A client whose nonces are long spent: every call is refused (`EAPI:Invalid nonce`, then
/// once more after the resend). Calls until the simulator answers with a lockout, at most 10
/// times; returns that error, and then keeps calling 20 times more, as a careless program
/// would: the client holds those off without sending anything.
fn hammer_into_a_lockout(transport: Transport, server: &MockServer) -> Error {
    let nonces = Arc::new(CountingNonce::starting_at(1));
    let stale = Caller::new(transport, server, nonces.clone(), RetryPolicy::default());
    for _ in 0..10 {
        let error = stale.list_users().expect_err("a spent nonce is refused");
        if codes(&error).contains(&ErrorCode::TemporaryLockout) {
            let signed = nonces.next_nonce();
            for _ in 0..20 {
                let held = stale.list_users().expect_err("held off");
                assert_eq!(codes(&held), [ErrorCode::TemporaryLockout]);
                assert!(held.recommended_wait() <= error.recommended_wait());
            }
            assert_eq!(
                nonces.next_nonce(),
                signed + 1,
                "nothing signed while held off"
            );
            return error;
        }
        assert_eq!(codes(&error), [ErrorCode::InvalidNonce], "{error}");
    }
    panic!("10 failing calls did not lock the key out");
}

#[test]
fn failed_calls_lock_the_key_out_and_the_default_client_stops_and_reports_the_wait() {
    for transport in TRANSPORTS {
        let server = MockServer::builder()
            .rate_limits(lockout_model())
            .start()
            .expect("the simulator starts");
        let good = Caller::new(
            transport,
            &server,
            Arc::new(prime_core::ClockNonce::new()),
            RetryPolicy::default(),
        );
        assert_eq!(good.list_users().ok(), Some(0), "{transport:?}");
        let error = hammer_into_a_lockout(transport, &server);
        // The default client met the lockout once and did not call again, however often it
        // was asked to.
        assert_eq!(key_limits(&server)["lockout_answers"], 1, "{transport:?}");
        assert_eq!(key_limits(&server)["lockouts"], 1, "{transport:?}");
        assert!(
            matches!(error.response(), Some(ResponseError::Limited { .. })),
            "{transport:?}: {error:?}"
        );
        assert_eq!(
            error.recommended_wait(),
            Some(RetryPolicy::default().lockout_wait)
        );
        let message = error.to_string();
        assert!(
            message.contains("EGeneral:Temporary lockout") && message.contains("wait 15 min"),
            "{message}"
        );
        // Nobody called during the lockout, so it ends on time.
        std::thread::sleep(LOCKOUT + Duration::from_millis(100));
        assert_eq!(good.list_users().ok(), Some(0), "{transport:?}");
        assert_eq!(key_limits(&server)["lockout_answers"], 1, "{transport:?}");
    }
}

#[test]
fn the_opt_in_policy_waits_a_lockout_out() {
    for transport in TRANSPORTS {
        let server = MockServer::builder()
            .rate_limits(lockout_model())
            .start()
            .expect("the simulator starts");
        let nonces = RecordedNonces::new();
        let patient = Caller::new(
            transport,
            &server,
            nonces.clone(),
            RetryPolicy::default()
                .with_limit_waits(
                    Duration::from_millis(50),
                    LOCKOUT + Duration::from_millis(200),
                )
                .with_wait_out_limits(true),
        );
        assert_eq!(patient.list_users().ok(), Some(0));
        hammer_into_a_lockout(transport, &server);
        let before = nonces.count();
        let started = Instant::now();
        // Refused once (which starts the lockout over), waited out, then executed.
        assert_eq!(patient.list_users().ok(), Some(0), "{transport:?}");
        assert!(started.elapsed() >= LOCKOUT, "{:?}", started.elapsed());
        assert_eq!(nonces.count() - before, 2, "one refusal, one resend");
        assert_eq!(key_limits(&server)["lockout_answers"], 2, "{transport:?}");
    }
}

#[test]
fn a_rate_limit_stops_the_default_client_and_the_opt_in_policy_waits_it_out() {
    let model = RateLimits::default()
        .max_calls(3)
        .decay(Duration::from_millis(100))
        .lockout_after(0);
    for transport in TRANSPORTS {
        let server = MockServer::builder()
            .rate_limits(model.clone())
            .start()
            .expect("the simulator starts");
        let nonces = RecordedNonces::new();
        let default = Caller::new(transport, &server, nonces.clone(), RetryPolicy::default());
        let refused = (0..4).find_map(|_| default.list_users().err());
        let error = refused.expect("over the limit within 4 calls");
        assert_eq!(codes(&error), [ErrorCode::RateLimitExceeded]);
        assert_eq!(error.recommended_wait(), Some(Duration::from_secs(45)));
        assert!(error.to_string().contains("wait 45 s"), "{error}");
        // Held off: calling again at once sends nothing.
        let held = default.list_users().expect_err("held off");
        assert_eq!(codes(&held), [ErrorCode::RateLimitExceeded]);
        assert_eq!(key_limits(&server)["rate_limited_answers"], 1, "not resent");

        let patient = Caller::new(
            transport,
            &server,
            nonces.clone(),
            RetryPolicy::default()
                .with_limit_waits(Duration::from_millis(600), Duration::from_secs(5))
                .with_wait_out_limits(true),
        );
        assert_eq!(patient.list_users().ok(), Some(0), "{transport:?}");
    }
}

#[test]
fn eauth_rate_limits_from_any_server_are_typed_as_rate_limits() {
    for transport in TRANSPORTS {
        // The model is off: the strings come from a fault, as from any server.
        let server = MockServer::start().expect("the simulator starts");
        let nonces = RecordedNonces::new();
        for text in ["EAuth:Rate limit exceeded", "EAuth:Too many requests"] {
            // A client of its own: the first would hold off after the first limit.
            let client = Caller::new(transport, &server, nonces.clone(), RetryPolicy::default());
            server.push_fault(Fault::new(FaultKind::KrakenError(text.to_owned())).times(5));
            let before = nonces.count();
            let error = client.list_users().expect_err("refused");
            assert_eq!(nonces.count() - before, 1, "{text}: not resent");
            let codes = codes(&error);
            assert!(
                codes.len() == 1 && codes[0].is_rate_limit(),
                "{text}: {codes:?}"
            );
            assert_ne!(codes[0], ErrorCode::Other(text[1..].to_owned()));
            assert_eq!(error.recommended_wait(), Some(Duration::from_secs(45)));
            server.clear_faults();
        }
    }
}
