//! Turning `(status, headers, body bytes)` into a typed result or a typed error.

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use super::kraken_error::{JoinedErrors, KrakenError, Severity};
use super::salvage::{SalvagedKey, salvage_key};

/// A successful result with any warnings (`W…` strings) that came with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    /// The endpoint's typed result.
    pub result: T,
    /// Warnings Kraken sent beside the result, in order.
    pub warnings: Vec<KrakenError>,
}

/// The exact bytes of a response body, kept inside every error so nothing the server sent is
/// lost (a response carrying a one-time API secret can always be recovered from it).
///
/// The buffer is zeroized on drop, and `Debug` shows only its length: a body may carry a
/// secret, so it is never printed implicitly. Read it with [`RawBody::as_bytes`].
#[derive(Clone, PartialEq, Eq)]
pub struct RawBody(Zeroizing<Vec<u8>>);

impl RawBody {
    /// Copies `bytes` into a zeroize-on-drop buffer.
    pub fn new(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// The bytes as received.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the body was empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

// The bytes live in a `Zeroizing<Vec<u8>>`, wiped on drop.
impl zeroize::ZeroizeOnDrop for RawBody {}

impl fmt::Debug for RawBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawBody({} bytes)", self.0.len())
    }
}

/// Why a response could not be turned into the endpoint's result.
///
/// Every variant keeps the raw body. Messages name the problem without quoting the body.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The HTTP status was not 2xx (e.g. a 502 HTML page from the edge, or a 500).
    #[error("HTTP status {status}{}", StatusErrors(errors))]
    Status {
        /// The status received.
        status: StatusCode,
        /// Kraken errors, if the body was a JSON envelope that carried any.
        errors: Vec<KrakenError>,
        /// The `Retry-After` header, when it held a number of seconds.
        retry_after: Option<Duration>,
        /// The body as received.
        body: RawBody,
    },
    /// Kraken answered with one or more `E…` errors.
    #[error("Kraken returned {}", JoinedErrors(errors))]
    Api {
        /// The `E…` errors, in order.
        errors: Vec<KrakenError>,
        /// Any `W…` warnings that came with them.
        warnings: Vec<KrakenError>,
        /// The body as received. If it also carried a `result`, it can be recovered with
        /// [`ResponseError::recover_result`].
        body: RawBody,
    },
    /// The body was not the JSON shape the endpoint documents.
    #[error("unexpected response body at `{path}`: {message}")]
    Decode {
        /// Where decoding failed, e.g. `result.data[0].updated_at`, `error[0]`, or `$` when the
        /// body as a whole is not a JSON envelope.
        path: String,
        /// What was wrong (quoted values from the body are elided).
        message: String,
        /// The body as received.
        body: RawBody,
    },
    /// The reply carried a created key's one-time secret (a string at `result.api_secret`),
    /// but the rest of it was odd: `problem` says how (a field of the wrong type or `null`,
    /// an error beside the result, a non-2xx status, a body broken after the secret).
    ///
    /// The key **was created** and this is the only copy of its secret: deliver
    /// [`SalvagedKey::api_secret`] before anything else. Never resent by the clients.
    #[error(
        "a key was created and its one-time secret recovered (store it from `salvaged_key()`; \
         do not create another), but the rest of the reply was odd: {problem}"
    )]
    KeyCreated {
        /// The secret and whatever else could be read.
        key: SalvagedKey,
        /// What was wrong with the reply; it keeps the raw body.
        problem: Box<ResponseError>,
    },
    /// Kraken refused the call for rate (`EAPI:Rate limit exceeded` and the other
    /// [rate limits](crate::ErrorCode::is_rate_limit)) or locked the key out
    /// (`EGeneral:Temporary lockout`), and the client stopped instead of calling again: Kraken
    /// warns that calls made while limited keep the limit in force. `wait` is how long the
    /// client's [`RetryPolicy`](crate::RetryPolicy) recommends waiting before the next call
    /// with this key.
    ///
    /// Made by the call driver, never by [`parse_response`]; nothing was executed. The
    /// client then holds off: a call it starts before `wait` is over gets this error again,
    /// with the wait that is left, without being sent
    /// ([`ClientCore::start`](crate::transport::ClientCore::start)).
    #[error(
        "{refusal}; stopped calling so as not to prolong it: wait {} before the next call with \
         this key",
        HumanWait(*wait)
    )]
    Limited {
        /// How long to wait before calling again with this key.
        wait: Duration,
        /// Kraken's refusal; it keeps the raw body.
        refusal: Box<ResponseError>,
    },
}

/// A wait for people: `45 s`, `15 min`, `1 min 30 s`, `250 ms`.
struct HumanWait(Duration);

impl fmt::Display for HumanWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.as_secs();
        if seconds == 0 {
            return write!(f, "{} ms", self.0.as_millis());
        }
        // Rounded up: waiting a little longer than needed is the safe side.
        let seconds = seconds + u64::from(self.0.subsec_nanos() > 0);
        match (seconds / 60, seconds % 60) {
            (0, s) => write!(f, "{s} s"),
            (m, 0) => write!(f, "{m} min"),
            (m, s) => write!(f, "{m} min {s} s"),
        }
    }
}

struct StatusErrors<'a>(&'a [KrakenError]);

impl fmt::Display for StatusErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, " with {}", JoinedErrors(self.0))
        }
    }
}

impl ResponseError {
    /// The raw body the server sent.
    pub fn body(&self) -> &RawBody {
        match self {
            Self::Status { body, .. } | Self::Api { body, .. } | Self::Decode { body, .. } => body,
            Self::KeyCreated { problem, .. } => problem.body(),
            Self::Limited { refusal, .. } => refusal.body(),
        }
    }

    /// How long the client recommends waiting before calling again with this key, if it
    /// stopped because of a rate limit or a lockout ([`ResponseError::Limited`]).
    pub fn recommended_wait(&self) -> Option<Duration> {
        match self {
            Self::Limited { wait, .. } => Some(*wait),
            _ => None,
        }
    }

    /// The created key recovered from an odd reply, if this is [`ResponseError::KeyCreated`].
    pub fn salvaged_key(&self) -> Option<&SalvagedKey> {
        match self {
            Self::KeyCreated { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The Kraken `E…` errors carried by this failure (empty for decode failures).
    pub fn kraken_errors(&self) -> &[KrakenError] {
        match self {
            Self::Status { errors, .. } | Self::Api { errors, .. } => errors,
            Self::Decode { .. } => &[],
            Self::KeyCreated { problem, .. } => problem.kraken_errors(),
            Self::Limited { refusal, .. } => refusal.kraken_errors(),
        }
    }

    /// Decodes the envelope's `result` from the kept body, if there is one of type `T`.
    ///
    /// This is how a result that arrived *together with* an error is never lost: for
    /// `CreatePrimeApiUserKey` it returns the created key, secret included.
    pub fn recover_result<T: DeserializeOwned>(&self) -> Option<T> {
        // Only `result` is read: a malformed `error` beside it must not hide the result.
        #[derive(Deserialize)]
        struct ResultOnly<'a> {
            #[serde(borrow, default)]
            result: Option<&'a RawValue>,
        }
        let envelope: ResultOnly<'_> = serde_json::from_slice(self.body().as_bytes()).ok()?;
        serde_json::from_str(envelope.result?.get()).ok()
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    // `null` is read as no errors: tolerant on input.
    #[serde(default)]
    error: Option<Vec<String>>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
}

/// The envelope with its result decoded in the same pass, for the fast path of
/// [`parse_response`].
#[derive(Deserialize)]
struct Success<T> {
    #[serde(default)]
    error: Option<Vec<String>>,
    #[serde(default = "none")]
    result: Option<T>,
}

// `#[serde(default)]` on `Option<T>` would demand `T: Default`.
fn none<T>() -> Option<T> {
    None
}

impl Envelope<'_> {
    fn error_strings(&self) -> &[String] {
        self.error.as_deref().unwrap_or(&[])
    }
}

/// Parses a Prime REST response into `T` (an endpoint's `Response` type).
///
/// - a non-2xx status is [`ResponseError::Status`] (with Kraken errors if the body has them);
/// - any `E…` string in `error` is [`ResponseError::Api`];
/// - a body that is not the documented JSON is [`ResponseError::Decode`] with the JSON path;
/// - otherwise the result, with any `W…` warnings.
///
/// Whichever of the first three it is, if the body holds a string at `result.api_secret` (a
/// created key's one-time secret) the error is [`ResponseError::KeyCreated`], carrying the
/// secret and the original problem: the secret is read leniently, even from a body that is
/// broken after it.
///
/// Unknown fields are tolerated everywhere. Never panics, whatever the bytes.
///
/// # Errors
/// As listed above; every error keeps the raw body.
pub fn parse_response<T: DeserializeOwned>(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Reply<T>, ResponseError> {
    // Only failures are scanned for a secret, so a well-formed reply costs nothing extra.
    parse_exact(status, headers, body).map_err(|problem| match salvage_key(body) {
        Some(key) => ResponseError::KeyCreated {
            key,
            problem: Box::new(problem),
        },
        None => problem,
    })
}

fn parse_exact<T: DeserializeOwned>(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Reply<T>, ResponseError> {
    if !status.is_success() {
        let errors = serde_json::from_slice::<Envelope<'_>>(body)
            .map(|e| parse_errors(e.error_strings()).0)
            .unwrap_or_default();
        return Err(ResponseError::Status {
            status,
            errors,
            retry_after: retry_after(headers),
            body: RawBody::new(body),
        });
    }
    // Fast path, one pass over the body: a success envelope with a well-formed result.
    // Anything else (errors, a missing or malformed result) goes the careful way below, which
    // reads the body again to classify the failure and name its JSON path.
    if let Ok(Success {
        error,
        result: Some(result),
    }) = serde_json::from_slice::<Success<T>>(body)
    {
        let (errors, warnings) = parse_errors(error.as_deref().unwrap_or(&[]));
        if errors.is_empty() {
            return Ok(Reply { result, warnings });
        }
    }
    // The envelope is read without path tracking: it borrows `result` as raw JSON.
    let envelope: Envelope<'_> =
        serde_json::from_slice(body).map_err(|e| ResponseError::Decode {
            path: envelope_error_path(body),
            message: elide_quoted(&e.to_string()),
            body: RawBody::new(body),
        })?;
    let (errors, warnings) = parse_errors(envelope.error_strings());
    if !errors.is_empty() {
        return Err(ResponseError::Api {
            errors,
            warnings,
            body: RawBody::new(body),
        });
    }
    let Some(result) = envelope.result else {
        return Err(ResponseError::Decode {
            path: "result".to_owned(),
            message: "missing `result` and no error".to_owned(),
            body: RawBody::new(body),
        });
    };
    let result = decode(result.get().as_bytes(), "result", body)?;
    Ok(Reply { result, warnings })
}

/// Where an unreadable envelope went wrong: `error[0]`, `result` (e.g. a body truncated inside
/// it) or `$` for the body as a whole. Only computed on failure, so the fast path above keeps
/// borrowing `result` without path tracking.
fn envelope_error_path(body: &[u8]) -> String {
    // Mirrors `Envelope`'s shape with owned types that `serde_path_to_error` can track.
    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only the deserialization outcome matters")]
    struct Shape {
        #[serde(default)]
        error: Option<Vec<String>>,
        #[serde(default)]
        result: Option<serde::de::IgnoredAny>,
    }
    let mut json = serde_json::Deserializer::from_slice(body);
    let Err(e) = serde_path_to_error::deserialize::<_, Shape>(&mut json) else {
        return "$".to_owned();
    };
    // An empty path renders as `.`; a failure between members (e.g. a body cut just before
    // its closing `}`) ends in an unknown segment that renders as `?`. Neither names a place
    // inside the envelope, so both mean the body as a whole.
    let path = e.path().to_string();
    match path.trim_end_matches(".?") {
        "" | "." | "?" => "$".to_owned(),
        located => located.to_owned(),
    }
}

fn parse_errors(strings: &[String]) -> (Vec<KrakenError>, Vec<KrakenError>) {
    strings
        .iter()
        .map(|s| KrakenError::parse(s))
        .partition(|e| e.severity() == Severity::Error)
}

/// Deserializes `bytes` as `T`, reporting a failure with its JSON path under `prefix` and
/// keeping `whole` (the complete body) in the error.
fn decode<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    prefix: &str,
    whole: &[u8],
) -> Result<T, ResponseError> {
    // Tracking the path costs more than decoding itself (about 4 of 8 µs for a batch list), and
    // it is only needed to report a failure: decode untracked first, again tracked only if that
    // fails. Deserializing is deterministic, so the second pass fails at the same place.
    let mut json = serde_json::Deserializer::from_slice(bytes);
    if let Ok(value) = T::deserialize(&mut json).and_then(|value| json.end().map(|()| value)) {
        return Ok(value);
    }
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let result = T::deserialize(serde_path_to_error::Deserializer::new(
        &mut json, &mut track,
    ))
    .and_then(|value| json.end().map(|()| value));
    result.map_err(|e| {
        let inner = track.path().to_string();
        let path = match inner.as_str() {
            "." => prefix.to_owned(),
            _ => format!("{prefix}.{inner}"),
        };
        ResponseError::Decode {
            path,
            message: elide_quoted(&e.to_string()),
            body: RawBody::new(whole),
        }
    })
}

/// serde_json quotes offending values in its messages (`invalid type: string "…"`); a value
/// could be a secret, so quoted text is elided.
fn elide_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match (c, quoted) {
            ('"', false) => {
                quoted = true;
                out.push_str("\"…");
            }
            ('"', true) => {
                quoted = false;
                out.push('"');
            }
            (_, false) => out.push(c),
            (_, true) => {}
        }
    }
    out
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}
