//! API credentials: the public key and the prepared signing key.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use http::HeaderValue;
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

use crate::signature::ApiSign;

/// Length in bytes of a decoded Kraken API secret.
pub const SECRET_LEN: usize = 64;

/// The reason a key or secret given to [`Credentials::new`] was refused.
///
/// Messages name the problem and the position, never the secret's characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The API key is empty.
    #[error("the API key is empty")]
    EmptyKey,
    /// The API key holds a character that cannot travel in an HTTP header.
    #[error(
        "the API key has an invalid character at byte {position}: keys are printable ASCII without spaces"
    )]
    InvalidKey {
        /// Byte offset of the first offending character.
        position: usize,
    },
    /// The API secret is empty.
    #[error("the API secret is empty")]
    EmptySecret,
    /// The API secret contains whitespace (often a copy-paste line break).
    #[error("the API secret contains whitespace at byte {position}: remove spaces and line breaks")]
    SecretWhitespace {
        /// Byte offset of the first whitespace character.
        position: usize,
    },
    /// The API secret is not valid standard base64.
    #[error(
        "the API secret is not valid base64 (problem at byte {position}): paste it exactly as Kraken showed it"
    )]
    SecretNotBase64 {
        /// Byte offset where decoding failed (the length, for bad padding).
        position: usize,
    },
    /// The API secret decodes to the wrong number of bytes (usually a truncated copy).
    #[error(
        "the API secret decodes to {decoded_len} bytes, but Kraken API secrets are {SECRET_LEN} bytes: was it truncated?"
    )]
    SecretLength {
        /// The number of bytes the secret decoded to.
        decoded_len: usize,
    },
}

/// A prepared HMAC-SHA512 key: the decoded API secret after the HMAC key schedule.
///
/// Signing clones the prepared state instead of re-keying, so no per-call key work is done.
/// The prepared SHA-512 states are zeroized on drop (`sha2` with its `zeroize` feature) and
/// nothing prints them. The simulator keeps exactly this per key: enough to verify, never the secret text.
#[derive(Clone)]
pub struct SigningKey {
    mac: Hmac<Sha512>,
}

impl SigningKey {
    /// Decodes a base64 API secret and prepares the HMAC key schedule.
    ///
    /// # Errors
    /// [`CredentialsError`] if the secret is empty, holds whitespace, is not base64 or is not
    /// [`SECRET_LEN`] bytes long.
    pub fn from_base64(secret: &str) -> Result<Self, CredentialsError> {
        if secret.is_empty() {
            return Err(CredentialsError::EmptySecret);
        }
        if let Some(position) = secret.bytes().position(|b| b.is_ascii_whitespace()) {
            return Err(CredentialsError::SecretWhitespace { position });
        }
        // Room for any valid 64-byte secret plus slack so that longer inputs report their
        // length instead of failing as "buffer too small".
        let mut decoded = Zeroizing::new([0u8; 3 * 1024]);
        if secret.len() / 4 * 3 > decoded.len() {
            return Err(CredentialsError::SecretLength {
                decoded_len: secret.len() / 4 * 3,
            });
        }
        let len = STANDARD
            .decode_slice(secret.as_bytes(), &mut decoded[..])
            .map_err(|e| CredentialsError::SecretNotBase64 {
                position: decode_error_position(&e, secret.len()),
            })?;
        if len != SECRET_LEN {
            return Err(CredentialsError::SecretLength { decoded_len: len });
        }
        Ok(Self::from_bytes(&decoded[..len]))
    }

    /// Prepares a key from raw secret bytes (any length; HMAC accepts all).
    pub fn from_bytes(secret: &[u8]) -> Self {
        let mac = <Hmac<Sha512> as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        Self { mac }
    }

    /// Computes `API-Sign` for `path`, the nonce's decimal digits and the exact body bytes.
    ///
    /// `base64(HMAC-SHA512(secret, path ++ SHA256(nonce_digits ++ body)))`. Allocation-free.
    pub fn sign(&self, path: &str, nonce_digits: &[u8], body: &[u8]) -> ApiSign {
        let tag = self
            .mac_for(path, nonce_digits, body)
            .finalize()
            .into_bytes();
        ApiSign::from_tag(tag.as_ref())
    }

    /// Checks an `API-Sign` header value in constant time.
    ///
    /// Returns `false` for anything that is not the exact base64 signature.
    pub fn verify(&self, path: &str, nonce_digits: &[u8], body: &[u8], api_sign: &[u8]) -> bool {
        let mut tag = [0u8; 66];
        let Ok(len) = STANDARD.decode_slice(api_sign, &mut tag) else {
            return false;
        };
        self.mac_for(path, nonce_digits, body)
            .verify_slice(&tag[..len])
            .is_ok()
    }

    fn mac_for(&self, path: &str, nonce_digits: &[u8], body: &[u8]) -> Hmac<Sha512> {
        let digest = Sha256::new()
            .chain_update(nonce_digits)
            .chain_update(body)
            .finalize();
        let mut mac = self.mac.clone();
        mac.update(path.as_bytes());
        mac.update(&digest);
        mac
    }
}

// The only field is the HMAC state. Its key material is the two prepared SHA-512 states, which
// wipe themselves on drop (`sha2` built with `zeroize`; the bound is checked in
// tests/zeroize.rs); its block buffer only ever holds message bytes.
impl zeroize::ZeroizeOnDrop for SigningKey {}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

fn decode_error_position(error: &base64::DecodeSliceError, input_len: usize) -> usize {
    match error {
        base64::DecodeSliceError::DecodeError(
            base64::DecodeError::InvalidByte(offset, _)
            | base64::DecodeError::InvalidLastSymbol(offset, _),
        ) => *offset,
        _ => input_len,
    }
}

/// The public API key (the `API-Key` header value). Not secret, but masked in `Debug`
/// so logs don't tie requests to a key.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    header: HeaderValue,
}

impl ApiKey {
    /// Validates an API key: non-empty printable ASCII without spaces.
    ///
    /// # Errors
    /// [`CredentialsError::EmptyKey`] or [`CredentialsError::InvalidKey`].
    pub fn new(key: &str) -> Result<Self, CredentialsError> {
        if key.is_empty() {
            return Err(CredentialsError::EmptyKey);
        }
        if let Some(position) = key.bytes().position(|b| !b.is_ascii_graphic()) {
            return Err(CredentialsError::InvalidKey { position });
        }
        let mut header =
            HeaderValue::from_str(key).map_err(|_| CredentialsError::InvalidKey { position: 0 })?;
        header.set_sensitive(true);
        // The first clone of a header value made from a string moves its bytes into a shared,
        // reference-counted block. Do it here, once, so that no request build allocates for
        // the key.
        drop(header.clone());
        Ok(Self { header })
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        // Validated as printable ASCII at construction.
        self.header.to_str().unwrap_or_default()
    }

    /// The key as a ready `API-Key` header value (marked sensitive).
    pub fn header_value(&self) -> &HeaderValue {
        &self.header
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.as_str();
        let shown: String = key.chars().take(4).collect();
        write!(f, "ApiKey({shown}…, {} chars)", key.len())
    }
}

/// An API key with its prepared secret: everything needed to sign requests.
///
/// Build it once and reuse it: the secret is decoded and the HMAC key schedule prepared
/// here, not per request. `Debug` masks the key and never shows the secret; there is no
/// `Display` or `Serialize`.
///
/// ```
/// use prime_core::{Credentials, CredentialsError};
///
/// let secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
/// let credentials = Credentials::new("KRA5L19LAW8Z", secret)?;
/// assert_eq!(credentials.api_key().as_str(), "KRA5L19LAW8Z");
/// assert!(!format!("{credentials:?}").contains(secret));
///
/// assert!(matches!(
///     Credentials::new("KRA5L19LAW8Z", "not base64!"),
///     Err(CredentialsError::SecretWhitespace { position: 3 })
/// ));
/// # Ok::<(), CredentialsError>(())
/// ```
#[derive(Clone)]
pub struct Credentials {
    api_key: ApiKey,
    signing_key: SigningKey,
}

impl Credentials {
    /// Validates the key and decodes and prepares the base64 secret.
    ///
    /// # Errors
    /// [`CredentialsError`] naming what is wrong with the key or the secret.
    pub fn new(api_key: &str, secret_base64: &str) -> Result<Self, CredentialsError> {
        Ok(Self {
            api_key: ApiKey::new(api_key)?,
            signing_key: SigningKey::from_base64(secret_base64)?,
        })
    }

    /// Pairs an already validated key with a prepared signing key.
    pub fn from_parts(api_key: ApiKey, signing_key: SigningKey) -> Self {
        Self {
            api_key,
            signing_key,
        }
    }

    /// The public API key.
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// The prepared signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }
}

// Its secret part is a `SigningKey`, which zeroizes itself on drop.
impl zeroize::ZeroizeOnDrop for Credentials {}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key)
            .field("secret", &format_args!("<redacted>"))
            .finish()
    }
}
