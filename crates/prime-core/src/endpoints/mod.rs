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
//!
//! # Not here: `GetPrimeExposure`
//!
//! Kraken's older Prime REST docs (the Docusaurus pages,
//! <https://docs.kraken.com/api/docs/prime-api/rest/get-prime-exposure>) name a fourteenth
//! call, `POST /0/private/GetPrimeExposure`: "Retrieves your current Prime account balances
//! across market accounts, showing the net position amount and currency for each", permission
//! `Orders and trades - Query open orders & trades`. No request or response schema was ever
//! published for it, and the current Prime REST reference (its operations and tags) no longer
//! lists it; the current overview serves exposure over the Prime WebSocket `Exposure` channel
//! and Prime FIX. So it is recorded as retired, not implemented: a typed shape would be
//! invented. An account that still answers it can be called through a request type of one's
//! own, with an untyped result:
//!
//! ```
//! use prime_core::{Endpoint, Idempotency, RequestBuilder};
//!
//! /// `GetPrimeExposure`, as the older docs name it (no schema was published).
//! #[derive(serde::Serialize)]
//! struct GetPrimeExposure {}
//!
//! impl Endpoint for GetPrimeExposure {
//!     const NAME: &'static str = "GetPrimeExposure";
//!     const PATH: &'static str = "/0/private/GetPrimeExposure";
//!     const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;
//!     type Response = serde_json::Value;
//! }
//!
//! let credentials = prime_core::Credentials::new("KEY", prime_core::example::SECRET)?;
//! let request = RequestBuilder::new().build(&GetPrimeExposure {}, &credentials, 1)?;
//! assert_eq!(request.uri().path(), "/0/private/GetPrimeExposure");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
