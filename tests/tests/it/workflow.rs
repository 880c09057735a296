//! The whole Prime workflow over real loopback HTTP against prime-mock, once per transport, as
//! Kraken documents it: the account key creates a user and a key (secret present), lists keys
//! (no secret), updates the IP allow-list and runs a settlement batch (create, confirm, get,
//! list, settle); the issued key, a WebSocket/FIX credential, is refused on REST before and
//! after it is deleted.

use prime_core::endpoints::{
    AssetKind, CreateSettlementBatch, ListSettlementBatches, Role, TransferStatus, UpdateApiUserKey,
};
use prime_core::{ApiKey, Credentials, Error, ErrorCode, SigningKey};
use prime_mock::{MockServer, Trade};

fn mock() -> MockServer {
    let server = MockServer::builder()
        .seed(5)
        .seed_trades(false)
        .start()
        .expect("the simulator starts");
    server.add_trade(Trade::new("BTC", "1.5", AssetKind::Currency));
    server.add_trade(Trade::new("BTC", "-0.25", AssetKind::Currency));
    server.add_trade(Trade::new("USD", "-56250.10", AssetKind::Currency));
    server
}

/// REST credentials from an issued key, as a client that mistakes it for a REST key would:
/// the opaque secret's bytes as the HMAC key (it is not base64, so there is nothing to decode).
fn issued_as_rest(api_key: &str, secret: &str) -> Credentials {
    Credentials::from_parts(
        ApiKey::new(api_key).unwrap(),
        SigningKey::from_bytes(secret.as_bytes()),
    )
}

fn assert_invalid_key(error: &Error) {
    let codes: Vec<_> = error
        .response()
        .map(|r| r.kraken_errors().iter().map(|e| e.code().clone()).collect())
        .unwrap_or_default();
    assert_eq!(codes, [ErrorCode::InvalidKey], "{error}");
}

#[test]
fn blocking_full_workflow() {
    use prime_blocking::Client;

    let server = mock();
    let admin = Client::builder(server.account_credentials())
        .base_url(&server.url())
        .build()
        .unwrap();

    let user = admin.create_api_user("workflow-bot", Role::Trader).unwrap();
    assert_eq!(user.roles, [Role::Trader]);
    assert_eq!(admin.get_api_user(&user.id).unwrap().id, user.id);
    assert!(
        admin
            .list_api_users()
            .unwrap()
            .iter()
            .any(|u| u.id == user.id)
    );

    let key = admin.create_api_user_key(&user.id).unwrap();
    let secret = key.api_secret().expose().to_owned();
    assert!(!secret.is_empty());
    assert!(
        !format!("{key:?}").contains(&secret),
        "Debug leaks the secret"
    );

    // REST, settlement included, runs on the account key. The issued key is a Prime
    // WebSocket/FIX credential: a client that signs REST with it anyway is refused.
    let bot = admin.clone();
    let issued = Client::builder(issued_as_rest(&key.api_key, &secret))
        .base_url(&server.url())
        .build()
        .unwrap();
    assert_invalid_key(
        &issued
            .list_settlement_batches(ListSettlementBatches::new())
            .unwrap_err(),
    );
    assert!(
        bot.list_settlement_batches(ListSettlementBatches::new())
            .unwrap()
            .data
            .is_empty()
    );

    let keys = admin.list_api_user_keys(&user.id).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].api_key, key.api_key);
    assert!(
        !format!("{keys:?}").contains(&secret),
        "the key list carries the secret"
    );
    assert!(
        keys[0].extra.keys().all(|k| !k.contains("secret")),
        "{:?}",
        keys[0].extra
    );

    let updated = admin
        .update_api_user_key(
            UpdateApiUserKey::new(&user.id, &key.id).whitelisted_ips(["127.0.0.1", "10.0.0.0/8"]),
        )
        .unwrap();
    assert_eq!(updated.whitelisted_ips, ["127.0.0.1", "10.0.0.0/8"]);

    let batch = bot
        .create_settlement_batch(CreateSettlementBatch::new().asset_kind(AssetKind::Currency))
        .unwrap();
    assert!(!batch.attributes.confirmed);
    assert!(server.confirm_batch(&batch.id));
    let fetched = bot.get_settlement_batch(&batch.id, None).unwrap();
    assert!(fetched.attributes.confirmed);
    // The documented filter travels with the typed call: the batch's own kind finds it,
    // another kind does not.
    let same_kind = bot.get_settlement_batch(&batch.id, Some(AssetKind::Currency));
    assert_eq!(same_kind.unwrap().id, batch.id);
    let other_kind = bot
        .get_settlement_batch(&batch.id, Some(AssetKind::TokenizedEquity))
        .unwrap_err();
    assert!(
        other_kind
            .to_string()
            .contains("EGeneral:Invalid arguments:batch_id"),
        "{other_kind}"
    );
    let btc = fetched
        .legs
        .iter()
        .find(|l| l.asset == "BTC")
        .expect("a BTC leg");
    assert_eq!(btc.amount.as_str(), "1.25");
    assert!(btc.can_settle);
    let listed = bot
        .list_settlement_batches(ListSettlementBatches::new())
        .unwrap();
    assert_eq!(
        listed.data.iter().map(|b| &b.id).collect::<Vec<_>>(),
        [&batch.id]
    );
    let transfer = bot.settle_settlement_batch_asset(&batch.id, "BTC").unwrap();
    assert_eq!(transfer.attributes.asset, "BTC");
    assert_eq!(transfer.attributes.amount, btc.amount);
    assert_eq!(transfer.attributes.status, TransferStatus::Pending);

    assert!(
        admin
            .delete_api_user_key(&user.id, &key.id)
            .unwrap()
            .deleted
    );
    assert_eq!(server.key_count(&user.id), 0);
    let rejected = issued
        .list_settlement_batches(ListSettlementBatches::new())
        .unwrap_err();
    assert_invalid_key(&rejected);
    assert!(!rejected.to_string().contains(&secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_full_workflow() {
    use prime_async::Client;

    let server = mock();
    let admin = Client::builder(server.account_credentials())
        .base_url(&server.url())
        .build()
        .unwrap();

    let user = admin
        .create_api_user("workflow-bot", Role::Trader)
        .await
        .unwrap();
    assert_eq!(user.roles, [Role::Trader]);
    assert_eq!(admin.get_api_user(&user.id).await.unwrap().id, user.id);
    assert!(
        admin
            .list_api_users()
            .await
            .unwrap()
            .iter()
            .any(|u| u.id == user.id)
    );

    let key = admin.create_api_user_key(&user.id).await.unwrap();
    let secret = key.api_secret().expose().to_owned();
    assert!(!secret.is_empty());
    assert!(
        !format!("{key:?}").contains(&secret),
        "Debug leaks the secret"
    );

    let bot = admin.clone();
    let issued = Client::builder(issued_as_rest(&key.api_key, &secret))
        .base_url(&server.url())
        .build()
        .unwrap();
    assert_invalid_key(
        &issued
            .list_settlement_batches(ListSettlementBatches::new())
            .await
            .unwrap_err(),
    );
    let none = bot
        .list_settlement_batches(ListSettlementBatches::new())
        .await
        .unwrap();
    assert!(none.data.is_empty());

    let keys = admin.list_api_user_keys(&user.id).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].api_key, key.api_key);
    assert!(
        !format!("{keys:?}").contains(&secret),
        "the key list carries the secret"
    );
    assert!(
        keys[0].extra.keys().all(|k| !k.contains("secret")),
        "{:?}",
        keys[0].extra
    );

    let updated = admin
        .update_api_user_key(
            UpdateApiUserKey::new(&user.id, &key.id).whitelisted_ips(["127.0.0.1", "10.0.0.0/8"]),
        )
        .await
        .unwrap();
    assert_eq!(updated.whitelisted_ips, ["127.0.0.1", "10.0.0.0/8"]);

    let batch = bot
        .create_settlement_batch(CreateSettlementBatch::new().asset_kind(AssetKind::Currency))
        .await
        .unwrap();
    assert!(!batch.attributes.confirmed);
    assert!(server.confirm_batch(&batch.id));
    let fetched = bot.get_settlement_batch(&batch.id, None).await.unwrap();
    assert!(fetched.attributes.confirmed);
    let btc = fetched
        .legs
        .iter()
        .find(|l| l.asset == "BTC")
        .expect("a BTC leg");
    assert_eq!(btc.amount.as_str(), "1.25");
    assert!(btc.can_settle);
    let listed = bot
        .list_settlement_batches(ListSettlementBatches::new())
        .await
        .unwrap();
    assert_eq!(
        listed.data.iter().map(|b| &b.id).collect::<Vec<_>>(),
        [&batch.id]
    );
    let transfer = bot
        .settle_settlement_batch_asset(&batch.id, "BTC")
        .await
        .unwrap();
    assert_eq!(transfer.attributes.asset, "BTC");
    assert_eq!(transfer.attributes.amount, btc.amount);
    assert_eq!(transfer.attributes.status, TransferStatus::Pending);

    assert!(
        admin
            .delete_api_user_key(&user.id, &key.id)
            .await
            .unwrap()
            .deleted
    );
    assert_eq!(server.key_count(&user.id), 0);
    let rejected = issued
        .list_settlement_batches(ListSettlementBatches::new())
        .await
        .unwrap_err();
    assert_invalid_key(&rejected);
    assert!(!rejected.to_string().contains(&secret));
}
