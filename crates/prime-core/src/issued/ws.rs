//! Prime WebSocket connection headers: building them, and reading and checking them.

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Uri};

use super::{IssuedCredentials, IssuedSign, UtcTimestamp};

/// Production Prime WebSocket endpoint.
pub const WS_URL: &str = "wss://wss.prime.kraken.com/ws/v1";
/// Sandbox Prime WebSocket endpoint (it needs keys of its own).
pub const WS_SANDBOX_URL: &str = "wss://wss.sandbox.prime.kraken.com/ws/v1";
/// The path both endpoints serve.
pub const WS_PATH: &str = "/ws/v1";

const API_KEY: &str = "apikey";
const API_TIMESTAMP: &str = "apitimestamp";
const API_SIGN: &str = "apisign";

/// Why connection headers could not be built. Messages never contain the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WsAuthError {
    /// The host is empty or holds a character a `Host` header cannot carry.
    #[error("the WebSocket host must be non-empty printable ASCII without spaces")]
    InvalidHost,
    /// The path does not start with `/` or holds a character a request line cannot carry.
    #[error("the WebSocket path must start with / and be printable ASCII without spaces")]
    InvalidPath,
    /// The URL is not `ws://` or `wss://` with a host (and no user info).
    #[error("the WebSocket URL must be ws://HOST[:PORT]/PATH or wss://HOST[:PORT]/PATH")]
    InvalidUrl,
}

/// The three headers that authenticate a Prime WebSocket connection: `ApiKey`,
/// `ApiTimestamp` and `ApiSign`.
///
/// Add them to the upgrade request (`GET <path>` with `Host: <host>`); the signature covers
/// the host and path exactly as given here, so they must be exactly what is sent.
///
/// ```
/// use prime_core::issued::{IssuedCredentials, UtcTimestamp, WsConnectHeaders};
///
/// let credentials = IssuedCredentials::new("KRA5L19LAW8Z", "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf")?;
/// let now = UtcTimestamp::from_unix_nanos(1_550_035_052_000_000_000);
/// let headers = WsConnectHeaders::for_uri(&credentials, now, &"wss://wss.sandbox.prime.kraken.com/ws/v1".parse()?)?;
/// let map = headers.header_map();
/// assert_eq!(map["ApiKey"], "KRA5L19LAW8Z");
/// assert_eq!(map["ApiTimestamp"], "2019-02-13T05:17:32.000000Z");
/// assert_eq!(map["ApiSign"], headers.api_sign());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct WsConnectHeaders {
    api_key: HeaderValue,
    api_timestamp: String,
    api_sign: IssuedSign,
}

impl WsConnectHeaders {
    /// Signs `GET\n<timestamp>\n<host>\n<path>`. `host` is the `Host` header value as sent
    /// (with `:port` when the URL has one), `path` the request target.
    ///
    /// # Errors
    /// [`WsAuthError::InvalidHost`] or [`WsAuthError::InvalidPath`].
    pub fn new(
        credentials: &IssuedCredentials,
        timestamp: UtcTimestamp,
        host: &str,
        path: &str,
    ) -> Result<Self, WsAuthError> {
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(WsAuthError::InvalidHost);
        }
        if !path.starts_with('/') || !path.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(WsAuthError::InvalidPath);
        }
        let api_timestamp = timestamp.api_timestamp();
        let api_sign = credentials.ws_sign(&api_timestamp, host, path);
        Ok(Self {
            api_key: credentials.api_key().header_value().clone(),
            api_timestamp,
            api_sign,
        })
    }

    /// As [`WsConnectHeaders::new`] with the host (the URL's authority, port included when
    /// given) and path (with query) of a `ws://` or `wss://` URL.
    ///
    /// # Errors
    /// [`WsAuthError::InvalidUrl`] for another scheme, a missing host or user info.
    pub fn for_uri(
        credentials: &IssuedCredentials,
        timestamp: UtcTimestamp,
        uri: &Uri,
    ) -> Result<Self, WsAuthError> {
        let (host, path) = host_and_path(uri)?;
        Self::new(credentials, timestamp, host, path)
    }

    /// The `ApiKey` value.
    pub fn api_key(&self) -> &str {
        self.api_key.to_str().unwrap_or_default()
    }

    /// The `ApiTimestamp` value, e.g. `2019-02-13T05:17:32.000000Z`.
    pub fn api_timestamp(&self) -> &str {
        &self.api_timestamp
    }

    /// The `ApiSign` value.
    pub fn api_sign(&self) -> &str {
        self.api_sign.as_str()
    }

    /// The three headers, `ApiKey` and `ApiSign` marked sensitive so HTTP clients keep them
    /// out of logs.
    pub fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::with_capacity(3);
        self.add_to(&mut map);
        map
    }

    /// Adds (replacing) the three headers to `headers`, e.g. an upgrade request's.
    pub fn add_to(&self, headers: &mut HeaderMap) {
        let mut sign = HeaderValue::from_str(self.api_sign())
            .unwrap_or_else(|_| unreachable!("base64 is a valid header value"));
        sign.set_sensitive(true);
        let timestamp = HeaderValue::from_str(&self.api_timestamp)
            .unwrap_or_else(|_| unreachable!("a formatted timestamp is a valid header value"));
        headers.insert(HeaderName::from_static(API_KEY), self.api_key.clone());
        headers.insert(HeaderName::from_static(API_TIMESTAMP), timestamp);
        headers.insert(HeaderName::from_static(API_SIGN), sign);
    }
}

impl fmt::Debug for WsConnectHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.api_key();
        let shown: String = key.chars().take(4).collect();
        f.debug_struct("WsConnectHeaders")
            .field("api_key", &format_args!("{shown}…"))
            .field("api_timestamp", &self.api_timestamp)
            .field("api_sign", &self.api_sign)
            .finish()
    }
}

/// The `Host` header value and request target a client sends for `uri`.
///
/// # Errors
/// [`WsAuthError::InvalidUrl`] unless `uri` is `ws://` or `wss://` with a host and no user
/// info.
pub(crate) fn host_and_path(uri: &Uri) -> Result<(&str, &str), WsAuthError> {
    let scheme_ok = matches!(uri.scheme_str(), Some("ws" | "wss"));
    let authority = uri.authority().ok_or(WsAuthError::InvalidUrl)?;
    if !scheme_ok || authority.as_str().contains('@') || authority.host().is_empty() {
        return Err(WsAuthError::InvalidUrl);
    }
    let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
    Ok((authority.as_str(), if path.is_empty() { "/" } else { path }))
}

/// Why a server refuses a WebSocket connection's authentication headers: one line, naming
/// the header, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WsRefusal {
    /// A header is absent.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header is not visible ASCII.
    #[error("{0} header is not printable ASCII")]
    MalformedHeader(&'static str),
    /// `ApiTimestamp` is not of the documented form.
    #[error("ApiTimestamp is not of the form 2019-02-13T05:17:32.000000Z")]
    Timestamp,
    /// `ApiTimestamp` is further from the server's clock than it allows.
    #[error("ApiTimestamp is {skew_ms} ms away from the server's clock (allowed: {window_ms} ms)")]
    StaleTimestamp {
        /// How far off the timestamp is, in milliseconds.
        skew_ms: u64,
        /// The server's window, in milliseconds.
        window_ms: u64,
    },
    /// `ApiSign` does not match.
    #[error("ApiSign does not match GET\\n<ApiTimestamp>\\n<host>\\n<path> under the key's secret")]
    WrongSignature,
}

/// The authentication headers of a received upgrade request, parsed (server side).
///
/// ```
/// use prime_core::issued::{IssuedCredentials, ReceivedWsAuth, UtcTimestamp, WsConnectHeaders, WsRefusal};
/// use std::time::Duration;
///
/// let credentials = IssuedCredentials::new("KRA5L19LAW8Z", "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf")?;
/// let sent = UtcTimestamp::from_unix_millis(1_700_000_000_000)?;
/// let headers = WsConnectHeaders::new(&credentials, sent, "127.0.0.1:8899", "/ws/v1")?.header_map();
///
/// let received = ReceivedWsAuth::from_headers(&headers)?;
/// assert_eq!(received.api_key(), "KRA5L19LAW8Z");
/// received.check_time(UtcTimestamp::from_unix_millis(1_700_000_004_000)?, Duration::from_secs(5))?;
/// received.verify(&credentials, "127.0.0.1:8899", "/ws/v1")?;
/// assert_eq!(received.verify(&credentials, "127.0.0.1:8898", "/ws/v1"), Err(WsRefusal::WrongSignature));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ReceivedWsAuth<'a> {
    api_key: &'a str,
    api_timestamp: &'a str,
    timestamp: UtcTimestamp,
    api_sign: &'a [u8],
}

impl<'a> ReceivedWsAuth<'a> {
    /// Reads `ApiKey`, `ApiTimestamp` and `ApiSign` (names are case-insensitive).
    ///
    /// # Errors
    /// [`WsRefusal::MissingHeader`], [`WsRefusal::MalformedHeader`] or
    /// [`WsRefusal::Timestamp`].
    pub fn from_headers(headers: &'a HeaderMap) -> Result<Self, WsRefusal> {
        let text = |name: &'static str, shown: &'static str| -> Result<&'a str, WsRefusal> {
            let value = headers.get(name).ok_or(WsRefusal::MissingHeader(shown))?;
            value
                .to_str()
                .ok()
                .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
                .ok_or(WsRefusal::MalformedHeader(shown))
        };
        let api_key = text(API_KEY, "ApiKey")?;
        let api_timestamp = text(API_TIMESTAMP, "ApiTimestamp")?;
        let api_sign = text(API_SIGN, "ApiSign")?.as_bytes();
        let timestamp =
            UtcTimestamp::parse_api_timestamp(api_timestamp).map_err(|_| WsRefusal::Timestamp)?;
        Ok(Self {
            api_key,
            api_timestamp,
            timestamp,
            api_sign,
        })
    }

    /// The `ApiKey` sent.
    pub fn api_key(&self) -> &'a str {
        self.api_key
    }

    /// The `ApiTimestamp` sent, parsed.
    pub fn timestamp(&self) -> UtcTimestamp {
        self.timestamp
    }

    /// Refuses a timestamp more than `window` away from `now` (either direction).
    ///
    /// # Errors
    /// [`WsRefusal::StaleTimestamp`].
    pub fn check_time(&self, now: UtcTimestamp, window: Duration) -> Result<(), WsRefusal> {
        check_skew(self.timestamp, now, window)
            .map_err(|(skew_ms, window_ms)| WsRefusal::StaleTimestamp { skew_ms, window_ms })
    }

    /// Checks `ApiSign` (constant time) against `host` (the received `Host` header) and
    /// `path` (the received request target).
    ///
    /// # Errors
    /// [`WsRefusal::WrongSignature`].
    pub fn verify(
        &self,
        credentials: &IssuedCredentials,
        host: &str,
        path: &str,
    ) -> Result<(), WsRefusal> {
        if credentials.verify_ws(self.api_timestamp, host, path, self.api_sign) {
            Ok(())
        } else {
            Err(WsRefusal::WrongSignature)
        }
    }
}

/// `Err((skew_ms, window_ms))` when `sent` is more than `window` away from `now`.
pub(crate) fn check_skew(
    sent: UtcTimestamp,
    now: UtcTimestamp,
    window: Duration,
) -> Result<(), (u64, u64)> {
    let skew = sent.unix_micros().abs_diff(now.unix_micros());
    let window_micros = u64::try_from(window.as_micros()).unwrap_or(u64::MAX);
    if skew <= window_micros {
        Ok(())
    } else {
        Err((
            skew / 1_000,
            u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
        ))
    }
}
