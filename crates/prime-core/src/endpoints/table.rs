//! The endpoint list, written once.
//!
//! [`for_each_endpoint!`](crate::for_each_endpoint) hands the table of the 13 endpoints to a
//! macro of the caller's. Every place an endpoint touches, and whether the table feeds it:
//!
//! | place | how |
//! | --- | --- |
//! | the request and result types, with `endpoint!(Type, "Name", Idempotency, Result[, Permission])` (`endpoints/users.rs`, `keys.rs`, `settlement.rs`) | written by hand |
//! | the row here | written by hand |
//! | both clients' typed methods (`client_methods!`) | from the table |
//! | the request builder's path table (`ENDPOINT_PATHS`) | from the table |
//! | the simulator's method list, dispatch and permission check (prime-mock's `account.rs`); its handler, named like the row's method | from the table; a missing handler does not compile |
//! | the fuzz targets' method list and response types (`fuzz/src/lib.rs`) | from the table |
//! | the endpoint benches (`benches/benches/endpoints.rs`) | from the table; its spec example in `benches/src/lib.rs` by hand |
//! | the `prime` subcommand (prime-cli's `cli.rs` and `api.rs`) | by hand |
//! | the tests written from the spec, not from the code: the pinned signature (`tests/it/golden.rs`), the permission matrix (prime-mock's `tests/it/permissions.rs`) | by hand, on purpose |
//! | the spec (`docs/spec/prime-rest.openapi.yaml`) and the endpoint table of `docs/library.md` | by hand |
//!
//! `docs/architecture.md` has the same list as a checklist for adding an endpoint.

/// Calls `$callback! { ($($extra)*) <rows> }` with one row per Prime REST endpoint:
///
/// ```text
/// /// docs
/// RequestType as method_name(arg: Type, ...) -> Output = <request expression> => |result| <output expression>;
/// ```
///
/// `RequestType` implements [`Endpoint`](super::Endpoint); the arguments are owned (ids and
/// names `impl Into<String>`, request types by value), so a client's methods can return
/// futures that own them; the request expression builds the request from them; the output expression
/// turns the endpoint's `Response` (bound to the name before it) into what a typed client
/// method returns. Every path in the rows is `$crate`-qualified.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_endpoint {
    ($($callback:tt)::+ ! ($($extra:tt)*)) => {
        $($callback)::+! { ($($extra)*)
            /// `CreatePrimeApiUser`: creates a user with `role`. Never resent once it may
            /// have reached the server.
            $crate::endpoints::CreateApiUser as create_api_user(name: impl ::std::convert::Into<::std::string::String>, role: $crate::endpoints::Role)
                -> $crate::endpoints::ApiUser
                = $crate::endpoints::CreateApiUser::new(name, role) => |user| user;
            /// `GetPrimeApiUser`: one user.
            $crate::endpoints::GetApiUser as get_api_user(user_id: impl ::std::convert::Into<::std::string::String>)
                -> $crate::endpoints::ApiUser
                = $crate::endpoints::GetApiUser::new(user_id) => |found| found.data;
            /// `ListPrimeApiUsers`: every user of the account.
            $crate::endpoints::ListApiUsers as list_api_users()
                -> ::std::vec::Vec<$crate::endpoints::ApiUser>
                = $crate::endpoints::ListApiUsers::new() => |list| list.data;
            /// `UpdatePrimeApiUser`: changes a user's name and/or status. Never resent once it
            /// may have reached the server.
            $crate::endpoints::UpdateApiUser as update_api_user(request: $crate::endpoints::UpdateApiUser)
                -> $crate::endpoints::ApiUser
                = request => |user| user;
            /// `UpdatePrimeApiUserRoles`: sets a user's role. Never resent once it may have
            /// reached the server.
            $crate::endpoints::UpdateApiUserRoles as update_api_user_roles(user_id: impl ::std::convert::Into<::std::string::String>, role: $crate::endpoints::Role)
                -> $crate::endpoints::ApiUser
                = $crate::endpoints::UpdateApiUserRoles::new(user_id, role) => |user| user;
            /// `CreatePrimeApiUserKey`: issues a key for a Prime API user; its secret is
            /// returned only here, once. Never resent once it may have reached the server.
            /// The clients' typed method for it is the orphan-reconciling workflow
            /// (`workflow_methods!`), not a single call.
            $crate::endpoints::CreateApiUserKey as create_api_user_key(user_id: impl ::std::convert::Into<::std::string::String>)
                -> $crate::endpoints::CreatedApiUserKey
                = $crate::endpoints::CreateApiUserKey::new(user_id) => |key| key;
            /// `ListPrimeApiUserKeys`: a user's keys, without secrets.
            $crate::endpoints::ListApiUserKeys as list_api_user_keys(user_id: impl ::std::convert::Into<::std::string::String>)
                -> ::std::vec::Vec<$crate::endpoints::ApiUserKeyInfo>
                = $crate::endpoints::ListApiUserKeys::new(user_id) => |list| list.data;
            /// `UpdatePrimeApiUserKey`: sets a key's IP allow-list. Never resent once it may
            /// have reached the server.
            $crate::endpoints::UpdateApiUserKey as update_api_user_key(request: $crate::endpoints::UpdateApiUserKey)
                -> $crate::endpoints::UpdatedApiUserKey
                = request => |key| key;
            /// `DeletePrimeApiUserKey`: deletes a key for good. Never resent once it may have
            /// reached the server.
            $crate::endpoints::DeleteApiUserKey as delete_api_user_key(user_id: impl ::std::convert::Into<::std::string::String>, key_id: impl ::std::convert::Into<::std::string::String>)
                -> $crate::endpoints::DeletedApiUserKey
                = $crate::endpoints::DeleteApiUserKey::new(user_id, key_id) => |deleted| deleted;
            /// `CreatePrimeSettlementBatch`: snapshots unsettled trades into a batch. Never
            /// resent once it may have reached the server.
            $crate::endpoints::CreateSettlementBatch as create_settlement_batch(request: $crate::endpoints::CreateSettlementBatch)
                -> $crate::endpoints::SettlementBatch
                = request => |created| created.batch;
            /// `GetPrimeSettlementBatch`: one batch with its legs; `asset_kind` is the
            /// documented optional filter (`None` sends none).
            $crate::endpoints::GetSettlementBatch as get_settlement_batch(batch_id: impl ::std::convert::Into<::std::string::String>, asset_kind: ::std::option::Option<$crate::endpoints::AssetKind>)
                -> $crate::endpoints::SettlementBatch
                = $crate::endpoints::GetSettlementBatch::new(batch_id).asset_kind(asset_kind) => |found| found.batch;
            /// `ListPrimeSettlementBatches`: a filtered page of batches.
            $crate::endpoints::ListSettlementBatches as list_settlement_batches(request: $crate::endpoints::ListSettlementBatches)
                -> $crate::endpoints::BatchList
                = request => |page| page;
            /// `SettlePrimeSettlementBatchAsset`: starts settling one asset's leg of a
            /// confirmed batch. Never resent once it may have reached the server.
            $crate::endpoints::SettleSettlementBatchAsset as settle_settlement_batch_asset(batch_id: impl ::std::convert::Into<::std::string::String>, asset: impl ::std::convert::Into<::std::string::String>)
                -> $crate::endpoints::SettlementTransfer
                = $crate::endpoints::SettleSettlementBatchAsset::new(batch_id, asset) => |settled| settled.transfer;
        }
    };
}

/// The signed path of every endpoint in the table, in table order.
macro_rules! endpoint_paths {
    (() $($(#[$doc:meta])* $endpoint:path as $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $make:expr => |$result:ident| $output:expr;)*) => {
        [$(<$endpoint as $crate::endpoints::Endpoint>::PATH),*]
    };
}

/// The signed paths of the endpoints in [`for_each_endpoint!`](crate::for_each_endpoint)'s
/// table, in its order.
pub(crate) const ENDPOINT_PATHS: &[&str] = &for_each_endpoint!(endpoint_paths!());
