//! Throttling and API 2FA through both clients' public API, against prime-mock over loopback.
//!
//! - `EService: Throttled: <ts>` was not executed: any endpoint is resent, re-signed, once the
//!   named second is over, and not at all when that is beyond the policy's maximum wait.
//! - `EGeneral:Too many requests` (a rate limit): with the opt-in policy that waits out limits
//!   it is resent after the wait, even for a create.
//! - A key with API 2FA: every request carries `otp` (re-asked of a generator on every
//!   resend); without it, or with a wrong one, the simulator answers `EAPI:Invalid signature`
//!   as Kraken does, and the client does not retry it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prime_core::endpoints::{CreateApiUser, ListSettlementBatches, Role};
use prime_core::{Credentials, Error, ErrorCode, Otp, RetryPolicy, Settings};
use prime_mock::{AccountKeySpec, Fault, FaultKind, MockServer, Permission};
use prime_tests::{Caller, RecordedNonces};
use zeroize::Zeroizing;

/// Quick backoff, rate limits waited out after 5 ms, a throttle wait of up to 5 s.
fn policy() -> RetryPolicy {
    prime_tests::quick_retries_waiting_out_limits().with_max_throttle_wait(Duration::from_secs(5))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The Kraken codes of a failed call.
fn codes<T>(result: &Result<T, Error>) -> Vec<ErrorCode> {
    match result {
        Err(error) => error
            .response()
            .map(|r| r.kraken_errors().iter().map(|e| e.code().clone()).collect())
            .unwrap_or_default(),
        Ok(_) => Vec::new(),
    }
}

/// Both clients, on `server` with `credentials`, sharing `nonces`.
fn both(
    server: &MockServer,
    credentials: &Credentials,
    nonces: &Arc<RecordedNonces>,
) -> [(&'static str, Caller); 2] {
    let settings = Settings::default()
        .base_url(&server.url())
        .nonce_source(nonces.clone())
        .retry_policy(policy());
    Caller::both(credentials, &settings)
}

fn create_user(caller: &Caller, name: &str) -> Result<String, Error> {
    caller
        .send(CreateApiUser::new(name, Role::Viewer))
        .map(|reply| reply.result.id)
}

fn list_batches(caller: &Caller) -> Result<usize, Error> {
    caller
        .send(ListSettlementBatches::default())
        .map(|reply| reply.result.data.len())
}

#[test]
fn a_throttled_create_is_resent_after_the_named_second_by_both_clients() {
    for transport in 0..2 {
        let server = MockServer::start().expect("the simulator starts");
        let nonces = RecordedNonces::new();
        let [blocking, asynchronous] = both(&server, &server.account_credentials(), &nonces);
        let (name, caller) = if transport == 0 {
            blocking
        } else {
            asynchronous
        };
        let until = unix_now() + 1;
        server.push_fault(Fault::new(FaultKind::throttled(until)).on("CreatePrimeApiUser"));
        let started = Instant::now();
        let created = create_user(&caller, "throttled");
        let elapsed = started.elapsed();
        assert!(created.is_ok(), "{name}: {created:?}");
        // Not before the second `until` is over...
        let resumed = UNIX_EPOCH + Duration::from_secs(until + 1);
        assert!(SystemTime::now() >= resumed, "{name} resent too early");
        // ...and not much later (bounded: the wait is at most two seconds).
        assert!(elapsed < Duration::from_secs(4), "{name}: {elapsed:?}");
        assert_eq!(server.executions("CreatePrimeApiUser"), 1, "{name}");
        let issued = nonces.issued();
        assert_eq!(issued.len(), 2, "{name}: one re-signed resend");
        assert!(
            issued[1] > issued[0],
            "{name}: the resend has a fresh nonce"
        );
    }
}

#[test]
fn a_throttle_beyond_the_maximum_wait_is_returned_at_once() {
    let server = MockServer::start().expect("the simulator starts");
    let nonces = RecordedNonces::new();
    for (name, caller) in both(&server, &server.account_credentials(), &nonces) {
        let until = unix_now() + 600;
        server.push_fault(Fault::new(FaultKind::throttled(until)));
        let started = Instant::now();
        let result = create_user(&caller, "too long");
        assert_eq!(
            codes(&result),
            [ErrorCode::Throttled { until: Some(until) }],
            "{name}"
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{name}");
    }
    assert_eq!(server.executions("CreatePrimeApiUser"), 0);
    assert_eq!(nonces.count(), 2, "one attempt per client");
}

#[test]
fn too_many_requests_is_waited_out_and_resent_even_a_create_when_opted_in() {
    let server = MockServer::start().expect("the simulator starts");
    let nonces = RecordedNonces::new();
    for (name, caller) in both(&server, &server.account_credentials(), &nonces) {
        server.push_fault(Fault::new(FaultKind::too_many_requests()).times(2));
        assert!(create_user(&caller, name).is_ok(), "{name}");
    }
    assert_eq!(server.executions("CreatePrimeApiUser"), 2);
    assert_eq!(nonces.count(), 6, "three signed attempts per client");
    // Every attempt: the budget runs out and the typed code comes back.
    for (name, caller) in both(&server, &server.account_credentials(), &nonces) {
        server.push_fault(Fault::new(FaultKind::too_many_requests()).times(3));
        assert_eq!(
            codes(&create_user(&caller, name)),
            [ErrorCode::TooManyRequests],
            "{name}"
        );
    }
    assert_eq!(server.executions("CreatePrimeApiUser"), 2);
}

#[test]
fn a_key_with_2fa_works_with_its_otp_and_is_refused_without_it_by_both_clients() {
    let server = MockServer::start().expect("the simulator starts");
    let minted = server
        .mint_account_key(&AccountKeySpec::new(Permission::ALL).otp("2fa-Zq7-password"))
        .expect("a key with 2FA");
    let with_otp = minted.credentials().expect("credentials");
    let without = Credentials::new(&minted.api_key, minted.api_secret().expose()).expect("valid");
    let wrong = without
        .clone()
        .with_otp(Otp::password("2fa-Zq7-passworD").expect("valid"));
    // One nonce source per key, shared by both clients (the simulator orders nonces per key).
    let nonces = RecordedNonces::new();
    for (name, caller) in both(&server, &with_otp, &nonces) {
        assert_eq!(list_batches(&caller).ok(), Some(0), "{name}");
    }
    for credentials in [&without, &wrong] {
        for (name, caller) in both(&server, credentials, &nonces) {
            let attempts = nonces.count();
            let result = list_batches(&caller);
            assert_eq!(codes(&result), [ErrorCode::InvalidSignature], "{name}");
            assert_eq!(nonces.count(), attempts + 1, "{name}: not retried");
            let shown = format!("{result:?}");
            assert!(!shown.contains("Zq7"), "{name}: {shown}");
        }
    }
    assert_eq!(server.executions("ListPrimeSettlementBatches"), 2);
}

#[test]
fn a_totp_generator_is_asked_again_for_every_resend() {
    let server = MockServer::start().expect("the simulator starts");
    // The simulator's 2FA is a static password: a generator that always yields it, counting
    // how often it is asked, stands in for a TOTP app.
    let minted = server
        .mint_account_key(&AccountKeySpec::new(Permission::ALL).otp("314159"))
        .expect("a key with 2FA");
    let asked = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&asked);
    let totp = Otp::generator(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Zeroizing::new("314159".to_owned())
    });
    let credentials = Credentials::new(&minted.api_key, minted.api_secret().expose())
        .expect("valid")
        .with_otp(totp);
    let nonces = RecordedNonces::new();
    for (name, caller) in both(&server, &credentials, &nonces) {
        server.push_fault(Fault::new(FaultKind::rate_limited()).on("ListPrimeSettlementBatches"));
        assert_eq!(list_batches(&caller).ok(), Some(0), "{name}");
    }
    assert_eq!(asked.load(Ordering::SeqCst), 4, "once per signed attempt");
    assert_eq!(nonces.count(), 4);
}
