//! The settlement lifecycle over real HTTP: batches net trades exactly, one active batch per
//! asset kind, confirmation, settling legs, transfers completing, statuses progressing, and
//! listing with filters and pages.

use crate::http_client;

use prime_core::Credentials;
use prime_core::endpoints::{
    AssetKind, BatchStatus, CreateSettlementBatch, GetSettlementBatch, LegStatus,
    ListSettlementBatches, Role, SettleSettlementBatchAsset, SettlementBatch, TransferStatus,
};
use prime_mock::{MockServer, Trade, TradeError};

use http_client::Session;

fn trader(server: &MockServer) -> Credentials {
    http_client::account_key_beside_a_user(server, "Trader", Role::Trader)
}

fn legs(batch: &SettlementBatch) -> Vec<(String, String, LegStatus, bool)> {
    batch
        .legs
        .iter()
        .map(|l| {
            (
                l.asset.clone(),
                l.amount.as_str().to_owned(),
                l.status.clone(),
                l.can_settle,
            )
        })
        .collect()
}

fn get(session: &mut Session, key: &Credentials, id: &str) -> SettlementBatch {
    session.ok(key, &GetSettlementBatch::new(id)).batch
}

#[test]
fn the_lifecycle_from_trades_to_completed_transfers() {
    let server = MockServer::builder().seed_trades(false).start().unwrap();
    let mut session = Session::new(&server);
    let key = trader(&server);
    let trades = [
        ("BTC", "0.1"),
        ("BTC", "0.2"),
        ("USD", "-3000.10"),
        ("ETH", "5"),
        ("ETH", "-5"),
    ];
    let mut ids = Vec::new();
    for (asset, amount) in trades {
        ids.push(
            server
                .try_add_trade(Trade::new(asset, amount, AssetKind::Currency))
                .unwrap(),
        );
    }
    server.add_trade(Trade::new("AAPLx", "2", AssetKind::TokenizedEquity).with_id("equity-1"));

    let batch = session.ok(&key, &CreateSettlementBatch::new()).batch;
    let unsettled = LegStatus::Unsettled;
    // One leg per asset, exact net amounts (0.1 + 0.2 is exactly 0.3); a zero net has nothing
    // to move and starts settled.
    assert_eq!(
        legs(&batch),
        [
            ("BTC".into(), "0.3".into(), unsettled.clone(), true),
            ("ETH".into(), "0".into(), LegStatus::Settled, false),
            ("USD".into(), "-3000.1".into(), unsettled.clone(), true),
        ]
    );
    assert_eq!(batch.trade_ids.as_deref(), Some(&ids[..]));
    let attributes = &batch.attributes;
    assert_eq!(attributes.trade_count, Some(5));
    assert_eq!(attributes.asset_kind, Some(AssetKind::Currency));
    assert!(!attributes.confirmed);
    assert_eq!(attributes.status, BatchStatus::Unsettled);

    // One active batch per asset kind; the other kind is independent.
    assert_eq!(
        session.error(
            &key,
            &CreateSettlementBatch::new().asset_kind(AssetKind::Currency)
        ),
        "ETrade:Active batch exists"
    );
    let equity = session
        .ok(
            &key,
            &CreateSettlementBatch::new().asset_kind(AssetKind::TokenizedEquity),
        )
        .batch;
    assert_eq!(
        equity.trade_ids.as_deref(),
        Some(&["equity-1".to_owned()][..])
    );

    // Settling needs confirmation.
    let settle_btc = SettleSettlementBatchAsset::new(&batch.id, "BTC");
    assert_eq!(
        session.error(&key, &settle_btc),
        "EFunding:Batch not confirmed"
    );
    assert!(server.confirm_batch(&batch.id));
    assert!(!server.confirm_batch("B_NOSUCH"));
    assert!(get(&mut session, &key, &batch.id).attributes.confirmed);

    let transfer = session.ok(&key, &settle_btc).transfer;
    assert_eq!(transfer.id, "100");
    assert_eq!(transfer.attributes.status, TransferStatus::Pending);
    assert_eq!(transfer.attributes.amount.as_str(), "0.3");
    assert_eq!(transfer.attributes.asset, "BTC");
    let leg = transfer.relationships.unwrap().leg.unwrap();
    assert_eq!((leg.status, leg.can_settle), (LegStatus::Pending, false));
    assert_eq!(
        session.error(&key, &settle_btc),
        "EFunding:Leg not settleable"
    );
    assert_eq!(
        session.error(&key, &SettleSettlementBatchAsset::new(&batch.id, "ETH")),
        "EFunding:Leg not settleable"
    );
    assert_eq!(
        session.error(&key, &SettleSettlementBatchAsset::new(&batch.id, "DOGE")),
        "EGeneral:Invalid arguments:asset"
    );
    assert_eq!(
        session.error(&key, &SettleSettlementBatchAsset::new("B_NOSUCH", "BTC")),
        "EGeneral:Invalid arguments:batch_id"
    );
    let current = get(&mut session, &key, &batch.id);
    assert_eq!(current.attributes.status, BatchStatus::PartiallySettled);
    assert_eq!(
        current.legs[0].latest_spot_transfer.as_ref().unwrap()["id"],
        "100"
    );

    session.ok(&key, &SettleSettlementBatchAsset::new(&batch.id, "USD"));
    assert_eq!(
        get(&mut session, &key, &batch.id).attributes.status,
        BatchStatus::Settled
    );
    // With every leg started, the batch is no longer active: a new one may be created.
    server.add_trade(Trade::new("BTC", "1", AssetKind::Currency));
    let next = session.ok(&key, &CreateSettlementBatch::new()).batch;
    assert_eq!(next.attributes.status, BatchStatus::Unsettled);

    assert_eq!(server.complete_transfers(), 2);
    assert_eq!(server.complete_transfers(), 0);
    let done = get(&mut session, &key, &batch.id);
    assert_eq!(done.attributes.status, BatchStatus::Completed);
    assert!(
        done.legs
            .iter()
            .all(|l| l.status == LegStatus::Settled && l.settled_at.is_some())
    );
    assert_eq!(
        done.legs[2].latest_spot_transfer.as_ref().unwrap()["transfer_status"],
        "completed"
    );
    assert!(done.attributes.updated_at >= batch.attributes.updated_at);
    assert_eq!(server.executions("SettlePrimeSettlementBatchAsset"), 2);
}

#[test]
fn batches_need_unsettled_trades_of_a_batchable_kind() {
    let server = MockServer::builder().seed_trades(false).start().unwrap();
    let mut session = Session::new(&server);
    let key = trader(&server);
    assert_eq!(
        session.error(&key, &CreateSettlementBatch::new()),
        "ETrade:No unsettled trades"
    );
    assert_eq!(
        session.error(
            &key,
            &CreateSettlementBatch::new().asset_kind(AssetKind::Spot)
        ),
        "EGeneral:Invalid arguments:asset_kind"
    );
    assert!(matches!(
        server.try_add_trade(Trade::new("BTC", "1e3", AssetKind::Currency)),
        Err(TradeError::Amount(_))
    ));
    assert_eq!(
        server.try_add_trade(Trade::new("B TC", "1", AssetKind::Currency)),
        Err(TradeError::Asset)
    );
    assert!(matches!(
        server.try_add_trade(Trade::new("BTC", "1", AssetKind::Future)),
        Err(TradeError::AssetKind(_))
    ));
    server
        .try_add_trade(Trade::new("BTC", "1", AssetKind::Currency).with_id("t-1"))
        .unwrap();
    assert_eq!(
        server.try_add_trade(Trade::new("BTC", "1", AssetKind::Currency).with_id("t-1")),
        Err(TradeError::Id)
    );
    // An invalid trade given to add_trade is dropped (and logged), never batched.
    server.add_trade(Trade::new("ETH", "one", AssetKind::Currency));
    let batch = session.ok(&key, &CreateSettlementBatch::new()).batch;
    assert_eq!(legs(&batch).len(), 1);
}

#[test]
fn seeded_trades_make_a_batch_right_away() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let key = trader(&server);
    let currency = session.ok(&key, &CreateSettlementBatch::new()).batch;
    assert_eq!(
        legs(&currency)
            .into_iter()
            .map(|(asset, amount, _, _)| (asset, amount))
            .collect::<Vec<_>>(),
        [
            ("BTC".to_owned(), "1.25".to_owned()),
            ("ETH".to_owned(), "12.75".to_owned()),
            ("USD".to_owned(), "-43800.25".to_owned()),
        ]
    );
    let equity = session
        .ok(
            &key,
            &CreateSettlementBatch::new().asset_kind(AssetKind::TokenizedEquity),
        )
        .batch;
    assert_eq!(equity.legs.len(), 2);
}

/// Creates a batch that is completed at once (its trades net to zero), so many can be made.
fn completed_batch(
    session: &mut Session,
    server: &MockServer,
    key: &Credentials,
    kind: AssetKind,
) -> SettlementBatch {
    server.add_trade(Trade::new("BTC", "1", kind.clone()));
    server.add_trade(Trade::new("BTC", "-1", kind.clone()));
    let batch = session
        .ok(key, &CreateSettlementBatch::new().asset_kind(kind))
        .batch;
    assert_eq!(batch.attributes.status, BatchStatus::Completed);
    batch
}

#[test]
fn listing_filters_and_pages_most_recent_first() {
    let server = MockServer::builder().seed_trades(false).start().unwrap();
    let mut session = Session::new(&server);
    let key = trader(&server);
    let mut created = Vec::new();
    for i in 0..55 {
        let kind = if i % 5 == 0 {
            AssetKind::TokenizedEquity
        } else {
            AssetKind::Currency
        };
        created.push(completed_batch(&mut session, &server, &key, kind));
    }
    server.add_trade(Trade::new("ETH", "2", AssetKind::Currency));
    let open = session.ok(&key, &CreateSettlementBatch::new()).batch;
    created.push(open.clone());
    let newest_first: Vec<String> = created.iter().rev().map(|b| b.id.clone()).collect();
    let ids =
        |batches: &[SettlementBatch]| batches.iter().map(|b| b.id.clone()).collect::<Vec<_>>();

    // Default page: 50, most recent first.
    let page = session.ok(&key, &ListSettlementBatches::new());
    assert_eq!(ids(&page.data), newest_first[..50]);
    let pagination = page.pagination.unwrap();
    assert!(pagination.has_more);
    assert_eq!((pagination.limit, pagination.offset), (Some(50), Some(0)));

    let page = session.ok(
        &key,
        &ListSettlementBatches {
            limit: Some(200),
            offset: Some(50),
            ..Default::default()
        },
    );
    assert_eq!(ids(&page.data), newest_first[50..]);
    assert!(!page.pagination.unwrap().has_more);

    let page = session.ok(
        &key,
        &ListSettlementBatches {
            limit: Some(3),
            offset: Some(1),
            ..Default::default()
        },
    );
    assert_eq!(ids(&page.data), newest_first[1..4]);

    let statuses = ListSettlementBatches {
        statuses: Some(vec![BatchStatus::Unsettled, BatchStatus::PartiallySettled]),
        ..Default::default()
    };
    assert_eq!(
        ids(&session.ok(&key, &statuses).data),
        std::slice::from_ref(&open.id)
    );

    let equity = ListSettlementBatches {
        asset_kind: Some(AssetKind::TokenizedEquity),
        limit: Some(200),
        ..Default::default()
    };
    let equity = session.ok(&key, &equity).data;
    assert_eq!(equity.len(), 11);
    assert!(
        equity
            .iter()
            .all(|b| b.attributes.asset_kind == Some(AssetKind::TokenizedEquity))
    );

    // `from` is exclusive, `until` inclusive, both on created_at.
    let time = |b: &SettlementBatch| b.attributes.created_at.unwrap();
    let window = ListSettlementBatches {
        from: Some(time(&created[10])),
        until: Some(time(&created[13])),
        ..Default::default()
    };
    let expected: Vec<String> = created[11..=13]
        .iter()
        .rev()
        .map(|b| b.id.clone())
        .collect();
    assert_eq!(ids(&session.ok(&key, &window).data), expected);

    // Get with a matching or another kind.
    let get = GetSettlementBatch {
        batch_id: open.id.clone(),
        asset_kind: Some(AssetKind::Currency),
    };
    assert_eq!(session.ok(&key, &get).batch.id, open.id);
    let get = GetSettlementBatch {
        batch_id: open.id.clone(),
        asset_kind: Some(AssetKind::TokenizedEquity),
    };
    assert_eq!(
        session.error(&key, &get),
        "EGeneral:Invalid arguments:batch_id"
    );

    let bad_status = ListSettlementBatches {
        statuses: Some(vec![BatchStatus::Other("lost".into())]),
        ..Default::default()
    };
    assert_eq!(
        session.error(&key, &bad_status),
        "EGeneral:Invalid arguments:statuses"
    );
}
