//! `prime demo`: the whole Prime workflow against the embedded simulator, narrated, as Kraken
//! documents it: the account key manages users and keys and runs settlement; the keys
//! CreatePrimeApiUserKey issues are Prime WebSocket/FIX credentials, shown but not used for
//! REST.

use std::path::PathBuf;

use prime_blocking::Client;
use prime_core::endpoints::{CreateSettlementBatch, ListSettlementBatches, Role, UpdateApiUserKey};
use prime_core::{ApiKey, Credentials, ErrorCode, SigningKey};
use prime_mock::{AccountKeySpec, Permission};

use crate::cli::{DemoArgs, Global};
use crate::failure::Failure;
use crate::output;
use crate::secret_file;

const STEPS: usize = 11;

pub fn run(global: &Global, args: &DemoArgs) -> Result<(), Failure> {
    let timeout = crate::credentials::timeout(global.timeout)?;
    let mut builder = prime_mock::MockServer::builder();
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    let server = builder
        .start()
        .map_err(|e| Failure::Call(format!("cannot start the simulator: {e}")))?;
    let url = server.url();
    let mut step = Steps::new(global.json, &url);
    step.line(&format!(
        "Kraken Prime simulator running at {url} (signatures and nonces verified)"
    ))?;
    step.line("")?;
    let client_for = |credentials: Credentials| {
        Client::builder(credentials)
            .base_url(&url)
            .timeout(timeout)
            .build()
            .map_err(Failure::from)
    };
    let admin = client_for(server.account_credentials())?;

    step.next("create an API user (account key: it signs every REST call)")?;
    let user = admin.create_api_user("Demo Trader", Role::Trader)?;
    step.line(&format!(
        "      user {}  {:?}  {}  roles={:?}",
        user.id,
        user.name,
        user.status,
        roles(&user.roles)
    ))?;

    step.next("read it back: get and list users")?;
    let fetched = admin.get_api_user(&user.id)?;
    let listed = admin.list_api_users()?;
    step.line(&format!(
        "      get: {}  list: {} user(s)",
        fetched.id,
        listed.len()
    ))?;

    step.next("create an API key for the user: a Prime WebSocket/FIX credential")?;
    let secret_dir = SecretDir::create()?;
    let key = admin.create_api_user_key(&user.id)?;
    secret_file::write_new(&secret_dir.file, key.api_secret())?;
    step.line(&format!(
        "      key {}  api_key={}  secret: {} characters of opaque text",
        key.id,
        key.api_key,
        key.api_secret().expose().len(),
    ))?;
    step.line(&format!(
        "      secret written to {} (mode 0600), never printed; it signs Prime WebSocket and \
         FIX logons, not REST",
        secret_dir.file.display()
    ))?;

    step.next("the new key authenticates where Kraken uses it: Prime WebSocket and FIX")?;
    for line in crate::issued_check::demo_lines(&server, &key, timeout)? {
        step.line(&format!("      {line}"))?;
    }

    step.next("list the user's keys (no secret in the listing)")?;
    for listed in admin.list_api_user_keys(&user.id)? {
        step.line(&format!(
            "      key {}  key={}  permissions={:?}",
            listed.id, listed.api_key, listed.permissions
        ))?;
    }

    step.next("restrict the key to 127.0.0.1 (its WebSocket/FIX allow-list)")?;
    let updated = admin.update_api_user_key(
        UpdateApiUserKey::new(&user.id, &key.id).whitelisted_ips(["127.0.0.1"]),
    )?;
    step.line(&format!(
        "      whitelisted_ips={:?}",
        updated.whitelisted_ips
    ))?;

    step.next(
        "create a settlement batch (account key: \"Orders and trades - Create & modify orders\")",
    )?;
    let batch = admin.create_settlement_batch(CreateSettlementBatch::new())?;
    step.line(&format!(
        "      batch {}  status={}  trades={}",
        batch.id,
        batch.attributes.status,
        batch.attributes.trade_count.unwrap_or_default()
    ))?;
    for leg in &batch.legs {
        step.line(&format!(
            "        leg {} {}  can_settle={}",
            leg.asset, leg.amount, leg.can_settle
        ))?;
    }

    step.next("confirm it (simulator control), then settle every eligible leg")?;
    if !server.confirm_batch(&batch.id) {
        return Err(Failure::Call(format!(
            "the simulator could not confirm batch {}",
            batch.id
        )));
    }
    let confirmed = admin.get_settlement_batch(&batch.id, None)?;
    for leg in confirmed.legs.iter().filter(|l| l.can_settle) {
        let transfer = admin.settle_settlement_batch_asset(&batch.id, &leg.asset)?;
        step.line(&format!(
            "      transfer {}  {} {}  status={}",
            transfer.id,
            transfer.attributes.amount,
            transfer.attributes.asset,
            transfer.attributes.status
        ))?;
    }
    let after = admin.get_settlement_batch(&batch.id, None)?;
    step.line(&format!(
        "      batch {} is now {}",
        after.id, after.attributes.status
    ))?;
    // Transfers move on outside the API (Kraken's settlement desk; here the simulator).
    let completed = server.complete_transfers();
    let done = admin.get_settlement_batch(&batch.id, None)?;
    step.line(&format!(
        "      {completed} transfer(s) completed; batch {} is now {}",
        done.id, done.attributes.status
    ))?;

    step.next("a query-only account key reads batches but may not create them")?;
    let query_only = server
        .mint_account_key(&AccountKeySpec::new([Permission::QueryOpenOrdersAndTrades]))
        .and_then(|minted| minted.credentials())
        .map_err(|e| Failure::Call(format!("the simulator could not mint a key: {e}")))?;
    let reader = client_for(query_only)?;
    let listed = reader.list_settlement_batches(ListSettlementBatches::new())?;
    let refused = expect_refusal(
        reader.create_settlement_batch(CreateSettlementBatch::new()),
        &ErrorCode::PermissionDenied,
    )?;
    step.line(&format!(
        "      listed {} batch(es); create refused: {refused}",
        listed.data.len()
    ))?;

    step.next("the issued key is no REST key: EAPI:Invalid key")?;
    // A client that mistakes the issued key for a REST key signs with its text as the HMAC key.
    let misused = client_for(Credentials::from_parts(
        ApiKey::new(&key.api_key).map_err(|e| Failure::Call(e.to_string()))?,
        SigningKey::from_bytes(key.api_secret().expose().as_bytes()),
    ))?;
    let refused = expect_refusal(
        misused.list_settlement_batches(ListSettlementBatches::new()),
        &ErrorCode::InvalidKey,
    )?;
    step.line(&format!("      REST with the issued key: {refused}"))?;

    step.next("delete the key: WebSocket and FIX refuse it from now on")?;
    let deleted = admin.delete_api_user_key(&user.id, &key.id)?;
    step.line(&format!("      deleted={}", deleted.deleted))?;
    for line in crate::issued_check::demo_refused_lines(&server, &key, timeout)? {
        step.line(&format!("      {line}"))?;
    }

    step.line("")?;
    step.line(&format!(
        "demo complete: {STEPS} steps against the simulator, all as expected"
    ))?;
    step.finish()
}

/// The refusal `outcome` should be, as text; an error if the call succeeded or failed otherwise.
fn expect_refusal<T>(
    outcome: Result<T, prime_core::Error>,
    expected: &ErrorCode,
) -> Result<String, Failure> {
    match outcome {
        Err(e)
            if e.response()
                .is_some_and(|r| r.kraken_errors().iter().any(|k| k.code() == expected)) =>
        {
            Ok(e.to_string())
        }
        Err(e) => Err(Failure::Call(format!(
            "expected {}, got: {e}",
            expected.as_str()
        ))),
        Ok(_) => Err(Failure::Call(format!(
            "expected {}, but the call succeeded",
            expected.as_str()
        ))),
    }
}

fn roles(roles: &[Role]) -> Vec<&str> {
    roles.iter().map(Role::as_str).collect()
}

/// The narration: printed line by line as text, or, with `--json`, gathered into one JSON
/// document `{"simulator", "steps": [{"step", "what", "lines"}], "complete"}` printed at the end.
struct Steps {
    number: usize,
    json: Option<serde_json::Value>,
}

impl Steps {
    fn new(json: bool, url: &str) -> Self {
        Self {
            number: 0,
            json: json.then(|| serde_json::json!({ "simulator": url, "steps": [] })),
        }
    }

    fn next(&mut self, what: &str) -> Result<(), Failure> {
        self.number += 1;
        match &mut self.json {
            Some(document) => {
                if let Some(steps) = document["steps"].as_array_mut() {
                    steps.push(
                        serde_json::json!({ "step": self.number, "what": what, "lines": [] }),
                    );
                }
                Ok(())
            }
            None => output::stdout(&format!("[{}/{STEPS}] {what}\n", self.number)),
        }
    }

    /// One line of narration; what the simulator sent is escaped in text (JSON escapes itself).
    fn line(&mut self, text: &str) -> Result<(), Failure> {
        match &mut self.json {
            Some(document) => {
                let lines = document["steps"]
                    .as_array_mut()
                    .and_then(|steps| steps.last_mut())
                    .and_then(|step| step["lines"].as_array_mut());
                if let (Some(lines), false) = (lines, text.is_empty()) {
                    lines.push(serde_json::Value::from(text.trim_start()));
                }
                Ok(())
            }
            None => output::stdout(&format!("{}\n", output::clean(text))),
        }
    }

    fn finish(self) -> Result<(), Failure> {
        match self.json {
            Some(mut document) => {
                document["complete"] = serde_json::Value::Bool(true);
                output::stdout(&format!("{}\n", output::to_json(&document)))
            }
            None => Ok(()),
        }
    }
}

/// A private temporary folder for the demo key's secret, removed when the demo ends.
struct SecretDir {
    dir: PathBuf,
    file: PathBuf,
}

impl SecretDir {
    fn create() -> Result<Self, Failure> {
        let dir = std::env::temp_dir().join(format!("prime-demo-{}", std::process::id()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|e| Failure::Call(format!("cannot create {}: {e}", dir.display())))?;
        let file = dir.join("api-secret");
        Ok(Self { dir, file })
    }
}

impl Drop for SecretDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
