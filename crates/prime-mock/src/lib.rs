//! A signature-verifying Kraken Prime REST simulator: a real HTTP server for tests, demos and
//! local development, without a Prime account.
//!
//! [`MockServer::start`] listens on `127.0.0.1` at a free port, on its own thread and tokio
//! runtime (so it works from plain `#[test]`s, `#[tokio::test]`s and `main` alike), and hands
//! out its base URL and the account key's credentials. Dropping it shuts it down.
//!
//! # What it simulates
//!
//! The model is Kraken's documented one: the institution's **account key** (a REST key with a
//! base64 secret) calls all 13 Prime REST endpoints; the keys `CreatePrimeApiUserKey` issues
//! belong to Prime API users and authenticate on Prime WebSocket and FIX, not REST.
//!
//! - **Authentication as Kraken does it**, checked in this order: key, signature, nonce,
//!   permission, then arguments. `API-Sign` is verified over the exact body received
//!   (constant time); unknown, deleted and disabled-user keys get `EAPI:Invalid key`; a bad
//!   signature `EAPI:Invalid signature`; a nonce not above the key's last accepted one
//!   `EAPI:Invalid nonce` (unless inside the key's [nonce window](MockServer::set_nonce_window));
//!   unknown fields, wrong types and missing fields `EGeneral:Invalid arguments[:<field>]`.
//!   A refused call changes nothing, not even the key's nonce. A wrong signature is never
//!   reported as bad arguments.
//! - **Bodies as real clients send them.** The parser follows `Content-Type`:
//!   `application/json` (a missing `Content-Type` counts as JSON, the Prime pages' format), or
//!   `application/x-www-form-urlencoded` with flat fields (`name=value`, as krakenex and ccxt
//!   send; list fields such as `statuses` cannot be sent this way). The nonce may be a JSON
//!   integer or a JSON string of digits (`{"nonce":"1795880000625677440"}`, as Kraken's JSON
//!   examples and python-kraken-sdk send it); the signature covers the digits as sent. A body
//!   that does not parse as its declared type is `EGeneral:Invalid arguments`, with the reason
//!   in the log.
//! - **Permissions as documented.** The settlement endpoints need
//!   [`Permission::CreateAndModifyOrders`] (create, settle) or
//!   [`Permission::QueryOpenOrdersAndTrades`] (get, list); the user and key endpoints name
//!   none. The account key holds both; [`MockServer::mint_account_key`] (or
//!   `POST /__mock/account-keys`) mints further account keys with chosen permissions. A key
//!   without the permission gets `EGeneral:Permission denied` and nothing is executed.
//! - **API 2FA.** A minted key may require an `otp` (a static password, [`AccountKeySpec::otp`]);
//!   a call without it or with another one gets `EAPI:Invalid signature`, as Kraken answers.
//!   Keys without 2FA ignore an `otp` field.
//! - **All 13 endpoints** with state: users (`Viewer`/`Trader`, `Enabled`/`Disabled`), issued
//!   keys (shaped like the documented `KRA5L19LAW8Z` / `6xq8p1mvk9r3n7swt2l5cj4eaydhzbf`: an
//!   uppercase alphanumeric key and an opaque alphanumeric secret that is not base64; IP
//!   allow-lists enforced against the peer address), and settlement (see below).
//! - **Settlement.** Unsettled trades (a few seeded at start, more via
//!   [`MockServer::add_trade`]) are netted per asset into a batch with exact decimal amounts,
//!   one active batch per asset kind; a batch is confirmed with [`MockServer::confirm_batch`];
//!   settling a leg starts a pending transfer that [`MockServer::complete_transfers`]
//!   completes. Unknown ids are `EGeneral:Invalid arguments:<field>`.
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
//! - **Why a signature was refused.** Every `EAPI:Invalid signature` is run through
//!   [`prime_core::diagnosis`]: the simulator recomputes the signature with each known client
//!   mistake (secret not decoded, hex output, path without `/0`, re-serialized JSON body, …),
//!   logs the ids that reproduce it (never the signature or the body) and serves the latest at
//!   `GET /__mock/last-rejection` ([`MockServer::last_rejection`]).
//! - **Faults** ([`Fault`], [`FaultKind`]): delays, dropped connections before or after
//!   executing, 502 HTML, 500, malformed, truncated and oversized bodies, and any Kraken error
//!   string (`EAPI:Rate limit exceeded`, `EService: Throttled: <ts>`,
//!   `EGeneral:Too many requests`, `EService:Unavailable`, …). An optional rate-limit
//!   model ([`MockBuilder::rate_limit`]) counts calls per key with decay, like Kraken.
//! - **Deterministic** ids and secrets with [`MockBuilder::seed`]; random otherwise.
//!   Logs (`tracing`) never contain secrets, signatures or bodies.
//!
//! # The simulator's own choices
//!
//! Error strings use only Kraken's documented categories (General, Auth, API, Query, Order,
//! Trade, Funding, Service). Where Kraken documents no answer, the simulator chooses one:
//!
//! | Situation | Answer (the simulator's choice) |
//! |---|---|
//! | REST call signed with a key `CreatePrimeApiUserKey` issued | `EAPI:Invalid key` |
//! | unknown path under `/0/private/` | HTTP 404, `EGeneral:Unknown method` |
//! | HTTP method other than POST | HTTP 405, `EGeneral:Invalid arguments` |
//! | body over 64 KiB | HTTP 413, `EGeneral:Invalid arguments` |
//! | `Content-Type` other than JSON or form | `EGeneral:Invalid arguments` (reason logged) |
//! | no nonce, or two | `EGeneral:Invalid arguments:nonce` (nothing to check the signature against) |
//! | a nonce that is not plain digits of a `u64` | `EGeneral:Invalid arguments:nonce`, after the signature check |
//! | a field sent twice | `EGeneral:Invalid arguments:<field>` |
//! | a batch while one of the same asset kind is active | `ETrade:Active batch exists` |
//! | a batch for an asset kind without unsettled trades | `ETrade:No unsettled trades` |
//! | settling a leg of an unconfirmed batch | `EFunding:Batch not confirmed` |
//! | settling a leg that is pending or settled | `EFunding:Leg not settleable` |
//! | user and key endpoints | callable by any account key (the pages name no permission) |
//! | an issued key's `permissions` | `read::marketdata`, `read::orders`, and for a Trader `write::orders` |
//! | the fault [`FaultKind::InternalServerError`] | HTTP 500, `EGeneral:Internal error` |
//! | WebSocket (`GET /ws/v1`) or FIX Logon refused | HTTP 401 with a one-line `text/plain` reason / Logout `35=5` with `58=<reason>` (Kraken documents neither) |
//! | `ApiTimestamp` / FIX `52` SendingTime more than 30 s from the simulator's clock | refused as above |
//! | the account key on WebSocket or FIX | refused as above: not an issued key |
//! | FIX TargetCompID | any is accepted; the answer comes from it |
//! | an authenticated WebSocket upgrade | `101`, then a close frame `1000 authenticated` (no channels are served) |
//! | a request to `/ws/v1` that authenticates but is not an upgrade | HTTP 400 |

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
//! Under `/__mock/` (JSON in and out; no authentication; only `account-keys` answers a
//! secret, the new key's):
//!
//! | Request | Body | Effect |
//! |---|---|---|
//! | `GET /__mock/state` | | users, keys (no secrets), trades, batches, transfers, execution counts |
//! | `GET /__mock/last-rejection` | | the latest `EAPI:Invalid signature` and the known client mistake that reproduces it (`{"error","method","path","api_key","diagnosis":[{"id","explanation"}]}`), or `null` |
//! | `GET /__mock/faults` | | the queued faults |
//! | `POST /__mock/faults` | `{"fault":"drop-after-execute","method":"CreatePrimeApiUserKey","times":1}` | queue a fault (text forms: [`FaultKind`]) |
//! | `DELETE /__mock/faults` | | clear the queue |
//! | `POST /__mock/trades` | `{"asset":"BTC","amount":"1.5","asset_kind":"currency","id":null}` | add an unsettled trade |
//! | `POST /__mock/batches/confirm` | `{"batch_id":"B_…"}` | confirm a batch |
//! | `POST /__mock/transfers/complete` | | complete pending transfers |
//! | `POST /__mock/nonce-window` | `{"api_key":"…","window":1000}` | set a key's nonce window |
//! | `POST /__mock/rate-limit` | `{"enabled":true}` | switch the rate-limit model |
//! | `POST /__mock/account-keys` | `{"permissions":["Orders and trades - Query open orders & trades"],"otp":"…","whitelisted_ips":["…"]}` (`otp`, `whitelisted_ips` optional) | mint an account key: `{"api_key":"…","api_secret":"…"}` |
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

// The crate's README (its page on crates.io) is compiled and run as doctests, so its example
// cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod account;
mod account_keys;
mod arguments;
mod control;
mod decimal;
mod errors;
mod fault;
mod id_source;
mod in_process;
mod issued_fix;
mod issued_ws;
mod keys;
mod ledger;
mod nonce_guard;
mod rate_limit;
mod response_body;
mod server;
mod settlement;
mod shared;
mod users;

pub use account_keys::{AccountKeySpec, MintedKey};
pub use fault::{Fault, FaultKind, FaultParseError};
pub use in_process::Simulator;
pub use ledger::{Trade, TradeError};
pub use prime_core::endpoints::{Permission, PermissionParseError};
pub use server::{DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_BODY_TIMEOUT, MockBuilder, MockServer};
