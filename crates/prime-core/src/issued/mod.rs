//! Issued keys where Kraken uses them: Prime WebSocket and Prime FIX.
//!
//! `CreatePrimeApiUserKey` issues a key and a secret for a Prime API user. That secret is
//! opaque text (the documented example is `6xq8p1mvk9r3n7swt2l5cj4eaydhzbf`, which is not
//! base64), and it authenticates on Prime WebSocket and Prime FIX, as Kraken's Prime overview
//! says; this crate never uses it for REST (the overview has REST signed with the account
//! key, see [`Credentials`](crate::Credentials), and names no REST use of issued keys). Both
//! schemes are
//! HMAC-SHA256, keyed with the secret's text bytes, and URL-safe base64 with padding:
//!
//! - **WebSocket** ([`WsConnectHeaders`]): headers `ApiKey`, `ApiTimestamp`
//!   (`2019-02-13T05:17:32.000000Z`) and `ApiSign` over `GET\n<ApiTimestamp>\n<host>\n<path>`,
//!   where `<host>` is the `Host` header as sent.
//! - **FIX 4.4 Logon** ([`FixLogon`]): `96` RawData over
//!   `SendingTime(52) SOH MsgSeqNum(34) SOH SenderCompID(49) SOH TargetCompID(56)`, `95` its
//!   length (44) and `554` Password the API key.
//!
//! Like the rest of the core, nothing here opens a socket or reads a clock: the time is a
//! [`UtcTimestamp`] parameter. The parsing and verification halves ([`ReceivedWsAuth`],
//! [`FixMessage::parse`], [`ReceivedLogon`]) are what a server needs; `prime-mock` uses them.
//!
//! ```
//! use prime_core::issued::{FixLogon, FixMessage, IssuedCredentials, UtcTimestamp, WsConnectHeaders};
//!
//! let credentials = IssuedCredentials::new("KRA5L19LAW8Z", "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf")?;
//! let now = UtcTimestamp::from_unix_micros(1_550_035_052_000_000)?; // the caller's clock
//!
//! let headers = WsConnectHeaders::new(&credentials, now, "wss.sandbox.prime.kraken.com", "/ws/v1")?;
//! assert_eq!(headers.api_timestamp(), "2019-02-13T05:17:32.000000Z");
//! assert_eq!(headers.api_sign().len(), 44);
//!
//! // The CompIDs are the ones Kraken assigns; "KRAKEN" is a placeholder.
//! let logon = FixLogon::new("CUSTOMER", "KRAKEN", now).encode(&credentials)?;
//! let parsed = FixMessage::parse(&logon)?; // checks 9= and 10=
//! assert_eq!(parsed.msg_type(), "A");
//! assert_eq!(parsed.get(108), Some("60")); // HeartBtInt as in Kraken's example
//! assert_eq!(parsed.get(554), Some("KRA5L19LAW8Z"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod fix;
mod timestamp;
mod ws;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::auth::ApiSecret;
use crate::auth::{ApiKey, CredentialsError};

pub use fix::{
    FIX_BEGIN_STRING, FixEncodeError, FixLogon, FixMessage, FixParseError, FixRefusal,
    ReceivedLogon, SOH,
};
pub use timestamp::{TimestampError, UtcTimestamp};
pub use ws::{
    ReceivedWsAuth, WS_PATH, WS_SANDBOX_URL, WS_URL, WsAuthError, WsConnectHeaders, WsRefusal,
};

/// Length of an [`IssuedSign`]: URL-safe base64 (padded) of a 32-byte HMAC-SHA256 tag. Also the
/// value of FIX `95` RawDataLength.
pub const ISSUED_SIGN_LEN: usize = 44;

/// An issued key with its prepared secret: what signs Prime WebSocket connections and FIX
/// Logons.
///
/// The secret is used as text, byte for byte, never decoded. It is consumed at construction
/// into a prepared HMAC-SHA256 state (zeroized on drop, like
/// [`SigningKey`](crate::SigningKey)); the text itself is not kept. `Debug` masks the key and
/// never shows the secret; there is no `Display` or `Serialize`.
///
/// ```
/// use prime_core::CredentialsError;
/// use prime_core::issued::IssuedCredentials;
///
/// let credentials = IssuedCredentials::new("KRA5L19LAW8Z", "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf")?;
/// assert!(!format!("{credentials:?}").contains("6xq8p1mvk9r3n7swt2l5cj4eaydhzbf"));
/// assert!(matches!(
///     IssuedCredentials::new("KRA5L19LAW8Z", "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf\n"),
///     Err(CredentialsError::SecretWhitespace { position: 31 })
/// ));
/// # Ok::<(), CredentialsError>(())
/// ```
#[derive(Clone)]
pub struct IssuedCredentials {
    api_key: ApiKey,
    mac: Hmac<Sha256>,
}

impl IssuedCredentials {
    /// Validates the key (printable ASCII, no spaces) and prepares the secret text.
    ///
    /// The secret may be any non-empty text without whitespace: whitespace in a secret is
    /// almost always a copy-paste accident, and a trailing newline would silently change every
    /// signature.
    ///
    /// # Errors
    /// [`CredentialsError::EmptyKey`], [`CredentialsError::InvalidKey`],
    /// [`CredentialsError::EmptySecret`] or [`CredentialsError::SecretWhitespace`].
    pub fn new(api_key: &str, secret: &str) -> Result<Self, CredentialsError> {
        let api_key = ApiKey::new(api_key)?;
        if secret.is_empty() {
            return Err(CredentialsError::EmptySecret);
        }
        if let Some(position) = secret.bytes().position(|b| b.is_ascii_whitespace()) {
            return Err(CredentialsError::SecretWhitespace { position });
        }
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        Ok(Self { api_key, mac })
    }

    /// Credentials from a key as `CreatePrimeApiUserKey` returned it.
    ///
    /// # Errors
    /// As [`IssuedCredentials::new`].
    pub fn from_secret(api_key: &str, secret: &ApiSecret) -> Result<Self, CredentialsError> {
        Self::new(api_key, secret.expose())
    }

    /// The issued API key (`ApiKey` header, FIX `554` Password).
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// `ApiSign` for a WebSocket connection: HMAC-SHA256 over
    /// `GET\n<api_timestamp>\n<host>\n<path>`, the texts exactly as sent.
    pub fn ws_sign(&self, api_timestamp: &str, host: &str, path: &str) -> IssuedSign {
        IssuedSign::from_tag(
            &self
                .ws_mac(api_timestamp, host, path)
                .finalize()
                .into_bytes(),
        )
    }

    /// Checks an `ApiSign` value in constant time; `false` for anything but the exact
    /// URL-safe base64 signature.
    pub fn verify_ws(&self, api_timestamp: &str, host: &str, path: &str, api_sign: &[u8]) -> bool {
        verify(self.ws_mac(api_timestamp, host, path), api_sign)
    }

    /// FIX `96` RawData: HMAC-SHA256 over
    /// `<SendingTime> SOH <MsgSeqNum> SOH <SenderCompID> SOH <TargetCompID>`, the texts exactly
    /// as they appear in the Logon.
    pub fn fix_raw_data(
        &self,
        sending_time: &str,
        msg_seq_num: &str,
        sender_comp_id: &str,
        target_comp_id: &str,
    ) -> IssuedSign {
        let mac = self.fix_mac(sending_time, msg_seq_num, sender_comp_id, target_comp_id);
        IssuedSign::from_tag(&mac.finalize().into_bytes())
    }

    /// Checks a RawData value in constant time; `false` for anything but the exact URL-safe
    /// base64 signature.
    pub fn verify_fix_raw_data(
        &self,
        sending_time: &str,
        msg_seq_num: &str,
        sender_comp_id: &str,
        target_comp_id: &str,
        raw_data: &[u8],
    ) -> bool {
        verify(
            self.fix_mac(sending_time, msg_seq_num, sender_comp_id, target_comp_id),
            raw_data,
        )
    }

    fn ws_mac(&self, api_timestamp: &str, host: &str, path: &str) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        for (i, part) in ["GET", api_timestamp, host, path].into_iter().enumerate() {
            if i > 0 {
                mac.update(b"\n");
            }
            mac.update(part.as_bytes());
        }
        mac
    }

    fn fix_mac(
        &self,
        sending_time: &str,
        msg_seq_num: &str,
        sender_comp_id: &str,
        target_comp_id: &str,
    ) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        let parts = [sending_time, msg_seq_num, sender_comp_id, target_comp_id];
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                mac.update(&[SOH]);
            }
            mac.update(part.as_bytes());
        }
        mac
    }
}

fn verify(mac: Hmac<Sha256>, signature: &[u8]) -> bool {
    // A valid signature is exactly 44 characters; anything longer cannot match.
    let mut tag = [0u8; 33];
    if signature.len() != ISSUED_SIGN_LEN {
        return false;
    }
    let Ok(len) = URL_SAFE.decode_slice(signature, &mut tag) else {
        return false;
    };
    mac.verify_slice(&tag[..len]).is_ok()
}

// The only secret part is the HMAC state, whose prepared SHA-256 states wipe themselves on
// drop (`sha2` built with `zeroize`), as for `SigningKey`.
impl zeroize::ZeroizeOnDrop for IssuedCredentials {}

impl fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCredentials")
            .field("api_key", &self.api_key)
            .field("secret", &format_args!("<redacted>"))
            .finish()
    }
}

/// A WebSocket `ApiSign` or FIX `96` RawData value: URL-safe base64 (padded) of an
/// HMAC-SHA256 tag, always [`ISSUED_SIGN_LEN`] characters.
///
/// Not a secret (it travels on the wire), so `Debug` and `Display` show it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IssuedSign {
    text: [u8; ISSUED_SIGN_LEN],
}

impl IssuedSign {
    fn from_tag(tag: &[u8]) -> Self {
        let mut text = [0u8; ISSUED_SIGN_LEN];
        let written = URL_SAFE.encode_slice(tag, &mut text);
        debug_assert_eq!(written, Ok(ISSUED_SIGN_LEN));
        Self { text }
    }

    /// The signature as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or_default()
    }
}

impl fmt::Display for IssuedSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for IssuedSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuedSign({})", self.as_str())
    }
}
