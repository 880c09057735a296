//! The sans-IO core of a [Kraken Prime REST API](https://docs.kraken.com/api-reference/) client.
//!
//! **In scope:** credentials and their secrets, nonces, `API-Sign` signing, one typed request
//! per endpoint ([`endpoints`]), building complete signed [`http::Request`]s (or the same
//! request as HTTP/1.1 bytes in a buffer the caller reuses), parsing
//! `(status, headers, body)` into typed results or typed errors, and the retry decision.
//!
//! **Out of scope:** sockets, TLS, threads, async runtimes, clocks inside signing, sleeping.
//! Every input is a parameter and every output a value, so the core embeds in any runtime and
//! is byte-exact testable. `prime-blocking` (ureq) and `prime-async` (hyper) move the bytes;
//! `prime-mock` is a simulator that verifies them.
//!
//! # The protocol
//!
//! Every call is `POST /0/private/<Name>` with a JSON body that starts with the nonce, and
//! `API-Sign = base64(HMAC-SHA512(base64decode(secret), path ++ SHA256(nonce ++ body)))` over the
//! exact body bytes sent. Responses are `{"error": [...], "result": ...}`. Every fact of the
//! protocol the code relies on is listed with the Kraken page it comes from in
//! [`docs/spec/protocol.md`](https://github.com/kraken-prime/kraken-prime/blob/main/docs/spec/protocol.md),
//! beside the Prime REST spec.
//!
//! # Request → bytes → response
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use prime_core::endpoints::CreateApiUserKey;
//! use prime_core::{Credentials, Endpoint, RequestBuilder, parse_response};
//!
//! let secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
//! let credentials = Credentials::new("KRA5L19LAW8Z", secret)?;
//! let endpoint = CreateApiUserKey::new("2T0RXL9B8K5D6");
//!
//! // Build: the nonce is a parameter, the body is serialized once and signed as sent.
//! let request = RequestBuilder::new().build(&endpoint, &credentials, 1616492376594)?;
//! assert_eq!(request.uri(), "https://api.kraken.com/0/private/CreatePrimeApiUserKey");
//! assert_eq!(request.body(), br#"{"nonce":1616492376594,"user_id":"2T0RXL9B8K5D6"}"#);
//! assert_eq!(
//!     request.headers()["API-Sign"],
//!     "Odms2WiIx3jcXvDagtr5k9m0cRSYMCm/IUVaBgEt06WS88u15Nig4QHpAn4E8FC/0dfWxpaP5SNGkUCCmnO2kA=="
//! );
//!
//! // Parse: the result is typed, and the one-time secret is a secret type from here on.
//! let body = br#"{"error":[],"result":{"id":"3RM9K4ZTC0C00","api_key":"KRA5L19LAW8Z",
//!     "api_secret":"c2VjcmV0","user_id":"2T0RXL9B8K5D6","permissions":["read::marketdata"],
//!     "whitelisted_ips":["192.168.1.1"]}}"#;
//! let reply = parse_response::<<CreateApiUserKey as Endpoint>::Response>(
//!     StatusCode::OK,
//!     &HeaderMap::new(),
//!     body,
//! )?;
//! let key = reply.result;
//! assert_eq!(key.api_key, "KRA5L19LAW8Z");
//! assert_eq!(key.api_secret().expose(), "c2VjcmV0");
//! assert!(!format!("{key:?}").contains("c2VjcmV0"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layers
//!
//! One folder per layer, each importing only the layers below it: `auth` (credentials,
//! secrets, nonces, signing) → [`endpoints`] (the 13 request and result types and the
//! endpoint table) → `wire` (signed requests, parsed responses, Kraken's error codes) →
//! [`transport`] (the call driver, retry policy, settings) → [`workflow`] (multi-call state
//! machines); [`issued`] (issued keys on WebSocket and FIX) stands on `auth` alone.
//!
//! # Modules
//!
//! - [`Credentials`], [`SigningKey`], [`ApiSecret`]: secret material, zeroized, never printed.
//! - [`NonceSource`], [`ClockNonce`]: strictly increasing nonces.
//! - [`Endpoint`], [`endpoints`]: the 13 endpoints as data.
//! - [`RequestBuilder`]: signed `http::Request<Vec<u8>>`, or the same request as HTTP/1.1
//!   bytes without an allocation ([`RequestBuilder::build_http1`], [`WriteRequestError`]) for
//!   transports that write to their own socket.
//! - [`parse_response`], [`ResponseError`], [`KrakenError`]: typed results and failures;
//!   [`Error::kind`] ([`ErrorKind`]), [`Error::kraken_codes`], [`Error::is_retryable`]:
//!   a failure matched in one step.
//! - [`issued`], [`IssuedCredentials`]: issued keys on Prime WebSocket and Prime FIX
//!   (HMAC-SHA256 connect headers and the FIX Logon), for keys `CreatePrimeApiUserKey` returns.
//! - [`Settings`]: what a client is configured with, validated once for every transport.
//! - [`RetryPolicy::decide_at`]: whether a failed call may be sent again, and when.
//! - [`workflow`], [`rotation`]: multi-call key workflows as state machines — a key creation
//!   that names its orphans, and a resumable key rotation with a secret-free journal.
//! - [`transport`]: for transport authors — the call driver ([`transport::Call`]) that keeps
//!   every rule of a call, the capped receive buffer and transport-error constructors.
#![forbid(unsafe_code)]

// The crate's README (its page on crates.io) is compiled and run as doctests, so its example
// cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// The exported macros write `prime_core::…` intra-doc links (a client crate resolves them);
// this name lets them resolve here too, where `generated_methods` expands them.
#[cfg(doc)]
extern crate self as prime_core;

mod auth;
pub mod endpoints;
pub mod example;
#[cfg(doc)]
pub mod generated_methods;
pub mod issued;
pub mod transport;
mod wire;
pub mod workflow;

pub use auth::diagnosis;
pub use auth::{
    ApiKey, ApiSecret, ApiSign, ClockNonce, CountingNonce, Credentials, CredentialsError,
    NonceSource, NonceUnit, Otp, OtpGenerator, SECRET_LEN, SigningKey, UnknownNonceUnit,
};
pub use endpoints::{ArgumentError, Endpoint, Idempotency};
pub use issued::IssuedCredentials;
pub use transport::{
    BuildError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Delivery,
    Error, ErrorKind, RetryPolicy, RetryWait, Settings, TransportError, TransportErrorKind,
};
pub use wire::{
    DEFAULT_BASE_URL, DEFAULT_USER_AGENT, ErrorCode, KrakenError, RawBody, Reply, RequestBuilder,
    ResponseError, SalvagedKey, Severity, WriteRequestError, encode_body, encode_body_with_otp,
    parse_response,
};
pub use workflow::rotation;

// Re-exported so users name the same `http` and `serde_json` versions the core speaks
// (`serde_json::Value` appears in results' unknown fields).
pub use http;
pub use serde_json;
