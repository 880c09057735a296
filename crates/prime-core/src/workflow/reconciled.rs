//! Key creation that names, or deletes, the orphans an unknown outcome leaves.

use std::fmt;

use crate::endpoints::ArgumentError;
use crate::endpoints::{
    ApiUserKeyInfo, CreateApiUserKey, CreatedApiUserKey, DeleteApiUserKey, ListApiUserKeys,
};
use crate::transport::Error;

use super::machine::{KeyCall, KeyReply, Poll, Workflow, unexpected};

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
    /// The creation failed with a known outcome (a refusal, or a reply that may carry the
    /// secret: see [`ResponseError::salvaged_key`](crate::ResponseError::salvaged_key)).
    Call(Error),
    /// Listing the user's keys before the creation failed: no creation was sent.
    ListBefore(Error),
    /// Deleting an orphan (with [`OrphanPolicy::Delete`]) failed: the key was not created
    /// once more.
    DeleteOrphan {
        /// The orphan that could not be deleted (boxed to keep this error small).
        orphan: Box<ApiUserKeyInfo>,
        /// The deletion's failure (boxed to keep this error small).
        source: Box<Error>,
    },
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
            Self::ListBefore(error) => write!(
                f,
                "ListPrimeApiUserKeys (before the creation) failed: {error}; no creation was \
                 sent, so no key was created"
            ),
            Self::DeleteOrphan { orphan, source } => write!(
                f,
                "DeletePrimeApiUserKey of the orphan {} failed: {source}; the key was not \
                 created again",
                orphan.id
            ),
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
            Self::Call(error) | Self::ListBefore(error) => Some(error),
            Self::Orphaned { source, .. }
            | Self::Unreconciled { source, .. }
            | Self::DeleteOrphan { source, .. } => Some(&**source),
        }
    }
}

impl From<CreateKeyError> for Error {
    /// The underlying call error (the orphans are dropped).
    fn from(error: CreateKeyError) -> Self {
        match error {
            CreateKeyError::Call(error) | CreateKeyError::ListBefore(error) => error,
            CreateKeyError::Orphaned { source, .. }
            | CreateKeyError::Unreconciled { source, .. }
            | CreateKeyError::DeleteOrphan { source, .. } => *source,
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
/// outcome list again (see the [module docs](crate::workflow)). Its pause is its result.
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
                self.finish(Err(CreateKeyError::ListBefore(error)))
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
            (ReconcileState::DeleteOrphans(_, mut orphans), Err(error)) if !orphans.is_empty() => {
                self.finish(Err(CreateKeyError::DeleteOrphan {
                    orphan: Box::new(orphans.remove(0)),
                    source: Box::new(error),
                }));
            }
            (_, reply) => {
                let error = unexpected(&reply);
                self.finish(Err(CreateKeyError::Call(error)));
            }
        }
    }
}
