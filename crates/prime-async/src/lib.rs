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
//! use prime_async::Client;
//! use prime_core::Credentials;
//! use prime_core::endpoints::Role;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let credentials = Credentials::new("<api key>", "<base64 secret>")?;
//! let client = Client::builder(credentials).build()?;
//!
//! let user = client.create_api_user("settlement-bot", Role::Trader).await?;
//! let key = client.create_api_user_key(&user.id).await?;
//! // The secret is shown once: store it now. It is a Prime WebSocket/FIX credential;
//! // REST calls, settlement included, are made with the account key.
//! let _ws_secret: &str = key.api_secret.expose();
//! for batch in client.list_settlement_batches(&Default::default()).await?.data {
//!     println!("{} {}", batch.id, batch.attributes.status);
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
//! Each failure goes to [`RetryPolicy::decide_at`]: reads are retried after transient failures,
//! a non-idempotent call (create, update, delete, settle) is never resent once it may have
//! reached the server, and `EAPI:Invalid nonce` gets one immediate resend. Every resend is
//! signed again with a fresh nonce; backoff delays are jittered.
#![forbid(unsafe_code)]

mod failure;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body as _, Incoming};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::{HttpConnector, capture_connection};
use hyper_util::rt::TokioExecutor;
use prime_core::endpoints::{
    ApiUser, ApiUserKeyInfo, BatchList, CreateApiUser, CreateApiUserKey, CreateSettlementBatch,
    CreatedApiUserKey, DeleteApiUserKey, DeletedApiUserKey, GetApiUser, GetSettlementBatch,
    ListApiUserKeys, ListApiUsers, ListSettlementBatches, Role, SettleSettlementBatchAsset,
    SettlementBatch, SettlementTransfer, UpdateApiUser, UpdateApiUserKey, UpdateApiUserRoles,
    UpdatedApiUserKey,
};
use prime_core::{
    ArgumentError, Attempt, BodyBuffer, ClockNonce, Credentials, Delivery, Endpoint, Error,
    NonceSource, Reply, RequestBuilder, RetryDecision, RetryPolicy, TransportError,
    TransportErrorKind, client_request_builder, parse_response,
};
use tokio::sync::Mutex;
use tokio::time::{Instant, timeout_at};

/// Default limit for one attempt, from connecting to the last body byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit for the TCP connect of a new connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on a response body. Prime responses are a few KiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The hyper client type this crate sends with; build one to pass to
/// [`ClientBuilder::hyper_client`] (proxies, custom connectors, pool settings).
pub type HyperClient =
    hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// An async Prime REST client for one API key.
///
/// Cheap to clone: clones share the connection pool, the nonce source and the send order.
/// See the [crate docs](crate) for ordering and retries.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    credentials: Credentials,
    requests: RequestBuilder,
    nonces: Arc<dyn NonceSource>,
    retry: RetryPolicy,
    http: HyperClient,
    timeout: Duration,
    max_response_bytes: usize,
    /// Held from signing until the response head arrives, so nonces reach Kraken in order.
    /// tokio's mutex is fair: waiting tasks go in the order they asked.
    send_order: Option<Mutex<()>>,
}

/// Configures a [`Client`]. Made by [`Client::builder`].
#[must_use]
pub struct ClientBuilder {
    credentials: Credentials,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: Option<String>,
    retry: RetryPolicy,
    nonces: Option<Arc<dyn NonceSource>>,
    max_response_bytes: usize,
    concurrent_sends: bool,
    tls: Option<Arc<rustls::ClientConfig>>,
    http: Option<HyperClient>,
}

impl Client {
    /// Starts configuring a client that signs with `credentials`.
    pub fn builder(credentials: Credentials) -> ClientBuilder {
        ClientBuilder {
            credentials,
            base_url: prime_core::DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: None,
            retry: RetryPolicy::default(),
            nonces: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            concurrent_sends: false,
            tls: None,
            http: None,
        }
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.inner.requests.base_url()
    }

    /// Sends `endpoint`, retrying as [`RetryPolicy::decide_at`] allows, and returns its result
    /// with any warnings.
    ///
    /// ```no_run
    /// use prime_async::Client;
    /// use prime_core::Credentials;
    /// use prime_core::endpoints::ListApiUserKeys;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::builder(Credentials::new("<api key>", "<base64 secret>")?)
    ///     .base_url("http://127.0.0.1:8080")
    ///     .build()?;
    /// let reply = client.send(&ListApiUserKeys::new("2T0RXL9B8K5D6")).await?;
    /// for warning in &reply.warnings {
    ///     eprintln!("warning: {warning}");
    /// }
    /// println!("{} keys", reply.result.data.len());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] before anything is sent, [`Error::Transport`] (check
    /// [`Error::is_outcome_unknown`]) or [`Error::Response`] once retries are exhausted.
    pub async fn send<E: Endpoint>(&self, endpoint: &E) -> Result<Reply<E::Response>, Error> {
        // Refuse bad arguments before taking a turn in the send order or spending a nonce.
        endpoint.validate()?;
        let mut attempt = Attempt::first();
        loop {
            let failure = match self.attempt(endpoint).await {
                Ok(reply) => return Ok(reply),
                Err(failure) => failure,
            };
            let decision = self.inner.retry.decide_at(
                E::IDEMPOTENCY,
                &failure,
                attempt,
                rand::random::<f64>(),
                std::time::SystemTime::now(),
            );
            let RetryDecision::Retry { after, reason } = decision else {
                return Err(failure);
            };
            tracing::debug!(
                endpoint = E::NAME,
                attempt = attempt.number(),
                ?reason,
                ?after,
                error = %failure,
                "retrying"
            );
            tokio::time::sleep(after).await;
            attempt = attempt.next(&decision);
        }
    }

    /// One signed attempt: sign, send, read the capped body, parse.
    async fn attempt<E: Endpoint>(&self, endpoint: &E) -> Result<Reply<E::Response>, Error> {
        let inner = &*self.inner;
        let order = match &inner.send_order {
            Some(order) => Some(order.lock().await),
            None => None,
        };
        // The deadline starts once it is this request's turn.
        let deadline = Instant::now() + inner.timeout;
        let nonce = inner.nonces.next_nonce();
        let mut request = inner
            .requests
            .build(endpoint, &inner.credentials, nonce)?
            .map(|body| Full::new(Bytes::from(body)));
        let connection = capture_connection(&mut request);
        let outcome = timeout_at(deadline, inner.http.request(request)).await;
        let connected = connection.connection_metadata().is_some();
        drop(order);
        let response = match outcome {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return Err(failure::request_error(e, connected).into()),
            Err(_elapsed) => return Err(failure::timeout_error(connected).into()),
        };
        let (head, body) = response.into_parts();
        let body = timeout_at(deadline, read_capped(body, inner.max_response_bytes))
            .await
            .map_err(|_elapsed| failure::timeout_error(true))??;
        Ok(parse_response(head.status, &head.headers, body.as_bytes())?)
    }
}

/// Reads the body frame by frame into a capped, zeroizing buffer: an oversized body fails as
/// soon as it crosses the cap instead of being buffered whole.
async fn read_capped(mut body: Incoming, limit: usize) -> Result<BodyBuffer, Error> {
    let mut buffer = BodyBuffer::new(limit, body.size_hint().exact())?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(failure::body_error)?;
        if let Ok(data) = frame.into_data() {
            buffer.extend(&data)?;
        }
    }
    Ok(buffer)
}

/// Logs the warnings of a typed call (the generic [`Client::send`] returns them instead).
fn into_result<T>(name: &str, reply: Reply<T>) -> T {
    for warning in &reply.warnings {
        tracing::warn!(endpoint = name, warning = %warning, "Kraken returned a warning");
    }
    reply.result
}

/// Typed calls, one per endpoint. Each returns the endpoint's result and logs any warnings
/// with `tracing::warn!`; use [`Client::send`] to get the warnings as values.
impl Client {
    async fn call<E: Endpoint>(&self, endpoint: &E) -> Result<E::Response, Error> {
        self.send(endpoint)
            .await
            .map(|reply| into_result(E::NAME, reply))
    }

    /// `CreatePrimeApiUser`: creates a user with `role`. Never resent once it may have
    /// reached the server.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn create_api_user(&self, name: &str, role: Role) -> Result<ApiUser, Error> {
        self.call(&CreateApiUser::new(name, role)).await
    }

    /// `GetPrimeApiUser`: one user.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn get_api_user(&self, user_id: &str) -> Result<ApiUser, Error> {
        Ok(self.call(&GetApiUser::new(user_id)).await?.data)
    }

    /// `ListPrimeApiUsers`: every user of the account.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn list_api_users(&self) -> Result<Vec<ApiUser>, Error> {
        Ok(self.call(&ListApiUsers::new()).await?.data)
    }

    /// `UpdatePrimeApiUser`: changes a user's name and/or status.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn update_api_user(&self, request: &UpdateApiUser) -> Result<ApiUser, Error> {
        self.call(request).await
    }

    /// `UpdatePrimeApiUserRoles`: sets a user's role.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn update_api_user_roles(&self, user_id: &str, role: Role) -> Result<ApiUser, Error> {
        self.call(&UpdateApiUserRoles::new(user_id, role)).await
    }

    /// `CreatePrimeApiUserKey`: issues a key; its secret is returned only here. Never resent
    /// once it may have reached the server: on [`Error::is_outcome_unknown`], list the user's
    /// keys before trying again.
    ///
    /// ```no_run
    /// # use prime_async::Client;
    /// # use prime_core::Credentials;
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// # fn store_in_vault(_key: &str, _secret: &str) {}
    /// # let client = Client::builder(Credentials::new("<api key>", "<base64 secret>")?).build()?;
    /// let user_id = "2T0RXL9B8K5D6";
    /// match client.create_api_user_key(user_id).await {
    ///     Ok(key) => {
    ///         // Store the secret now: Kraken shows it once and keeps no copy.
    ///         store_in_vault(&key.api_key, key.api_secret.expose());
    ///     }
    ///     Err(e) if e.is_outcome_unknown() => {
    ///         // A key may exist whose secret we never saw: find it and delete it before
    ///         // creating another.
    ///         let keys = client.list_api_user_keys(user_id).await?;
    ///         eprintln!("{} keys exist; delete the one without a stored secret", keys.len());
    ///     }
    ///     Err(e) => return Err(e.into()),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn create_api_user_key(&self, user_id: &str) -> Result<CreatedApiUserKey, Error> {
        self.call(&CreateApiUserKey::new(user_id)).await
    }

    /// `ListPrimeApiUserKeys`: a user's keys, without secrets.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn list_api_user_keys(&self, user_id: &str) -> Result<Vec<ApiUserKeyInfo>, Error> {
        Ok(self.call(&ListApiUserKeys::new(user_id)).await?.data)
    }

    /// `UpdatePrimeApiUserKey`: sets a key's IP allow-list.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn update_api_user_key(
        &self,
        request: &UpdateApiUserKey,
    ) -> Result<UpdatedApiUserKey, Error> {
        self.call(request).await
    }

    /// `DeletePrimeApiUserKey`: deletes a key for good.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn delete_api_user_key(
        &self,
        user_id: &str,
        key_id: &str,
    ) -> Result<DeletedApiUserKey, Error> {
        self.call(&DeleteApiUserKey::new(user_id, key_id)).await
    }

    /// `CreatePrimeSettlementBatch`: snapshots unsettled trades into a batch.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn create_settlement_batch(
        &self,
        request: &CreateSettlementBatch,
    ) -> Result<SettlementBatch, Error> {
        Ok(self.call(request).await?.batch)
    }

    /// `GetPrimeSettlementBatch`: one batch with its legs.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn get_settlement_batch(&self, batch_id: &str) -> Result<SettlementBatch, Error> {
        Ok(self.call(&GetSettlementBatch::new(batch_id)).await?.batch)
    }

    /// `ListPrimeSettlementBatches`: a filtered page of batches.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn list_settlement_batches(
        &self,
        request: &ListSettlementBatches,
    ) -> Result<BatchList, Error> {
        self.call(request).await
    }

    /// `SettlePrimeSettlementBatchAsset`: starts settling one asset's leg of a confirmed batch.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn settle_settlement_batch_asset(
        &self,
        batch_id: &str,
        asset: &str,
    ) -> Result<SettlementTransfer, Error> {
        Ok(self
            .call(&SettleSettlementBatchAsset::new(batch_id, asset))
            .await?
            .transfer)
    }
}

impl ClientBuilder {
    /// Sends to another base URL, e.g. the simulator's `http://127.0.0.1:PORT`. Default:
    /// `https://api.kraken.com`. Plain `http://` is allowed (a warning is logged unless the
    /// host is loopback).
    pub fn base_url(mut self, url: &str) -> Self {
        url.clone_into(&mut self.base_url);
        self
    }

    /// Limit for one attempt, from connecting to the last body byte (retries each get their
    /// own; waiting for the send order does not count). Default [`DEFAULT_TIMEOUT`]. Applies
    /// to a caller-supplied hyper client too.
    pub fn timeout(mut self, overall: Duration) -> Self {
        self.timeout = overall;
        self
    }

    /// Limit for the TCP connect of a new connection. Default [`DEFAULT_CONNECT_TIMEOUT`].
    /// A caller-supplied hyper client keeps its own connector's setting.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// The `User-Agent` header. Default `kraken-prime/<version>`.
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = Some(user_agent.to_owned());
        self
    }

    /// How many times and how patiently to retry. Default [`RetryPolicy::default`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Where nonces come from. Default: a new [`ClockNonce`] (nanoseconds). Pass the same
    /// source to every client that shares a key.
    pub fn nonce_source(mut self, nonces: Arc<dyn NonceSource>) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// Cap on a response body; larger bodies fail with [`TransportErrorKind::BodyTooLarge`]
    /// without being read whole. Default [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Lets requests be signed and sent concurrently. Only for keys with a nonce window wide
    /// enough for the out-of-order arrival this causes. Default `false`: one request at a time.
    pub fn concurrent_sends(mut self, on: bool) -> Self {
        self.concurrent_sends = on;
        self
    }

    /// TLS settings (custom roots, client certificates). Its crypto provider is used as is;
    /// this crate's default is rustls with `ring` and the webpki roots.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// # use prime_async::Client;
    /// # use prime_core::Credentials;
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

    /// Sends through a caller-built hyper client (proxies, pools, TLS). The builder's overall
    /// timeout still applies; its connect timeout and TLS config do not.
    pub fn hyper_client(mut self, client: HyperClient) -> Self {
        self.http = Some(client);
        self
    }

    /// Builds the client. Needs no runtime; sending does.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad base URL or `User-Agent`, a zero timeout or cap,
    /// or a TLS config combined with a caller-built hyper client.
    pub fn build(self) -> Result<Client, Error> {
        let requests = client_request_builder(
            &self.base_url,
            self.user_agent.as_deref(),
            self.timeout,
            self.connect_timeout,
            self.max_response_bytes,
        )?;
        if requests.is_plaintext_remote() {
            tracing::warn!(
                base_url = requests.base_url(),
                "sending Prime requests over plain HTTP"
            );
        }
        let http = match (self.http, self.tls) {
            (Some(_), Some(_)) => {
                return Err(ArgumentError::new(
                    "tls_config",
                    "cannot be combined with a caller-built hyper client: configure TLS on it",
                )
                .into());
            }
            (Some(http), None) => http,
            (None, tls) => hyper_client(tls, self.connect_timeout)?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                credentials: self.credentials,
                requests,
                nonces: self.nonces.unwrap_or_else(|| Arc::new(ClockNonce::new())),
                retry: self.retry,
                http,
                timeout: self.timeout,
                max_response_bytes: self.max_response_bytes,
                send_order: (!self.concurrent_sends).then(|| Mutex::new(())),
            }),
        })
    }
}

/// HTTP/1.1 over rustls (`ring`, webpki roots unless `tls` is given), plain HTTP allowed.
fn hyper_client(
    tls: Option<Arc<rustls::ClientConfig>>,
    connect_timeout: Duration,
) -> Result<HyperClient, Error> {
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(connect_timeout));
    let https = match tls {
        Some(config) => HttpsConnectorBuilder::new().with_tls_config((*config).clone()),
        None => HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| TransportError::new(Delivery::NotSent, TransportErrorKind::Tls, e))?,
    }
    .https_or_http()
    .enable_http1()
    .wrap_connector(tcp);
    Ok(hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(https))
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url())
            .field("api_key", self.inner.credentials.api_key())
            .field("concurrent_sends", &self.inner.send_order.is_none())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", self.credentials.api_key())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Credentials {
        Credentials::new(
            "KRA5L19LAW8Z",
            "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
        )
        .unwrap()
    }

    #[test]
    fn builder_refuses_bad_settings_with_the_field_named() {
        let field = |builder: ClientBuilder| match builder.build() {
            Err(Error::InvalidArgument(e)) => e.field(),
            other => panic!("expected an argument error, got {other:?}"),
        };
        let b = || Client::builder(credentials());
        assert_eq!(field(b().base_url("ftp://example.com")), "base_url");
        assert_eq!(field(b().user_agent("bad\nagent")), "user_agent");
        assert_eq!(field(b().timeout(Duration::ZERO)), "timeout");
        assert_eq!(
            field(b().connect_timeout(Duration::ZERO)),
            "connect_timeout"
        );
        assert_eq!(field(b().max_response_bytes(0)), "max_response_bytes");
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        let http = hyper_client(None, DEFAULT_CONNECT_TIMEOUT).unwrap();
        assert_eq!(
            field(b().hyper_client(http).tls_config(Arc::new(tls))),
            "tls_config"
        );
    }

    #[tokio::test]
    async fn invalid_arguments_are_refused_before_a_nonce_is_spent() {
        let nonces = Arc::new(prime_core::CountingNonce::starting_at(1));
        let client = Client::builder(credentials())
            // Nothing listens here; nothing must be sent anyway.
            .base_url("http://127.0.0.1:9")
            .nonce_source(nonces.clone())
            .build()
            .unwrap();
        let error = client.get_api_user("").await.unwrap_err();
        assert!(
            matches!(&error, Error::InvalidArgument(e) if e.field() == "user_id"),
            "{error:?}"
        );
        assert_eq!(nonces.next_nonce(), 1);
    }

    #[test]
    fn debug_masks_the_key_and_never_shows_the_secret() {
        let client = Client::builder(credentials()).build().unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("KRA5L19LAW8Z"), "{shown}");
        assert!(!shown.contains("kQH5HW"), "{shown}");
        assert!(shown.contains("https://api.kraken.com"), "{shown}");
    }

    #[tokio::test]
    async fn connection_refused_is_reported_as_not_sent() {
        // Bind then drop to get a port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = Client::builder(credentials())
            .base_url(&format!("http://127.0.0.1:{port}"))
            .retry_policy(RetryPolicy::never())
            .build()
            .unwrap();
        let error = client.create_api_user_key("U1").await.unwrap_err();
        let Error::Transport(transport) = &error else {
            panic!("expected a transport error, got {error:?}");
        };
        assert_eq!(transport.delivery(), Delivery::NotSent);
        assert_eq!(transport.kind(), TransportErrorKind::Connect);
        assert!(!error.is_outcome_unknown());
    }
}
