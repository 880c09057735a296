//! Key rotation and orphan reconciliation through both clients against prime-mock: a
//! "crash" before every single action of a rotation (only the last recorded journal and the
//! delivered secret survive) and the simulator's faults on every call, each followed by a
//! resume; afterwards the user has exactly one new key, its secret is the delivered one and
//! authenticates on the simulator's Prime WebSocket, it carries the old allow-list, and the
//! old key is gone (or kept).

use std::io::{Read as _, Write as _};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prime_core::endpoints::{Role, UpdateApiUserKey};
use prime_core::issued::{UtcTimestamp, WsConnectHeaders};
use prime_core::rotation::{Action, Journal, Rotation, RotationOptions, Stage};
use prime_core::workflow::{CreateKeyError, OrphanPolicy};
use prime_core::{IssuedCredentials, RetryPolicy};
use prime_mock::{Fault, FaultKind, MockServer};

/// Runs a rotation's calls with one client until it pauses.
type Runner = Box<dyn FnMut(&mut Rotation) -> Action>;

const ALLOW_LIST: [&str; 2] = ["127.0.0.1", "10.1.0.0/16"];

/// Whether `api_key` with `secret` authenticates on the simulator's Prime WebSocket (a real
/// upgrade request; `101` means yes).
pub(crate) fn ws_authenticates(server: &MockServer, api_key: &str, secret: &str) -> bool {
    let credentials = IssuedCredentials::new(api_key, secret).expect("issued credentials");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    let now = UtcTimestamp::from_unix_nanos(u64::try_from(nanos).expect("nanos"));
    let uri = server.ws_url().parse().expect("ws url");
    let auth = WsConnectHeaders::for_uri(&credentials, now, &uri).expect("headers");
    let mut stream = std::net::TcpStream::connect(server.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let request = format!(
        "GET /ws/v1 HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         ApiKey: {}\r\nApiTimestamp: {}\r\nApiSign: {}\r\n\r\n",
        server.addr(),
        auth.api_key(),
        auth.api_timestamp(),
        auth.api_sign()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).expect("status line");
    head.starts_with(b"HTTP/1.1 101")
}

fn blocking(server: &MockServer) -> prime_blocking::Client {
    prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .retry_policy(fast_retries())
        .build()
        .expect("client")
}

fn asynchronous(server: &MockServer) -> prime_async::Client {
    prime_async::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .retry_policy(fast_retries())
        .build()
        .expect("client")
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().with_delays(Duration::from_millis(1), Duration::from_millis(2))
}

/// A user with one key (its allow-list set); returns (user id, key id, key secret).
fn user_with_key(client: &prime_blocking::Client) -> (String, String, String) {
    let user = client
        .create_api_user("desk", Role::Trader)
        .expect("user")
        .id;
    let key = client.create_api_user_key(&user).expect("old key");
    client
        .update_api_user_key(UpdateApiUserKey::new(&user, &key.id).whitelisted_ips(ALLOW_LIST))
        .expect("allow-list");
    let secret = key.api_secret().expose().to_owned();
    (user, key.id, secret)
}

/// What survives a crash: the last recorded journal and the delivered secret.
#[derive(Default)]
struct Durable {
    journal: Option<String>,
    secret: Option<String>,
}

enum End {
    Done,
    Crashed,
    Failed(String),
}

/// Answers the rotation's actions as a program would, "crashing" (returning) instead of
/// handling action number `crash_before`.
fn drive(
    run: &mut dyn FnMut(&mut Rotation) -> Action,
    rotation: &mut Rotation,
    durable: &mut Durable,
    server: &MockServer,
    crash_before: Option<usize>,
) -> End {
    for handled in 0..64 {
        let action = run(rotation);
        if crash_before == Some(handled) {
            return End::Crashed;
        }
        match action {
            Action::Record(_) => {
                let journal = serde_json::to_string(rotation.journal()).expect("journal");
                if let Some(key) = rotation.created_key() {
                    assert!(!journal.contains(key.api_secret().expose()), "{journal}");
                }
                durable.journal = Some(journal);
                rotation.on_recorded();
            }
            Action::Deliver => {
                let key = rotation.created_key().expect("a key to deliver");
                assert!(durable.secret.is_none(), "a second secret delivered");
                let secret = key.api_secret().expose();
                assert!(
                    !format!("{rotation:?}").contains(secret),
                    "Debug shows no secret"
                );
                durable.secret = Some(key.api_secret().expose().to_owned());
                rotation.on_delivered(Ok(()));
            }
            Action::Withdraw => {
                durable.secret = None;
                rotation.on_withdrawn(Ok(()));
            }
            Action::Check { api_key } => {
                let secret = durable.secret.clone().expect("the delivered secret");
                let works = ws_authenticates(server, &api_key, &secret);
                rotation.on_checked(if works { Ok(()) } else { Err("refused".into()) });
            }
            Action::Done(_) => return End::Done,
            Action::Failed(error) => return End::Failed(error.to_string()),
            other => panic!("unexpected action {other:?}"),
        }
    }
    panic!("the rotation did not end within 64 actions");
}

/// A rotation from the durable journal, or a new one.
fn resume(durable: &Durable, user: &str, old: &str, options: RotationOptions) -> Rotation {
    match &durable.journal {
        Some(text) => {
            let journal: Journal = serde_json::from_str(text).expect("journal");
            Rotation::resume(journal, options)
        }
        None => Rotation::new(user, old, options),
    }
}

/// The state every rotation must end in.
fn assert_rotated(
    server: &MockServer,
    client: &prime_blocking::Client,
    durable: &Durable,
    (user, old, old_secret): (&str, &str, &str),
    keep_old: bool,
    context: &str,
) {
    let journal: Journal =
        serde_json::from_str(durable.journal.as_deref().expect("a journal")).expect("journal");
    assert_eq!(journal.stage, Stage::Done, "{context}");
    let new = journal.new_key.expect("the new key");
    let keys = client.list_api_user_keys(user).expect("list");
    let mut ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    ids.sort_unstable();
    let mut expected = vec![new.id.as_str()];
    if keep_old {
        expected.push(old);
    }
    expected.sort_unstable();
    assert_eq!(ids, expected, "exactly one new key, no orphan: {context}");
    let listed = keys
        .iter()
        .find(|k| k.id == new.id)
        .expect("new key listed");
    assert_eq!(listed.whitelisted_ips, ALLOW_LIST, "{context}");
    let secret = durable.secret.as_deref().expect("the secret was delivered");
    assert!(
        ws_authenticates(server, &new.api_key, secret),
        "new key: {context}"
    );
    let old_key = server_key(server, old_secret, context);
    assert_eq!(
        ws_authenticates(server, &old_key.0, &old_key.1),
        keep_old,
        "old key: {context}"
    );
}

/// The old key's public key, recovered from the test's record (see `OLD_KEYS`).
fn server_key(_server: &MockServer, old_secret: &str, context: &str) -> (String, String) {
    OLD_KEYS.with(|keys| {
        keys.borrow()
            .iter()
            .find(|(_, secret)| secret == old_secret)
            .cloned()
            .unwrap_or_else(|| panic!("old key unknown: {context}"))
    })
}

thread_local! {
    /// (api_key, secret) of the old keys created by this thread.
    static OLD_KEYS: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn remember_old(client: &prime_blocking::Client, user: &str, old: &str, secret: &str) {
    let keys = client.list_api_user_keys(user).expect("list");
    let api_key = keys
        .iter()
        .find(|k| k.id == old)
        .expect("old key")
        .api_key
        .clone();
    OLD_KEYS.with(|keys| keys.borrow_mut().push((api_key, secret.to_owned())));
}

/// Crash before every action in turn, resume, and check the end state; for both clients.
fn crash_everywhere(run_with: &mut dyn FnMut(&MockServer) -> Runner) {
    let server = MockServer::start().expect("simulator");
    let admin = blocking(&server);
    let mut run = run_with(&server);
    // An uninterrupted rotation handles 7 actions (record ×5, deliver, check) before Done;
    // crashing before each of them and before Done covers every point.
    for keep_old in [false, true] {
        for crash in 0..9 {
            let (user, old, old_secret) = user_with_key(&admin);
            remember_old(&admin, &user, &old, &old_secret);
            let options = RotationOptions::default().keep_old(keep_old);
            let mut durable = Durable::default();
            let mut rotation = Rotation::new(&user, &old, options);
            let first = drive(&mut run, &mut rotation, &mut durable, &server, Some(crash));
            let context = format!("crash before action {crash}, keep_old {keep_old}");
            if matches!(first, End::Done) {
                assert_rotated(
                    &server,
                    &admin,
                    &durable,
                    (&user, &old, &old_secret),
                    keep_old,
                    &context,
                );
                continue;
            }
            let mut rotation = resume(&durable, &user, &old, options);
            match drive(&mut run, &mut rotation, &mut durable, &server, None) {
                End::Done => {}
                End::Failed(e) => panic!("{context}: resume failed: {e}"),
                End::Crashed => unreachable!(),
            }
            // Crashed with the key created (before its delivery, or delivered but not yet
            // recorded): the resume deleted exactly that key and made another.
            let journal: Journal =
                serde_json::from_str(durable.journal.as_deref().unwrap()).unwrap();
            let orphans = usize::from(matches!(crash, 1 | 2));
            assert_eq!(journal.deleted_orphans.len(), orphans, "{context}");
            assert_rotated(
                &server,
                &admin,
                &durable,
                (&user, &old, &old_secret),
                keep_old,
                &context,
            );
        }
    }
}

#[test]
fn blocking_rotation_resumes_after_a_crash_before_any_action() {
    crash_everywhere(&mut |server| {
        let client = blocking(server);
        Box::new(move |rotation| client.run_workflow(rotation))
    });
}

#[test]
fn async_rotation_resumes_after_a_crash_before_any_action() {
    crash_everywhere(&mut |server| {
        let client = asynchronous(server);
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        Box::new(move |rotation| runtime.block_on(client.run_workflow(rotation)))
    });
}

/// Faults on every key call: each run that stops is rerun from its journal (at most 3 runs).
fn faults_everywhere(run_with: &mut dyn FnMut(&MockServer) -> Runner) {
    let server = MockServer::start().expect("simulator");
    let admin = blocking(&server);
    let mut run = run_with(&server);
    let methods = [
        "ListPrimeApiUserKeys",
        "CreatePrimeApiUserKey",
        "UpdatePrimeApiUserKey",
        "DeletePrimeApiUserKey",
    ];
    let faults = [
        FaultKind::DropAfterExecute,
        FaultKind::DropBeforeExecute,
        FaultKind::BadGatewayHtml,
        FaultKind::TruncatedBody,
        FaultKind::MalformedJson,
        FaultKind::service_unavailable(),
    ];
    for method in methods {
        for fault in &faults {
            let (user, old, old_secret) = user_with_key(&admin);
            remember_old(&admin, &user, &old, &old_secret);
            // Every attempt of this method fails once; then the next.
            server.push_fault(Fault::new(fault.clone()).on(method).times(1));
            let context = format!("{fault:?} on {method}");
            let options = RotationOptions::default();
            let mut durable = Durable::default();
            let mut runs = 0;
            let mut ended = false;
            while runs < 3 && !ended {
                runs += 1;
                let mut rotation = resume(&durable, &user, &old, options);
                ended = matches!(
                    drive(&mut run, &mut rotation, &mut durable, &server, None),
                    End::Done
                );
            }
            server.clear_faults();
            assert!(ended, "{context}: not done after 3 runs");
            // A broken creation reply that still carries the key is delivered at once: no
            // rerun, no orphan.
            if method == "CreatePrimeApiUserKey"
                && matches!(fault, FaultKind::MalformedJson | FaultKind::TruncatedBody)
            {
                let journal: Journal =
                    serde_json::from_str(durable.journal.as_deref().unwrap()).unwrap();
                assert_eq!((runs, journal.deleted_orphans.len()), (1, 0), "{context}");
            }
            assert_rotated(
                &server,
                &admin,
                &durable,
                (&user, &old, &old_secret),
                false,
                &context,
            );
        }
    }
}

#[test]
fn blocking_rotation_ends_well_under_faults_on_every_call() {
    faults_everywhere(&mut |server| {
        let client = blocking(server);
        Box::new(move |rotation| client.run_workflow(rotation))
    });
}

#[test]
fn async_rotation_ends_well_under_faults_on_every_call() {
    faults_everywhere(&mut |server| {
        let client = asynchronous(server);
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        Box::new(move |rotation| runtime.block_on(client.run_workflow(rotation)))
    });
}

/// A failed delivery: the caller shows the secret (the CLI prints it) and the key is kept;
/// the rerun continues with that key — it is never deleted as "undelivered" — and the shown
/// secret is the one the finished rotation leaves working.
#[test]
fn a_failed_delivery_keeps_the_shown_key_and_the_rerun_finishes_with_it() {
    let server = MockServer::start().expect("simulator");
    let admin = blocking(&server);
    let (user, old, old_secret) = user_with_key(&admin);
    remember_old(&admin, &user, &old, &old_secret);
    let options = RotationOptions::default();
    let mut durable = Durable::default();
    let mut rotation = Rotation::new(&user, &old, options);
    let mut shown = None;
    let failed = loop {
        match admin.run_workflow(&mut rotation) {
            Action::Record(_) => {
                durable.journal = Some(serde_json::to_string(rotation.journal()).unwrap());
                rotation.on_recorded();
            }
            Action::Deliver => {
                shown = rotation
                    .created_key()
                    .map(|k| (k.id.clone(), k.api_secret().expose().to_owned()));
                rotation.on_delivered(Err("vault refused".into()));
            }
            Action::Failed(error) => break error.to_string(),
            other => panic!("unexpected {other:?}"),
        }
    };
    let (shown_id, shown_secret) = shown.expect("a key was created");
    assert!(failed.contains("vault refused"), "{failed}");
    assert!(failed.contains("kept"), "{failed}");
    let journal: Journal = serde_json::from_str(durable.journal.as_deref().unwrap()).unwrap();
    assert_eq!(journal.stage, Stage::SecretShown);
    assert!(!durable.journal.as_deref().unwrap().contains(&shown_secret));
    // Nothing deleted: the old key and the new one whose secret was shown.
    assert_eq!(admin.list_api_user_keys(&user).unwrap().len(), 2);
    // The user stored the shown secret, as told; the rerun finishes with that very key.
    durable.secret = Some(shown_secret);
    let mut rotation = resume(&durable, &user, &old, options);
    assert!(matches!(
        drive(
            &mut |r| admin.run_workflow(r),
            &mut rotation,
            &mut durable,
            &server,
            None
        ),
        End::Done
    ));
    assert_eq!(
        server.executions("CreatePrimeApiUserKey"),
        2,
        "no second creation"
    );
    let journal: Journal = serde_json::from_str(durable.journal.as_deref().unwrap()).unwrap();
    assert_eq!(journal.new_key.expect("new key").id, shown_id);
    assert!(
        journal.deleted_orphans.is_empty(),
        "the shown key is no orphan"
    );
    assert_rotated(
        &server,
        &admin,
        &durable,
        (&user, &old, &old_secret),
        false,
        "delivery failed",
    );
}

#[test]
fn a_wrong_old_key_changes_nothing() {
    let server = MockServer::start().expect("simulator");
    let admin = blocking(&server);
    let (user, _old, _) = user_with_key(&admin);
    let mut rotation = Rotation::new(&user, "NOSUCHKEY", RotationOptions::default());
    let Action::Failed(error) = admin.run_workflow(&mut rotation) else {
        panic!("expected a failure");
    };
    assert!(error.to_string().contains("NOSUCHKEY"), "{error}");
    assert_eq!(server.executions("CreatePrimeApiUserKey"), 1);
}

/// `create_api_user_key_reconciled` under a drop-after-execute fault: the orphan is named;
/// with `OrphanPolicy::Delete` the user ends with exactly one key, whose secret is returned.
#[test]
fn reconciled_creation_names_and_deletes_orphans_on_both_clients() {
    let server = MockServer::start().expect("simulator");
    let admin = blocking(&server);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let async_client = asynchronous(&server);
    for transport in ["blocking", "async"] {
        let create = |user: &str, policy| match transport {
            "blocking" => admin.create_api_user_key_reconciled(user, policy),
            _ => runtime.block_on(async_client.create_api_user_key_reconciled(user, policy)),
        };
        // Report: the orphan is named, nothing is deleted.
        let user = admin.create_api_user("desk", Role::Viewer).unwrap().id;
        server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("CreatePrimeApiUserKey"));
        let error = create(&user, OrphanPolicy::Report).expect_err("outcome unknown");
        let CreateKeyError::Orphaned {
            orphans, source, ..
        } = &error
        else {
            panic!("{transport}: expected orphans, got {error:?}");
        };
        assert!(source.is_outcome_unknown());
        let listed = admin.list_api_user_keys(&user).unwrap();
        assert_eq!(listed.len(), 1, "{transport}");
        assert_eq!(orphans.len(), 1, "{transport}");
        assert_eq!(orphans[0].id, listed[0].id, "{transport}");
        assert!(error.to_string().contains(&listed[0].id), "{error}");

        // Delete: the orphan goes, one key is made, its secret returned.
        let user = admin.create_api_user("desk", Role::Viewer).unwrap().id;
        server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("CreatePrimeApiUserKey"));
        let created = create(&user, OrphanPolicy::Delete).expect("created after cleanup");
        assert_eq!(created.deleted_orphans.len(), 1, "{transport}");
        let listed = admin.list_api_user_keys(&user).unwrap();
        assert_eq!(listed.len(), 1, "{transport}");
        assert_eq!(listed[0].id, created.key.id, "{transport}");
        assert!(ws_authenticates(
            &server,
            &created.key.api_key,
            created.key.api_secret().expose()
        ));

        // A refusal (not executed) is a plain call error, no listing after it.
        let user = admin.create_api_user("desk", Role::Viewer).unwrap().id;
        server.push_fault(Fault::new(FaultKind::service_unavailable()).on("CreatePrimeApiUserKey"));
        let before = server.executions("ListPrimeApiUserKeys");
        match create(&user, OrphanPolicy::Delete) {
            Ok(_) | Err(CreateKeyError::Call(_)) => {}
            Err(other) => panic!("{transport}: {other:?}"),
        }
        assert!(server.executions("ListPrimeApiUserKeys") - before <= 1);
        assert!(admin.list_api_user_keys(&user).unwrap().len() <= 1);
    }
}
