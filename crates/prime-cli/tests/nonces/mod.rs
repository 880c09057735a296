//! Nonces across processes against `prime mock`: the host send order (on by default in every
//! `prime` command), a holder killed with SIGKILL, the nonce unit, and a refused nonce
//! explained.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use prime_blocking::HostSendOrder;
use prime_core::{ApiKey, Credentials, NonceUnit};

use super::*;

/// Where the ninth process (a library client, this test binary run again) finds its mock.
const LIBRARY_ENV: &str = "PRIME_TEST_LIBRARY_CLIENT";

/// `prime mock` with its first line (a credentials file) written into `dir`.
struct Mock {
    _child: Child,
    first: serde_json::Value,
    credentials: PathBuf,
}

impl Mock {
    fn start(seed: &str, dir: &Path) -> Self {
        let (child, first) = start_mock(seed);
        let credentials = dir.join("credentials.json");
        std::fs::write(&credentials, first.to_string()).expect("write credentials");
        Self {
            _child: child,
            first,
            credentials,
        }
    }

    fn url(&self) -> &str {
        self.first["url"].as_str().expect("url")
    }

    fn api_key(&self) -> &str {
        self.first["api_key"].as_str().expect("api_key")
    }

    fn client_credentials(&self) -> Credentials {
        let secret = self.first["api_secret"].as_str().expect("api_secret");
        Credentials::new(self.api_key(), secret).expect("valid credentials")
    }

    /// `prime --credentials FILE` with the host send order kept in `order_dir`.
    fn prime(&self, order_dir: &Path) -> Command {
        let mut command = prime();
        command
            .arg("--credentials")
            .arg(&self.credentials)
            .env("PRIME_SEND_ORDER_DIR", order_dir);
        command
    }

    fn control(&self, path: &str) -> serde_json::Value {
        let body = prime_blocking::ureq::get(format!("{}/__mock/{path}", self.url()))
            .call()
            .expect("the control interface answers")
            .into_body()
            .read_to_string()
            .expect("a body");
        serde_json::from_str(&body).expect("JSON")
    }

    fn queue_fault(&self, fault: &str, method: &str) {
        let spec = serde_json::json!({ "fault": fault, "method": method, "times": 1 });
        prime_blocking::ureq::post(format!("{}/__mock/faults", self.url()))
            .header("content-type", "application/json")
            .send(spec.to_string())
            .expect("the fault is queued");
    }

    fn executions(&self) -> u64 {
        self.control("state")["executions"]["ListPrimeApiUsers"]
            .as_u64()
            .expect("a count")
    }
}

#[test]
fn eight_prime_processes_and_a_library_client_share_one_key_without_an_invalid_nonce() {
    const PROCESSES: usize = 8;
    const CALLS: usize = 50;
    let dir = scratch("eight");
    let mock = Mock::start("22", &dir);
    let order_dir = dir.join("order");

    // The ninth process: a library client with the shared order on.
    let library = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            "nonces::library_client_process",
            "--test-threads",
            "1",
        ])
        .env(
            LIBRARY_ENV,
            serde_json::json!({
                "url": mock.url(),
                "api_key": mock.api_key(),
                "api_secret": mock.first["api_secret"],
                "dir": order_dir,
                "calls": CALLS,
            })
            .to_string(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the library client starts");

    let workers: Vec<_> = (0..PROCESSES)
        .map(|_| {
            let mut command = mock.prime(&order_dir);
            command.args(["users", "list"]);
            thread::spawn(move || {
                (0..CALLS)
                    .filter_map(|_| {
                        let output = run(&mut command);
                        (!output.status.success()).then(|| stderr(&output))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let failures: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("no panic"))
        .collect();
    let library = library.wait_with_output().expect("the library client ends");

    assert!(
        library.status.success(),
        "the library client failed:\n{}\n{}",
        String::from_utf8_lossy(&library.stdout),
        String::from_utf8_lossy(&library.stderr)
    );
    assert!(
        failures.is_empty(),
        "{} of {} prime calls failed, e.g. {}",
        failures.len(),
        PROCESSES * CALLS,
        failures[0]
    );
    // Not one nonce was refused, not even one a client then resent: the simulator's last
    // refusal would name it.
    assert_eq!(mock.control("last-rejection"), serde_json::Value::Null);
    assert_eq!(mock.executions(), ((PROCESSES + 1) * CALLS) as u64);
    let _ = std::fs::remove_dir_all(dir);
}

/// The ninth process of the test above; passes at once when run on its own.
#[test]
fn library_client_process() {
    let Ok(spec) = std::env::var(LIBRARY_ENV) else {
        return;
    };
    let spec: serde_json::Value = serde_json::from_str(&spec).expect("a JSON spec");
    let text = |name: &str| spec[name].as_str().expect(name).to_owned();
    let credentials =
        Credentials::new(&text("api_key"), &text("api_secret")).expect("valid credentials");
    let client = prime_blocking::Client::builder(credentials)
        .base_url(&text("url"))
        .send_order(Arc::new(HostSendOrder::in_dir(text("dir"))))
        .build()
        .expect("a client");
    for call in 0..spec["calls"].as_u64().expect("calls") {
        if let Err(e) = client.list_api_users() {
            panic!("call {call} failed: {e}");
        }
    }
}

#[test]
fn a_holder_killed_with_sigkill_lets_the_others_go_on_within_a_second() {
    let dir = scratch("sigkill");
    let mock = Mock::start("9", &dir);
    let order_dir = dir.join("order");
    // The server sits on the holder's request for a minute: it holds the key's turn all along.
    mock.queue_fault("delay:60000", "ListPrimeApiUsers");
    let mut holder = Child(
        mock.prime(&order_dir)
            .args(["users", "list"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the holder starts"),
    );
    let key = ApiKey::new(mock.api_key()).expect("valid key");
    let lock_file = HostSendOrder::in_dir(&order_dir)
        .file_for(&key)
        .expect("a path");
    let held = || {
        std::fs::File::open(&lock_file)
            .is_ok_and(|file| matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock)))
    };
    let asked = Instant::now();
    while !held() {
        assert!(
            asked.elapsed() < Duration::from_secs(20),
            "the holder never took its turn"
        );
        thread::sleep(Duration::from_millis(10));
    }

    let waiter = mock
        .prime(&order_dir)
        .args(["--json", "users", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the waiter starts");
    thread::sleep(Duration::from_millis(300));
    assert!(held(), "the holder still holds the turn");
    assert_eq!(
        mock.executions(),
        0,
        "the waiter has not sent: it waits its turn"
    );

    // SIGKILL: no destructor runs; the OS releases the lock with the process.
    let killed = Instant::now();
    holder.0.kill().expect("SIGKILL");
    let output = waiter.wait_with_output().expect("the waiter ends");
    let took = killed.elapsed();
    assert!(
        output.status.success(),
        "the waiter failed: {}",
        stderr(&output)
    );
    assert!(
        took < Duration::from_secs(1),
        "the waiter went on {took:?} after the holder was killed"
    );
    assert!(!held());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_key_kept_in_milliseconds_stays_in_milliseconds_and_a_change_of_unit_is_explained() {
    let dir = scratch("units");
    let mock = Mock::start("23", &dir);
    let order_dir = dir.join("order");

    // A millisecond tool used the key first (a library client in ms, outside the order).
    let tool = prime_blocking::Client::builder(mock.client_credentials())
        .base_url(mock.url())
        .nonce_unit(NonceUnit::Milliseconds)
        .build()
        .expect("a client");
    tool.list_api_users().expect("the ms tool's call");

    // `prime` in milliseconds, by flag or by environment, works beside it.
    ok(mock
        .prime(&order_dir)
        .args(["--nonce-unit", "ms", "users", "list"]));
    ok(mock
        .prime(&order_dir)
        .env("PRIME_NONCE_UNIT", "ms")
        .args(["users", "list"]));
    tool.list_api_users()
        .expect("the ms tool still works after prime in ms");
    assert_eq!(mock.executions(), 4);

    // The nanosecond default on this host: the order's mark says ms, so nothing is sent and
    // the error says why and what to do.
    let output = run(mock.prime(&order_dir).args(["users", "list"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    for expected in [
        "counts in ms",
        "sends ns nonces",
        "nothing was sent",
        "--nonce-unit ms",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from: {text}");
    }
    assert_eq!(mock.executions(), 4, "nothing was sent");

    // Where no mark warns (another host, or the order off), the nanosecond nonce is
    // accepted, and from then on the key refuses every millisecond nonce: `prime` in ms says
    // what happened and how to fix it.
    ok(mock
        .prime(&dir.join("another-host"))
        .args(["users", "list"]));
    let output = run(mock
        .prime(&order_dir)
        .args(["--nonce-unit", "ms", "users", "list"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    for expected in [
        "Kraken refused nonce",
        "(a ms nonce)",
        "this host's send order had",
        "larger scale than ms",
        "--nonce-unit",
        "EAPI:Invalid nonce",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from: {text}");
    }
    // The simulator names the key's high-water mark, in nanoseconds.
    let last = mock.control("last-rejection");
    assert_eq!(last["error"], "EAPI:Invalid nonce", "{last}");
    assert_eq!(last["units"]["nonce"], "ms", "{last}");
    assert_eq!(last["units"]["high_water_mark"], "ns", "{last}");
    assert!(
        last["high_water_mark"].as_u64() > last["nonce"].as_u64(),
        "{last}"
    );

    // The library tool gets the same explanation as a typed value.
    let error = tool.list_api_users().expect_err("the key moved to ns");
    let refusal = error.nonce_refusal().expect("explained");
    assert_eq!(refusal.unit(), Some(NonceUnit::Milliseconds));
    assert_eq!(refusal.recorded(), None, "the tool shares no order");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_order_can_be_turned_off_and_bad_nonce_options_are_usage_errors() {
    let dir = scratch("order-off");
    let mock = Mock::start("24", &dir);
    let order_dir = dir.join("order");
    ok(mock
        .prime(&order_dir)
        .args(["--nonce-order", "off", "users", "list"]));
    assert!(!order_dir.exists(), "no state written with the order off");
    ok(mock.prime(&order_dir).args(["users", "list"]));
    assert!(order_dir.exists(), "the order is on by default");

    // No directory for the order: said before anything is sent.
    let output = run(mock
        .prime(&order_dir)
        .env_remove("PRIME_SEND_ORDER_DIR")
        .env_remove("XDG_STATE_HOME")
        .env_remove("HOME")
        .args(["users", "list"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--send-order-dir"),
        "{}",
        stderr(&output)
    );

    for bad in [
        &["--nonce-unit", "seconds"][..],
        &["--nonce-order", "cluster"][..],
    ] {
        let output = run(mock.prime(&order_dir).args(bad).args(["users", "list"]));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{bad:?}: {}",
            stderr(&output)
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
