//! Key rotation as a sans-IO state machine: a user gets a new key, the new key's secret is
//! delivered durably, the new key gets the old key's IP allow-list and is checked, and only
//! then is the old key deleted — resumable at any point from a [`Journal`].
//!
//! # Steps
//!
//! 1. **Read** the old key (`ListPrimeApiUserKeys`): its allow-list, and the ids of all the
//!    user's keys. The journal records them, *and that a creation is about to be sent*,
//!    before the creation is sent.
//! 2. **Create** the new key and ask the caller to **deliver** its secret
//!    ([`Action::Deliver`]). A broken reply that still carries the key
//!    ([`ResponseError::KeyCreated`](crate::ResponseError::KeyCreated)) is delivered too. A
//!    failed delivery means the caller showed the secret another way (printed it): the key is
//!    then recorded as [`Stage::SecretShown`] and kept — the rotation stops, and a rerun
//!    continues with that key instead of deleting it, so the shown secret stays good.
//! 3. **Allow-list**: give the new key the old key's allow-list (skipped when it is empty).
//! 4. **Check** that the new key authenticates ([`Action::Check`]; Prime WebSocket/FIX is
//!    the caller's IO), unless [`RotationOptions::check`] is off.
//! 5. **Delete** the old key, unless [`RotationOptions::keep_old`].
//!
//! After every completed step the rotation asks the caller to persist its journal
//! ([`Action::Record`]); the journal holds ids, the allow-list and the stage — never a
//! secret. A rotation resumed from its journal ([`Rotation::resume`]) carries on where it
//! stopped. It never ends with two new keys: resumed while a creation was about to be sent or
//! in flight, it lists the user's keys, deletes every key that is not in the recorded list
//! (a new key whose secret was not recorded as delivered is an orphan: nobody holds its
//! secret), asks the caller to withdraw any partial delivery ([`Action::Withdraw`]), and
//! creates the key once more. The same limit as in [`workflow`](crate::workflow) applies: a
//! key another administrator creates for the same user in that window is deleted too.
//!
//! ```
//! use prime_core::endpoints::{ApiUserKeyInfo, CreatedApiUserKey};
//! use prime_core::rotation::{Action, Rotation, RotationOptions, Stage};
//! use prime_core::workflow::{KeyCall, KeyReply, Poll, Workflow};
//!
//! let json = |v: serde_json::Value| v;
//! let old: ApiUserKeyInfo = serde_json::from_value(json(serde_json::json!(
//!     {"id": "OLD", "key": "KOLD", "whitelisted_ips": ["10.0.0.1"]}))).unwrap();
//! let new: CreatedApiUserKey = serde_json::from_value(json(serde_json::json!(
//!     {"id": "NEW", "api_key": "KNEW", "api_secret": "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf"}))).unwrap();
//!
//! let mut rotation = Rotation::new("U1", "OLD", RotationOptions::default());
//! assert!(matches!(rotation.poll(), Poll::Call(KeyCall::List(_))));
//! rotation.on_reply(Ok(KeyReply::Listed(vec![old])));
//! // The journal says "about to create" before the creation is sent.
//! assert!(matches!(rotation.poll(), Poll::Pause(Action::Record(_))));
//! assert_eq!(rotation.journal().stage, Stage::Creating);
//! rotation.on_recorded();
//! assert!(matches!(rotation.poll(), Poll::Call(KeyCall::Create(_))));
//! rotation.on_reply(Ok(KeyReply::Created(Box::new(new))));
//! assert!(matches!(rotation.poll(), Poll::Pause(Action::Deliver)));
//! let secret = rotation.created_key().unwrap().api_secret().expose().to_owned();
//! rotation.on_delivered(Ok(()));
//! // Nothing secret is in the journal.
//! assert!(!serde_json::to_string(rotation.journal()).unwrap().contains(&secret));
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use super::machine::{KeyCall, KeyReply, Poll, Workflow, unexpected};
use crate::endpoints::{
    ApiUserKeyInfo, CreateApiUserKey, CreatedApiUserKey, DeleteApiUserKey, ListApiUserKeys,
    UpdateApiUserKey,
};
use crate::transport::Error;

/// The journal format this version writes and reads.
pub const JOURNAL_VERSION: u32 = 1;

/// How far a rotation got. Each stage is recorded once its step is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// Nothing done yet.
    Started,
    /// The old key was read and the key ids before the creation are recorded; a creation is
    /// about to be sent, or was sent and its secret not (yet) delivered.
    Creating,
    /// The new key exists and its secret was delivered.
    Delivered,
    /// The new key exists; its secret could not be delivered and the caller showed it
    /// instead (printed it). The key is kept: a resume continues with it, as from
    /// [`Stage::Delivered`], and never deletes it.
    SecretShown,
    /// The new key carries the old key's allow-list.
    AllowListSet,
    /// The new key authenticated (or the check was skipped: see [`Journal::checked`]).
    Checked,
    /// The old key is deleted (or kept): the rotation is complete.
    Done,
}

/// The new key as the journal records it (no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKeyRecord {
    /// The key's id.
    pub id: String,
    /// Its public key.
    pub api_key: String,
}

/// Everything a rotation needs to resume; serializable, with no secret in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Journal {
    /// [`JOURNAL_VERSION`].
    pub version: u32,
    /// The user whose key is rotated.
    pub user_id: String,
    /// The key being replaced.
    pub old_key_id: String,
    /// The last completed stage.
    pub stage: Stage,
    /// The old key's IP allow-list (from step 1).
    #[serde(default)]
    pub old_whitelisted_ips: Vec<String>,
    /// The user's key ids before the creation (from step 1).
    #[serde(default)]
    pub keys_before: Vec<String>,
    /// Keys deleted as orphans when resuming a creation.
    #[serde(default)]
    pub deleted_orphans: Vec<String>,
    /// The new key, once its secret is delivered (or shown: [`Stage::SecretShown`]).
    #[serde(default)]
    pub new_key: Option<NewKeyRecord>,
    /// Whether the new key was checked (false when the check was skipped).
    #[serde(default)]
    pub checked: bool,
    /// Whether the old key was deleted (false when kept).
    #[serde(default)]
    pub old_deleted: bool,
    /// Whether the new key's secret was shown (printed) because its delivery failed
    /// ([`Stage::SecretShown`]); it stays true for the rest of the rotation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret_shown: bool,
}

impl Journal {
    /// A journal for a rotation not yet started.
    pub fn new(user_id: impl Into<String>, old_key_id: impl Into<String>) -> Self {
        Self {
            version: JOURNAL_VERSION,
            user_id: user_id.into(),
            old_key_id: old_key_id.into(),
            stage: Stage::Started,
            old_whitelisted_ips: Vec::new(),
            keys_before: Vec::new(),
            deleted_orphans: Vec::new(),
            new_key: None,
            checked: false,
            old_deleted: false,
            secret_shown: false,
        }
    }
}

/// Choices of one run (not journaled: a rerun may change them, e.g. add `check: false`
/// after a failed check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotationOptions {
    /// Keep the old key instead of deleting it.
    pub keep_old: bool,
    /// Check that the new key authenticates before the old one is deleted.
    pub check: bool,
}

impl Default for RotationOptions {
    /// Check the new key, delete the old one.
    fn default() -> Self {
        Self {
            keep_old: false,
            check: true,
        }
    }
}

impl RotationOptions {
    /// Sets [`RotationOptions::keep_old`].
    pub fn keep_old(mut self, keep: bool) -> Self {
        self.keep_old = keep;
        self
    }

    /// Sets [`RotationOptions::check`].
    pub fn check(mut self, check: bool) -> Self {
        self.check = check;
        self
    }
}

/// A step completed and recorded in the journal, for progress reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// Step 1: the old key was read; a creation is about to be sent.
    OldKeyRead {
        /// The old key's allow-list.
        whitelisted_ips: Vec<String>,
    },
    /// Resuming a creation: a key that appeared without a delivered secret was deleted.
    OrphanDeleted {
        /// The orphan's id.
        key_id: String,
    },
    /// Step 2 failed: the new key's secret could not be delivered and was shown instead; the
    /// key is kept for a rerun to continue with.
    SecretShown {
        /// The new key's id.
        key_id: String,
        /// Its public key.
        api_key: String,
    },
    /// Step 2: the new key's secret was delivered.
    Delivered {
        /// The new key's id.
        key_id: String,
        /// Its public key.
        api_key: String,
    },
    /// Step 3: the new key carries the old allow-list.
    AllowListSet {
        /// The allow-list now on the new key.
        whitelisted_ips: Vec<String>,
    },
    /// Step 4: the new key authenticated, or the check was skipped.
    Checked {
        /// False when skipped.
        checked: bool,
    },
    /// Step 5: the old key was deleted (or it was gone already), or kept.
    Finished {
        /// False with `keep_old`.
        old_deleted: bool,
    },
}

impl Event {
    /// A short name (`old_key_read`, `orphan_deleted`, `secret_shown`, `delivered`,
    /// `allow_list_set`, `checked`, `finished`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::OldKeyRead { .. } => "old_key_read",
            Self::OrphanDeleted { .. } => "orphan_deleted",
            Self::SecretShown { .. } => "secret_shown",
            Self::Delivered { .. } => "delivered",
            Self::AllowListSet { .. } => "allow_list_set",
            Self::Checked { .. } => "checked",
            Self::Finished { .. } => "finished",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OldKeyRead { whitelisted_ips } => write!(
                f,
                "1/5 read the old key (allow-list {whitelisted_ips:?}); creating the new key"
            ),
            Self::OrphanDeleted { key_id } => write!(
                f,
                "2/5 deleted key {key_id}: created by an interrupted run, its secret never delivered"
            ),
            Self::SecretShown { key_id, api_key } => write!(
                f,
                "2/5 created key {key_id} (api_key {api_key}); its secret was not delivered but \
                 shown: the key is kept, and a rerun continues with it"
            ),
            Self::Delivered { key_id, api_key } => write!(
                f,
                "2/5 created key {key_id} (api_key {api_key}); its secret is delivered"
            ),
            Self::AllowListSet { whitelisted_ips } => {
                write!(f, "3/5 the new key's allow-list is {whitelisted_ips:?}")
            }
            Self::Checked { checked: true } => write!(f, "4/5 the new key authenticates"),
            Self::Checked { checked: false } => write!(f, "4/5 check skipped (--no-check)"),
            Self::Finished { old_deleted: true } => write!(f, "5/5 the old key is deleted"),
            Self::Finished { old_deleted: false } => write!(f, "5/5 the old key is kept"),
        }
    }
}

/// What the rotation asks of its caller (the pause of its [`Workflow`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Action {
    /// Persist [`Rotation::journal`] durably, report the event, then call
    /// [`Rotation::on_recorded`].
    Record(Event),
    /// Deliver [`Rotation::created_key`]'s secret durably, then call
    /// [`Rotation::on_delivered`].
    Deliver,
    /// A resumed creation found the earlier run's key gone or deleted: remove anything a
    /// delivery of its secret may have left (a partly or fully written secret file), then call
    /// [`Rotation::on_withdrawn`].
    Withdraw,
    /// Check that the key authenticates (with [`Rotation::created_key`]'s secret, or the
    /// delivered copy after a resume), then call [`Rotation::on_checked`].
    Check {
        /// The new key's public key.
        api_key: String,
    },
    /// The rotation is complete.
    Done(NewKeyRecord),
    /// The rotation stopped; the journal says where, and a rerun resumes there.
    Failed(RotationError),
}

/// Why a rotation stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum RotationError {
    /// The user has no key with the old key's id.
    OldKeyNotFound {
        /// The id looked for.
        key_id: String,
    },
    /// A call failed; `step` says what it was for and names the endpoint.
    Call {
        /// What the call was for.
        step: &'static str,
        /// Its failure.
        source: Error,
    },
    /// The secret could not be delivered (the caller must have shown it another way); no key
    /// was retired. The new key is kept ([`Stage::SecretShown`]) and a rerun continues with
    /// it.
    Delivery(String),
    /// A partial delivery could not be withdrawn.
    Withdraw(String),
    /// The new key did not authenticate; nothing was deleted.
    Check(String),
    /// The journal belongs to another rotation or version.
    Journal(String),
}

impl fmt::Display for RotationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OldKeyNotFound { key_id } => {
                write!(f, "the user has no key {key_id}; nothing was changed")
            }
            Self::Call { step, source } => write!(f, "{step}: {source}"),
            Self::Delivery(reason) => write!(
                f,
                "the new key's secret could not be delivered ({reason}); the new key is kept and \
                 the old key is untouched"
            ),
            Self::Withdraw(reason) => {
                write!(f, "could not remove an earlier partial delivery: {reason}")
            }
            Self::Check(reason) => write!(
                f,
                "the new key did not authenticate ({reason}); the old key is untouched"
            ),
            Self::Journal(reason) => write!(f, "journal: {reason}"),
        }
    }
}

impl std::error::Error for RotationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Call { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// What the rotation does next within this run.
#[derive(Debug)]
enum Next {
    ReadOld,
    ReconcileList,
    DeleteOrphans(Vec<String>),
    Withdraw,
    AwaitWithdraw,
    Create,
    Deliver,
    AwaitDelivery,
    Record(Event, Box<Next>),
    AwaitRecord(Box<Next>),
    SetAllowList,
    Check,
    AwaitCheck,
    ListBeforeDelete,
    DeleteOld,
    Done,
    Failed(RotationError),
    Over,
}

/// A key rotation (see the [module docs](self)). Run it with a client's `run_workflow` and
/// answer each [`Action`].
#[derive(Debug)]
pub struct Rotation {
    journal: Journal,
    options: RotationOptions,
    created: Option<CreatedApiUserKey>,
    next: Next,
}

impl Rotation {
    /// A new rotation of `old_key_id` of `user_id`.
    pub fn new(
        user_id: impl Into<String>,
        old_key_id: impl Into<String>,
        options: RotationOptions,
    ) -> Self {
        Self::resume(Journal::new(user_id, old_key_id), options)
    }

    /// A rotation that continues from `journal`. An unknown journal version stops at once
    /// with [`RotationError::Journal`].
    pub fn resume(journal: Journal, options: RotationOptions) -> Self {
        let next = if journal.version != JOURNAL_VERSION {
            Next::Failed(RotationError::Journal(format!(
                "version {} is not {JOURNAL_VERSION}",
                journal.version
            )))
        } else {
            match journal.stage {
                Stage::Started => Next::ReadOld,
                // A creation may have been sent: reconcile before creating.
                Stage::Creating => Next::ReconcileList,
                // The shown secret is the key's only copy: carry on with that key.
                Stage::Delivered | Stage::SecretShown => Next::SetAllowList,
                Stage::AllowListSet => Next::Check,
                Stage::Checked => Next::ListBeforeDelete,
                Stage::Done => Next::Done,
            }
        };
        Self {
            journal,
            options,
            created: None,
            next,
        }
    }

    /// The journal to persist at each [`Action::Record`].
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The key this run created, with its secret (none after a resume past the creation).
    pub fn created_key(&self) -> Option<&CreatedApiUserKey> {
        self.created.as_ref()
    }

    /// **Input**: the journal was persisted.
    pub fn on_recorded(&mut self) {
        // An answer out of turn changes nothing.
        if matches!(self.next, Next::AwaitRecord(_))
            && let Next::AwaitRecord(then) = std::mem::replace(&mut self.next, Next::Over)
        {
            self.next = *then;
        }
    }

    /// **Input**: the outcome of [`Action::Deliver`] (an error says why, for the report).
    pub fn on_delivered(&mut self, outcome: Result<(), String>) {
        if !matches!(self.next, Next::AwaitDelivery) {
            return;
        }
        self.next = match (outcome, &self.created) {
            (Ok(()), Some(key)) => {
                let record = NewKeyRecord {
                    id: key.id.clone(),
                    api_key: key.api_key.clone(),
                };
                self.journal.new_key = Some(record.clone());
                self.journal.stage = Stage::Delivered;
                Next::Record(
                    Event::Delivered {
                        key_id: record.id,
                        api_key: record.api_key,
                    },
                    Box::new(Next::SetAllowList),
                )
            }
            (Ok(()), None) => Next::Failed(RotationError::Delivery("no key to deliver".into())),
            // The caller showed the secret: keep the key, so that what it showed stays good.
            (Err(reason), Some(key)) => {
                let record = NewKeyRecord {
                    id: key.id.clone(),
                    api_key: key.api_key.clone(),
                };
                self.journal.new_key = Some(record.clone());
                self.journal.stage = Stage::SecretShown;
                self.journal.secret_shown = true;
                Next::Record(
                    Event::SecretShown {
                        key_id: record.id,
                        api_key: record.api_key,
                    },
                    Box::new(Next::Failed(RotationError::Delivery(reason))),
                )
            }
            (Err(reason), None) => Next::Failed(RotationError::Delivery(reason)),
        };
    }

    /// **Input**: the outcome of [`Action::Withdraw`].
    pub fn on_withdrawn(&mut self, outcome: Result<(), String>) {
        if matches!(self.next, Next::AwaitWithdraw) {
            self.next = match outcome {
                Ok(()) => Next::Create,
                Err(reason) => Next::Failed(RotationError::Withdraw(reason)),
            };
        }
    }

    /// **Input**: the outcome of [`Action::Check`].
    pub fn on_checked(&mut self, outcome: Result<(), String>) {
        if matches!(self.next, Next::AwaitCheck) {
            self.next = match outcome {
                Ok(()) => self.checked(true),
                Err(reason) => Next::Failed(RotationError::Check(reason)),
            };
        }
    }

    fn checked(&mut self, checked: bool) -> Next {
        self.journal.stage = Stage::Checked;
        self.journal.checked = checked;
        Next::Record(Event::Checked { checked }, Box::new(Next::ListBeforeDelete))
    }

    fn finished(&mut self, old_deleted: bool) -> Next {
        self.journal.stage = Stage::Done;
        self.journal.old_deleted = old_deleted;
        Next::Record(Event::Finished { old_deleted }, Box::new(Next::Done))
    }

    fn list(&self) -> KeyCall {
        KeyCall::List(ListApiUserKeys::new(&self.journal.user_id))
    }

    fn failed(step: &'static str, source: Error) -> Next {
        Next::Failed(RotationError::Call { step, source })
    }
}

impl Workflow for Rotation {
    type Pause = Action;

    fn poll(&mut self) -> Poll<Action> {
        let journal = &self.journal;
        match std::mem::replace(&mut self.next, Next::Over) {
            next @ (Next::ReadOld | Next::ReconcileList | Next::ListBeforeDelete) => {
                self.next = next;
                Poll::Call(self.list())
            }
            Next::DeleteOrphans(ids) => match ids.first() {
                Some(id) => {
                    let call = DeleteApiUserKey::new(&journal.user_id, id);
                    self.next = Next::DeleteOrphans(ids);
                    Poll::Call(KeyCall::Delete(call))
                }
                None => {
                    self.next = Next::Withdraw;
                    self.poll()
                }
            },
            Next::Withdraw => {
                self.next = Next::AwaitWithdraw;
                Poll::Pause(Action::Withdraw)
            }
            Next::Create => {
                self.next = Next::Create;
                Poll::Call(KeyCall::Create(CreateApiUserKey::new(&journal.user_id)))
            }
            Next::Deliver => {
                self.next = Next::AwaitDelivery;
                Poll::Pause(Action::Deliver)
            }
            Next::Record(event, then) => {
                self.next = Next::AwaitRecord(then);
                Poll::Pause(Action::Record(event))
            }
            Next::SetAllowList => {
                let Some(new) = &journal.new_key else {
                    self.next = Next::Over;
                    return Poll::Pause(Action::Failed(RotationError::Journal(
                        "stage delivered without a new key".into(),
                    )));
                };
                if journal.old_whitelisted_ips.is_empty() {
                    // A new key has no allow-list; an empty update is refused by some servers.
                    self.journal.stage = Stage::AllowListSet;
                    self.next = Next::Record(
                        Event::AllowListSet {
                            whitelisted_ips: Vec::new(),
                        },
                        Box::new(Next::Check),
                    );
                    return self.poll();
                }
                let call = UpdateApiUserKey::new(&journal.user_id, &new.id)
                    .whitelisted_ips(&journal.old_whitelisted_ips);
                self.next = Next::SetAllowList;
                Poll::Call(KeyCall::Update(call))
            }
            Next::Check => match (&journal.new_key, self.options.check) {
                (Some(new), true) => {
                    let api_key = new.api_key.clone();
                    self.next = Next::AwaitCheck;
                    Poll::Pause(Action::Check { api_key })
                }
                (_, false) => {
                    self.next = self.checked(false);
                    self.poll()
                }
                (None, true) => {
                    self.next = Next::Over;
                    Poll::Pause(Action::Failed(RotationError::Journal(
                        "no new key to check".into(),
                    )))
                }
            },
            Next::DeleteOld => {
                let call = DeleteApiUserKey::new(&journal.user_id, &journal.old_key_id);
                self.next = Next::DeleteOld;
                Poll::Call(KeyCall::Delete(call))
            }
            Next::Done => match journal.new_key.clone() {
                Some(new) => Poll::Pause(Action::Done(new)),
                None => Poll::Pause(Action::Failed(RotationError::Journal(
                    "done without a new key".into(),
                ))),
            },
            Next::Failed(error) => Poll::Pause(Action::Failed(error)),
            next @ (Next::AwaitWithdraw
            | Next::AwaitDelivery
            | Next::AwaitRecord(_)
            | Next::AwaitCheck
            | Next::Over) => {
                self.next = next;
                Poll::Pause(Action::Failed(RotationError::Journal(
                    "polled again without answering the last action".into(),
                )))
            }
        }
    }

    fn on_reply(&mut self, reply: Result<KeyReply, Error>) {
        let next = std::mem::replace(&mut self.next, Next::Over);
        self.next = match (next, reply) {
            (Next::ReadOld, Ok(KeyReply::Listed(keys))) => self.read_old(&keys),
            (Next::ReadOld, Err(e)) => {
                Self::failed("reading the old key (ListPrimeApiUserKeys)", e)
            }
            (Next::ReconcileList, Ok(KeyReply::Listed(keys))) => {
                let orphans = keys
                    .into_iter()
                    .map(|k| k.id)
                    .filter(|id| !self.journal.keys_before.contains(id))
                    .collect();
                Next::DeleteOrphans(orphans)
            }
            (Next::ReconcileList, Err(e)) => {
                Self::failed("listing the keys to resume (ListPrimeApiUserKeys)", e)
            }
            (Next::DeleteOrphans(mut ids), Ok(KeyReply::Deleted(_))) if !ids.is_empty() => {
                let key_id = ids.remove(0);
                self.journal.deleted_orphans.push(key_id.clone());
                Next::Record(
                    Event::OrphanDeleted { key_id },
                    Box::new(Next::DeleteOrphans(ids)),
                )
            }
            (Next::DeleteOrphans(_), Err(e)) => {
                Self::failed("deleting an orphaned key (DeletePrimeApiUserKey)", e)
            }
            (Next::Create, Ok(KeyReply::Created(key))) => {
                self.created = Some(*key);
                Next::Deliver
            }
            // An odd reply that still carries the key (`ResponseError::KeyCreated`): deliver it
            // rather than leave an orphan for the rerun to delete.
            (Next::Create, Err(e)) if salvaged(&e).is_some() => {
                self.created = salvaged(&e);
                Next::Deliver
            }
            // The journal still says `Creating`: a rerun lists the keys and deletes the key
            // this creation may have made.
            (Next::Create, Err(e)) => {
                Self::failed("creating the new key (CreatePrimeApiUserKey)", e)
            }
            (Next::SetAllowList, Ok(KeyReply::Updated(updated))) => {
                self.journal.stage = Stage::AllowListSet;
                Next::Record(
                    Event::AllowListSet {
                        whitelisted_ips: updated.whitelisted_ips,
                    },
                    Box::new(Next::Check),
                )
            }
            (Next::SetAllowList, Err(e)) => {
                Self::failed("setting the allow-list (UpdatePrimeApiUserKey)", e)
            }
            (Next::ListBeforeDelete, Ok(KeyReply::Listed(keys))) => {
                let present = keys.iter().any(|k| k.id == self.journal.old_key_id);
                match (self.options.keep_old, present) {
                    (true, _) => self.finished(false),
                    (false, true) => Next::DeleteOld,
                    // Gone already: an earlier run's deletion went through.
                    (false, false) => self.finished(true),
                }
            }
            (Next::ListBeforeDelete, Err(e)) => Self::failed(
                "listing the keys before deleting the old one (ListPrimeApiUserKeys)",
                e,
            ),
            (Next::DeleteOld, Ok(KeyReply::Deleted(_))) => self.finished(true),
            (Next::DeleteOld, Err(e)) => {
                Self::failed("deleting the old key (DeletePrimeApiUserKey)", e)
            }
            (_, reply) => Self::failed("workflow", unexpected(&reply)),
        };
    }
}

impl Rotation {
    fn read_old(&mut self, keys: &[ApiUserKeyInfo]) -> Next {
        let Some(old) = keys.iter().find(|k| k.id == self.journal.old_key_id) else {
            return Next::Failed(RotationError::OldKeyNotFound {
                key_id: self.journal.old_key_id.clone(),
            });
        };
        self.journal.old_whitelisted_ips = old.whitelisted_ips.clone();
        self.journal.keys_before = keys.iter().map(|k| k.id.clone()).collect();
        self.journal.stage = Stage::Creating;
        Next::Record(
            Event::OldKeyRead {
                whitelisted_ips: old.whitelisted_ips.clone(),
            },
            Box::new(Next::Create),
        )
    }
}

/// The created key a broken reply still carries, when it names the key's id and public key
/// beside the secret (without them the rotation could not find the key again).
fn salvaged(error: &Error) -> Option<CreatedApiUserKey> {
    let key = error.response()?.salvaged_key()?;
    let mut created = CreatedApiUserKey::new(key.id()?, key.api_key()?, key.api_secret().clone());
    key.user_id()
        .unwrap_or_default()
        .clone_into(&mut created.user_id);
    Some(created)
}
