//! What an adopter relies on: the documented key creation leaves no orphan under the
//! outcome-unknown faults, a deadline bounds a call with retries while the per-attempt timeout
//! still holds, and a create dropped at any await point is never resent, never wedges the
//! send order, and its outcome can be found.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use prime_core::endpoints::{CreateApiUserKey, Role};
use prime_core::workflow::OrphanPolicy;
use prime_core::{Error, ErrorKind, RetryPolicy, TransportErrorKind};
use prime_mock::{Fault, FaultKind, MockServer};

use super::rotation::ws_authenticates;

/// Both clients, running the same program.
enum Client {
    Blocking(prime_blocking::Client),
    Async(tokio::runtime::Runtime, prime_async::Client),
}

impl Client {
    fn both(settings: &prime_core::Settings, server: &MockServer) -> [Self; 2] {
        let settings = settings.clone().base_url(&server.url());
        [
            Self::Blocking(
                prime_blocking::Client::builder(server.account_credentials())
                    .settings(settings.clone())
                    .build()
                    .expect("blocking client"),
            ),
            Self::Async(
                tokio::runtime::Runtime::new().expect("runtime"),
                prime_async::Client::builder(server.account_credentials())
                    .settings(settings)
                    .build()
                    .expect("async client"),
            ),
        ]
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Blocking(_) => "blocking",
            Self::Async(..) => "async",
        }
    }

    /// The crate docs' key creation: `create_api_user_key`, then store the secret.
    fn documented_create(
        &self,
        user: &str,
    ) -> Result<prime_core::endpoints::CreatedApiUserKey, prime_core::workflow::CreateKeyError>
    {
        match self {
            Self::Blocking(client) => client.create_api_user_key(user),
            Self::Async(runtime, client) => runtime.block_on(client.create_api_user_key(user)),
        }
    }

    fn list_users(&self) -> Result<usize, Error> {
        match self {
            Self::Blocking(client) => client.list_api_users().map(|u| u.len()),
            Self::Async(runtime, client) => {
                runtime.block_on(client.list_api_users()).map(|u| u.len())
            }
        }
    }
}

fn settings() -> prime_core::Settings {
    prime_core::Settings::default().retry_policy(
        RetryPolicy::default().with_delays(Duration::from_millis(1), Duration::from_millis(5)),
    )
}

/// Under either outcome-unknown fault — the server executes and drops the connection, or
/// executes only once the client has hung up (here: cut off by its deadline) — the documented
/// creation ends with exactly one live key, whose secret the caller holds and which
/// authenticates.
#[test]
fn the_documented_create_leaves_exactly_one_key_under_unknown_outcomes() {
    let server = MockServer::start().expect("simulator");
    let admin = prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .build()
        .expect("admin");
    // A deadline well below the 30 s the held request waits: the client hangs up.
    let settings = settings().deadline(Duration::from_millis(400));
    for client in Client::both(&settings, &server) {
        for fault in [FaultKind::DropAfterExecute, FaultKind::ExecuteAfterHangup] {
            let context = format!("{} client, {fault}", client.name());
            let user = admin
                .create_api_user("desk", Role::Viewer)
                .expect("user")
                .id;
            let creates = server.executions("CreatePrimeApiUserKey");
            let deletes = server.executions("DeletePrimeApiUserKey");
            server.push_fault(Fault::new(fault.clone()).on("CreatePrimeApiUserKey"));

            let key = client.documented_create(&user).expect(&context);

            let listed = admin.list_api_user_keys(&user).expect("list");
            assert_eq!(listed.len(), 1, "{context}: exactly one live key");
            assert_eq!(
                listed[0].id, key.id,
                "{context}: the one whose secret we hold"
            );
            assert!(
                ws_authenticates(&server, &key.api_key, key.api_secret().expose()),
                "{context}: the delivered secret works"
            );
            assert_eq!(
                server.executions("CreatePrimeApiUserKey") - creates,
                2,
                "{context}"
            );
            assert_eq!(
                server.executions("DeletePrimeApiUserKey") - deletes,
                1,
                "{context}: the orphan was deleted"
            );
        }
        // When every creation's outcome is unknown, no key of it is left, and the error says
        // it is safe to try again.
        let user = admin
            .create_api_user("desk", Role::Viewer)
            .expect("user")
            .id;
        server.push_fault(
            Fault::new(FaultKind::DropAfterExecute)
                .on("CreatePrimeApiUserKey")
                .times(2),
        );
        let error = client
            .documented_create(&user)
            .expect_err("both attempts cut");
        assert!(error.is_safe_to_retry(), "{}: {error}", client.name());
        assert!(
            error.to_string().contains("safe to create the key again"),
            "{error}"
        );
        assert!(admin.list_api_user_keys(&user).expect("list").is_empty());
    }
}

/// Whoever holds only an unknown-outcome error from a single-shot creation and the key ids
/// it knew before can still find and delete the orphan.
#[test]
fn an_unknown_outcome_is_reconciled_after_the_fact_with_the_ids_known_before() {
    let server = MockServer::start().expect("simulator");
    let client = prime_blocking::Client::builder(server.account_credentials())
        .settings(settings().base_url(&server.url()))
        .build()
        .expect("client");
    let user = client
        .create_api_user("desk", Role::Viewer)
        .expect("user")
        .id;
    let first = client.create_api_user_key(&user).expect("a key we hold");
    let before: Vec<String> = client
        .list_api_user_keys(&user)
        .expect("list")
        .into_iter()
        .map(|k| k.id)
        .collect();
    server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("CreatePrimeApiUserKey"));
    let error = client
        .send(CreateApiUserKey::new(&user))
        .expect_err("cut off");
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown);

    let found = client
        .reconcile_api_user_keys(&user, before.clone(), OrphanPolicy::Report)
        .expect("listed");
    assert_eq!(found.orphans.len(), 1);
    assert!(found.deleted.is_empty());
    let cleaned = client
        .reconcile_api_user_keys(&user, before, OrphanPolicy::Delete)
        .expect("deleted");
    assert_eq!(cleaned.deleted, found.orphans);
    let left = client.list_api_user_keys(&user).expect("list");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, first.id, "the key we hold is untouched");
}

/// The deadline bounds a call across attempts (every attempt here times out); the
/// per-attempt timeout still holds inside a generous deadline.
#[test]
fn a_deadline_bounds_a_call_with_retries_and_the_attempt_timeout_still_holds() {
    let server = MockServer::start().expect("simulator");
    let patient = RetryPolicy::default()
        .with_max_attempts(50)
        .with_delays(Duration::from_millis(20), Duration::from_millis(40));
    let settings = settings()
        .retry_policy(patient)
        .timeout(Duration::from_millis(100));
    for client in Client::both(
        &settings.clone().deadline(Duration::from_millis(700)),
        &server,
    ) {
        server.clear_faults();
        server.push_fault(
            Fault::new(FaultKind::Delay(Duration::from_millis(400)))
                .on("ListPrimeApiUsers")
                .times(1000),
        );
        let started = Instant::now();
        let error = client.list_users().expect_err("every attempt times out");
        let elapsed = started.elapsed();
        let Error::Transport(failure) = &error else {
            panic!("{}: {error:?}", client.name());
        };
        assert_eq!(failure.kind(), TransportErrorKind::Deadline, "{error}");
        // Without the deadline, 50 attempts of 100 ms; with it, a handful.
        let attempts = 1000 - server.pending_faults()[0].remaining();
        assert!(
            (1..=10).contains(&attempts),
            "{}: {attempts} attempts",
            client.name()
        );
        // Generous: the bound is the deadline plus scheduling, far below 50 attempts' 5 s.
        assert!(
            elapsed < Duration::from_secs(3),
            "{}: {elapsed:?}",
            client.name()
        );
    }
    // Inside a deadline of 10 s, one slow answer still times out at 100 ms and is retried.
    server.clear_faults();
    for client in Client::both(&settings.clone().deadline(Duration::from_secs(10)), &server) {
        server.push_fault(
            Fault::new(FaultKind::Delay(Duration::from_millis(400))).on("ListPrimeApiUsers"),
        );
        let before = server.executions("ListPrimeApiUsers");
        client.list_users().expect("the retry answers");
        // The delayed attempt was dropped by its client before executing; the retry ran.
        assert!(server.executions("ListPrimeApiUsers") - before <= 2);
        assert!(server.pending_faults().is_empty());
    }
}

/// Polls `future` at most `polls` times (each when it is woken), then drops it; `Some` if it
/// finished first.
async fn poll_at_most<F: Future>(future: F, polls: usize) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut count = 0;
    std::future::poll_fn(|cx| {
        if count == polls {
            return Poll::Ready(None);
        }
        count += 1;
        future.as_mut().poll(cx).map(Some)
    })
    .await
}

/// A single-shot create dropped after each number of polls — so at every await point it has:
/// its turn in the send order, the connection, the response head, the body, a backoff — is
/// never resent, never wedges the send order, and what it did is found by a reconciliation.
#[test]
fn a_create_dropped_at_every_await_point_is_never_resent_and_its_outcome_is_found() {
    let server = MockServer::start().expect("simulator");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let policy = RetryPolicy::default()
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with_limit_waits(Duration::from_millis(50), Duration::from_millis(50))
        // The "after a backoff" setup needs the rate limit waited out, not reported.
        .with_wait_out_limits(true);
    let client = prime_async::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .retry_policy(policy)
        .build()
        .expect("client");
    // Before the create: nothing else in flight; another call holding the send order; a
    // rate-limit refusal, so the create waits out a backoff.
    // Where a poll count lands varies with timing: a few rounds of each.
    let setups = ["alone", "behind a slow call", "after a backoff"];
    // Per setup: drops before anything executed, and drops after the create executed but
    // before its answer was read (the orphan case).
    let mut unsent = [0; 3];
    let mut executed_unreported = [0; 3];
    for (round, (index, setup)) in
        (0..3).flat_map(|round| setups.into_iter().enumerate().map(move |s| (round, s)))
    {
        let mut completed = false;
        for polls in 1..=60 {
            let context = format!("{setup} (round {round}), dropped after {polls} polls");
            let user = runtime
                .block_on(client.create_api_user("desk", Role::Viewer))
                .expect("user")
                .id;
            let before: Vec<String> = Vec::new();
            let executed_before = server.executions("CreatePrimeApiUserKey");
            let outcome = runtime.block_on(async {
                let slow = match setup {
                    "behind a slow call" => {
                        server.push_fault(
                            Fault::new(FaultKind::Delay(Duration::from_millis(30)))
                                .on("ListPrimeApiUsers"),
                        );
                        let slow = tokio::spawn(client.list_api_users());
                        // Let it take the send order first.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        Some(slow)
                    }
                    "after a backoff" => {
                        server.push_fault(
                            Fault::new(FaultKind::rate_limited()).on("CreatePrimeApiUserKey"),
                        );
                        None
                    }
                    _ => None,
                };
                let outcome = poll_at_most(client.send(CreateApiUserKey::new(&user)), polls).await;
                if let Some(slow) = slow {
                    slow.await
                        .expect("joined")
                        .expect("the slow call still answers");
                }
                outcome
            });
            server.clear_faults();
            // The next call proceeds: the send order was released.
            let keys = runtime
                .block_on(async {
                    tokio::time::timeout(Duration::from_secs(10), client.list_api_user_keys(&user))
                        .await
                })
                .expect("the next call is not wedged")
                .expect("listed");
            let executed = server.executions("CreatePrimeApiUserKey") - executed_before;
            assert!(executed <= 1, "{context}: resent ({executed} executions)");
            assert_eq!(keys.len() as u64, executed, "{context}");
            // The outcome, where the call could not report it, is found by reconciling.
            let found = runtime
                .block_on(client.reconcile_api_user_keys(&user, before, OrphanPolicy::Report))
                .expect("reconciled");
            match &outcome {
                Some(Ok(reply)) => assert_eq!(found.orphans[0].id, reply.result.id, "{context}"),
                Some(Err(error)) => panic!("{context}: {error}"),
                None => {
                    assert_eq!(found.orphans.len() as u64, executed, "{context}");
                    if executed == 0 {
                        unsent[index] += 1;
                    } else {
                        executed_unreported[index] += 1;
                    }
                }
            }
            if outcome.is_some() {
                completed = true;
                break;
            }
        }
        assert!(
            completed,
            "{setup}: the create completes given enough polls"
        );
    }
    // Every setup was dropped after its create executed; the two with an await point before
    // sending (the turn behind a slow call, the backoff) were dropped there too. (Alone, a
    // pooled connection takes the request out on the first poll.)
    for (index, setup) in setups.into_iter().enumerate() {
        let waits_before_sending = setup != "alone";
        assert!(
            executed_unreported[index] > 0 && (unsent[index] > 0 || !waits_before_sending),
            "{setup}: dropped before sending {} times, after executing {} times",
            unsent[index],
            executed_unreported[index]
        );
    }
}

/// A writer into a shared buffer, for capturing logs.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where no caller is left to be told, a call dropped between signing and its outcome is on
/// record: a warning for a write, nothing for a call that never signed.
#[test]
fn a_call_dropped_in_flight_is_on_record() {
    use prime_core::transport::ClientCore;

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let credentials =
            prime_core::Credentials::new("KRA5L19LAW8Z", prime_core::example::SECRET).unwrap();
        let core = ClientCore::new(credentials, &prime_core::Settings::default()).unwrap();
        let create = CreateApiUserKey::new("U1");
        // Started but never signed: nothing to report.
        drop(core.start(&create, Instant::now()).unwrap());
        let mut call = core.start(&create, Instant::now()).unwrap();
        call.request_at(Instant::now()).expect("signed");
        drop(call);
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let dropped: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("call dropped"))
        .collect();
    assert_eq!(dropped.len(), 1, "{logs}");
    assert!(dropped[0].contains("WARN"), "{logs}");
    assert!(dropped[0].contains("CreatePrimeApiUserKey"), "{logs}");
    assert!(dropped[0].contains("outcome unknown"), "{logs}");
}

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../../../crates/prime-async/examples/quickstart.rs"]
mod async_quickstart;
/// The README's example programs, one per client, compiled here as they are shipped.
#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../../../crates/prime-blocking/examples/quickstart.rs"]
mod blocking_quickstart;

/// The README's examples, run as written under each outcome-unknown fault on the creation,
/// and with every attempt of the first creation cut: each ends with exactly one live key of
/// the new user, the one whose secret the program holds, and that secret works.
#[test]
fn the_readme_examples_leave_exactly_one_key_with_its_secret_under_unknown_outcomes() {
    let server = MockServer::start().expect("simulator");
    let admin = prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .build()
        .expect("admin");
    // A deadline well below the 30 s a held request waits: the client hangs up.
    let settings = settings()
        .deadline(Duration::from_millis(400))
        .base_url(&server.url());
    let blocking = prime_blocking::Client::builder(server.account_credentials())
        .settings(settings.clone())
        .build()
        .expect("blocking client");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let asynchronous = prime_async::Client::builder(server.account_credentials())
        .settings(settings)
        .build()
        .expect("async client");
    let faults = [
        (FaultKind::DropAfterExecute, 1),
        (FaultKind::ExecuteAfterHangup, 1),
        // Both creations of the first call: it cleans up and says so; the example calls again.
        (FaultKind::DropAfterExecute, 2),
    ];
    for (fault, times) in faults {
        for name in ["blocking", "async"] {
            let context = format!("{name} example, {fault} x{times}");
            let users_before: Vec<String> = admin
                .list_api_users()
                .expect("users")
                .into_iter()
                .map(|u| u.id)
                .collect();
            let creates = server.executions("CreatePrimeApiUserKey");
            let deletes = server.executions("DeletePrimeApiUserKey");
            server.push_fault(
                Fault::new(fault.clone())
                    .on("CreatePrimeApiUserKey")
                    .times(times),
            );
            let key = match name {
                "blocking" => blocking_quickstart::new_desk(&blocking, "desk-1"),
                _ => runtime.block_on(async_quickstart::new_desk(&asynchronous, "desk-1")),
            }
            .expect(&context);
            // Each cut creation executed and left an orphan, which was deleted.
            assert!(server.pending_faults().is_empty(), "{context}: faults hit");
            assert_eq!(
                server.executions("CreatePrimeApiUserKey") - creates,
                u64::from(times) + 1,
                "{context}"
            );
            assert_eq!(
                server.executions("DeletePrimeApiUserKey") - deletes,
                u64::from(times),
                "{context}"
            );
            let new_users: Vec<String> = admin
                .list_api_users()
                .expect("users")
                .into_iter()
                .map(|u| u.id)
                .filter(|id| !users_before.contains(id))
                .collect();
            assert_eq!(new_users.len(), 1, "{context}");
            let listed = admin.list_api_user_keys(&new_users[0]).expect("keys");
            assert_eq!(listed.len(), 1, "{context}: exactly one live key");
            assert_eq!(listed[0].id, key.id, "{context}: the one we hold");
            assert!(
                ws_authenticates(&server, &key.api_key, key.api_secret().expose()),
                "{context}: the delivered secret works"
            );
        }
    }
}

/// The README's examples name no Kraken crate but their client: one dependency is enough.
#[test]
fn the_readme_examples_name_only_their_client_crate() {
    let programs = [
        (
            "prime_blocking",
            include_str!("../../../crates/prime-blocking/examples/quickstart.rs"),
        ),
        (
            "prime_async",
            include_str!("../../../crates/prime-async/examples/quickstart.rs"),
        ),
    ];
    for (client, source) in programs {
        let named = ["prime_core", "prime_mock", "prime_blocking", "prime_async"]
            .into_iter()
            .filter(|name| source.contains(name))
            .collect::<Vec<_>>();
        assert_eq!(named, [client]);
        assert!(
            source
                .lines()
                .skip_while(|l| !l.starts_with("use "))
                .count()
                <= 30,
            "{client}: a front-page length"
        );
    }
}

/// Every code block in the clients' docs is a doctest that compiles (none is `ignore`d), and
/// names no Kraken crate but through the client (`prime_blocking::prime_core::…` is fine):
/// what the docs show compiles with the client crate as the only Kraken dependency.
#[test]
fn the_client_docs_code_blocks_need_only_the_client_crate() {
    fn sources(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("source dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut blocks = 0;
    for (client, dir) in [
        ("prime_blocking", "crates/prime-blocking/src"),
        ("prime_async", "crates/prime-async/src"),
    ] {
        let mut files = Vec::new();
        sources(&root.join(dir), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source");
            // `None`: outside a block; `Some(None)`: in a shell or text block; `Some(Some(..))`:
            // in a Rust block, from its line, with its code.
            let mut block: Option<Option<(usize, String)>> = None;
            for (number, line) in text.lines().enumerate() {
                let trimmed = line.trim_start();
                let Some(doc) = trimmed
                    .strip_prefix("//!")
                    .or_else(|| trimmed.strip_prefix("///"))
                else {
                    continue;
                };
                let doc = doc.strip_prefix(' ').unwrap_or(doc);
                let place = format!("{}:{}", file.display(), number + 1);
                match (block.take(), doc.strip_prefix("```")) {
                    (None, Some(info)) => {
                        assert!(!info.contains("ignore"), "{place}: an ignored block");
                        let rust = info.is_empty()
                            || info
                                .split(',')
                                .all(|w| matches!(w, "rust" | "no_run" | "should_panic"));
                        block = Some(rust.then(|| (number, String::new())));
                    }
                    (Some(Some((_, code))), Some(_)) => {
                        let through_client = code
                            .replace(&format!("{client}::prime_core"), "")
                            .replace(&format!("{client}::"), "");
                        for other in ["prime_core", "prime_mock", "prime_blocking", "prime_async"] {
                            assert!(!through_client.contains(other), "{place}: names {other}");
                        }
                        blocks += 1;
                    }
                    (Some(None), Some(_)) | (None, None) => {}
                    (Some(Some((start, mut code))), None) => {
                        code.push_str(doc);
                        code.push('\n');
                        block = Some(Some((start, code)));
                    }
                    (Some(None), None) => block = Some(None),
                }
            }
            assert!(block.is_none(), "{}: an unclosed block", file.display());
        }
    }
    assert!(blocks >= 10, "found {blocks} code blocks");
}
