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
//! belong to Prime API users and authenticate on Prime WebSocket and FIX (the Prime overview;
//! that they do not sign REST calls is the simulator's reading of it). Where
//! Kraken's pages are silent the simulator makes a choice, and a test can switch the choices
//! where Kraken could plausibly differ. The table below lists every rule with what Kraken
//! documents (or "undocumented"), what the simulator does and the switch;
//! `docs/simulator-choices.md` in the repository holds the same table.
//!
//! - **Authentication**: `API-Sign` is verified over the exact body received (constant time);
//!   unknown, deleted and disabled-user keys get `EAPI:Invalid key`; a bad signature
//!   `EAPI:Invalid signature`; a nonce not above the key's last accepted one
//!   `EAPI:Invalid nonce` (unless inside the key's [nonce window](MockServer::set_nonce_window));
//!   unknown fields, wrong types and missing fields `EGeneral:Invalid arguments[:<field>]`. A
//!   wrong signature is never reported as bad arguments. The order of the checks is the
//!   simulator's ([`CheckOrder`] moves two of them).
//! - **Bodies as real clients send them.** The parser follows `Content-Type`:
//!   `application/json` (a missing `Content-Type` counts as JSON, the Prime pages' format), or
//!   `application/x-www-form-urlencoded` with flat fields (`name=value`, as krakenex and ccxt
//!   send; list fields such as `statuses` cannot be sent this way). The nonce may be a JSON
//!   integer or a JSON string of digits (`{"nonce":"1795880000625677440"}`, as Kraken's JSON
//!   examples and python-kraken-sdk send it); the signature covers the digits as sent.
//! - **Permissions as documented.** The settlement endpoints need
//!   [`Permission::CreateAndModifyOrders`] (create, settle) or
//!   [`Permission::QueryOpenOrdersAndTrades`] (get, list); the user and key endpoints name
//!   none. The account key holds both; [`MockServer::mint_account_key`] (or
//!   `POST /__mock/account-keys`) mints further account keys with chosen permissions, and
//!   optionally API 2FA ([`AccountKeySpec::otp`]).
//! - **All 13 endpoints** with state: users (`Viewer`/`Trader`, `Enabled`/`Disabled`), issued
//!   keys (shaped like the documented `KRA5L19LAW8Z` / `6xq8p1mvk9r3n7swt2l5cj4eaydhzbf`; IP
//!   allow-lists enforced against the peer address), and settlement: unsettled trades (a few
//!   seeded at start, more via [`MockServer::add_trade`]) netted per asset into a batch with
//!   exact decimal amounts, confirmed with [`MockServer::confirm_batch`], legs settled into
//!   transfers that [`MockServer::complete_transfers`] completes.
//! - **Rate limits and lockouts** ([`RateLimits`], off by default), modelled on Kraken's Spot
//!   guides: a per-key counter where refused calls count too, `EAPI:Rate limit exceeded`, and
//!   `EGeneral:Temporary lockout` after repeated refused calls.
//! - **Issued keys where Kraken uses them.** A key from `CreatePrimeApiUserKey` authenticates
//!   on the Prime WebSocket check, `GET /ws/v1` on the same server (see
//!   [`MockServer::ws_url`]), and on the Prime FIX Logon check, a TCP listener at
//!   [`MockServer::fix_addr`] (malformed FIX and stalled peers are dropped after at most 5 s).
//!   Both use the same state as REST.
//! - **Why a signature was refused.** Every `EAPI:Invalid signature` is run through
//!   [`prime_core::diagnosis`]: the simulator recomputes the signature with each known client
//!   mistake (secret not decoded, hex output, path without `/0`, re-serialized JSON body, …),
//!   logs the ids that reproduce it (never the signature or the body) and serves the latest at
//!   `GET /__mock/last-rejection` ([`MockServer::last_rejection`]).
//! - **Faults** ([`Fault`], [`FaultKind`]): delays, dropped connections before or after
//!   executing, a request held until its client hangs up and executed then (as a real server
//!   may run a request whose client gave up), 502 HTML, 500, malformed, truncated and
//!   oversized bodies, and any Kraken error string (`EAPI:Rate limit exceeded`,
//!   `EService: Throttled: <ts>`, `EAuth:Rate limit exceeded`, `EService:Unavailable`, and
//!   strings no Kraken page shows, such as `EGeneral:Too many requests`).
//! - **Deterministic** ids and secrets with [`MockBuilder::seed`]; random otherwise.
//!   Logs (`tracing`) never contain secrets, signatures or bodies.
//!
//! # The rules: what Kraken documents, what the simulator does
//!
//! Error strings use only Kraken's documented categories (General, Auth, API, Query, Order,
//! Trade, Funding, Service).
//!
//! | Rule | What Kraken documents | What the simulator does | Switch |
//! |---|---|---|---|
//! | Order of checks | Undocumented | key, body, signature (and `otp`), nonce, IP allow-list, permission, arguments, then the call; the first failure answers (with the rate-limit model on, the lockout and the counter come right after the key) | `CheckOrder`: allow-list first, or arguments before permission (`POST /__mock/check-order`) |
//! | `API-Sign` over path, nonce and body | Spot auth guide (the Prime overview calls Prime's identical) | verified over the exact bytes received, in constant time; `EAPI:Invalid signature` | — |
//! | API 2FA `otp` | Spot auth guide (`otp` in the body); the answer to a missing or wrong one: undocumented | a key minted with an `otp` needs it; missing or wrong: `EAPI:Invalid signature` | `AccountKeySpec::otp` |
//! | Unknown or deleted key | Spot errors guide (`EAPI:Invalid key`) | `EAPI:Invalid key` | — |
//! | A disabled user's keys | Undocumented (the endpoint pages only name the `Disabled` status) | refused: `EAPI:Invalid key` on REST, refused on WebSocket and FIX | — |
//! | A REST call signed with an issued key | Prime overview: issued keys are for Prime WebSocket and FIX; the REST answer: undocumented | `EAPI:Invalid key` | — |
//! | Nonce order | Spot errors guide and Kraken support (`EAPI:Invalid nonce`; a per-key nonce window) | strictly above the key's last accepted nonce, or inside its window and unused | `MockServer::set_nonce_window`, `POST /__mock/nonce-window` |
//! | What a refused call uses up | Kraken support, API error messages (refused calls count against the limits); the nonce: undocumented | a refused call never uses up its nonce; it counts towards the limits when the rate-limit model is on | `RateLimits::refused_calls_count` |
//! | IP allow-list miss | Undocumented | `EGeneral:Permission denied` | `CheckOrder::allow_list_first` |
//! | Allow-list entries and updates | Undocumented (the pages show single addresses; the overview says keys' allow-lists can be rotated) | addresses or CIDR ranges; `UpdatePrimeApiUserKey` replaces the list; an empty list means any address | — |
//! | Length limits (ids 128 bytes, names 256 characters, 1,000 allow-list entries) | Undocumented | prime-core's own limits, enforced before signing; the simulator applies the same request types | — |
//! | Permissions of the settlement endpoints | Prime endpoint pages (`Orders and trades - Create & modify orders` to create and settle, `… - Query open orders & trades` to get and list) | as documented; `EGeneral:Permission denied` without it | `MockServer::mint_account_key`, `POST /__mock/account-keys` |
//! | Permissions of the user and key endpoints | Prime endpoint pages name none | any account key | — |
//! | Roles | Prime overview (Viewer read-only, Trader read + trade, on WebSocket and FIX) | kept and returned; they do not gate REST | — |
//! | Unknown request fields | Prime spec (`additionalProperties: false`) and Kraken support (extra parameters ignored) disagree | refused: `EGeneral:Invalid arguments:<field>` | `UnknownFields::Ignore` (`POST /__mock/unknown-fields`, `prime mock --unknown-fields ignore`) |
//! | Wrong types, missing or duplicated fields | Spot errors guide (`EGeneral:Invalid arguments`); naming the field: undocumented | `EGeneral:Invalid arguments:<field>` | — |
//! | Unknown ids (user, key, batch, asset) | Undocumented | `EGeneral:Invalid arguments:<field>` | — |
//! | Body format | Prime endpoint pages (JSON); Spot clients send forms (Spot auth guide) | JSON (also without `Content-Type`) or a flat form; the nonce as a JSON number or string of digits | — |
//! | Error envelope | Spot errors guide (`{"error": ["EAPI:Invalid key"], "result": {}}`) | `{"error":["…"],"result":{}}` | `MockBuilder::error_result(false)` drops `result` (`POST /__mock/error-result`) |
//! | Unknown method, other HTTP methods, large or stalled bodies | Undocumented | 404 `EGeneral:Unknown method`; 405; 413 over 64 KiB; 408 when a body stalls | `MockBuilder::request_body_timeout` |
//! | Rate-limit counter | Spot rate-limit guide (per key, +1 per call, maximum 15 or 20, decay 0.33 to 1 per second); Prime documents no limits | off by default; when on: maximum 20, one call forgotten per second, `EAPI:Rate limit exceeded` over it | `RateLimits` (`MockBuilder::rate_limits`, `POST /__mock/rate-limit`, `prime mock --rate-limits`) |
//! | Calls made while limited | Spot rate-limit guide (they keep the limit in force longer) | refused calls raise the counter too | `RateLimits::refused_calls_count` |
//! | Temporary lockout | Spot errors guide (`EGeneral:Temporary lockout`, "a few minutes"), Kraken support (about 15 minutes); the threshold: undocumented | after 10 refused calls (decaying like the counter), 15 minutes | `RateLimits::lockout_after`, `RateLimits::lockout` |
//! | Calls made during a lockout | Undocumented (the rate-limit guide says it of rate limits) | start the lockout over | `RateLimits::prolong_lockout` |
//! | Throttling | Spot rate-limit guide (`EService: Throttled: <ts>`, try again after it) | only as a fault | `FaultKind::throttled` |
//! | `EGeneral:Too many requests` | Undocumented (no Kraken page shows it) | only as a fault | `FaultKind::too_many_requests` |
//! | Service errors | Spot errors guide (`EService:Unavailable`, `EService:Busy`, `EGeneral:Internal error`); older Prime docs (500 "Internal Server Error") | only as faults; the 500 fault answers `EGeneral:Internal error` | `FaultKind` |
//! | One active batch | Prime endpoint pages (one active batch per `asset_kind`; an older revision: one at a time) | one per asset kind; `ETrade:Active batch exists` (the string is the simulator's) | — |
//! | Settlement amounts | Prime endpoint pages (examples with positive amounts; an older revision adds a leg `direction`) | signed net amounts per asset (negative: owed by the account), exact decimals | — |
//! | Batch and leg transitions | Prime endpoint pages name the statuses, not the transitions | confirmed out of band; a settled leg's transfer is `pending` until completed; legs netting to zero start `settled`; the strings `ETrade:No unsettled trades`, `EFunding:Batch not confirmed`, `EFunding:Leg not settleable` are the simulator's | `MockServer::confirm_batch`, `MockServer::complete_transfers` |
//! | `GetPrimeSettlementBatch` `asset_kind` | Prime endpoint pages (values `spot`, `option`, `future`, unlike creation's `currency`, `tokenized_equity`) | a batch of another kind is `EGeneral:Invalid arguments:batch_id` | — |
//! | `GetPrimeExposure` | older Prime docs only (path, description, permission; no schema); gone from the Prime spec and the Prime overview | not served (`EGeneral:Unknown method`): recorded as retired | — |
//! | Issued keys and their `permissions` | Prime endpoint pages (example key and secret, `read::marketdata`) | keys and secrets shaped like the example; `read::marketdata`, `read::orders`, and `write::orders` for a Trader | `MockBuilder::seed` |
//! | WebSocket and FIX timestamps | Undocumented window | within 30 s of the simulator's clock | — |
//! | WebSocket and FIX refusals | Undocumented | HTTP 401 with a one-line reason; FIX Logout `35=5` with `58=<reason>` | — |
//! | FIX CompIDs and HeartBtInt | Prime FIX Logon page (Kraken assigns the CompIDs; its example elides the TargetCompID and uses HeartBtInt 60) | any TargetCompID is accepted and answered from; HeartBtInt is echoed (the core's Logon defaults to 60) | — |
//! | Unreadable requests | Undocumented | a `Content-Type` other than JSON or form, no nonce or two: `EGeneral:Invalid arguments[:nonce]` (the reason in the log); a nonce that is not plain digits of a `u64`: `EGeneral:Invalid arguments:nonce`, after the signature check | — |
//! | WebSocket beyond authentication | Prime WebSocket auth page (the headers only) | the account key is refused (not an issued key); an authenticated upgrade gets `101`, then a close `1000 authenticated` (no channels); `/ws/v1` without an upgrade: HTTP 400 | — |
//!
//! Sources, cited by the names in the table (the repository's list of Kraken sources has the
//! detail):
//!
//! - **Spot auth guide**: "Spot REST Authentication",
//!   <https://docs.kraken.com/exchange/guides/rest/authentication>.
//! - **Spot errors guide**: Kraken's Spot REST errors guide,
//!   <https://docs.kraken.com/exchange/guides/general/errors>.
//! - **Spot rate-limit guide**: Kraken's Spot REST rate-limit guide,
//!   <https://docs.kraken.com/exchange/guides/rest/ratelimits>.
//! - **Kraken support**: "API error messages",
//!   <https://support.kraken.com/hc/en-us/articles/360001491786-API-Error-Codes>.
//! - **Prime overview**: the Prime REST overview,
//!   <https://docs.kraken.com/institutional/api-reference/prime-rest>.
//! - **Prime endpoint pages**: the Prime REST reference, one page per endpoint,
//!   `https://docs.kraken.com/api-reference/<group>/<slug>` (e.g.
//!   <https://docs.kraken.com/api-reference/settlement/create-prime-settlement-batch>).
//! - **Prime spec**: the OpenAPI those pages embed, in their `.md` form (e.g.
//!   <https://docs.kraken.com/api-reference/api-user-keys/list-prime-api-user-keys.md>).
//! - **older Prime docs**: the earlier Prime REST pages,
//!   `https://docs.kraken.com/api/docs/prime-api/rest/<slug>` (e.g.
//!   <https://docs.kraken.com/api/docs/prime-api/rest/get-prime-exposure>).
//! - **Prime WebSocket auth page**:
//!   <https://docs.kraken.com/institutional/guides/prime-websocket-auth>.
//! - **Prime FIX Logon page**: <https://docs.kraken.com/institutional/api-reference/prime-fix/logon>.
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
//! Under `/__mock/` (JSON in and out; no authentication; only `account-keys` answers a
//! secret, the new key's):
//!
//! | Request | Body | Effect |
//! |---|---|---|
//! | `GET /__mock/state` | | users, keys (no secrets), trades, batches, transfers, execution counts |
//! | `GET /__mock/last-rejection` | | the latest `EAPI:Invalid signature` and the known client mistake that reproduces it (`{"error","method","path","api_key","diagnosis":[{"id","explanation"}]}`), or the latest `EAPI:Invalid nonce` with the key's high-water mark (`{"error","method","path","api_key","nonce","high_water_mark","window","units":{"nonce","high_water_mark"}}`), or `null` |
//! | `GET /__mock/faults` | | the queued faults |
//! | `POST /__mock/faults` | `{"fault":"drop-after-execute","method":"CreatePrimeApiUserKey","times":1}` | queue a fault (text forms: [`FaultKind`]) |
//! | `DELETE /__mock/faults` | | clear the queue |
//! | `POST /__mock/trades` | `{"asset":"BTC","amount":"1.5","asset_kind":"currency","id":null}` | add an unsettled trade |
//! | `POST /__mock/batches/confirm` | `{"batch_id":"B_…"}` | confirm a batch |
//! | `POST /__mock/transfers/complete` | | complete pending transfers |
//! | `POST /__mock/nonce-window` | `{"api_key":"…","window":1000}` | set a key's nonce window |
//! | `POST /__mock/rate-limit` | `{"enabled":true}`, optionally `"max_calls"`, `"decay_ms"`, `"refused_calls_count"`, `"lockout_after"`, `"lockout_ms"`, `"prolong_lockout"` | switch the rate-limit and lockout model ([`RateLimits`]) |
//! | `POST /__mock/unknown-fields` | `{"unknown_fields":"ignore"}` (or `"refuse"`) | what to do with unknown request fields ([`UnknownFields`]) |
//! | `POST /__mock/error-result` | `{"result":false}` | error replies without (or with) `"result":{}` ([`MockBuilder::error_result`]) |
//! | `POST /__mock/check-order` | `{"allow_list_first":true,"arguments_before_permission":false}` | move two checks ([`CheckOrder`]) |
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

pub use account::CheckOrder;
pub use account_keys::{AccountKeySpec, MintedKey};
pub use arguments::UnknownFields;
pub use fault::{Fault, FaultKind, FaultParseError};
pub use in_process::Simulator;
pub use ledger::{Trade, TradeError};
pub use prime_core::endpoints::{Permission, PermissionParseError};
pub use rate_limit::RateLimits;
pub use server::{DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_BODY_TIMEOUT, MockBuilder, MockServer};
