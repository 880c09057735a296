//! The permission matrix as Kraken documents it: account keys call REST; the settlement
//! endpoints need `Orders and trades - Query open orders & trades` (get, list) or
//! `Orders and trades - Create & modify orders` (create, settle); the user and key endpoints
//! name no permission. Keys that CreatePrimeApiUserKey issued are WebSocket/FIX credentials:
//! `EAPI:Invalid key` on every REST call, whatever their user's role.

use crate::http_client;

use prime_core::endpoints::{
    AssetKind, CreateApiUser, CreateApiUserKey, CreateSettlementBatch, DeleteApiUserKey,
    GetApiUser, GetSettlementBatch, ListApiUserKeys, ListApiUsers, ListSettlementBatches, Role,
    SettleSettlementBatchAsset, UpdateApiUser, UpdateApiUserKey, UpdateApiUserRoles,
};
use prime_core::{Credentials, Endpoint};
use prime_mock::{AccountKeySpec, MockServer, Permission};

use http_client::Session;

const DENIED: &str = "EGeneral:Permission denied";
const INVALID_KEY: &str = "EAPI:Invalid key";

/// Whether the account key (both permissions), a query-only key, a create-only key and a key
/// without permissions may call each method.
const MATRIX: [(&str, [bool; 4]); 13] = [
    ("CreatePrimeApiUser", [true, true, true, true]),
    ("GetPrimeApiUser", [true, true, true, true]),
    ("ListPrimeApiUsers", [true, true, true, true]),
    ("UpdatePrimeApiUser", [true, true, true, true]),
    ("UpdatePrimeApiUserRoles", [true, true, true, true]),
    ("CreatePrimeApiUserKey", [true, true, true, true]),
    ("ListPrimeApiUserKeys", [true, true, true, true]),
    ("UpdatePrimeApiUserKey", [true, true, true, true]),
    ("DeletePrimeApiUserKey", [true, true, true, true]),
    ("GetPrimeSettlementBatch", [true, true, false, false]),
    ("ListPrimeSettlementBatches", [true, true, false, false]),
    ("CreatePrimeSettlementBatch", [true, false, true, false]),
    (
        "SettlePrimeSettlementBatchAsset",
        [true, false, true, false],
    ),
];

/// The first error of a call, or `None` if it succeeded.
fn outcome<E: Endpoint>(
    session: &mut Session,
    credentials: &Credentials,
    endpoint: &E,
) -> Option<String> {
    session.send(credentials, endpoint).response().first_error()
}

fn minted(server: &MockServer, permissions: &[Permission]) -> Credentials {
    server
        .mint_account_key(&AccountKeySpec::new(permissions.iter().copied()))
        .unwrap()
        .credentials()
        .unwrap()
}

/// REST credentials made from an issued key, as a client that mistakes it for a REST key
/// would: the opaque secret's bytes as the HMAC key.
fn issued_as_rest(session: &mut Session, server: &MockServer, role: Role) -> Credentials {
    let (_, key) = session.user_with_key(&server.account_credentials(), "User", role);
    http_client::issued_as_rest(&key)
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
    let query = minted(&server, &[Permission::QueryOpenOrdersAndTrades]);
    let create = minted(&server, &[Permission::CreateAndModifyOrders]);
    let none = minted(&server, &[]);
    let issued_trader = issued_as_rest(&mut session, &server, Role::Trader);
    let user = session
        .ok(&admin, &CreateApiUser::new("Target", Role::Viewer))
        .id;
    let key = session.ok(&admin, &CreateApiUserKey::new(&user)).id;
    let batch = session.ok(&admin, &CreateSettlementBatch::new()).batch;
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
            ("query-only", &query, allowed[1]),
            ("create-only", &create, allowed[2]),
            ("no-permission", &none, allowed[3]),
        ] {
            let before = server.executions(method);
            let error = probe(method, &targets, &mut session, caller);
            let rule = match method {
                "CreatePrimeSettlementBatch" => Some("ETrade:Active batch exists"),
                "SettlePrimeSettlementBatchAsset" => Some("EFunding:Leg not settleable"),
                _ => None,
            };
            if may && error.is_some() && error.as_deref() == rule {
                // The permission check passed; a settlement rule refused (the first allowed
                // caller's batch is still active, its leg already settling).
                assert_eq!(server.executions(method), before, "{method}");
            } else if may {
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
        // An issued key is not a REST key, whatever its user's role.
        let before = server.executions(method);
        assert_eq!(
            probe(method, &targets, &mut session, &issued_trader).as_deref(),
            Some(INVALID_KEY),
            "{method}"
        );
        assert_eq!(server.executions(method), before, "{method}");
    }
}

#[test]
fn permissions_are_minted_over_http_too() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let body = br#"{"permissions":["Orders and trades - Query open orders & trades"]}"#;
    let answer = session
        .client
        .send_parts("POST", "/__mock/account-keys", &[], body)
        .response();
    assert_eq!(answer.status, 200);
    let minted = answer.json();
    let api_key = minted["api_key"].as_str().unwrap();
    let query = Credentials::new(api_key, minted["api_secret"].as_str().unwrap()).unwrap();
    assert_eq!(
        outcome(&mut session, &query, &ListSettlementBatches::new()),
        None
    );
    assert_eq!(
        outcome(&mut session, &query, &CreateSettlementBatch::new()).as_deref(),
        Some(DENIED)
    );
    // The state shows each key's kind and permissions, never its secret.
    let state = server.state();
    let entry = state["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["api_key"] == api_key)
        .unwrap()
        .clone();
    assert_eq!(entry["kind"], "rest");
    assert_eq!(
        entry["permissions"],
        serde_json::json!(["Orders and trades - Query open orders & trades"])
    );
    assert_eq!(entry["two_factor"], false);
    assert!(
        !state
            .to_string()
            .contains(minted["api_secret"].as_str().unwrap())
    );
    // Unknown permissions and fields are refused, naming the known labels.
    for bad in [
        &br#"{"permissions":["Funds - Withdraw"]}"#[..],
        br#"{"permissions":"Orders"}"#,
        br#"{"permission":[]}"#,
        br#"{"otp":""}"#,
    ] {
        let answer = session
            .client
            .send_parts("POST", "/__mock/account-keys", &[], bad)
            .response();
        assert_eq!(answer.status, 400, "{}", String::from_utf8_lossy(bad));
    }
    let answer = session
        .client
        .send_parts(
            "POST",
            "/__mock/account-keys",
            &[],
            br#"{"permissions":["Bogus"]}"#,
        )
        .response();
    assert!(
        answer.json()["error"]
            .as_str()
            .unwrap()
            .contains("Orders and trades - Create & modify orders")
    );
}

#[test]
fn a_role_change_never_turns_an_issued_key_into_a_rest_key() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let key = issued_as_rest(&mut session, &server, Role::Viewer);
    let users = session.ok(&admin, &ListApiUsers::new());
    let user = users.data[0].id.clone();
    for role in [Role::Trader, Role::Viewer] {
        session.ok(&admin, &UpdateApiUserRoles::new(&user, role));
        assert_eq!(
            outcome(&mut session, &key, &ListSettlementBatches::new()).as_deref(),
            Some(INVALID_KEY)
        );
    }
}
