//! The call driver: the rules of one call as a state machine, with no IO.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, Request, StatusCode};
use tracing::field::Empty;

use super::body_buffer::BodyBuffer;
use super::error::{Delivery, Error, TransportError, TransportErrorKind};
use super::nonce_refusal::{NonceRefusal, NonceUnitMismatch};
use super::retry::{Attempt, RetryDecision, RetryPolicy};
use super::send_order::{SendOrder, SendTurn};
use super::settings::{BuildError, Settings};
use crate::auth::NonceSource;
use crate::auth::{ApiKey, Credentials};
use crate::endpoints::Endpoint;
use crate::wire::RequestBuilder;
use crate::wire::{Reply, ResponseError, parse_response};

/// What every call of one client shares: credentials, the validated [`Settings`] and the nonce
/// source. A transport builds one and starts a [`Call`] from it for each request.
///
/// ```
/// use prime_core::transport::ClientCore;
/// use prime_core::{Credentials, Settings};
///
/// let credentials = Credentials::new(
///     "KRA5L19LAW8Z",
///     "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
/// )?;
/// let core = ClientCore::new(credentials, &Settings::default().base_url("http://127.0.0.1:1"))?;
/// assert_eq!(core.base_url(), "http://127.0.0.1:1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ClientCore {
    credentials: Credentials,
    requests: RequestBuilder,
    nonces: Arc<dyn NonceSource>,
    retry: RetryPolicy,
    timeout: Duration,
    deadline: Option<Duration>,
    connect_timeout: Duration,
    max_response_bytes: usize,
    concurrent_sends: bool,
    send_order: Option<Arc<dyn SendOrder>>,
    /// Until when calls are held off after a rate limit or lockout, and Kraken's refusal.
    held_off: Mutex<Option<HeldOff>>,
}

/// A rate limit or lockout the client stopped on: no call is sent before `until`.
struct HeldOff {
    until: Instant,
    refusal: ResponseError,
}

impl ClientCore {
    /// Validates `settings` for a client signing with `credentials`. Logs a warning when
    /// requests would go over plain HTTP to a host other than loopback.
    ///
    /// # Errors
    /// [`BuildError`] naming the refused setting (see [`Settings::validate`]).
    pub fn new(credentials: Credentials, settings: &Settings) -> Result<Self, BuildError> {
        let requests = settings.validate()?;
        if requests.is_plaintext_remote() {
            tracing::warn!(
                base_url = requests.base_url(),
                "sending Prime requests over plain HTTP"
            );
        }
        Ok(Self {
            credentials,
            requests,
            nonces: settings.nonces_or_clock(),
            retry: settings.retry.clone(),
            timeout: settings.timeout,
            deadline: settings.deadline,
            connect_timeout: settings.connect_timeout,
            max_response_bytes: settings.max_response_bytes,
            concurrent_sends: settings.concurrent_sends,
            send_order: settings
                .send_order
                .clone()
                .filter(|_| !settings.concurrent_sends),
            held_off: Mutex::new(None),
        })
    }

    /// Starts a call of `endpoint` at `now`, bounded by the configured
    /// [`Settings::deadline`] if there is one.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the endpoint's arguments are invalid: refused before a
    /// nonce is spent or anything is signed, so a transport should start the call before it
    /// takes its turn to send.
    ///
    /// [`ResponseError::Limited`] while the client holds off after a rate limit or lockout:
    /// when a call of this client stopped on one (the default [`RetryPolicy`]), no call of
    /// any endpoint is sent until the recommended wait is over, since Kraken keeps a limit in
    /// force longer for calls made while it lasts. The error repeats Kraken's refusal with
    /// the wait that is left; nothing was sent.
    pub fn start<'a, E: Endpoint>(
        &'a self,
        endpoint: &'a E,
        now: Instant,
    ) -> Result<Call<'a, E>, Error> {
        self.start_within(endpoint, now, self.deadline)
    }

    /// As [`ClientCore::start`], with this call's own overall deadline (`None`: unbounded)
    /// instead of the configured one.
    ///
    /// # Errors
    /// As [`ClientCore::start`].
    pub fn start_within<'a, E: Endpoint>(
        &'a self,
        endpoint: &'a E,
        now: Instant,
        deadline: Option<Duration>,
    ) -> Result<Call<'a, E>, Error> {
        endpoint.validate()?;
        if let Some(held_off) = self.held_off_at(now) {
            return Err(held_off);
        }
        let span = tracing::info_span!(
            "prime_call",
            endpoint = E::NAME,
            attempts = Empty,
            outcome = Empty,
            elapsed_ms = Empty,
        );
        Ok(Call {
            core: self,
            endpoint,
            attempt: Attempt::first(),
            started: now,
            deadline: deadline.and_then(|d| now.checked_add(d)),
            last_nonce: 0,
            shared_turn: None,
            state: State::Ready,
            span,
        })
    }

    /// An empty receive buffer for a response body, capped at the configured size.
    ///
    /// # Errors
    /// [`TransportErrorKind::BodyTooLarge`](super::error::TransportErrorKind::BodyTooLarge) when the
    /// announced `Content-Length` already exceeds the cap.
    pub fn body_buffer(&self, content_length: Option<u64>) -> Result<BodyBuffer, TransportError> {
        BodyBuffer::new(self.max_response_bytes, content_length)
    }

    /// The error a call started at `now` gets while the client holds off.
    fn held_off_at(&self, now: Instant) -> Option<Error> {
        let mut held_off = self.held_off.lock().unwrap_or_else(PoisonError::into_inner);
        let wait = held_off
            .as_ref()
            .map(|h| h.until.saturating_duration_since(now))?;
        if wait.is_zero() {
            *held_off = None;
            return None;
        }
        let refusal = held_off.as_ref().map(|h| h.refusal.clone())?;
        Some(Error::Response(ResponseError::Limited {
            wait,
            refusal: Box::new(refusal),
        }))
    }

    /// Holds off every call until `until` (a later hold wins).
    fn hold_off(&self, until: Instant, refusal: &ResponseError) {
        let mut held_off = self.held_off.lock().unwrap_or_else(PoisonError::into_inner);
        if held_off.as_ref().is_none_or(|h| h.until < until) {
            *held_off = Some(HeldOff {
                until,
                refusal: refusal.clone(),
            });
        }
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.requests.base_url()
    }

    /// The public key calls are signed for.
    pub fn api_key(&self) -> &ApiKey {
        self.credentials.api_key()
    }

    /// Limit for one attempt, from its turn to send to the last body byte. A call with a
    /// deadline cuts it to the time left: use [`Call::attempt_timeout`].
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The configured overall bound of a call ([`Settings::deadline`]), if any.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Limit for resolving, connecting and the TLS handshake of a new connection.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Cap on a response body in bytes.
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// Whether requests may be signed and sent concurrently. When `false` the transport keeps
    /// one request in flight per client, from [`Call::request`] until its response head, so
    /// nonces reach Kraken in the order they were issued.
    pub fn concurrent_sends(&self) -> bool {
        self.concurrent_sends
    }

    /// The send order shared beyond this client ([`Settings::send_order`]), unless requests
    /// are sent concurrently. The transport takes a turn of it inside its own send order, and
    /// signs with [`Call::request_in_turn_at`].
    pub fn send_order(&self) -> Option<&Arc<dyn SendOrder>> {
        self.send_order.as_ref()
    }
}

impl fmt::Debug for ClientCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCore")
            .field("base_url", &self.base_url())
            .field("api_key", self.credentials.api_key())
            .field("concurrent_sends", &self.concurrent_sends)
            .field("send_order", &self.send_order)
            .finish_non_exhaustive()
    }
}

/// One call of one endpoint, from its first signed request to its result: the retry, resend
/// and outcome rules as a state machine with inputs and outputs and no IO.
///
/// A transport loops:
///
/// 1. **output** [`Call::request`]: a request signed now, with a fresh nonce (or
///    [`Call::request_bytes`]: the same request as HTTP/1.1 bytes in the transport's buffer);
/// 2. sends it, then **input** [`Call::on_response`] with the status, headers and body, or
///    [`Call::on_transport_error`] if it failed below HTTP (saying whether the request was
///    certainly *not sent* or *maybe sent*);
/// 3. follows the [`Step`] that input returns: [`Step::Done`] with the typed result,
///    [`Step::Stop`] with the typed error, or [`Step::Retry`]: wait, then go to 1.
///
/// Time is a parameter (`now`), used for the elapsed time the call reports. Delays come from
/// [`RetryPolicy::decide_at`], jittered by a value derived from the call's own nonces, so the
/// driver needs no random source and stays deterministic under test. The wall-clock time a
/// throttle (`EService: Throttled: <ts>`) is measured against is the response's own `Date`
/// header; without one, a timed throttle is not retried.
///
/// The rules it keeps: arguments are checked before a nonce is spent
/// ([`ClientCore::start`]); every attempt is signed afresh; a call that is not idempotent is
/// never sent again once it may have reached the server, and then stops with an error for which
/// [`Error::is_outcome_unknown`] holds; `EAPI:Invalid nonce` gets one re-signed resend; a rate
/// limit or lockout is not called into again unless the policy waits it out, and otherwise
/// stops with [`ResponseError::Limited`] carrying the recommended wait.
///
/// Each call has a `tracing` span (`prime_call`) with the fields `endpoint`, `attempts`,
/// `outcome` and `elapsed_ms`, never a secret, signature or body; transports run their IO
/// inside it ([`Call::span`]).
///
/// ```
/// use std::time::Instant;
/// use prime_core::endpoints::ListApiUsers;
/// use prime_core::http::{HeaderMap, StatusCode};
/// use prime_core::transport::{ClientCore, Step};
/// use prime_core::{Credentials, Settings};
///
/// let core = ClientCore::new(Credentials::new(
///     "KEY",
///     "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
/// )?, &Settings::default())?;
/// let endpoint = ListApiUsers::new();
/// let mut call = core.start(&endpoint, Instant::now())?;
///
/// let request = call.request()?;
/// assert_eq!(request.uri().path(), "/0/private/ListPrimeApiUsers");
/// // ... send it; the server answers 502 (an idempotent read: retried) ...
/// let step = call.on_response(Instant::now(), StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>");
/// assert!(matches!(step, Step::Retry { .. }));
/// // ... wait as told, sign again, send; this time the answer is a result.
/// let _again = call.request()?;
/// let body = br#"{"error":[],"result":{"data":[]}}"#;
/// match call.on_response(Instant::now(), StatusCode::OK, &HeaderMap::new(), body) {
///     Step::Done(reply) => assert!(reply.result.data.is_empty()),
///     other => panic!("expected a result, got {other:?}"),
/// }
/// assert_eq!(call.attempts(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Call<'a, E: Endpoint> {
    core: &'a ClientCore,
    endpoint: &'a E,
    attempt: Attempt,
    started: Instant,
    /// When the call's overall deadline passes, if it has one.
    deadline: Option<Instant>,
    /// The nonce of the latest signed request; seeds the retry jitter.
    last_nonce: u64,
    /// What the shared send order said when the latest request was signed in a turn of it:
    /// the key's floor then, and whether another process had just held it.
    shared_turn: Option<(u64, bool)>,
    state: State,
    span: tracing::Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The next attempt may be signed.
    Ready,
    /// A request was signed and its outcome is awaited.
    InFlight,
    /// The call has its result or its error.
    Finished,
}

/// What a transport does next, as [`Call`]'s inputs answer.
#[derive(Debug)]
#[must_use]
pub enum Step<T> {
    /// The call succeeded: its result and any warnings (already logged).
    Done(Reply<T>),
    /// Wait `after`, then send the request [`Call::request`] signs (signed only then, so its
    /// nonce is fresh when it leaves).
    Retry {
        /// How long to wait first.
        after: Duration,
    },
    /// The call failed for good; [`Error::is_outcome_unknown`] says whether it may have been
    /// executed.
    Stop(Error),
}

impl<'a, E: Endpoint> Call<'a, E> {
    /// **Output**: the next request, signed now with a fresh nonce, if the call's deadline
    /// has not passed at `now` (its turn to send). Transports call this one.
    ///
    /// # Errors
    /// As [`Call::request`]; and once the deadline has passed, the call stops with a
    /// [`TransportErrorKind::Deadline`](super::error::TransportErrorKind::Deadline) error that
    /// is *not sent* (nothing was signed for this attempt).
    pub fn request_at(&mut self, now: Instant) -> Result<Request<Vec<u8>>, Error> {
        self.check_deadline(now)?;
        self.request()
    }

    /// **Output**: as [`Call::request_bytes`], but first checks the overall deadline at `now`,
    /// as [`Call::request_at`] does.
    ///
    /// # Errors
    /// As [`Call::request_at`].
    pub fn request_bytes_at(&mut self, now: Instant, buf: &mut Vec<u8>) -> Result<(), Error> {
        self.check_deadline(now)?;
        self.request_bytes(buf)
    }

    /// A call whose deadline has passed finishes *not sent* before anything is signed.
    fn check_deadline(&mut self, now: Instant) -> Result<(), Error> {
        if self.state != State::Finished && self.time_left(now) == Some(Duration::ZERO) {
            let late = TransportError::from_kind(
                Delivery::NotSent,
                super::error::TransportErrorKind::Deadline,
            );
            return Err(self.finish_failed(now, Error::Transport(late)));
        }
        Ok(())
    }

    /// **Output**: the next request, signed now with a fresh nonce from the client's source,
    /// without looking at the deadline (see [`Call::request_at`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the call already finished (a transport bug), if the
    /// endpoint cannot be encoded, or if the client has a [`ClientCore::send_order`] (sign
    /// with [`Call::request_in_turn_at`] then).
    pub fn request(&mut self) -> Result<Request<Vec<u8>>, Error> {
        self.next_attempt(None, |requests, endpoint, credentials, nonce| {
            requests.build(endpoint, credentials, nonce)
        })
    }

    /// **Output**: the next request, signed now inside `turn` of the client's
    /// [`SendOrder`], if the call's deadline has not passed at `now` (check it once the turn
    /// is yours: waiting for it takes time). Its nonce is the larger of the source's next and
    /// the turn's floor + 1, and is recorded in the turn before this returns, so the request
    /// may leave.
    ///
    /// # Errors
    /// As [`Call::request_at`]; also [`Error::NonceUnitMismatch`] when the key's recorded
    /// nonces count in another unit than this client's (nothing is recorded or signed), and a
    /// [`TransportError`] with [`TransportErrorKind::SendOrder`] (not sent) when the nonce
    /// could not be recorded.
    pub fn request_in_turn_at(
        &mut self,
        now: Instant,
        turn: &mut dyn SendTurn,
    ) -> Result<Request<Vec<u8>>, Error> {
        self.check_deadline(now)?;
        self.next_attempt(Some(turn), |requests, endpoint, credentials, nonce| {
            requests.build(endpoint, credentials, nonce)
        })
    }

    /// **Output**: the next request as HTTP/1.1 bytes, written into `buf` (replacing what it
    /// held), for a transport that writes to its own socket. The same attempt as
    /// [`Call::request`] — a fresh nonce, signed now — and the same bytes a plain HTTP/1.1
    /// writer makes of that request; once `buf` has grown, no allocation
    /// ([`RequestBuilder::build_http1`]).
    ///
    /// # Errors
    /// As [`Call::request`].
    pub fn request_bytes(&mut self, buf: &mut Vec<u8>) -> Result<(), Error> {
        self.next_attempt(None, |requests, endpoint, credentials, nonce| {
            requests.build_http1(endpoint, credentials, nonce, buf)
        })
    }

    /// **Output**: the next request as HTTP/1.1 bytes ([`Call::request_bytes`]), signed inside
    /// `turn` of the client's [`SendOrder`] if the deadline has not passed at `now`
    /// ([`Call::request_in_turn_at`]).
    ///
    /// # Errors
    /// As [`Call::request_in_turn_at`].
    pub fn request_bytes_in_turn_at(
        &mut self,
        now: Instant,
        turn: &mut dyn SendTurn,
        buf: &mut Vec<u8>,
    ) -> Result<(), Error> {
        self.check_deadline(now)?;
        self.next_attempt(Some(turn), |requests, endpoint, credentials, nonce| {
            requests.build_http1(endpoint, credentials, nonce, buf)
        })
    }

    /// The one path to the next attempt, whichever output it is signed into: refused once
    /// the call finished, a fresh nonce (inside the turn, when the order is shared), then in
    /// flight.
    fn next_attempt<T>(
        &mut self,
        turn: Option<&mut dyn SendTurn>,
        sign: impl FnOnce(
            &RequestBuilder,
            &E,
            &Credentials,
            u64,
        ) -> Result<T, crate::endpoints::ArgumentError>,
    ) -> Result<T, Error> {
        if self.state == State::Finished {
            return Err(crate::endpoints::ArgumentError::new(
                "call",
                "this call has finished; start a new one",
            )
            .into());
        }
        let nonce = self.take_nonce(turn)?;
        let signed = sign(
            &self.core.requests,
            self.endpoint,
            &self.core.credentials,
            nonce,
        )?;
        self.last_nonce = nonce;
        self.state = State::InFlight;
        Ok(signed)
    }

    /// The nonce for the next attempt: the source's next, raised above the floor of the
    /// shared send order's turn (and recorded in it) when there is one.
    fn take_nonce(&mut self, turn: Option<&mut dyn SendTurn>) -> Result<u64, Error> {
        let Some(turn) = turn else {
            if self.core.send_order.is_some() {
                // A transport that ignored the shared order would break it silently.
                return Err(crate::endpoints::ArgumentError::new(
                    "send_order",
                    "this client shares a send order: the transport must take a turn of it and sign with `Call::request_in_turn_at` or `Call::request_bytes_in_turn_at`",
                )
                .into());
            }
            self.shared_turn = None;
            return Ok(self.core.nonces.next_nonce());
        };
        let from_source = self.core.nonces.next_nonce();
        let floor = turn.floor();
        if let Some(mismatch) = self
            .core
            .nonces
            .unit()
            .and_then(|unit| NonceUnitMismatch::check(floor, unit))
        {
            return Err(mismatch.into());
        }
        let nonce = from_source.max(floor.saturating_add(1));
        turn.record(nonce).map_err(|e| {
            Error::Transport(TransportError::new(
                Delivery::NotSent,
                TransportErrorKind::SendOrder,
                e,
            ))
        })?;
        self.shared_turn = Some((floor, turn.waited_for_another()));
        Ok(nonce)
    }

    /// **Input**: the server answered `status` with `headers` and the whole `body` (read into
    /// the capped buffer of [`ClientCore::body_buffer`]).
    pub fn on_response(
        &mut self,
        now: Instant,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Step<E::Response> {
        match parse_response::<E::Response>(status, headers, body) {
            Ok(reply) => self.finish(now, Ok(reply)),
            Err(refused) => {
                // A throttle names the Unix second after which to try again; the server's
                // own `Date` says how far away that is, free of any skew of the local clock
                // (and the core reads no clock).
                let server_time = headers
                    .get(http::header::DATE)
                    .and_then(|date| date.to_str().ok())
                    .and_then(|date| httpdate::parse_http_date(date).ok());
                self.failed_at(now, Error::Response(refused), server_time)
            }
        }
    }

    /// **Input**: the request failed below HTTP. The transport says, through
    /// [`TransportError::delivery`], whether it was certainly not sent or may have been.
    ///
    /// If the failure kept body bytes ([`TransportError::with_received`]) that hold a created
    /// key's one-time secret, the call stops with [`ResponseError::KeyCreated`]: the key
    /// exists, and its secret is delivered rather than lost to an unknown outcome.
    pub fn on_transport_error(
        &mut self,
        now: Instant,
        mut error: TransportError,
    ) -> Step<E::Response> {
        // A timeout that ran into the deadline is the deadline's: say so.
        if error.kind() == super::error::TransportErrorKind::Timeout
            && self.time_left(now) == Some(Duration::ZERO)
        {
            error = error.with_kind(super::error::TransportErrorKind::Deadline);
        }
        self.failed(now, Error::from_transport(error))
    }

    /// **Input**: one attempt's outcome as a transport usually holds it — the response head
    /// and its body read into [`ClientCore::body_buffer`], or the failure below HTTP. The same
    /// as [`Call::on_response`] or [`Call::on_transport_error`].
    pub fn on_attempt(
        &mut self,
        now: Instant,
        outcome: Result<(http::response::Parts, BodyBuffer), TransportError>,
    ) -> Step<E::Response> {
        match outcome {
            Ok((head, body)) => self.on_response(now, head.status, &head.headers, body.as_bytes()),
            Err(failure) => self.on_transport_error(now, failure),
        }
    }

    /// The time left before the call's overall deadline at `now` (zero once it has passed), or
    /// `None` if the call has none.
    pub fn time_left(&self, now: Instant) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(now))
    }

    /// When the call's overall deadline passes, if it has one: a transport bounds its waits
    /// (for the send order, for a connection) by it.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The limit for an attempt starting at `now`: the per-attempt timeout, cut to the time
    /// left before the deadline.
    pub fn attempt_timeout(&self, now: Instant) -> Duration {
        match self.time_left(now) {
            Some(left) => left.min(self.core.timeout),
            None => self.core.timeout,
        }
    }

    /// The call's span; a transport runs its IO inside it.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// How many requests have been signed so far.
    pub fn attempts(&self) -> u32 {
        match self.state {
            State::Ready => self.attempt.number() - 1,
            State::InFlight | State::Finished => self.attempt.number(),
        }
    }

    fn failed(&mut self, now: Instant, failure: Error) -> Step<E::Response> {
        self.failed_at(now, failure, None)
    }

    /// As `failed`, with the server's time when its answer carried one (for throttles).
    fn failed_at(
        &mut self,
        now: Instant,
        failure: Error,
        server_time: Option<SystemTime>,
    ) -> Step<E::Response> {
        let jitter = jitter(self.last_nonce, self.attempt.number());
        let decision = match server_time {
            Some(server_time) => self.core.retry.decide_at(
                E::IDEMPOTENCY,
                &failure,
                self.attempt,
                jitter,
                server_time,
            ),
            None => self
                .core
                .retry
                .decide(E::IDEMPOTENCY, &failure, self.attempt, jitter),
        };
        // No retry whose wait would end at or past the deadline: the call stops with what
        // failed last.
        let in_time = |after: Duration| self.time_left(now).is_none_or(|left| after < left);
        match decision {
            RetryDecision::Retry { after, reason }
                if self.state == State::InFlight && in_time(after) =>
            {
                let _inside = self.span.enter();
                tracing::debug!(
                    attempt = self.attempt.number(),
                    ?reason,
                    ?after,
                    // For programs that announce long waits (a number, not Debug text).
                    after_ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
                    error = %failure,
                    "retrying"
                );
                self.attempt = self.attempt.next(&decision);
                self.state = State::Ready;
                Step::Retry { after }
            }
            // The deadline, not the policy, ends the call: a transport failure says so (its
            // delivery unchanged); a server's answer stays as it came (a rate limit as
            // `Limited`, with its wait).
            RetryDecision::Retry { .. } if self.state == State::InFlight => {
                let failure = match failure {
                    Error::Transport(t) => {
                        Error::Transport(t.with_kind(super::error::TransportErrorKind::Deadline))
                    }
                    other => self.limited(now, other),
                };
                self.finish(now, Err(failure))
            }
            _ => {
                let failure = self.explained(self.limited(now, failure));
                self.finish(now, Err(failure))
            }
        }
    }

    /// A refused nonce as [`Error::NonceRefused`], with what this call knew; any other
    /// failure (a lockout beside the nonce refusal included) as it is.
    fn explained(&self, failure: Error) -> Error {
        let Error::Response(response) = failure else {
            return failure;
        };
        // A lockout beside an invalid nonce stays a lockout: its wait comes first, and the
        // refusal inside it still names the nonce.
        if matches!(response, ResponseError::Limited { .. }) {
            return Error::Response(response);
        }
        match NonceRefusal::new(response, self.last_nonce, self.core.nonces.unit()) {
            Ok(refusal) => {
                let refusal = refusal.with_concurrent_sends(self.core.concurrent_sends);
                Error::NonceRefused(Box::new(match self.shared_turn {
                    Some((floor, waited)) => refusal.with_shared_order(floor, waited),
                    None => refusal,
                }))
            }
            Err(response) => Error::Response(response),
        }
    }

    /// A rate-limit or lockout refusal the policy stops on, as [`ResponseError::Limited`]
    /// with the wait the policy recommends, and the client holds off until it is over; any
    /// other failure as it is.
    fn limited(&self, now: Instant, failure: Error) -> Error {
        let Some(wait) = self.core.retry.recommended_wait(&failure) else {
            return failure;
        };
        match failure {
            Error::Response(refusal) if !matches!(refusal, ResponseError::Limited { .. }) => {
                let _inside = self.span.enter();
                // Debug, not warn: the error the caller gets says all of it.
                tracing::debug!(
                    wait_s = wait.as_secs_f64(),
                    error = %refusal,
                    "rate limited or locked out: not calling again"
                );
                // A caller who opted in to waiting limits out is not held off: each call waits
                // for itself.
                if !self.core.retry.wait_out_limits {
                    self.core.hold_off(later(now, wait), &refusal);
                }
                Error::Response(ResponseError::Limited {
                    wait,
                    refusal: Box::new(refusal),
                })
            }
            failure => failure,
        }
    }

    fn finish(
        &mut self,
        now: Instant,
        outcome: Result<Reply<E::Response>, Error>,
    ) -> Step<E::Response> {
        match outcome {
            Ok(reply) => {
                self.record_finish(now, "ok");
                let _inside = self.span.enter();
                for warning in &reply.warnings {
                    tracing::warn!(endpoint = E::NAME, %warning, "Kraken returned a warning");
                }
                tracing::debug!(attempts = self.attempt.number(), "call succeeded");
                Step::Done(reply)
            }
            Err(error) => Step::Stop(self.finish_failed(now, error)),
        }
    }

    /// Finishes the call with `error`, and hands it back.
    fn finish_failed(&mut self, now: Instant, error: Error) -> Error {
        let label = outcome_label(&error);
        self.record_finish(now, label);
        let _inside = self.span.enter();
        tracing::debug!(attempts = self.attempt.number(), outcome = label, %error, "call failed");
        error
    }

    fn record_finish(&mut self, now: Instant, label: &'static str) {
        self.state = State::Finished;
        let elapsed = now.saturating_duration_since(self.started);
        self.span.record("attempts", self.attempt.number());
        self.span.record("outcome", label);
        self.span.record(
            "elapsed_ms",
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        );
    }
}

/// A call dropped between signing a request and learning what came of it (its future was
/// dropped, e.g. by `tokio::time::timeout` or a `select!`): the request may have been
/// executed. Nothing is resent; the span's `outcome` says `dropped`, and a write logs a
/// warning, so the unknown outcome is on record even though no caller can be told.
impl<E: Endpoint> Drop for Call<'_, E> {
    fn drop(&mut self) {
        if self.state != State::InFlight {
            return;
        }
        self.span.record("attempts", self.attempt.number());
        self.span.record("outcome", "dropped");
        let _inside = self.span.enter();
        if E::IDEMPOTENCY == crate::endpoints::Idempotency::NonIdempotent {
            tracing::warn!(
                endpoint = E::NAME,
                "call dropped after its request was signed: it may have been executed \
                 (outcome unknown; reconcile before doing it again)"
            );
        } else {
            tracing::debug!(endpoint = E::NAME, "call dropped while in flight");
        }
    }
}

impl<E: Endpoint> fmt::Debug for Call<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("endpoint", &E::NAME)
            .field("attempts", &self.attempts())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// `now + wait`, or as far as an `Instant` goes for a wait too long to add.
fn later(now: Instant, wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(wait)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

/// The `outcome` a failed call reports in its span.
fn outcome_label(error: &Error) -> &'static str {
    match error {
        Error::InvalidArgument(_) => "invalid_argument",
        Error::Transport(t) if t.delivery() == Delivery::NotSent => "not_sent",
        Error::Transport(_) => "outcome_unknown",
        Error::Response(ResponseError::Api { .. }) => "kraken_error",
        Error::Response(ResponseError::Status { .. }) => "http_status",
        Error::Response(ResponseError::Limited { .. }) => "limited",
        Error::Response(_) => "bad_response",
        Error::NonceRefused(_) => "kraken_error",
        Error::NonceUnitMismatch(_) => "invalid_argument",
    }
}

/// A jitter in `[0, 1)` from the call's latest nonce and attempt (splitmix64): nonces differ
/// between calls and clients, which is all spreading retries needs, and it keeps the driver
/// free of a random source.
fn jitter(nonce: u64, attempt: u32) -> f64 {
    let mut z = nonce ^ (u64::from(attempt) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // The top 53 bits as a fraction: exactly representable, always below 1.
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::jitter;

    #[test]
    fn jitter_stays_in_the_unit_interval_and_varies() {
        let values: Vec<f64> = (0..1000)
            .map(|n| jitter(1_700_000_000_000 + n, 1))
            .collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        let low = values.iter().filter(|v| **v < 0.5).count();
        assert!((400..600).contains(&low), "{low} of 1000 below 0.5");
        assert_ne!(jitter(u64::MAX, u32::MAX), jitter(0, 0));
    }
}
