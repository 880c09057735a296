//! Each fault over real HTTP: what the client sees, and whether the call was executed.

use crate::http_client;

use std::time::{Duration, Instant};

use prime_core::endpoints::{CreateApiUser, CreateApiUserKey, ListApiUsers, Role};
use prime_core::{ErrorCode, ResponseError};
use prime_mock::{Fault, FaultKind, MockServer};

use http_client::{Received, Session, parse};

const CREATE_KEY: &str = "CreatePrimeApiUserKey";

/// A simulator with one user, and a session for it.
fn setup() -> (MockServer, Session, String) {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let user = session
        .ok(
            &server.account_credentials(),
            &CreateApiUser::new("U", Role::Trader),
        )
        .id;
    (server, session, user)
}

fn create_key(session: &mut Session, server: &MockServer, user: &str) -> Received {
    session.send(&server.account_credentials(), &CreateApiUserKey::new(user))
}

#[test]
fn delay_waits_then_answers_normally() {
    let (server, mut session, user) = setup();
    server.push_fault(Fault::new(FaultKind::Delay(Duration::from_millis(300))).on(CREATE_KEY));
    let started = Instant::now();
    let response = create_key(&mut session, &server, &user).response();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(response.first_error(), None);
    assert_eq!(server.key_count(&user), 1);
}

#[test]
fn drop_before_execute_closes_without_executing() {
    let (server, mut session, user) = setup();
    server.push_fault(Fault::new(FaultKind::DropBeforeExecute).on(CREATE_KEY));
    assert!(matches!(
        create_key(&mut session, &server, &user),
        Received::Closed
    ));
    assert_eq!(server.executions(CREATE_KEY), 0);
    assert_eq!(server.key_count(&user), 0);
    // The next call works on a new connection.
    create_key(&mut session, &server, &user).response();
    assert_eq!(server.key_count(&user), 1);
}

#[test]
fn drop_after_execute_closes_after_executing() {
    let (server, mut session, user) = setup();
    server.push_fault(Fault::new(FaultKind::DropAfterExecute).on(CREATE_KEY));
    assert!(matches!(
        create_key(&mut session, &server, &user),
        Received::Closed
    ));
    // The outcome-unknown case: the key exists although the client never saw its secret.
    assert_eq!(server.executions(CREATE_KEY), 1);
    assert_eq!(server.key_count(&user), 1);
}

#[test]
fn bad_gateway_answers_html_without_executing() {
    let (server, mut session, user) = setup();
    server.push_fault(Fault::new(FaultKind::BadGatewayHtml));
    let response = create_key(&mut session, &server, &user).response();
    assert_eq!(response.status, 502);
    assert!(
        response
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(String::from_utf8_lossy(&response.body).contains("502 Bad Gateway"));
    let error = parse::<serde_json::Value>(&response).unwrap_err();
    assert!(matches!(error, ResponseError::Status { status, .. } if status == 502));
    assert_eq!(server.executions(CREATE_KEY), 0);
}

#[test]
fn internal_server_error_answers_500_json_without_executing() {
    let (server, mut session, user) = setup();
    server.push_fault(Fault::new(FaultKind::InternalServerError));
    let response = create_key(&mut session, &server, &user).response();
    assert_eq!(response.status, 500);
    assert_eq!(
        response.json(),
        serde_json::json!({"error": ["EGeneral:Internal error"], "result": {}})
    );
    match parse::<serde_json::Value>(&response).unwrap_err() {
        ResponseError::Status { errors, .. } => {
            assert_eq!(errors[0].code(), &ErrorCode::InternalError);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.executions(CREATE_KEY), 0);
}

#[test]
fn malformed_json_is_answered_after_executing() {
    let (server, mut session, user) = setup();
    server.push_fault(Fault::new(FaultKind::MalformedJson).on(CREATE_KEY));
    let response = create_key(&mut session, &server, &user).response();
    assert_eq!(response.status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&response.body).is_err());
    // The body lacks only its last byte: the created key's secret in it is still recovered.
    match parse::<serde_json::Value>(&response) {
        Err(ResponseError::KeyCreated { key, problem }) => {
            assert!(!key.api_secret().expose().is_empty());
            assert!(matches!(*problem, ResponseError::Decode { .. }));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.key_count(&user), 1);
}

#[test]
fn truncated_body_stops_short_of_its_content_length() {
    let (server, mut session, user) = setup();
    server.push_fault(Fault::new(FaultKind::TruncatedBody).on(CREATE_KEY));
    match create_key(&mut session, &server, &user) {
        Received::Truncated { expected, received } => {
            assert!(expected > 100);
            assert_eq!(received, expected / 2);
        }
        other => panic!("expected a truncated body, got {other:?}"),
    }
    assert_eq!(server.key_count(&user), 1);
}

#[test]
fn oversized_body_is_valid_json_of_about_the_asked_size() {
    let (server, mut session, _) = setup();
    server.push_fault(Fault::new(FaultKind::OversizedBody(2_000_000)));
    let response = session
        .send(&server.account_credentials(), &ListApiUsers::new())
        .response();
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), 2_000_000);
    let users =
        parse::<prime_core::endpoints::Data<Vec<prime_core::endpoints::ApiUser>>>(&response)
            .unwrap();
    assert_eq!(users.data.len(), 1);
}

#[test]
fn kraken_errors_are_answered_without_executing() {
    let (server, mut session, user) = setup();
    for (kind, code) in [
        (FaultKind::rate_limited(), ErrorCode::RateLimitExceeded),
        (
            FaultKind::service_unavailable(),
            ErrorCode::ServiceUnavailable,
        ),
        (FaultKind::service_busy(), ErrorCode::ServiceBusy),
        (
            FaultKind::KrakenError("EAPI:Invalid nonce".into()),
            ErrorCode::InvalidNonce,
        ),
        (
            FaultKind::KrakenError("EGeneral:Temporary lockout".into()),
            ErrorCode::TemporaryLockout,
        ),
    ] {
        server.push_fault(Fault::new(kind).on(CREATE_KEY));
        let response = create_key(&mut session, &server, &user).response();
        assert_eq!(response.status, 200);
        match parse::<serde_json::Value>(&response).unwrap_err() {
            ResponseError::Api { errors, .. } => assert_eq!(errors[0].code(), &code),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(server.executions(CREATE_KEY), 0);
    assert_eq!(server.key_count(&user), 0);
}

#[test]
fn faults_match_their_method_and_count_down() {
    let (server, mut session, user) = setup();
    let admin = server.account_credentials();
    server.push_fault(
        Fault::new(FaultKind::service_busy())
            .on(CREATE_KEY)
            .times(2),
    );
    server.push_fault(Fault::new(FaultKind::InternalServerError).times(0));
    assert_eq!(server.pending_faults().len(), 1);
    // Other methods pass untouched.
    session.ok(&admin, &ListApiUsers::new());
    for _ in 0..2 {
        let response = create_key(&mut session, &server, &user).response();
        assert_eq!(response.first_error().as_deref(), Some("EService:Busy"));
    }
    assert!(server.pending_faults().is_empty());
    assert_eq!(
        create_key(&mut session, &server, &user)
            .response()
            .first_error(),
        None
    );

    server.push_fault(Fault::new(FaultKind::BadGatewayHtml).times(5));
    assert_eq!(server.clear_faults(), 1);
    session.ok(&admin, &ListApiUsers::new());
}

#[test]
fn faults_can_be_queued_over_http() {
    let (server, mut session, user) = setup();
    let body = br#"{"fault":"drop-after-execute","method":"CreatePrimeApiUserKey","times":1}"#;
    let response = session
        .client
        .send_parts("POST", "/__mock/faults", &[], body)
        .response();
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let listed = session
        .client
        .send_parts("GET", "/__mock/faults", &[], b"")
        .response();
    assert_eq!(
        listed.json()["faults"],
        serde_json::json!([{"fault": "drop-after-execute", "method": CREATE_KEY, "times": 1}])
    );
    // Control requests never consume faults.
    assert_eq!(server.pending_faults().len(), 1);
    assert!(matches!(
        create_key(&mut session, &server, &user),
        Received::Closed
    ));
    assert_eq!(server.key_count(&user), 1);

    let bad = session
        .client
        .send_parts("POST", "/__mock/faults", &[], br#"{"fault":"explode"}"#)
        .response();
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown fault")
    );
    session
        .client
        .send_parts(
            "POST",
            "/__mock/faults",
            &[],
            br#"{"fault":"bad-gateway-html","times":3}"#,
        )
        .response();
    let cleared = session
        .client
        .send_parts("DELETE", "/__mock/faults", &[], b"")
        .response();
    assert_eq!(cleared.json()["cleared"], 1);
}
