//! Fixtures for the cross-crate integration tests in `tests/`: both clients behind one
//! synchronous face ([`Caller`]), a nonce source that records what it issued, a self-signed
//! TLS pair, and two misbehaving loopback servers the simulator does not model (one that never
//! answers, one whose body never ends).
#![forbid(unsafe_code)]

// Compiles and runs the Rust examples of README.md and of every page of the manual in docs/ as
// doctests (this crate depends on every library crate, so they can use them all), so the
// documentation cannot rot. `tests/it/docs.rs` checks that every page is listed here.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/adopters.md")]
struct AdoptersDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/architecture.md")]
struct ArchitectureDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/cli.md")]
struct CliDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/fault-matrix.md")]
struct FaultMatrixDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/key-lifecycle.md")]
struct KeyLifecycleDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/library.md")]
struct LibraryDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/nonces.md")]
struct NoncesDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/reliability.md")]
struct ReliabilityDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/simulator.md")]
struct SimulatorDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/simulator-choices.md")]
struct SimulatorChoicesDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/vectors.md")]
struct VectorsDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/spec/protocol.md")]
struct ProtocolDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/spec/SOURCES.md")]
struct SourcesDoctests;

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prime_core::{ClockNonce, Credentials, Endpoint, Error, NonceSource, Reply, Settings};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Longest any fixture server thread lives, so a failed test cannot leave one spinning.
const SERVER_LIFETIME: Duration = Duration::from_secs(60);

/// The default retry budget (three attempts), with backoff delays of 5 to 20 ms so a test that
/// retries stays fast. Rate limits and lockouts stop the call, as by default.
pub fn quick_retries() -> prime_core::RetryPolicy {
    prime_core::RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(5), Duration::from_millis(20))
}

/// [`quick_retries`], with rate limits and lockouts waited out (5 and 20 ms) and called
/// again, so a limit outlasts the retries and the client is not held off afterwards.
pub fn quick_retries_waiting_out_limits() -> prime_core::RetryPolicy {
    quick_retries()
        .with_limit_waits(Duration::from_millis(5), Duration::from_millis(20))
        .with_wait_out_limits(true)
}

/// One client of either transport, driven synchronously through the generic `send`, so one
/// test body covers both.
pub enum Caller {
    /// prime-blocking's client.
    Blocking(prime_blocking::Client),
    /// prime-async's client with the runtime it runs on.
    Async(tokio::runtime::Runtime, prime_async::Client),
}

impl Caller {
    /// A blocking client with `settings`.
    ///
    /// # Panics
    /// If the client refuses the settings (a bug in the test).
    pub fn blocking(credentials: Credentials, settings: Settings) -> Self {
        let client = prime_blocking::Client::builder(credentials)
            .settings(settings)
            .build()
            .expect("the blocking client builds");
        Self::Blocking(client)
    }

    /// An async client with `settings`, on its own runtime.
    ///
    /// # Panics
    /// If the client refuses the settings (a bug in the test).
    pub fn asynchronous(credentials: Credentials, settings: Settings) -> Self {
        let client = prime_async::Client::builder(credentials)
            .settings(settings)
            .build()
            .expect("the async client builds");
        Self::on_runtime(client)
    }

    /// `client` on a new runtime with one worker thread: the worker drives hyper's connection
    /// tasks even between calls, as in an application, so a call the client gave up on is
    /// closed at once.
    ///
    /// # Panics
    /// If the runtime cannot start.
    pub fn on_runtime(client: prime_async::Client) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime starts");
        Self::Async(runtime, client)
    }

    /// A blocking and an async client with the same settings, each with its name.
    pub fn both(credentials: &Credentials, settings: &Settings) -> [(&'static str, Self); 2] {
        [
            (
                "blocking",
                Self::blocking(credentials.clone(), settings.clone()),
            ),
            (
                "async",
                Self::asynchronous(credentials.clone(), settings.clone()),
            ),
        ]
    }

    /// Sends `endpoint` through the client, waiting for the async one on its runtime.
    ///
    /// # Errors
    /// Whatever the client's `send` returns.
    pub fn send<E>(&self, endpoint: E) -> Result<Reply<E::Response>, Error>
    where
        E: Endpoint + Send + Sync + 'static,
        E::Response: Send,
    {
        match self {
            Self::Blocking(client) => client.send(endpoint),
            Self::Async(runtime, client) => runtime.block_on(client.send(endpoint)),
        }
    }
}

/// A [`ClockNonce`] that records every nonce it issues: the number issued is the number of
/// signed attempts, so "no resends" and "one resend" become countable.
#[derive(Debug, Default)]
pub struct RecordedNonces {
    clock: ClockNonce,
    issued: Mutex<Vec<u64>>,
}

impl RecordedNonces {
    /// A new, shareable source.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Every nonce issued so far, in issue order.
    pub fn issued(&self) -> Vec<u64> {
        self.issued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many nonces were issued.
    pub fn count(&self) -> usize {
        self.issued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl NonceSource for RecordedNonces {
    fn next_nonce(&self) -> u64 {
        let mut issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        let nonce = self.clock.next_nonce();
        issued.push(nonce);
        nonce
    }
}

/// A certificate for `localhost` and `127.0.0.1` generated with rcgen, as a server config
/// (for the simulator) and a client config that trusts exactly that certificate.
pub struct SelfSignedTls {
    /// What the server presents.
    pub server: Arc<rustls::ServerConfig>,
    /// A client config whose only root is the generated certificate.
    pub client: Arc<rustls::ClientConfig>,
}

impl SelfSignedTls {
    /// Generates a fresh certificate and key.
    ///
    /// # Panics
    /// If rcgen or rustls refuse what they were given (a bug in this fixture).
    pub fn generate() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .expect("rcgen generates a certificate");
        let cert: CertificateDer<'static> = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .expect("the generated key matches its certificate");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).expect("the generated certificate parses");
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Self {
            server: Arc::new(server),
            client: Arc::new(client),
        }
    }
}

/// A loopback server stopped when dropped.
struct Acceptor {
    url: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    /// Accepts connections on `127.0.0.1:0` and hands each to `serve` on the accept thread,
    /// until stopped or [`SERVER_LIFETIME`] passes.
    fn start(mut serve: impl FnMut(TcpStream, &AtomicBool) + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            while !stopped.load(Ordering::Relaxed) && started.elapsed() < SERVER_LIFETIME {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).expect("blocking stream");
                        serve(stream, &stopped);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts connections, reads the request, and never answers: a hung server.
pub struct SilentServer {
    acceptor: Acceptor,
}

impl SilentServer {
    /// Starts listening on `127.0.0.1` at a free port.
    pub fn start() -> Self {
        let mut held = Vec::new();
        let acceptor = Acceptor::start(move |stream, _| held.push(stream));
        Self { acceptor }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.acceptor.url
    }
}

/// Answers every request with `200 OK` and a chunked JSON body that never ends (up to
/// [`EndlessBodyServer::MAX_BYTES`]), counting how many body bytes it managed to write before
/// the client hung up.
pub struct EndlessBodyServer {
    acceptor: Acceptor,
    written: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
}

impl EndlessBodyServer {
    /// The most body bytes written per connection.
    pub const MAX_BYTES: usize = 256 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;

    /// Starts listening on `127.0.0.1` at a free port.
    pub fn start() -> Self {
        let written = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let (counter, done) = (Arc::clone(&written), Arc::clone(&finished));
        let acceptor = Acceptor::start(move |mut stream, stop| {
            prime_test_support::scripted::read_request(&mut stream);
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                        transfer-encoding: chunked\r\n\r\n";
            let mut chunk = format!("{:x}\r\n", Self::CHUNK).into_bytes();
            chunk.extend(std::iter::repeat_n(b' ', Self::CHUNK));
            chunk.extend_from_slice(b"\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&format!("{:x}\r\n[\r\n", 1).into_bytes());
            let mut sent = 0;
            while sent < Self::MAX_BYTES && !stop.load(Ordering::Relaxed) {
                if stream.write_all(&chunk).is_err() {
                    break;
                }
                sent += Self::CHUNK;
                counter.store(sent, Ordering::Relaxed);
            }
            done.fetch_add(1, Ordering::Relaxed);
        });
        Self {
            acceptor,
            written,
            finished,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.acceptor.url
    }

    /// Waits (at most `limit`) until a connection's writer has stopped, and returns how many
    /// body bytes it wrote; `None` if it was still writing when `limit` passed.
    pub fn bytes_written_once_stopped(&self, limit: Duration) -> Option<usize> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.finished.load(Ordering::Relaxed) > 0 {
                return Some(self.written.load(Ordering::Relaxed));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}
