//! Workflows of several key calls as sans-IO state machines, and the orphan-reconciling key
//! creation.
//!
//! A workflow (a [`Workflow`]) asks for the next endpoint call with [`Poll::Call`] and is
//! given its outcome with [`Workflow::on_reply`]; anything else it needs (deliver a secret,
//! record its journal, check a key) it asks for with [`Poll::Pause`], for the caller to do.
//! Each client runs the calls with one generic method, `run_workflow`, written once by
//! [`workflow_methods!`](crate::workflow_methods): it sends every requested call through the
//! client's own `send` (so the call driver's retry rules apply to each) and returns at the
//! first pause. [`rotation`] is the larger workflow.
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

mod machine;
mod methods;
mod reconciled;
pub mod rotation;

pub use machine::{KeyCall, KeyReply, Poll, Workflow};
pub use reconciled::{
    CreateKeyError, OrphanPolicy, ReconcileKeys, ReconciledCreate, ReconciledKey, Reconciliation,
};
