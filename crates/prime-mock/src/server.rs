//! The HTTP server: a tokio runtime on its own thread, hyper HTTP/1.1 (optionally over
//! rustls), routing to the simulator, the faults and the control interface.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prime_core::{ApiSecret, Credentials, ErrorCode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, oneshot};

use crate::account::{Account, CheckOrder, Method, ReceivedCall};
use crate::arguments::UnknownFields;
use crate::fault::{Fault, FaultKind};
use crate::ledger::{Trade, TradeError};
use crate::rate_limit::RateLimits;
use crate::response_body::{MockBody, json_response};
use crate::shared::Shared;

/// Largest request body read; Prime bodies are a few hundred bytes.
const MAX_REQUEST_BODY: usize = 64 * 1024;
/// How long a TLS handshake may take before the connection is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for [`MockBuilder::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default for [`MockBuilder::request_body_timeout`].
pub const DEFAULT_REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The 502 page an edge proxy sends (HTML, not JSON).
const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";

/// Configures and starts a [`MockServer`].
///
/// ```
/// use prime_mock::MockServer;
///
/// let server = MockServer::builder().seed(42).rate_limit(true).start()?;
/// assert!(server.url().starts_with("http://127.0.0.1:"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct MockBuilder {
    seed: Option<u64>,
    listen: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    rate_limits: Option<RateLimits>,
    unknown_fields: UnknownFields,
    check_order: CheckOrder,
    error_result: bool,
    seed_trades: bool,
    max_connections: usize,
    body_timeout: Duration,
}

impl fmt::Debug for MockBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockBuilder")
            .field("seed", &self.seed)
            .field("listen", &self.listen)
            .field("tls", &self.tls.is_some())
            .field("rate_limits", &self.rate_limits)
            .field("unknown_fields", &self.unknown_fields)
            .field("check_order", &self.check_order)
            .field("error_result", &self.error_result)
            .field("seed_trades", &self.seed_trades)
            .field("max_connections", &self.max_connections)
            .field("body_timeout", &self.body_timeout)
            .finish()
    }
}

impl Default for MockBuilder {
    fn default() -> Self {
        Self {
            seed: None,
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            tls: None,
            rate_limits: None,
            unknown_fields: UnknownFields::Refuse,
            check_order: CheckOrder::default(),
            error_result: true,
            seed_trades: true,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            body_timeout: DEFAULT_REQUEST_BODY_TIMEOUT,
        }
    }
}

impl MockBuilder {
    /// Draws every id and secret (the account key's included) from this seed, so the same
    /// calls yield the same ids and secrets. Without it the seed is random.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Listens on `addr` instead of `127.0.0.1:0` (a free port).
    #[must_use]
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Serves HTTPS with this rustls configuration; [`MockServer::url`] then starts with
    /// `https://`.
    #[must_use]
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Switches the rate-limit and lockout model on with [`RateLimits::default`] (`true`) or
    /// off (`false`, the default). See [`MockBuilder::rate_limits`].
    #[must_use]
    pub fn rate_limit(mut self, on: bool) -> Self {
        self.rate_limits = on.then(RateLimits::default);
        self
    }

    /// Switches on the rate-limit and lockout model, modelled on Kraken's Spot REST guides:
    /// a per-key counter where refused calls count too, `EAPI:Rate limit exceeded` over its
    /// maximum, and `EGeneral:Temporary lockout` after repeated refused calls. Off by default.
    /// See [`RateLimits`] for the numbers and their sources.
    #[must_use]
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = Some(limits);
        self
    }

    /// What to do with request fields the endpoint does not define (default
    /// [`UnknownFields::Refuse`]; Kraken's sources disagree, see [`UnknownFields`]).
    #[must_use]
    pub fn unknown_fields(mut self, unknown: UnknownFields) -> Self {
        self.unknown_fields = unknown;
        self
    }

    /// Moves the allow-list or argument check (see [`CheckOrder`]; Kraken documents no
    /// order of checks).
    #[must_use]
    pub fn check_order(mut self, order: CheckOrder) -> Self {
        self.check_order = order;
        self
    }

    /// Whether error replies carry an empty `result` object, `{"error":["…"],"result":{}}`,
    /// as Kraken's errors guide shows them (default `true`); `false` sends
    /// `{"error":["…"]}`, to check that a client reads both.
    #[must_use]
    pub fn error_result(mut self, on: bool) -> Self {
        self.error_result = on;
        self
    }

    /// Whether to start with a few unsettled trades of both asset kinds (default `true`), so
    /// batches can be created at once.
    #[must_use]
    pub fn seed_trades(mut self, on: bool) -> Self {
        self.seed_trades = on;
        self
    }

    /// At most this many connections are served at once (default
    /// [`DEFAULT_MAX_CONNECTIONS`], at least 1). Further clients wait in the listen backlog
    /// until a connection ends, so a flood of idle or stalled connections cannot exhaust the
    /// process's file descriptors and the server keeps serving once they time out.
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long a request body may take to arrive after its headers (default
    /// [`DEFAULT_REQUEST_BODY_TIMEOUT`]). A client that declares a `Content-Length` and then
    /// stalls gets `408 Request Timeout` with `EGeneral:Invalid arguments` and the connection
    /// is closed (the simulator's choice: Kraken documents no answer). (Headers themselves
    /// must arrive within hyper's 30-second header timeout.)
    #[must_use]
    pub fn request_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Binds the listener and starts serving on a background thread with its own tokio
    /// runtime, so it works from plain tests, async tests and `main` alike.
    ///
    /// # Errors
    /// Binding the address or starting the runtime thread failed.
    pub fn start(self) -> std::io::Result<MockServer> {
        let seed = self.seed.unwrap_or_else(rand::random);
        let (mut simulator, account) = Account::new(seed, self.rate_limits, self.seed_trades);
        simulator.unknown_fields = self.unknown_fields;
        simulator.check_order = self.check_order;
        let account_credentials = Credentials::new(&account.api_key, account.secret.expose())
            .map_err(|e| std::io::Error::other(format!("generated account key: {e}")))?;
        let listener = StdTcpListener::bind(self.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        // The FIX Logon check listens on the same address, on a port of its own.
        let fix_listener = StdTcpListener::bind(SocketAddr::new(addr.ip(), 0))?;
        fix_listener.set_nonblocking(true)?;
        let fix_addr = fix_listener.local_addr()?;
        let shared = Arc::new(Shared::new(simulator, self.body_timeout, self.error_result));
        let connections = Arc::new(Semaphore::new(self.max_connections));
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let (shutdown, shutdown_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let task_shared = Arc::clone(&shared);
        let tls = self.tls.map(tokio_rustls::TlsAcceptor::from);
        let thread = std::thread::Builder::new()
            .name(format!("prime-mock-{}", addr.port()))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("prime-mock-worker")
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listeners = tokio::net::TcpListener::from_std(listener)
                        .and_then(|l| Ok((l, tokio::net::TcpListener::from_std(fix_listener)?)));
                    match listeners {
                        Ok((listener, fix_listener)) => {
                            let fix_shared = Arc::clone(&task_shared);
                            tokio::spawn(crate::issued_fix::accept_loop(fix_listener, fix_shared));
                            let _ = ready_tx.send(Ok(()));
                            accept_loop(listener, task_shared, tls, connections, shutdown_rx).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
                // Dropping the runtime cancels every connection task and closes its socket.
                drop(runtime);
            })?;
        ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("the server thread stopped during start"))??;
        // Not the seed: every secret can be derived from it.
        tracing::info!(%addr, scheme, "prime-mock listening");
        Ok(MockServer {
            addr,
            fix_addr,
            scheme,
            seed,
            account_api_key: account.api_key,
            account_secret: account.secret,
            account_credentials,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }
}

/// A running Prime REST simulator. Dropping it stops the server: the accept loop and every
/// connection end, and the port is released.
///
/// Faults, trades, batch confirmation and transfer completion are driven from here (or over
/// HTTP under `/__mock/`, see the crate docs). `Debug` never shows the account secret.
pub struct MockServer {
    addr: SocketAddr,
    fix_addr: SocketAddr,
    scheme: &'static str,
    seed: u64,
    account_api_key: String,
    account_secret: ApiSecret,
    account_credentials: Credentials,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.url())
            .field("account_credentials", &self.account_credentials)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts a simulator on `127.0.0.1` at a free port with a random seed.
    ///
    /// # Errors
    /// As [`MockBuilder::start`].
    pub fn start() -> std::io::Result<MockServer> {
        Self::builder().start()
    }

    /// A builder for other settings.
    pub fn builder() -> MockBuilder {
        MockBuilder::default()
    }

    /// The base URL, e.g. `http://127.0.0.1:41234` (`https://` with TLS); no trailing `/`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the Prime FIX Logon check (plain TCP, same IP as [`MockServer::addr`]):
    /// issued keys log on here as on Prime FIX. The WebSocket check is `GET /ws/v1` at
    /// [`MockServer::url`] (`ws://`, or `wss://` with TLS).
    pub fn fix_addr(&self) -> SocketAddr {
        self.fix_addr
    }

    /// The Prime WebSocket URL of the authentication check, e.g. `ws://127.0.0.1:41234/ws/v1`.
    pub fn ws_url(&self) -> String {
        let scheme = if self.scheme == "https" { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.addr, prime_core::issued::WS_PATH)
    }

    /// The seed ids and secrets are drawn from. Print it to reproduce a run, but treat it like
    /// a secret: every key's secret can be derived from it. It is never logged or shown by the
    /// control interface.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The account key: a REST key holding every [`Permission`](crate::Permission). It
    /// manages users and keys and runs settlement.
    pub fn account_api_key(&self) -> &str {
        &self.account_api_key
    }

    /// The account key's secret: base64 of 64 bytes; read it with [`ApiSecret::expose`].
    pub fn account_secret(&self) -> &ApiSecret {
        &self.account_secret
    }

    /// Ready-to-sign credentials for the account key.
    pub fn account_credentials(&self) -> Credentials {
        self.account_credentials.clone()
    }

    /// Mints another account (REST) key holding `spec`'s permissions, optionally with API 2FA
    /// (`POST /__mock/account-keys` over HTTP).
    ///
    /// # Errors
    /// The 2FA password is empty or holds a control character.
    pub fn mint_account_key(
        &self,
        spec: &crate::AccountKeySpec,
    ) -> Result<crate::MintedKey, prime_core::CredentialsError> {
        if let Some(password) = &spec.otp {
            prime_core::Otp::password(password)?;
        }
        Ok(self.shared.simulator().mint_account_key(spec))
    }

    /// Queues a fault for the next matching request(s). See [`Fault`].
    pub fn push_fault(&self, fault: Fault) {
        self.shared.faults().push(fault);
    }

    /// The faults still queued, oldest first.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.shared.faults().pending()
    }

    /// Drops every queued fault; returns how many there were.
    pub fn clear_faults(&self) -> usize {
        self.shared.faults().clear()
    }

    /// Adds an unsettled trade for the next batch of its asset kind.
    ///
    /// An invalid trade is logged and ignored; use [`MockServer::try_add_trade`] to see why.
    pub fn add_trade(&self, trade: Trade) {
        if let Err(error) = self.try_add_trade(trade) {
            tracing::warn!(%error, "prime-mock: trade ignored");
        }
    }

    /// Adds an unsettled trade and returns its id.
    ///
    /// # Errors
    /// [`TradeError`] if the asset, amount, kind or id is unusable.
    pub fn try_add_trade(&self, trade: Trade) -> Result<String, TradeError> {
        self.shared.simulator().try_add_trade(trade)
    }

    /// Confirms a batch so its legs can be settled. `true` if the batch exists (confirming
    /// twice is harmless).
    pub fn confirm_batch(&self, batch_id: &str) -> bool {
        self.shared.simulator().confirm_batch(batch_id)
    }

    /// Completes every pending settlement transfer (their legs become `settled`); returns how
    /// many were completed.
    pub fn complete_transfers(&self) -> usize {
        self.shared.simulator().complete_transfers()
    }

    /// The live (not deleted) keys of a user; 0 for an unknown user.
    pub fn key_count(&self, user_id: &str) -> usize {
        self.shared.simulator().key_count(user_id)
    }

    /// How many times `method` (e.g. `CreatePrimeApiUserKey`) was executed successfully,
    /// including executions whose answer a fault then spoiled.
    pub fn executions(&self, method: &str) -> u64 {
        self.shared.simulator().executions(method)
    }

    /// Gives a key a nonce window (in nonce units; 0 = strictly increasing): nonces up to
    /// `window - 1` below the highest accepted one are then accepted once each, out of order.
    /// Nonces accepted before the call can never be reused. `false` if there is no such live
    /// key.
    pub fn set_nonce_window(&self, api_key: &str, window: u64) -> bool {
        self.shared.simulator().set_nonce_window(api_key, window)
    }

    /// Switches the rate-limit model (see [`MockBuilder::rate_limit`]) on with its defaults,
    /// or off.
    pub fn set_rate_limit(&self, on: bool) {
        self.shared.simulator().rate_limits = on.then(RateLimits::default);
    }

    /// Switches the rate-limit and lockout model on with `limits` (see
    /// [`MockBuilder::rate_limits`]), or off with `None`. Keys keep their counters.
    pub fn set_rate_limits(&self, limits: Option<RateLimits>) {
        self.shared.simulator().rate_limits = limits;
    }

    /// Switches whether error replies carry `"result": {}` (see [`MockBuilder::error_result`]).
    pub fn set_error_result(&self, on: bool) {
        self.shared.set_error_result(on);
    }

    /// Switches what happens to unknown request fields (see [`MockBuilder::unknown_fields`]).
    pub fn set_unknown_fields(&self, unknown: UnknownFields) {
        self.shared.simulator().unknown_fields = unknown;
    }

    /// The whole state without secrets (users, keys, unsettled trades, batches, transfers,
    /// execution counts), as `GET /__mock/state` returns it.
    pub fn state(&self) -> serde_json::Value {
        self.shared.simulator().snapshot()
    }

    /// The latest `EAPI:Invalid signature` this simulator returned and the known client
    /// mistakes that reproduce its signature, as `GET /__mock/last-rejection` returns it:
    /// `{"error", "method", "path", "api_key", "diagnosis": [{"id", "explanation"}]}` (the id
    /// `unknown` when none does); `None` before any.
    pub fn last_rejection(&self) -> Option<serde_json::Value> {
        self.shared
            .simulator()
            .last_rejection
            .as_ref()
            .map(crate::account::SignatureRejection::to_json)
    }

    /// Blocks the calling thread while the server runs (for standalone use, e.g. `prime
    /// mock`); it returns only if the server task ends on its own.
    pub fn serve_forever(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    connections: Arc<Semaphore>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        // A slot first, then a connection: at the cap, new clients wait in the kernel's
        // backlog (no file descriptor of ours) instead of being accepted and starved.
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            _ = &mut shutdown => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // A send or a dropped handle both mean stop.
            _ = &mut shutdown => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // E.g. out of file descriptors: back off instead of spinning.
                tracing::warn!(%error, "prime-mock: accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let tls = tls.clone();
        tokio::spawn(async move {
            // Held for the connection's life: its slot frees when it ends.
            let _permit = permit;
            match tls {
                None => serve_connection(stream, peer, shared).await,
                Some(acceptor) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        Ok(Ok(stream)) => serve_connection(stream, peer, shared).await,
                        Ok(Err(error)) => {
                            tracing::debug!(%peer, %error, "prime-mock: TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(%peer, "prime-mock: TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

async fn serve_connection<I>(io: I, peer: SocketAddr, shared: Arc<Shared>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let shared = Arc::clone(&shared);
        async move { route(&shared, peer, request).await }
    });
    let result = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        // `GET /ws/v1` upgrades to a WebSocket.
        .with_upgrades()
        .await;
    if let Err(error) = result {
        // Includes the connections the drop faults close on purpose.
        tracing::debug!(%peer, %error, "prime-mock: connection ended");
    }
}

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
pub(crate) struct Hangup;

impl fmt::Display for Hangup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection closed without an answer (drop fault)")
    }
}

impl std::error::Error for Hangup {}

async fn route(
    shared: &Arc<Shared>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<MockBody>, Hangup> {
    // A declared body larger than any Prime request is refused before a byte of it is read.
    if declared_length(&request).is_some_and(|length| length > MAX_REQUEST_BODY as u64) {
        return Ok(closing(json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            shared.error_body(ErrorCode::InvalidArguments { field: None }.as_str()),
        )));
    }
    let path = request.uri().path();
    if path.starts_with("/__mock/") {
        // The control interface has no delays of its own: the whole of it, body included, is
        // bounded by the body timeout.
        return Ok(
            match tokio::time::timeout(shared.body_timeout, crate::control::handle(shared, request))
                .await
            {
                Ok(response) => response,
                Err(_) => request_timeout(shared),
            },
        );
    }
    if path == prime_core::issued::WS_PATH {
        return Ok(crate::issued_ws::handle(shared, peer, request));
    }
    match path.strip_prefix("/0/private/").and_then(Method::from_name) {
        Some(method) => private_call(shared, peer, method, request).await,
        None => Ok(json_response(
            StatusCode::NOT_FOUND,
            shared.error_body(crate::errors::UNKNOWN_METHOD),
        )),
    }
}

async fn private_call(
    shared: &Arc<Shared>,
    peer: SocketAddr,
    method: Method,
    request: Request<Incoming>,
) -> Result<Response<MockBody>, Hangup> {
    if request.method() != hyper::Method::POST {
        let mut response = json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            shared.error_body(ErrorCode::InvalidArguments { field: None }.as_str()),
        );
        response
            .headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static("POST"));
        return Ok(response);
    }
    let fault = shared.faults().take(method.name());
    if let Some(fault) = &fault {
        tracing::info!(method = method.name(), %fault, "prime-mock: fault");
    }
    let (parts, body) = request.into_parts();
    // The body is read before any fault acts, so a dropped connection is a clean close after
    // the whole request was sent, as when a server dies mid-call.
    let collect = Limited::new(body, MAX_REQUEST_BODY).collect();
    let body = match tokio::time::timeout(shared.body_timeout, collect).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            return Ok(closing(json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                shared.error_body(ErrorCode::InvalidArguments { field: None }.as_str()),
            )));
        }
        Ok(Err(_)) => return Err(Hangup),
        // A stalled body: answered and closed, so the connection cannot be held forever.
        Err(_) => return Ok(request_timeout(shared)),
    };
    if fault == Some(FaultKind::ExecuteAfterHangup) {
        let call = HeldCall {
            shared: Arc::clone(shared),
            method,
            parts: Some(parts),
            body,
            peer,
        };
        return Ok(call.hold().await);
    }
    // Requests go after any held one has executed (see `Shared::held`).
    let mut held = shared.held.subscribe();
    let _ = tokio::time::timeout(MAX_HOLD, held.wait_for(|count| *count == 0)).await;
    match &fault {
        Some(FaultKind::Delay(delay)) => tokio::time::sleep(*delay).await,
        Some(FaultKind::DropBeforeExecute) => return Err(Hangup),
        Some(FaultKind::BadGatewayHtml) => {
            let mut response = Response::new(MockBody::full(BAD_GATEWAY_HTML));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            return Ok(response);
        }
        Some(FaultKind::InternalServerError) => {
            return Ok(json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                shared.error_body(ErrorCode::InternalError.as_str()),
            ));
        }
        Some(FaultKind::KrakenError(error)) => {
            return Ok(json_response(StatusCode::OK, shared.error_body(error)));
        }
        _ => {}
    }
    let call = ReceivedCall::new(method, &parts.uri, &parts.headers, &body, peer.ip());
    let answer = shared.simulator().handle(&call);
    let body = match answer {
        Ok(body) => {
            tracing::debug!(method = method.name(), %peer, "prime-mock: executed");
            body
        }
        Err(error) => {
            tracing::debug!(method = method.name(), %peer, %error, "prime-mock: refused");
            shared.error_body(&error)
        }
    };
    Ok(match fault {
        Some(FaultKind::DropAfterExecute) => return Err(Hangup),
        Some(FaultKind::MalformedJson) => {
            let mut body = body;
            body.pop();
            json_response(StatusCode::OK, body)
        }
        Some(FaultKind::TruncatedBody) => {
            let full_len = body.len();
            let body = Bytes::from(body);
            let mut response = Response::new(MockBody::truncated(body.slice(..full_len / 2)));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(full_len));
            response
        }
        Some(FaultKind::OversizedBody(size)) => json_response(StatusCode::OK, padded(body, size)),
        _ => json_response(StatusCode::OK, body),
    })
}

/// The longest an `execute-after-hangup` fault holds a request whose client stays connected
/// (it then executes and answers), and the longest another request waits for it.
const MAX_HOLD: Duration = Duration::from_secs(30);

/// A request held by an `execute-after-hangup` fault. It executes when it is dropped, which
/// is what hyper does to the service future when the client hangs up: the request is carried
/// out although nobody is left to answer.
struct HeldCall {
    shared: Arc<Shared>,
    method: Method,
    /// `None` once executed.
    parts: Option<hyper::http::request::Parts>,
    body: Bytes,
    peer: SocketAddr,
}

impl HeldCall {
    /// Waits for the client to hang up (then `Drop` executes the request), or at most
    /// [`MAX_HOLD`]: then executes and answers.
    async fn hold(mut self) -> Response<MockBody> {
        self.shared.held.send_modify(|count| *count += 1);
        tokio::time::sleep(MAX_HOLD).await;
        json_response(StatusCode::OK, self.execute())
    }

    fn execute(&mut self) -> Vec<u8> {
        let Some(parts) = self.parts.take() else {
            return Vec::new();
        };
        let call = ReceivedCall::new(
            self.method,
            &parts.uri,
            &parts.headers,
            &self.body,
            self.peer.ip(),
        );
        let answer = self.shared.simulator().handle(&call);
        self.shared
            .held
            .send_modify(|count| *count = count.saturating_sub(1));
        match answer {
            Ok(body) => {
                tracing::debug!(method = self.method.name(), peer = %self.peer, "prime-mock: executed (held)");
                body
            }
            Err(error) => {
                tracing::debug!(method = self.method.name(), peer = %self.peer, %error, "prime-mock: refused (held)");
                self.shared.error_body(&error)
            }
        }
    }
}

impl Drop for HeldCall {
    fn drop(&mut self) {
        if self.parts.is_some() {
            tracing::info!(
                method = self.method.name(),
                "prime-mock: the client hung up; executing the held request anyway"
            );
            self.execute();
        }
    }
}

/// The `Content-Length` a request declares, if it is a number.
fn declared_length(request: &Request<Incoming>) -> Option<u64> {
    request
        .headers()
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// `response` with `Connection: close`: the rest of the request is never read.
fn closing(mut response: Response<MockBody>) -> Response<MockBody> {
    response
        .headers_mut()
        .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// 408 for a body that did not arrive in time; the connection is closed.
fn request_timeout(shared: &Shared) -> Response<MockBody> {
    closing(json_response(
        StatusCode::REQUEST_TIMEOUT,
        shared.error_body(ErrorCode::InvalidArguments { field: None }.as_str()),
    ))
}

/// `body` (a JSON object) with a `"padding"` member added so it is about `size` bytes.
fn padded(mut body: Vec<u8>, size: usize) -> Vec<u8> {
    const MEMBER: &[u8] = b",\"padding\":\"\"";
    let size = size.min(FaultKind::MAX_OVERSIZED_BODY);
    if body.last() != Some(&b'}') || body.len() + MEMBER.len() >= size {
        return body;
    }
    let fill = size - body.len() - MEMBER.len();
    body.pop();
    body.reserve(MEMBER.len() + fill + 1);
    body.extend_from_slice(b",\"padding\":\"");
    body.resize(body.len() + fill, b'x');
    body.extend_from_slice(b"\"}");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_keeps_the_body_valid_json_of_the_asked_size() {
        let body = br#"{"error":[],"result":{"deleted":true}}"#.to_vec();
        let padded = padded(body.clone(), 10_000);
        assert_eq!(padded.len(), 10_000);
        let value: serde_json::Value = serde_json::from_slice(&padded).unwrap();
        assert_eq!(value["result"]["deleted"], true);
        assert_eq!(super::padded(body.clone(), 10), body);
    }
}
