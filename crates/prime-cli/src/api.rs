//! The endpoint commands: `users`, `keys` and `settlement`.

use prime_blocking::Client;
use prime_core::endpoints::{
    AssetKind, BatchStatus, CreateApiUser, CreateApiUserKey, CreateSettlementBatch,
    DeleteApiUserKey, GetApiUser, GetSettlementBatch, ListApiUserKeys, ListApiUsers,
    ListSettlementBatches, Role, SettleSettlementBatchAsset, UpdateApiUser, UpdateApiUserKey,
    UpdateApiUserRoles, UserStatus,
};
use prime_core::workflow::{CreateKeyError, OrphanPolicy};
use prime_core::{Endpoint, ResponseError};

use crate::cli::{Global, KeysCommand, SettlementCommand, UsersCommand};
use crate::credentials::client;
use crate::failure::Failure;
use crate::new_key::{self, NewKey};
use crate::output::{self, emit};
use crate::secret_file::SecretFile;

/// Sends `endpoint`; a failure carries advice that fits the call (read or write).
fn call<E: Endpoint>(client: &Client, endpoint: E) -> Result<E::Response, Failure> {
    during_call::<E>();
    let result = client
        .send(endpoint)
        .map(|reply| reply.result)
        .map_err(Failure::from_call::<E>);
    crate::activity::calling(None);
    result
}

/// Tells the budget which call is under way and what a stop during it means.
pub fn during_call<E: Endpoint>() {
    crate::activity::calling(Some(E::NAME));
    crate::activity::doing(match E::IDEMPOTENCY {
        prime_core::Idempotency::Idempotent => {
            format!("during {}, which only reads: repeating it is safe", E::NAME)
        }
        prime_core::Idempotency::NonIdempotent => format!(
            "during {}, which may have taken effect: check the account's state before repeating it",
            E::NAME
        ),
    });
}

pub fn users(global: &Global, command: UsersCommand) -> Result<(), Failure> {
    // An update that would change nothing is refused before credentials are even read.
    if let UsersCommand::Update {
        name: None,
        status: None,
        ..
    } = &command
    {
        return Err(Failure::Usage(
            "users update: nothing to change; give --name and/or --status".to_owned(),
        ));
    }
    let client = client(global)?;
    let json = global.json;
    match command {
        UsersCommand::Create { name, role } => {
            let endpoint = CreateApiUser::new(name, Role::from(role.as_str()));
            emit(json, &call(&client, endpoint)?, output::user)
        }
        UsersCommand::Get { user_id } => {
            let user = call(&client, GetApiUser::new(user_id))?.data;
            emit(json, &user, output::user)
        }
        UsersCommand::List => {
            let users = call(&client, ListApiUsers::new())?.data;
            emit(json, users.as_slice(), output::users)
        }
        UsersCommand::Update {
            user_id,
            name,
            status,
        } => {
            let mut request = UpdateApiUser::new(user_id);
            request.name = name;
            request.status = status.as_deref().map(UserStatus::from);
            emit(json, &call(&client, request)?, output::user)
        }
        UsersCommand::SetRole { user_id, role } => {
            let endpoint = UpdateApiUserRoles::new(user_id, Role::from(role.as_str()));
            emit(json, &call(&client, endpoint)?, output::user)
        }
    }
}

pub fn keys(global: &Global, command: KeysCommand) -> Result<(), Failure> {
    let json = global.json;
    match command {
        KeysCommand::Create {
            user_id,
            secret_out,
            check,
            delete_orphans,
            endpoints,
        } => {
            // Where the check goes is checked before a key exists too.
            if check {
                crate::issued_check::validate(global, &endpoints)?;
            }
            // Everything that could keep the secret from reaching its destination is checked
            // before a key exists: the file is created now (empty, removed again if unused).
            let file = match &secret_out {
                Some(path) => Some(
                    SecretFile::create(path)
                        .map_err(|f| Failure::Usage(format!("{f}; no key was created")))?,
                ),
                None => {
                    new_key::ensure_stdout_keeps_secrets()?;
                    None
                }
            };
            let client = client(global)?;
            let policy = if delete_orphans {
                OrphanPolicy::Delete
            } else {
                OrphanPolicy::Report
            };
            crate::activity::calling(Some(CreateApiUserKey::NAME));
            crate::activity::doing(format!(
                "during the key creation (ListPrimeApiUserKeys, then CreatePrimeApiUserKey, \
                 which may have taken effect): list the keys with `prime keys list --user-id {}`; \
                 a key not listed before is an orphan whose secret is lost",
                output::clean(&user_id)
            ));
            let created = client.create_api_user_key_reconciled(&user_id, policy);
            crate::activity::calling(None);
            match created {
                Ok(created) => {
                    for orphan in &created.deleted_orphans {
                        output::stderr(&format!(
                            "prime: deleted orphaned key {} (api_key {}): a creation with an \
                             unknown outcome made it and its secret was lost\n",
                            output::clean(&orphan.id),
                            output::clean(&orphan.api_key)
                        ));
                    }
                    {
                        // The one-time secret is being handed over: the watchdog waits, and
                        // after a failed hand-over lets the report of it through.
                        let hold = crate::activity::hold();
                        if let Err(failure) =
                            new_key::deliver(&NewKey::from(&created.key), file, json)
                        {
                            hold.until_exit();
                            return Err(failure);
                        }
                    }
                    if check {
                        crate::activity::doing(format!(
                            "while checking key {}: it was created and its secret delivered",
                            output::clean(&created.key.id)
                        ));
                        crate::issued_check::created_key(global, &created.key, &endpoints)
                            .map_err(|failure| match failure {
                                Failure::Call(message) => Failure::Call(format!(
                                    "{message}; key {} was created and its secret delivered \
                                     (above), only the check failed",
                                    created.key.id
                                )),
                                other => other,
                            })?;
                    }
                    Ok(())
                }
                Err(CreateKeyError::Call(error)) => {
                    // An odd reply that still carries the secret: the key exists and this is
                    // the only copy of its secret. Deliver it, then report what was odd.
                    if let Some(key) = error.response().and_then(ResponseError::salvaged_key) {
                        let delivered = new_key::deliver(&NewKey::from(key), file, json);
                        let odd = Failure::from_call::<CreateApiUserKey>(error);
                        return Err(match delivered {
                            Ok(()) => Failure::Call(format!(
                                "{odd}; the secret was delivered above (or to the --secret-out file)"
                            )),
                            Err(failure) => failure,
                        });
                    }
                    Err(Failure::from_call::<CreateApiUserKey>(error))
                }
                // No creation was sent: the message says which call failed, and that.
                Err(CreateKeyError::ListBefore(source)) => {
                    let hints = crate::failure::hints(&source);
                    let error = CreateKeyError::ListBefore(source);
                    Err(Failure::Call(format!(
                        "{}{hints}",
                        output::clean(&error.to_string())
                    )))
                }
                Err(error @ CreateKeyError::DeleteOrphan { .. }) => {
                    let commands: Vec<String> = error
                        .orphans()
                        .map(|orphan| {
                            format!(
                                "`prime keys delete --user-id {} --key-id {}`",
                                output::clean(&user_id),
                                output::clean(&orphan.id)
                            )
                        })
                        .collect();
                    Err(Failure::Call(format!(
                        "{}; nobody has that key's secret: delete it with {}, then run the \
                         command again",
                        output::clean(&error.to_string()),
                        commands.join(" and ")
                    )))
                }
                Err(error) => Err(orphan_report(&user_id, &error)),
            }
        }
        KeysCommand::Rotate(args) => crate::rotate::run(global, &args),
        KeysCommand::Check {
            api_key,
            secret_file,
            endpoints,
        } => crate::issued_check::keys_check(global, &api_key, &secret_file, &endpoints),
        KeysCommand::List { user_id } => {
            let keys = call(&client(global)?, ListApiUserKeys::new(user_id))?.data;
            emit(json, keys.as_slice(), output::key_infos)
        }
        KeysCommand::Update {
            user_id,
            key_id,
            whitelisted_ips,
            clear_whitelisted_ips,
        } => {
            let ips = match (whitelisted_ips, clear_whitelisted_ips) {
                (Some(ips), false) if ips.iter().all(|ip| ip.trim().is_empty()) => {
                    return Err(Failure::Usage(
                        "--whitelisted-ips: no address given; to remove the allow-list use --clear-whitelisted-ips"
                            .to_owned(),
                    ));
                }
                (Some(ips), false) => ips,
                (None, true) => Vec::new(),
                // clap refuses both together; neither is an update that changes nothing.
                _ => {
                    return Err(Failure::Usage(
                        "keys update: nothing to change; give --whitelisted-ips LIST, or --clear-whitelisted-ips to remove the allow-list"
                            .to_owned(),
                    ));
                }
            };
            let mut request = UpdateApiUserKey::new(user_id, key_id);
            request.whitelisted_ips = Some(ips);
            let key = call(&client(global)?, request)?;
            emit(json, &key, output::updated_key)
        }
        KeysCommand::Delete { user_id, key_id } => {
            let deleted = call(&client(global)?, DeleteApiUserKey::new(user_id, key_id))?;
            emit(json, &deleted, output::deleted_key)
        }
    }
}

pub fn settlement(global: &Global, command: SettlementCommand) -> Result<(), Failure> {
    let client = client(global)?;
    let json = global.json;
    let kind = |k: Option<String>| k.as_deref().map(AssetKind::from);
    match command {
        SettlementCommand::Create { asset_kind } => {
            let mut request = CreateSettlementBatch::new();
            request.asset_kind = kind(asset_kind);
            emit(json, &call(&client, request)?.batch, output::batch)
        }
        SettlementCommand::Get {
            batch_id,
            asset_kind,
        } => {
            let mut request = GetSettlementBatch::new(batch_id);
            request.asset_kind = kind(asset_kind);
            emit(json, &call(&client, request)?.batch, output::batch)
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
            emit(json, &call(&client, request)?, output::batch_list)
        }
        SettlementCommand::Settle { batch_id, asset } => {
            let endpoint = SettleSettlementBatchAsset::new(batch_id, asset);
            emit(json, &call(&client, endpoint)?.transfer, output::transfer)
        }
    }
}

/// An unknown creation outcome, reconciled: the orphans with the command that deletes each.
fn orphan_report(user_id: &str, error: &CreateKeyError) -> Failure {
    let mut text = format!("prime: {}\n", output::clean(&error.to_string()));
    match error {
        CreateKeyError::Orphaned { orphans, .. } if orphans.is_empty() => {
            text.push_str("prime: no key was created; it is safe to run the command again\n");
        }
        CreateKeyError::Orphaned { orphans, .. } => {
            text.push_str(
                "prime: nobody has the secret of these keys; delete them (or rerun with \
                 --delete-orphans, which deletes them and creates the key once more):\n",
            );
            for orphan in orphans {
                text.push_str(&format!(
                    "  prime keys delete --user-id {} --key-id {}\n",
                    output::clean(user_id),
                    output::clean(&orphan.id)
                ));
            }
        }
        _ => text.push_str(&format!(
            "prime: list the keys with `prime keys list --user-id {}`: a key not listed before \
             may be an orphan\n",
            output::clean(user_id)
        )),
    }
    output::stderr(&text);
    Failure::Call("the key creation's outcome is unknown (see above)".to_owned())
}
