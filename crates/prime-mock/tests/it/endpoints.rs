//! Every endpoint's happy path over real HTTP, with the documented response shapes, and a
//! created key signing its own requests until it is deleted.

use crate::http_client;

use prime_core::endpoints::{
    CreateApiUser, CreateApiUserKey, DeleteApiUserKey, GetApiUser, GetSettlementBatch,
    ListApiUserKeys, ListApiUsers, ListSettlementBatches, Role, UpdateApiUser, UpdateApiUserKey,
    UpdateApiUserRoles, UserStatus,
};
use prime_mock::MockServer;

use http_client::Session;

fn create_user(session: &mut Session, server: &MockServer, name: &str, role: Role) -> String {
    session
        .ok(
            &server.account_credentials(),
            &CreateApiUser::new(name, role),
        )
        .id
}

#[test]
fn users_can_be_created_read_listed_renamed_and_disabled() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);

    let created = session.ok(&admin, &CreateApiUser::new("Desk A", Role::Trader));
    assert_eq!(created.name, "Desk A");
    assert_eq!(created.status, UserStatus::Enabled);
    assert_eq!(created.roles, [Role::Trader]);
    assert_eq!(created.id.len(), 13);
    let viewer = session.ok(&admin, &CreateApiUser::new("Auditor", Role::Viewer));

    let fetched = session.ok(&admin, &GetApiUser::new(&created.id));
    assert_eq!(fetched.data, created);

    let listed = session.ok(&admin, &ListApiUsers::new());
    assert_eq!(listed.data, [created.clone(), viewer]);

    let renamed = session.ok(
        &admin,
        &UpdateApiUser::new(&created.id)
            .name("Desk B")
            .status(UserStatus::Disabled),
    );
    assert_eq!(renamed.name, "Desk B");
    assert_eq!(renamed.status, UserStatus::Disabled);
    assert_eq!(
        session
            .ok(&admin, &GetApiUser::new(&created.id))
            .data
            .status,
        UserStatus::Disabled
    );

    let promoted = session.ok(&admin, &UpdateApiUserRoles::new(&created.id, Role::Viewer));
    assert_eq!(promoted.roles, [Role::Viewer]);

    for method in [
        "CreatePrimeApiUser",
        "GetPrimeApiUser",
        "ListPrimeApiUsers",
        "UpdatePrimeApiUser",
        "UpdatePrimeApiUserRoles",
    ] {
        assert!(server.executions(method) >= 1, "{method}");
    }
}

#[test]
fn user_responses_have_the_documented_shapes() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let id = create_user(&mut session, &server, "Test User", Role::Trader);

    let request = session.build(&admin, &GetApiUser::new(&id), session.next_nonce());
    let body = session.client.send(&request).response().json();
    // Get wraps the user in `data`; Create/Update return it directly.
    assert_eq!(
        body,
        serde_json::json!({
            "error": [],
            "result": {"data": {"id": id, "name": "Test User", "status": "Enabled", "roles": ["Trader"]}}
        })
    );
    let request = session.build(
        &admin,
        &UpdateApiUserRoles::new(&id, Role::Viewer),
        session.next_nonce(),
    );
    let body = session.client.send(&request).response().json();
    assert_eq!(
        body["result"],
        serde_json::json!({"id": id, "name": "Test User", "status": "Enabled", "roles": ["Viewer"]})
    );
}

#[test]
fn keys_can_be_created_listed_restricted_and_deleted() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let user = create_user(&mut session, &server, "Bot", Role::Viewer);

    let created = session.ok(&admin, &CreateApiUserKey::new(&user));
    assert_eq!(created.user_id, user);
    assert_eq!(created.permissions, ["read::marketdata", "read::orders"]);
    assert!(created.whitelisted_ips.is_empty());
    assert_eq!(server.key_count(&user), 1);

    let listed = session.ok(&admin, &ListApiUserKeys::new(&user));
    assert_eq!(listed.data.len(), 1);
    let info = &listed.data[0];
    assert_eq!(
        (info.id.as_str(), info.api_key.as_str()),
        (created.id.as_str(), created.api_key.as_str())
    );
    assert!(info.updated_at.is_some());

    let updated = session.ok(
        &admin,
        &UpdateApiUserKey::new(&user, &created.id).whitelisted_ips(["127.0.0.1", "10.0.0.0/8"]),
    );
    assert_eq!(updated.whitelisted_ips, ["127.0.0.1", "10.0.0.0/8"]);
    assert_eq!(updated.api_key, created.api_key);
    assert!(updated.updated_at >= info.updated_at);
    let listed = session.ok(&admin, &ListApiUserKeys::new(&user));
    assert_eq!(listed.data[0].whitelisted_ips, ["127.0.0.1", "10.0.0.0/8"]);

    let deleted = session.ok(&admin, &DeleteApiUserKey::new(&user, &created.id));
    assert!(deleted.deleted);
    assert_eq!(server.key_count(&user), 0);
    assert!(
        session
            .ok(&admin, &ListApiUserKeys::new(&user))
            .data
            .is_empty()
    );
    assert_eq!(
        session.error(&admin, &DeleteApiUserKey::new(&user, &created.id)),
        "EGeneral:Invalid arguments:key_id"
    );
}

#[test]
fn key_responses_have_the_documented_shapes_and_the_secret_appears_once() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let user = create_user(&mut session, &server, "Bot", Role::Trader);

    let request = session.build(&admin, &CreateApiUserKey::new(&user), session.next_nonce());
    let created = session.client.send(&request).response().json();
    let result = &created["result"];
    let mut fields: Vec<_> = result.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "api_key",
            "api_secret",
            "id",
            "permissions",
            "user_id",
            "whitelisted_ips"
        ]
    );
    // Shaped like the documented example: `KRA5L19LAW8Z`, `6xq8p1mvk9r3n7swt2l5cj4eaydhzbf`.
    let api_key = result["api_key"].as_str().unwrap();
    assert_eq!(api_key.len(), 12);
    assert!(
        api_key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    );
    let secret = result["api_secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 31);
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert!(
        prime_core::SigningKey::from_base64(&secret).is_err(),
        "opaque text, not base64"
    );
    assert_eq!(
        result["permissions"],
        serde_json::json!(["read::marketdata", "read::orders", "write::orders"])
    );

    // The list names the public key `key` (not `api_key`) and carries no secret.
    let request = session.build(&admin, &ListApiUserKeys::new(&user), session.next_nonce());
    let listed = session.client.send(&request).response();
    let item = &listed.json()["result"]["data"][0];
    assert_eq!(item["key"], result["api_key"]);
    assert!(item.get("api_secret").is_none());
    // No later answer and no state dump ever carries the secret again.
    assert!(!String::from_utf8_lossy(&listed.body).contains(&secret));
    assert!(!server.state().to_string().contains(&secret));
}

#[test]
fn an_issued_key_is_a_websocket_and_fix_credential_refused_on_rest() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let user = create_user(&mut session, &server, "Reader", Role::Trader);
    let created = session.ok(&admin, &CreateApiUserKey::new(&user));
    let own = http_client::issued_as_rest(&created);
    for _ in 0..2 {
        assert_eq!(
            session.error(&own, &ListSettlementBatches::new()),
            "EAPI:Invalid key"
        );
    }
    assert_eq!(server.executions("ListPrimeSettlementBatches"), 0);

    // Listed, and deletable by the account key; deleted keys leave the list.
    let listed = session.ok(&admin, &ListApiUserKeys::new(&user));
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].api_key, created.api_key);
    session.ok(&admin, &DeleteApiUserKey::new(&user, &created.id));
    assert!(
        session
            .ok(&admin, &ListApiUserKeys::new(&user))
            .data
            .is_empty()
    );
    assert_eq!(
        session.error(&own, &ListSettlementBatches::new()),
        "EAPI:Invalid key"
    );
}

#[test]
fn disabling_a_user_keeps_its_keys() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let user = create_user(&mut session, &server, "Reader", Role::Viewer);
    session.ok(&admin, &CreateApiUserKey::new(&user));
    session.ok(
        &admin,
        &UpdateApiUser::new(&user).status(UserStatus::Disabled),
    );
    assert_eq!(server.key_count(&user), 1);
    session.ok(
        &admin,
        &UpdateApiUser::new(&user).status(UserStatus::Enabled),
    );
    assert_eq!(server.key_count(&user), 1);
}

#[test]
fn unknown_ids_name_the_field() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let user = create_user(&mut session, &server, "U", Role::Viewer);
    let cases: Vec<(String, String)> = vec![
        (
            session.error(&admin, &GetApiUser::new("NOSUCHUSER")),
            "user_id".into(),
        ),
        (
            session.error(&admin, &UpdateApiUser::new("NOSUCHUSER").name("x")),
            "user_id".into(),
        ),
        (
            session.error(&admin, &UpdateApiUserRoles::new("NOSUCHUSER", Role::Trader)),
            "user_id".into(),
        ),
        (
            session.error(&admin, &CreateApiUserKey::new("NOSUCHUSER")),
            "user_id".into(),
        ),
        (
            session.error(&admin, &ListApiUserKeys::new("NOSUCHUSER")),
            "user_id".into(),
        ),
        (
            session.error(&admin, &UpdateApiUserKey::new(&user, "NOSUCHKEY")),
            "key_id".into(),
        ),
        (
            session.error(&admin, &DeleteApiUserKey::new(&user, "NOSUCHKEY")),
            "key_id".into(),
        ),
    ];
    for (error, field) in cases {
        assert_eq!(error, format!("EGeneral:Invalid arguments:{field}"));
    }
    // A key id of another user is not found either.
    let other = create_user(&mut session, &server, "V", Role::Viewer);
    let key = session.ok(&admin, &CreateApiUserKey::new(&other));
    assert_eq!(
        session.error(&admin, &DeleteApiUserKey::new(&user, &key.id)),
        "EGeneral:Invalid arguments:key_id"
    );
    assert_eq!(server.key_count(&other), 1);
    assert_eq!(
        session.error(&admin, &GetSettlementBatch::new("B_NOSUCH")),
        "EGeneral:Invalid arguments:batch_id"
    );
}

#[test]
fn roles_and_statuses_outside_the_documented_sets_are_refused() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    assert_eq!(
        session.error(
            &admin,
            &CreateApiUser::new("X", Role::Other("Admin".into()))
        ),
        "EGeneral:Invalid arguments:role"
    );
    let user = create_user(&mut session, &server, "U", Role::Viewer);
    assert_eq!(
        session.error(
            &admin,
            &UpdateApiUser::new(&user).status(UserStatus::Other("Frozen".into()))
        ),
        "EGeneral:Invalid arguments:status"
    );
    assert_eq!(
        session.error(
            &admin,
            &UpdateApiUserRoles::new(&user, Role::Other("Root".into()))
        ),
        "EGeneral:Invalid arguments:role"
    );
    assert_eq!(server.executions("CreatePrimeApiUser"), 1);
}
