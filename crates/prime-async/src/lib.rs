//! An async [Kraken Prime REST](https://docs.kraken.com/api-reference/) client: a thin
//! [`hyper`] (+ [`tokio`]) transport over [`prime_core`].
//!
//! All protocol work (signing, request bodies, response parsing, retry decisions) is
//! `prime_core`'s; this crate moves the signed `http::Request` over HTTPS (rustls with the
//! `ring` provider, through `hyper-rustls`) and hands the response bytes back. It adds what
//! only a transport can know: whether a failed request was *not sent* (DNS, connect, TLS
//! handshake: safe to resend) or *maybe sent* (the outcome is unknown, see
//! [`Error::is_outcome_unknown`]). Needs a tokio runtime with the time driver.
//!
//! This crate is the only dependency a program needs: it re-exports every type its API
//! speaks ([`endpoints`], [`workflow`], [`Error`], [`ErrorKind`], [`Value`], …).
//!
//! ```no_run
//! use prime_async::endpoints::{ListSettlementBatches, Role};
//! use prime_async::{Client, Credentials};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let credentials = Credentials::new("<api key>", "<base64 secret>")?;
//! let client = Client::builder(credentials).build()?;
//!
//! let user = client.create_api_user("settlement-bot", Role::Trader).await?;
//! for batch in client.list_settlement_batches(ListSettlementBatches::new().limit(20)).await?.data {
//!     println!("{} {}", batch.id, batch.attributes.status);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Futures you can spawn
//!
//! Every method takes its arguments by value (`impl Into<String>` for ids and names, request
//! types whole) and returns a future that is `Send + 'static`: it owns a clone of the client
//! (cheap, an `Arc`) and its request. So calls can be spawned, or joined over temporaries:
//!
//! ```no_run
//! use prime_async::endpoints::ListSettlementBatches;
//! # async fn run(client: prime_async::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let users = tokio::spawn(client.list_api_users());
//! let (keys, batches) = tokio::join!(
//!     client.list_api_user_keys(String::from("2T0RXL9B8K5D6")),
//!     client.list_settlement_batches(ListSettlementBatches::new()),
//! );
//! println!("{} users, {} keys, {} batches", users.await??.len(), keys?.len(), batches?.data.len());
//! # Ok(())
//! # }
//! ```
//!
//! # Creating a key: the obvious call is the safe one
//!
//! A key's secret is returned once, by `CreatePrimeApiUserKey`, and never again. If that call's
//! outcome is unknown (the connection broke after the request left, a deadline cut it off),
//! a key may exist whose secret nobody received: an *orphan*, live and unusable.
//! [`Client::create_api_user_key`] therefore lists the user's keys before creating, and after
//! an unknown outcome lists them again, deletes what appeared in between and creates once
//! more. It ends with one new key whose secret you hold, or an error with no new key left
//! unnamed; its message says what to do.
//!
//! ```no_run
//! use prime_async::workflow::CreateKeyError;
//! # use prime_async::{Client, Credentials};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! # fn store_in_vault(_key: &str, _secret: &str) {}
//! # let client = Client::builder(Credentials::new("<api key>", "<base64 secret>")?).build()?;
//! match client.create_api_user_key("2T0RXL9B8K5D6").await {
//!     // Store the secret now: Kraken shows it once and keeps no copy.
//!     Ok(key) => store_in_vault(&key.api_key, key.api_secret().expose()),
//!     // Nothing of this creation is left behind: calling again is safe.
//!     Err(e) if e.is_safe_to_retry() => eprintln!("no key was created: {e}"),
//!     // Orphans that could not be deleted, or an outcome that could not be listed: the
//!     // message names the keys (or the ids known before) and what to do.
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! **Why delete by default:** an orphan is a live credential nobody holds, and nothing else
//! will ever clean it up. The one key the deletion could wrongly hit is one someone else
//! creates for the *same user* in the moment between the two listings; where several
//! administrators create keys for one user at once, use
//! [`Client::create_api_user_key_reconciled`] with [`OrphanPolicy::Report`](workflow::OrphanPolicy::Report),
//! which only names them. Whoever holds just an unknown-outcome error (from a single-shot
//! `send(CreateApiUserKey::new(..))`, say) and the key ids known before can still clean up
//! with [`Client::reconcile_api_user_keys`].
//!
//! # Errors in one step
//!
//! [`Error::kind`] sorts a failure into what to do about it; [`Error::kraken_codes`] gives
//! Kraken's codes, [`Error::is_retryable`] and [`Error::retry_wait`] whether and when to call
//! again:
//!
//! ```no_run
//! use prime_async::ErrorKind;
//! # async fn run(client: prime_async::Client) {
//! match client.list_api_users().await {
//!     Ok(users) => println!("{} users", users.len()),
//!     Err(e) if e.kind() == ErrorKind::PermissionDenied => eprintln!("the key lacks a permission"),
//!     Err(e) if e.is_retryable() => eprintln!("try again later ({:?}): {e}", e.retry_wait()),
//!     Err(e) => eprintln!("failed: {e}"),
//! }
//! # }
//! ```
//!
//! # Sending in nonce order
//!
//! Kraken rejects a nonce lower than one it has already seen for the key. By default a
//! [`Client`] (and all its clones) therefore signs and sends one request at a time, in the
//! order tasks asked (a fair lock): the next request is signed only once the previous one has
//! its response head. Keys given a nonce window can opt out with
//! [`ClientBuilder::concurrent_sends`].
//!
//! Separate clients, and separate processes, with the same key do not coordinate unless they
//! share a send order: [`ClientBuilder::host_send_order`] takes one turn per key across every
//! process on the host (an OS file lock, waited for on tokio's blocking threads, never on the
//! runtime's) and keeps the key's nonce high-water mark beside it, so a clock stepped back or
//! a restart reuses no nonce ([`HostSendOrder`]; the `prime` command uses it by default).
//! Recording a nonce writes a line to the key's state file on the calling task, and about
//! once a second syncs it to disk. Kraken's answers beyond one host are a nonce window or one
//! key per worker.
//!
//! # Retries
//!
//! The same rules as every client, kept by prime-core's
//! [call driver](prime_core::transport::Call): a non-idempotent call (create, update, delete,
//! settle) is never resent once it may have reached the server; reads are retried after
//! transient failures; every resend is signed again; a rate limit or lockout is not called into
//! again (Kraken warns that calls made while limited prolong it): the call stops with an error
//! whose [`Error::recommended_wait`] says how long to wait, unless
//! [`RetryPolicy::with_wait_out_limits`] opts in to waiting and resending. Each call runs in a
//! `tracing` span `prime_call` ([`RetryPolicy`] sets the patience).
//!
//! # Timeouts and deadlines
//!
//! [`Settings::connect_timeout`] bounds getting a connection (resolve, connect, TLS), whether
//! this crate built the hyper client or you did; [`Settings::timeout`] bounds each attempt,
//! from its turn to send to the last body byte, and starts afresh for each retry.
//! [`Settings::deadline`] bounds the whole call: waiting for its turn, every attempt and every
//! backoff. No retry starts that would end past it and each attempt's timeout is cut to the
//! time left, so a call returns by its deadline (give or take the scheduler). Set one per call
//! with [`Client::with_deadline`]:
//!
//! ```no_run
//! # use std::time::Duration;
//! # async fn run(client: prime_async::Client) -> Result<(), prime_async::Error> {
//! let users = client.with_deadline(Duration::from_secs(2)).list_api_users().await?;
//! # Ok(())
//! # }
//! ```
//!
//! A call cut off by the deadline fails with
//! [`TransportErrorKind::Deadline`]: *not sent* if
//! its request had not left, *outcome unknown* if it had (and a key creation then reconciles
//! as after any unknown outcome).
//!
//! # Cancellation: what dropping a call means
//!
//! Dropping a call's future (a `select!`, `tokio::time::timeout`, an aborted task) stops it at
//! the await point it was in. Nothing is ever resent, and the send order is released at once
//! (the next call proceeds). What it means for the request, by await point:
//!
//! | Dropped while… | The request | A key creation |
//! |---|---|---|
//! | waiting for its turn in the send order | not signed, not sent | nothing created |
//! | getting a connection (resolve, connect, TLS) | signed, not sent | nothing created |
//! | waiting for the response head, request written | **outcome unknown** | a key may exist without its secret: reconcile |
//! | reading the response body | executed | the key exists and its secret is lost: reconcile |
//! | waiting out a backoff before a retry | the earlier attempt failed as reported to the driver: a write is only retried when it was certainly not sent | nothing created by this call |
//!
//! A call dropped between signing and its outcome logs `prime_call` with `outcome=dropped` (a
//! warning for writes). Wrapping the orphan-safe [`Client::create_api_user_key`] in a
//! timeout drops its reconciliation too: prefer [`Client::with_deadline`], which lets it
//! reconcile, or keep the key ids you listed before and call
//! [`Client::reconcile_api_user_keys`].
//!
//! # Features
//!
//! - `webpki-roots` (default): trust the Mozilla roots compiled in.
//! - `rustls-native-roots`: also trust the operating system's store (corporate proxies and
//!   private CAs), read with `rustls-native-certs` (pure Rust; no C library).
//!
//! With both, both are trusted. With neither, pass TLS settings with
//! [`ClientBuilder::tls_config`] (or a [`HyperClient`]).
#![forbid(unsafe_code)]

// The crate's README (its page on crates.io) is compiled and run as doctests, so its example
// cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod failure;
mod hyper_setup;
mod roots;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{HttpConnector, capture_connection};
use prime_core::http::{Request, Response, response::Parts};
use std::future::Future;
use std::time::Duration;

use prime_core::transport::{BodyBuffer, Call, ClientCore, SendTurn, Step, not_sent};
use tokio::sync::Mutex;
use tokio::time::{Instant, sleep_until, timeout_at};
use tracing::Instrument as _;

// One dependency is enough: the core and every type this crate's API speaks.
pub use prime_core::serde_json::{self, Value};
pub use prime_core::{
    self, ApiSecret, BuildError, Credentials, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT, Delivery, Endpoint, Error, ErrorCode, ErrorKind, KrakenError, NonceSource,
    NonceUnit, Reply, ResponseError, RetryPolicy, RetryWait, SalvagedKey, Settings, TransportError,
    TransportErrorKind, endpoints, http, workflow,
};
pub use prime_host_order::{self, HostSendOrder};
pub use {hyper, hyper_rustls, hyper_util, rustls};

/// The hyper client type this crate sends with; build one to pass to
/// [`ClientBuilder::hyper_client`] (proxies, custom connectors, pool settings).
pub type HyperClient =
    hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// An async Prime REST client for one API key.
///
/// Cheap to clone: clones share the connection pool, the nonce source and the send order.
/// See the [crate docs](crate) for ordering and retries.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
    /// The overall bound of each call made through this handle (see [`Client::with_deadline`]).
    deadline: Option<Duration>,
}

#[derive(Debug)]
struct Inner {
    core: ClientCore,
    http: HyperClient,
    /// Held from signing until the response head arrives, so nonces reach Kraken in order.
    /// tokio's mutex is fair: waiting tasks go in the order they asked.
    send_order: Option<Mutex<()>>,
}

/// Configures a [`Client`]. Made by [`Client::builder`].
// `Debug` masks the key (see `Credentials`) and shows no secret.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    credentials: Credentials,
    settings: Settings,
    http: HttpSetup,
}

/// Where the hyper client comes from.
#[derive(Debug)]
enum HttpSetup {
    /// Built here: rustls with `ring` and the roots the features select.
    Default,
    /// Built here with the caller's TLS settings.
    Tls(Arc<rustls::ClientConfig>),
    /// The caller's own.
    Caller(Box<HyperClient>),
    /// Both TLS settings and a caller's client were given: refused by `build`.
    Conflict,
}

impl Client {
    /// Starts configuring a client that signs with `credentials`.
    pub fn builder(credentials: Credentials) -> ClientBuilder {
        ClientBuilder {
            credentials,
            settings: Settings::default(),
            http: HttpSetup::Default,
        }
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.inner.core.base_url()
    }

    /// This client with an overall deadline for each call made through it, instead of the
    /// configured [`Settings::deadline`]: a cheap handle sharing the connection pool, the
    /// nonce source and the send order.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # async fn run(client: prime_async::Client) -> Result<(), prime_async::Error> {
    /// let bounded = client.with_deadline(Duration::from_millis(1500));
    /// let users = bounded.list_api_users().await?;
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn with_deadline(&self, overall: Duration) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            deadline: Some(overall),
        }
    }

    /// Sends `endpoint` as the [call driver](prime_core::transport::Call) directs, and returns
    /// its result with any warnings. The future owns a clone of the client and the endpoint:
    /// it is `Send + 'static`.
    ///
    /// ```no_run
    /// use prime_async::endpoints::ListApiUserKeys;
    /// use prime_async::{Client, Credentials};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::builder(Credentials::new("<api key>", "<base64 secret>")?)
    ///     .base_url("http://127.0.0.1:8080")
    ///     .build()?;
    /// let reply = client.send(ListApiUserKeys::new("2T0RXL9B8K5D6")).await?;
    /// eprintln!("{} keys, {} warnings", reply.result.data.len(), reply.warnings.len());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] before anything is sent, [`Error::Transport`] (check
    /// [`Error::is_outcome_unknown`]) or [`Error::Response`] once retries are exhausted.
    pub fn send<E>(
        &self,
        endpoint: E,
    ) -> impl Future<Output = Result<Reply<E::Response>, Error>> + Send + 'static
    where
        E: Endpoint + Send + Sync + 'static,
        E::Response: Send,
    {
        let client = self.clone();
        async move { client.drive(&endpoint).await }
    }

    /// Runs one call to its end.
    async fn drive<E: Endpoint + Sync>(&self, endpoint: &E) -> Result<Reply<E::Response>, Error>
    where
        E::Response: Send,
    {
        let mut call =
            self.inner
                .core
                .start_within(endpoint, std::time::Instant::now(), self.deadline)?;
        let span = call.span().clone();
        let driven = async move {
            loop {
                let outcome = self.attempt(&mut call).await?;
                match call.on_attempt(std::time::Instant::now(), outcome) {
                    Step::Retry { after } => tokio::time::sleep(after).await,
                    Step::Done(reply) => break Ok(reply),
                    Step::Stop(error) => break Err(error),
                }
            }
        };
        driven.instrument(span).await
    }

    // Multi-call workflows (key rotation, reconciled key creation) over `send`.
    prime_core::workflow_methods!(async);

    /// One attempt: sign in turn, send, read the capped body. The outer error is the driver's
    /// (it refused to sign); the inner one is the transport's, for the driver to judge.
    async fn attempt<E: Endpoint>(
        &self,
        call: &mut Call<'_, E>,
    ) -> Result<Result<(Parts, BodyBuffer), TransportError>, Error> {
        let inner = &*self.inner;
        let turn = match (&inner.send_order, call.deadline()) {
            (Some(order), Some(overall)) => {
                match timeout_at(Instant::from_std(overall), order.lock()).await {
                    Ok(turn) => Some(turn),
                    // Nothing was signed: the driver stops the call as not sent.
                    Err(_late) => {
                        return Ok(Err(TransportError::from_kind(
                            Delivery::NotSent,
                            TransportErrorKind::Deadline,
                        )));
                    }
                }
            }
            (Some(order), None) => Some(order.lock().await),
            (None, _) => None,
        };
        // The host's turn, inside this client's: held until the response head too, and waited
        // for no longer than the call's deadline (a turn got later is handed straight on).
        let mut host_turn = match call.deadline() {
            Some(overall) => match timeout_at(Instant::from_std(overall), self.host_turn()).await {
                Ok(host_turn) => host_turn?,
                Err(_late) => {
                    return Ok(Err(TransportError::from_kind(
                        Delivery::NotSent,
                        TransportErrorKind::Deadline,
                    )));
                }
            },
            None => self.host_turn().await?,
        };
        // The attempt's limit starts once it is this request's turn, cut to the deadline.
        let now = std::time::Instant::now();
        let deadline = Instant::from_std(now) + call.attempt_timeout(now);
        let request = match host_turn.as_deref_mut() {
            Some(host_turn) => call.request_in_turn_at(now, host_turn)?,
            None => call.request_at(now)?,
        }
        .map(|body| Full::new(Bytes::from(body)));
        let head = self.response_head(request, deadline).await;
        drop(host_turn);
        drop(turn);
        Ok(match head {
            Ok(response) => {
                let (head, body) = response.into_parts();
                hyper_setup::read_capped(&inner.core, body, deadline)
                    .await
                    .map(|body| (head, body))
            }
            Err(failure) => Err(failure),
        })
    }

    /// A turn of the shared send order, if there is one: taken at once when it is free, else
    /// waited for on a blocking thread (it may wait for another process). Dropping the future
    /// while it waits leaves the thread to finish taking the turn, which it then hands on at
    /// once.
    async fn host_turn(&self) -> Result<Option<Box<dyn SendTurn>>, Error> {
        let Some(order) = self.inner.core.send_order() else {
            return Ok(None);
        };
        let failed = |e: Box<dyn std::error::Error + Send + Sync>| {
            Error::Transport(not_sent(TransportErrorKind::SendOrder, e))
        };
        let key = self.inner.core.api_key();
        if let Some(turn) = order.try_take_turn(key).map_err(|e| failed(e.into()))? {
            return Ok(Some(turn));
        }
        let order = order.clone();
        let key = key.clone();
        match tokio::task::spawn_blocking(move || order.take_turn(&key)).await {
            Ok(Ok(turn)) => Ok(Some(turn)),
            Ok(Err(e)) => Err(failed(e.into())),
            Err(joined) => Err(failed(joined.into())),
        }
    }

    /// Sends the request and waits for the response head. Getting a connection (resolve,
    /// connect, TLS, or taking one from the pool) has its own limit, the connect timeout:
    /// nothing is written before it, so running out of it means "not sent".
    async fn response_head(
        &self,
        mut request: Request<Full<Bytes>>,
        deadline: Instant,
    ) -> Result<Response<Incoming>, TransportError> {
        let connect_deadline = deadline.min(Instant::now() + self.inner.core.connect_timeout());
        let mut connection = capture_connection(&mut request);
        let sent = self.inner.http.request(request);
        tokio::pin!(sent);
        let early = tokio::select! {
            biased;
            outcome = &mut sent => Some(outcome),
            _ = connection.wait_for_connection_metadata() => None,
            () = sleep_until(connect_deadline) => return Err(failure::timeout_error(false)),
        };
        let connected = connection.connection_metadata().is_some();
        let outcome = match early {
            Some(outcome) => Ok(outcome),
            None => timeout_at(deadline, sent).await,
        };
        match outcome {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(failure::request_error(e, connected)),
            Err(_elapsed) => Err(failure::timeout_error(connected)),
        }
    }
}

/// Typed calls, one per endpoint, from prime-core's endpoint table. Each takes its arguments
/// by value and returns a `Send + 'static` future of the endpoint's result; warnings are
/// logged (use [`Client::send`] to get them as values).
impl Client {
    prime_core::client_methods!(async);
}

impl ClientBuilder {
    prime_core::settings_setters!();

    /// Takes a turn of the host-wide send order for every request: one order per key across
    /// every process on this host that does the same, with the key's nonce high-water mark,
    /// kept in the user's state directory ([`HostSendOrder::new`]). For another directory,
    /// pass `Arc::new(HostSendOrder::in_dir(dir))` to [`ClientBuilder::send_order`]. Not used
    /// with [`ClientBuilder::concurrent_sends`].
    ///
    /// ```no_run
    /// # use prime_async::{Client, Credentials};
    /// let client = Client::builder(Credentials::new("<api key>", "<base64 secret>")?)
    ///     .host_send_order()
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn host_send_order(self) -> Self {
        self.send_order(Arc::new(HostSendOrder::new()))
    }

    /// TLS settings (custom roots, client certificates) for the hyper client this crate
    /// builds, e.g. a `rustls::ClientConfig` with your gateway's CA as its only root (built as
    /// in [prime-blocking's example](https://docs.rs/prime-blocking/latest/prime_blocking/struct.ClientBuilder.html#method.tls_config)).
    /// Its crypto provider is used as is; the default is rustls with `ring` and the roots the
    /// crate features select (see the [crate docs](crate#features)).
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.http = match self.http {
            HttpSetup::Default | HttpSetup::Tls(_) => HttpSetup::Tls(config),
            HttpSetup::Caller(_) | HttpSetup::Conflict => HttpSetup::Conflict,
        };
        self
    }

    /// Sends through a caller-built hyper client (proxies, pools, TLS). The settings'
    /// timeouts still apply to each attempt.
    pub fn hyper_client(mut self, client: HyperClient) -> Self {
        self.http = match self.http {
            HttpSetup::Default | HttpSetup::Caller(_) => HttpSetup::Caller(Box::new(client)),
            HttpSetup::Tls(_) | HttpSetup::Conflict => HttpSetup::Conflict,
        };
        self
    }

    /// Builds the client. Needs no runtime; sending does.
    ///
    /// # Errors
    /// [`BuildError`] for a refused setting (see [`Settings::validate`]), a TLS config
    /// combined with a caller-built hyper client, or no usable TLS roots.
    pub fn build(self) -> Result<Client, BuildError> {
        let core = ClientCore::new(self.credentials, &self.settings)?;
        let https = core.base_url().starts_with("https:");
        let http = match self.http {
            HttpSetup::Default => hyper_setup::hyper_client(None, https)?,
            HttpSetup::Tls(config) => hyper_setup::hyper_client(Some(config), https)?,
            HttpSetup::Caller(client) => *client,
            HttpSetup::Conflict => {
                return Err(BuildError::new(
                    "tls_config",
                    "cannot be combined with a caller-built hyper client: configure TLS on it",
                ));
            }
        };
        Ok(Client {
            deadline: core.deadline(),
            inner: Arc::new(Inner {
                send_order: (!core.concurrent_sends()).then(|| Mutex::new(())),
                core,
                http,
            }),
        })
    }
}
