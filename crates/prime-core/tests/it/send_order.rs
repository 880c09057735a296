//! The call driver inside a shared send order: the nonce above the order's floor, recorded
//! before the request leaves; a key recorded in another unit refused before signing; a
//! refused nonce explained.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::{HeaderMap, StatusCode};
use prime_core::endpoints::ListApiUsers;
use prime_core::transport::{ClientCore, NonceCause, SendOrder, SendOrderError, SendTurn, Step};
use prime_core::{
    ApiKey, ClockNonce, CountingNonce, Credentials, Delivery, Error, NonceSource, NonceUnit,
    Settings, TransportErrorKind,
};

const OK_USERS: &[u8] = br#"{"error":[],"result":{"data":[]}}"#;
const INVALID_NONCE: &[u8] = br#"{"error":["EAPI:Invalid nonce"]}"#;

/// A turn over a shared cell: its floor, what was recorded, whether recording fails.
#[derive(Debug, Default)]
struct Cell {
    floor: u64,
    recorded: Vec<u64>,
    fail: bool,
    waited: bool,
}

#[derive(Debug, Default, Clone)]
struct Shared(Arc<Mutex<Cell>>);

struct Turn(Shared);

impl SendOrder for Shared {
    fn take_turn(&self, _key: &ApiKey) -> Result<Box<dyn SendTurn>, SendOrderError> {
        Ok(Box::new(Turn(self.clone())))
    }
}

impl SendTurn for Turn {
    fn floor(&self) -> u64 {
        self.0.0.lock().unwrap().floor
    }
    fn record(&mut self, nonce: u64) -> Result<(), SendOrderError> {
        let mut cell = self.0.0.lock().unwrap();
        if cell.fail {
            return Err(SendOrderError::new("the disk is full"));
        }
        cell.recorded.push(nonce);
        cell.floor = nonce;
        Ok(())
    }
    fn waited_for_another(&self) -> bool {
        self.0.0.lock().unwrap().waited
    }
}

fn core(nonces: Arc<dyn NonceSource>, order: &Shared, concurrent: bool) -> ClientCore {
    let credentials = Credentials::new("KRA5L19LAW8Z", prime_core::example::SECRET).expect("valid");
    let settings = Settings::default()
        .nonce_source(nonces)
        .send_order(Arc::new(order.clone()))
        .concurrent_sends(concurrent);
    ClientCore::new(credentials, &settings).expect("valid settings")
}

fn nonce_of(body: &[u8]) -> u64 {
    let value: serde_json::Value = serde_json::from_slice(body).expect("JSON body");
    value["nonce"].as_u64().expect("a nonce")
}

#[test]
fn the_nonce_is_the_larger_of_the_source_and_the_floor_plus_one_and_is_recorded() {
    // Floors below, at and above what the source gives next (1000).
    for floor in [0, 1, 998, 999, 1000, 1001, 5000, u64::MAX - 1] {
        let order = Shared::default();
        order.0.lock().unwrap().floor = floor;
        let core = core(Arc::new(CountingNonce::starting_at(1000)), &order, false);
        let endpoint = ListApiUsers::new();
        let mut call = core.start(&endpoint, Instant::now()).expect("valid");
        let mut turn = core
            .send_order()
            .expect("an order")
            .take_turn(core.api_key())
            .unwrap();
        let request = call
            .request_in_turn_at(Instant::now(), &mut *turn)
            .expect("signed");
        let sent = nonce_of(request.body());
        assert_eq!(sent, 1000u64.max(floor + 1), "floor {floor}");
        assert_eq!(
            order.0.lock().unwrap().recorded,
            [sent],
            "recorded before it leaves"
        );
    }
}

#[test]
fn nonces_rise_across_turns_whatever_the_source_says() {
    // A source that repeats itself (a clock stepped back) still gets increasing nonces.
    let order = Shared::default();
    order.0.lock().unwrap().floor = 5_000;
    let core = core(Arc::new(CountingNonce::starting_at(10)), &order, false);
    let endpoint = ListApiUsers::new();
    let mut sent = Vec::new();
    for _ in 0..20 {
        let mut call = core.start(&endpoint, Instant::now()).expect("valid");
        let mut turn = core
            .send_order()
            .unwrap()
            .take_turn(core.api_key())
            .unwrap();
        sent.push(nonce_of(
            call.request_in_turn_at(Instant::now(), &mut *turn)
                .unwrap()
                .body(),
        ));
    }
    assert!(sent.windows(2).all(|w| w[1] > w[0]), "{sent:?}");
    assert_eq!(sent[0], 5_001);
}

#[test]
fn a_key_recorded_in_another_unit_is_refused_before_anything_is_signed() {
    let units = [
        NonceUnit::Milliseconds,
        NonceUnit::Microseconds,
        NonceUnit::Nanoseconds,
    ];
    let since_epoch = std::time::Duration::from_secs(1_795_000_000);
    for recorded_in in units {
        for unit in units {
            let order = Shared::default();
            let floor = recorded_in.count(since_epoch);
            order.0.lock().unwrap().floor = floor;
            let core = core(Arc::new(ClockNonce::with_unit(unit)), &order, false);
            let endpoint = ListApiUsers::new();
            let mut call = core.start(&endpoint, Instant::now()).expect("valid");
            let mut turn = core
                .send_order()
                .unwrap()
                .take_turn(core.api_key())
                .unwrap();
            let outcome = call.request_in_turn_at(Instant::now(), &mut *turn);
            if recorded_in == unit {
                assert!(outcome.is_ok(), "{recorded_in} key, {unit} client");
                continue;
            }
            let Err(Error::NonceUnitMismatch(mismatch)) = outcome else {
                panic!("{recorded_in} key, {unit} client: expected a mismatch, got {outcome:?}");
            };
            assert_eq!(mismatch.recorded(), floor);
            assert_eq!(mismatch.recorded_unit(), recorded_in);
            assert_eq!(mismatch.unit(), unit);
            let text = mismatch.to_string();
            assert!(
                text.contains(&format!("--nonce-unit {recorded_in}"))
                    && text.contains("nothing was sent"),
                "{text}"
            );
            assert!(
                order.0.lock().unwrap().recorded.is_empty(),
                "nothing recorded"
            );
        }
    }
}

#[test]
fn a_nonce_that_cannot_be_recorded_is_not_sent() {
    let order = Shared::default();
    order.0.lock().unwrap().fail = true;
    let core = core(Arc::new(CountingNonce::starting_at(1)), &order, false);
    let endpoint = ListApiUsers::new();
    let mut call = core.start(&endpoint, Instant::now()).expect("valid");
    let mut turn = core
        .send_order()
        .unwrap()
        .take_turn(core.api_key())
        .unwrap();
    match call.request_in_turn_at(Instant::now(), &mut *turn) {
        Err(Error::Transport(e)) => {
            assert_eq!(e.delivery(), Delivery::NotSent);
            assert_eq!(e.kind(), TransportErrorKind::SendOrder);
        }
        other => panic!("expected a not-sent error, got {other:?}"),
    }
}

#[test]
fn concurrent_sends_take_no_shared_order() {
    let order = Shared::default();
    let core = core(Arc::new(CountingNonce::starting_at(1)), &order, true);
    assert!(core.send_order().is_none());
}

/// Drives one call to a refused nonce (refused on the first attempt and on the resend) and
/// returns the error.
fn refused(nonces: Arc<dyn NonceSource>, order: Option<&Shared>, concurrent: bool) -> Error {
    let core = match order {
        Some(order) => core(nonces, order, concurrent),
        None => {
            let credentials =
                Credentials::new("KRA5L19LAW8Z", prime_core::example::SECRET).expect("valid");
            let settings = Settings::default()
                .nonce_source(nonces)
                .concurrent_sends(concurrent);
            ClientCore::new(credentials, &settings).expect("valid settings")
        }
    };
    let endpoint = ListApiUsers::new();
    let mut call = core.start(&endpoint, Instant::now()).expect("valid");
    for _ in 0..5 {
        let _request = match core.send_order() {
            Some(order) => {
                let mut turn = order.take_turn(core.api_key()).unwrap();
                call.request_in_turn_at(Instant::now(), &mut *turn).unwrap()
            }
            None => call.request().unwrap(),
        };
        match call.on_response(
            Instant::now(),
            StatusCode::OK,
            &HeaderMap::new(),
            INVALID_NONCE,
        ) {
            Step::Retry { .. } => {}
            Step::Stop(error) => return error,
            Step::Done(_) => panic!("a refusal is no result"),
        }
    }
    panic!("the driver resends a refused nonce once, not more");
}

#[test]
fn a_refused_nonce_is_explained_with_what_the_client_knew() {
    let units = [
        NonceUnit::Milliseconds,
        NonceUnit::Microseconds,
        NonceUnit::Nanoseconds,
    ];
    for unit in units {
        for shared in [false, true] {
            for concurrent in [false, true] {
                let order = Shared::default();
                order.0.lock().unwrap().waited = true;
                let error = refused(
                    Arc::new(ClockNonce::with_unit(unit)),
                    shared.then_some(&order),
                    concurrent,
                );
                let case = format!("{unit} shared={shared} concurrent={concurrent}");
                let refusal = error
                    .nonce_refusal()
                    .unwrap_or_else(|| panic!("{case}: {error:?}"));
                assert!(
                    error.response().is_some(),
                    "{case}: Kraken's answer is kept"
                );
                assert_eq!(refusal.unit(), Some(unit), "{case}");
                assert_eq!(NonceUnit::guess(refusal.sent()), Some(unit), "{case}");
                let uses_order = shared && !concurrent;
                // The floor the refused (second) attempt saw is the first attempt's nonce.
                assert_eq!(refusal.recorded().is_some(), uses_order, "{case}");
                assert_eq!(
                    refusal.waited_for_another(),
                    uses_order.then_some(true),
                    "{case}"
                );
                if let Some(recorded) = refusal.recorded() {
                    assert!(recorded < refusal.sent(), "{case}");
                }

                let causes = refusal.causes();
                assert_eq!(
                    causes.contains(&NonceCause::LargerScale { this_client: unit }),
                    unit != NonceUnit::Nanoseconds,
                    "{case}: {causes:?}"
                );
                assert_eq!(causes.contains(&NonceCause::NoWindow), concurrent, "{case}");
                assert!(
                    causes.contains(&NonceCause::SentElsewhere {
                        shared_order: uses_order
                    }),
                    "{case}: {causes:?}"
                );

                let text = error.to_string();
                assert!(text.contains(&refusal.sent().to_string()), "{case}: {text}");
                assert!(text.contains(&format!("a {unit} nonce")), "{case}: {text}");
                assert!(text.contains("locks it out"), "{case}: {text}");
                assert_eq!(
                    text.contains("larger scale"),
                    unit != NonceUnit::Nanoseconds,
                    "{text}"
                );
                assert_eq!(
                    text.contains("another process had just held it"),
                    uses_order,
                    "{text}"
                );
                assert_eq!(text.contains("shares no send order"), !uses_order, "{text}");
                assert!(!text.contains('\n'), "one line: {text}");
            }
        }
    }
}

#[test]
fn other_refusals_are_left_as_they_are() {
    let core = {
        let credentials =
            Credentials::new("KRA5L19LAW8Z", prime_core::example::SECRET).expect("valid");
        ClientCore::new(credentials, &Settings::default()).expect("valid")
    };
    let endpoint = ListApiUsers::new();
    let mut call = core.start(&endpoint, Instant::now()).expect("valid");
    let _request = call.request().unwrap();
    let body = br#"{"error":["EAPI:Invalid key"]}"#;
    match call.on_response(Instant::now(), StatusCode::OK, &HeaderMap::new(), body) {
        Step::Stop(Error::Response(_)) => {}
        other => panic!("expected the plain response error, got {other:?}"),
    }
    let mut call = core.start(&endpoint, Instant::now()).expect("valid");
    let _request = call.request().unwrap();
    assert!(matches!(
        call.on_response(Instant::now(), StatusCode::OK, &HeaderMap::new(), OK_USERS),
        Step::Done(_)
    ));
}

#[test]
fn a_transport_that_ignores_the_shared_order_is_refused() {
    let order = Shared::default();
    let nonces = Arc::new(CountingNonce::starting_at(1));
    let core = core(nonces.clone(), &order, false);
    let endpoint = ListApiUsers::new();
    let mut call = core.start(&endpoint, Instant::now()).expect("valid");
    match call.request() {
        Err(Error::InvalidArgument(e)) => assert_eq!(e.field(), "send_order"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(nonces.next_nonce(), 1, "no nonce spent");
}
