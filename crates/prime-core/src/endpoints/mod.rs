//! The 13 Prime REST endpoints: one request type each, with its result type.
//!
//! Field names follow the API exactly, oddities included: the key list calls the public key
//! `key` where create/update call it `api_key`; `GetPrimeApiUser` wraps the user in `data`;
//! requests take one `role`, users carry a list of `roles`. Unset optional request fields are
//! omitted from the body. Closed string sets are enums that keep unknown values, and every
//! result type keeps unknown fields in `extra`.

mod argument;
mod endpoint;
mod keys;
mod permission;
mod settlement;
mod shape;
mod table;
mod users;

pub use argument::ArgumentError;
pub use endpoint::{Endpoint, Idempotency};
pub use keys::*;
pub use permission::{Permission, PermissionParseError};
pub use settlement::*;
pub use shape::{Data, Extra};
pub(crate) use table::ENDPOINT_PATHS;
pub use users::*;
