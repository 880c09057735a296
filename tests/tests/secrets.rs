//! Secrets never reach the logs: everything logged on the calling thread at TRACE level while
//! both transports create keys and retry around a dropped connection is captured, and neither
//! the account secret nor a new key's secret appears in it.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use prime_core::endpoints::Role;
use prime_mock::{Fault, FaultKind, MockServer};
use tracing_subscriber::fmt::MakeWriter;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn blocking_and_async_logs_hold_no_secrets() {
    let logs = CapturedLogs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().unwrap();
    let blocking = prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .build()
        .unwrap();
    let user = blocking.create_api_user("log-bot", Role::Viewer).unwrap();
    server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("ListPrimeApiUserKeys"));
    let key = blocking.create_api_user_key(&user.id).unwrap();
    blocking.list_api_user_keys(&user.id).unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let async_key = runtime.block_on(async {
        let client = prime_async::Client::builder(server.account_credentials())
            .base_url(&server.url())
            .build()
            .unwrap();
        server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("ListPrimeApiUserKeys"));
        let key = client.create_api_user_key(&user.id).await.unwrap();
        client.list_api_user_keys(&user.id).await.unwrap();
        key
    });

    let text = logs.text();
    // The capture works: both retries were logged.
    assert!(text.matches("retrying").count() >= 2, "{text}");
    let secrets = [
        (server.account_secret().expose(), "the account secret"),
        (
            key.api_secret().expose(),
            "the blocking-created key's secret",
        ),
        (
            async_key.api_secret().expose(),
            "the async-created key's secret",
        ),
    ];
    for (secret, what) in secrets {
        assert!(!text.contains(secret), "{what} appears in the logs");
    }
}
