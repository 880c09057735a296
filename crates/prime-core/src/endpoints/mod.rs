//! The 13 Prime REST endpoints: one request type each, with its result type.
//!
//! # Naming
//!
//! **One name per thing, in every type.** A Rust field is named for what it holds, and the
//! same thing has the same name wherever it appears: the public key is `api_key`, a status is
//! `status`, an amount `amount`. Where Kraken's JSON spells a member otherwise (the key list's
//! `key`, a transfer's `transfer_status` / `transfer_amount` / `transfer_asset`), serde
//! renames it and the field's doc names the wire spelling, so bodies stay byte-for-byte
//! Kraken's. Everything else is the JSON member's own name. Shapes follow the API:
//! `GetPrimeApiUser` wraps the user in `data`; requests take one `role`, users carry a list
//! of `roles`.
//!
//! **Requests are built, results are read.** Each request has a constructor taking its
//! required fields and one setter per optional field (`ListSettlementBatches::new().limit(10)`);
//! unset optional fields are omitted from the body. Closed string sets are enums that keep
//! unknown values, and every result type keeps unknown fields in `extra`. A one-time secret is
//! never a public field: it is read through an `api_secret()` accessor.

mod argument;
mod endpoint;
mod keys;
mod settlement;
mod shape;
mod table;
mod users;

pub use argument::ArgumentError;
pub use endpoint::{Endpoint, Idempotency};
pub use keys::*;
pub use settlement::*;
pub use shape::{Data, Extra};
pub(crate) use table::ENDPOINT_PATHS;
pub use users::*;
