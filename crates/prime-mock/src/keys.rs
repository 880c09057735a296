//! `CreatePrimeApiUserKey`, `ListPrimeApiUserKeys`, `UpdatePrimeApiUserKey`,
//! `DeletePrimeApiUserKey`.

use std::net::IpAddr;

use prime_core::IssuedCredentials;
use prime_core::endpoints::{
    ApiUserKeyInfo, CreateApiUserKey, Data, DeleteApiUserKey, DeletedApiUserKey, Extra,
    ListApiUserKeys, Role, UpdateApiUserKey, UpdatedApiUserKey,
};

use crate::account::{Account, Rejection, invalid, success};

/// The permission strings an issued key reports. Kraken documents only the shape
/// (`read::marketdata`); these names are the simulator's, derived from the owner's role at
/// the time of the call ("Viewer: read-only — query orders, balances, and exposure";
/// "Trader: read + trade — submit and amend orders").
fn permissions(role: &Role) -> Vec<String> {
    let mut permissions = vec!["read::marketdata".to_owned(), "read::orders".to_owned()];
    if *role == Role::Trader {
        permissions.push("write::orders".to_owned());
    }
    permissions
}

impl Account {
    fn user_for_keys(&self, user_id: &str) -> Result<usize, Rejection> {
        self.user_index(user_id).ok_or_else(|| invalid("user_id"))
    }

    /// The live key `key_id` of `user`.
    fn users_key(&self, user: usize, key_id: &str) -> Result<usize, Rejection> {
        self.keys
            .iter()
            .position(|k| k.id == key_id && k.owner == Some(user) && !k.deleted)
            .ok_or_else(|| invalid("key_id"))
    }

    /// The secret text is put in the response once; the simulator keeps it only for the
    /// WebSocket/FIX checks of the key (its own copy, zeroized on drop). The response is built with `json!` because the core's
    /// `CreatedApiUserKey` deliberately cannot be serialized.
    pub(crate) fn create_api_user_key(
        &mut self,
        args: CreateApiUserKey,
    ) -> Result<Vec<u8>, Rejection> {
        let user = self.user_for_keys(&args.user_id)?;
        let (api_key, secret) = self.issue_key(user);
        let key = self.keys.last().ok_or_else(|| invalid("user_id"))?;
        let body = serde_json::json!({
            "error": [],
            "result": {
                "id": key.id,
                "api_key": api_key,
                "api_secret": secret.expose(),
                "user_id": args.user_id,
                "permissions": permissions(&self.users[user].role),
                "whitelisted_ips": key.whitelisted_ips,
            }
        });
        serde_json::to_vec(&body)
            .map_err(|_| prime_core::ErrorCode::InternalError.as_str().to_owned())
    }

    pub(crate) fn list_api_user_keys(&self, args: ListApiUserKeys) -> Result<Vec<u8>, Rejection> {
        let user = self.user_for_keys(&args.user_id)?;
        let role = &self.users[user].role;
        let keys: Vec<_> = self
            .keys
            .iter()
            .filter(|k| k.owner == Some(user) && !k.deleted)
            .map(|k| ApiUserKeyInfo {
                id: k.id.clone(),
                api_key: k.api_key.clone(),
                user_id: args.user_id.clone(),
                updated_at: Some(k.updated_at),
                permissions: permissions(role),
                whitelisted_ips: k.whitelisted_ips.clone(),
                extra: Extra::new(),
            })
            .collect();
        Ok(success(&Data {
            data: keys,
            extra: Extra::new(),
        }))
    }

    /// The list replaces the allow-list (`[]` clears it); without a list nothing changes but
    /// `updated_at`. The spec leaves both open; replacing is what a settings form does.
    pub(crate) fn update_api_user_key(
        &mut self,
        args: UpdateApiUserKey,
    ) -> Result<Vec<u8>, Rejection> {
        let user = self.user_for_keys(&args.user_id)?;
        let index = self.users_key(user, &args.key_id)?;
        let updated_at = self.clock.now_ms();
        let role = self.users[user].role.clone();
        let key = &mut self.keys[index];
        if let Some(ips) = args.whitelisted_ips {
            key.whitelisted_ips = ips;
        }
        key.updated_at = updated_at;
        Ok(success(&UpdatedApiUserKey {
            id: key.id.clone(),
            api_key: key.api_key.clone(),
            user_id: args.user_id,
            permissions: permissions(&role),
            whitelisted_ips: key.whitelisted_ips.clone(),
            updated_at: Some(updated_at),
            extra: Extra::new(),
        }))
    }

    /// Deleted keys are kept as tombstones so they answer `EAPI:Invalid key` for good.
    pub(crate) fn delete_api_user_key(
        &mut self,
        args: DeleteApiUserKey,
    ) -> Result<Vec<u8>, Rejection> {
        let user = self.user_for_keys(&args.user_id)?;
        let index = self.users_key(user, &args.key_id)?;
        self.keys[index].deleted = true;
        Ok(success(&DeletedApiUserKey {
            deleted: true,
            extra: Extra::new(),
        }))
    }
}

/// An issued key as the WebSocket and FIX checks see it.
pub(crate) struct IssuedKey {
    /// The prepared secret to verify `ApiSign` / `96` RawData with.
    pub(crate) credentials: IssuedCredentials,
    /// Whether the key's IP allow-list (if any) admits the peer.
    pub(crate) peer_allowed: bool,
}

/// The one-line reason an unknown, deleted or disabled-user key is refused on WebSocket and
/// FIX. The account key is not an issued key and is refused the same way.
pub(crate) const NOT_A_LIVE_ISSUED_KEY: &str =
    "not a live issued key (unknown, deleted, or its user is disabled)";

impl Account {
    /// The live issued key `api_key` (not deleted, its user enabled), with the same state the
    /// REST checks use, and whether `peer` is on its allow-list.
    ///
    /// # Errors
    /// [`NOT_A_LIVE_ISSUED_KEY`].
    pub(crate) fn issued_key(
        &self,
        api_key: &str,
        peer: IpAddr,
    ) -> Result<IssuedKey, &'static str> {
        let view = self.live_issued_key(api_key).ok_or(NOT_A_LIVE_ISSUED_KEY)?;
        // Prepared per check from the kept text: the secret is used as text, never decoded.
        let credentials =
            IssuedCredentials::new(view.api_key, view.secret).map_err(|_| NOT_A_LIVE_ISSUED_KEY)?;
        let peer_allowed = view.whitelisted_ips.is_empty()
            || view
                .whitelisted_ips
                .iter()
                .any(|entry| crate::account::ip_matches(entry, peer));
        Ok(IssuedKey {
            credentials,
            peer_allowed,
        })
    }
}
