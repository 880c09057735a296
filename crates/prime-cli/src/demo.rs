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
use crate::secret_file;

const STEPS: usize = 11;

pub fn run(global: &Global, args: &DemoArgs) -> Result<(), Failure> {
    let mut builder = prime_mock::MockServer::builder();
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    let server = builder
        .start()
        .map_err(|e| Failure::Call(format!("cannot start the simulator: {e}")))?;
    let url = server.url();
    println!("Kraken Prime simulator running at {url} (signatures and nonces verified)\n");
    let client_for = |credentials: Credentials| {
        let mut builder = Client::builder(credentials).base_url(&url);
        if let Ok(timeout) = std::time::Duration::try_from_secs_f64(global.timeout) {
            builder = builder.timeout(timeout);
        }
        builder.build().map_err(Failure::from)
    };
    let admin = client_for(server.account_credentials())?;
    let mut step = Steps(0);

    step.next("create an API user (account key: it signs every REST call)");
    let user = admin.create_api_user("Demo Trader", Role::Trader)?;
    println!(
        "      user {}  {:?}  {}  roles={:?}",
        user.id,
        user.name,
        user.status,
        roles(&user.roles)
    );

    step.next("read it back: get and list users");
    let fetched = admin.get_api_user(&user.id)?;
    let listed = admin.list_api_users()?;
    println!("      get: {}  list: {} user(s)", fetched.id, listed.len());

    step.next("create an API key for the user: a Prime WebSocket/FIX credential");
    let secret_dir = SecretDir::create()?;
    let key = admin.create_api_user_key(&user.id)?;
    secret_file::write(&secret_dir.file, &key.api_secret)
        .map_err(|e| Failure::Call(format!("could not write the demo secret file: {e}")))?;
    println!(
        "      key {}  api_key={}  secret: {} characters of opaque text\n      \
         secret written to {} (mode 0600), never printed; it signs Prime WebSocket and FIX \
         logons, not REST",
        key.id,
        key.api_key,
        key.api_secret.expose().len(),
        secret_dir.file.display()
    );

    step.next("the new key authenticates where Kraken uses it: Prime WebSocket and FIX");
    let timeout = std::time::Duration::try_from_secs_f64(global.timeout)
        .unwrap_or(std::time::Duration::from_secs(30));
    {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        for line in crate::issued_check::demo_lines(&server, &key, timeout)? {
            writeln!(stdout, "      {line}")
                .map_err(|e| Failure::Call(format!("cannot write to stdout: {e}")))?;
        }
    }

    step.next("list the user's keys (no secret in the listing)");
    for listed in admin.list_api_user_keys(&user.id)? {
        println!(
            "      key {}  key={}  permissions={:?}",
            listed.id, listed.key, listed.permissions
        );
    }

    step.next("restrict the key to 127.0.0.1 (its WebSocket/FIX allow-list)");
    let updated = admin.update_api_user_key(
        &UpdateApiUserKey::new(&user.id, &key.id).whitelisted_ips(["127.0.0.1"]),
    )?;
    println!("      whitelisted_ips={:?}", updated.whitelisted_ips);

    step.next(
        "create a settlement batch (account key: \"Orders and trades - Create & modify orders\")",
    );
    let batch = admin.create_settlement_batch(&CreateSettlementBatch::new())?;
    println!(
        "      batch {}  status={}  trades={}",
        batch.id,
        batch.attributes.status,
        batch.attributes.trade_count.unwrap_or_default()
    );
    for leg in &batch.legs {
        println!(
            "        leg {} {}  can_settle={}",
            leg.asset, leg.amount, leg.can_settle
        );
    }

    step.next("confirm it (simulator control), then settle every eligible leg");
    if !server.confirm_batch(&batch.id) {
        return Err(Failure::Call(format!(
            "the simulator could not confirm batch {}",
            batch.id
        )));
    }
    let confirmed = admin.get_settlement_batch(&batch.id)?;
    for leg in confirmed.legs.iter().filter(|l| l.can_settle) {
        let transfer = admin.settle_settlement_batch_asset(&batch.id, &leg.asset)?;
        println!(
            "      transfer {}  {} {}  status={}",
            transfer.id,
            transfer.attributes.transfer_amount,
            transfer.attributes.transfer_asset,
            transfer.attributes.transfer_status
        );
    }
    let after = admin.get_settlement_batch(&batch.id)?;
    println!(
        "      batch {} is now {}",
        after.id, after.attributes.status
    );
    // Transfers move on outside the API (Kraken's settlement desk; here the simulator).
    let completed = server.complete_transfers();
    let done = admin.get_settlement_batch(&batch.id)?;
    println!(
        "      {completed} transfer(s) completed; batch {} is now {}",
        done.id, done.attributes.status
    );

    step.next("a query-only account key reads batches but may not create them");
    let query_only = server
        .mint_account_key(&AccountKeySpec::new([Permission::QueryOpenOrdersAndTrades]))
        .and_then(|minted| minted.credentials())
        .map_err(|e| Failure::Call(format!("the simulator could not mint a key: {e}")))?;
    let reader = client_for(query_only)?;
    let listed = reader.list_settlement_batches(&ListSettlementBatches::new())?;
    let refused = expect_refusal(
        reader.create_settlement_batch(&CreateSettlementBatch::new()),
        &ErrorCode::PermissionDenied,
    )?;
    println!(
        "      listed {} batch(es); create refused: {refused}",
        listed.data.len()
    );

    step.next("the issued key is no REST key: EAPI:Invalid key");
    // A client that mistakes the issued key for a REST key signs with its text as the HMAC key.
    let misused = client_for(Credentials::from_parts(
        ApiKey::new(&key.api_key).map_err(|e| Failure::Call(e.to_string()))?,
        SigningKey::from_bytes(key.api_secret.expose().as_bytes()),
    ))?;
    let refused = expect_refusal(
        misused.list_settlement_batches(&ListSettlementBatches::new()),
        &ErrorCode::InvalidKey,
    )?;
    println!("      REST with the issued key: {refused}");

    step.next("delete the key");
    let deleted = admin.delete_api_user_key(&user.id, &key.id)?;
    println!("      deleted={}", deleted.deleted);

    println!("\ndemo complete: {STEPS} steps against the simulator, all as expected");
    Ok(())
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

struct Steps(usize);

impl Steps {
    fn next(&mut self, what: &str) {
        self.0 += 1;
        println!("[{}/{STEPS}] {what}", self.0);
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
