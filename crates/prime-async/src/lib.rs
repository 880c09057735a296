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
//! ```no_run
//! use prime_async::{Client, Credentials};
//! use prime_async::prime_core::endpoints::Role;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let credentials = Credentials::new("<api key>", "<base64 secret>")?;
//! let client = Client::builder(credentials).build()?;
//!
//! let user = client.create_api_user("settlement-bot", Role::Trader).await?;
//! for batch in client.list_settlement_batches(&Default::default()).await?.data {
//!     println!("{} {}", batch.id, batch.attributes.status);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # A key's one-time secret, and an unknown outcome
//!
//! ```no_run
//! # use prime_async::{Client, Credentials};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! # fn store_in_vault(_key: &str, _secret: &str) {}
//! # let client = Client::builder(Credentials::new("<api key>", "<base64 secret>")?).build()?;
//! let user_id = "2T0RXL9B8K5D6";
//! match client.create_api_user_key(user_id).await {
//!     // Store the secret now: Kraken shows it once and keeps no copy.
//!     Ok(key) => store_in_vault(&key.api_key, key.api_secret.expose()),
//!     // A key may exist whose secret we never saw: list the user's keys, and delete the one
//!     // without a stored secret before creating another.
//!     Err(e) if e.is_outcome_unknown() => {
//!         let keys = client.list_api_user_keys(user_id).await?;
//!         eprintln!("{} keys exist", keys.len());
//!     }
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Sending in nonce order
//!
//! Kraken rejects a nonce lower than one it has already seen for the key. By default a
//! [`Client`] (and all its clones) therefore signs and sends one request at a time, in the
//! order tasks asked (a fair lock): the next request is signed only once the previous one has
//! its response head. Keys given a nonce window can opt out with
//! [`ClientBuilder::concurrent_sends`]. Two *separate* clients with the same key do not
//! coordinate: share one client (it is cheap to clone) instead.
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
//! # Timeouts
//!
//! [`Settings::connect_timeout`] bounds getting a connection (resolve, connect, TLS), whether
//! this crate built the hyper client or you did; [`Settings::timeout`] bounds each attempt,
//! from its turn to send to the last body byte.
#![forbid(unsafe_code)]

// The crate's README (its page on crates.io) is compiled and run as doctests, so its example
// cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod failure;
mod hyper_setup;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{HttpConnector, capture_connection};
use prime_core::http::{Request, Response, response::Parts};
use prime_core::transport::{BodyBuffer, Call, ClientCore, Step, TransportError};
use prime_core::{Endpoint, Reply};
use tokio::sync::Mutex;
use tokio::time::{Instant, sleep_until, timeout_at};
use tracing::Instrument as _;

// One dependency is enough: the core and the types this crate's API speaks.
pub use prime_core::{
    self, BuildError, Credentials, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT, Error, RetryPolicy, Settings, http,
};
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
    /// Built here: rustls with `ring` and the webpki roots.
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

    /// Sends `endpoint` as the [call driver](prime_core::transport::Call) directs, and returns
    /// its result with any warnings.
    ///
    /// ```no_run
    /// use prime_async::{Client, Credentials};
    /// use prime_async::prime_core::endpoints::ListApiUserKeys;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::builder(Credentials::new("<api key>", "<base64 secret>")?)
    ///     .base_url("http://127.0.0.1:8080")
    ///     .build()?;
    /// let reply = client.send(&ListApiUserKeys::new("2T0RXL9B8K5D6")).await?;
    /// eprintln!("{} keys, {} warnings", reply.result.data.len(), reply.warnings.len());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] before anything is sent, [`Error::Transport`] (check
    /// [`Error::is_outcome_unknown`]) or [`Error::Response`] once retries are exhausted.
    pub async fn send<E: Endpoint>(&self, endpoint: &E) -> Result<Reply<E::Response>, Error> {
        let mut call = self.inner.core.start(endpoint, std::time::Instant::now())?;
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
        let turn = match &inner.send_order {
            Some(order) => Some(order.lock().await),
            None => None,
        };
        // The deadline starts once it is this request's turn.
        let deadline = Instant::now() + inner.core.timeout();
        let request = call.request()?.map(|body| Full::new(Bytes::from(body)));
        let head = self.response_head(request, deadline).await;
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

/// Typed calls, one per endpoint, from prime-core's endpoint table. Each returns the
/// endpoint's result; warnings are logged (use [`Client::send`] to get them as values).
impl Client {
    prime_core::client_methods!(async);
}

impl ClientBuilder {
    prime_core::settings_setters!();

    /// TLS settings (custom roots, client certificates) for the hyper client this crate
    /// builds, e.g. a `rustls::ClientConfig` with your gateway's CA as its only root (built as
    /// in [prime-blocking's example](https://docs.rs/prime-blocking/latest/prime_blocking/struct.ClientBuilder.html#method.tls_config)).
    /// Its crypto provider is used as is; the default is rustls with `ring` and the webpki
    /// roots.
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
        let http = match self.http {
            HttpSetup::Default => hyper_setup::hyper_client(None)?,
            HttpSetup::Tls(config) => hyper_setup::hyper_client(Some(config))?,
            HttpSetup::Caller(client) => *client,
            HttpSetup::Conflict => {
                return Err(BuildError::new(
                    "tls_config",
                    "cannot be combined with a caller-built hyper client: configure TLS on it",
                ));
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                send_order: (!core.concurrent_sends()).then(|| Mutex::new(())),
                core,
                http,
            }),
        })
    }
}
