//! [`Settings`]: what every client is configured with, validated once for all transports.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::retry::RetryPolicy;
use crate::auth::{ClockNonce, NonceSource, NonceUnit};
use crate::wire::{DEFAULT_BASE_URL, RequestBuilder};

/// Default limit for one attempt, from connecting to the last body byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit for name resolution plus TCP connect plus TLS handshake.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on a response body. Prime responses are a few KiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The settings a Prime client is built with, whatever its transport.
///
/// Both clients take these (their builders have a setter for each, plus what only the
/// transport knows: TLS, a caller-built HTTP client), and so does the
/// [call driver](crate::transport::ClientCore) for transport authors. Defaults and validation
/// live here once, so every transport means the same thing by each setting and refuses the
/// same bad values with the same [`BuildError`].
///
/// ```
/// use std::time::Duration;
/// use prime_core::Settings;
///
/// let settings = Settings::default()
///     .base_url("http://127.0.0.1:8080")
///     .timeout(Duration::from_secs(5));
/// assert!(settings.validate().is_ok());
///
/// let error = Settings::default().timeout(Duration::ZERO).validate().unwrap_err();
/// assert_eq!(error.setting(), "timeout");
/// ```
#[derive(Clone)]
#[non_exhaustive]
#[must_use]
pub struct Settings {
    pub(crate) base_url: String,
    pub(crate) user_agent: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) deadline: Option<Duration>,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) retry: RetryPolicy,
    pub(crate) nonces: Option<Arc<dyn NonceSource>>,
    pub(crate) nonce_unit: NonceUnit,
    pub(crate) concurrent_sends: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            user_agent: None,
            timeout: DEFAULT_TIMEOUT,
            deadline: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy::default(),
            nonces: None,
            nonce_unit: NonceUnit::default(),
            concurrent_sends: false,
        }
    }
}

/// A client setting that was refused when the client was built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid client setting `{setting}`: {reason}")]
pub struct BuildError {
    setting: &'static str,
    reason: String,
}

impl BuildError {
    /// An error for `setting` (the builder method's name) saying what is wrong.
    pub fn new(setting: &'static str, reason: impl Into<String>) -> Self {
        Self {
            setting,
            reason: reason.into(),
        }
    }

    /// The setting, named as its builder method is (e.g. `base_url`).
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl Settings {
    /// Sends to another base URL, e.g. the simulator's `http://127.0.0.1:PORT`. Default:
    /// `https://api.kraken.com`. Plain `http://` is allowed (clients log a warning unless the
    /// host is loopback: the signature authenticates a request but does not hide it).
    pub fn base_url(mut self, url: &str) -> Self {
        url.clone_into(&mut self.base_url);
        self
    }

    /// The `User-Agent` header. Default `kraken-prime/<version>`.
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = Some(user_agent.to_owned());
        self
    }

    /// Limit for one attempt, from the moment it is the request's turn to be sent (see
    /// [`Settings::concurrent_sends`]) to the last byte of the response body. Each retry gets
    /// its own. Default [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, per_attempt: Duration) -> Self {
        self.timeout = per_attempt;
        self
    }

    /// The overall bound of one call: from its start, across every attempt, every wait for
    /// the send order and every backoff between attempts, until its result. Distinct from
    /// [`Settings::timeout`], which bounds each attempt and starts afresh for each retry.
    ///
    /// The call driver keeps it: no retry is started whose wait would end past it, and each
    /// attempt's timeout is cut to the time left. A call cut off by it fails with
    /// [`TransportErrorKind::Deadline`](crate::TransportErrorKind::Deadline): *not sent* if
    /// nothing had left yet, otherwise *outcome unknown* (a write is then reconciled like any
    /// other unknown outcome). A call whose retry it prevents after a server's answer (a 502,
    /// a rate limit) returns that answer's error. A client can also set one per call
    /// (`Client::with_deadline`).
    /// Default: none, so a call lasts at most about `max_attempts` × `timeout` plus the
    /// backoffs.
    pub fn deadline(mut self, overall: Duration) -> Self {
        self.deadline = Some(overall);
        self
    }

    /// Limit for opening a new connection: name resolution, TCP connect and the TLS handshake
    /// together. A connection that fails within it was never sent anything, so any call may
    /// be retried. Default [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// Cap on a response body; a larger one fails with
    /// [`TransportErrorKind::BodyTooLarge`](crate::TransportErrorKind::BodyTooLarge) as soon
    /// as it crosses the cap, without being read whole. Default [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// How many times and how patiently to retry. Default [`RetryPolicy::default`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Where nonces come from. Default: a new [`ClockNonce`] in [`Settings::nonce_unit`] per
    /// client. Pass the same source to every client that shares a key.
    pub fn nonce_source(mut self, nonces: Arc<dyn NonceSource>) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// The unit of the default clock nonce (ignored when a [`Settings::nonce_source`] is set).
    /// Every tool that uses the key must send the same unit: a key last used by a millisecond
    /// tool needs [`NonceUnit::Milliseconds`] here, or the first nanosecond nonce locks that
    /// tool out. Default [`NonceUnit::Nanoseconds`].
    pub fn nonce_unit(mut self, unit: NonceUnit) -> Self {
        self.nonce_unit = unit;
        self
    }

    /// Lets requests be signed and sent concurrently. Only for keys with a nonce window wide
    /// enough for the out-of-order arrival this causes. Default `false`: a client signs the
    /// next request only once the previous one has its response head, so nonces reach Kraken
    /// in order.
    pub fn concurrent_sends(mut self, on: bool) -> Self {
        self.concurrent_sends = on;
        self
    }

    /// Checks every setting and returns the request builder they describe.
    ///
    /// # Errors
    /// [`BuildError`] naming the setting: a base URL that is not `http(s)://host[/prefix]`, a
    /// `User-Agent` that cannot be a header value, a zero timeout or response cap.
    pub fn validate(&self) -> Result<RequestBuilder, BuildError> {
        let refused = |e: crate::endpoints::ArgumentError| BuildError::new(e.field(), e.reason());
        let mut requests = RequestBuilder::new()
            .with_base_url(&self.base_url)
            .map_err(refused)?;
        if let Some(user_agent) = &self.user_agent {
            requests = requests.with_user_agent(user_agent).map_err(refused)?;
        }
        for (setting, value) in [
            ("timeout", self.timeout),
            ("connect_timeout", self.connect_timeout),
            ("deadline", self.deadline.unwrap_or(Duration::MAX)),
        ] {
            if value.is_zero() {
                return Err(BuildError::new(setting, "must be greater than zero"));
            }
        }
        if self.max_response_bytes == 0 {
            return Err(BuildError::new("max_response_bytes", "must be at least 1"));
        }
        Ok(requests)
    }

    /// The nonce source: the one set, or a fresh [`ClockNonce`].
    pub(crate) fn nonces_or_clock(&self) -> Arc<dyn NonceSource> {
        self.nonces
            .clone()
            .unwrap_or_else(|| Arc::new(ClockNonce::with_unit(self.nonce_unit)))
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("base_url", &self.base_url)
            .field("user_agent", &self.user_agent)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .field("custom_nonce_source", &self.nonces.is_some())
            .field("nonce_unit", &self.nonce_unit)
            .field("concurrent_sends", &self.concurrent_sends)
            .finish()
    }
}

/// Gives a transport's client builder one setter per [`Settings`] field, each delegating to
/// the builder's `settings: Settings` field, so every client offers the same settings with
/// the same documentation and none of them copies it.
///
/// Invoke it inside the builder's `impl` block:
///
/// ```
/// struct MyClientBuilder {
///     settings: prime_core::Settings,
/// }
/// impl MyClientBuilder {
///     prime_core::settings_setters!();
/// }
/// let builder = MyClientBuilder { settings: Default::default() }.base_url("ftp://nowhere");
/// assert_eq!(builder.settings.validate().unwrap_err().setting(), "base_url");
/// ```
#[macro_export]
macro_rules! settings_setters {
    () => {
        $crate::settings_setters! {
            /// See [`Settings::base_url`](prime_core::Settings::base_url).
            base_url(url: &str);
            /// See [`Settings::user_agent`](prime_core::Settings::user_agent).
            user_agent(user_agent: &str);
            /// See [`Settings::timeout`](prime_core::Settings::timeout).
            timeout(per_attempt: ::std::time::Duration);
            /// See [`Settings::deadline`](prime_core::Settings::deadline).
            deadline(overall: ::std::time::Duration);
            /// See [`Settings::connect_timeout`](prime_core::Settings::connect_timeout).
            connect_timeout(limit: ::std::time::Duration);
            /// See [`Settings::max_response_bytes`](prime_core::Settings::max_response_bytes).
            max_response_bytes(limit: usize);
            /// See [`Settings::retry_policy`](prime_core::Settings::retry_policy).
            retry_policy(policy: $crate::RetryPolicy);
            /// See [`Settings::nonce_source`](prime_core::Settings::nonce_source).
            nonce_source(nonces: ::std::sync::Arc<dyn $crate::NonceSource>);
            /// See [`Settings::nonce_unit`](prime_core::Settings::nonce_unit).
            nonce_unit(unit: $crate::NonceUnit);
            /// See [`Settings::concurrent_sends`](prime_core::Settings::concurrent_sends).
            concurrent_sends(on: bool);
        }

        /// Replaces every setting at once (e.g. settings shared by several clients).
        #[must_use]
        pub fn settings(mut self, settings: $crate::Settings) -> Self {
            self.settings = settings;
            self
        }
    };
    ($($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty);)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(mut self, $arg: $ty) -> Self {
                self.settings = self.settings.$name($arg);
                self
            }
        )*
    };
}
