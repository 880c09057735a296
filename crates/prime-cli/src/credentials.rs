//! Where the command's credentials come from: the environment or a JSON file.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use std::io::Write as _;
use std::sync::Once;

use prime_core::{ApiSecret, Credentials, Otp, SECRET_LEN, SigningKey};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::cli::{Global, NonceOrder};
use crate::failure::Failure;

/// Environment variable holding the public API key.
pub const KEY_VAR: &str = "KRAKEN_API_KEY";
/// Environment variable holding the base64 API secret.
pub const SECRET_VAR: &str = "KRAKEN_API_SECRET";
/// Environment variable holding the key's API 2FA one-time password (a static password or
/// the current TOTP code); `--otp` overrides it.
pub const OTP_VAR: &str = "KRAKEN_API_OTP";

/// The credentials file: what `prime mock` prints on its first line.
#[derive(Deserialize)]
struct CredentialsFile {
    api_key: String,
    api_secret: ApiSecret,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    otp: Option<ApiSecret>,
}

/// Credentials and, from a credentials file, the URL they belong to.
pub struct Loaded {
    pub credentials: Credentials,
    pub url: Option<String>,
}

/// Reads `--credentials FILE`, or else `KRAKEN_API_KEY` / `KRAKEN_API_SECRET`, and the API
/// 2FA password from `--otp`, else `KRAKEN_API_OTP`, else the file's `otp`.
pub fn load(global: &Global) -> Result<Loaded, Failure> {
    let (loaded, file_otp) = match &global.credentials {
        Some(path) => from_file(path)?,
        None => (from_env()?, None),
    };
    warn_if_unusual_length(loaded.credentials.signing_key());
    let otp = match (&global.otp, std::env::var(OTP_VAR)) {
        (Some(otp), _) => Some(otp.0.clone()),
        (None, Ok(otp)) => Some(Zeroizing::new(otp)),
        (None, Err(_)) => file_otp,
    };
    let Some(otp) = otp else {
        return Ok(loaded);
    };
    crate::failure::note_otp_given();
    let otp = Otp::password(&otp).map_err(|e| Failure::Usage(format!("--otp/{OTP_VAR}: {e}")))?;
    Ok(Loaded {
        credentials: loaded.credentials.with_otp(otp),
        url: loaded.url,
    })
}

/// Kraken issues 64-byte REST secrets; another length still signs (HMAC takes any key), but
/// is more often a truncated or doubled copy, so say so, once per run, on stderr.
pub fn warn_if_unusual_length(key: &SigningKey) {
    static WARNED: Once = Once::new();
    let len = key.secret_len();
    if len != SECRET_LEN {
        WARNED.call_once(|| {
            // stderr may be closed: a failed warning is not worth failing the command.
            let _ = writeln!(
                std::io::stderr(),
                "prime: warning: the API secret decodes to {len} bytes, not the {SECRET_LEN} of \
                 Kraken's REST secrets; signing anyway (check it was not truncated)"
            );
        });
    }
}

fn from_file(path: &Path) -> Result<(Loaded, Option<Zeroizing<String>>), Failure> {
    let text = Zeroizing::new(std::fs::read(path).map_err(|e| {
        Failure::Usage(format!(
            "cannot read credentials file {}: {e}",
            path.display()
        ))
    })?);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(Failure::Usage(format!(
            "credentials file {} is empty (if `prime mock` is still starting, wait for it, or have it write the file with --credentials-out)",
            path.display()
        )));
    }
    // serde_json's messages could quote a value; only the position is reported.
    let file: CredentialsFile = serde_json::from_slice(&text).map_err(|e| {
        Failure::Usage(format!(
            "credentials file {} is not JSON with string fields `api_key` and `api_secret` (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    let credentials = Credentials::new(&file.api_key, file.api_secret.expose())
        .map_err(|e| Failure::Usage(format!("credentials file {}: {e}", path.display())))?;
    let otp = file.otp.map(|otp| Zeroizing::new(otp.expose().to_owned()));
    Ok((
        Loaded {
            credentials,
            url: file.url,
        },
        otp,
    ))
}

fn from_env() -> Result<Loaded, Failure> {
    let key = std::env::var(KEY_VAR).map_err(|e| match e {
        std::env::VarError::NotPresent => Failure::Usage(format!(
            "{KEY_VAR} is not set: export it and {SECRET_VAR}, or pass --credentials FILE"
        )),
        std::env::VarError::NotUnicode(_) => not_unicode(KEY_VAR),
    })?;
    let secret = secret_from_env()?;
    let credentials = Credentials::new(&key, &secret)
        .map_err(|e| Failure::Usage(format!("{KEY_VAR}/{SECRET_VAR}: {e}")))?;
    Ok(Loaded {
        credentials,
        url: None,
    })
}

/// `KRAKEN_API_SECRET`, in a buffer that is wiped on drop.
pub fn secret_from_env() -> Result<Zeroizing<String>, Failure> {
    std::env::var(SECRET_VAR)
        .map(Zeroizing::new)
        .map_err(|e| match e {
            std::env::VarError::NotPresent => Failure::Usage(format!(
                "{SECRET_VAR} is not set (base64, as Kraken showed it)"
            )),
            // The value is never shown.
            std::env::VarError::NotUnicode(_) => not_unicode(SECRET_VAR),
        })
}

/// A variable that is set but holds bytes that are not UTF-8 (a wrong encoding or a stray
/// byte): saying "not set" would send the user looking in the wrong place.
fn not_unicode(var: &str) -> Failure {
    Failure::Usage(format!(
        "{var} is set but is not valid UTF-8 text (a stray byte or a wrong encoding?); \
         it must be the plain ASCII text Kraken showed"
    ))
}

/// A blocking client for the global options and credentials.
pub fn client(global: &Global) -> Result<prime_blocking::Client, Failure> {
    // Checked first: a bad option is reported before anything about credentials.
    let timeout = timeout(global.timeout)?;
    let loaded = load(global)?;
    let base_url = global
        .base_url
        .clone()
        .or(loaded.url)
        .unwrap_or_else(|| prime_core::DEFAULT_BASE_URL.to_owned());
    // Every wait is bounded by what is left of the command's --timeout; the watchdog ends
    // what still runs past it. Rate limits and lockouts are not waited out (the default
    // policy): the command ends with the wait Kraken's guides call for, uncapped, since it is
    // advice for the next command, not a wait of this one.
    let left = crate::budget::remaining(timeout).max(Duration::from_millis(1));
    let default = prime_core::RetryPolicy::default();
    let policy = prime_core::RetryPolicy::default()
        .with_delays(default.base_delay.min(left), default.max_delay.min(left))
        .with_max_throttle_wait(default.max_throttle_wait.min(left));
    let builder = prime_blocking::Client::builder(loaded.credentials)
        .base_url(&base_url)
        .timeout(timeout.min(left))
        .retry_policy(policy)
        .nonce_unit(global.nonce_unit);
    let send_order_dir = match (global.nonce_order, &global.send_order_dir) {
        (NonceOrder::Off, _) => None,
        (NonceOrder::Host, Some(dir)) => Some(dir.clone()),
        (NonceOrder::Host, None) => {
            Some(prime_blocking::HostSendOrder::state_dir().ok_or_else(|| {
                Failure::Usage(
                    "no state directory for the host send order: set --send-order-dir \
                     (PRIME_SEND_ORDER_DIR), XDG_STATE_HOME or HOME, or turn the order off with \
                     --nonce-order off"
                        .to_owned(),
                )
            })?)
        }
    };
    let builder = match send_order_dir {
        Some(dir) => builder.send_order(Arc::new(prime_blocking::HostSendOrder::in_dir(dir))),
        None => builder,
    };
    builder.build().map_err(Failure::from)
}

/// The longest `--timeout`: a day. Far larger values overflow the clock arithmetic below.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// `--timeout`, checked: more than zero, at most [`MAX_TIMEOUT`], a number.
pub fn timeout(seconds: f64) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero() && *d <= MAX_TIMEOUT)
        .ok_or_else(|| {
            Failure::Usage(format!(
                "--timeout {seconds}: must be a number of seconds above 0 and at most {} (one day)",
                MAX_TIMEOUT.as_secs()
            ))
        })
}
