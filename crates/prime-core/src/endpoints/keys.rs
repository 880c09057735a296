//! API user keys: create (the one-time secret), list, update the IP allow-list, delete.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::ArgumentError;
use super::argument::check_id;
use super::shape::{Data, Extra, endpoint};
use crate::auth::ApiSecret;

/// Most IP allow-list entries accepted before signing. This crate's own limit: Kraken
/// documents none.
pub const MAX_WHITELISTED_IPS: usize = 1000;

/// `CreatePrimeApiUserKey`: issues a new key for a user. Its result carries the API secret,
/// which Kraken returns only here and never stores.
///
/// Not idempotent: once it may have reached Kraken it is never resent, since a resend would
/// issue a second key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct CreateApiUserKey {
    /// The user to create a key for.
    pub user_id: String,
}

impl CreateApiUserKey {
    /// A request for `user_id`.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
        }
    }

    fn check(&self) -> Result<(), ArgumentError> {
        check_id("user_id", &self.user_id)
    }
}

endpoint!(
    CreateApiUserKey,
    "CreatePrimeApiUserKey",
    NonIdempotent,
    CreatedApiUserKey
);

/// The result of `CreatePrimeApiUserKey`: the new key and its one-time secret.
///
/// `Debug` shows everything but the secret. There is no `Serialize`, so the secret cannot
/// leave through a serializer by accident. The secret is read through one accessor,
/// [`CreatedApiUserKey::api_secret`], as it is on a [`SalvagedKey`](crate::SalvagedKey).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CreatedApiUserKey {
    /// The key's id (used by update and delete as `key_id`).
    pub id: String,
    /// The public key (the `API-Key` header value).
    pub api_key: String,
    /// The secret, shown once (read it with [`CreatedApiUserKey::api_secret`]).
    api_secret: ApiSecret,
    /// The owning user.
    #[serde(default)]
    pub user_id: String,
    /// Permission strings, e.g. `read::marketdata`.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// The IP allow-list.
    #[serde(default)]
    pub whitelisted_ips: Vec<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CreatedApiUserKey {
    /// A created key with the given id, public key and secret, and no other fields (tests,
    /// and replies rebuilt from a salvaged secret).
    pub fn new(id: impl Into<String>, api_key: impl Into<String>, api_secret: ApiSecret) -> Self {
        Self {
            id: id.into(),
            api_key: api_key.into(),
            api_secret,
            user_id: String::new(),
            permissions: Vec::new(),
            whitelisted_ips: Vec::new(),
            extra: Extra::default(),
        }
    }

    /// The one-time secret. Store it now: Kraken keeps no copy.
    pub fn api_secret(&self) -> &ApiSecret {
        &self.api_secret
    }
}

/// `ListPrimeApiUserKeys`: the keys of a user, without secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct ListApiUserKeys {
    /// The user whose keys to list.
    pub user_id: String,
}

impl ListApiUserKeys {
    /// A request for `user_id`.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
        }
    }

    fn check(&self) -> Result<(), ArgumentError> {
        check_id("user_id", &self.user_id)
    }
}

endpoint!(
    ListApiUserKeys,
    "ListPrimeApiUserKeys",
    Idempotent,
    Data<Vec<ApiUserKeyInfo>>
);

/// One key as `ListPrimeApiUserKeys` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiUserKeyInfo {
    /// The key's id.
    pub id: String,
    /// The public key (`key` on the wire; `api_key` here, as in every other key type).
    #[serde(rename = "key")]
    pub api_key: String,
    /// The owning user.
    #[serde(default)]
    pub user_id: String,
    /// Last update time (the unit is not documented).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// Permission strings.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// The IP allow-list.
    #[serde(default)]
    pub whitelisted_ips: Vec<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `UpdatePrimeApiUserKey`: sets a key's IP allow-list.
///
/// Whether the list replaces or merges, and whether `[]` clears it, is not documented; the
/// list is sent as given and omitted when `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct UpdateApiUserKey {
    /// The user who owns the key.
    pub user_id: String,
    /// The key to update.
    pub key_id: String,
    /// IP addresses allowed to use the key. CIDR ranges are accepted too (this crate's
    /// choice: Kraken's pages show single addresses only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whitelisted_ips: Option<Vec<String>>,
}

impl UpdateApiUserKey {
    /// A request that changes nothing yet; set [`Self::whitelisted_ips`].
    pub fn new(user_id: impl Into<String>, key_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            key_id: key_id.into(),
            whitelisted_ips: None,
        }
    }

    /// Sets the IP allow-list: an array of `&str` (an empty `[]` too), or a slice or vector
    /// of `&str` or `String`.
    ///
    /// ```
    /// use prime_core::endpoints::UpdateApiUserKey;
    ///
    /// let one = UpdateApiUserKey::new("U1", "K1").whitelisted_ips(["192.0.2.0/24"]);
    /// let none = UpdateApiUserKey::new("U1", "K1").whitelisted_ips([]);
    /// let owned = UpdateApiUserKey::new("U1", "K1").whitelisted_ips(vec!["10.0.0.1".to_owned()]);
    /// assert_eq!(none.whitelisted_ips, Some(vec![]));
    /// assert_eq!(one.whitelisted_ips.unwrap().len() + owned.whitelisted_ips.unwrap().len(), 2);
    /// ```
    #[must_use]
    pub fn whitelisted_ips(mut self, ips: impl Into<IpList>) -> Self {
        self.whitelisted_ips = Some(ips.into().0);
        self
    }

    fn check(&self) -> Result<(), ArgumentError> {
        check_id("user_id", &self.user_id)?;
        check_id("key_id", &self.key_id)?;
        let Some(ips) = &self.whitelisted_ips else {
            return Ok(());
        };
        if ips.len() > MAX_WHITELISTED_IPS {
            return Err(ArgumentError::new(
                "whitelisted_ips",
                format!("has {} entries; at most {MAX_WHITELISTED_IPS}", ips.len()),
            ));
        }
        for (i, ip) in ips.iter().enumerate() {
            if !is_ip_or_cidr(ip) {
                return Err(ArgumentError::new(
                    "whitelisted_ips",
                    format!("entry {i} is not an IP address or CIDR range"),
                ));
            }
        }
        Ok(())
    }
}

/// An IP allow-list as [`UpdateApiUserKey::whitelisted_ips`] takes it: made from an array
/// of `&str`, or a slice or vector of `&str` or `String`. One conversion per shape (rather
/// than any iterator of anything string-like), and arrays of `&str` only, is what lets an
/// empty `[]` be written without a type annotation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpList(Vec<String>);

impl<const N: usize> From<[&str; N]> for IpList {
    fn from(ips: [&str; N]) -> Self {
        Self(ips.iter().map(|ip| (*ip).to_owned()).collect())
    }
}

impl From<&[&str]> for IpList {
    fn from(ips: &[&str]) -> Self {
        Self(ips.iter().map(|ip| (*ip).to_owned()).collect())
    }
}

impl From<Vec<&str>> for IpList {
    fn from(ips: Vec<&str>) -> Self {
        Self(ips.into_iter().map(str::to_owned).collect())
    }
}

impl From<Vec<String>> for IpList {
    fn from(ips: Vec<String>) -> Self {
        Self(ips)
    }
}

impl From<&[String]> for IpList {
    fn from(ips: &[String]) -> Self {
        Self(ips.to_vec())
    }
}

impl From<&Vec<String>> for IpList {
    fn from(ips: &Vec<String>) -> Self {
        Self(ips.clone())
    }
}

/// `192.0.2.1`, `2001:db8::1`, `192.0.2.0/24` or `2001:db8::/32`.
pub(crate) fn is_ip_or_cidr(text: &str) -> bool {
    let (addr, prefix) = match text.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (text, None),
    };
    let Ok(addr) = addr.parse::<IpAddr>() else {
        return false;
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    prefix.is_none_or(|p| {
        p.len() <= 3
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u8>().is_ok_and(|p| p <= max)
    })
}

endpoint!(
    UpdateApiUserKey,
    "UpdatePrimeApiUserKey",
    NonIdempotent,
    UpdatedApiUserKey
);

/// The result of `UpdatePrimeApiUserKey`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdatedApiUserKey {
    /// The key's id.
    pub id: String,
    /// The public key.
    pub api_key: String,
    /// The owning user.
    #[serde(default)]
    pub user_id: String,
    /// Permission strings.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// The IP allow-list now in force.
    #[serde(default)]
    pub whitelisted_ips: Vec<String>,
    /// Update time (the unit is not documented).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `DeletePrimeApiUserKey`: deletes a key for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct DeleteApiUserKey {
    /// The user who owns the key.
    pub user_id: String,
    /// The key to delete.
    pub key_id: String,
}

impl DeleteApiUserKey {
    /// A request to delete `key_id` of `user_id`.
    pub fn new(user_id: impl Into<String>, key_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            key_id: key_id.into(),
        }
    }

    fn check(&self) -> Result<(), ArgumentError> {
        check_id("user_id", &self.user_id)?;
        check_id("key_id", &self.key_id)
    }
}

endpoint!(
    DeleteApiUserKey,
    "DeletePrimeApiUserKey",
    NonIdempotent,
    DeletedApiUserKey
);

/// The result of `DeletePrimeApiUserKey`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletedApiUserKey {
    /// Whether the key was deleted.
    pub deleted: bool,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}
