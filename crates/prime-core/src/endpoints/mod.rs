//! The 13 Prime REST endpoints: one request type each, with its result type.
//!
//! Field names follow the API exactly, oddities included: the key list calls the public key
//! `key` where create/update call it `api_key`; `GetPrimeApiUser` wraps the user in `data`;
//! requests take one `role`, users carry a list of `roles`. Unset optional request fields are
//! omitted from the body. Closed string sets are enums that keep unknown values, and every
//! result type keeps unknown fields in `extra`.

mod keys;
mod settlement;
mod users;

pub use keys::*;
pub use settlement::*;
pub use users::*;

use serde::{Deserialize, Serialize};

use crate::request::ArgumentError;

/// Unknown fields of a result object, kept as received.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// A result wrapped in `data`, as `GetPrimeApiUser` and the list endpoints return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Data<T> {
    /// The wrapped value.
    pub data: T,
    /// Fields beside `data` that this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Declares a closed set of API strings as an enum that keeps unknown values in `Other`.
macro_rules! string_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The value as the API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(text))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from(text.as_ref()))
            }
        }
    };
}
pub(crate) use string_enum;

/// Implements [`crate::Endpoint`] for a request type.
macro_rules! endpoint {
    ($request:ty, $name:literal, $idempotency:ident, $response:ty) => {
        impl $crate::Endpoint for $request {
            const NAME: &'static str = $name;
            const PATH: &'static str = concat!("/0/private/", $name);
            const IDEMPOTENCY: $crate::Idempotency = $crate::Idempotency::$idempotency;
            type Response = $response;

            fn validate(&self) -> Result<(), $crate::ArgumentError> {
                self.check()
            }
        }
    };
}
pub(crate) use endpoint;

/// Longest identifier accepted before signing; real ids are 10-40 characters.
const MAX_ID_LEN: usize = 128;

/// An identifier (user, key, batch id, asset): non-empty printable ASCII without spaces.
fn check_id(field: &'static str, value: &str) -> Result<(), ArgumentError> {
    if value.is_empty() {
        return Err(ArgumentError::new(field, "must not be empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(ArgumentError::new(
            field,
            format!(
                "is {} bytes long; at most {MAX_ID_LEN} are accepted",
                value.len()
            ),
        ));
    }
    if let Some(position) = value.bytes().position(|b| !b.is_ascii_graphic()) {
        return Err(ArgumentError::new(
            field,
            format!("has a space, control or non-ASCII character at byte {position}"),
        ));
    }
    Ok(())
}

/// A value of a closed set must at least be a non-empty word, even when it is `Other`.
fn check_word(field: &'static str, value: &str) -> Result<(), ArgumentError> {
    check_id(field, value)
}
