//! Printing results: short text for people, or JSON with `--json`.

use std::fmt::Write as _;

use prime_core::endpoints::{
    ApiUser, ApiUserKeyInfo, BatchList, DeletedApiUserKey, SettlementBatch, SettlementTransfer,
    UpdatedApiUserKey,
};
use serde::Serialize;

/// Prints `value` as JSON (one document) or as the given text.
pub fn emit<T: Serialize + ?Sized>(json: bool, value: &T, text: impl FnOnce(&T) -> String) {
    if json {
        println!("{}", to_json(value));
    } else {
        print!("{}", text(value));
    }
}

pub fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

pub fn user(user: &ApiUser) -> String {
    let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    format!(
        "user {}  name={:?}  status={}  roles={}\n",
        user.id,
        user.name,
        user.status,
        roles.join(",")
    )
}

pub fn users(users: &[ApiUser]) -> String {
    if users.is_empty() {
        return "no users\n".to_owned();
    }
    users.iter().map(user).collect()
}

pub fn key_info(key: &ApiUserKeyInfo) -> String {
    format!(
        "key {}  api_key={}  user={}  permissions={}  whitelisted_ips={}\n",
        key.id,
        key.key,
        key.user_id,
        key.permissions.join(","),
        list_or_any(&key.whitelisted_ips)
    )
}

pub fn key_infos(keys: &[ApiUserKeyInfo]) -> String {
    if keys.is_empty() {
        return "no keys\n".to_owned();
    }
    keys.iter().map(key_info).collect()
}

pub fn updated_key(key: &UpdatedApiUserKey) -> String {
    format!(
        "key {}  api_key={}  user={}  whitelisted_ips={}\n",
        key.id,
        key.api_key,
        key.user_id,
        list_or_any(&key.whitelisted_ips)
    )
}

pub fn deleted_key(deleted: &DeletedApiUserKey) -> String {
    if deleted.deleted {
        "key deleted\n".to_owned()
    } else {
        "key NOT deleted (the server answered deleted=false)\n".to_owned()
    }
}

pub fn batch(batch: &SettlementBatch) -> String {
    let a = &batch.attributes;
    let mut text = format!(
        "batch {}  status={}  confirmed={}  asset_kind={}  trades={}\n",
        batch.id,
        a.status,
        a.confirmed,
        a.asset_kind.as_ref().map_or("-", |k| k.as_str()),
        a.trade_count
            .map_or_else(|| "-".to_owned(), |n| n.to_string()),
    );
    for leg in &batch.legs {
        let _ = writeln!(
            text,
            "  leg {} {}  status={}  can_settle={}",
            leg.asset, leg.amount, leg.status, leg.can_settle
        );
    }
    text
}

pub fn batch_list(list: &BatchList) -> String {
    let mut text: String = if list.data.is_empty() {
        "no batches\n".to_owned()
    } else {
        list.data.iter().map(batch).collect()
    };
    if list.pagination.as_ref().is_some_and(|p| p.has_more) {
        text.push_str("(more batches: use --offset)\n");
    }
    text
}

pub fn transfer(transfer: &SettlementTransfer) -> String {
    let a = &transfer.attributes;
    format!(
        "transfer {}  status={}  amount={} {}\n",
        transfer.id, a.transfer_status, a.transfer_amount, a.transfer_asset
    )
}

fn list_or_any(ips: &[String]) -> String {
    if ips.is_empty() {
        "(any)".to_owned()
    } else {
        ips.join(",")
    }
}
