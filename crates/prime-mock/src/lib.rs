//! A signature-verifying Kraken Prime REST simulator: a real HTTP server for tests, demos and
//! local development, without a Prime account.
//!
//! [`MockServer::start`] listens on `127.0.0.1` at a free port, on its own thread and tokio
//! runtime (so it works from plain `#[test]`s, `#[tokio::test]`s and `main` alike), and hands
//! out its base URL and the account (admin) credentials. Dropping it shuts it down.
//!
//! # What it simulates
//!
//! - **Authentication as Kraken does it.** `API-Sign` is verified over the exact body received
//!   (constant time); unknown, deleted and disabled-user keys get `EAPI:Invalid key`; a bad
//!   signature `EAPI:Invalid signature`; a nonce not above the key's last accepted one
//!   `EAPI:Invalid nonce` (unless inside the key's [nonce window](MockServer::set_nonce_window));
//!   malformed JSON, unknown fields, wrong types and missing fields `EGeneral:Invalid
//!   arguments[:<field>]`. A refused call changes nothing, not even the key's nonce.
//! - **All 13 endpoints** with state: users (`Viewer`/`Trader`, `Enabled`/`Disabled`), keys
//!   (a 64-byte secret returned once by `CreatePrimeApiUserKey` and kept only as a prepared
//!   signing key; IP allow-lists enforced against the peer address), and settlement (see
//!   below).
//! - **Permissions.** The account key manages users and keys; a `Viewer` user's key may read
//!   settlement batches; a `Trader` user's key may also create batches and settle legs;
//!   anything else is `EGeneral:Permission denied`.
//! - **Settlement.** Unsettled trades (a few seeded at start, more via
//!   [`MockServer::add_trade`]) are netted per asset into a batch with exact decimal amounts,
//!   one active batch per asset kind; a batch is confirmed with [`MockServer::confirm_batch`];
//!   settling a leg starts a pending transfer that [`MockServer::complete_transfers`]
//!   completes. Simulator-specific refusals use `ESettlement:…` strings (`Active batch
//!   exists`, `No unsettled trades`, `Batch not confirmed`, `Leg not settleable`); unknown
//!   ids are `EGeneral:Invalid arguments:<field>`.
//! - **Issued keys where Kraken uses them.** A key from `CreatePrimeApiUserKey` authenticates
//!   on the Prime WebSocket check, `GET /ws/v1` on the same server (a real upgrade: `101`
//!   then a normal close; else `401` with a one-line reason; see [`MockServer::ws_url`]), and
//!   on the Prime FIX Logon check, a TCP listener at [`MockServer::fix_addr`] (a Logon is
//!   answered with a Logon `35=A`, anything wrong with a Logout `35=5` carrying `58=<reason>`;
//!   malformed FIX and stalled peers too, after at most 5 s). Both use the same state as REST:
//!   a deleted key or a disabled user's key is refused, the key's IP allow-list applies.
//!   `ApiTimestamp` / `52` SendingTime must be within 30 s of the simulator's clock (Kraken
//!   documents no window; this is the simulator's choice), and any FIX TargetCompID is
//!   accepted.
//! - **Faults** ([`Fault`], [`FaultKind`]): delays, dropped connections before or after
//!   executing, 502 HTML, 500, malformed, truncated and oversized bodies, and any Kraken error
//!   string (`EAPI:Rate limit exceeded`, `EService:Unavailable`, …). An optional rate-limit
//!   model ([`MockBuilder::rate_limit`]) counts calls per key with decay, like Kraken.
//! - **Deterministic** ids and secrets with [`MockBuilder::seed`]; random otherwise.
//!   Logs (`tracing`) never contain secrets, signatures or bodies.
//!
//! # Example
//!
//! ```
//! use prime_core::endpoints::ListApiUsers;
//! use prime_core::RequestBuilder;
//! use prime_mock::{Fault, FaultKind, MockServer};
//!
//! let server = MockServer::builder().seed(7).start()?;
//! // Sign requests for the simulator exactly as for Kraken; only the base URL differs.
//! let request = RequestBuilder::new()
//!     .with_base_url(&server.url())?
//!     .build(&ListApiUsers::new(), &server.account_credentials(), 1)?;
//! assert_eq!(request.uri().path(), "/0/private/ListPrimeApiUsers");
//! // ... send it with any HTTP client ...
//!
//! // Make the next key creation execute but never answer.
//! server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("CreatePrimeApiUserKey"));
//! assert_eq!(server.executions("CreatePrimeApiUserKey"), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # HTTP control interface
//!
//! Under `/__mock/` (JSON in and out; no authentication, no secrets):
//!
//! | Request | Body | Effect |
//! |---|---|---|
//! | `GET /__mock/state` | | users, keys (no secrets), trades, batches, transfers, execution counts |
//! | `GET /__mock/faults` | | the queued faults |
//! | `POST /__mock/faults` | `{"fault":"drop-after-execute","method":"CreatePrimeApiUserKey","times":1}` | queue a fault (text forms: [`FaultKind`]) |
//! | `DELETE /__mock/faults` | | clear the queue |
//! | `POST /__mock/trades` | `{"asset":"BTC","amount":"1.5","asset_kind":"currency","id":null}` | add an unsettled trade |
//! | `POST /__mock/batches/confirm` | `{"batch_id":"B_…"}` | confirm a batch |
//! | `POST /__mock/transfers/complete` | | complete pending transfers |
//! | `POST /__mock/nonce-window` | `{"api_key":"…","window":1000}` | set a key's nonce window |
//! | `POST /__mock/rate-limit` | `{"enabled":true}` | switch the rate-limit model |
//!
//! # Standalone
//!
//! ```no_run
//! let server = prime_mock::MockServer::builder()
//!     .listen("127.0.0.1:8899".parse()?)
//!     .seed(1)
//!     .start()?;
//! println!("{} key {}", server.url(), server.account_api_key());
//! server.serve_forever();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod arguments;
mod control;
mod decimal;
mod fault;
mod id_source;
mod in_process;
mod issued_fix;
mod issued_ws;
mod keys;
mod nonce_guard;
mod rate_limit;
mod response_body;
mod server;
mod settlement;
mod simulator;
mod users;

pub use fault::{Fault, FaultKind, FaultParseError};
pub use in_process::Simulator;
pub use server::{DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_BODY_TIMEOUT, MockBuilder, MockServer};
pub use settlement::{Trade, TradeError};
