//! [`ApiSecret`]: the one-time secret returned by `CreatePrimeApiUserKey`.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

/// An API secret as Kraken returns it from `CreatePrimeApiUserKey`: shown once, stored nowhere
/// else.
///
/// It is a secret from the moment it is parsed: the text is zeroized on drop, `Debug` prints
/// `ApiSecret(<redacted>)`, and there is no `Display` or `Serialize`. Read it only through
/// [`ApiSecret::expose`], e.g. to write it to a vault.
///
/// The secret is **opaque text**. Issued keys authenticate on Prime WebSocket and Prime FIX,
/// which use the secret's characters as an HMAC-SHA256 key; the documented example,
/// `6xq8p1mvk9r3n7swt2l5cj4eaydhzbf`, is not base64. It is never decoded and never becomes
/// REST [`Credentials`](crate::Credentials): REST calls are made with the account's own key.
///
/// Comparing two secrets (`==`) takes the same time wherever they differ, so a comparison
/// cannot leak how much of a guess was right (only whether the lengths differ).
#[derive(Clone)]
pub struct ApiSecret(Zeroizing<String>);

impl PartialEq for ApiSecret {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        // Every byte is looked at, whatever the first difference; `black_box` keeps the
        // optimizer from turning the fold back into an early exit.
        let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
        std::hint::black_box(difference) == 0
    }
}

impl Eq for ApiSecret {}

impl ApiSecret {
    /// Wraps secret text.
    pub fn new(secret: String) -> Self {
        Self(Zeroizing::new(secret))
    }

    /// The secret text. The only way to read it.
    pub fn expose(&self) -> &str {
        &self.0
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
