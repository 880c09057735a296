//! A blocking [Kraken Prime REST](https://docs.kraken.com/api-reference/) client: a thin
//! [`ureq`] transport over [`prime_core`].
//!
//! All protocol work (signing, request bodies, response parsing, retry decisions) is
//! `prime_core`'s; this crate moves the signed `http::Request` over HTTPS (rustls with the
//! `ring` provider) and hands the response bytes back. It adds what only a transport can
//! know: whether a failed request was *not sent* (DNS, connect, TLS handshake: safe to resend)
//! or *maybe sent* (the outcome is unknown, see [`Error::is_outcome_unknown`]).
//!
//! This crate is the only dependency a program needs: it re-exports every type its API
//! speaks ([`endpoints`], [`workflow`], [`Error`], [`ErrorKind`], [`Value`], …). Its methods
//! take the same arguments as `prime-async`'s (ids and names as `impl Into<String>`,
//! request types by value), so a program reads the same with either.
//!
//! ```no_run
//! use prime_blocking::endpoints::{ListSettlementBatches, Role};
//! use prime_blocking::{Client, Credentials};
//!
//! let credentials = Credentials::new("<api key>", "<base64 secret>")?;
//! let client = Client::builder(credentials).build()?;
//!
//! let user = client.create_api_user("settlement-bot", Role::Trader)?;
//! for batch in client.list_settlement_batches(ListSettlementBatches::new().limit(20))?.data {
//!     println!("{} {}", batch.id, batch.attributes.status);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
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
//! # use prime_blocking::{Client, Credentials};
//! # fn store_in_vault(_key: &str, _secret: &str) {}
//! # let client = Client::builder(Credentials::new("<api key>", "<base64 secret>")?).build()?;
//! match client.create_api_user_key("2T0RXL9B8K5D6") {
//!     // Store the secret now: Kraken shows it once and keeps no copy.
//!     Ok(key) => store_in_vault(&key.api_key, key.api_secret().expose()),
//!     // Nothing of this creation is left behind: calling again is safe.
//!     Err(e) if e.is_safe_to_retry() => eprintln!("no key was created: {e}"),
//!     // Orphans that could not be deleted, or an outcome that could not be listed: the
//!     // message names the keys (or the ids known before) and what to do.
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
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
//! use prime_blocking::ErrorKind;
//! # fn run(client: prime_blocking::Client) {
//! match client.list_api_users() {
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
//! [`Client`] (and all its clones) therefore signs and sends one request at a time: the next
//! request is signed only once the previous one has its response head. Keys given a nonce
//! window can opt out with [`ClientBuilder::concurrent_sends`].
//!
//! Separate clients, and separate processes, with the same key do not coordinate unless they
//! share a send order: [`ClientBuilder::host_send_order`] takes one turn per key across every
//! process on the host (an OS file lock) and keeps the key's nonce high-water mark beside it,
//! so a clock stepped back or a restart reuses no nonce ([`HostSendOrder`]; the `prime` command
//! uses it by default). Kraken's answers beyond one host are a nonce window or one key per
//! worker.
//!
//! # Retries
//!
//! Every rule of a call is prime-core's [call driver](prime_core::transport::Call): reads are
//! retried after transient failures, a non-idempotent call (create, update, delete, settle) is
//! never resent once it may have reached the server, and `EAPI:Invalid nonce` gets one
//! immediate resend. Every resend is signed again with a fresh nonce; backoff delays are
//! jittered ([`RetryPolicy`]). A rate limit or lockout is not called into again (Kraken warns
//! that calls made while limited prolong it): the call stops with an error whose
//! [`Error::recommended_wait`] says how long to wait, unless
//! [`RetryPolicy::with_wait_out_limits`] opts in to waiting and resending. Each call runs in a
//! `tracing` span `prime_call`.
//!
//! # Timeouts and deadlines
//!
//! [`Settings::connect_timeout`] bounds opening a connection; [`Settings::timeout`] bounds
//! each attempt and starts afresh for each retry. [`Settings::deadline`] bounds the whole
//! call across attempts and backoffs (per call: [`Client::with_deadline`]): no retry starts
//! that would end past it, and each attempt's timeout is cut to the time left. The one wait it
//! does not bound is a thread's wait for its turn in the send order (a standard mutex has no
//! timed lock): the call's deadline is checked once the turn comes, before anything is
//! signed. A call cut off by the deadline fails with
//! [`TransportErrorKind::Deadline`]: *not sent* if
//! its request had not left, *outcome unknown* if it had.
//!
//! # Logging
//!
//! Calls log retries and warnings with `tracing`, never secrets, signatures or bodies.
//! ureq, underneath, logs through the `log` crate, and its protocol layer hex-dumps every byte
//! on the wire at TRACE under the `ureq_proto` target: that includes the one-time secret in a
//! `CreatePrimeApiUserKey` response. If `log` records reach your subscriber (e.g. through
//! `tracing-log`), keep that target at DEBUG or below, e.g.
//! `EnvFilter::new("trace,ureq_proto=debug")`, as the `prime` command does.
//!
//! # Features
//!
//! - `webpki-roots` (default): trust the Mozilla roots compiled in.
//! - `rustls-native-roots`: also trust the operating system's store (corporate proxies and
//!   private CAs), read with `rustls-native-certs` (pure Rust; no C library).
//!
//! With both, both are trusted. With neither, pass TLS settings with
//! [`ClientBuilder::tls_config`] (or an [`ureq::Agent`]).
#![forbid(unsafe_code)]

// The crate's README (its page on crates.io) is compiled and run as doctests, so its example
// cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod body;
mod connector;
mod failure;
mod resolver;
mod roots;
pub mod sink;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use prime_core::http::{Request, Response};
use prime_core::transport::{BodyBuffer, Call, ClientCore, Step, not_sent};
use ureq::{Agent, RequestExt as _};

// One dependency is enough: the core and every type this crate's API speaks.
pub use prime_core::serde_json::{self, Value};
pub use prime_core::{
    self, ApiSecret, BuildError, Credentials, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT, Delivery, Endpoint, Error, ErrorCode, ErrorKind, KrakenError, NonceSource,
    NonceUnit, Reply, ResponseError, RetryPolicy, RetryWait, SalvagedKey, Settings, TransportError,
    TransportErrorKind, endpoints, http, workflow,
};
pub use prime_host_order::{self, HostSendOrder};
pub use {rustls, ureq};

/// A blocking Prime REST client for one API key.
///
/// Cheap to clone: clones share the connection pool, the nonce source and the send order.
/// See the [crate docs](crate) for ordering and retries.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// The overall bound of each call made through this handle (see [`Client::with_deadline`]).
    deadline: Option<Duration>,
}

struct Inner {
    core: ClientCore,
    agent: Agent,
    /// Whether `agent` carries the delivery probe (it does unless the caller built it).
    probed: bool,
    /// Held from signing until the response head arrives, so nonces reach Kraken in order.
    send_order: Option<Mutex<()>>,
}

/// Configures a [`Client`]. Made by [`Client::builder`].
#[must_use]
pub struct ClientBuilder {
    credentials: Credentials,
    settings: Settings,
    tls: Option<Arc<rustls::ClientConfig>>,
    agent: Option<Agent>,
}

impl Client {
    /// Starts configuring a client that signs with `credentials`.
    pub fn builder(credentials: Credentials) -> ClientBuilder {
        ClientBuilder {
            credentials,
            settings: Settings::default(),
            tls: None,
            agent: None,
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
    /// # fn run(client: prime_blocking::Client) -> Result<(), prime_blocking::Error> {
    /// let users = client.with_deadline(Duration::from_millis(1500)).list_api_users()?;
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
    /// its result with any warnings.
    ///
    /// ```no_run
    /// use prime_blocking::endpoints::ListApiUserKeys;
    /// use prime_blocking::{Client, Credentials};
    ///
    /// let client = Client::builder(Credentials::new("<api key>", "<base64 secret>")?)
    ///     .base_url("http://127.0.0.1:8080")
    ///     .build()?;
    /// let reply = client.send(ListApiUserKeys::new("2T0RXL9B8K5D6"))?;
    /// for warning in &reply.warnings {
    ///     eprintln!("warning: {warning}");
    /// }
    /// println!("{} keys", reply.result.data.len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] before anything is sent, [`Error::Transport`] (check
    /// [`Error::is_outcome_unknown`]) or [`Error::Response`] once retries are exhausted.
    pub fn send<E: Endpoint>(&self, endpoint: E) -> Result<Reply<E::Response>, Error> {
        let mut call = self
            .inner
            .core
            .start_within(&endpoint, Instant::now(), self.deadline)?;
        let _in_span = call.span().clone().entered();
        loop {
            let outcome = self.attempt(&mut call)?;
            match call.on_attempt(Instant::now(), outcome) {
                Step::Done(reply) => return Ok(reply),
                Step::Stop(error) => return Err(error),
                Step::Retry { after } => std::thread::sleep(after),
            }
        }
    }

    // Multi-call workflows (key rotation, reconciled key creation) over `send`.
    prime_core::workflow_methods!(blocking);

    /// One attempt: sign in turn, send, read the capped body. The outer error is the driver's
    /// (it refused to sign); the inner one is the transport's, for the driver to judge.
    #[allow(
        clippy::type_complexity,
        reason = "two layers of failure, each named above"
    )]
    fn attempt<E: Endpoint>(
        &self,
        call: &mut Call<'_, E>,
    ) -> Result<Result<(prime_core::http::response::Parts, BodyBuffer), TransportError>, Error>
    {
        let inner = &*self.inner;
        let response = {
            // A poisoned lock guards nothing but order; keep going.
            let _turn = inner
                .send_order
                .as_ref()
                .map(|order| order.lock().unwrap_or_else(PoisonError::into_inner));
            // The host's turn, inside this client's: held until the response head too. The
            // deadline is checked once the turn is this call's (waiting for it takes time).
            let (request, _host_turn, now) = match inner.core.send_order() {
                Some(order) => {
                    let mut turn = order
                        .take_turn(inner.core.api_key())
                        .map_err(|e| not_sent(TransportErrorKind::SendOrder, e))?;
                    let now = Instant::now();
                    (call.request_in_turn_at(now, &mut *turn)?, Some(turn), now)
                }
                None => {
                    let now = Instant::now();
                    (call.request_at(now)?, None, now)
                }
            };
            self.run(request, call.attempt_timeout(now))
        };
        Ok(response.and_then(|response| {
            let (head, body) = response.into_parts();
            let body = body::read_capped(&inner.core, body)?;
            Ok((head, body))
        }))
    }

    /// Runs the request until its response head arrives.
    fn run(
        &self,
        request: Request<Vec<u8>>,
        limit: Duration,
    ) -> Result<Response<ureq::Body>, TransportError> {
        let inner = &*self.inner;
        connector::reset_request_written();
        request
            .with_agent(&inner.agent)
            .configure()
            // Statuses are the core's to interpret; signed POSTs are never redirected.
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(limit))
            .timeout_connect(Some(inner.core.connect_timeout().min(limit)))
            .run()
            .map_err(|e| failure::transport_error(e, inner.probed.then(connector::request_written)))
    }
}

/// Typed calls, one per endpoint, from prime-core's endpoint table. Each takes its arguments
/// by value and returns the endpoint's result; warnings are logged (use [`Client::send`] to
/// get them as values).
impl Client {
    prime_core::client_methods!(blocking);
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
    /// # use prime_blocking::{Client, Credentials};
    /// let client = Client::builder(Credentials::new("<api key>", "<base64 secret>")?)
    ///     .host_send_order()
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn host_send_order(self) -> Self {
        self.send_order(Arc::new(HostSendOrder::new()))
    }

    /// TLS settings (custom roots, client certificates). Its crypto provider is used as is;
    /// this crate's default is rustls with `ring` and the roots the crate features select
    /// (see the [crate docs](crate#features)).
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// # use prime_blocking::{Client, Credentials};
    /// # let credentials = Credentials::new("<api key>", "<base64 secret>")?;
    /// # let ca_der: Vec<u8> = Vec::new();
    /// let mut roots = rustls::RootCertStore::empty();
    /// roots.add(rustls::pki_types::CertificateDer::from(ca_der))?;
    /// let provider = Arc::new(rustls::crypto::ring::default_provider());
    /// let tls = rustls::ClientConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()?
    ///     .with_root_certificates(roots)
    ///     .with_no_client_auth();
    /// let client = Client::builder(credentials)
    ///     .base_url("https://prime-gateway.internal:8443")
    ///     .tls_config(Arc::new(tls))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Sends through a caller-built agent (proxies, pools, TLS). The settings' timeouts still
    /// apply per request, statuses are never turned into errors and redirects are not
    /// followed. Such an agent has no delivery probe, so a failure that cannot be placed
    /// before the request was written counts as outcome unknown. Nor does it reuse host
    /// lookups: ureq resolves the host on every call, even on a kept-alive connection (on a
    /// new thread, since a timeout applies), which this crate's own agent avoids.
    pub fn agent(mut self, agent: Agent) -> Self {
        self.agent = Some(agent);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`BuildError`] for a refused setting (see [`Settings::validate`]), or a TLS config
    /// combined with a caller-built agent.
    pub fn build(self) -> Result<Client, BuildError> {
        let core = ClientCore::new(self.credentials, &self.settings)?;
        let (agent, probed) = match (self.agent, self.tls) {
            (Some(_), Some(_)) => {
                return Err(BuildError::new(
                    "tls_config",
                    "cannot be combined with a caller-built agent: configure TLS on the agent",
                ));
            }
            (Some(agent), None) => (agent, false),
            (None, Some(tls)) => (connector::probed_agent(Some(tls)), true),
            // ureq's own TLS trusts exactly the webpki roots: used as it is when those are
            // the roots the features select.
            (None, None)
                if cfg!(feature = "webpki-roots") && !cfg!(feature = "rustls-native-roots") =>
            {
                (connector::probed_agent(None), true)
            }
            (None, None) => {
                let https = core.base_url().starts_with("https:");
                (
                    connector::probed_agent(Some(roots::feature_tls(https)?)),
                    true,
                )
            }
        };
        Ok(Client {
            deadline: core.deadline(),
            inner: Arc::new(Inner {
                send_order: (!core.concurrent_sends()).then(|| Mutex::new(())),
                core,
                agent,
                probed,
            }),
        })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("core", &self.inner.core)
            .field("caller_agent", &!self.inner.probed)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", self.credentials.api_key())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
