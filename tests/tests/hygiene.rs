//! Secret hygiene, end to end. The demo workflow (users, keys, the new key signing its own
//! calls, the IP allow-list, settlement, deletion) runs through both transports, over plain
//! HTTP and over TLS, with faults that provoke every kind of error, while a global tracing
//! subscriber at TRACE records every event and span from every thread, `log` records from
//! ureq and rustls included (through `tracing-log`). Then:
//!
//! - every captured record, and the `Debug` (plain and `{:#?}`) and `Display` of every value
//!   the workflow touched (requests, replies, results, clients, builders, credentials, every
//!   error and its sources) is scanned for the account secret and every created key's secret:
//!   the whole text, any 12-character piece of it, its bytes in hex (as wire dumps print them),
//!   and its decoded bytes in hex or as a `Debug` list;
//! - the built `prime` binary runs `prime -vv demo` with `PRIME_LOG=trace`, and its stdout and
//!   stderr hold neither the simulator's account secret, nor the demo key's secret, nor any
//!   other string shaped like a Kraken secret.
//!
//! The one source that does print secrets is ureq-proto's TRACE wire dump (every byte sent
//! and received, as hex): a third-party behaviour the `prime` command filters out and
//! prime-blocking's docs warn about. The test proves that it is the *only* one.

use std::collections::{BTreeSet, HashMap};
use std::fmt::{Debug, Display, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use prime_core::endpoints::{
    CreateApiUser, CreateApiUserKey, CreateSettlementBatch, CreatedApiUserKey, DeleteApiUserKey,
    GetApiUser, GetSettlementBatch, ListApiUserKeys, ListApiUsers, ListSettlementBatches, Role,
    SettleSettlementBatchAsset, UpdateApiUser, UpdateApiUserKey, UpdateApiUserRoles,
};
use prime_core::{
    Credentials, Endpoint, Error, ErrorCode, KrakenError, RawBody, Reply, RequestBuilder,
    ResponseError,
};
use prime_mock::{Fault, FaultKind, MockServer};
use prime_tests::{SelfSignedTls, quick_retries_waiting_out_limits};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Record};
use tracing::{Event, Id, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

// ---------------------------------------------------------------------------------------
// Capturing every log record

/// One captured event or span: its level, its target (the `log` target for bridged `log`
/// records) and all its fields as text.
#[derive(Debug, Clone)]
struct LogRecord {
    level: Level,
    target: String,
    text: String,
}

impl LogRecord {
    /// What the `prime` command lets through at `-vv`/`PRIME_LOG=trace`: everything except
    /// ureq-proto's TRACE wire dump (which `prime` drops from its log output).
    fn passes_the_cli_filter(&self) -> bool {
        !(self.target.starts_with("ureq_proto") && self.level > Level::DEBUG)
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<LogRecord>>>);

impl Captured {
    fn records(&self) -> Vec<LogRecord> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn push(&self, level: Level, target: &str, fields: FieldText) {
        let target = fields.log_target.unwrap_or_else(|| target.to_owned());
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(LogRecord {
                level,
                target,
                text: fields.text,
            });
    }
}

/// Every field of an event or span, as `name=value` text.
#[derive(Default)]
struct FieldText {
    text: String,
    log_target: Option<String>,
}

impl Visit for FieldText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "log.target" {
            self.log_target = Some(value.to_owned());
        }
        let _ = write!(self.text, "{}={value} ", field.name());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let _ = write!(self.text, "{}={value:?} ", field.name());
    }
}

impl<S: Subscriber> Layer<S> for Captured {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = FieldText::default();
        event.record(&mut fields);
        let metadata = event.metadata();
        self.push(*metadata.level(), metadata.target(), fields);
    }

    fn on_new_span(&self, attributes: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let mut fields = FieldText::default();
        attributes.record(&mut fields);
        let metadata = attributes.metadata();
        self.push(*metadata.level(), metadata.target(), fields);
    }

    fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut fields = FieldText::default();
        values.record(&mut fields);
        self.push(Level::TRACE, "span-record", fields);
    }
}

/// The process-wide capture: a global subscriber with no level limit, plus the `log` bridge,
/// so records from every thread (simulator, tokio workers, ureq) are seen.
fn capture() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        tracing_subscriber::registry()
            .with(captured.clone())
            .try_init()
            .expect("the only global subscriber of this test binary, with the log bridge");
        captured
    })
}

// ---------------------------------------------------------------------------------------
// Recognising a secret in any shape

/// The secrets to look for, indexed by the fragments that would betray them, so that a scan
/// is one pass of hash lookups over the text however many secrets there are.
#[derive(Default)]
struct Secrets {
    names: Vec<String>,
    /// 12 consecutive characters of the base64 text: 72 random bits, never there by chance.
    text_pieces: HashMap<Vec<u8>, usize>,
    /// 8 consecutive bytes of the text or of the decoded secret, as lowercase hex (how wire
    /// dumps and byte printers show them).
    hex_pieces: HashMap<Vec<u8>, usize>,
    /// 6 consecutive decoded bytes, as a `Debug` list would show them (`[12, 200, …]`).
    byte_runs: HashMap<Vec<u8>, usize>,
}

const TEXT_PIECE: usize = 12;
const HEX_PIECE: usize = 16;
const BYTE_RUN: usize = 6;

impl Secrets {
    /// Remembers `secret` (base64 text) under `what`.
    fn add(&mut self, what: &str, secret: &str) {
        assert!(secret.len() >= 16, "{what} is too short to be a secret");
        let index = self.names.len();
        self.names.push(what.to_owned());
        let text = secret.as_bytes();
        let decoded = decode_base64(secret).unwrap_or_default();
        for piece in text.windows(TEXT_PIECE) {
            self.text_pieces.insert(piece.to_vec(), index);
        }
        for piece in text
            .windows(HEX_PIECE / 2)
            .chain(decoded.windows(HEX_PIECE / 2))
        {
            let hex: String = piece.iter().map(|b| format!("{b:02x}")).collect();
            self.hex_pieces.insert(hex.into_bytes(), index);
        }
        for run in decoded.windows(BYTE_RUN) {
            self.byte_runs.insert(run.to_vec(), index);
        }
    }

    /// The secrets `text` betrays.
    fn found_in(&self, text: &str) -> Vec<&str> {
        let mut found = BTreeSet::new();
        let mut look = |pieces: &HashMap<Vec<u8>, usize>, haystack: &[u8], width: usize| {
            for window in haystack.windows(width) {
                if let Some(&index) = pieces.get(window) {
                    found.insert(index);
                }
            }
        };
        look(&self.text_pieces, text.as_bytes(), TEXT_PIECE);
        // Hex with the grouping whitespace removed.
        let compact: Vec<u8> = text
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .map(|b| b.to_ascii_lowercase())
            .collect();
        look(&self.hex_pieces, &compact, HEX_PIECE);
        // Runs of decimal bytes separated by commas, e.g. `[12, 200, 7`.
        for run in decimal_byte_runs(text) {
            look(&self.byte_runs, &run, BYTE_RUN);
        }
        found.into_iter().map(|i| self.names[i].as_str()).collect()
    }

    fn len(&self) -> usize {
        self.names.len()
    }
}

/// Every run of comma-separated numbers 0..=255 in `text`, as bytes.
fn decimal_byte_runs(text: &str) -> Vec<Vec<u8>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    for token in text.split(',') {
        let token = token.trim();
        // The first and last number of a run may carry a bracket or other text beside them.
        let digits_end = token.bytes().take_while(u8::is_ascii_digit).count();
        let digits_start = token.len() - token.bytes().rev().take_while(u8::is_ascii_digit).count();
        let whole = token.parse::<u8>().ok();
        match whole {
            Some(byte) => run.push(byte),
            None => {
                if let Ok(byte) = token[..digits_end].parse::<u8>() {
                    run.push(byte);
                }
                if run.len() >= BYTE_RUN {
                    runs.push(std::mem::take(&mut run));
                }
                run.clear();
                if let Ok(byte) = token[digits_start..].parse::<u8>() {
                    run.push(byte);
                }
            }
        }
    }
    if run.len() >= BYTE_RUN {
        runs.push(run);
    }
    runs
}

/// Standard base64 with padding, as Kraken issues secrets; `None` if it is not that.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, quad) in bytes.chunks(4).enumerate() {
        let last = i == bytes.len() / 4 - 1;
        let padding = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - padding] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * padding;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Some(out)
}

/// Strings shaped like a Kraken API secret: standard base64 of exactly 64 bytes.
fn secret_shaped(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
        .filter(|token| token.len() == 88)
        .filter(|token| decode_base64(token).is_some_and(|bytes| bytes.len() == 64))
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Recording what every touched value shows

/// The `Debug` and `Display` text of every value the workflow touched, with a label.
#[derive(Default)]
struct Shown(Vec<(String, String)>);

impl Shown {
    fn debug<T: Debug + ?Sized>(&mut self, label: &str, value: &T) {
        self.0.push((label.to_owned(), format!("{value:?}")));
        self.0
            .push((format!("{label} (pretty)"), format!("{value:#?}")));
    }

    fn display<T: Display + ?Sized>(&mut self, label: &str, value: &T) {
        self.0
            .push((format!("{label} (Display)"), value.to_string()));
    }

    /// An error's `Display` and `Debug`, and those of every source below it.
    fn error(&mut self, label: &str, error: &(dyn std::error::Error + 'static)) {
        self.display(label, error);
        self.debug(label, error);
        let mut source = error.source();
        let mut depth = 0;
        while let Some(inner) = source {
            depth += 1;
            let label = format!("{label} source {depth}");
            self.display(&label, inner);
            self.debug(&label, inner);
            source = inner.source();
        }
    }

    /// A result of either kind.
    fn result<T: Debug>(&mut self, label: &str, result: &Result<T, Error>) {
        match result {
            Ok(value) => self.debug(label, value),
            Err(error) => self.error(label, error),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Driving both transports through one interface

/// The shared [`prime_tests::Caller`], with every request and result recorded.
struct Caller(prime_tests::Caller);

/// How to build a [`Caller`].
struct Settings<'a> {
    url: &'a str,
    credentials: Credentials,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    max_response_bytes: usize,
}

impl<'a> Settings<'a> {
    fn new(url: &'a str, credentials: Credentials) -> Self {
        Self {
            url,
            credentials,
            tls: None,
            timeout: Duration::from_secs(10),
            max_response_bytes: 1024 * 1024,
        }
    }
}

impl Caller {
    fn new(transport: &str, settings: Settings<'_>, shown: &mut Shown) -> Self {
        match transport {
            "blocking" => {
                let mut builder = prime_blocking::Client::builder(settings.credentials)
                    .base_url(settings.url)
                    .retry_policy(quick_retries_waiting_out_limits())
                    .timeout(settings.timeout)
                    .max_response_bytes(settings.max_response_bytes);
                if let Some(tls) = settings.tls {
                    builder = builder.tls_config(tls);
                }
                shown.debug("blocking ClientBuilder", &builder);
                let client = builder.build().expect("the blocking client builds");
                shown.debug("blocking Client", &client);
                Self(prime_tests::Caller::Blocking(client))
            }
            _ => {
                let mut builder = prime_async::Client::builder(settings.credentials)
                    .base_url(settings.url)
                    .retry_policy(quick_retries_waiting_out_limits())
                    .timeout(settings.timeout)
                    .max_response_bytes(settings.max_response_bytes);
                if let Some(tls) = settings.tls {
                    builder = builder.tls_config(tls);
                }
                shown.debug("async ClientBuilder", &builder);
                let client = builder.build().expect("the async client builds");
                shown.debug("async Client", &client);
                Self(prime_tests::Caller::on_runtime(client))
            }
        }
    }

    fn send<E: Endpoint<Response: Send> + Debug + Clone + Send + Sync + 'static>(
        &self,
        endpoint: &E,
        shown: &mut Shown,
    ) -> Result<Reply<E::Response>, Error>
    where
        E::Response: Debug,
    {
        shown.debug(E::NAME, endpoint);
        let result = self.0.send(endpoint.clone());
        shown.result(&format!("{} result", E::NAME), &result);
        result
    }
}

/// The one-time secret inside a raw body, if the body carries one.
fn secret_in_body(body: &RawBody) -> Option<String> {
    let text = String::from_utf8_lossy(body.as_bytes());
    let start = text.find(r#""api_secret":""#)? + r#""api_secret":""#.len();
    let end = start + text[start..].find('"')?;
    Some(text[start..end].to_owned())
}

/// The demo workflow and every error it can provoke, on one transport against `server`.
/// Records every value it touches in `shown` and every secret it learns in `secrets`.
fn workflow(
    transport: &str,
    server: &MockServer,
    tls: Option<Arc<rustls::ClientConfig>>,
    shown: &mut Shown,
    secrets: &mut Secrets,
) {
    let url = server.url();
    let settings = |credentials| Settings {
        tls: tls.clone(),
        ..Settings::new(&url, credentials)
    };
    shown.debug("MockServer", server);
    shown.debug("account credentials", &server.account_credentials());
    shown.debug("account ApiKey", server.account_credentials().api_key());
    shown.debug(
        "account SigningKey",
        server.account_credentials().signing_key(),
    );
    shown.debug("account ApiSecret", server.account_secret());
    let admin = Caller::new(transport, settings(server.account_credentials()), shown);

    // Users.
    let user = admin
        .send(&CreateApiUser::new("Hygiene Trader", Role::Trader), shown)
        .expect("create a user")
        .result;
    for role in &user.roles {
        shown.display("Role", role);
    }
    shown.display("UserStatus", &user.status);
    admin.send(&GetApiUser::new(&user.id), shown).expect("get");
    admin.send(&ListApiUsers::new(), shown).expect("list users");
    admin
        .send(
            &UpdateApiUser::new(&user.id).name("Hygiene Trader 2"),
            shown,
        )
        .expect("rename");
    admin
        .send(&UpdateApiUserRoles::new(&user.id, Role::Trader), shown)
        .expect("set the role");

    // An issued (WebSocket/FIX) key, and a second account key with API 2FA for the REST
    // calls below, so its secret and its password are watched too.
    let key: CreatedApiUserKey = admin
        .send(&CreateApiUserKey::new(&user.id), shown)
        .expect("create a key")
        .result;
    secrets.add(
        &format!("{transport} key secret"),
        key.api_secret().expose(),
    );
    shown.debug("ApiSecret", key.api_secret());
    let otp = format!("{transport}-2fa-Zq7pW3");
    let minted = server
        .mint_account_key(&prime_mock::AccountKeySpec::new(prime_mock::Permission::ALL).otp(&otp))
        .expect("a minted account key");
    secrets.add(
        &format!("{transport} minted secret"),
        minted.api_secret().expose(),
    );
    secrets.add(&format!("{transport} 2FA password"), &otp);
    shown.debug("MintedKey", &minted);
    let trader_credentials = minted.credentials().expect("valid credentials");
    shown.debug("trader credentials", &trader_credentials);
    let trader = Caller::new(transport, settings(trader_credentials.clone()), shown);
    trader
        .send(&ListSettlementBatches::new(), shown)
        .expect("the new key is accepted");
    admin
        .send(&ListApiUserKeys::new(&user.id), shown)
        .expect("list keys");

    // A signed request as the core builds it.
    let request = RequestBuilder::new()
        .with_base_url(&url)
        .expect("the simulator's URL")
        .build(&CreateApiUserKey::new(&user.id), &trader_credentials, 1)
        .expect("a valid request");
    shown.debug("signed http::Request", &request);
    let sign = trader_credentials
        .signing_key()
        .sign("/0/private/X", b"1", b"{}");
    shown.debug("ApiSign", &sign);
    shown.display("ApiSign", &sign);

    // The issued key's IP allow-list (it applies to WebSocket/FIX).
    admin
        .send(
            &UpdateApiUserKey::new(&user.id, &key.id).whitelisted_ips(["127.0.0.1", "::1"]),
            shown,
        )
        .expect("restrict the key");
    trader
        .send(&ListSettlementBatches::new(), shown)
        .expect("still accepted");

    // Settlement: create, confirm, settle every eligible leg, complete.
    let batch = trader
        .send(&CreateSettlementBatch::new(), shown)
        .expect("a batch from the seeded trades")
        .result
        .batch;
    shown.display("BatchStatus", &batch.attributes.status);
    assert!(server.confirm_batch(&batch.id));
    let confirmed = trader
        .send(&GetSettlementBatch::new(&batch.id), shown)
        .expect("get the batch")
        .result
        .batch;
    for leg in confirmed.legs.iter().filter(|leg| leg.can_settle) {
        shown.display("Amount", &leg.amount);
        let transfer = trader
            .send(
                &SettleSettlementBatchAsset::new(&batch.id, &leg.asset),
                shown,
            )
            .expect("settle a leg")
            .result
            .transfer;
        shown.display("TransferStatus", &transfer.attributes.status);
    }
    server.complete_transfers();

    provoke_errors(
        transport,
        server,
        &admin,
        &user.id,
        tls.clone(),
        shown,
        secrets,
    );

    // The issued key on REST (as a client that mistook it for a REST key), then deleted: it is
    // refused both times; the 2FA key without its password is refused too.
    let issued = Caller::new(
        transport,
        settings(prime_core::Credentials::from_parts(
            prime_core::ApiKey::new(&key.api_key).expect("a valid key"),
            prime_core::SigningKey::from_bytes(key.api_secret().expose().as_bytes()),
        )),
        shown,
    );
    let no_otp = Caller::new(
        transport,
        settings(
            prime_core::Credentials::new(&minted.api_key, minted.api_secret().expose())
                .expect("valid"),
        ),
        shown,
    );
    for (caller, step, expected) in [
        (&issued, "issued key", ErrorCode::InvalidKey),
        (&no_otp, "2FA key without otp", ErrorCode::InvalidSignature),
        (&issued, "deleted key", ErrorCode::InvalidKey),
    ] {
        if step == "deleted key" {
            admin
                .send(&DeleteApiUserKey::new(&user.id, &key.id), shown)
                .expect("delete the key");
        }
        let refused = caller
            .send(&ListSettlementBatches::new(), shown)
            .expect_err(step);
        let codes: Vec<_> = refused
            .response()
            .map(|r| r.kraken_errors().iter().map(KrakenError::code).collect())
            .unwrap_or_default();
        assert_eq!(codes, [&expected], "{step}: {refused}");
    }

    shown.display("state", &server.state());
    shown.debug("pending faults", &server.pending_faults());
}

/// Every kind of error a caller can meet, each recorded in `shown`.
fn provoke_errors(
    transport: &str,
    server: &MockServer,
    admin: &Caller,
    user_id: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
    shown: &mut Shown,
    secrets: &mut Secrets,
) {
    let url = server.url();

    // An invalid argument, refused before signing.
    admin
        .send(&GetApiUser::new(""), shown)
        .expect_err("an empty id");
    // A dropped answer on a read: retried (and logged as a retry), then fine.
    server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("ListPrimeApiUserKeys"));
    admin
        .send(&ListApiUserKeys::new(user_id), shown)
        .expect("retried");
    // A dropped answer on a creation: outcome unknown.
    server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("CreatePrimeApiUserKey"));
    let error = admin
        .send(&CreateApiUserKey::new(user_id), shown)
        .expect_err("dropped");
    assert!(error.is_outcome_unknown(), "{error:?}");
    // A malformed answer that carries a new key's secret: the error recovers it (and keeps the
    // raw body); neither may show it.
    server.push_fault(Fault::new(FaultKind::MalformedJson).on("CreatePrimeApiUserKey"));
    let error = admin
        .send(&CreateApiUserKey::new(user_id), shown)
        .expect_err("malformed");
    let Some(response @ ResponseError::KeyCreated { key, .. }) = error.response() else {
        panic!("expected a recovered key, got {error:?}");
    };
    let body = response.body();
    let secret = secret_in_body(body).expect("the secret is in the kept body");
    assert_eq!(key.api_secret().expose(), secret);
    shown.debug("SalvagedKey", key);
    secrets.add(
        &format!("{transport} secret in a malformed answer"),
        &secret,
    );
    shown.debug("RawBody", body);
    // An answer cut short, a 502 page, a 500, service errors, a rate limit that outlasts the
    // retries, a refused nonce twice.
    for (fault, method) in [
        (FaultKind::TruncatedBody, "ListPrimeApiUserKeys"),
        (FaultKind::BadGatewayHtml, "CreatePrimeApiUserKey"),
        (FaultKind::InternalServerError, "CreatePrimeApiUserKey"),
        (FaultKind::service_busy(), "CreatePrimeApiUserKey"),
        (FaultKind::rate_limited(), "ListPrimeApiUserKeys"),
        (
            FaultKind::KrakenError("EAPI:Invalid nonce".to_owned()),
            "ListPrimeApiUserKeys",
        ),
    ] {
        shown.debug("FaultKind", &fault);
        shown.display("FaultKind", &fault);
        server.push_fault(Fault::new(fault).on(method).times(5));
        let result = match method {
            "CreatePrimeApiUserKey" => admin
                .send(&CreateApiUserKey::new(user_id), shown)
                .map(|_| ()),
            _ => admin
                .send(&ListApiUserKeys::new(user_id), shown)
                .map(|_| ()),
        };
        result.expect_err("the fault outlasts the retries");
        server.clear_faults();
    }
    // An oversized answer, and a timeout.
    let small = Caller::new(
        transport,
        Settings {
            tls: tls.clone(),
            max_response_bytes: 2048,
            ..Settings::new(&url, server.account_credentials())
        },
        shown,
    );
    server.push_fault(Fault::new(FaultKind::OversizedBody(1 << 20)).on("ListPrimeApiUsers"));
    small
        .send(&ListApiUsers::new(), shown)
        .expect_err("over the cap");
    let impatient = Caller::new(
        transport,
        Settings {
            tls: tls.clone(),
            timeout: Duration::from_millis(150),
            ..Settings::new(&url, server.account_credentials())
        },
        shown,
    );
    server.push_fault(
        Fault::new(FaultKind::Delay(Duration::from_millis(600)))
            .on("ListPrimeApiUsers")
            .times(5),
    );
    impatient
        .send(&ListApiUsers::new(), shown)
        .expect_err("timed out");
    server.clear_faults();
    // Nothing listening: not sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let unreachable = format!("{scheme}://127.0.0.1:{port}");
    let nowhere = Caller::new(
        transport,
        Settings {
            tls,
            ..Settings::new(&unreachable, server.account_credentials())
        },
        shown,
    );
    let error = nowhere
        .send(&ListApiUsers::new(), shown)
        .expect_err("nothing listens");
    assert!(!error.is_outcome_unknown(), "{error:?}");
    // Malformed credentials made from the real secrets.
    let account = server.account_secret().expose();
    for bad in [
        format!("{account}\n"),
        account[..44].to_owned(),
        account.replacen('A', "!", 1).replacen('a', "!", 1),
        account.replace('/', "_"),
        String::new(),
    ] {
        if let Err(error) = Credentials::new(server.account_api_key(), &bad) {
            shown.error("CredentialsError", &error);
        }
    }
    // A builder refusing a setting.
    if let Err(error) = prime_blocking::Client::builder(server.account_credentials())
        .base_url("ftp://nowhere")
        .build()
    {
        shown.error("bad base URL", &error);
    }
}

/// Records from every source the test claims to cover must be there, or the scan proves
/// nothing.
fn assert_sources_captured(records: &[LogRecord]) {
    let targets: BTreeSet<&str> = records
        .iter()
        .map(|r| r.target.split("::").next().unwrap_or_default())
        .collect();
    // Both clients log through prime-core's call driver (retries, warnings, outcomes).
    for expected in ["prime_core", "prime_mock", "ureq", "ureq_proto", "rustls"] {
        assert!(
            targets.contains(expected),
            "nothing captured from {expected}; captured: {targets:?}"
        );
    }
    assert!(
        records
            .iter()
            .filter(|r| r.text.contains("retrying"))
            .count()
            >= 4,
        "the transports' retries were logged"
    );
}

#[test]
fn the_workflow_on_both_transports_shows_no_secret_in_logs_debug_or_display() {
    let captured = capture();
    let started = Instant::now();
    let mut shown = Shown::default();
    let mut secrets = Secrets::default();

    let tls = SelfSignedTls::generate();
    let mut servers = Vec::new();
    for (transport, seed, over_tls) in [
        ("blocking", 31, false),
        ("async", 32, false),
        ("blocking", 33, true),
        ("async", 34, true),
    ] {
        let mut builder = MockServer::builder().seed(seed);
        if over_tls {
            builder = builder.tls(tls.server.clone());
        }
        let server = builder.start().expect("the simulator starts");
        secrets.add(
            &format!("account secret (seed {seed})"),
            server.account_secret().expose(),
        );
        let client_tls = over_tls.then(|| tls.client.clone());
        workflow(transport, &server, client_tls, &mut shown, &mut secrets);
        servers.push(server);
    }
    // Stop the simulators so their last records are in.
    drop(servers);
    let elapsed = started.elapsed();

    // 4 account secrets, 4 key secrets, 4 minted account-key secrets and their 4 2FA
    // passwords, 4 secrets seen in malformed answers.
    assert_eq!(secrets.len(), 20);
    let mut leaks = Vec::new();
    for (label, text) in &shown.0 {
        for what in secrets.found_in(text) {
            leaks.push(format!("{label} shows {what}"));
        }
    }
    let records = captured.records();
    assert_sources_captured(&records);
    let mut wire_dump_hits = 0;
    for record in &records {
        let found = secrets.found_in(&record.text);
        if found.is_empty() {
            continue;
        }
        if record.passes_the_cli_filter() {
            leaks.push(format!(
                "a {} record from {} shows {found:?}",
                record.level, record.target
            ));
        } else {
            wire_dump_hits += 1;
        }
    }
    eprintln!(
        "hygiene: {} values shown, {} log records captured in {elapsed:?}; {wire_dump_hits} \
         ureq-proto TRACE wire-dump records hold secret bytes (filtered by `prime`, documented \
         in prime-blocking)",
        shown.0.len(),
        records.len()
    );
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

// ---------------------------------------------------------------------------------------
// The `prime` binary

/// The workspace's `prime` binary for the profile these tests were built with. It is used as
/// is when it is newer than every source it is built from (as after `cargo test --workspace`,
/// which builds it for prime-cli's own tests); otherwise cargo builds it first, so the test
/// never runs a stale binary.
fn prime_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // <target>/<profile>/deps/hygiene-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from <target>/<profile>/deps");
    let binary = profile_dir.join(format!("prime{}", std::env::consts::EXE_SUFFIX));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace");
    let built = std::fs::metadata(&binary).and_then(|m| m.modified()).ok();
    if built.is_some_and(|built| built >= newest_source(workspace)) {
        return binary;
    }
    let target_dir = profile_dir.parent().expect("<target>/<profile>");
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a profile directory name");
    let mut build = Command::new(env!("CARGO"));
    build
        .args(["build", "--quiet", "-p", "prime-cli", "--bin", "prime"])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir);
    match profile {
        "debug" => {}
        "release" => {
            build.arg("--release");
        }
        other => {
            build.args(["--profile", other]);
        }
    }
    let status = build.status().expect("cargo runs");
    assert!(
        status.success(),
        "cargo build -p prime-cli failed: {status}"
    );
    assert!(binary.is_file(), "{} was not built", binary.display());
    binary
}

/// The latest change to anything the `prime` binary is built from.
fn newest_source(workspace: &Path) -> std::time::SystemTime {
    fn walk(path: &Path, newest: &mut std::time::SystemTime) {
        let Ok(metadata) = std::fs::metadata(path) else {
            return;
        };
        if metadata.is_dir() {
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                walk(&entry.path(), newest);
            }
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "toml" || e == "lock")
            && let Ok(modified) = metadata.modified()
        {
            *newest = (*newest).max(modified);
        }
    }
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for part in [
        "Cargo.toml",
        "Cargo.lock",
        "crates/prime-core",
        "crates/prime-blocking",
        "crates/prime-mock",
        "crates/prime-cli",
    ] {
        walk(&workspace.join(part), &mut newest);
    }
    newest
}

/// Runs `command` to completion within `limit`, killing it if it overruns.
fn run_bounded(command: &mut Command, limit: Duration) -> (bool, String, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped")));
    let stderr = read(Box::new(child.stderr.take().expect("piped")));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    assert!(status.is_some(), "the binary overran {limit:?}:\n{stderr}");
    (status.is_some_and(|s| s.success()), stdout, stderr)
}

#[test]
fn prime_demo_at_trace_prints_no_secret() {
    const SEED: u64 = 4242;
    let binary = prime_binary();

    // The same seeded simulator the demo starts: its account secret, and (by repeating the
    // demo's calls up to the key creation) the secret of the key the demo creates.
    let server = MockServer::builder()
        .seed(SEED)
        .start()
        .expect("the simulator starts");
    let client = prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .build()
        .expect("a client");
    let user = client
        .create_api_user("Demo Trader", Role::Trader)
        .expect("user");
    client.get_api_user(&user.id).expect("get");
    client.list_api_users().expect("list");
    let key = client.create_api_user_key(&user.id).expect("key");
    let mut secrets = Secrets::default();
    secrets.add("the account secret", server.account_secret().expose());
    secrets.add("the demo key's secret", key.api_secret().expose());

    let (success, stdout, stderr) = run_bounded(
        Command::new(&binary)
            .args(["-vv", "demo", "--seed", &SEED.to_string()])
            .env("PRIME_LOG", "trace")
            .env("NO_COLOR", "1"),
        Duration::from_secs(60),
    );
    assert!(success, "prime demo failed:\n{stdout}\n{stderr}");
    // The demo created the very key whose secret we know, and logged at full verbosity.
    assert!(
        stdout.contains(&format!("api_key={}", key.api_key)),
        "the demo's key is not the reproduced one:\n{stdout}"
    );
    assert!(stderr.contains("TRACE"), "no TRACE logging:\n{stderr}");
    assert!(
        stderr.contains("prime_mock") && stderr.contains("ureq"),
        "the simulator's and ureq's records are missing:\n{stderr}"
    );
    eprintln!(
        "prime -vv demo: {} stdout and {} stderr lines",
        stdout.lines().count(),
        stderr.lines().count()
    );

    let output = format!("{stdout}\n{stderr}");
    assert_eq!(
        secrets.found_in(&output),
        Vec::<&str>::new(),
        "the demo printed a secret"
    );
    assert_eq!(
        secret_shaped(&output),
        Vec::<String>::new(),
        "the demo printed something shaped like a secret"
    );
    // The wire dump (hex of every byte) is what carried the key's secret before `prime`
    // capped it; it must stay off.
    assert!(
        !stderr.contains("ureq_proto::util"),
        "ureq-proto's wire dump is on"
    );
}

#[test]
fn the_scanner_finds_a_secret_in_every_shape_it_looks_for() {
    // The scan above can only pass honestly if it would have failed on a leak.
    let secret = prime_core::example::SECRET;
    let mut secrets = Secrets::default();
    secrets.add("s", secret);
    let decoded = decode_base64(secret).expect("valid");
    assert_eq!(decoded.len(), 64);
    let hex_dump: String = secret
        .as_bytes()
        .chunks(16)
        .map(|row| {
            let groups: Vec<String> = row
                .chunks(2)
                .map(|pair| pair.iter().map(|b| format!("{b:02x}")).collect())
                .collect();
            format!("TRACE ureq_proto::util: {}\n", groups.join(" "))
        })
        .collect();
    for leak in [
        secret.to_owned(),
        format!("prefix {} suffix", &secret[30..45]),
        hex_dump,
        format!("{:?}", &decoded[10..20]),
        decoded[20..30]
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>(),
    ] {
        assert_eq!(secrets.found_in(&leak), ["s"], "missed: {leak}");
    }
    assert!(secrets.found_in("ApiSecret(<redacted>)").is_empty());
    assert_eq!(secret_shaped(&format!("x {secret} y")), [secret]);
    assert!(secret_shaped(&secret[..44]).is_empty());
}
