//! Handing a created key's one-time secret to the user: to the `--secret-out` file, or to
//! stdout, and if either fails, to stderr. The secret is never dropped silently.

use std::borrow::Cow;

use prime_core::endpoints::CreatedApiUserKey;
use prime_core::{ApiSecret, SalvagedKey};
use serde_json::json;

use crate::failure::Failure;
use crate::output::{self, clean};
use crate::secret_file::SecretFile;

/// What is known of a created key: everything for a well-formed reply, at least the secret
/// for an odd one.
pub struct NewKey<'a> {
    id: Option<&'a str>,
    api_key: Option<&'a str>,
    user_id: Option<&'a str>,
    permissions: Option<&'a [String]>,
    whitelisted_ips: Option<&'a [String]>,
    secret: &'a ApiSecret,
}

impl<'a> From<&'a CreatedApiUserKey> for NewKey<'a> {
    fn from(key: &'a CreatedApiUserKey) -> Self {
        Self {
            id: Some(&key.id),
            api_key: Some(&key.api_key),
            user_id: Some(&key.user_id),
            permissions: Some(&key.permissions),
            whitelisted_ips: Some(&key.whitelisted_ips),
            secret: key.api_secret(),
        }
    }
}

impl<'a> From<&'a SalvagedKey> for NewKey<'a> {
    fn from(key: &'a SalvagedKey) -> Self {
        Self {
            id: key.id(),
            api_key: key.api_key(),
            user_id: key.user_id(),
            permissions: None,
            whitelisted_ips: None,
            secret: key.api_secret(),
        }
    }
}

impl NewKey<'_> {
    fn document(&self) -> serde_json::Value {
        json!({
            "id": self.id,
            "api_key": self.api_key,
            "user_id": self.user_id,
            "permissions": self.permissions,
            "whitelisted_ips": self.whitelisted_ips,
        })
    }

    fn summary(&self) -> String {
        let field = |v: Option<&str>| clean(v.unwrap_or("?")).into_owned();
        format!(
            "key {}  api_key={}  user={}",
            field(self.id),
            field(self.api_key),
            field(self.user_id)
        )
    }
}

/// Refuses to send a create whose secret would go to a stdout that discards it: a closed
/// stdout (which Rust's runtime reopens on `/dev/null`) or `/dev/null` itself. Nothing is
/// created; `--secret-out` is the way to keep the secret out of stdout.
///
/// # Errors
/// [`Failure::Usage`] when stdout is `/dev/null`.
pub fn ensure_stdout_keeps_secrets() -> Result<(), Failure> {
    if stdout_is_dev_null() {
        return Err(Failure::Usage(
            "keys create: stdout is closed or /dev/null, so the one-time secret would be lost; \
             redirect stdout to a file or pass --secret-out FILE (no key was created)"
                .to_owned(),
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn stdout_is_dev_null() -> bool {
    use std::os::fd::AsFd as _;
    use std::os::unix::fs::MetadataExt as _;
    let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() else {
        return false;
    };
    let (Ok(stdout), Ok(null)) = (
        std::fs::File::from(fd).metadata(),
        std::fs::metadata("/dev/null"),
    ) else {
        return false;
    };
    stdout.dev() == null.dev() && stdout.ino() == null.ino()
}

#[cfg(not(unix))]
fn stdout_is_dev_null() -> bool {
    false
}

/// Delivers `key`: its secret goes to `file` if one was opened (and is then not printed), or
/// to stdout with a warning. Any write that fails sends the secret to stderr and exits 1.
///
/// # Errors
/// [`Failure::Call`] when the secret had to go to stderr; a failed stdout write after the
/// secret is safe in its file is reported as [`Failure::from_stdout`].
pub fn deliver(key: &NewKey<'_>, file: Option<SecretFile>, json: bool) -> Result<(), Failure> {
    let mut document = key.document();
    if let Some(file) = file {
        let path = file.path().to_owned();
        if let Err(e) = file.write(key.secret) {
            return Err(rescue(
                key,
                &format!(
                    "the key was created but its secret could not be written to {}: {e}",
                    path.display()
                ),
            ));
        }
        // The secret is safe in its file: a failing stdout is an ordinary output failure.
        document["api_secret_file"] = json!(path.display().to_string());
        return if json {
            output::stdout(&format!("{}\n", output::to_json(&document)))
        } else {
            output::stdout(&format!(
                "{}\nsecret written to {} (mode 0600)\n",
                key.summary(),
                clean(&path.display().to_string())
            ))
        };
    }
    output::stderr(
        "warning: the API secret below is shown once; Kraken cannot show it again. Store it now.\n",
    );
    let text = if json {
        document["api_secret"] = json!(key.secret.expose());
        format!("{}\n", output::to_json(&document))
    } else {
        let (secret, note) = shown_secret(key.secret);
        format!("{}\napi_secret={secret}\n{note}", key.summary())
    };
    // The text holds a copy of the secret: wiped on drop.
    let text = zeroize::Zeroizing::new(text);
    output::stdout(&text).map_err(|failure| {
        rescue(
            key,
            &format!("the key was created but stdout could not take its secret ({failure})"),
        )
    })
}

/// The secret on stderr, the last place left, and the failure to report.
pub fn rescue(key: &NewKey<'_>, reason: &str) -> Failure {
    let (secret, note) = shown_secret(key.secret);
    let text = zeroize::Zeroizing::new(format!(
        "API secret of {} (shown once; store it now):\n{secret}\n{note}",
        key.summary()
    ));
    output::stderr(&text);
    // Reported last, below the secret: why it ended up on stderr.
    Failure::Call(format!("{reason}; its secret was printed above, on stderr"))
}

/// The secret as text for a terminal, and a note if it had to be escaped to be shown safely.
fn shown_secret(secret: &ApiSecret) -> (Cow<'_, str>, &'static str) {
    let shown = clean(secret.expose());
    let note = if matches!(shown, Cow::Owned(_)) {
        "note: the secret contains control characters, shown escaped as \\u{..}; \
         use --json or --secret-out for its exact text\n"
    } else {
        ""
    };
    (shown, note)
}
