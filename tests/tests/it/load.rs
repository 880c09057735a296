//! Bounded load from both transports at once against one simulator, then an audit of its
//! state against what the clients were told.
//!
//! Both sides run at the same time, each with the same shape of work:
//! - admin workers (threads or tasks) share one client on the account key and, round after
//!   round, create users, create keys (and a second key every other round), replace a key's IP
//!   allow-list, rename users, delete keys, and read back users and key lists. The account key
//!   is used by both transports' clients at once, so it is given a nonce window and both clients
//!   draw from one nonce source with concurrent sends: the documented opt-in for exactly this;
//! - a settlement worker with its own Trader key runs batch cycles for one asset kind (the
//!   blocking side `currency`, the async side `tokenized_equity`): trades in, batch created,
//!   confirmed, every leg settled;
//! - two reader workers share one Viewer key's client with the default ordered sends (no
//!   window) and read settlement batches.
//!
//! Then: no call failed; every signed request was signed exactly once (a nonce error would
//! have cost a re-signed resend); the simulator executed each method exactly as often as the
//! clients were told it succeeded; and its state holds every user, key, IP list, deletion,
//! batch and transfer the clients recorded, each exactly once, and nothing else.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use prime_core::endpoints::{
    AssetKind, CreateApiUserKey, CreateSettlementBatch, ListSettlementBatches, Role, UpdateApiUser,
    UpdateApiUserKey,
};
use prime_core::{Credentials, Error};
use prime_mock::{AccountKeySpec, MockServer, Permission, Trade};
use prime_tests::RecordedNonces;
use serde_json::Value;

/// Admin workers per side.
const ADMIN_WORKERS: usize = 4;
/// Rounds per admin worker (about 8 calls each).
const ROUNDS: usize = 60;
/// Settlement cycles per side.
const CYCLES: usize = 20;
/// Reader workers per side, and reads each.
const READERS: usize = 2;
const READS: usize = 400;
/// Wide enough for any reordering between two clients on loopback: 60 s in nanoseconds.
const NONCE_WINDOW: u64 = 60_000_000_000;
/// Per-attempt timeout: never reached unless something hangs.
const TIMEOUT: Duration = Duration::from_secs(20);
/// The whole load must finish within this, on a loaded 2-core machine in debug.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// What the clients were told, shared by every worker.
#[derive(Default)]
struct Ledger {
    /// Successful calls per method.
    calls: BTreeMap<&'static str, u64>,
    failures: Vec<String>,
    users: HashMap<String, UserRecord>,
    keys: HashMap<String, KeyRecord>,
    batches: HashMap<String, BatchRecord>,
    transfers: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct UserRecord {
    name: String,
    role: Role,
}

#[derive(Debug, Clone, PartialEq)]
struct KeyRecord {
    user_id: String,
    api_key: String,
    whitelisted_ips: Vec<String>,
    deleted: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct BatchRecord {
    kind: AssetKind,
    trade_ids: BTreeSet<String>,
}

type Shared = Arc<Mutex<Ledger>>;

fn ledger(shared: &Shared) -> std::sync::MutexGuard<'_, Ledger> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts a success for `method`, or records the failure; returns the value on success.
fn record<T>(shared: &Shared, method: &'static str, result: Result<T, Error>) -> Option<T> {
    let mut ledger = ledger(shared);
    match result {
        Ok(value) => {
            *ledger.calls.entry(method).or_default() += 1;
            Some(value)
        }
        Err(error) => {
            ledger.failures.push(format!("{method}: {error}"));
            None
        }
    }
}

/// A key's nonce source, to compare with the simulator's last accepted nonce for it.
struct KeyNonces {
    api_key: String,
    nonces: Arc<RecordedNonces>,
}

/// The trades of one settlement cycle: three assets netting to non-zero amounts.
fn cycle_trades(server: &MockServer, kind: &AssetKind, cycle: usize) -> BTreeSet<String> {
    let assets: [(&str, &str); 3] = match kind {
        AssetKind::TokenizedEquity => [("AAPLx", "3"), ("TSLAx", "-1.25"), ("USD", "-410.5")],
        _ => [("BTC", "0.5"), ("ETH", "-2.125"), ("USD", "1234.56")],
    };
    assets
        .iter()
        .enumerate()
        .map(|(n, (asset, amount))| {
            let id = format!("T-{kind}-{cycle}-{n}");
            server
                .try_add_trade(Trade::new(*asset, *amount, kind.clone()).with_id(&id))
                .expect("a valid trade")
        })
        .collect()
}

fn user_name(side: &str, worker: usize, round: usize) -> String {
    format!("load-{side}-{worker}-{round}")
}

fn ips(worker: usize, round: usize) -> Vec<String> {
    vec![format!("10.{worker}.{round}.0/24"), "127.0.0.1".to_owned()]
}

/// Every key in use, with its nonce source: the simulator's last accepted nonce for the key
/// must be the last one its source issued.
type KeySources = Arc<Mutex<Vec<KeyNonces>>>;

/// The workers, written once for both transports: `$($await)*` is empty for the blocking
/// client and `.await` for the async one, spliced after every call, so both sides run exactly
/// the same workload.
macro_rules! workers {
    ($module:ident, $client:ty, [$($async:tt)?], $($await:tt)*) => {
        mod $module {
            use super::*;

            pub(super) fn client(
                url: &str,
                credentials: Credentials,
                nonces: Arc<RecordedNonces>,
                concurrent_sends: bool,
            ) -> $client {
                <$client>::builder(credentials)
                    .base_url(url)
                    .nonce_source(nonces)
                    // Any failure must show, not be retried away.
                    .retry_policy(prime_core::RetryPolicy::never())
                    .timeout(TIMEOUT)
                    .concurrent_sends(concurrent_sends)
                    .build()
                    .expect("the client builds")
            }

            /// Users and keys, round after round, through the shared account-key client.
            pub(super) $($async)? fn admin(
                admin: &$client,
                shared: &Shared,
                side: &str,
                worker: usize,
            ) {
                for round in 0..ROUNDS {
                    let name = user_name(side, worker, round);
                    let role = if round % 2 == 0 { Role::Viewer } else { Role::Trader };
                    let created = admin.create_api_user(&name, role.clone()) $($await)*;
                    let Some(user) = record(shared, "CreatePrimeApiUser", created) else {
                        continue;
                    };
                    ledger(shared).users.insert(user.id.clone(), UserRecord { name, role });
                    let mut keys = Vec::new();
                    for _ in 0..(1 + round % 2) {
                        let created = admin.send(CreateApiUserKey::new(&user.id)) $($await)*.map(|reply| reply.result);
                        if let Some(key) = record(shared, "CreatePrimeApiUserKey", created) {
                            let entry = KeyRecord {
                                user_id: user.id.clone(),
                                api_key: key.api_key.clone(),
                                whitelisted_ips: key.whitelisted_ips.clone(),
                                deleted: false,
                            };
                            ledger(shared).keys.insert(key.id.clone(), entry);
                            keys.push(key.id);
                        }
                    }
                    let Some(first) = keys.first() else { continue };
                    let update = UpdateApiUserKey::new(&user.id, first)
                        .whitelisted_ips(ips(worker, round));
                    let updated = admin.update_api_user_key(update.clone()) $($await)*;
                    if let Some(updated) = record(shared, "UpdatePrimeApiUserKey", updated) {
                        assert_eq!(updated.whitelisted_ips, ips(worker, round));
                        let mut ledger = ledger(shared);
                        if let Some(key) = ledger.keys.get_mut(first) {
                            key.whitelisted_ips = ips(worker, round);
                        }
                    }
                    let fetched = admin.get_api_user(&user.id) $($await)*;
                    record(shared, "GetPrimeApiUser", fetched);
                    let listed = admin.list_api_user_keys(&user.id) $($await)*;
                    if let Some(listed) = record(shared, "ListPrimeApiUserKeys", listed) {
                        assert_eq!(listed.len(), keys.len(), "the list shows the keys just made");
                    }
                    if round % 3 == 0 {
                        let renamed = format!("{}-renamed", user_name(side, worker, round));
                        let update = UpdateApiUser::new(&user.id).name(&renamed);
                        let updated = admin.update_api_user(update.clone()) $($await)*;
                        if record(shared, "UpdatePrimeApiUser", updated).is_some() {
                            let mut ledger = ledger(shared);
                            if let Some(user) = ledger.users.get_mut(&user.id) {
                                user.name = renamed;
                            }
                        }
                    }
                    if let Some(second) = keys.get(1) {
                        let deleted = admin.delete_api_user_key(&user.id, second) $($await)*;
                        let deleted = record(shared, "DeletePrimeApiUserKey", deleted);
                        if deleted.is_some_and(|d| d.deleted) {
                            let mut ledger = ledger(shared);
                            if let Some(key) = ledger.keys.get_mut(second) {
                                key.deleted = true;
                            }
                        }
                    }
                }
            }

            /// A user with `role` and a (WebSocket/FIX) key for it, made by `admin`, and a
            /// client for a further account key with the permissions that role's work needs
            /// (REST is always signed by account keys), with its own nonce source and the
            /// default ordered sends.
            pub(super) $($async)? fn user_client(
                admin: &$client,
                server: &MockServer,
                url: &str,
                shared: &Shared,
                sources: &KeySources,
                name: &str,
                role: Role,
            ) -> Option<$client> {
                let trades = role == Role::Trader;
                let created = admin.create_api_user(name, role.clone()) $($await)*;
                let user = record(shared, "CreatePrimeApiUser", created)?;
                ledger(shared).users.insert(
                    user.id.clone(),
                    UserRecord { name: name.to_owned(), role },
                );
                let created = admin.send(CreateApiUserKey::new(&user.id)) $($await)*.map(|reply| reply.result);
                let key = record(shared, "CreatePrimeApiUserKey", created)?;
                ledger(shared).keys.insert(
                    key.id.clone(),
                    KeyRecord {
                        user_id: user.id.clone(),
                        api_key: key.api_key.clone(),
                        whitelisted_ips: key.whitelisted_ips.clone(),
                        deleted: false,
                    },
                );
                let permissions = if trades {
                    Permission::ALL.to_vec()
                } else {
                    vec![Permission::QueryOpenOrdersAndTrades]
                };
                let minted = server.mint_account_key(&AccountKeySpec::new(permissions)).ok()?;
                let nonces = RecordedNonces::new();
                sources
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(KeyNonces { api_key: minted.api_key.clone(), nonces: nonces.clone() });
                let credentials = minted.credentials().ok()?;
                Some(client(url, credentials, nonces, false))
            }

            /// Settlement cycles for one asset kind with a Trader key.
            pub(super) $($async)? fn settlement(
                trader: &$client,
                server: &MockServer,
                shared: &Shared,
                kind: AssetKind,
            ) {
                for cycle in 0..CYCLES {
                    let trade_ids = cycle_trades(server, &kind, cycle);
                    let request = CreateSettlementBatch::new().asset_kind(kind.clone());
                    let created = trader.create_settlement_batch(request.clone()) $($await)*;
                    let Some(batch) = record(shared, "CreatePrimeSettlementBatch", created) else {
                        return;
                    };
                    let batched: BTreeSet<String> =
                        batch.trade_ids.clone().unwrap_or_default().into_iter().collect();
                    assert_eq!(batched, trade_ids, "the batch holds exactly this cycle's trades");
                    ledger(shared).batches.insert(
                        batch.id.clone(),
                        BatchRecord { kind: kind.clone(), trade_ids },
                    );
                    assert!(server.confirm_batch(&batch.id));
                    let fetched = trader.get_settlement_batch(&batch.id, None) $($await)*;
                    let Some(confirmed) = record(shared, "GetPrimeSettlementBatch", fetched) else {
                        return;
                    };
                    for leg in confirmed.legs.iter().filter(|leg| leg.can_settle) {
                        let settled =
                            trader.settle_settlement_batch_asset(&batch.id, &leg.asset) $($await)*;
                        if let Some(transfer) =
                            record(shared, "SettlePrimeSettlementBatchAsset", settled)
                        {
                            ledger(shared).transfers.insert(transfer.id);
                        }
                    }
                    let all = ListSettlementBatches::new();
                    let listed = trader.list_settlement_batches(all.clone()) $($await)*;
                    record(shared, "ListPrimeSettlementBatches", listed);
                }
            }

            /// Batch reads with a Viewer key, alternating list and get.
            pub(super) $($async)? fn reader(viewer: &$client, shared: &Shared) {
                let mut last_seen: Option<String> = None;
                for read in 0..READS {
                    match (&last_seen, read % 2) {
                        (Some(batch_id), 1) => {
                            let fetched = viewer.get_settlement_batch(batch_id, None) $($await)*;
                            record(shared, "GetPrimeSettlementBatch", fetched);
                        }
                        _ => {
                            let all = ListSettlementBatches::new();
                            let listed = viewer.list_settlement_batches(all.clone()) $($await)*;
                            let listed = record(shared, "ListPrimeSettlementBatches", listed);
                            if let Some(list) = listed {
                                last_seen = list.data.first().map(|b| b.id.clone()).or(last_seen);
                            }
                        }
                    }
                }
            }
        }
    };
}

workers!(blocking, prime_blocking::Client, [],);
workers!(asynchronous, prime_async::Client, [async], .await);

/// The blocking side: threads.
fn run_blocking(
    server: &MockServer,
    admin_nonces: &Arc<RecordedNonces>,
    shared: &Shared,
    sources: &KeySources,
) {
    let url = server.url();
    let admin = blocking::client(
        &url,
        server.account_credentials(),
        admin_nonces.clone(),
        true,
    );
    let trader = blocking::user_client(
        &admin,
        server,
        &url,
        shared,
        sources,
        "load-blocking-trader",
        Role::Trader,
    );
    let viewer = blocking::user_client(
        &admin,
        server,
        &url,
        shared,
        sources,
        "load-blocking-viewer",
        Role::Viewer,
    );
    std::thread::scope(|scope| {
        for worker in 0..ADMIN_WORKERS {
            let admin = &admin;
            scope.spawn(move || blocking::admin(admin, shared, "blocking", worker));
        }
        if let Some(trader) = &trader {
            scope.spawn(move || blocking::settlement(trader, server, shared, AssetKind::Currency));
        }
        if let Some(viewer) = &viewer {
            for _ in 0..READERS {
                scope.spawn(move || blocking::reader(viewer, shared));
            }
        }
    });
}

/// The async side: tasks on a two-thread runtime.
fn run_async(
    server: &Arc<MockServer>,
    admin_nonces: &Arc<RecordedNonces>,
    shared: &Shared,
    sources: &KeySources,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let url = server.url();
        let admin = asynchronous::client(
            &url,
            server.account_credentials(),
            admin_nonces.clone(),
            true,
        );
        let trader = asynchronous::user_client(
            &admin,
            server,
            &url,
            shared,
            sources,
            "load-async-trader",
            Role::Trader,
        )
        .await;
        let viewer = asynchronous::user_client(
            &admin,
            server,
            &url,
            shared,
            sources,
            "load-async-viewer",
            Role::Viewer,
        )
        .await;
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..ADMIN_WORKERS {
            let (admin, shared) = (admin.clone(), shared.clone());
            tasks.spawn(async move { asynchronous::admin(&admin, &shared, "async", worker).await });
        }
        if let Some(trader) = trader {
            let (server, shared) = (server.clone(), shared.clone());
            tasks.spawn(async move {
                asynchronous::settlement(&trader, &server, &shared, AssetKind::TokenizedEquity)
                    .await;
            });
        }
        if let Some(viewer) = viewer {
            for _ in 0..READERS {
                let (viewer, shared) = (viewer.clone(), shared.clone());
                tasks.spawn(async move { asynchronous::reader(&viewer, &shared).await });
            }
        }
        while let Some(joined) = tasks.join_next().await {
            joined.expect("no task panicked");
        }
    });
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

#[test]
fn both_transports_at_once_lose_and_duplicate_nothing() {
    let server = Arc::new(
        MockServer::builder()
            .seed(77)
            .seed_trades(false)
            .start()
            .expect("the simulator starts"),
    );
    assert!(server.set_nonce_window(server.account_api_key(), NONCE_WINDOW));
    let admin_nonces = RecordedNonces::new();
    let shared = Shared::default();
    let sources = KeySources::default();

    let started = Instant::now();
    std::thread::scope(|scope| {
        let blocking = scope.spawn(|| run_blocking(&server, &admin_nonces, &shared, &sources));
        let asynchronous = scope.spawn(|| run_async(&server, &admin_nonces, &shared, &sources));
        blocking.join().expect("the blocking side did not panic");
        asynchronous.join().expect("the async side did not panic");
    });
    let elapsed = started.elapsed();
    // Trades are settled out of band once the load is over.
    server.complete_transfers();

    let ledger = Arc::try_unwrap(shared)
        .ok()
        .expect("every worker is done")
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let calls: u64 = ledger.calls.values().sum();
    eprintln!(
        "load: {calls} calls in {elapsed:?} ({:.0} calls/s) from both transports at once; \
         {} users, {} keys ({} deleted), {} batches, {} transfers; per method {:?}",
        calls as f64 / elapsed.as_secs_f64(),
        ledger.users.len(),
        ledger.keys.len(),
        ledger.keys.values().filter(|k| k.deleted).count(),
        ledger.batches.len(),
        ledger.transfers.len(),
        ledger.calls,
    );

    // Nothing failed, and nothing took too long.
    assert!(
        ledger.failures.is_empty(),
        "{} calls failed, e.g. {:?}",
        ledger.failures.len(),
        &ledger.failures[..ledger.failures.len().min(5)]
    );
    assert!(elapsed < TIME_LIMIT, "the load took {elapsed:?}");
    assert!(calls >= 4000, "only {calls} calls");

    // Every call was signed once: no nonce error (it would have cost a re-signed resend).
    let sources = Arc::try_unwrap(sources)
        .ok()
        .expect("every worker is done")
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let issued = admin_nonces.count() + sources.iter().map(|s| s.nonces.count()).sum::<usize>();
    assert_eq!(
        issued as u64, calls,
        "signed requests vs calls: some call was re-signed"
    );

    let state = server.state();
    // The simulator executed each method exactly as often as the clients saw it succeed.
    for (method, count) in state["executions"].as_object().expect("executions") {
        let told = ledger
            .calls
            .get(method.as_str())
            .copied()
            .unwrap_or_default();
        assert_eq!(
            count.as_u64(),
            Some(told),
            "{method}: executions vs successes"
        );
    }

    // Each key's last accepted nonce is the last one its source issued.
    let keys_in_state: Vec<&Value> = state["keys"].as_array().expect("keys").iter().collect();
    let last_nonce = |api_key: &str| {
        keys_in_state
            .iter()
            .find(|k| text(&k["api_key"]) == api_key)
            .and_then(|k| k["last_nonce"].as_u64())
    };
    assert_eq!(
        last_nonce(server.account_api_key()),
        admin_nonces.issued().iter().max().copied()
    );
    for source in &sources {
        assert_eq!(
            last_nonce(&source.api_key),
            source.nonces.issued().last().copied(),
            "key {}",
            source.api_key
        );
    }

    // Users: exactly the ones created, once each, with their final name and role.
    let users = state["users"].as_array().expect("users");
    assert_eq!(users.len(), ledger.users.len(), "users in state vs created");
    let mut seen = BTreeSet::new();
    for user in users {
        let id = text(&user["id"]);
        assert!(seen.insert(id), "user {id} appears twice");
        let record = ledger.users.get(id).expect("a user nobody created");
        assert_eq!(text(&user["name"]), record.name, "user {id}");
        assert_eq!(
            user["roles"],
            serde_json::json!([record.role.as_str()]),
            "user {id}"
        );
    }

    // Keys: exactly the ones created (plus the account key), once each, with their owner, final
    // IP list and deletion.
    let mut seen = BTreeSet::new();
    let mut live_per_user: HashMap<&str, usize> = HashMap::new();
    for key in &keys_in_state {
        if text(&key["owner"]) == "account" {
            continue;
        }
        let id = text(&key["id"]);
        assert!(seen.insert(id), "key {id} appears twice");
        let record = ledger.keys.get(id).expect("a key nobody created");
        assert_eq!(text(&key["owner"]), record.user_id, "key {id}");
        assert_eq!(text(&key["api_key"]), record.api_key, "key {id}");
        assert_eq!(key["deleted"].as_bool(), Some(record.deleted), "key {id}");
        assert_eq!(
            key["whitelisted_ips"],
            serde_json::json!(record.whitelisted_ips),
            "key {id}"
        );
        if !record.deleted {
            *live_per_user.entry(&record.user_id).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), ledger.keys.len(), "keys in state vs created");
    for user_id in ledger.users.keys() {
        assert_eq!(
            server.key_count(user_id),
            live_per_user
                .get(user_id.as_str())
                .copied()
                .unwrap_or_default(),
            "live keys of {user_id}"
        );
    }

    // Settlement: every batch once with its trades, every transfer once, nothing left over.
    let batches = state["batches"].as_array().expect("batches");
    assert_eq!(batches.len(), ledger.batches.len());
    assert_eq!(ledger.batches.len(), 2 * CYCLES);
    for batch in batches {
        let id = text(&batch["id"]);
        let record = ledger.batches.get(id).expect("a batch nobody created");
        assert_eq!(
            text(&batch["attributes"]["asset_kind"]),
            record.kind.as_str()
        );
        let trade_ids: BTreeSet<String> = batch["trade_ids"]
            .as_array()
            .expect("trade ids")
            .iter()
            .map(|t| text(t).to_owned())
            .collect();
        assert_eq!(trade_ids, record.trade_ids, "batch {id}");
        assert_eq!(
            text(&batch["attributes"]["status"]),
            "completed",
            "batch {id}"
        );
    }
    let transfers: BTreeSet<String> = state["transfers"]
        .as_array()
        .expect("transfers")
        .iter()
        .map(|t| text(&t["id"]).to_owned())
        .collect();
    assert_eq!(transfers, ledger.transfers);
    assert_eq!(state["unsettled_trades"], serde_json::json!([]));
}
