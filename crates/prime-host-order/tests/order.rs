//! The host send order through the call driver: strictly increasing nonces across threads and
//! separate orders (as separate processes hold them), across a restart with the clock an hour
//! back, and a damaged state file refused.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use prime_core::endpoints::ListApiUsers;
use prime_core::transport::{ClientCore, SendOrder};
use prime_core::{ApiKey, ClockNonce, Credentials, Error, NonceSource, NonceUnit, Settings};
use prime_host_order::HostSendOrder;

const KEY: &str = "KRA5L19LAW8Z";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "prime-host-order-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn core(nonces: Arc<dyn NonceSource>, order: Arc<HostSendOrder>) -> ClientCore {
    let credentials = Credentials::new(KEY, prime_core::example::SECRET).expect("valid");
    let settings = Settings::default().nonce_source(nonces).send_order(order);
    ClientCore::new(credentials, &settings).expect("valid settings")
}

/// Signs one request inside a turn, as a transport does, and returns its nonce.
fn sign_one(core: &ClientCore) -> u64 {
    let endpoint = ListApiUsers::new();
    let mut call = core.start(&endpoint, Instant::now()).expect("valid");
    let order = core.send_order().expect("an order");
    let mut turn = order.take_turn(core.api_key()).expect("a turn");
    let request = call
        .request_in_turn_at(Instant::now(), &mut *turn)
        .expect("signed");
    let body: serde_json::Value = serde_json::from_slice(request.body()).expect("JSON");
    body["nonce"].as_u64().expect("a nonce")
}

/// A nanosecond clock a test sets: the same reading until moved.
#[derive(Debug)]
struct SetClock(AtomicU64);

impl NonceSource for SetClock {
    fn next_nonce(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    fn unit(&self) -> Option<NonceUnit> {
        Some(NonceUnit::Nanoseconds)
    }
}

#[test]
fn separate_orders_on_threads_never_repeat_or_reorder_a_nonce() {
    let dir = scratch("threads");
    // One order per thread, each with its own file handle, as separate processes have; and
    // each with its own clock source, so only the shared mark keeps them apart.
    let threads = 6;
    let per_thread = 40;
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let dir = dir.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                let core = core(
                    Arc::new(ClockNonce::new()),
                    Arc::new(HostSendOrder::in_dir(dir)),
                );
                start.wait();
                (0..per_thread).map(|_| sign_one(&core)).collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("no panic"))
        .collect();
    let count = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), count, "no nonce was issued twice");
    assert_eq!(count, threads * per_thread);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_clock_an_hour_back_after_a_restart_reuses_no_nonce() {
    let dir = scratch("clock-back");
    let now = 1_795_000_000_000_000_000u64;
    let hour = 3_600_000_000_000u64;

    // The first run: the clock reads `now`; each call within one turn after another.
    let clock = Arc::new(SetClock(AtomicU64::new(now)));
    let first = core(clock.clone(), Arc::new(HostSendOrder::in_dir(&dir)));
    let before: Vec<u64> = (0..10).map(|_| sign_one(&first)).collect();
    drop(first);

    // The restart: a new process (new order, new source) whose clock is an hour back.
    let clock = Arc::new(SetClock(AtomicU64::new(now - hour)));
    let second = core(clock.clone(), Arc::new(HostSendOrder::in_dir(&dir)));
    let after: Vec<u64> = (0..10).map(|_| sign_one(&second)).collect();

    let highest_before = *before.iter().max().expect("nonces");
    assert!(
        after.iter().all(|n| *n > highest_before),
        "before {before:?}, after {after:?}"
    );
    let mut all = [before, after].concat();
    let count = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), count, "no nonce reused");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_state_file_is_named_without_the_key_and_holds_only_numbers() {
    let dir = scratch("names");
    let order = HostSendOrder::in_dir(&dir);
    let key = ApiKey::new(KEY).expect("valid key");
    let path = order.file_for(&key).expect("a path");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(!name.contains(KEY), "{name}");
    assert!(
        name.trim_end_matches(".order")
            .bytes()
            .all(|b| b.is_ascii_hexdigit()),
        "{name}"
    );
    // Another key, another file.
    let other = order.file_for(&ApiKey::new("OTHER").unwrap()).unwrap();
    assert_ne!(path, other);

    let core = core(Arc::new(ClockNonce::new()), Arc::new(order));
    let sent = sign_one(&core);
    let text = std::fs::read_to_string(&path).expect("the state file");
    assert!(text.contains(&format!("last={sent:020}")), "{text}");
    assert!(!text.contains(KEY), "{text}");
    assert!(!format!("{core:?}").contains(KEY));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_damaged_state_file_is_refused_not_replaced() {
    let dir = scratch("damaged");
    let order = HostSendOrder::in_dir(&dir);
    let key = ApiKey::new(KEY).expect("valid key");
    let path = order.file_for(&key).expect("a path");
    std::fs::create_dir_all(&dir).unwrap();
    for damage in [
        &b"garbage"[..],
        b"prime-send-order 1 last=12",
        b"\xff\xfe\n",
    ] {
        std::fs::write(&path, damage).unwrap();
        let order = HostSendOrder::in_dir(&dir);
        let error = match order.take_turn(&key) {
            Ok(_) => panic!("a damaged file was accepted: {damage:?}"),
            Err(error) => error,
        };
        assert!(error.to_string().contains("is damaged"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), damage, "left as it was");

        // Through the driver and a client core: not sent, the cause named.
        let core = core(Arc::new(ClockNonce::new()), Arc::new(order));
        let endpoint = ListApiUsers::new();
        let _call = core.start(&endpoint, Instant::now()).expect("valid");
        let turn = core.send_order().unwrap().take_turn(core.api_key());
        assert!(turn.is_err());
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn errors_reach_the_caller_as_not_sent() {
    // A directory that cannot be created: a file stands in its place.
    let dir = scratch("blocked");
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    std::fs::write(&dir, b"not a directory").unwrap();
    let order = HostSendOrder::in_dir(dir.join("inside"));
    let error = order
        .take_turn(&ApiKey::new(KEY).unwrap())
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains("send-order directory"),
        "{error}"
    );
    let as_call_error = Error::Transport(prime_core::transport::not_sent(
        prime_core::TransportErrorKind::SendOrder,
        error,
    ));
    assert!(!as_call_error.is_outcome_unknown());
    let _ = std::fs::remove_file(dir);
}
