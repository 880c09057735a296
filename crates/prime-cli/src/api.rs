//! The endpoint commands: `users`, `keys` and `settlement`.

use std::path::Path;

use prime_core::endpoints::{
    AssetKind, BatchStatus, CreateSettlementBatch, CreatedApiUserKey, ListSettlementBatches, Role,
    UpdateApiUser, UpdateApiUserKey, UserStatus,
};
use serde_json::json;

use crate::cli::{Global, KeysCommand, SettlementCommand, UsersCommand};
use crate::credentials::client;
use crate::failure::Failure;
use crate::output::{self, emit};
use crate::secret_file;

pub fn users(global: &Global, command: UsersCommand) -> Result<(), Failure> {
    let client = client(global)?;
    let json = global.json;
    match command {
        UsersCommand::Create { name, role } => {
            let user = client.create_api_user(&name, Role::from(role.as_str()))?;
            emit(json, &user, output::user);
        }
        UsersCommand::Get { user_id } => emit(json, &client.get_api_user(&user_id)?, output::user),
        UsersCommand::List => emit(json, client.list_api_users()?.as_slice(), output::users),
        UsersCommand::Update {
            user_id,
            name,
            status,
        } => {
            let mut request = UpdateApiUser::new(user_id);
            request.name = name;
            request.status = status.as_deref().map(UserStatus::from);
            emit(json, &client.update_api_user(&request)?, output::user);
        }
        UsersCommand::SetRole { user_id, role } => {
            let user = client.update_api_user_roles(&user_id, Role::from(role.as_str()))?;
            emit(json, &user, output::user);
        }
    }
    Ok(())
}

pub fn keys(global: &Global, command: KeysCommand) -> Result<(), Failure> {
    let json = global.json;
    match command {
        KeysCommand::Create {
            user_id,
            secret_out,
            check,
            endpoints,
        } => {
            // Refuse a bad --secret-out before a key exists whose secret could be lost.
            if let Some(path) = &secret_out {
                secret_file::ensure_absent(path)?;
            }
            let client = client(global)?;
            match client.create_api_user_key(&user_id) {
                Ok(key) => {
                    deliver_key(&key, secret_out.as_deref(), json)?;
                    if check {
                        crate::issued_check::created_key(global, &key, &endpoints)?;
                    }
                    Ok(())
                }
                Err(error) => {
                    // A result that came beside an error still carries the only copy of the
                    // secret: deliver it, then report the error.
                    if let Some(key) = error
                        .response()
                        .and_then(|r| r.recover_result::<CreatedApiUserKey>())
                    {
                        deliver_key(&key, secret_out.as_deref(), json)?;
                    }
                    Err(error.into())
                }
            }
        }
        KeysCommand::Check {
            api_key,
            secret_file,
            endpoints,
        } => crate::issued_check::keys_check(global, &api_key, &secret_file, &endpoints),
        KeysCommand::List { user_id } => {
            let keys = client(global)?.list_api_user_keys(&user_id)?;
            emit(json, keys.as_slice(), output::key_infos);
            Ok(())
        }
        KeysCommand::Update {
            user_id,
            key_id,
            whitelisted_ips,
        } => {
            let mut request = UpdateApiUserKey::new(user_id, key_id);
            request.whitelisted_ips = whitelisted_ips;
            let key = client(global)?.update_api_user_key(&request)?;
            emit(json, &key, output::updated_key);
            Ok(())
        }
        KeysCommand::Delete { user_id, key_id } => {
            let deleted = client(global)?.delete_api_user_key(&user_id, &key_id)?;
            emit(json, &deleted, output::deleted_key);
            Ok(())
        }
    }
}

/// Hands a created key to the user: the secret goes to `secret_out` first (and is then not
/// printed), or is printed once with a warning. If the file cannot be written, the secret goes
/// to stderr rather than being lost.
pub fn deliver_key(
    key: &CreatedApiUserKey,
    secret_out: Option<&Path>,
    json: bool,
) -> Result<(), Failure> {
    let mut document = json!({
        "id": key.id,
        "api_key": key.api_key,
        "user_id": key.user_id,
        "permissions": key.permissions,
        "whitelisted_ips": key.whitelisted_ips,
    });
    if let Some(path) = secret_out {
        if let Err(e) = secret_file::write(path, &key.api_secret) {
            eprintln!(
                "prime: could not write the secret to {}: {e}\nAPI secret for key {} (shown once; store it now):\n{}",
                path.display(),
                key.api_key,
                key.api_secret.expose()
            );
            return Err(Failure::Call(format!(
                "key {} was created but its secret could not be written to {}; it was printed on stderr",
                key.id,
                path.display()
            )));
        }
        document["api_secret_file"] = json!(path.display().to_string());
        if json {
            println!("{}", output::to_json(&document));
        } else {
            println!(
                "key {}  api_key={}  user={}\nsecret written to {} (mode 0600)",
                key.id,
                key.api_key,
                key.user_id,
                path.display()
            );
        }
        return Ok(());
    }
    eprintln!(
        "warning: the API secret below is shown once; Kraken cannot show it again. Store it now."
    );
    if json {
        document["api_secret"] = json!(key.api_secret.expose());
        println!("{}", output::to_json(&document));
    } else {
        println!(
            "key {}  api_key={}  user={}\napi_secret={}",
            key.id,
            key.api_key,
            key.user_id,
            key.api_secret.expose()
        );
    }
    Ok(())
}

pub fn settlement(global: &Global, command: SettlementCommand) -> Result<(), Failure> {
    let client = client(global)?;
    let json = global.json;
    let kind = |k: Option<String>| k.as_deref().map(AssetKind::from);
    match command {
        SettlementCommand::Create { asset_kind } => {
            let mut request = CreateSettlementBatch::new();
            request.asset_kind = kind(asset_kind);
            emit(
                json,
                &client.create_settlement_batch(&request)?,
                output::batch,
            );
        }
        SettlementCommand::Get {
            batch_id,
            asset_kind,
        } => {
            let batch = if asset_kind.is_some() {
                let mut request = prime_core::endpoints::GetSettlementBatch::new(batch_id);
                request.asset_kind = kind(asset_kind);
                client.send(&request)?.result.batch
            } else {
                client.get_settlement_batch(&batch_id)?
            };
            emit(json, &batch, output::batch);
        }
        SettlementCommand::List {
            asset_kind,
            statuses,
            from,
            until,
            limit,
            offset,
        } => {
            let request = ListSettlementBatches {
                asset_kind: kind(asset_kind),
                statuses: statuses
                    .map(|s| s.iter().map(|s| BatchStatus::from(s.as_str())).collect()),
                from,
                until,
                limit,
                offset,
            };
            emit(
                json,
                &client.list_settlement_batches(&request)?,
                output::batch_list,
            );
        }
        SettlementCommand::Settle { batch_id, asset } => {
            let transfer = client.settle_settlement_batch_asset(&batch_id, &asset)?;
            emit(json, &transfer, output::transfer);
        }
    }
    Ok(())
}
