//! `prime sign`: a signature for each scheme, from flags and a secret.
//!
//! - `rest` (default): `API-Sign` of a REST call, signed with the account key's base64 secret.
//! - `prime-ws`: `ApiSign` of a Prime WebSocket connection, signed with an issued key's secret
//!   text.
//! - `prime-fix`: `96` RawData of a Prime FIX Logon, signed with an issued key's secret text.
//!
//! The secret comes from `KRAKEN_API_SECRET` or `--secret-file` (read as raw text; one final
//! line break is ignored, as files end with one). It is never printed.

use std::path::Path;

use prime_core::SigningKey;
use prime_core::diagnosis::{Diagnoser, RestInputs};
use prime_core::issued::{IssuedCredentials, UtcTimestamp};
use zeroize::Zeroizing;

use crate::cli::{SignArgs, SignScheme};
use crate::credentials::{SECRET_VAR, secret_from_env};
use crate::failure::Failure;
use crate::output;

pub fn run(args: &SignArgs, json: bool) -> Result<(), Failure> {
    let (name, signature) = match args.scheme {
        SignScheme::Rest => ("api_sign", rest(args)?),
        SignScheme::PrimeWs => ("api_sign", prime_ws(args)?),
        SignScheme::PrimeFix => ("raw_data", prime_fix(args)?),
    };
    if let Some(expected) = &args.expect {
        return expect(args, &signature, expected.trim(), json);
    }
    if json {
        output::stdout(&format!(
            "{}\n",
            output::to_json(&serde_json::json!({ name: signature }))
        ))
    } else {
        output::stdout(&format!("{signature}\n"))
    }
}

/// `--expect`: 0 when the given signature is the right one; otherwise the known mistakes that
/// reproduce it, one `diagnosis: <id>: <explanation>` line each (or `diagnosis: unknown`), and
/// exit 1.
fn expect(args: &SignArgs, signature: &str, expected: &str, json: bool) -> Result<(), Failure> {
    if expected == signature {
        return if json {
            output::stdout(&format!(
                "{}\n",
                output::to_json(&serde_json::json!({ "match": true, "signature": signature }))
            ))
        } else {
            output::stdout(&format!("match: {signature}\n"))
        };
    }
    let mistakes = match args.scheme {
        SignScheme::Rest => {
            let (secret, source) = secret(args.secret_file.as_deref())?;
            let diagnoser = Diagnoser::from_base64_secret(&secret)
                .map_err(|e| Failure::Usage(format!("{source}: {e}")))?;
            let inputs = RestInputs::new(
                args.path.as_deref().unwrap_or_default(),
                args.nonce.as_deref().unwrap_or_default(),
                args.body.as_deref().unwrap_or_default().as_bytes(),
            );
            diagnoser.diagnose(&inputs, expected)
        }
        SignScheme::PrimeWs | SignScheme::PrimeFix => Vec::new(),
    };
    // Prime WebSocket and FIX: the same HMAC, written in another encoding.
    let encoding = match args.scheme {
        SignScheme::Rest => Vec::new(),
        SignScheme::PrimeWs | SignScheme::PrimeFix => encoding_mistakes(signature, expected),
    };
    let lines: Vec<(&str, &str)> = if !encoding.is_empty() {
        encoding
    } else if mistakes.is_empty() {
        vec![(
            "unknown",
            "no known mistake reproduces this signature (a different secret, or different inputs were signed)",
        )]
    } else {
        mistakes.iter().map(|m| (m.id(), m.explanation())).collect()
    };
    if json {
        let diagnosis: Vec<_> = lines
            .iter()
            .map(|(id, explanation)| serde_json::json!({ "id": id, "explanation": explanation }))
            .collect();
        output::stdout(&format!(
            "{}\n",
            output::to_json(&serde_json::json!({
                "match": false,
                "signature": signature,
                "diagnosis": diagnosis,
            }))
        ))?;
    } else {
        let mut text = format!("mismatch: computed {signature}\n");
        for (id, explanation) in &lines {
            text.push_str(&format!("diagnosis: {id}: {explanation}\n"));
        }
        output::stdout(&text)?;
    }
    Err(Failure::Call(
        "the given signature is not the right one".to_owned(),
    ))
}

/// The encoding mistakes that turn the right Prime WebSocket/FIX signature (URL-safe base64,
/// padded) into `given`: the same HMAC in standard base64, without padding, or as hex.
fn encoding_mistakes(signature: &str, given: &str) -> Vec<(&'static str, &'static str)> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let Ok(mac) = URL_SAFE.decode(signature) else {
        return Vec::new();
    };
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    let candidates: [(String, &'static str, &'static str); 4] = [
        (
            STANDARD.encode(&mac),
            "standard-base64",
            "encoded with standard base64 (+ and /) instead of URL-safe base64 (- and _)",
        ),
        (
            URL_SAFE_NO_PAD.encode(&mac),
            "unpadded-base64",
            "URL-safe base64 without its = padding; Prime expects it padded",
        ),
        (
            STANDARD_NO_PAD.encode(&mac),
            "standard-base64-unpadded",
            "standard base64 (+ and /) without padding instead of padded URL-safe base64",
        ),
        (
            hex,
            "hex-digest",
            "the HMAC as hex digits instead of URL-safe base64",
        ),
    ];
    candidates
        .into_iter()
        .filter(|(encoded, _, _)| encoded.eq_ignore_ascii_case(given) && encoded != signature)
        .filter(|(encoded, id, _)| *id == "hex-digest" || encoded == given)
        .map(|(_, id, explanation)| (id, explanation))
        .collect()
}

/// `--flag` for a scheme, or a usage error naming it.
fn required<'a>(value: Option<&'a str>, flag: &str, scheme: &str) -> Result<&'a str, Failure> {
    value.ok_or_else(|| Failure::Usage(format!("--scheme {scheme} needs {flag}")))
}

/// Refuses flags that belong to another scheme: a silently ignored flag would sign something
/// other than what the user meant.
fn refuse_others(args: &SignArgs, allowed: &[&str], scheme: &str) -> Result<(), Failure> {
    let given = [
        ("--path", args.path.is_some()),
        ("--nonce", args.nonce.is_some()),
        ("--body", args.body.is_some()),
        ("--timestamp", args.timestamp.is_some()),
        ("--host", args.host.is_some()),
        ("--sending-time", args.sending_time.is_some()),
        ("--seq-num", args.seq_num.is_some()),
        ("--sender", args.sender.is_some()),
        ("--target", args.target.is_some()),
    ];
    match given
        .iter()
        .find(|(flag, set)| *set && !allowed.contains(flag))
    {
        Some((flag, _)) => Err(Failure::Usage(format!(
            "{flag} does not apply to --scheme {scheme}"
        ))),
        None => Ok(()),
    }
}

fn rest(args: &SignArgs) -> Result<String, Failure> {
    refuse_others(args, &["--path", "--nonce", "--body"], "rest")?;
    let path = required(args.path.as_deref(), "--path", "rest")?;
    let nonce = required(args.nonce.as_deref(), "--nonce", "rest")?;
    let body = required(args.body.as_deref(), "--body", "rest")?;
    if nonce.is_empty() || nonce.len() > 20 || !nonce.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::Usage(
            "the nonce must be 1 to 20 decimal digits".to_owned(),
        ));
    }
    let (secret, source) = secret(args.secret_file.as_deref())?;
    let key =
        SigningKey::from_base64(&secret).map_err(|e| Failure::Usage(format!("{source}: {e}")))?;
    crate::credentials::warn_if_unusual_length(&key);
    Ok(key
        .sign(path, nonce.as_bytes(), body.as_bytes())
        .to_string())
}

fn prime_ws(args: &SignArgs) -> Result<String, Failure> {
    refuse_others(args, &["--timestamp", "--host", "--path"], "prime-ws")?;
    let timestamp = required(args.timestamp.as_deref(), "--timestamp", "prime-ws")?;
    let host = required(args.host.as_deref(), "--host", "prime-ws")?;
    let path = required(args.path.as_deref(), "--path", "prime-ws")?;
    // Parsed for its form only; the text itself is what is signed (and sent).
    UtcTimestamp::parse_api_timestamp(timestamp)
        .map_err(|e| Failure::Usage(format!("--timestamp {timestamp}: {e}")))?;
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Failure::Usage(format!(
            "--host {host:?}: the Host header as sent, printable ASCII without spaces"
        )));
    }
    if !path.starts_with('/') || !path.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Failure::Usage(format!(
            "--path {path:?}: the request path, starting with / (e.g. /ws/v1)"
        )));
    }
    let credentials = issued(args.secret_file.as_deref())?;
    Ok(credentials.ws_sign(timestamp, host, path).to_string())
}

fn prime_fix(args: &SignArgs) -> Result<String, Failure> {
    refuse_others(
        args,
        &["--sending-time", "--seq-num", "--sender", "--target"],
        "prime-fix",
    )?;
    let sending_time = required(args.sending_time.as_deref(), "--sending-time", "prime-fix")?;
    let seq_num = args
        .seq_num
        .ok_or_else(|| Failure::Usage("--scheme prime-fix needs --seq-num".to_owned()))?;
    let sender = required(args.sender.as_deref(), "--sender", "prime-fix")?;
    let target = required(args.target.as_deref(), "--target", "prime-fix")?;
    UtcTimestamp::parse_sending_time(sending_time)
        .map_err(|e| Failure::Usage(format!("--sending-time {sending_time}: {e}")))?;
    if seq_num == 0 {
        return Err(Failure::Usage(
            "--seq-num: MsgSeqNum starts at 1".to_owned(),
        ));
    }
    for (flag, value) in [("--sender", sender), ("--target", target)] {
        if value.is_empty() || value.contains('\u{1}') {
            return Err(Failure::Usage(format!(
                "{flag}: a CompID is non-empty and has no SOH (0x01)"
            )));
        }
    }
    let credentials = issued(args.secret_file.as_deref())?;
    Ok(credentials
        .fix_raw_data(sending_time, &seq_num.to_string(), sender, target)
        .to_string())
}

/// Issued-key credentials for signing only: the key does not enter these signatures.
fn issued(secret_file: Option<&Path>) -> Result<IssuedCredentials, Failure> {
    let (secret, source) = secret(secret_file)?;
    IssuedCredentials::new("-", &secret).map_err(|e| Failure::Usage(format!("{source}: {e}")))
}

/// The secret and where it came from (for messages).
fn secret(secret_file: Option<&Path>) -> Result<(Zeroizing<String>, String), Failure> {
    match secret_file {
        Some(path) => Ok((read_secret_file(path)?, path.display().to_string())),
        None => Ok((secret_from_env()?, SECRET_VAR.to_owned())),
    }
}

/// A secret file's text without its final line break (`\n` or `\r\n`); anything else in it
/// is kept, so a secret that really has other whitespace is refused, not silently changed.
pub fn read_secret_file(path: &Path) -> Result<Zeroizing<String>, Failure> {
    let bytes =
        Zeroizing::new(std::fs::read(path).map_err(|e| {
            Failure::Usage(format!("cannot read secret file {}: {e}", path.display()))
        })?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::Usage(format!("secret file {} is not UTF-8 text", path.display())))?;
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    Ok(Zeroizing::new(text.to_owned()))
}
