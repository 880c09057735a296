//! Building signed requests: `(endpoint, credentials, nonce) -> http::Request<Vec<u8>>`.

use std::io;

use http::header::{CONTENT_TYPE, USER_AGENT};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};

use crate::auth::Credentials;
use crate::endpoints::ENDPOINT_PATHS;
use crate::endpoints::{ArgumentError, Endpoint};

/// Kraken's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.kraken.com";

/// The `User-Agent` sent unless another is configured.
pub const DEFAULT_USER_AGENT: &str = concat!("kraken-prime/", env!("CARGO_PKG_VERSION"));

/// The `API-Key` header name.
pub const API_KEY: HeaderName = HeaderName::from_static("api-key");
/// The `API-Sign` header name.
pub const API_SIGN: HeaderName = HeaderName::from_static("api-sign");

/// Builds signed Prime REST requests for one base URL and `User-Agent`.
///
/// Pure: the nonce is a parameter and nothing is sent. The body is serialized once, the
/// signature covers exactly those bytes, and those bytes are the request body.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    base_url: String,
    // The base URL split once, so each request's URI is assembled from shared parts and the
    // endpoint's static path instead of being parsed again.
    scheme: Scheme,
    authority: Authority,
    pub(super) path_prefix: String,
    /// The HTTP/1.1 bytes output's head around the endpoint path, prepared once:
    /// `POST <prefix>` before it, and after it the request line's end, `host` (host and port,
    /// never user info of the base URL), `content-type`, `user-agent` and `api-key: `.
    pub(super) head_start: String,
    pub(super) head_middle: String,
    /// The same three parts joined for each of the 13 endpoints, in [`ENDPOINT_PATHS`] order.
    pub(super) endpoint_heads: Vec<String>,
    // The URIs of the 13 endpoints, assembled once: cloning a `Uri` is a few reference-count
    // increments, where assembling one re-parses its path (about 5% of a signed request).
    endpoint_uris: Vec<Uri>,
    pub(super) user_agent: HeaderValue,
}

/// The position of `path` in [`ENDPOINT_PATHS`]; evaluated at compile time for each endpoint.
pub(super) const fn endpoint_index(path: &str) -> Option<usize> {
    let path = path.as_bytes();
    let mut index = 0;
    while index < ENDPOINT_PATHS.len() {
        let known = ENDPOINT_PATHS[index].as_bytes();
        if known.len() == path.len() {
            let mut at = 0;
            while at < path.len() && known[at] == path[at] {
                at += 1;
            }
            if at == path.len() {
                return Some(index);
            }
        }
        index += 1;
    }
    None
}

impl Default for RequestBuilder {
    fn default() -> Self {
        let mut builder = Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            scheme: Scheme::HTTPS,
            authority: Authority::from_static("api.kraken.com"),
            head_start: String::new(),
            head_middle: String::new(),
            endpoint_heads: Vec::new(),
            path_prefix: String::new(),
            endpoint_uris: Vec::new(),
            user_agent: HeaderValue::from_static(DEFAULT_USER_AGENT),
        };
        builder.prepare_head();
        builder.endpoint_uris = builder
            .assemble_endpoint_uris()
            .unwrap_or_else(|_| unreachable!("the default base URL forms valid URIs"));
        builder
    }
}

impl RequestBuilder {
    /// A builder for `https://api.kraken.com` with the default `User-Agent`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends to another base URL (e.g. the simulator's `http://127.0.0.1:PORT`).
    ///
    /// The endpoint path is appended; a trailing `/` is ignored. Only the endpoint path (from
    /// `/0/private` on) is signed, as Kraken does.
    ///
    /// # Errors
    /// `base_url` if it is not `http://` or `https://`, or has a query or fragment.
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, ArgumentError> {
        let trimmed = base_url.trim_end_matches('/');
        let uri: http::Uri = trimmed
            .parse()
            .map_err(|_| ArgumentError::new("base_url", "not a valid URL"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(ArgumentError::new(
                "base_url",
                "must start with http:// or https:// and name a host",
            ));
        }
        if trimmed.contains(['?', '#']) {
            return Err(ArgumentError::new(
                "base_url",
                "must not have a query or fragment",
            ));
        }
        let parts = uri.into_parts();
        let (Some(scheme), Some(authority)) = (parts.scheme, parts.authority) else {
            return Err(ArgumentError::new(
                "base_url",
                "must name a scheme and a host",
            ));
        };
        self.scheme = scheme;
        self.authority = authority;
        self.path_prefix = parts
            .path_and_query
            .map(|p| p.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        self.base_url = trimmed.to_owned();
        self.prepare_head();
        self.endpoint_uris = self.assemble_endpoint_uris()?;
        Ok(self)
    }

    /// Sends another `User-Agent`.
    ///
    /// # Errors
    /// `user_agent` if it cannot be an HTTP header value.
    pub fn with_user_agent(mut self, user_agent: &str) -> Result<Self, ArgumentError> {
        self.user_agent = HeaderValue::from_str(user_agent)
            .map_err(|_| ArgumentError::new("user_agent", "must be visible ASCII"))?;
        self.prepare_head();
        Ok(self)
    }

    /// Whether requests go over plain `http://` to a host other than loopback (worth a
    /// warning: the signature authenticates a request but does not hide it).
    pub fn is_plaintext_remote(&self) -> bool {
        let host = self.authority.host();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        self.scheme == Scheme::HTTP && !loopback
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The full URL of an endpoint.
    pub fn url<E: Endpoint>(&self) -> String {
        let mut url = String::with_capacity(self.base_url.len() + E::PATH.len());
        url.push_str(&self.base_url);
        url.push_str(E::PATH);
        url
    }

    /// Validates `endpoint`, serializes its body with `nonce`, signs it and returns the
    /// complete request.
    ///
    /// # Errors
    /// [`ArgumentError`] if the endpoint's arguments are invalid.
    pub fn build<E: Endpoint>(
        &self,
        endpoint: &E,
        credentials: &Credentials,
        nonce: u64,
    ) -> Result<Request<Vec<u8>>, ArgumentError> {
        endpoint.validate()?;
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(nonce).as_bytes();
        let otp = otp_code(credentials)?;
        let mut body = Vec::with_capacity(128);
        encode_body_into(
            endpoint,
            digits,
            otp.as_ref().map(|otp| otp.as_str()),
            &mut body,
        )?;
        let api_sign = credentials.signing_key().sign(E::PATH, digits, &body);
        let mut sign_header = api_sign.to_header_value();
        sign_header.set_sensitive(true);
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, self.user_agent.clone());
        headers.insert(API_KEY, credentials.api_key().header_value().clone());
        headers.insert(API_SIGN, sign_header);
        let mut request = Request::new(body);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = match const { endpoint_index(E::PATH) } {
            Some(index) => self.endpoint_uris[index].clone(),
            None => self.assemble_uri(E::PATH)?,
        };
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// Prepares the constant parts of the HTTP/1.1 head (see `head_start`), so a request
    /// copies them in one piece.
    fn prepare_head(&mut self) {
        let authority = self.authority.as_str();
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let user_agent = self.user_agent.to_str().unwrap_or_default();
        self.head_start = format!("POST {}", self.path_prefix);
        self.head_middle = format!(
            " HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n\
             user-agent: {user_agent}\r\napi-key: "
        );
        self.endpoint_heads = ENDPOINT_PATHS
            .iter()
            .map(|path| format!("{}{path}{}", self.head_start, self.head_middle))
            .collect();
    }

    fn assemble_endpoint_uris(&self) -> Result<Vec<Uri>, ArgumentError> {
        ENDPOINT_PATHS
            .iter()
            .map(|path| self.assemble_uri(path))
            .collect()
    }

    fn assemble_uri(&self, path: &'static str) -> Result<Uri, ArgumentError> {
        let path_and_query = if self.path_prefix.is_empty() {
            PathAndQuery::from_static(path)
        } else {
            PathAndQuery::try_from(format!("{}{path}", self.path_prefix))
                .map_err(|_| ArgumentError::new("base_url", "does not form a valid request URL"))?
        };
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        Uri::from_parts(parts)
            .map_err(|_| ArgumentError::new("base_url", "does not form a valid request URL"))
    }
}

/// The exact JSON body for `endpoint` with `nonce`: `{"nonce":N,<endpoint fields>}`.
///
/// The nonce comes first so its digits sit at a fixed place; the endpoint's fields follow in
/// declaration order, unset optional fields omitted.
///
/// # Errors
/// [`ArgumentError`] if the endpoint's arguments are invalid.
pub fn encode_body<E: Endpoint>(endpoint: &E, nonce: u64) -> Result<Vec<u8>, ArgumentError> {
    endpoint.validate()?;
    let mut body = Vec::with_capacity(128);
    encode_body_into(
        endpoint,
        itoa::Buffer::new().format(nonce).as_bytes(),
        None,
        &mut body,
    )?;
    Ok(body)
}

/// As [`encode_body`], for a key with API 2FA: `{"nonce":N,"otp":"<otp>",<endpoint fields>}`.
///
/// ```
/// use prime_core::encode_body_with_otp;
/// use prime_core::endpoints::GetApiUser;
///
/// let body = encode_body_with_otp(&GetApiUser::new("U1"), 7, "123456")?;
/// assert_eq!(body, br#"{"nonce":7,"otp":"123456","user_id":"U1"}"#);
/// # Ok::<(), prime_core::ArgumentError>(())
/// ```
///
/// # Errors
/// [`ArgumentError`] if the endpoint's arguments are invalid.
pub fn encode_body_with_otp<E: Endpoint>(
    endpoint: &E,
    nonce: u64,
    otp: &str,
) -> Result<Vec<u8>, ArgumentError> {
    endpoint.validate()?;
    let mut body = Vec::with_capacity(128);
    encode_body_into(
        endpoint,
        itoa::Buffer::new().format(nonce).as_bytes(),
        Some(otp),
        &mut body,
    )?;
    Ok(body)
}

/// The current `otp` of a key with API 2FA, if it has one.
pub(super) fn otp_code(
    credentials: &Credentials,
) -> Result<Option<zeroize::Zeroizing<String>>, ArgumentError> {
    credentials
        .otp()
        .map(|otp| {
            otp.code()
                .map_err(|e| ArgumentError::new("otp", e.to_string()))
        })
        .transpose()
}

/// Where a body is encoded: a growable `Vec`, or a caller's fixed slice that may run out.
pub(super) trait BodyOutput: io::Write {
    /// The bytes written so far.
    fn written_mut(&mut self) -> &mut [u8];
    /// Drops everything after the first `len` bytes.
    fn truncate(&mut self, len: usize);
}

impl BodyOutput for Vec<u8> {
    fn written_mut(&mut self) -> &mut [u8] {
        self
    }

    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len);
    }
}

/// Why a body was not encoded.
#[derive(Debug)]
pub(super) enum EncodeError {
    /// The endpoint's arguments cannot be encoded.
    Argument(ArgumentError),
    /// A fixed output ran out of room.
    Full,
}

impl From<EncodeError> for ArgumentError {
    fn from(error: EncodeError) -> Self {
        match error {
            EncodeError::Argument(error) => error,
            // Only a fixed-size output fills up; a `Vec` grows.
            EncodeError::Full => ArgumentError::new("body", "the output buffer is full"),
        }
    }
}

/// Appends `{"nonce":N[,"otp":…],<endpoint fields>}` to `body`.
pub(super) fn encode_body_into<E: Endpoint, O: BodyOutput>(
    endpoint: &E,
    digits: &[u8],
    otp: Option<&str>,
    body: &mut O,
) -> Result<(), EncodeError> {
    // serde_json reports a full output as an IO error; anything else is the value's fault.
    let refused = |field: &'static str, reason: &'static str| {
        move |error: serde_json::Error| {
            if error.is_io() {
                EncodeError::Full
            } else {
                EncodeError::Argument(ArgumentError::new(field, reason))
            }
        }
    };
    let full = |_: io::Error| EncodeError::Full;
    let start = body.written_mut().len();
    body.write_all(b"{\"nonce\":").map_err(full)?;
    body.write_all(digits).map_err(full)?;
    // The second factor sits right after the nonce, as Kraken's clients send it; JSON string
    // escaping keeps any password intact.
    if let Some(otp) = otp {
        body.write_all(b",\"otp\":").map_err(full)?;
        serde_json::to_writer(&mut *body, otp)
            .map_err(refused("otp", "could not be encoded as JSON"))?;
    }
    let fields = body.written_mut().len();
    serde_json::to_writer(&mut *body, endpoint)
        .map_err(refused("body", "the request could not be encoded as JSON"))?;
    // Splice the endpoint's object into ours: `{}` closes the body, `{"a":…}` becomes `,"a":…}`.
    let object = &body.written_mut()[fields..];
    if object == b"{}" {
        body.truncate(fields + 1);
        body.written_mut()[fields] = b'}';
    } else if object.first() == Some(&b'{') {
        body.written_mut()[fields] = b',';
    } else {
        body.truncate(start);
        return Err(EncodeError::Argument(ArgumentError::new(
            "body",
            "endpoint fields must serialize as a JSON object",
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_endpoint_path_finds_its_own_prepared_uri() {
        for (position, path) in ENDPOINT_PATHS.iter().enumerate() {
            assert_eq!(endpoint_index(path), Some(position), "{path}");
        }
        assert_eq!(endpoint_index("/0/private/CreatePrimeApiUse"), None);
        assert_eq!(endpoint_index("/0/private/CreatePrimeApiUserX"), None);
        let builder = RequestBuilder::new()
            .with_base_url("http://127.0.0.1:8080/prefix/")
            .expect("valid base URL");
        for (uri, path) in builder.endpoint_uris.iter().zip(ENDPOINT_PATHS) {
            assert_eq!(
                uri.to_string(),
                format!("http://127.0.0.1:8080/prefix{path}")
            );
        }
    }

    /// An endpoint this crate does not define still gets its URI, assembled on the spot.
    #[test]
    fn other_endpoints_get_their_uri_assembled() {
        #[derive(serde::Serialize)]
        struct Custom {}
        impl Endpoint for Custom {
            const NAME: &'static str = "CustomCall";
            const PATH: &'static str = "/0/private/CustomCall";
            const IDEMPOTENCY: crate::endpoints::Idempotency =
                crate::endpoints::Idempotency::Idempotent;
            type Response = serde_json::Value;
        }
        let credentials =
            Credentials::new("KRA5L19LAW8Z", crate::example::SECRET).expect("valid credentials");
        let request = RequestBuilder::new()
            .with_base_url("https://proxy.example/kraken")
            .expect("valid base URL")
            .build(&Custom {}, &credentials, 1)
            .expect("valid request");
        assert_eq!(
            request.uri().to_string(),
            "https://proxy.example/kraken/0/private/CustomCall"
        );
        assert_eq!(request.body().as_slice(), br#"{"nonce":1}"#);
    }

    #[test]
    fn plaintext_is_flagged_only_for_remote_hosts() {
        let flagged = |url: &str| {
            RequestBuilder::new()
                .with_base_url(url)
                .expect("a valid base URL")
                .is_plaintext_remote()
        };
        assert!(flagged("http://prime.example.com"));
        assert!(flagged("http://10.0.0.1:8080"));
        assert!(!flagged("https://prime.example.com"));
        assert!(!flagged("http://127.0.0.1:8080"));
        assert!(!flagged("http://localhost:8080"));
        assert!(!flagged("http://[::1]:8080"));
        assert!(!RequestBuilder::new().is_plaintext_remote());
    }
}
