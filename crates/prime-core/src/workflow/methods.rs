//! The workflow methods every client gets, written once.

/// Writes a client's workflow methods inside its `impl` block (next to
/// [`client_methods!`](crate::client_methods)): `run_workflow`, which sends each call a
/// [`Workflow`](crate::workflow::Workflow) asks for through the client's own `send` until the workflow pauses, and
/// `create_api_user_key_reconciled` (a [`ReconciledCreate`](crate::workflow::ReconciledCreate)).
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
