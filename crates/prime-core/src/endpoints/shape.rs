//! What every endpoint type shares: the `data` wrapper, unknown fields kept, closed string
//! sets that keep unknown values, and the `Endpoint` impl.

use serde::{Deserialize, Serialize};

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

/// Implements [`Endpoint`](super::Endpoint) for a request type.
macro_rules! endpoint {
    ($request:ty, $name:literal, $idempotency:ident, $response:ty $(, $permission:ident)?) => {
        impl $crate::endpoints::Endpoint for $request {
            const NAME: &'static str = $name;
            const PATH: &'static str = concat!("/0/private/", $name);
            const IDEMPOTENCY: $crate::endpoints::Idempotency =
                $crate::endpoints::Idempotency::$idempotency;
            type Response = $response;
            $(
                const PERMISSION: Option<$crate::endpoints::Permission> =
                    Some($crate::endpoints::Permission::$permission);
            )?

            fn validate(&self) -> Result<(), $crate::endpoints::ArgumentError> {
                self.check()
            }
        }
    };
}
pub(crate) use endpoint;
