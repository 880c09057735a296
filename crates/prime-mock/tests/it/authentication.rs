//! Every rejection over real HTTP: keys, signatures, nonces, arguments, IP allow-lists, the
//! rate-limit and lockout model, the switches of the order of checks and unknown fields, and
//! that a rejected request changes no state (with the rate-limit model off; with it on,
//! refusals count towards the limits).

use crate::http_client;

use std::time::Duration;

use prime_core::endpoints::{
    CreateApiUser, CreateApiUserKey, CreateSettlementBatch, GetApiUser, ListApiUsers,
    ListSettlementBatches, Role, SettleSettlementBatchAsset, UpdateApiUserKey,
};
use prime_core::{Credentials, Endpoint};
use prime_mock::{AccountKeySpec, CheckOrder, MockServer, Permission, RateLimits, UnknownFields};

use http_client::{Received, Session};

/// A second account key that may only query settlement.
fn query_key(server: &MockServer, spec: AccountKeySpec) -> Credentials {
    server
        .mint_account_key(&spec)
        .unwrap()
        .credentials()
        .unwrap()
}

fn query_only() -> AccountKeySpec {
    AccountKeySpec::new([Permission::QueryOpenOrdersAndTrades])
}

/// Sends `body` to `ListPrimeApiUsers` with the account key, signed correctly for exactly
/// those bytes (so only the body's content can be wrong).
fn signed_raw(
    session: &mut Session,
    server: &MockServer,
    nonce_digits: &str,
    body: &str,
) -> String {
    let credentials = server.account_credentials();
    let path = ListApiUsers::PATH;
    let sign = credentials
        .signing_key()
        .sign(path, nonce_digits.as_bytes(), body.as_bytes());
    let response = session
        .client
        .send_parts(
            "POST",
            path,
            &[
                ("Content-Type", b"application/json"),
                ("API-Key", credentials.api_key().as_str().as_bytes()),
                ("API-Sign", sign.as_str().as_bytes()),
            ],
            body.as_bytes(),
        )
        .response();
    assert_eq!(response.status, 200);
    response.first_error().unwrap_or_default()
}

#[test]
fn unknown_or_missing_keys_are_invalid_keys() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let stranger = Credentials::new("NOTAKEY", server.account_secret().expose()).unwrap();
    assert_eq!(
        session.error(&stranger, &ListApiUsers::new()),
        "EAPI:Invalid key"
    );

    let response = session
        .client
        .send_parts("POST", ListApiUsers::PATH, &[], br#"{"nonce":1}"#)
        .response();
    assert_eq!(response.first_error().as_deref(), Some("EAPI:Invalid key"));
}

#[test]
fn signatures_must_cover_the_exact_request() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);

    // The right key with another secret.
    let forged = Credentials::new(server.account_api_key(), prime_core::example::SECRET).unwrap();
    assert_eq!(
        session.error(&forged, &ListApiUsers::new()),
        "EAPI:Invalid signature"
    );

    // A correctly signed request whose body, path or signature is altered in transit.
    let nonce = session.next_nonce();
    let request = session.build(&admin, &CreateApiUser::new("Alice", Role::Viewer), nonce);
    let sign = request.headers()["API-Sign"].as_bytes().to_vec();
    let key = admin.api_key().as_str().as_bytes().to_vec();
    let tampered_body = String::from_utf8(request.body().clone())
        .unwrap()
        .replace("Alice", "Mallory");
    let mut truncated_sign = sign.clone();
    truncated_sign.truncate(40);
    // (path, API-Sign, body): each differs from what was signed in one way.
    let cases: [(&str, &[u8], &[u8]); 4] = [
        (ListApiUsers::PATH, &sign, request.body()),
        (CreateApiUser::PATH, &sign, tampered_body.as_bytes()),
        ("/0/private/CreatePrimeApiUser?x=1", &sign, request.body()),
        (CreateApiUser::PATH, &truncated_sign, request.body()),
    ];
    for (path, sign, body) in cases {
        let headers: [(&str, &[u8]); 2] = [("API-Key", &key), ("API-Sign", sign)];
        let response = session
            .client
            .send_parts("POST", path, &headers, body)
            .response();
        assert_eq!(
            response.first_error().as_deref(),
            Some("EAPI:Invalid signature"),
            "{path}"
        );
    }
    let response = session
        .client
        .send_parts(
            "POST",
            CreateApiUser::PATH,
            &[("API-Key", &key)],
            request.body(),
        )
        .response();
    assert_eq!(
        response.first_error().as_deref(),
        Some("EAPI:Invalid signature")
    );
    assert_eq!(server.executions("CreatePrimeApiUser"), 0);

    // The untouched request still goes through (nothing above used up its nonce).
    let response = session.client.send(&request).response();
    assert_eq!(response.first_error(), None);
    assert_eq!(server.executions("CreatePrimeApiUser"), 1);
}

#[test]
fn a_query_string_is_part_of_the_signed_path() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let path = "/0/private/ListPrimeApiUsers?trace=1";
    let body = br#"{"nonce":5}"#;
    let sign = admin.signing_key().sign(path, b"5", body);
    let response = session
        .client
        .send_parts(
            "POST",
            path,
            &[
                ("API-Key", admin.api_key().as_str().as_bytes()),
                ("API-Sign", sign.as_str().as_bytes()),
            ],
            body,
        )
        .response();
    assert_eq!(response.first_error(), None);
}

#[test]
fn nonces_must_increase_per_key() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let send = |session: &mut Session, credentials: &Credentials, nonce: u64| {
        let request = session.build(credentials, &ListApiUsers::new(), nonce);
        session.client.send(&request).response().first_error()
    };
    assert_eq!(send(&mut session, &admin, 1000), None);
    assert_eq!(
        send(&mut session, &admin, 1000).as_deref(),
        Some("EAPI:Invalid nonce")
    );
    assert_eq!(
        send(&mut session, &admin, 999).as_deref(),
        Some("EAPI:Invalid nonce")
    );
    assert_eq!(send(&mut session, &admin, 1001), None);
    // Nonces are per key: another key starts afresh.
    let viewer = query_key(&server, query_only());
    let request = session.build(&viewer, &ListSettlementBatches::new(), 1);
    assert_eq!(session.client.send(&request).response().first_error(), None);
    // The largest nonce is accepted, and poisons the key for good (as on Kraken).
    assert_eq!(send(&mut session, &admin, u64::MAX), None);
    assert_eq!(
        send(&mut session, &admin, u64::MAX).as_deref(),
        Some("EAPI:Invalid nonce")
    );
}

#[test]
fn a_refused_nonce_is_reported_with_the_keys_high_water_mark() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let mut send = |nonce: u64| {
        let request = session.build(&admin, &ListApiUsers::new(), nonce);
        session.client.send(&request).response().first_error()
    };
    let ms = 1_795_000_000_000u64;
    let ns = 1_795_000_000_000_000_000u64;
    // (accepted before, then refused, the units each looks like)
    for (highest, refused, units) in [
        (ns, ms + 1, ("ms", "ns")),
        (ns + 10, ns + 10, ("ns", "ns")),
        (ns + 20, 42, ("", "ns")),
    ] {
        assert_eq!(send(highest), None);
        assert_eq!(send(refused).as_deref(), Some("EAPI:Invalid nonce"));
        let last = server.last_rejection().expect("a rejection");
        assert_eq!(last["error"], "EAPI:Invalid nonce", "{last}");
        assert_eq!(last["path"], ListApiUsers::PATH, "{last}");
        assert_eq!(last["api_key"], server.account_api_key(), "{last}");
        assert_eq!(last["nonce"].as_u64(), Some(refused), "{last}");
        assert_eq!(last["high_water_mark"].as_u64(), Some(highest), "{last}");
        assert_eq!(last["window"], 0, "{last}");
        let unit = |u: &str| {
            if u.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::Value::from(u)
            }
        };
        assert_eq!(last["units"]["nonce"], unit(units.0), "{last}");
        assert_eq!(last["units"]["high_water_mark"], unit(units.1), "{last}");
    }
}

#[test]
fn a_nonce_window_admits_out_of_order_nonces_once() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let send = |session: &mut Session, nonce: u64| {
        let request = session.build(&admin, &ListApiUsers::new(), nonce);
        session.client.send(&request).response().first_error()
    };
    assert_eq!(send(&mut session, 100), None);
    assert!(server.set_nonce_window(server.account_api_key(), 10));
    assert!(!server.set_nonce_window("NOSUCHKEY", 10));
    assert_eq!(send(&mut session, 110), None);
    assert_eq!(send(&mut session, 105), None, "inside the window");
    assert_eq!(
        send(&mut session, 105).as_deref(),
        Some("EAPI:Invalid nonce"),
        "replay"
    );
    assert_eq!(
        send(&mut session, 100).as_deref(),
        Some("EAPI:Invalid nonce"),
        "outside"
    );
    assert_eq!(send(&mut session, 101), None);
}

#[test]
fn malformed_bodies_are_invalid_arguments() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let cases = [
        ("1", "nonce=1", "EGeneral:Invalid arguments"),
        ("1", r#"{"nonce":1"#, "EGeneral:Invalid arguments"),
        ("1", "[1]", "EGeneral:Invalid arguments"),
        ("1", r#"{"user":1}"#, "EGeneral:Invalid arguments:nonce"),
        (
            "2a",
            r#"{"nonce":"2a"}"#,
            "EGeneral:Invalid arguments:nonce",
        ),
        ("-1", r#"{"nonce":-1}"#, "EGeneral:Invalid arguments:nonce"),
        (
            "1.5",
            r#"{"nonce":1.5}"#,
            "EGeneral:Invalid arguments:nonce",
        ),
        (
            "2",
            r#"{"nonce":2,"page":1}"#,
            "EGeneral:Invalid arguments:page",
        ),
    ];
    for (digits, body, expected) in cases {
        assert_eq!(
            signed_raw(&mut session, &server, digits, body),
            expected,
            "{body}"
        );
    }
}

/// Sends `body` as `content_type` to `ListPrimeApiUsers` with the account key, signed over
/// `nonce_text` and the exact bytes, or with a signature of other bytes when `forge` is set.
fn send_typed(
    session: &mut Session,
    server: &MockServer,
    content_type: &str,
    nonce_text: &str,
    body: &str,
    forge: bool,
) -> Option<String> {
    let credentials = server.account_credentials();
    let signed_body = if forge { "tampered" } else { body };
    let sign = credentials.signing_key().sign(
        ListApiUsers::PATH,
        nonce_text.as_bytes(),
        signed_body.as_bytes(),
    );
    session
        .client
        .send_parts(
            "POST",
            ListApiUsers::PATH,
            &[
                ("Content-Type", content_type.as_bytes()),
                ("API-Key", credentials.api_key().as_str().as_bytes()),
                ("API-Sign", sign.as_str().as_bytes()),
            ],
            body.as_bytes(),
        )
        .response()
        .first_error()
}

#[test]
fn bodies_are_read_by_content_type_and_signatures_checked_before_arguments() {
    const JSON: &str = "application/json";
    const FORM: &str = "application/x-www-form-urlencoded";
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    // Every way real clients send a body, nonce as number or string of digits.
    let accepted = [
        (JSON, "11", r#"{"nonce":11}"#),
        (JSON, "12", r#"{"nonce":"12"}"#),
        ("application/json; charset=utf-8", "13", r#"{"nonce":"13"}"#),
        (FORM, "14", "nonce=14"),
        (
            "application/x-www-form-urlencoded; charset=utf-8",
            "15",
            "nonce=15",
        ),
        (JSON, "16", r#"{"nonce":"16","otp":"ignored without 2FA"}"#),
        (FORM, "17", "nonce=17&otp=ignored"),
    ];
    for (content_type, nonce, body) in accepted {
        assert_eq!(
            send_typed(&mut session, &server, content_type, nonce, body, false),
            None,
            "{content_type} {body}"
        );
    }
    assert_eq!(server.executions("ListPrimeApiUsers"), 7);
    // A wrong signature is reported as such, whatever is wrong with the arguments.
    let forged = [
        (JSON, "20", r#"{"nonce":20}"#),
        (FORM, "21", "nonce=21"),
        (FORM, "22", "nonce=22&unknown=1"),
        (JSON, "23", r#"{"nonce":"23","page":1}"#),
        (JSON, "x", r#"{"nonce":"x"}"#),
    ];
    for (content_type, nonce, body) in forged {
        assert_eq!(
            send_typed(&mut session, &server, content_type, nonce, body, true).as_deref(),
            Some("EAPI:Invalid signature"),
            "{content_type} {body}"
        );
    }
    // Correctly signed, then judged: a body that is not its declared type, an unknown field.
    let refused = [
        (FORM, "30", r#"{"nonce":30}"#, "EGeneral:Invalid arguments"),
        (JSON, "31", "nonce=31", "EGeneral:Invalid arguments"),
        (
            "text/plain",
            "32",
            r#"{"nonce":32}"#,
            "EGeneral:Invalid arguments",
        ),
        (
            FORM,
            "33",
            "nonce=33&page=1",
            "EGeneral:Invalid arguments:page",
        ),
        (FORM, "34", "nonce=3%4", "EGeneral:Invalid arguments"),
    ];
    for (content_type, nonce, body, expected) in refused {
        assert_eq!(
            send_typed(&mut session, &server, content_type, nonce, body, false).as_deref(),
            Some(expected),
            "{content_type} {body}"
        );
    }
    assert_eq!(server.executions("ListPrimeApiUsers"), 7);
}

#[test]
fn keys_with_2fa_need_the_otp_and_answer_invalid_signature_without_it() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let minted = server
        .mint_account_key(&AccountKeySpec::new(Permission::ALL).otp("s3cond factor"))
        .unwrap();
    let with_otp = minted.credentials().unwrap();
    assert!(with_otp.otp().is_some());
    session.ok(&with_otp, &ListSettlementBatches::new());
    let without = Credentials::new(&minted.api_key, minted.api_secret().expose()).unwrap();
    let wrong = without
        .clone()
        .with_otp(prime_core::Otp::password("s3cond factoR").unwrap());
    let short = without
        .clone()
        .with_otp(prime_core::Otp::password("s3cond").unwrap());
    for credentials in [&without, &wrong, &short] {
        assert_eq!(
            session.error(credentials, &ListSettlementBatches::new()),
            "EAPI:Invalid signature"
        );
    }
    assert_eq!(server.executions("ListPrimeSettlementBatches"), 1);
    // A refused call did not use up its nonce: the next good call still passes.
    session.ok(&with_otp, &ListSettlementBatches::new());
}

#[test]
fn wrong_fields_name_the_field() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let path = CreateApiUser::PATH;
    let cases = [
        (r#"{"nonce":1,"role":"Trader"}"#, "name"),
        (r#"{"nonce":2,"name":7,"role":"Trader"}"#, "name"),
        (r#"{"nonce":3,"name":"A","role":["Trader"]}"#, "role"),
        (
            r#"{"nonce":4,"name":"A","role":"Trader","admin":true}"#,
            "admin",
        ),
        (r#"{"nonce":5,"name":"","role":"Trader"}"#, "name"),
        (r#"{"nonce":6,"name":"A","role":"Wizard"}"#, "role"),
    ];
    for (body, field) in cases {
        let nonce = body[9..10].to_owned();
        let sign = admin
            .signing_key()
            .sign(path, nonce.as_bytes(), body.as_bytes());
        let response = session
            .client
            .send_parts(
                "POST",
                path,
                &[
                    ("API-Key", admin.api_key().as_str().as_bytes()),
                    ("API-Sign", sign.as_str().as_bytes()),
                ],
                body.as_bytes(),
            )
            .response();
        assert_eq!(
            response.first_error(),
            Some(format!("EGeneral:Invalid arguments:{field}")),
            "{body}"
        );
    }
    assert_eq!(server.executions("CreatePrimeApiUser"), 0);
    assert_eq!(
        session.error(
            &admin,
            &UpdateApiUserKey::new("U", "K").whitelisted_ips(["1.2.3.4"])
        ),
        "EGeneral:Invalid arguments:user_id"
    );
}

#[test]
fn a_rejected_request_changes_no_state() {
    let server = MockServer::builder().seed(3).start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let (user, _) = session.user_with_key(&admin, "Viewer", Role::Viewer);
    let viewer = query_key(&server, query_only());
    let before = server.state();

    // One rejection of each kind, all carrying the same nonce.
    let nonce = session.next_nonce();
    let create = CreateApiUser::new("Eve", Role::Trader);
    let mut forged_request = session.build(&admin, &create, nonce);
    forged_request.body_mut().push(b' ');
    let rejections = [
        session.build(
            &Credentials::new("NOTAKEY", server.account_secret().expose()).unwrap(),
            &create,
            nonce,
        ),
        forged_request,
        session.build(&viewer, &CreateSettlementBatch::new(), nonce),
        session.build(&admin, &CreateApiUserKey::new("NOSUCHUSER"), nonce),
        session.build(
            &admin,
            &CreateApiUser::new("Eve", Role::Other("God".into())),
            nonce,
        ),
    ];
    let mut errors = Vec::new();
    for request in &rejections {
        errors.push(
            session
                .client
                .send(request)
                .response()
                .first_error()
                .unwrap(),
        );
    }
    assert_eq!(
        errors,
        [
            "EAPI:Invalid key",
            "EAPI:Invalid signature",
            "EGeneral:Permission denied",
            "EGeneral:Invalid arguments:user_id",
            "EGeneral:Invalid arguments:role",
        ]
    );
    assert_eq!(server.state(), before);
    assert_eq!(server.key_count(&user), 1);

    // The nonce those rejections carried is still unused.
    let request = session.build(&admin, &create, nonce);
    assert_eq!(session.client.send(&request).response().first_error(), None);
    assert_ne!(server.state(), before);
}

#[test]
fn ip_allow_lists_are_enforced_against_the_peer_address() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let elsewhere = query_key(&server, query_only().whitelisted_ips(["192.0.2.1"]));
    assert_eq!(
        session.error(&elsewhere, &ListSettlementBatches::new()),
        "EGeneral:Permission denied"
    );
    assert_eq!(server.executions("ListPrimeSettlementBatches"), 0);
    let here = query_key(
        &server,
        query_only().whitelisted_ips(["192.0.2.1", "127.0.0.0/8"]),
    );
    session.ok(&here, &ListSettlementBatches::new());
    // An empty list is no restriction.
    let anywhere = query_key(&server, query_only().whitelisted_ips([""; 0]));
    session.ok(&anywhere, &ListSettlementBatches::new());
}

#[test]
fn the_rate_limit_model_refuses_bursts_and_recovers() {
    let server = MockServer::builder().rate_limit(true).start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let viewer = query_key(&server, query_only());
    let mut results = Vec::new();
    // The default maximum is 20 calls.
    for _ in 0..21 {
        results.push(session.call(&admin, &ListApiUsers::new()).is_ok());
    }
    assert_eq!(results.iter().filter(|ok| **ok).count(), 20);
    assert_eq!(
        session.error(&admin, &ListApiUsers::new()),
        "EAPI:Rate limit exceeded"
    );
    // The counter is per key.
    session.ok(&viewer, &ListSettlementBatches::new());
    server.set_rate_limit(false);
    for _ in 0..5 {
        session.ok(&admin, &ListApiUsers::new());
    }
}

/// A model quick enough for tests: 5 calls, one forgotten per 40 ms, no lockout.
fn quick_limits() -> RateLimits {
    RateLimits::default()
        .max_calls(5)
        .decay(Duration::from_millis(40))
        .lockout_after(0)
}

/// Calls `credentials` until one is admitted, at most `max` times `pause` apart; how many
/// were refused.
fn refused_until_admitted(
    session: &mut Session,
    credentials: &Credentials,
    pause: Duration,
    max: usize,
) -> usize {
    for refused in 0..max {
        if session.call(credentials, &ListApiUsers::new()).is_ok() {
            return refused;
        }
        std::thread::sleep(pause);
    }
    panic!("never admitted in {max} calls");
}

#[test]
fn refused_calls_count_so_calling_while_limited_keeps_the_limit_in_force() {
    let server = MockServer::builder()
        .rate_limits(quick_limits())
        .start()
        .unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    for _ in 0..5 {
        session.ok(&admin, &ListApiUsers::new());
    }
    // Hammering while limited: every call is refused and counted, 30 calls over the limit.
    for _ in 0..30 {
        assert_eq!(
            session.error(&admin, &ListApiUsers::new()),
            "EAPI:Rate limit exceeded"
        );
    }
    let state = server.state();
    let key = &state["keys"][0]["limits"];
    assert_eq!(key["rate_limited_answers"], 30, "{key}");
    assert!(key["calls"].as_u64().unwrap_or(0) > 5, "{key}");
    // Waiting for one decay period is not enough any more: the refused calls counted.
    std::thread::sleep(Duration::from_millis(40));
    assert_eq!(
        session.error(&admin, &ListApiUsers::new()),
        "EAPI:Rate limit exceeded"
    );
    // Counting only executed calls (the other reading of Kraken's guides), the same burst
    // leaves nothing behind once a decay period has passed.
    server.set_rate_limits(Some(quick_limits().refused_calls_count(false)));
    let fresh = query_key(&server, AccountKeySpec::new(Permission::ALL));
    for _ in 0..5 {
        session.ok(&fresh, &ListApiUsers::new());
    }
    for _ in 0..30 {
        assert_eq!(
            session.error(&fresh, &ListApiUsers::new()),
            "EAPI:Rate limit exceeded"
        );
    }
    std::thread::sleep(Duration::from_millis(45));
    assert_eq!(
        refused_until_admitted(&mut session, &fresh, Duration::from_millis(5), 400),
        0
    );
}

#[test]
fn repeated_refusals_lock_a_key_out_and_calls_during_the_lockout_prolong_it() {
    let lockout = Duration::from_secs(1);
    let server = MockServer::builder()
        .rate_limits(
            RateLimits::default()
                .max_calls(100)
                .decay(Duration::from_secs(10))
                .lockout_after(4)
                .lockout(lockout),
        )
        .start()
        .unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    // Refusals of every kind count: a bad nonce, unknown arguments, an unknown user.
    session.ok(&admin, &ListApiUsers::new());
    let stale = |session: &mut Session| signed_raw(session, &server, "1", r#"{"nonce":1}"#);
    assert_eq!(stale(&mut session), "EAPI:Invalid nonce");
    assert_eq!(
        session.error(&admin, &GetApiUser::new("U_missing")),
        "EGeneral:Invalid arguments:user_id"
    );
    assert_eq!(stale(&mut session), "EAPI:Invalid nonce");
    assert_eq!(stale(&mut session), "EAPI:Invalid nonce");
    // The fourth refusal locked the key: even a good call is refused now, before any check.
    assert_eq!(
        session.error(&admin, &ListApiUsers::new()),
        "EGeneral:Temporary lockout"
    );
    let limits = &server.state()["keys"][0]["limits"];
    assert_eq!(limits["lockouts"], 1, "{limits}");
    assert!(
        limits["locked_out_for_ms"].as_u64().unwrap_or(0) > 0,
        "{limits}"
    );
    // Another key is not locked out.
    let other = query_key(&server, AccountKeySpec::new(Permission::ALL));
    session.ok(&other, &ListApiUsers::new());
    // Calling during the lockout starts it over: polling every 100 ms (a tenth of it) keeps
    // the key locked for as long as it goes on.
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            session.error(&admin, &ListApiUsers::new()),
            "EGeneral:Temporary lockout"
        );
    }
    // Leaving it alone for the whole lockout ends it.
    std::thread::sleep(lockout + Duration::from_millis(50));
    session.ok(&admin, &ListApiUsers::new());
    assert_eq!(server.state()["keys"][0]["limits"]["lockout_answers"], 7);
}

#[test]
fn only_post_to_known_methods_is_served() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let response = session
        .client
        .send_parts("GET", ListApiUsers::PATH, &[], b"")
        .response();
    assert_eq!(response.status, 405);
    assert_eq!(response.header("allow"), Some("POST"));
    let response = session
        .client
        .send_parts("POST", "/0/private/AddOrder", &[], b"{}")
        .response();
    assert_eq!(response.status, 404);
    assert_eq!(
        response.first_error().as_deref(),
        Some("EGeneral:Unknown method")
    );
    let huge = vec![b' '; 100 * 1024];
    match session
        .client
        .send_parts("POST", ListApiUsers::PATH, &[], &huge)
    {
        Received::Response(response) => assert_eq!(response.status, 413),
        Received::Closed => {}
        other => panic!("unexpected {other:?}"),
    }
}

/// Sends `fields` (JSON members after the nonce, e.g. `"x":1`) to `path`, signed correctly
/// with `credentials` and a fresh nonce; returns the first error, or `""` on success.
fn raw_call(session: &mut Session, credentials: &Credentials, path: &str, fields: &str) -> String {
    let nonce = session.next_nonce().to_string();
    let body = if fields.is_empty() {
        format!(r#"{{"nonce":{nonce}}}"#)
    } else {
        format!(r#"{{"nonce":{nonce},{fields}}}"#)
    };
    let sign = credentials
        .signing_key()
        .sign(path, nonce.as_bytes(), body.as_bytes());
    let response = session
        .client
        .send_parts(
            "POST",
            path,
            &[
                ("Content-Type", b"application/json"),
                ("API-Key", credentials.api_key().as_str().as_bytes()),
                ("API-Sign", sign.as_str().as_bytes()),
            ],
            body.as_bytes(),
        )
        .response();
    assert_eq!(response.status, 200);
    response.first_error().unwrap_or_default()
}

#[test]
fn unknown_fields_are_refused_by_default_and_ignored_when_switched() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let list = ListApiUsers::PATH;
    let settle_list = ListSettlementBatches::PATH;
    assert_eq!(
        raw_call(&mut session, &admin, list, r#""extra":1"#),
        "EGeneral:Invalid arguments:extra"
    );
    server.set_unknown_fields(UnknownFields::Ignore);
    for fields in [r#""extra":1"#, r#""a":"b","c":[1,{"d":null}]"#] {
        assert_eq!(raw_call(&mut session, &admin, list, fields), "", "{fields}");
    }
    // Known fields are still checked, whatever comes beside them.
    assert_eq!(
        raw_call(&mut session, &admin, settle_list, r#""extra":1,"limit":0"#),
        "EGeneral:Invalid arguments:limit"
    );
    assert_eq!(server.state()["unknown_fields"], "ignore");
}

#[test]
fn the_check_order_switches_change_which_refusal_comes_first() {
    let elsewhere = |server: &MockServer| {
        query_key(
            server,
            AccountKeySpec::new(Permission::ALL).whitelisted_ips(["192.0.2.1"]),
        )
    };
    let bad_signature = |key: &Credentials| {
        Credentials::new(key.api_key().as_str(), prime_core::example::SECRET).unwrap()
    };
    let settle = SettleSettlementBatchAsset::PATH;
    let empty_batch = r#""batch_id":"","asset":"BTC""#;
    for (order, signature_refusal, argument_refusal) in [
        (
            CheckOrder::default(),
            "EAPI:Invalid signature",
            "EGeneral:Permission denied",
        ),
        (
            CheckOrder::default().allow_list_first(true),
            "EGeneral:Permission denied",
            "EGeneral:Permission denied",
        ),
        (
            CheckOrder::default().arguments_before_permission(true),
            "EAPI:Invalid signature",
            "EGeneral:Invalid arguments:batch_id",
        ),
    ] {
        let server = MockServer::builder().check_order(order).start().unwrap();
        let mut session = Session::new(&server);
        // A key used from outside its allow-list, with a wrong signature.
        let outside = bad_signature(&elsewhere(&server));
        assert_eq!(
            raw_call(&mut session, &outside, ListApiUsers::PATH, ""),
            signature_refusal,
            "{order:?}"
        );
        // A key without the settle permission, with an empty batch id.
        let viewer = query_key(&server, query_only());
        assert_eq!(
            raw_call(&mut session, &viewer, settle, empty_batch),
            argument_refusal,
            "{order:?}"
        );
        assert_eq!(server.executions("SettlePrimeSettlementBatchAsset"), 0);
    }
}
