//! Workflows of several key calls as sans-IO state machines, and the orphan-reconciling key
//! creation.
//!
//! A workflow (a [`Workflow`]) asks for the next endpoint call with [`Poll::Call`] and is
//! given its outcome with [`Workflow::on_reply`]; anything else it needs (deliver a secret,
//! record its journal, check a key) it asks for with [`Poll::Pause`], for the caller to do.
//! Each client runs the calls with one generic method, `run_workflow`, written once by
//! [`workflow_methods!`](crate::workflow_methods): it sends every requested call through the
//! client's own `send` (so the call driver's retry rules apply to each) and returns at the
//! first pause. [`rotation`](crate::rotation) is the larger workflow.
//!
//! # Orphans
//!
//! `CreatePrimeApiUserKey` is never resent once it may have reached Kraken: a second send
//! could issue a second key. When its outcome is unknown (the connection broke after the
//! request left), a key may exist whose secret was never received — an *orphan*, live and
//! unusable by anyone. [`ReconciledCreate`] lists the user's keys before the creation and, on
//! an unknown outcome, again afterwards: every key that appeared in between is named as an
//! orphan ([`CreateKeyError::Orphaned`]). With [`OrphanPolicy::Delete`] it deletes them and
//! creates the key once more (one fresh attempt, never a loop).
//!
//! **The limit:** a key another administrator creates for the same user between the two
//! listings looks exactly like an orphan. That is why deleting orphans is opt-in.
//!
//! ```
//! use prime_core::endpoints::{ApiUserKeyInfo, CreatedApiUserKey};
//! use prime_core::workflow::{CreateKeyError, KeyCall, KeyReply, OrphanPolicy, Poll, ReconciledCreate, Workflow};
//! use prime_core::{Delivery, Error, TransportErrorKind, transport};
//!
//! let key = |id: &str| -> ApiUserKeyInfo {
//!     serde_json::from_value(serde_json::json!({"id": id, "key": format!("K{id}")})).unwrap()
//! };
//! let mut create = ReconciledCreate::new("U1", OrphanPolicy::Report);
//! // 1. the keys before
//! assert!(matches!(create.poll(), Poll::Call(KeyCall::List(_))));
//! create.on_reply(Ok(KeyReply::Listed(vec![key("A")])));
//! // 2. the creation, whose connection breaks after the request was sent
//! assert!(matches!(create.poll(), Poll::Call(KeyCall::Create(_))));
//! let unknown = transport::maybe_sent(TransportErrorKind::Io, "connection reset");
//! create.on_reply(Err(Error::Transport(unknown)));
//! // 3. the keys after: B appeared in between, and its secret is lost
//! assert!(matches!(create.poll(), Poll::Call(KeyCall::List(_))));
//! create.on_reply(Ok(KeyReply::Listed(vec![key("A"), key("B")])));
//! let Poll::Pause(Err(CreateKeyError::Orphaned { orphans, .. })) = create.poll() else { panic!() };
//! assert_eq!(orphans.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["B"]);
//! ```

use std::fmt;

use crate::endpoints::{
    ApiUserKeyInfo, CreateApiUserKey, CreatedApiUserKey, DeleteApiUserKey, DeletedApiUserKey,
    ListApiUserKeys, UpdateApiUserKey, UpdatedApiUserKey,
};
use crate::error::Error;
use crate::request::ArgumentError;

/// A key endpoint call a workflow asks for. Exhaustive: each client's `run_workflow` sends
/// every variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCall {
    /// `ListPrimeApiUserKeys`.
    List(ListApiUserKeys),
    /// `CreatePrimeApiUserKey`.
    Create(CreateApiUserKey),
    /// `UpdatePrimeApiUserKey`.
    Update(UpdateApiUserKey),
    /// `DeletePrimeApiUserKey`.
    Delete(DeleteApiUserKey),
}

/// The result of a [`KeyCall`], as the workflow consumes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum KeyReply {
    /// The user's keys.
    Listed(Vec<ApiUserKeyInfo>),
    /// The new key with its one-time secret.
    Created(Box<CreatedApiUserKey>),
    /// The updated key.
    Updated(UpdatedApiUserKey),
    /// The deletion's answer.
    Deleted(DeletedApiUserKey),
}

/// What a workflow wants next.
#[derive(Debug)]
pub enum Poll<P> {
    /// Send this call and pass its outcome to [`Workflow::on_reply`].
    Call(KeyCall),
    /// Something for the caller (which may be the end of the workflow).
    Pause(P),
}

/// A workflow of key calls, driven by a client's `run_workflow`.
pub trait Workflow {
    /// What the workflow hands to its caller instead of a call.
    type Pause;
    /// **Output**: the next thing to do.
    fn poll(&mut self) -> Poll<Self::Pause>;
    /// **Input**: the outcome of the call last asked for.
    fn on_reply(&mut self, reply: Result<KeyReply, Error>);
}

/// An error for a reply that does not fit the call asked for (only a caller that feeds a
/// workflow by hand can cause it).
pub(crate) fn unexpected(reply: &Result<KeyReply, Error>) -> Error {
    let what = match reply {
        Ok(KeyReply::Listed(_)) => "a key list",
        Ok(KeyReply::Created(_)) => "a created key",
        Ok(KeyReply::Updated(_)) => "an updated key",
        Ok(KeyReply::Deleted(_)) => "a deletion",
        Err(_) => "an error",
    };
    Error::InvalidArgument(ArgumentError::new(
        "reply",
        format!("{what} was not the reply to the call the workflow asked for"),
    ))
}

/// What [`ReconciledCreate`] does with orphans it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrphanPolicy {
    /// Name them in [`CreateKeyError::Orphaned`]; delete nothing.
    Report,
    /// Delete them, then create the key once more.
    Delete,
}

/// A key created by [`ReconciledCreate`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReconciledKey {
    /// The new key and its one-time secret.
    pub key: CreatedApiUserKey,
    /// Orphans deleted before this key was created (with [`OrphanPolicy::Delete`]).
    pub deleted_orphans: Vec<ApiUserKeyInfo>,
}

/// Why [`ReconciledCreate`] produced no key.
#[derive(Debug)]
#[non_exhaustive]
pub enum CreateKeyError {
    /// A call failed without leaving an orphan behind: the listing before the creation, the
    /// creation itself with a known outcome (a refusal, or a reply that may carry the secret:
    /// see [`ResponseError::salvaged_key`](crate::ResponseError::salvaged_key)), or the
    /// deletion of an orphan.
    Call(Error),
    /// The creation's outcome is unknown; `orphans` are the keys that appeared between the
    /// listings (their secrets are lost). Empty means no key was created. `deleted` are
    /// orphans of an earlier attempt already deleted.
    Orphaned {
        /// The creation's failure (boxed to keep this error small).
        source: Box<Error>,
        /// Keys that appeared between the listings.
        orphans: Vec<ApiUserKeyInfo>,
        /// Orphans deleted before the last attempt.
        deleted: Vec<ApiUserKeyInfo>,
    },
    /// The creation's outcome is unknown and listing the keys afterwards failed too: list
    /// them yourself and compare with `before` (the key ids before the creation).
    Unreconciled {
        /// The creation's failure.
        source: Box<Error>,
        /// The listing's failure.
        list: Box<Error>,
        /// The user's key ids before the creation.
        before: Vec<String>,
    },
}

impl fmt::Display for CreateKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Call(error) => error.fmt(f),
            Self::Orphaned {
                source, orphans, ..
            } if orphans.is_empty() => write!(
                f,
                "{source}; the user's keys did not change, so no key was created"
            ),
            Self::Orphaned {
                source, orphans, ..
            } => {
                let ids: Vec<&str> = orphans.iter().map(|k| k.id.as_str()).collect();
                write!(
                    f,
                    "{source}; key(s) {} appeared meanwhile: orphans whose secret is lost",
                    ids.join(", ")
                )
            }
            Self::Unreconciled { source, list, .. } => write!(
                f,
                "{source}; listing the keys afterwards failed too ({list}): a key whose secret \
                 is lost may exist"
            ),
        }
    }
}

impl std::error::Error for CreateKeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Call(error) => Some(error),
            Self::Orphaned { source, .. } | Self::Unreconciled { source, .. } => Some(&**source),
        }
    }
}

impl From<CreateKeyError> for Error {
    /// The underlying call error (the orphans are dropped).
    fn from(error: CreateKeyError) -> Self {
        match error {
            CreateKeyError::Call(error) => error,
            CreateKeyError::Orphaned { source, .. }
            | CreateKeyError::Unreconciled { source, .. } => *source,
        }
    }
}

#[derive(Debug)]
enum ReconcileState {
    ListBefore,
    Create,
    ListAfter(Error),
    DeleteOrphans(Error, Vec<ApiUserKeyInfo>),
    Finished(Result<ReconciledKey, CreateKeyError>),
    Taken,
}

/// `CreatePrimeApiUserKey` with orphan reconciliation: list, create, and on an unknown
/// outcome list again (see the [module docs](self)). Its pause is its result.
#[derive(Debug)]
pub struct ReconciledCreate {
    user_id: String,
    policy: OrphanPolicy,
    before: Vec<String>,
    deleted: Vec<ApiUserKeyInfo>,
    retried: bool,
    state: ReconcileState,
}

impl ReconciledCreate {
    /// A creation of a key for `user_id`.
    pub fn new(user_id: impl Into<String>, policy: OrphanPolicy) -> Self {
        Self {
            user_id: user_id.into(),
            policy,
            before: Vec::new(),
            deleted: Vec::new(),
            retried: false,
            state: ReconcileState::ListBefore,
        }
    }

    fn list(&self) -> KeyCall {
        KeyCall::List(ListApiUserKeys::new(&self.user_id))
    }

    fn finish(&mut self, result: Result<ReconciledKey, CreateKeyError>) {
        self.state = ReconcileState::Finished(result);
    }
}

impl Workflow for ReconciledCreate {
    type Pause = Result<ReconciledKey, CreateKeyError>;

    fn poll(&mut self) -> Poll<Self::Pause> {
        match &self.state {
            ReconcileState::ListBefore | ReconcileState::ListAfter(_) => Poll::Call(self.list()),
            ReconcileState::Create => {
                Poll::Call(KeyCall::Create(CreateApiUserKey::new(&self.user_id)))
            }
            ReconcileState::DeleteOrphans(_, orphans) => match orphans.first() {
                Some(orphan) => Poll::Call(KeyCall::Delete(DeleteApiUserKey::new(
                    &self.user_id,
                    &orphan.id,
                ))),
                None => {
                    self.retried = true;
                    self.state = ReconcileState::Create;
                    self.poll()
                }
            },
            ReconcileState::Finished(_) | ReconcileState::Taken => {
                match std::mem::replace(&mut self.state, ReconcileState::Taken) {
                    ReconcileState::Finished(result) => Poll::Pause(result),
                    _ => Poll::Pause(Err(CreateKeyError::Call(Error::InvalidArgument(
                        ArgumentError::new("workflow", "already finished"),
                    )))),
                }
            }
        }
    }

    fn on_reply(&mut self, reply: Result<KeyReply, Error>) {
        let state = std::mem::replace(&mut self.state, ReconcileState::Taken);
        match (state, reply) {
            (ReconcileState::ListBefore, Ok(KeyReply::Listed(keys))) => {
                self.before = keys.into_iter().map(|k| k.id).collect();
                self.state = ReconcileState::Create;
            }
            (ReconcileState::ListBefore, Err(error)) => {
                self.finish(Err(CreateKeyError::Call(error)))
            }
            (ReconcileState::Create, Ok(KeyReply::Created(key))) => {
                let deleted_orphans = std::mem::take(&mut self.deleted);
                self.finish(Ok(ReconciledKey {
                    key: *key,
                    deleted_orphans,
                }));
            }
            (ReconcileState::Create, Err(error)) if error.is_outcome_unknown() => {
                self.state = ReconcileState::ListAfter(error);
            }
            (ReconcileState::Create, Err(error)) => self.finish(Err(CreateKeyError::Call(error))),
            (ReconcileState::ListAfter(source), Ok(KeyReply::Listed(keys))) => {
                let orphans: Vec<ApiUserKeyInfo> = keys
                    .into_iter()
                    .filter(|k| !self.before.contains(&k.id))
                    .collect();
                if self.policy == OrphanPolicy::Delete && !self.retried {
                    self.state = ReconcileState::DeleteOrphans(source, orphans);
                } else {
                    let deleted = std::mem::take(&mut self.deleted);
                    self.finish(Err(CreateKeyError::Orphaned {
                        source: Box::new(source),
                        orphans,
                        deleted,
                    }));
                }
            }
            (ReconcileState::ListAfter(source), Err(list)) => {
                let before = std::mem::take(&mut self.before);
                self.finish(Err(CreateKeyError::Unreconciled {
                    source: Box::new(source),
                    list: Box::new(list),
                    before,
                }));
            }
            (ReconcileState::DeleteOrphans(source, mut orphans), Ok(KeyReply::Deleted(_)))
                if !orphans.is_empty() =>
            {
                let orphan = orphans.remove(0);
                self.deleted.push(orphan);
                self.state = ReconcileState::DeleteOrphans(source, orphans);
            }
            (ReconcileState::DeleteOrphans(..), Err(error)) => {
                self.finish(Err(CreateKeyError::Call(error)));
            }
            (_, reply) => {
                let error = unexpected(&reply);
                self.finish(Err(CreateKeyError::Call(error)));
            }
        }
    }
}

/// Writes a client's workflow methods inside its `impl` block (next to
/// [`client_methods!`](crate::client_methods)): `run_workflow`, which sends each call a
/// [`Workflow`] asks for through the client's own `send` until the workflow pauses, and
/// `create_api_user_key_reconciled` (a [`ReconciledCreate`]).
#[macro_export]
macro_rules! workflow_methods {
    (blocking) => {
        $crate::__workflow_methods!(() ());
    };
    (async) => {
        $crate::__workflow_methods!((async) (.await));
    };
}

/// The body of [`workflow_methods!`]. Not public API.
#[macro_export]
#[doc(hidden)]
macro_rules! __workflow_methods {
    (($($async:tt)*) ($($await:tt)*)) => {
        /// Runs `workflow` (see [`prime_core::workflow`](
        /// $crate::workflow)): sends each call it asks for through [`send`](Self::send), so
        /// the call driver's retry rules apply to each, and returns what the workflow asks of
        /// the caller next (its result, when it is done).
        pub $($async)* fn run_workflow<W: $crate::workflow::Workflow>(&self, workflow: &mut W) -> W::Pause {
            use $crate::workflow::{KeyCall, KeyReply, Poll};
            loop {
                let reply = match workflow.poll() {
                    Poll::Pause(pause) => return pause,
                    Poll::Call(KeyCall::List(call)) => self.send(&call)$($await)*.map(|r| KeyReply::Listed(r.result.data)),
                    Poll::Call(KeyCall::Create(call)) => self.send(&call)$($await)*.map(|r| KeyReply::Created(Box::new(r.result))),
                    Poll::Call(KeyCall::Update(call)) => self.send(&call)$($await)*.map(|r| KeyReply::Updated(r.result)),
                    Poll::Call(KeyCall::Delete(call)) => self.send(&call)$($await)*.map(|r| KeyReply::Deleted(r.result)),
                };
                workflow.on_reply(reply);
            }
        }

        /// `CreatePrimeApiUserKey` with orphan reconciliation (a
        /// [`ReconciledCreate`]($crate::workflow::ReconciledCreate)): lists the user's keys
        /// first; if the creation's outcome is unknown, lists them again and names every key
        /// that appeared as an orphan in
        /// [`CreateKeyError::Orphaned`]($crate::workflow::CreateKeyError::Orphaned). With
        /// [`OrphanPolicy::Delete`]($crate::workflow::OrphanPolicy::Delete) it deletes them
        /// and creates the key once more. A key another administrator creates for the user
        /// meanwhile looks the same: that is why deleting is opt-in.
        ///
        /// # Errors
        /// [`CreateKeyError`]($crate::workflow::CreateKeyError).
        pub $($async)* fn create_api_user_key_reconciled(
            &self,
            user_id: &str,
            policy: $crate::workflow::OrphanPolicy,
        ) -> ::std::result::Result<$crate::workflow::ReconciledKey, $crate::workflow::CreateKeyError> {
            self.run_workflow(&mut $crate::workflow::ReconciledCreate::new(user_id, policy))$($await)*
        }
    };
}
