//! Key creation that names, or deletes, the orphans an unknown outcome leaves.

use std::fmt;

use crate::endpoints::ArgumentError;
use crate::endpoints::{
    ApiUserKeyInfo, CreateApiUserKey, CreatedApiUserKey, DeleteApiUserKey, ListApiUserKeys,
};
use crate::transport::Error;

use super::machine::{KeyCall, KeyReply, Poll, Workflow, unexpected};

/// What [`ReconciledCreate`] and [`ReconcileKeys`] do with orphans they find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrphanPolicy {
    /// Name them in [`CreateKeyError::Orphaned`]; delete nothing.
    Report,
    /// Delete them. A creation then tries once more; if that one's outcome is unknown too,
    /// its orphans are deleted as well and the error says no key is left.
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
    /// once more. `orphan` and `remaining` are still live, their secrets lost: delete them.
    DeleteOrphan {
        /// The orphan that could not be deleted (boxed to keep this error small).
        orphan: Box<ApiUserKeyInfo>,
        /// The deletion's failure (boxed to keep this error small).
        source: Box<Error>,
        /// Further orphans not yet deleted (usually none).
        remaining: Vec<ApiUserKeyInfo>,
    },
    /// The creation's outcome was unknown and it was reconciled: `orphans` are keys that
    /// appeared between the listings and are **still live** with their secret lost (delete
    /// them); `deleted` are orphans already deleted. No orphans left means no key of this
    /// creation exists: it is safe to create again.
    Orphaned {
        /// What stopped the creation: the creation's failure, or a deletion's (boxed to keep
        /// this error small).
        source: Box<Error>,
        /// Keys that appeared between the listings and are not deleted.
        orphans: Vec<ApiUserKeyInfo>,
        /// Orphans deleted.
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

impl CreateKeyError {
    /// The failure that stopped the creation (for [`Error::kind`] and the other one-step
    /// predicates).
    pub fn error(&self) -> &Error {
        match self {
            Self::Call(error) | Self::ListBefore(error) => error,
            Self::Orphaned { source, .. }
            | Self::Unreconciled { source, .. }
            | Self::DeleteOrphan { source, .. } => source,
        }
    }

    /// Live keys whose secret nobody has, named by the reconciliation: delete them.
    pub fn orphans(&self) -> impl Iterator<Item = &ApiUserKeyInfo> + '_ {
        let (first, rest): (Option<&ApiUserKeyInfo>, &[ApiUserKeyInfo]) = match self {
            Self::Orphaned { orphans, .. } => (None, orphans),
            Self::DeleteOrphan {
                orphan, remaining, ..
            } => (Some(orphan), remaining),
            _ => (None, &[]),
        };
        first.into_iter().chain(rest)
    }

    /// The user's key ids listed before the creation, when the outcome could not be
    /// reconciled: hand them to a later reconciliation (the clients'
    /// `reconcile_api_user_keys`, or [`ReconcileKeys`]).
    pub fn known_before(&self) -> Option<&[String]> {
        match self {
            Self::Unreconciled { before, .. } => Some(before),
            _ => None,
        }
    }

    /// Whether calling the creation again is safe now: no key of this creation is left
    /// behind unnamed (nothing was executed, or every orphan was deleted).
    pub fn is_safe_to_retry(&self) -> bool {
        match self {
            Self::Call(error) => {
                !error.is_outcome_unknown()
                    && error.kind() != crate::transport::ErrorKind::KeyCreated
            }
            Self::ListBefore(_) => true,
            Self::Orphaned { orphans, .. } => orphans.is_empty(),
            Self::Unreconciled { .. } | Self::DeleteOrphan { .. } => false,
        }
    }
}

impl fmt::Display for CreateKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids = |keys: &[ApiUserKeyInfo]| {
            keys.iter()
                .map(|k| k.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Self::Call(error) => error.fmt(f),
            Self::ListBefore(error) => write!(
                f,
                "ListPrimeApiUserKeys (before the creation) failed: {error}; no creation was \
                 sent, so no key was created"
            ),
            Self::DeleteOrphan {
                orphan,
                source,
                remaining,
            } => {
                write!(
                    f,
                    "DeletePrimeApiUserKey of the orphan {} failed: {source}; the key was not \
                     created again",
                    orphan.id
                )?;
                if !remaining.is_empty() {
                    write!(f, "; the orphan(s) {} are still live too", ids(remaining))?;
                }
                Ok(())
            }
            Self::Orphaned {
                source,
                orphans,
                deleted,
            } if orphans.is_empty() && deleted.is_empty() => write!(
                f,
                "{source}; the user's keys did not change, so no key was created: it is safe \
                 to create the key again"
            ),
            Self::Orphaned {
                source,
                orphans,
                deleted,
            } if orphans.is_empty() => write!(
                f,
                "{source}; the orphaned key(s) {} it left were deleted, so no key of this \
                 creation exists: it is safe to create the key again",
                ids(deleted)
            ),
            Self::Orphaned {
                source, orphans, ..
            } => write!(
                f,
                "{source}; key(s) {} appeared meanwhile and are live with their secret lost: \
                 delete them (`delete_api_user_key`) before creating another",
                ids(orphans)
            ),
            Self::Unreconciled { source, list, .. } => write!(
                f,
                "{source}; listing the keys afterwards failed too ({list}): a key whose secret \
                 is lost may exist; reconcile later with the key ids known before \
                 (`reconcile_api_user_keys`)"
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

    /// With orphans left, deletes the next; without, creates once more, or after the second
    /// attempt stops: no key of this creation is left, and the error says so rather than
    /// loop.
    fn delete_or_retry(&mut self, source: Error, orphans: Vec<ApiUserKeyInfo>) {
        if !orphans.is_empty() {
            self.state = ReconcileState::DeleteOrphans(source, orphans);
        } else if !self.retried {
            self.retried = true;
            self.state = ReconcileState::Create;
        } else {
            let deleted = std::mem::take(&mut self.deleted);
            self.finish(Err(CreateKeyError::Orphaned {
                source: Box::new(source),
                orphans,
                deleted,
            }));
        }
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
                None => Poll::Pause(Err(CreateKeyError::Call(Error::InvalidArgument(
                    ArgumentError::new("workflow", "no orphan left to delete"),
                )))),
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
                if self.policy == OrphanPolicy::Delete {
                    self.delete_or_retry(source, orphans);
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
                self.delete_or_retry(source, orphans);
            }
            // A deletion failed: that orphan and any after it are still live, and named.
            (ReconcileState::DeleteOrphans(_, mut orphans), Err(error)) if !orphans.is_empty() => {
                let orphan = Box::new(orphans.remove(0));
                self.finish(Err(CreateKeyError::DeleteOrphan {
                    orphan,
                    source: Box::new(error),
                    remaining: orphans,
                }));
            }
            (_, reply) => {
                let error = unexpected(&reply);
                self.finish(Err(CreateKeyError::Call(error)));
            }
        }
    }
}

/// What [`ReconcileKeys`] found: the keys not known before, deleted or still live.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Reconciliation {
    /// Keys not known before that are still live (all of them with [`OrphanPolicy::Report`]).
    pub orphans: Vec<ApiUserKeyInfo>,
    /// Keys not known before that were deleted (with [`OrphanPolicy::Delete`]).
    pub deleted: Vec<ApiUserKeyInfo>,
}

#[derive(Debug)]
enum ReconcileKeysState {
    List,
    Delete(Vec<ApiUserKeyInfo>),
    Finished(Result<Reconciliation, CreateKeyError>),
    Taken,
}

/// A reconciliation after the fact: lists a user's keys and names (or deletes) every key not
/// among the ids known before a creation whose outcome was unknown. What a caller does who
/// holds only the unknown-outcome error and the key ids it knew before (for instance from
/// [`CreateKeyError::known_before`], or its own records). Its pause is its result.
///
/// The same limit as [`ReconciledCreate`]: a key someone else created for the user since is
/// not known before either.
///
/// ```
/// use prime_core::endpoints::ApiUserKeyInfo;
/// use prime_core::workflow::{KeyCall, KeyReply, OrphanPolicy, Poll, ReconcileKeys, Workflow};
///
/// let key = |id: &str| -> ApiUserKeyInfo {
///     serde_json::from_value(serde_json::json!({"id": id, "key": format!("K{id}")})).unwrap()
/// };
/// let mut reconcile = ReconcileKeys::new("U1", ["A"], OrphanPolicy::Delete);
/// assert!(matches!(reconcile.poll(), Poll::Call(KeyCall::List(_))));
/// reconcile.on_reply(Ok(KeyReply::Listed(vec![key("A"), key("B")])));
/// let Poll::Call(KeyCall::Delete(delete)) = reconcile.poll() else { panic!() };
/// assert_eq!(delete.key_id, "B");
/// let deleted = serde_json::from_value(serde_json::json!({"deleted": true})).unwrap();
/// reconcile.on_reply(Ok(KeyReply::Deleted(deleted)));
/// let Poll::Pause(Ok(found)) = reconcile.poll() else { panic!() };
/// assert_eq!(found.deleted[0].id, "B");
/// assert!(found.orphans.is_empty());
/// ```
#[derive(Debug)]
pub struct ReconcileKeys {
    user_id: String,
    policy: OrphanPolicy,
    before: Vec<String>,
    deleted: Vec<ApiUserKeyInfo>,
    state: ReconcileKeysState,
}

impl ReconcileKeys {
    /// A reconciliation of `user_id`'s keys against the key ids `known_before`.
    pub fn new<I: Into<String>>(
        user_id: impl Into<String>,
        known_before: impl IntoIterator<Item = I>,
        policy: OrphanPolicy,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            policy,
            before: known_before.into_iter().map(Into::into).collect(),
            deleted: Vec::new(),
            state: ReconcileKeysState::List,
        }
    }

    fn finish(&mut self, result: Result<Reconciliation, CreateKeyError>) {
        self.state = ReconcileKeysState::Finished(result);
    }

    fn delete_next(&mut self, orphans: Vec<ApiUserKeyInfo>) {
        if orphans.is_empty() {
            let deleted = std::mem::take(&mut self.deleted);
            self.finish(Ok(Reconciliation { orphans, deleted }));
        } else {
            self.state = ReconcileKeysState::Delete(orphans);
        }
    }
}

impl Workflow for ReconcileKeys {
    type Pause = Result<Reconciliation, CreateKeyError>;

    fn poll(&mut self) -> Poll<Self::Pause> {
        match &self.state {
            ReconcileKeysState::List => {
                Poll::Call(KeyCall::List(ListApiUserKeys::new(&self.user_id)))
            }
            ReconcileKeysState::Delete(orphans) => match orphans.first() {
                Some(orphan) => Poll::Call(KeyCall::Delete(DeleteApiUserKey::new(
                    &self.user_id,
                    &orphan.id,
                ))),
                None => Poll::Pause(Err(CreateKeyError::Call(Error::InvalidArgument(
                    ArgumentError::new("workflow", "no orphan left to delete"),
                )))),
            },
            ReconcileKeysState::Finished(_) | ReconcileKeysState::Taken => {
                match std::mem::replace(&mut self.state, ReconcileKeysState::Taken) {
                    ReconcileKeysState::Finished(result) => Poll::Pause(result),
                    _ => Poll::Pause(Err(CreateKeyError::Call(Error::InvalidArgument(
                        ArgumentError::new("workflow", "already finished"),
                    )))),
                }
            }
        }
    }

    fn on_reply(&mut self, reply: Result<KeyReply, Error>) {
        let state = std::mem::replace(&mut self.state, ReconcileKeysState::Taken);
        match (state, reply) {
            (ReconcileKeysState::List, Ok(KeyReply::Listed(keys))) => {
                let orphans: Vec<ApiUserKeyInfo> = keys
                    .into_iter()
                    .filter(|k| !self.before.contains(&k.id))
                    .collect();
                match self.policy {
                    OrphanPolicy::Delete => self.delete_next(orphans),
                    OrphanPolicy::Report => self.finish(Ok(Reconciliation {
                        orphans,
                        deleted: Vec::new(),
                    })),
                }
            }
            (ReconcileKeysState::Delete(mut orphans), Ok(KeyReply::Deleted(_)))
                if !orphans.is_empty() =>
            {
                self.deleted.push(orphans.remove(0));
                self.delete_next(orphans);
            }
            (ReconcileKeysState::Delete(mut orphans), Err(error)) if !orphans.is_empty() => {
                let orphan = Box::new(orphans.remove(0));
                self.finish(Err(CreateKeyError::DeleteOrphan {
                    orphan,
                    source: Box::new(error),
                    remaining: orphans,
                }));
            }
            (_, reply) => {
                let error = match reply {
                    Err(error) => error,
                    ok => unexpected(&ok),
                };
                self.finish(Err(CreateKeyError::Call(error)));
            }
        }
    }
}
