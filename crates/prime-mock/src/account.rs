//! The simulated Prime account and the checks every private call goes through.
//!
//! The order of checks is the simulator's (Kraken documents none). The first failure
//! answers; a refused call never uses up its nonce, but with the rate-limit model on it
//! counts towards the limits, as Kraken support says refused calls do.
//!
//! 1. `API-Key` names a live account (REST) key → else `EAPI:Invalid key` (keys that
//!    CreatePrimeApiUserKey issued are Prime WebSocket/FIX credentials: `EAPI:Invalid key`
//!    here too, the simulator's choice);
//! 2. with the rate-limit model on: the key is not locked out → else
//!    `EGeneral:Temporary lockout`; the call is counted and the counter has room → else
//!    `EAPI:Rate limit exceeded`;
//! 3. with [`CheckOrder::allow_list_first`]: the allow-list (step 7) comes here;
//! 4. the body parses as its `Content-Type` (JSON, or a flat form) and has one `nonce` → else
//!    `EGeneral:Invalid arguments[:nonce]` (the reason goes to the log);
//! 5. `API-Sign` matches the signed path, the nonce's text as sent and the exact body
//!    (constant time), and a key with API 2FA got its `otp` → else `EAPI:Invalid signature`;
//! 6. the nonce is plain digits (`EGeneral:Invalid arguments:nonce`) above the key's last
//!    accepted one, or inside its window and unused → else `EAPI:Invalid nonce`;
//! 7. the peer address is on the key's IP allow-list, when it has one → else
//!    `EGeneral:Permission denied`;
//! 8. the key holds the permission the method documents → else `EGeneral:Permission denied`
//!    (after step 9 with [`CheckOrder::arguments_before_permission`]);
//! 9. the fields match the endpoint's request type and its validation → else
//!    `EGeneral:Invalid arguments:<field>`;
//! 10. the call itself (unknown ids → `EGeneral:Invalid arguments:<field>`, settlement rules
//!     → the strings in [`crate::errors`]).
//!
//! With the rate-limit model on, every refusal after step 1 counts towards a lockout.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prime_core::diagnosis::{Diagnoser, Mistake, RestInputs};
use prime_core::endpoints::{self, Permission, Role, UserStatus};
use prime_core::{ApiSecret, Endpoint, ErrorCode, SigningKey};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::account_keys::{AccountKeySpec, MintedKey};
use crate::arguments::{BodyFormat, InvalidArguments, RequestBody};
use crate::id_source::IdSource;
use crate::ledger::{Batch, Transfer, UnsettledTrade};
use crate::nonce_guard::NonceGuard;
use crate::rate_limit::{KeyLimits, RateLimits};

fn reject(code: &ErrorCode) -> Rejection {
    code.as_str().to_owned()
}

/// Where two checks go in the order a call is checked
/// ([`MockBuilder::check_order`](crate::MockBuilder::check_order)).
///
/// Kraken documents no order of checks. The simulator's (the crate docs list it) answers a
/// wrong signature before anything about the call's content, and puts the IP allow-list
/// after the nonce and the permission before the arguments. The two steps whose place is
/// least certain can be moved, to check that a client does not depend on which of two
/// refusals comes first.
///
/// ```
/// use prime_mock::{CheckOrder, MockServer};
///
/// let order = CheckOrder::default().allow_list_first(true).arguments_before_permission(true);
/// let server = MockServer::builder().check_order(order).start()?;
/// assert_eq!(server.state()["check_order"]["allow_list_first"], true);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckOrder {
    /// Check the peer address against the key's IP allow-list right after the key, before
    /// the body, the signature and the nonce (as a gateway in front of the API would).
    pub allow_list_first: bool,
    /// Check the arguments before the key's permission, so a call with bad arguments from a
    /// key without the permission gets `EGeneral:Invalid arguments` rather than
    /// `EGeneral:Permission denied`.
    pub arguments_before_permission: bool,
}

impl CheckOrder {
    /// Sets [`CheckOrder::allow_list_first`].
    #[must_use]
    pub fn allow_list_first(mut self, on: bool) -> Self {
        self.allow_list_first = on;
        self
    }

    /// Sets [`CheckOrder::arguments_before_permission`].
    #[must_use]
    pub fn arguments_before_permission(mut self, on: bool) -> Self {
        self.arguments_before_permission = on;
        self
    }

    pub(crate) fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "allow_list_first": self.allow_list_first,
            "arguments_before_permission": self.arguments_before_permission,
        })
    }
}

/// The `error` string a refused call answers with.
pub(crate) type Rejection = String;

/// The methods the simulator serves, generated from prime-core's endpoint table: their names,
/// and the dispatch of a call to the handler named like the clients' typed method (a new row
/// in the table without a handler here does not compile).
macro_rules! methods {
    (() $($(#[$doc:meta])* $endpoint:path as $handler:ident($($arg:ident: $ty:ty),*) -> $out:ty = $make:expr => |$result:ident| $output:expr;)*) => {
        /// The method names, in the table's order.
        const METHOD_NAMES: &[&str] = &[$(<$endpoint as Endpoint>::NAME),*];
        /// The key permission each method needs, in the table's order.
        const METHOD_PERMISSIONS: &[Option<Permission>] = &[$(<$endpoint as Endpoint>::PERMISSION),*];

        impl Account {
            /// Decodes the arguments as the method's request type and runs its handler.
            fn execute(&mut self, method: Method, body: &RequestBody<'_>) -> Result<Vec<u8>, Rejection> {
                $(
                    if method.name() == <$endpoint as Endpoint>::NAME {
                        let args = body.arguments::<$endpoint>(self.unknown_fields).map_err(|e| e.to_string())?;
                        return self.$handler(args);
                    }
                )*
                Err(format!("no handler for {}", method.name()))
            }

            /// Decodes the arguments as the method's request type, without running it.
            fn check_arguments(&self, method: Method, body: &RequestBody<'_>) -> Result<(), Rejection> {
                $(
                    if method.name() == <$endpoint as Endpoint>::NAME {
                        return body
                            .arguments::<$endpoint>(self.unknown_fields)
                            .map(drop)
                            .map_err(|e| e.to_string());
                    }
                )*
                Err(format!("no handler for {}", method.name()))
            }
        }
    };
}

prime_core::for_each_endpoint!(methods!());

/// One of the Prime REST methods, by its place in [`METHOD_NAMES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Method(usize);

impl Method {
    /// Every method, in the endpoint table's order.
    pub(crate) fn all() -> impl Iterator<Item = Self> {
        (0..METHOD_NAMES.len()).map(Self)
    }

    /// The method for a path segment, if it is one of the 13.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        METHOD_NAMES
            .iter()
            .position(|known| *known == name)
            .map(Self)
    }

    /// The method name as it appears in the path, e.g. `CreatePrimeApiUserKey`.
    pub(crate) fn name(self) -> &'static str {
        METHOD_NAMES[self.0]
    }

    /// The key permission Kraken documents for the method (from the endpoint table): only the
    /// settlement endpoints name one.
    fn permission(self) -> Option<Permission> {
        METHOD_PERMISSIONS[self.0]
    }
}

/// One private call as received.
pub(crate) struct ReceivedCall<'a> {
    pub(crate) method: Method,
    /// The path and query as received: what `API-Sign` covers.
    pub(crate) signed_path: &'a str,
    pub(crate) api_key: Option<&'a [u8]>,
    pub(crate) api_sign: Option<&'a [u8]>,
    pub(crate) content_type: Option<&'a [u8]>,
    pub(crate) body: &'a [u8],
    pub(crate) peer: IpAddr,
    /// The `Host` header, for the full-URL mistake of the signature diagnosis.
    pub(crate) host: Option<&'a str>,
}

impl<'a> ReceivedCall<'a> {
    /// The call carried by a request's URI, headers and body bytes.
    pub(crate) fn new(
        method: Method,
        uri: &'a prime_core::http::Uri,
        headers: &'a prime_core::http::HeaderMap,
        body: &'a [u8],
        peer: IpAddr,
    ) -> Self {
        Self {
            method,
            signed_path: uri
                .path_and_query()
                .map_or_else(|| uri.path(), |pq| pq.as_str()),
            api_key: headers
                .get("API-Key")
                .map(prime_core::http::HeaderValue::as_bytes),
            api_sign: headers
                .get("API-Sign")
                .map(prime_core::http::HeaderValue::as_bytes),
            content_type: headers
                .get(prime_core::http::header::CONTENT_TYPE)
                .map(prime_core::http::HeaderValue::as_bytes),
            body,
            peer,
            host: headers
                .get(prime_core::http::header::HOST)
                .and_then(|h| h.to_str().ok()),
        }
    }
}

/// An `EAPI:Invalid signature` the simulator returned, with the mistakes that reproduce the
/// signature (prime-core's diagnosis). Holds no secret: the method, the path, the key's
/// public id and mistake ids.
#[derive(Debug, Clone)]
pub(crate) struct SignatureRejection {
    method: &'static str,
    path: String,
    api_key: String,
    mistakes: Vec<Mistake>,
    /// Set when the signature was right and the API 2FA password was missing or wrong.
    second_factor: Option<SecondFactor>,
}

/// What was wrong with the `otp` of a correctly signed call.
#[derive(Debug, Clone, Copy)]
enum SecondFactor {
    Missing,
    Wrong,
}

impl SignatureRejection {
    /// A correctly signed call refused for its API 2FA password (Kraken answers it as
    /// `EAPI:Invalid signature` too).
    fn second_factor(call: &ReceivedCall<'_>, sent: bool) -> Self {
        Self {
            method: call.method.name(),
            path: call.signed_path.to_owned(),
            api_key: call
                .api_key
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .unwrap_or_default(),
            mistakes: Vec::new(),
            second_factor: Some(if sent {
                SecondFactor::Wrong
            } else {
                SecondFactor::Missing
            }),
        }
    }

    fn diagnose(diagnoser: &Diagnoser, call: &ReceivedCall<'_>, nonce: &str) -> Self {
        let mistakes = match call.api_sign.map(std::str::from_utf8) {
            Some(Ok(sign)) => {
                let origins: Vec<String> = call
                    .host
                    .map(|host| vec![format!("http://{host}"), format!("https://{host}")])
                    .unwrap_or_default();
                let mut all: Vec<&str> = origins.iter().map(String::as_str).collect();
                all.push(prime_core::diagnosis::KRAKEN_REST_ORIGIN);
                let inputs = RestInputs::new(call.signed_path, nonce, call.body).with_origins(&all);
                diagnoser.diagnose(&inputs, sign)
            }
            _ => Vec::new(),
        };
        Self {
            method: call.method.name(),
            path: call.signed_path.to_owned(),
            api_key: call
                .api_key
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .unwrap_or_default(),
            mistakes,
            second_factor: None,
        }
    }

    /// The ids, comma-separated, or `unknown`.
    pub(crate) fn ids(&self) -> String {
        if let Some(second_factor) = self.second_factor {
            second_factor.id().to_owned()
        } else if self.mistakes.is_empty() {
            "unknown".to_owned()
        } else {
            self.mistakes
                .iter()
                .map(|m| m.id())
                .collect::<Vec<_>>()
                .join(",")
        }
    }

    /// `{"error", "method", "path", "api_key", "diagnosis": [{"id", "explanation"}]}`; the
    /// diagnosis is `[{"id": "unknown", …}]` when no known mistake reproduces the signature.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let diagnosis: Vec<_> = if let Some(second_factor) = self.second_factor {
            vec![serde_json::json!({
                "id": second_factor.id(),
                "explanation": second_factor.explanation(),
            })]
        } else if self.mistakes.is_empty() {
            vec![serde_json::json!({
                "id": "unknown",
                "explanation": "no known mistake reproduces this signature (wrong secret, or a different body/nonce/path was signed)",
            })]
        } else {
            self.mistakes
                .iter()
                .map(|m| serde_json::json!({ "id": m.id(), "explanation": m.explanation() }))
                .collect()
        };
        serde_json::json!({
            "error": ErrorCode::InvalidSignature.as_str(),
            "method": self.method,
            "path": self.path,
            "api_key": self.api_key,
            "diagnosis": diagnosis,
        })
    }
}

/// A nonce refusal: the nonce sent and the key's high-water mark (the highest nonce it
/// accepted), so a client can see how far off it was and in which unit each looks.
#[derive(Debug, Clone)]
pub(crate) struct NonceRejection {
    method: &'static str,
    path: String,
    api_key: String,
    nonce: u64,
    high_water_mark: Option<u64>,
    window: u64,
}

impl NonceRejection {
    /// `{"error", "method", "path", "api_key", "nonce", "high_water_mark", "window", "units":
    /// {"nonce", "high_water_mark"}}`; a unit is `ms`, `us`, `ns` or `null` as
    /// `NonceUnit::guess` reads the number.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let unit = |n: u64| prime_core::NonceUnit::guess(n).map(prime_core::NonceUnit::as_str);
        serde_json::json!({
            "error": ErrorCode::InvalidNonce.as_str(),
            "method": self.method,
            "path": self.path,
            "api_key": self.api_key,
            "nonce": self.nonce,
            "high_water_mark": self.high_water_mark,
            "window": self.window,
            "units": {
                "nonce": unit(self.nonce),
                "high_water_mark": self.high_water_mark.and_then(unit),
            },
        })
    }
}

/// The latest refusal a client may want explained (`GET /__mock/last-rejection`).
#[derive(Debug, Clone)]
pub(crate) enum LastRejection {
    /// `EAPI:Invalid signature`, with the mistakes that reproduce it.
    Signature(SignatureRejection),
    /// `EAPI:Invalid nonce`, with the key's high-water mark.
    Nonce(NonceRejection),
}

impl LastRejection {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Signature(rejection) => rejection.to_json(),
            Self::Nonce(rejection) => rejection.to_json(),
        }
    }
}

impl SecondFactor {
    fn id(self) -> &'static str {
        match self {
            Self::Missing => "otp-missing",
            Self::Wrong => "otp-wrong",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            Self::Missing => {
                "the signature is right, but the key requires API 2FA and the body has no `otp` \
                 field: send the key's 2FA password or current TOTP code as `otp` (prime: --otp \
                 or KRAKEN_API_OTP)"
            }
            Self::Wrong => {
                "the signature is right, but the body's `otp` is not the key's 2FA password or \
                 current TOTP code"
            }
        }
    }
}

pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) status: UserStatus,
}

impl User {
    pub(crate) fn to_api(&self) -> endpoints::ApiUser {
        endpoints::ApiUser {
            id: self.id.clone(),
            name: self.name.clone(),
            status: self.status.clone(),
            roles: vec![self.role.clone()],
            extra: endpoints::Extra::new(),
        }
    }
}

/// What a key authenticates with, by kind.
pub(crate) enum KeyAuth {
    /// An account (REST) key: all that is kept of its base64 secret is the prepared signing
    /// key (enough to verify, never the secret) and the key a client gets by keying HMAC with
    /// the secret's base64 text (to name that mistake), with its permissions and optional 2FA.
    Rest {
        diagnoser: Box<Diagnoser>,
        permissions: Vec<Permission>,
        otp: Option<Zeroizing<String>>,
    },
    /// A key CreatePrimeApiUserKey issued, for Prime WebSocket and FIX. Those protocols use
    /// the secret's text as an HMAC-SHA256 key, so the text itself is kept (zeroized on drop).
    Issued { secret: Zeroizing<String> },
}

pub(crate) struct Key {
    pub(crate) id: String,
    pub(crate) api_key: String,
    /// Index into the users; `None` for account keys.
    pub(crate) owner: Option<usize>,
    pub(crate) auth: KeyAuth,
    pub(crate) whitelisted_ips: Vec<String>,
    pub(crate) updated_at: i64,
    pub(crate) deleted: bool,
    pub(crate) nonces: NonceGuard,
    pub(crate) limits: KeyLimits,
}

impl Key {
    fn allows(&self, peer: IpAddr) -> bool {
        self.whitelisted_ips.is_empty()
            || self
                .whitelisted_ips
                .iter()
                .any(|entry| ip_matches(entry, peer))
    }
}

/// Whether `peer` is `entry` (an address or a CIDR range, as the core validates them).
pub(crate) fn ip_matches(entry: &str, peer: IpAddr) -> bool {
    let peer = peer.to_canonical();
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => (address, prefix.parse::<u32>().ok()),
        None => (entry, None),
    };
    let Ok(address) = address.parse::<IpAddr>() else {
        return false;
    };
    match (address.to_canonical(), peer) {
        (IpAddr::V4(net), IpAddr::V4(peer)) => {
            let bits = prefix.unwrap_or(32).min(32);
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(net) & mask == u32::from(peer) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(peer)) => {
            let bits = prefix.unwrap_or(128).min(128);
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(net) & mask == u128::from(peer) & mask
        }
        _ => false,
    }
}

/// A live issued key as Prime WebSocket/FIX checks need it: the secret text (the HMAC-SHA256
/// key), its user and the allow-list.
// The WebSocket and FIX checks read the secret and the allow-list; the user is for tests and
// logs.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct IssuedKeyView<'a> {
    pub(crate) api_key: &'a str,
    pub(crate) secret: &'a str,
    pub(crate) user_id: &'a str,
    pub(crate) role: &'a Role,
    pub(crate) whitelisted_ips: &'a [String],
}

/// Unix milliseconds that strictly increase, so batches created in the same millisecond
/// still have a defined order.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    last: i64,
}

impl Clock {
    pub(crate) fn now_ms(&mut self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.last = wall.max(self.last.saturating_add(1));
        self.last
    }
}

/// The account key as issued at start: shown to whoever starts the simulator.
pub(crate) struct AccountKey {
    pub(crate) api_key: String,
    pub(crate) secret: ApiSecret,
}

/// Users, keys, trades, batches and transfers, plus everything needed to check calls.
pub(crate) struct Account {
    pub(crate) ids: IdSource,
    pub(crate) clock: Clock,
    pub(crate) users: Vec<User>,
    pub(crate) keys: Vec<Key>,
    key_index: HashMap<String, usize>,
    pub(crate) trades: Vec<UnsettledTrade>,
    pub(crate) batches: Vec<Batch>,
    pub(crate) transfers: Vec<Transfer>,
    executions: HashMap<Method, u64>,
    /// The rate-limit and lockout model, when on.
    pub(crate) rate_limits: Option<RateLimits>,
    /// What the simulator does with request fields the endpoint does not define.
    pub(crate) unknown_fields: crate::UnknownFields,
    /// Where the allow-list and argument checks go.
    pub(crate) check_order: CheckOrder,
    /// The latest `EAPI:Invalid signature` and what reproduces it
    /// (`GET /__mock/last-rejection`).
    pub(crate) last_rejection: Option<LastRejection>,
}

impl Account {
    /// A fresh account whose only key is the account key.
    pub(crate) fn new(
        seed: u64,
        rate_limits: Option<RateLimits>,
        seed_trades: bool,
    ) -> (Self, AccountKey) {
        let mut simulator = Self {
            ids: IdSource::new(seed),
            clock: Clock::default(),
            users: Vec::new(),
            keys: Vec::new(),
            key_index: HashMap::new(),
            trades: Vec::new(),
            batches: Vec::new(),
            transfers: Vec::new(),
            executions: HashMap::new(),
            rate_limits,
            unknown_fields: crate::UnknownFields::default(),
            check_order: CheckOrder::default(),
            last_rejection: None,
        };
        let MintedKey {
            api_key,
            api_secret: secret,
            ..
        } = simulator.mint_account_key(&AccountKeySpec::new(Permission::ALL));
        if seed_trades {
            simulator.seed_trades();
        }
        (simulator, AccountKey { api_key, secret })
    }

    /// Creates an account (REST) key and returns its public key and base64 secret: the only
    /// time the secret exists as text.
    pub(crate) fn mint_account_key(&mut self, spec: &AccountKeySpec) -> MintedKey {
        let api_key = self.unique(IdSource::api_key, |s, key| s.key_index.contains_key(key));
        let mut secret_bytes = self.ids.secret();
        let signing_key = SigningKey::from_bytes(&secret_bytes);
        let secret = ApiSecret::new(STANDARD.encode(secret_bytes));
        let text_key = SigningKey::from_bytes(secret.expose().as_bytes());
        // Best effort: the prepared key is all the simulator keeps.
        secret_bytes.fill(0);
        let mut permissions = spec.permissions.clone();
        permissions.dedup();
        self.push_key(
            api_key.clone(),
            None,
            KeyAuth::Rest {
                diagnoser: Box::new(Diagnoser::new(signing_key, Some(text_key))),
                permissions,
                otp: spec.otp.clone(),
            },
        );
        if let Some(key) = self.keys.last_mut() {
            key.whitelisted_ips.clone_from(&spec.whitelisted_ips);
        }
        MintedKey {
            api_key,
            api_secret: secret,
            otp: spec.otp.clone(),
        }
    }

    /// Issues a Prime WebSocket/FIX key for the user at index `owner`, shaped like the
    /// documented example (`KRA5L19LAW8Z` / `6xq8p1mvk9r3n7swt2l5cj4eaydhzbf`). Returns the key
    /// and its secret text.
    pub(crate) fn issue_key(&mut self, owner: usize) -> (String, ApiSecret) {
        let api_key = self.unique(IdSource::issued_api_key, |s, key| {
            s.key_index.contains_key(key)
        });
        let secret = self.ids.issued_secret();
        let answer = ApiSecret::new(secret.to_string());
        self.push_key(api_key.clone(), Some(owner), KeyAuth::Issued { secret });
        (api_key, answer)
    }

    fn push_key(&mut self, api_key: String, owner: Option<usize>, auth: KeyAuth) {
        let id = self.unique(IdSource::key_id, |s, id| s.keys.iter().any(|k| k.id == id));
        let updated_at = self.clock.now_ms();
        self.key_index.insert(api_key.clone(), self.keys.len());
        self.keys.push(Key {
            id,
            api_key,
            owner,
            auth,
            whitelisted_ips: Vec::new(),
            updated_at,
            deleted: false,
            nonces: NonceGuard::default(),
            limits: KeyLimits::default(),
        });
    }

    /// Draws ids until one is not taken (a collision needs 36^13 luck, but ids must be unique
    /// even then).
    fn unique(
        &mut self,
        draw: fn(&mut IdSource) -> String,
        taken: impl Fn(&Self, &str) -> bool,
    ) -> String {
        loop {
            let id = draw(&mut self.ids);
            if !taken(self, &id) {
                return id;
            }
        }
    }

    pub(crate) fn new_user_id(&mut self) -> String {
        self.unique(IdSource::user_id, |s, id| {
            s.users.iter().any(|u| u.id == id)
        })
    }

    pub(crate) fn new_batch_id(&mut self) -> String {
        self.unique(IdSource::batch_id, |s, id| {
            s.batches.iter().any(|b| b.id == id)
        })
    }

    pub(crate) fn user_index(&self, user_id: &str) -> Option<usize> {
        self.users.iter().position(|u| u.id == user_id)
    }

    /// The live key with this public key, if any, of either kind.
    fn live_key(&self, api_key: &[u8]) -> Option<usize> {
        let api_key = std::str::from_utf8(api_key).ok()?;
        let index = *self.key_index.get(api_key)?;
        let key = &self.keys[index];
        let owner_enabled = key
            .owner
            .is_none_or(|user| self.users[user].status == UserStatus::Enabled);
        (!key.deleted && owner_enabled).then_some(index)
    }

    /// A live key that CreatePrimeApiUserKey issued (not deleted, its user enabled), as the
    /// WebSocket and FIX checks need it.
    pub(crate) fn live_issued_key(&self, api_key: &str) -> Option<IssuedKeyView<'_>> {
        let key = &self.keys[self.live_key(api_key.as_bytes())?];
        let (KeyAuth::Issued { secret }, Some(owner)) = (&key.auth, key.owner) else {
            return None;
        };
        let user = &self.users[owner];
        Some(IssuedKeyView {
            api_key: &key.api_key,
            secret,
            user_id: &user.id,
            role: &user.role,
            whitelisted_ips: &key.whitelisted_ips,
        })
    }

    /// Checks and executes one call. `Ok` is the complete success body; `Err` the error string.
    ///
    /// With the rate-limit model on, a call naming a live account key is counted first, and a
    /// locked-out or over-limit key is refused before anything else is checked; any refusal
    /// then counts towards a lockout.
    pub(crate) fn handle(&mut self, call: &ReceivedCall<'_>) -> Result<Vec<u8>, Rejection> {
        let key = call
            .api_key
            .and_then(|k| self.live_key(k))
            .ok_or_else(|| reject(&ErrorCode::InvalidKey))?;
        let Some(model) = self.rate_limits.clone() else {
            return self.check_and_execute(key, call);
        };
        if !matches!(self.keys[key].auth, KeyAuth::Rest { .. }) {
            return self.check_and_execute(key, call);
        }
        let now = Instant::now();
        let limits = &mut self.keys[key].limits;
        let outcome = match limits.arrive(&model, now) {
            Err(ErrorCode::TemporaryLockout) => return Err(reject(&ErrorCode::TemporaryLockout)),
            Err(refusal) => Err(reject(&refusal)),
            Ok(()) => self.check_and_execute(key, call),
        };
        let limits = &mut self.keys[key].limits;
        match &outcome {
            Ok(_) => limits.executed(&model, now),
            Err(_) => limits.refused(&model, now),
        }
        outcome
    }

    /// The checks after the key is known, in the order of the module docs, and the call.
    fn check_and_execute(
        &mut self,
        key: usize,
        call: &ReceivedCall<'_>,
    ) -> Result<Vec<u8>, Rejection> {
        let KeyAuth::Rest {
            diagnoser,
            permissions,
            otp,
        } = &self.keys[key].auth
        else {
            // Issued keys are for Prime WebSocket and FIX, not REST (the simulator's choice of
            // answer; Kraken documents none).
            return Err(reject(&ErrorCode::InvalidKey));
        };
        // Kraken documents no order of checks; the simulator's is in the module docs, and
        // `CheckOrder` moves the two steps whose place is least certain.
        let order = self.check_order;
        let allowed = self.keys[key].allows(call.peer);
        if order.allow_list_first && !allowed {
            return Err(reject(&ErrorCode::PermissionDenied));
        }
        let body = BodyFormat::from_content_type(call.content_type)
            .and_then(|format| RequestBody::parse(call.body, format))
            .map_err(|unreadable| {
                tracing::debug!(
                    method = call.method.name(),
                    reason = unreadable.reason(),
                    "prime-mock: unreadable body"
                );
                unreadable.rejection().to_string()
            })?;
        let signed = call.api_sign.is_some_and(|sign| {
            diagnoser.key().verify(
                call.signed_path,
                body.nonce_text().as_bytes(),
                call.body,
                sign,
            )
        });
        // A missing or wrong second factor is answered like a bad signature (the simulator's
        // choice: Kraken names no string for it).
        let second_factor = otp
            .as_ref()
            .is_none_or(|expected| body.otp().is_some_and(|sent| same_text(expected, sent)));
        if !signed {
            let rejection = SignatureRejection::diagnose(diagnoser, call, body.nonce_text());
            tracing::info!(
                method = call.method.name(),
                diagnosis = %rejection.ids(),
                "prime-mock: EAPI:Invalid signature"
            );
            self.last_rejection = Some(LastRejection::Signature(rejection));
            return Err(reject(&ErrorCode::InvalidSignature));
        }
        if !second_factor {
            let rejection = SignatureRejection::second_factor(call, body.otp().is_some());
            tracing::info!(
                method = call.method.name(),
                diagnosis = %rejection.ids(),
                "prime-mock: EAPI:Invalid signature"
            );
            self.last_rejection = Some(LastRejection::Signature(rejection));
            return Err(reject(&ErrorCode::InvalidSignature));
        }
        let nonce = body.nonce().map_err(|e| e.to_string())?;
        let needs = call.method.permission();
        let permitted = needs.is_none_or(|needed| permissions.contains(&needed));
        if !self.keys[key].nonces.admits(nonce) {
            let guard = &self.keys[key].nonces;
            self.last_rejection = Some(LastRejection::Nonce(NonceRejection {
                method: call.method.name(),
                path: call.signed_path.to_owned(),
                api_key: String::from_utf8_lossy(call.api_key.unwrap_or_default()).into_owned(),
                nonce,
                high_water_mark: guard.highest(),
                window: guard.window(),
            }));
            return Err(reject(&ErrorCode::InvalidNonce));
        }
        if !allowed {
            return Err(reject(&ErrorCode::PermissionDenied));
        }
        if order.arguments_before_permission {
            self.check_arguments(call.method, &body)?;
        }
        if !permitted {
            return Err(reject(&ErrorCode::PermissionDenied));
        }
        let answer = self.execute(call.method, &body)?;
        // Only an executed call uses up its nonce.
        self.keys[key].nonces.accept(nonce);
        *self.executions.entry(call.method).or_default() += 1;
        Ok(answer)
    }

    /// How many times `method` was executed successfully.
    pub(crate) fn executions(&self, method: &str) -> u64 {
        Method::from_name(method)
            .and_then(|m| self.executions.get(&m).copied())
            .unwrap_or(0)
    }

    /// Live keys of `user_id`.
    pub(crate) fn key_count(&self, user_id: &str) -> usize {
        let Some(user) = self.user_index(user_id) else {
            return 0;
        };
        self.keys
            .iter()
            .filter(|k| k.owner == Some(user) && !k.deleted)
            .count()
    }

    /// Sets a live key's nonce window; `false` if there is no such key.
    pub(crate) fn set_nonce_window(&mut self, api_key: &str, window: u64) -> bool {
        match self.key_index.get(api_key) {
            Some(&index) if !self.keys[index].deleted => {
                self.keys[index].nonces.set_window(window);
                true
            }
            _ => false,
        }
    }

    /// Everything but secrets, as JSON, for the control interface and debugging. The seed is
    /// left out too: every secret can be derived from it.
    pub(crate) fn snapshot(&self) -> serde_json::Value {
        let now = Instant::now();
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|k| {
                // The kind and, for account keys, the permissions and whether 2FA is on;
                // never a secret or a 2FA password.
                let (kind, permissions, otp) = match &k.auth {
                    KeyAuth::Rest {
                        permissions, otp, ..
                    } => (
                        "rest",
                        Some(permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>()),
                        Some(otp.is_some()),
                    ),
                    KeyAuth::Issued { .. } => ("issued", None, None),
                };
                serde_json::json!({
                    "id": k.id,
                    "api_key": k.api_key,
                    "kind": kind,
                    "permissions": permissions,
                    "two_factor": otp,
                    "owner": k.owner.map_or("account", |u| self.users[u].id.as_str()),
                    "whitelisted_ips": k.whitelisted_ips,
                    "deleted": k.deleted,
                    "last_nonce": k.nonces.highest(),
                    "nonce_window": k.nonces.window(),
                    "limits": self.rate_limits.as_ref().map(|model| k.limits.to_json(model, now)),
                })
            })
            .collect();
        let users: Vec<_> = self.users.iter().map(User::to_api).collect();
        let executions: serde_json::Map<_, _> = Method::all()
            .map(|m| (m.name().to_owned(), self.executions(m.name()).into()))
            .collect();
        serde_json::json!({
            "rate_limit": self.rate_limits.is_some(),
            "rate_limits": self.rate_limits.as_ref().map(RateLimits::to_json),
            "unknown_fields": self.unknown_fields.as_str(),
            "check_order": self.check_order.to_json(),
            "users": users,
            "keys": keys,
            "unsettled_trades": self.trades.iter().map(UnsettledTrade::to_json).collect::<Vec<_>>(),
            "batches": self.batches.iter().map(|b| self.batch_to_api(b)).collect::<Vec<_>>(),
            "transfers": self.transfers.iter().map(|t| self.transfer_to_json(t)).collect::<Vec<_>>(),
            "executions": executions,
        })
    }
}

/// The success envelope `{"error":[],"result":…}`.
pub(crate) fn success<T: Serialize + ?Sized>(result: &T) -> Vec<u8> {
    #[derive(Serialize)]
    struct Envelope<'a, T: ?Sized> {
        error: [&'static str; 0],
        result: &'a T,
    }
    serde_json::to_vec(&Envelope { error: [], result })
        .unwrap_or_else(|_| error_body(ErrorCode::InternalError.as_str()))
}

/// The error envelope as Kraken's errors guide shows it: `{"error":["…"],"result":{}}`.
pub(crate) fn error_body(error: &str) -> Vec<u8> {
    error_body_shaped(error, true)
}

/// The error envelope, with the empty `result` object or without it
/// ([`MockBuilder::error_result`](crate::MockBuilder::error_result)).
pub(crate) fn error_body_shaped(error: &str, with_result: bool) -> Vec<u8> {
    let value = if with_result {
        serde_json::json!({ "error": [error], "result": {} })
    } else {
        serde_json::json!({ "error": [error] })
    };
    serde_json::to_vec(&value).unwrap_or_else(|_| {
        format!(r#"{{"error":["{}"]}}"#, ErrorCode::InternalError.as_str()).into_bytes()
    })
}

/// Whether two texts are equal, in time that depends only on their lengths (the expected
/// one is a 2FA password).
fn same_text(expected: &str, sent: &str) -> bool {
    let (expected, sent) = (expected.as_bytes(), sent.as_bytes());
    expected.len() == sent.len()
        && expected
            .iter()
            .zip(sent)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// `EGeneral:Invalid arguments:<field>` as a rejection.
pub(crate) fn invalid(field: &str) -> Rejection {
    InvalidArguments::field(field).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_entries_match_addresses_and_ranges() {
        let v4: IpAddr = "192.0.2.77".parse().unwrap();
        assert!(ip_matches("192.0.2.77", v4));
        assert!(ip_matches("192.0.2.0/24", v4));
        assert!(ip_matches("0.0.0.0/0", v4));
        assert!(!ip_matches("192.0.2.78", v4));
        assert!(!ip_matches("192.0.3.0/24", v4));
        assert!(!ip_matches("2001:db8::1", v4));
        let mapped: IpAddr = "::ffff:192.0.2.77".parse().unwrap();
        assert!(ip_matches("192.0.2.0/24", mapped));
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(ip_matches("2001:db8::/32", v6));
        assert!(!ip_matches("2001:db9::/32", v6));
    }

    #[test]
    fn method_names_are_the_documented_paths() {
        assert_eq!(Method::all().count(), 13);
        for method in Method::all() {
            assert_eq!(Method::from_name(method.name()), Some(method));
            assert!(method.name().contains("Prime"), "{}", method.name());
        }
        assert_eq!(
            Method::from_name("CreatePrimeApiUserKey").map(Method::name),
            Some("CreatePrimeApiUserKey")
        );
        assert_eq!(Method::from_name("AddOrder"), None);
    }

    #[test]
    fn permissions_follow_the_endpoint_pages() {
        let needs = |name: &str| {
            Method::from_name(name)
                .map(|m| m.permission())
                .expect("a method")
        };
        assert_eq!(
            needs("CreatePrimeSettlementBatch"),
            Some(Permission::CreateAndModifyOrders)
        );
        assert_eq!(
            needs("SettlePrimeSettlementBatchAsset"),
            Some(Permission::CreateAndModifyOrders)
        );
        assert_eq!(
            needs("GetPrimeSettlementBatch"),
            Some(Permission::QueryOpenOrdersAndTrades)
        );
        assert_eq!(
            needs("ListPrimeSettlementBatches"),
            Some(Permission::QueryOpenOrdersAndTrades)
        );
        let unlisted = Method::all().filter(|m| m.permission().is_none()).count();
        assert_eq!(unlisted, 9, "the user and key endpoints name no permission");
    }

    #[test]
    fn issued_keys_are_kept_as_text_for_websocket_and_fix() {
        let (mut simulator, _) = Account::new(3, None, false);
        simulator.users.push(User {
            id: "U1".into(),
            name: "Desk".into(),
            role: Role::Trader,
            status: UserStatus::Enabled,
        });
        let (api_key, secret) = simulator.issue_key(0);
        let view = simulator.live_issued_key(&api_key).expect("live");
        assert_eq!(view.api_key, api_key);
        assert_eq!(view.secret, secret.expose());
        assert_eq!((view.user_id, view.role), ("U1", &Role::Trader));
        assert!(view.whitelisted_ips.is_empty());
        simulator.users[0].status = UserStatus::Disabled;
        assert!(simulator.live_issued_key(&api_key).is_none());
        assert!(simulator.live_issued_key("NOPE").is_none());
    }

    #[test]
    fn texts_compare_exactly() {
        assert!(same_text("123456", "123456"));
        assert!(!same_text("123456", "123457"));
        assert!(!same_text("123456", "12345"));
        assert!(!same_text("", "1"));
    }
}
