//! The endpoint trait: one request type per Prime REST endpoint.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{ArgumentError, Permission};

/// Whether a request may safely be sent again after it may have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Idempotency {
    /// Reads (`Get…`, `List…`): resending cannot change anything.
    Idempotent,
    /// Creates, updates, deletes and settlements: a resend could act twice, so once a request
    /// may have reached the server it is never resent.
    NonIdempotent,
}

/// A Prime REST endpoint: its request fields (serialized as the JSON body, without the nonce),
/// its path, its result type and whether it is safe to resend.
///
/// Implemented by every request type in [`crate::endpoints`]. The nonce is added by
/// [`crate::RequestBuilder`], never by the endpoint.
pub trait Endpoint: Serialize {
    /// The method name, e.g. `CreatePrimeApiUserKey`.
    const NAME: &'static str;
    /// The signed path, e.g. `/0/private/CreatePrimeApiUserKey`.
    const PATH: &'static str;
    /// Whether the call is safe to resend.
    const IDEMPOTENCY: Idempotency;
    /// The typed `result` of a successful response.
    type Response: DeserializeOwned;
    /// The key permission the endpoint's page names, if any (only settlement names one): a key
    /// without it is refused with `EGeneral:Permission denied`.
    const PERMISSION: Option<Permission> = None;

    /// Checks the arguments before anything is signed.
    ///
    /// # Errors
    /// [`ArgumentError`] naming the field and what to fix.
    fn validate(&self) -> Result<(), ArgumentError> {
        Ok(())
    }
}
