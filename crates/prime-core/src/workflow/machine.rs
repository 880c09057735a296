//! The shape of every workflow: it asks for key calls and pauses for what only its caller
//! can do.

use crate::endpoints::ArgumentError;
use crate::endpoints::{
    ApiUserKeyInfo, CreateApiUserKey, CreatedApiUserKey, DeleteApiUserKey, DeletedApiUserKey,
    ListApiUserKeys, UpdateApiUserKey, UpdatedApiUserKey,
};
use crate::transport::Error;

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
