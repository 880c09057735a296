//! Logs never contain secrets: every event the simulator emits, at every level, is captured
//! while keys are created, used and faulted, and searched for the secrets and signatures.

#[path = "it/http_client/mod.rs"]
mod http_client;

use std::fmt::Write as _;
use std::sync::Mutex;

use prime_core::endpoints::{CreateApiUserKey, ListSettlementBatches, Role};
use prime_mock::{Fault, FaultKind, MockServer, Trade};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use http_client::Session;

static LOGS: Mutex<String> = Mutex::new(String::new());

/// Records every field of every event and span, whatever its level.
struct Capture;

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        span.record(&mut Fields(&mut LOGS.lock().unwrap()));
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Fields(&mut LOGS.lock().unwrap()));
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut logs = LOGS.lock().unwrap();
        event.record(&mut Fields(&mut logs));
        logs.push('\n');
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[test]
fn no_secret_or_signature_reaches_the_logs() {
    tracing::subscriber::set_global_default(Capture).unwrap();
    let server = MockServer::builder().seed(11).start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let (user, key) = session.user_with_key(&admin, "U", Role::Trader);
    let minted = server
        .mint_account_key(
            &prime_mock::AccountKeySpec::new([prime_mock::Permission::QueryOpenOrdersAndTrades])
                .otp("zq7-2fa-password"),
        )
        .unwrap();
    let own = minted.credentials().unwrap();
    let request = session.build(&own, &ListSettlementBatches::new(), session.next_nonce());
    let signature = request.headers()["API-Sign"].to_str().unwrap().to_owned();
    session.client.send(&request).response();
    // A refusal, faults that spoil a key creation, and an invalid trade are logged too.
    session.client.send(&request).response();
    server.push_fault(Fault::new(FaultKind::MalformedJson));
    server.push_fault(Fault::new(FaultKind::DropAfterExecute));
    let _ = session.send(&admin, &CreateApiUserKey::new(&user));
    let _ = session.send(&admin, &CreateApiUserKey::new(&user));
    server.add_trade(Trade::new(
        "BTC",
        "NaN",
        prime_core::endpoints::AssetKind::Currency,
    ));
    // An unreadable body and a wrong second factor are refused and logged, without content.
    let wrong_otp = minted
        .credentials()
        .unwrap()
        .with_otp(prime_core::Otp::password("zq7-wrong-guess").unwrap());
    let _ = session.send(&wrong_otp, &ListSettlementBatches::new());
    let _ = session.client.send_parts(
        "POST",
        "/0/private/ListPrimeApiUsers",
        &[
            ("Content-Type", b"text/plain"),
            ("API-Key", admin.api_key().as_str().as_bytes()),
        ],
        b"nonce=1&otp=zq7-plain-text",
    );
    let minted_secret = minted.api_secret().expose().to_owned();
    drop(server);

    let logs = LOGS.lock().unwrap().clone();
    // The capture works: the calls above were logged.
    assert!(logs.contains("executed"), "{logs}");
    assert!(logs.contains("EAPI:Invalid nonce"), "{logs}");
    assert!(logs.contains("drop-after-execute"), "{logs}");
    assert!(logs.contains("trade ignored"), "{logs}");
    assert!(logs.contains("unreadable body"), "{logs}");
    assert!(logs.contains("EAPI:Invalid signature"), "{logs}");
    assert!(
        !logs.contains("zq7"),
        "a 2FA password or body content was logged"
    );
    for secret in [
        key.api_secret().expose(),
        &minted_secret,
        MockServer::builder()
            .seed(11)
            .start()
            .unwrap()
            .account_secret()
            .expose(),
        &signature,
    ] {
        assert!(!logs.contains(secret), "a secret or signature was logged");
    }
}
