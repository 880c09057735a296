//! The workflow methods every client gets, written once.

/// Writes a client's workflow methods inside its `impl` block (next to
/// [`client_methods!`](crate::client_methods)):
///
/// - `create_api_user_key(user_id)`: the key creation, orphan-safe — a
///   [`ReconciledCreate`](crate::workflow::ReconciledCreate) with
///   [`OrphanPolicy::Delete`](crate::workflow::OrphanPolicy::Delete);
/// - `create_api_user_key_reconciled(user_id, policy)`: the same with a chosen policy, and the
///   deleted orphans reported;
/// - `reconcile_api_user_keys(user_id, known_before, policy)`: a
///   [`ReconcileKeys`](crate::workflow::ReconcileKeys), for a caller who holds an unknown
///   outcome and the key ids it knew before;
/// - `run_workflow(&mut workflow)`, which sends each call a
///   [`Workflow`](crate::workflow::Workflow) asks for through the client's own `send` until
///   the workflow pauses.
///
/// In `async` mode the first three return `Send + 'static` futures that own a clone of the
/// client, as the typed methods do.
#[macro_export]
macro_rules! workflow_methods {
    (blocking) => {
        $crate::__workflow_methods!(blocking () ());
    };
    (async) => {
        $crate::__workflow_methods!(async (async) (.await));
    };
}

/// The body of [`workflow_methods!`]. Not public API.
#[macro_export]
#[doc(hidden)]
macro_rules! __workflow_methods {
    ($mode:tt ($($async:tt)*) ($($await:tt)*)) => {
        /// Runs `workflow` (see [`prime_core::workflow`](prime_core::workflow)): sends each
        /// call it asks for through [`send`](Self::send), so the call driver's retry rules
        /// apply to each, and returns what the workflow asks of the caller next (its result,
        /// when it is done).
        pub $($async)* fn run_workflow<W: prime_core::workflow::Workflow>(&self, workflow: &mut W) -> W::Pause {
            use $crate::workflow::{KeyCall, KeyReply, Poll};
            loop {
                let reply = match workflow.poll() {
                    Poll::Pause(pause) => return pause,
                    Poll::Call(KeyCall::List(call)) => self.send(call)$($await)*.map(|r| KeyReply::Listed(r.result.data)),
                    Poll::Call(KeyCall::Create(call)) => self.send(call)$($await)*.map(|r| KeyReply::Created(Box::new(r.result))),
                    Poll::Call(KeyCall::Update(call)) => self.send(call)$($await)*.map(|r| KeyReply::Updated(r.result)),
                    Poll::Call(KeyCall::Delete(call)) => self.send(call)$($await)*.map(|r| KeyReply::Deleted(r.result)),
                };
                workflow.on_reply(reply);
            }
        }

        $crate::__owned_method! {
            ($mode)
            /// `CreatePrimeApiUserKey`, orphan-safe: issues a key for a Prime API user and
            /// returns it with its one-time secret (store it at once: Kraken keeps no copy).
            ///
            /// A creation whose outcome is unknown (the connection broke, the deadline cut it
            /// off) may have made a key whose secret never arrived: an *orphan*, live and
            /// unusable. So this lists the user's keys first, and after an unknown outcome
            /// lists them again, deletes every key that appeared in between and creates the
            /// key once more. It ends with exactly one new key whose secret you hold, or with
            /// an error and no new key left unnamed
            /// ([`CreateKeyError::is_safe_to_retry`](prime_core::workflow::CreateKeyError::is_safe_to_retry)
            /// says whether calling again is safe; the message says what to do otherwise).
            ///
            /// The one risk of deleting: a key someone *else* creates for the same user in the
            /// moment between the two listings looks like an orphan. Where several
            /// administrators create keys for one user at once, use
            /// [`create_api_user_key_reconciled`](Self::create_api_user_key_reconciled) with
            /// [`OrphanPolicy::Report`](prime_core::workflow::OrphanPolicy::Report).
            ///
            /// # Errors
            /// [`CreateKeyError`](prime_core::workflow::CreateKeyError): a refusal
            /// (`Call`), orphans left or deleted (`Orphaned`), or an unknown outcome that
            /// could not be listed (`Unreconciled`, with the key ids known before, for
            /// [`reconcile_api_user_keys`](Self::reconcile_api_user_keys)).
            create_api_user_key(user_id: impl ::std::convert::Into<::std::string::String>)
                -> ::std::result::Result<$crate::endpoints::CreatedApiUserKey, $crate::workflow::CreateKeyError>
            {
                let mut workflow = $crate::workflow::ReconciledCreate::new(
                    user_id,
                    $crate::workflow::OrphanPolicy::Delete,
                );
            }
            |client| { client.run_workflow(&mut workflow)$($await)*.map(|created| created.key) }
        }

        $crate::__owned_method! {
            ($mode)
            /// `CreatePrimeApiUserKey` with orphan reconciliation under a chosen
            /// [`OrphanPolicy`](prime_core::workflow::OrphanPolicy) (see
            /// [`ReconciledCreate`](prime_core::workflow::ReconciledCreate)): with `Delete`
            /// it is [`create_api_user_key`](Self::create_api_user_key) that also reports the
            /// orphans it deleted; with `Report` the orphans are only named, in
            /// [`CreateKeyError::Orphaned`](prime_core::workflow::CreateKeyError::Orphaned).
            ///
            /// # Errors
            /// [`CreateKeyError`](prime_core::workflow::CreateKeyError).
            create_api_user_key_reconciled(
                user_id: impl ::std::convert::Into<::std::string::String>,
                policy: $crate::workflow::OrphanPolicy
            ) -> ::std::result::Result<$crate::workflow::ReconciledKey, $crate::workflow::CreateKeyError>
            {
                let mut workflow = $crate::workflow::ReconciledCreate::new(user_id, policy);
            }
            |client| { client.run_workflow(&mut workflow)$($await)* }
        }

        $crate::__owned_method! {
            ($mode)
            /// Reconciles a user's keys after the fact (a
            /// [`ReconcileKeys`](prime_core::workflow::ReconcileKeys)): lists them and names
            /// — or, with [`OrphanPolicy::Delete`](prime_core::workflow::OrphanPolicy::Delete),
            /// deletes — every key not among `known_before`. For a caller holding an
            /// unknown-outcome error from a creation (e.g. a single-shot
            /// `send(CreateApiUserKey::new(..))`, or
            /// [`CreateKeyError::known_before`](prime_core::workflow::CreateKeyError::known_before))
            /// and the key ids it knew before it.
            ///
            /// # Errors
            /// [`CreateKeyError::Call`](prime_core::workflow::CreateKeyError::Call) if the
            /// listing fails, [`CreateKeyError::Orphaned`](prime_core::workflow::CreateKeyError::Orphaned)
            /// naming the orphans still live if a deletion fails.
            reconcile_api_user_keys(
                user_id: impl ::std::convert::Into<::std::string::String>,
                known_before: impl ::std::iter::IntoIterator<Item = ::std::string::String>,
                policy: $crate::workflow::OrphanPolicy
            ) -> ::std::result::Result<$crate::workflow::Reconciliation, $crate::workflow::CreateKeyError>
            {
                let mut workflow = $crate::workflow::ReconcileKeys::new(user_id, known_before, policy);
            }
            |client| { client.run_workflow(&mut workflow)$($await)* }
        }
    };
}
