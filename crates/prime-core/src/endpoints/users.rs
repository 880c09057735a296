//! API users: create, get, list, update name/status, set the role.

use serde::{Deserialize, Serialize};

use super::ArgumentError;
use super::argument::{check_id, check_word};
use super::shape::{Data, Extra, endpoint, string_enum};

/// Longest user name accepted before signing. This crate's own limit: Kraken documents
/// none; it only keeps an absurd name from being signed and sent.
pub const MAX_NAME_LEN: usize = 256;

string_enum! {
    /// A Prime API user's role, which governs what the user's issued keys may do on Prime
    /// WebSocket and Prime FIX. Kraken's Prime overview: `Viewer` is "Read-only — query
    /// orders, balances, and exposure", `Trader` is "Read + trade — submit and amend orders".
    ///
    /// Roles do not govern the REST endpoints: settlement (and every other Prime REST call)
    /// is made with the institution's account key, and the settlement pages gate it by that
    /// key's permissions (`Orders and trades - Create & modify orders` to create and settle,
    /// `Orders and trades - Query open orders & trades` to get and list).
    pub enum Role {
        /// Read + trade: submit and amend orders.
        Trader => "Trader",
        /// Read-only: query orders, balances and exposure.
        Viewer => "Viewer",
    }
}

string_enum! {
    /// Whether a user is active.
    pub enum UserStatus {
        /// Active.
        Enabled => "Enabled",
        /// Disabled. Kraken does not document what this does to the user's keys; the
        /// simulator refuses them.
        Disabled => "Disabled",
    }
}

fn check_name(name: &str) -> Result<(), ArgumentError> {
    if name.trim().is_empty() {
        return Err(ArgumentError::new("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ArgumentError::new(
            "name",
            format!("is longer than {MAX_NAME_LEN} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ArgumentError::new(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A Prime API user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiUser {
    /// The user's id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Enabled or disabled.
    pub status: UserStatus,
    /// Roles (requests set one `role`; users carry a list).
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `CreatePrimeApiUser`: a new user with a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct CreateApiUser {
    /// Display name.
    pub name: String,
    /// The role to assign.
    pub role: Role,
}

impl CreateApiUser {
    /// A request for a user called `name` with `role`.
    pub fn new(name: impl Into<String>, role: Role) -> Self {
        Self {
            name: name.into(),
            role,
        }
    }

    fn check(&self) -> Result<(), ArgumentError> {
        check_name(&self.name)?;
        check_word("role", self.role.as_str())
    }
}

endpoint!(CreateApiUser, "CreatePrimeApiUser", NonIdempotent, ApiUser);

/// `GetPrimeApiUser`: one user by id (returned wrapped in `data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct GetApiUser {
    /// The user to fetch.
    pub user_id: String,
}

impl GetApiUser {
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

endpoint!(GetApiUser, "GetPrimeApiUser", Idempotent, Data<ApiUser>);

/// `ListPrimeApiUsers`: every user of the account (no pagination is documented).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct ListApiUsers {}

impl ListApiUsers {
    /// The request (it has no fields).
    pub fn new() -> Self {
        Self {}
    }

    #[allow(clippy::unused_self, clippy::unnecessary_wraps)]
    fn check(&self) -> Result<(), ArgumentError> {
        Ok(())
    }
}

endpoint!(
    ListApiUsers,
    "ListPrimeApiUsers",
    Idempotent,
    Data<Vec<ApiUser>>
);

/// `UpdatePrimeApiUser`: changes a user's name and/or status (`Disabled` is how users are
/// retired; there is no delete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct UpdateApiUser {
    /// The user to update.
    pub user_id: String,
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
}

impl UpdateApiUser {
    /// A request that changes nothing yet; set [`Self::name`] and/or [`Self::status`].
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            name: None,
            status: None,
        }
    }

    /// Sets the new name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the new status.
    #[must_use]
    pub fn status(mut self, status: UserStatus) -> Self {
        self.status = Some(status);
        self
    }

    fn check(&self) -> Result<(), ArgumentError> {
        check_id("user_id", &self.user_id)?;
        if let Some(name) = &self.name {
            check_name(name)?;
        }
        if let Some(status) = &self.status {
            check_word("status", status.as_str())?;
        }
        Ok(())
    }
}

endpoint!(UpdateApiUser, "UpdatePrimeApiUser", NonIdempotent, ApiUser);

/// `UpdatePrimeApiUserRoles`: sets a user's role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deserialize-requests", derive(Deserialize))]
#[serde(deny_unknown_fields)]
pub struct UpdateApiUserRoles {
    /// The user to update.
    pub user_id: String,
    /// The role to assign.
    pub role: Role,
}

impl UpdateApiUserRoles {
    /// A request giving `user_id` the `role`.
    pub fn new(user_id: impl Into<String>, role: Role) -> Self {
        Self {
            user_id: user_id.into(),
            role,
        }
    }

    fn check(&self) -> Result<(), ArgumentError> {
        check_id("user_id", &self.user_id)?;
        check_word("role", self.role.as_str())
    }
}

endpoint!(
    UpdateApiUserRoles,
    "UpdatePrimeApiUserRoles",
    NonIdempotent,
    ApiUser
);
