//! What a transport author needs: the call driver, the receive buffer and transport errors.
//!
//! A transport moves the requests a [`Call`] signs and hands back what came of them; every
//! rule of a call (validate before spending a nonce, re-sign each attempt, never resend a
//! write that may have executed, back off, report outcome unknown) is the driver's. A complete
//! blocking transport is a loop of a few lines:
//!
//! ```no_run
//! use std::time::Instant;
//! use prime_core::transport::{ClientCore, Step};
//! use prime_core::{Endpoint, Error, Reply};
//! # fn send_over_the_wire(_: prime_core::http::Request<Vec<u8>>, _: std::time::Duration)
//! #     -> Result<(prime_core::http::StatusCode, prime_core::http::HeaderMap, Vec<u8>), prime_core::TransportError> {
//! #     Err(prime_core::transport::not_sent(prime_core::TransportErrorKind::Connect, "offline"))
//! # }
//!
//! fn send<E: Endpoint>(core: &ClientCore, endpoint: E) -> Result<Reply<E::Response>, Error> {
//!     let mut call = core.start(&endpoint, Instant::now())?;
//!     loop {
//!         // Signed now, unless the call's deadline has passed; the attempt's limit is the
//!         // per-attempt timeout cut to the time left.
//!         let now = Instant::now();
//!         let request = call.request_at(now)?;
//!         let step = match send_over_the_wire(request, call.attempt_timeout(now)) {
//!             Ok((status, headers, body)) => call.on_response(Instant::now(), status, &headers, &body),
//!             Err(failure) => call.on_transport_error(Instant::now(), failure),
//!         };
//!         match step {
//!             Step::Done(reply) => return Ok(reply),
//!             Step::Stop(error) => return Err(error),
//!             Step::Retry { after } => std::thread::sleep(after),
//!         }
//!     }
//! }
//! ```
//!
//! # Two outputs: `http::Request` or HTTP/1.1 bytes
//!
//! [`Call::request`] signs the next attempt into an `http::Request<Vec<u8>>`, what hyper and
//! ureq consume. A transport that writes HTTP/1.1 to its own socket takes
//! [`Call::request_bytes`] instead: the same attempt (a fresh nonce, signed now, every rule
//! of the call unchanged) written as the complete request into a buffer the transport keeps,
//! with no allocation once the buffer has grown. The bytes are what a plain HTTP/1.1 writer
//! makes of the `http::Request`: request line, `host`, the four headers in the same order,
//! `content-length`, the body. There is no `Connection` header: the connection stays open
//! (HTTP/1.1's default), so the transport reads the response by its length (or its chunks),
//! not until the server closes.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use prime_core::endpoints::ListApiUsers;
//! use prime_core::transport::ClientCore;
//! use prime_core::{CountingNonce, Credentials, Settings};
//!
//! let credentials = Credentials::new("KRA5L19LAW8Z", prime_core::example::SECRET)?;
//! let settings = Settings::default()
//!     .base_url("http://127.0.0.1:8080")
//!     .user_agent("desk/1.0")
//!     .nonce_source(Arc::new(CountingNonce::starting_at(1616492376594)));
//! let core = ClientCore::new(credentials, &settings)?;
//! let endpoint = ListApiUsers::new();
//! let mut call = core.start(&endpoint, Instant::now())?;
//!
//! let mut buf = Vec::with_capacity(512); // kept and reused by the transport
//! call.request_bytes(&mut buf)?;
//! // The signature is cross-checked with Python's hmac/hashlib for this nonce and body.
//! assert_eq!(
//!     String::from_utf8(buf)?,
//!     "POST /0/private/ListPrimeApiUsers HTTP/1.1\r\n\
//!      host: 127.0.0.1:8080\r\n\
//!      content-type: application/json\r\n\
//!      user-agent: desk/1.0\r\n\
//!      api-key: KRA5L19LAW8Z\r\n\
//!      api-sign: XLGGWFb8g4TYNzuMWfmVvGq3JYiEgSzvedsR/lx5nl9jqHaoC2N+7SOskLPeleiprOlb0kaflZUIDvB5JlMvEQ==\r\n\
//!      content-length: 23\r\n\
//!      \r\n\
//!      {\"nonce\":1616492376594}"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What stays the transport's: the connection, TLS, applying the timeouts
//! ([`Call::attempt_timeout`], [`ClientCore::connect_timeout`]; the driver decides the
//! overall deadline, [`Settings::deadline`](crate::Settings::deadline), and a transport only
//! bounds its waits by [`Call::deadline`]), reading the body into [`ClientCore::body_buffer`] so an
//! oversized one is cut at the cap, keeping one request in flight unless
//! [`ClientCore::concurrent_sends`], and telling *not sent* from *maybe sent* when a request
//! fails ([`not_sent`], [`maybe_sent`]). When in doubt, say *maybe sent*: wrongly saying
//! "not sent" could execute a write twice, wrongly saying "maybe sent" only costs a retry.
//! `examples/tcp_transport.rs` in the repository is a whole transport in one short file, on
//! the bytes output.

use std::error::Error as StdError;

mod body_buffer;
mod call;
mod client_methods;
mod error;
mod error_kind;
mod retry;
mod settings;

pub use body_buffer::BodyBuffer;
pub use call::{Call, ClientCore, Step};
pub use error::{Delivery, Error, TransportError, TransportErrorKind};
pub use error_kind::{ErrorKind, RetryWait};
pub use retry::{Attempt, RetryDecision, RetryPolicy, RetryReason};
pub use settings::{
    BuildError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Settings,
};

/// A failure before any byte of the request was written (name resolution, connect, TLS
/// handshake): any call may be sent again.
pub fn not_sent(
    kind: TransportErrorKind,
    source: impl Into<Box<dyn StdError + Send + Sync>>,
) -> TransportError {
    TransportError::new(Delivery::NotSent, kind, source)
}

/// A failure once the request may have been written: the server may have executed it.
pub fn maybe_sent(
    kind: TransportErrorKind,
    source: impl Into<Box<dyn StdError + Send + Sync>>,
) -> TransportError {
    TransportError::new(Delivery::MaybeSent, kind, source)
}
