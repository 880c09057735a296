//! Printing results: short text for people, or JSON with `--json`.
//!
//! Nothing here uses the standard print macros (they panic when stdout is closed or full): every
//! write returns its error, and [`Failure::from_stdout`] turns a reader that went away into a
//! quiet exit 0 and any other failure into exit 1. Server-provided text is passed through
//! [`clean`] before it reaches a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use crate::failure::Failure;

use prime_core::endpoints::{
    ApiUser, ApiUserKeyInfo, BatchList, DeletedApiUserKey, SettlementBatch, SettlementTransfer,
    UpdatedApiUserKey,
};
use serde::Serialize;

/// Prints `value` as JSON (one document) or as the given text.
pub fn emit<T: Serialize + ?Sized>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> Result<(), Failure> {
    if json {
        stdout(&format!("{}\n", to_json(value)))
    } else {
        stdout(&text(value))
    }
}

/// Writes `text` to stdout and flushes it.
///
/// # Errors
/// [`Failure::from_stdout`] of the write error.
pub fn stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Failure::from_stdout)
}

/// Writes `text` to stderr; a failure to do so is ignored (there is nowhere left to report it).
pub fn stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Prints a failed command's message as one line on stderr (escaped: it may quote what a
/// server sent) and returns its exit code.
pub fn report(failure: Failure) -> ExitCode {
    if !matches!(failure, Failure::StdoutClosed) {
        stderr(&format!("prime: {}\n", clean(&failure.to_string())));
    }
    failure.exit_code()
}

/// Escapes what could act on a terminal instead of being shown: control characters (C0, DEL,
/// C1: line breaks, carriage returns, ESC sequences, bells), Unicode line/paragraph separators
/// and the invisible formatting characters used to spoof text (bidi overrides, zero-width
/// characters). Each becomes `\u{XX}`; everything else is kept as is.
///
/// Applied to every server-provided or file-provided string in text output; JSON output is
/// escaped by the JSON encoder.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

pub fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

pub fn user(user: &ApiUser) -> String {
    let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    format!(
        "user {}  name=\"{}\"  status={}  roles={}\n",
        clean(&user.id),
        clean(&user.name),
        clean(user.status.as_str()),
        clean(&roles.join(","))
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
        clean(&key.id),
        clean(&key.api_key),
        clean(&key.user_id),
        clean(&key.permissions.join(",")),
        clean(&list_or_any(&key.whitelisted_ips))
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
        clean(&key.id),
        clean(&key.api_key),
        clean(&key.user_id),
        clean(&list_or_any(&key.whitelisted_ips))
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
        clean(&batch.id),
        clean(a.status.as_str()),
        a.confirmed,
        clean(a.asset_kind.as_ref().map_or("-", |k| k.as_str())),
        a.trade_count
            .map_or_else(|| "-".to_owned(), |n| n.to_string()),
    );
    for leg in &batch.legs {
        let _ = writeln!(
            text,
            "  leg {} {}  status={}  can_settle={}",
            clean(&leg.asset),
            clean(&leg.amount.to_string()),
            clean(leg.status.as_str()),
            leg.can_settle
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
        clean(&transfer.id),
        clean(a.status.as_str()),
        clean(&a.amount.to_string()),
        clean(&a.asset)
    )
}

fn list_or_any(ips: &[String]) -> String {
    if ips.is_empty() {
        "(any)".to_owned()
    } else {
        ips.join(",")
    }
}
