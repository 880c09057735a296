//! The permission matrix: the account key manages users and keys, a `Viewer` user's key reads
//! settlement batches, a `Trader` user's key also creates batches and settles legs.

use crate::http_client;

use prime_core::endpoints::{
    AssetKind, CreateApiUser, CreateApiUserKey, CreateSettlementBatch, DeleteApiUserKey,
    GetApiUser, GetSettlementBatch, ListApiUserKeys, ListApiUsers, ListSettlementBatches, Role,
    SettleSettlementBatchAsset, UpdateApiUser, UpdateApiUserKey, UpdateApiUserRoles,
};
use prime_core::{Credentials, Endpoint};
use prime_mock::MockServer;

use http_client::Session;

const DENIED: &str = "EGeneral:Permission denied";

/// Whether the account key, a `Viewer` key and a `Trader` key may call each method.
const MATRIX: [(&str, [bool; 3]); 13] = [
    ("CreatePrimeApiUser", [true, false, false]),
    ("GetPrimeApiUser", [true, false, false]),
    ("ListPrimeApiUsers", [true, false, false]),
    ("UpdatePrimeApiUser", [true, false, false]),
    ("UpdatePrimeApiUserRoles", [true, false, false]),
    ("CreatePrimeApiUserKey", [true, false, false]),
    ("ListPrimeApiUserKeys", [true, false, false]),
    ("UpdatePrimeApiUserKey", [true, false, false]),
    ("DeletePrimeApiUserKey", [true, false, false]),
    ("GetPrimeSettlementBatch", [false, true, true]),
    ("ListPrimeSettlementBatches", [false, true, true]),
    ("CreatePrimeSettlementBatch", [false, false, true]),
    ("SettlePrimeSettlementBatchAsset", [false, false, true]),
];

/// The first error of a call, or `None` if it succeeded.
fn outcome<E: Endpoint>(
    session: &mut Session,
    credentials: &Credentials,
    endpoint: &E,
) -> Option<String> {
    session.send(credentials, endpoint).response().first_error()
}

fn user_key(session: &mut Session, server: &MockServer, role: Role) -> (String, Credentials) {
    let admin = server.account_credentials();
    let user = session.ok(&admin, &CreateApiUser::new("User", role)).id;
    let key = session.ok(&admin, &CreateApiUserKey::new(&user));
    (user, key.api_secret.credentials_for(&key.api_key).unwrap())
}

/// Valid targets, so that an allowed call succeeds and only permissions can refuse it.
struct Targets {
    admin: Credentials,
    user: String,
    key: String,
    batch: String,
    asset: String,
}

fn probe(
    method: &str,
    targets: &Targets,
    session: &mut Session,
    caller: &Credentials,
) -> Option<String> {
    let t = targets;
    match method {
        "CreatePrimeApiUser" => outcome(session, caller, &CreateApiUser::new("New", Role::Viewer)),
        "GetPrimeApiUser" => outcome(session, caller, &GetApiUser::new(&t.user)),
        "ListPrimeApiUsers" => outcome(session, caller, &ListApiUsers::new()),
        "UpdatePrimeApiUser" => outcome(
            session,
            caller,
            &UpdateApiUser::new(&t.user).name("Renamed"),
        ),
        "UpdatePrimeApiUserRoles" => outcome(
            session,
            caller,
            &UpdateApiUserRoles::new(&t.user, Role::Viewer),
        ),
        "CreatePrimeApiUserKey" => outcome(session, caller, &CreateApiUserKey::new(&t.user)),
        "ListPrimeApiUserKeys" => outcome(session, caller, &ListApiUserKeys::new(&t.user)),
        "UpdatePrimeApiUserKey" => outcome(
            session,
            caller,
            &UpdateApiUserKey::new(&t.user, &t.key).whitelisted_ips(["127.0.0.1"]),
        ),
        "DeletePrimeApiUserKey" => {
            // A fresh key each time, so an allowed delete always has something to delete.
            let key = session.ok(&t.admin, &CreateApiUserKey::new(&t.user)).id;
            outcome(session, caller, &DeleteApiUserKey::new(&t.user, &key))
        }
        "GetPrimeSettlementBatch" => outcome(session, caller, &GetSettlementBatch::new(&t.batch)),
        "ListPrimeSettlementBatches" => outcome(session, caller, &ListSettlementBatches::new()),
        "CreatePrimeSettlementBatch" => outcome(
            session,
            caller,
            &CreateSettlementBatch::new().asset_kind(AssetKind::TokenizedEquity),
        ),
        "SettlePrimeSettlementBatchAsset" => outcome(
            session,
            caller,
            &SettleSettlementBatchAsset::new(&t.batch, &t.asset),
        ),
        other => panic!("no probe for {other}"),
    }
}

#[test]
fn each_method_answers_each_kind_of_key_as_the_matrix_says() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let (_, viewer) = user_key(&mut session, &server, Role::Viewer);
    let (_, trader) = user_key(&mut session, &server, Role::Trader);
    let user = session
        .ok(&admin, &CreateApiUser::new("Target", Role::Viewer))
        .id;
    let key = session.ok(&admin, &CreateApiUserKey::new(&user)).id;
    let batch = session.ok(&trader, &CreateSettlementBatch::new()).batch;
    assert!(server.confirm_batch(&batch.id));
    let targets = Targets {
        admin: admin.clone(),
        user,
        key,
        asset: batch.legs[0].asset.clone(),
        batch: batch.id,
    };

    for (method, allowed) in MATRIX {
        for (who, caller, may) in [
            ("account", &admin, allowed[0]),
            ("viewer", &viewer, allowed[1]),
            ("trader", &trader, allowed[2]),
        ] {
            let before = server.executions(method);
            let error = probe(method, &targets, &mut session, caller);
            if may {
                assert_eq!(error, None, "{who} may call {method}");
                assert_eq!(server.executions(method), before + 1, "{method}");
            } else {
                assert_eq!(
                    error.as_deref(),
                    Some(DENIED),
                    "{who} may not call {method}"
                );
                assert_eq!(server.executions(method), before, "{method}");
            }
        }
    }
}

#[test]
fn a_role_change_takes_effect_on_the_next_call() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let (user, key) = user_key(&mut session, &server, Role::Viewer);
    let create = CreateSettlementBatch::new();
    assert_eq!(
        outcome(&mut session, &key, &create).as_deref(),
        Some(DENIED)
    );
    session.ok(&admin, &UpdateApiUserRoles::new(&user, Role::Trader));
    assert_eq!(outcome(&mut session, &key, &create), None);
    session.ok(&admin, &UpdateApiUserRoles::new(&user, Role::Viewer));
    let create = CreateSettlementBatch::new().asset_kind(AssetKind::TokenizedEquity);
    assert_eq!(
        outcome(&mut session, &key, &create).as_deref(),
        Some(DENIED)
    );
}
