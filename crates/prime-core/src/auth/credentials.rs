//! API credentials: the public key and the prepared signing key.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use super::signature::ApiSign;

/// Length in bytes of the secrets Kraken issues for REST API keys (base64 of 64 bytes).
///
/// Only a hint: HMAC takes keys of any length and [`SigningKey::from_base64`] accepts any
/// non-empty secret (Kraken's own Rust SDK tests with a 32-byte one). A secret of another length
/// is more often a truncated copy than a real key, so tools may warn; see
/// [`SigningKey::secret_len`].
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
    /// The static one-time password given for API 2FA is empty.
    #[error("the one-time password is empty")]
    EmptyOtp,
    /// The static one-time password holds a control character (often a pasted line break).
    #[error("the one-time password has a control character at byte {position}: remove line breaks")]
    InvalidOtp {
        /// Byte offset of the first control character.
        position: usize,
    },
}

/// A prepared HMAC-SHA512 key: the decoded API secret after the HMAC key schedule.
///
/// Only the two SHA-512 states after the key's inner and outer pad block are kept (a key longer
/// than the 128-byte block is hashed first, as HMAC requires); signing starts from them, so no
/// per-call key work is done and nothing is cloned but 128 bytes of state. The states are
/// zeroized on drop and nothing prints them. The simulator keeps exactly this per key: enough
/// to verify, never the secret text.
#[derive(Clone)]
pub struct SigningKey {
    inner: [u64; 8],
    outer: [u64; 8],
    // The decoded length only (not secret: every Kraken secret has the same one), kept so
    // tools can warn about an unusual length without decoding again.
    secret_len: usize,
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.inner);
        zeroize::Zeroize::zeroize(&mut self.outer);
    }
}

impl SigningKey {
    /// Decodes a base64 API secret and prepares the HMAC key schedule.
    ///
    /// Any non-empty standard-base64 secret is accepted, whatever it decodes to (HMAC takes
    /// keys of any length). Whitespace around it — the trailing newline of a secret read from
    /// a file, spaces from a copy — is ignored; whitespace inside it is refused, since it
    /// means two lines were pasted together.
    ///
    /// # Errors
    /// [`CredentialsError`] if the secret is empty, holds whitespace inside, or is not base64.
    /// Positions count bytes of `secret` as given.
    pub fn from_base64(secret: &str) -> Result<Self, CredentialsError> {
        let leading = secret.len() - secret.trim_start().len();
        let trimmed = secret.trim();
        if trimmed.is_empty() {
            return Err(CredentialsError::EmptySecret);
        }
        if let Some(position) = trimmed.bytes().position(|b| b.is_ascii_whitespace()) {
            return Err(CredentialsError::SecretWhitespace {
                position: leading + position,
            });
        }
        if let Some(position) = trimmed.bytes().position(|b| !b.is_ascii()) {
            return Err(CredentialsError::SecretNotBase64 {
                position: leading + position,
            });
        }
        let mut decoded = Zeroizing::new(vec![0u8; trimmed.len() / 4 * 3 + 3]);
        let len = STANDARD
            .decode_slice(trimmed.as_bytes(), &mut decoded[..])
            .map_err(|e| CredentialsError::SecretNotBase64 {
                position: leading + decode_error_position(&e, trimmed.len()),
            })?;
        if len == 0 {
            // Only padding, e.g. "====" would not decode; but be sure an empty key never signs.
            return Err(CredentialsError::EmptySecret);
        }
        Ok(Self::from_bytes(&decoded[..len]))
    }

    /// Prepares a key from raw secret bytes (any length; HMAC accepts all).
    pub fn from_bytes(secret: &[u8]) -> Self {
        use super::signature::block::key_block_state;
        // HMAC: a key longer than the hash's 128-byte block is replaced by its SHA-512.
        let hashed = Zeroizing::new(<[u8; 64]>::from(Sha512::digest(secret)));
        let key = if secret.len() > 128 {
            &hashed[..]
        } else {
            secret
        };
        Self {
            inner: key_block_state(key, 0x36),
            outer: key_block_state(key, 0x5c),
            secret_len: secret.len(),
        }
    }

    /// How many bytes the secret decoded to. Kraken issues [`SECRET_LEN`]-byte secrets; any
    /// other length still signs, but is worth a warning (a truncated copy signs too, wrongly).
    pub fn secret_len(&self) -> usize {
        self.secret_len
    }

    /// Computes `API-Sign` for `path`, the nonce's decimal digits and the exact body bytes.
    ///
    /// `base64(HMAC-SHA512(secret, path ++ SHA256(nonce_digits ++ body)))`, computed block by
    /// block from the prepared key schedule. Allocation-free.
    ///
    /// ```
    /// use prime_core::SigningKey;
    ///
    /// // Kraken's published Spot vector.
    /// let key = SigningKey::from_base64(prime_core::example::SECRET)?;
    /// let sign = key.sign(
    ///     "/0/private/AddOrder",
    ///     b"1616492376594",
    ///     b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
    /// );
    /// assert_eq!(
    ///     sign.as_str(),
    ///     "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
    /// );
    /// # Ok::<(), prime_core::CredentialsError>(())
    /// ```
    pub fn sign(&self, path: &str, nonce_digits: &[u8], body: &[u8]) -> ApiSign {
        ApiSign::from_tag(&self.tag(path.as_bytes(), nonce_digits, body))
    }

    /// Checks an `API-Sign` header value in constant time.
    ///
    /// Returns `false` for anything that is not the exact base64 signature.
    pub fn verify(&self, path: &str, nonce_digits: &[u8], body: &[u8], api_sign: &[u8]) -> bool {
        let mut given = [0u8; 66];
        let Ok(len) = STANDARD.decode_slice(api_sign, &mut given) else {
            return false;
        };
        let tag = self.tag(path.as_bytes(), nonce_digits, body);
        // Length is public (always 64 for a real signature); the bytes are compared without
        // an early exit.
        len == tag.len()
            && given[..len]
                .iter()
                .zip(tag)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// The raw 64-byte HMAC-SHA512 tag over `path ++ SHA256(nonce ++ body)`.
    pub(crate) fn tag(&self, path: &[u8], nonce_digits: &[u8], body: &[u8]) -> [u8; 64] {
        super::signature::block::api_sign_tag(&self.inner, &self.outer, path, nonce_digits, body)
    }

    /// The raw 64-byte HMAC-SHA512 tag over any message (`path ++ digest` for `API-Sign`):
    /// what the signature-diagnosis module recomputes for a client's known mistakes.
    pub(crate) fn mac(&self, first: &[u8], second: &[u8]) -> [u8; 64] {
        use super::signature::block::sha512_after_key_block;
        let inner = sha512_after_key_block(self.inner, first, second);
        sha512_after_key_block(self.outer, &inner, &[])
    }
}

// The key material is the two prepared SHA-512 states, wiped by `Drop` above (the bound is
// checked in tests/it/zeroize.rs).
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

/// Where the `otp` of a key with API two-factor authentication comes from.
///
/// Kraken keys may require a second factor on every REST call: the `otp` body field, holding
/// either a static password chosen when 2FA was set up, or the current code of a TOTP app.
/// Without it (or with a wrong one) the call is refused; Kraken's Spot auth guide names no
/// error string for that, and the simulator answers `EAPI:Invalid signature`. Give the
/// [`Credentials`] an `Otp` with [`Credentials::with_otp`]; every request body then carries
/// `"otp"` right after the nonce, signed like the rest.
///
/// ```
/// use prime_core::{Credentials, Otp};
/// use zeroize::Zeroizing;
///
/// let secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
/// // A static password...
/// let static_2fa = Credentials::new("KEY", secret)?.with_otp(Otp::password("correct horse")?);
/// // ...or a TOTP generator: any `Fn() -> Zeroizing<String>` (or an `OtpGenerator`).
/// let totp = Credentials::new("KEY", secret)?.with_otp(Otp::generator(|| Zeroizing::new("123456".to_owned())));
/// assert!(!format!("{static_2fa:?}").contains("correct horse"));
/// # let _ = totp;
/// # Ok::<(), prime_core::CredentialsError>(())
/// ```
#[derive(Clone)]
pub struct Otp(OtpKind);

#[derive(Clone)]
enum OtpKind {
    Password(Zeroizing<String>),
    Generator(Arc<dyn OtpGenerator>),
}

/// Yields the one-time password for the next request, e.g. the current TOTP code.
///
/// Called once per signed request (each resend included, so a code that expired during a
/// retry is replaced). Implemented for every `Fn() -> Zeroizing<String> + Send + Sync`.
pub trait OtpGenerator: Send + Sync {
    /// The code to send now.
    fn code(&self) -> Zeroizing<String>;
}

impl<F: Fn() -> Zeroizing<String> + Send + Sync> OtpGenerator for F {
    fn code(&self) -> Zeroizing<String> {
        self()
    }
}

impl Otp {
    /// A static password (API 2FA "password" mode). It is a secret: zeroized on drop, never
    /// printed.
    ///
    /// # Errors
    /// [`CredentialsError::EmptyOtp`] or [`CredentialsError::InvalidOtp`] (a control character).
    pub fn password(password: &str) -> Result<Self, CredentialsError> {
        check_otp(password)?;
        Ok(Self(OtpKind::Password(Zeroizing::new(password.to_owned()))))
    }

    /// A generator asked for a fresh code for each request (API 2FA "TOTP" mode).
    pub fn generator(generator: impl OtpGenerator + 'static) -> Self {
        Self(OtpKind::Generator(Arc::new(generator)))
    }

    /// The value for the next request's `otp` field.
    ///
    /// # Errors
    /// [`CredentialsError::EmptyOtp`] or [`CredentialsError::InvalidOtp`] if a generator
    /// returned an unusable code.
    pub fn code(&self) -> Result<Zeroizing<String>, CredentialsError> {
        let code = match &self.0 {
            OtpKind::Password(password) => password.clone(),
            OtpKind::Generator(generator) => generator.code(),
        };
        check_otp(&code)?;
        Ok(code)
    }
}

fn check_otp(otp: &str) -> Result<(), CredentialsError> {
    if otp.is_empty() {
        return Err(CredentialsError::EmptyOtp);
    }
    match otp.char_indices().find(|(_, c)| c.is_control()) {
        Some((position, _)) => Err(CredentialsError::InvalidOtp { position }),
        None => Ok(()),
    }
}

impl fmt::Debug for Otp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            OtpKind::Password(_) => f.write_str("Otp::Password(<redacted>)"),
            OtpKind::Generator(_) => f.write_str("Otp::Generator"),
        }
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
    otp: Option<Otp>,
}

impl Credentials {
    /// Validates the key and decodes and prepares the base64 secret (any non-empty length;
    /// surrounding whitespace ignored, see [`SigningKey::from_base64`]).
    ///
    /// This is the account's REST key. The keys `CreatePrimeApiUserKey` issues are Prime
    /// WebSocket/FIX credentials with an opaque text secret: they do not go here.
    ///
    /// # Errors
    /// [`CredentialsError`] naming what is wrong with the key or the secret.
    pub fn new(api_key: &str, secret_base64: &str) -> Result<Self, CredentialsError> {
        Ok(Self {
            api_key: ApiKey::new(api_key)?,
            signing_key: SigningKey::from_base64(secret_base64)?,
            otp: None,
        })
    }

    /// Pairs an already validated key with a prepared signing key.
    pub fn from_parts(api_key: ApiKey, signing_key: SigningKey) -> Self {
        Self {
            api_key,
            signing_key,
            otp: None,
        }
    }

    /// Sends `otp` with every request, for a key with API two-factor authentication.
    #[must_use]
    pub fn with_otp(mut self, otp: Otp) -> Self {
        self.otp = Some(otp);
        self
    }

    /// The key's second factor, if it has one.
    pub fn otp(&self) -> Option<&Otp> {
        self.otp.as_ref()
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

// Its secret parts are a `SigningKey`, which zeroizes itself on drop, and an optional
// `Otp`, whose password is a `Zeroizing<String>` (a generator holds no secret of ours).
impl zeroize::ZeroizeOnDrop for Credentials {}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key)
            .field("secret", &format_args!("<redacted>"))
            .field("otp", &self.otp)
            .finish()
    }
}
