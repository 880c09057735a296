//! The account's own REST keys: the key the simulator starts with and any further keys a
//! test mints, each with the documented permissions it holds and optional API 2FA.

use std::fmt;

use prime_core::endpoints::Permission;
use prime_core::{ApiSecret, Credentials, CredentialsError, Otp};
use zeroize::Zeroizing;

/// What a minted account key holds: permissions and, optionally, an API 2FA password.
///
/// ```
/// use prime_mock::{AccountKeySpec, MockServer, Permission};
///
/// let server = MockServer::start()?;
/// let query_only = server.mint_account_key(
///     &AccountKeySpec::new([Permission::QueryOpenOrdersAndTrades]),
/// )?;
/// let with_2fa = server.mint_account_key(&AccountKeySpec::new(Permission::ALL).otp("s3cond"))?;
/// // Its credentials carry the password, so every request sends `otp`.
/// assert!(with_2fa.credentials()?.otp().is_some());
/// # let _ = query_only;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct AccountKeySpec {
    pub(crate) permissions: Vec<Permission>,
    pub(crate) otp: Option<Zeroizing<String>>,
    pub(crate) whitelisted_ips: Vec<String>,
}

impl AccountKeySpec {
    /// A key holding `permissions` (none is allowed: it may still manage users and keys).
    pub fn new(permissions: impl IntoIterator<Item = Permission>) -> Self {
        Self {
            permissions: permissions.into_iter().collect(),
            otp: None,
            whitelisted_ips: Vec::new(),
        }
    }

    /// Accepts calls only from these addresses or CIDR ranges; others get
    /// `EGeneral:Permission denied`. Empty (the default) allows all. (Kraken's key settings
    /// have an IP allow-list; the CIDR ranges and the refusal's string are the simulator's
    /// choices.)
    #[must_use]
    pub fn whitelisted_ips<I: Into<String>>(mut self, ips: impl IntoIterator<Item = I>) -> Self {
        self.whitelisted_ips = ips.into_iter().map(Into::into).collect();
        self
    }

    /// Requires API 2FA with this static password: a call without `otp`, or with another
    /// one, is answered `EAPI:Invalid signature` (the simulator's choice: Kraken's pages name
    /// no string for it).
    #[must_use]
    pub fn otp(mut self, password: impl Into<String>) -> Self {
        self.otp = Some(Zeroizing::new(password.into()));
        self
    }
}

impl fmt::Debug for AccountKeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountKeySpec")
            .field("permissions", &self.permissions)
            .field("otp", &self.otp.as_ref().map(|_| "<redacted>"))
            .field("whitelisted_ips", &self.whitelisted_ips)
            .finish()
    }
}

/// A freshly minted account (REST) key: its public key and base64 secret, shown once.
pub struct MintedKey {
    /// The public key (`API-Key`).
    pub api_key: String,
    /// The base64 secret; read it with [`MintedKey::api_secret`], as every one-time secret.
    pub(crate) api_secret: ApiSecret,
    pub(crate) otp: Option<Zeroizing<String>>,
}

impl MintedKey {
    /// The base64 secret, shown once; read its text with [`ApiSecret::expose`].
    pub fn api_secret(&self) -> &ApiSecret {
        &self.api_secret
    }

    /// Ready-to-sign credentials, with the 2FA password when the key requires one.
    ///
    /// # Errors
    /// Only if the 2FA password given to [`AccountKeySpec::otp`] is empty or holds a control
    /// character.
    pub fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let credentials = Credentials::new(&self.api_key, self.api_secret.expose())?;
        Ok(match &self.otp {
            Some(password) => credentials.with_otp(Otp::password(password)?),
            None => credentials,
        })
    }
}

impl fmt::Debug for MintedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.api_key.chars().take(4).collect();
        f.debug_struct("MintedKey")
            .field("api_key", &format_args!("{shown}…"))
            .field("api_secret", &self.api_secret)
            .finish_non_exhaustive()
    }
}
