//! [`ApiSecret`]: the one-time secret returned by `CreatePrimeApiUserKey`.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

use crate::credentials::{Credentials, CredentialsError};

/// An API secret as Kraken returns it from `CreatePrimeApiUserKey`: shown once, stored nowhere
/// else.
///
/// It is a secret from the moment it is parsed: the text is zeroized on drop, `Debug` prints
/// `ApiSecret(<redacted>)`, and there is no `Display` or `Serialize`. Read it only through
/// [`ApiSecret::expose`], e.g. to write it to a vault, or turn it straight into
/// [`Credentials`] with [`ApiSecret::credentials_for`].
#[derive(Clone, PartialEq, Eq)]
pub struct ApiSecret(Zeroizing<String>);

impl ApiSecret {
    /// Wraps secret text.
    pub fn new(secret: String) -> Self {
        Self(Zeroizing::new(secret))
    }

    /// The secret text. The only way to read it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Credentials for `api_key` signed with this secret.
    ///
    /// # Errors
    /// [`CredentialsError`] if the key or secret is malformed.
    pub fn credentials_for(&self, api_key: &str) -> Result<Credentials, CredentialsError> {
        Credentials::new(api_key, self.expose())
    }
}

// The text lives in a `Zeroizing<String>`, wiped on drop.
impl zeroize::ZeroizeOnDrop for ApiSecret {}

impl fmt::Debug for ApiSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiSecret(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for ApiSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}
