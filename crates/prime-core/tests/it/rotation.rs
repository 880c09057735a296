//! The rotation and reconciled-creation state machines against an in-memory key store, with
//! no network: every crash point × every call failing (executed with an unknown outcome, or
//! refused before executing), then resumes until done. The end state is always exactly one new
//! key whose secret is the delivered one, with the old allow-list, and the old key gone.

use prime_core::endpoints::{
    ApiUserKeyInfo, CreatedApiUserKey, DeletedApiUserKey, UpdatedApiUserKey,
};
use prime_core::rotation::{Action, Journal, Rotation, RotationError, RotationOptions, Stage};
use prime_core::workflow::{
    CreateKeyError, KeyCall, KeyReply, OrphanPolicy, Poll, ReconciledCreate, Workflow,
};
use prime_core::{Error, TransportErrorKind, transport};
use serde_json::json;

/// A user's keys as the server keeps them, with the secret of each.
#[derive(Default)]
struct Store {
    keys: Vec<(String, String, Vec<String>)>, // (id, secret, allow-list)
    next: u32,
    calls: usize,
    /// Fail this call (by count): `true` executes it first (outcome unknown).
    fail: Option<(usize, bool)>,
    /// Further calls to fail, as `fail`.
    more_failures: Vec<(usize, bool)>,
}

fn info(id: &str, ips: &[String]) -> ApiUserKeyInfo {
    serde_json::from_value(json!({"id": id, "key": format!("K{id}"), "whitelisted_ips": ips}))
        .expect("key info")
}

impl Store {
    fn with_old() -> Self {
        Self {
            keys: vec![("OLD".into(), "old-secret".into(), vec!["10.0.0.1".into()])],
            ..Self::default()
        }
    }

    fn execute(&mut self, call: &KeyCall) -> KeyReply {
        match call {
            KeyCall::List(_) => {
                KeyReply::Listed(self.keys.iter().map(|(id, _, ips)| info(id, ips)).collect())
            }
            KeyCall::Create(_) => {
                self.next += 1;
                let id = format!("N{}", self.next);
                let secret = format!("secret{}", self.next);
                self.keys.push((id.clone(), secret.clone(), Vec::new()));
                KeyReply::Created(Box::new(
                    serde_json::from_value::<CreatedApiUserKey>(json!({
                        "id": id, "api_key": format!("K{id}"), "api_secret": secret}))
                    .expect("created"),
                ))
            }
            KeyCall::Update(update) => {
                let ips = update.whitelisted_ips.clone().unwrap_or_default();
                if let Some(key) = self.keys.iter_mut().find(|k| k.0 == update.key_id) {
                    key.2.clone_from(&ips);
                }
                KeyReply::Updated(
                    serde_json::from_value::<UpdatedApiUserKey>(json!({
                        "id": update.key_id, "api_key": "K", "whitelisted_ips": ips}))
                    .expect("updated"),
                )
            }
            KeyCall::Delete(delete) => {
                self.keys.retain(|k| k.0 != delete.key_id);
                KeyReply::Deleted(
                    serde_json::from_value::<DeletedApiUserKey>(json!({"deleted": true}))
                        .expect("deleted"),
                )
            }
        }
    }

    fn reply(&mut self, call: &KeyCall) -> Result<KeyReply, Error> {
        let number = self.calls;
        self.calls += 1;
        let failure = self.fail.filter(|(at, _)| *at == number).or_else(|| {
            self.more_failures
                .iter()
                .copied()
                .find(|(at, _)| *at == number)
        });
        match failure {
            Some((_, executed)) => {
                if executed {
                    self.execute(call);
                    Err(transport::maybe_sent(TransportErrorKind::Io, "reset").into())
                } else {
                    Err(transport::not_sent(TransportErrorKind::Connect, "refused").into())
                }
            }
            _ => Ok(self.execute(call)),
        }
    }
}

#[derive(Default)]
struct Durable {
    journal: Option<String>,
    secret: Option<String>,
}

/// Runs until done, failed, or a crash before action `crash`.
fn drive(
    rotation: &mut Rotation,
    store: &mut Store,
    durable: &mut Durable,
    crash: Option<usize>,
) -> Option<bool> {
    let mut actions = 0;
    for _ in 0..200 {
        let action = match rotation.poll() {
            Poll::Call(call) => {
                let reply = store.reply(&call);
                rotation.on_reply(reply);
                continue;
            }
            Poll::Pause(action) => action,
        };
        if crash == Some(actions) {
            return None;
        }
        actions += 1;
        match action {
            Action::Record(_) => {
                durable.journal = Some(serde_json::to_string(rotation.journal()).unwrap());
                rotation.on_recorded();
            }
            Action::Deliver => {
                durable.secret = Some(rotation.created_key().unwrap().api_secret().expose().into());
                rotation.on_delivered(Ok(()));
            }
            Action::Withdraw => {
                durable.secret = None;
                rotation.on_withdrawn(Ok(()));
            }
            Action::Check { api_key } => {
                let id = api_key.trim_start_matches('K');
                let works = store
                    .keys
                    .iter()
                    .any(|k| k.0 == id && Some(&k.1) == durable.secret.as_ref());
                rotation.on_checked(if works { Ok(()) } else { Err("refused".into()) });
            }
            Action::Done(_) => return Some(true),
            Action::Failed(_) => return Some(false),
            other => panic!("{other:?}"),
        }
    }
    panic!("no end within 200 steps");
}

#[test]
fn every_crash_point_and_every_failing_call_ends_with_one_delivered_working_key() {
    let mut cells = 0;
    for crash in (0..10).map(Some).chain([None]) {
        for fail in (0..10)
            .flat_map(|at| [Some((at, true)), Some((at, false))])
            .chain([None])
        {
            for keep_old in [false, true] {
                let mut store = Store::with_old();
                store.fail = fail;
                let mut durable = Durable::default();
                let options = RotationOptions::default().keep_old(keep_old);
                let mut rotation = Rotation::new("U", "OLD", options);
                let mut done = drive(&mut rotation, &mut store, &mut durable, crash) == Some(true);
                for _ in 0..3 {
                    if done {
                        break;
                    }
                    let mut rotation = match &durable.journal {
                        Some(text) => {
                            Rotation::resume(serde_json::from_str(text).unwrap(), options)
                        }
                        None => Rotation::new("U", "OLD", options),
                    };
                    done = drive(&mut rotation, &mut store, &mut durable, None) == Some(true);
                }
                let context = format!("crash {crash:?}, fail {fail:?}, keep_old {keep_old}");
                assert!(done, "{context}");
                let journal: Journal =
                    serde_json::from_str(durable.journal.as_ref().unwrap()).unwrap();
                assert_eq!(journal.stage, Stage::Done, "{context}");
                let new = journal.new_key.expect("new key");
                let ids: Vec<&str> = store.keys.iter().map(|k| k.0.as_str()).collect();
                let expected: Vec<&str> = if keep_old {
                    vec!["OLD", &new.id]
                } else {
                    vec![&new.id]
                };
                assert_eq!(ids, expected, "{context}");
                let key = store.keys.iter().find(|k| k.0 == new.id).unwrap();
                assert_eq!(Some(&key.1), durable.secret.as_ref(), "{context}");
                assert_eq!(key.2, ["10.0.0.1"], "{context}");
                cells += 1;
            }
        }
    }
    assert_eq!(cells, 11 * 21 * 2);
}

#[test]
fn the_journal_format_is_stable_and_holds_no_secret() {
    let mut store = Store::with_old();
    let mut durable = Durable::default();
    let mut rotation = Rotation::new("U", "OLD", RotationOptions::default().check(false));
    assert_eq!(
        drive(&mut rotation, &mut store, &mut durable, None),
        Some(true)
    );
    let journal: serde_json::Value =
        serde_json::from_str(durable.journal.as_ref().unwrap()).unwrap();
    assert_eq!(
        journal,
        json!({"version": 1, "user_id": "U", "old_key_id": "OLD", "stage": "done",
            "old_whitelisted_ips": ["10.0.0.1"], "keys_before": ["OLD"], "deleted_orphans": [],
            "new_key": {"id": "N1", "api_key": "KN1"}, "checked": false, "old_deleted": true})
    );
    assert!(!durable.journal.unwrap().contains("secret1"));
}

#[test]
fn misuse_stops_with_a_journal_error_instead_of_panicking() {
    // Another journal version.
    let mut journal = Journal::new("U", "OLD");
    journal.version = 99;
    let mut rotation = Rotation::resume(journal, RotationOptions::default());
    assert!(matches!(
        rotation.poll(),
        Poll::Pause(Action::Failed(RotationError::Journal(_)))
    ));
    // Polled again without answering the pending action.
    let mut rotation = Rotation::new("U", "OLD", RotationOptions::default());
    let Poll::Call(call) = rotation.poll() else {
        panic!()
    };
    rotation.on_reply(Store::with_old().reply(&call));
    assert!(matches!(rotation.poll(), Poll::Pause(Action::Record(_))));
    assert!(matches!(
        rotation.poll(),
        Poll::Pause(Action::Failed(RotationError::Journal(_)))
    ));
    // A reply that does not fit the call.
    let mut rotation = Rotation::new("U", "OLD", RotationOptions::default());
    let _ = rotation.poll();
    rotation.on_reply(Ok(KeyReply::Deleted(
        serde_json::from_value(json!({"deleted": true})).unwrap(),
    )));
    assert!(matches!(rotation.poll(), Poll::Pause(Action::Failed(_))));
    // Answers out of turn are ignored.
    let mut rotation = Rotation::new("U", "OLD", RotationOptions::default());
    rotation.on_delivered(Ok(()));
    rotation.on_checked(Ok(()));
    rotation.on_withdrawn(Ok(()));
    rotation.on_recorded();
    assert!(matches!(rotation.poll(), Poll::Call(KeyCall::List(_))));
}

/// Runs a reconciled creation against `store`.
fn reconcile(store: &mut Store, policy: OrphanPolicy) -> Result<String, CreateKeyError> {
    let mut create = ReconciledCreate::new("U", policy);
    for _ in 0..20 {
        match create.poll() {
            Poll::Call(call) => {
                let reply = store.reply(&call);
                create.on_reply(reply);
            }
            Poll::Pause(result) => return result.map(|k| k.key.id),
        }
    }
    panic!("no end");
}

/// Two failures anywhere (each executed or not) in the orphan-deleting creation the clients'
/// `create_api_user_key` runs: it ends with exactly one new key whose secret is returned, or
/// with an error that names every new key still live, and says "safe to retry" only when none
/// is.
#[test]
fn the_deleting_creation_leaves_no_unnamed_key_under_any_two_failures() {
    let mut cells = 0;
    for first in 0..8 {
        for second in first + 1..9 {
            for (a, b) in [(false, false), (false, true), (true, false), (true, true)] {
                let mut store = Store::with_old();
                store.fail = Some((first, a));
                store.more_failures = vec![(second, b)];
                let outcome = reconcile(&mut store, OrphanPolicy::Delete);
                let context = format!("calls {first} ({a}) and {second} ({b}) fail");
                let new: Vec<&str> = store
                    .keys
                    .iter()
                    .map(|k| k.0.as_str())
                    .filter(|id| *id != "OLD")
                    .collect();
                match &outcome {
                    Ok(id) => assert_eq!(new, [id.as_str()], "{context}"),
                    Err(error) => {
                        let named: Vec<&str> = error.orphans().map(|k| k.id.as_str()).collect();
                        let known = error.known_before().is_some();
                        assert!(
                            known || new.iter().all(|id| named.contains(id)),
                            "{context}: live {new:?}, named {named:?}: {error}"
                        );
                        if error.is_safe_to_retry() {
                            assert!(new.is_empty(), "{context}: {error}");
                        }
                        if known {
                            assert_eq!(error.known_before(), Some(&["OLD".to_owned()][..]));
                        }
                    }
                }
                cells += 1;
            }
        }
    }
    assert_eq!(cells, 36 * 4);
}

#[test]
fn reconciled_creation_in_every_failure_position() {
    // Call 0 is the listing before, 1 the creation, 2 the listing after, 3.. deletion/creation.
    for policy in [OrphanPolicy::Report, OrphanPolicy::Delete] {
        for at in 0..6 {
            for executed in [false, true] {
                let mut store = Store::with_old();
                store.fail = Some((at, executed));
                let outcome = reconcile(&mut store, policy);
                let context = format!("{policy:?}, call {at} fails, executed {executed}");
                let new: Vec<&str> = store
                    .keys
                    .iter()
                    .map(|k| k.0.as_str())
                    .filter(|id| *id != "OLD")
                    .collect();
                match (&outcome, at, executed) {
                    (Ok(id), _, _) => assert_eq!(new, [id.as_str()], "{context}"),
                    (Err(CreateKeyError::Orphaned { orphans, .. }), _, _) => {
                        let named: Vec<&str> = orphans.iter().map(|k| k.id.as_str()).collect();
                        assert_eq!(named, new, "exactly the new keys are named: {context}");
                    }
                    (Err(CreateKeyError::Unreconciled { before, .. }), 2, _) => {
                        assert_eq!(before, &["OLD"], "{context}");
                    }
                    // The listing before failed: the error says so, and no creation was sent.
                    (Err(CreateKeyError::ListBefore(_)), 0, _) => {
                        assert!(new.is_empty(), "{context}");
                        let text = outcome.as_ref().unwrap_err().to_string();
                        assert!(text.contains("ListPrimeApiUserKeys"), "{context}: {text}");
                        assert!(text.contains("no key was created"), "{context}: {text}");
                    }
                    // Deleting an orphan failed: the orphan is named.
                    (Err(CreateKeyError::DeleteOrphan { orphan, .. }), _, _) => {
                        assert!(new.contains(&orphan.id.as_str()), "{context}");
                    }
                    (Err(CreateKeyError::Call(_)), _, _) => {
                        // The creation itself failed with a known outcome (not the listing).
                        assert_ne!(at, 0, "{context}");
                        assert!(new.len() <= usize::from(at != 1 || !executed), "{context}");
                    }
                    (other, _, _) => panic!("{context}: {other:?}"),
                }
                if policy == OrphanPolicy::Delete && at == 1 && executed {
                    assert!(outcome.is_ok(), "{context}: the orphan is replaced");
                    assert_eq!(new.len(), 1, "{context}");
                }
            }
        }
    }
}
