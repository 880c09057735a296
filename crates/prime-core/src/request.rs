//! Building signed requests: `(endpoint, credentials, nonce) -> http::Request<Vec<u8>>`.

use http::header::{CONTENT_TYPE, USER_AGENT};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};

use crate::credentials::Credentials;
use crate::endpoint::Endpoint;

/// Kraken's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.kraken.com";

/// The `User-Agent` sent unless another is configured.
pub const DEFAULT_USER_AGENT: &str = concat!("kraken-prime/", env!("CARGO_PKG_VERSION"));

/// The `API-Key` header name.
pub const API_KEY: HeaderName = HeaderName::from_static("api-key");
/// The `API-Sign` header name.
pub const API_SIGN: HeaderName = HeaderName::from_static("api-sign");

/// A request argument that was refused before signing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid argument `{field}`: {reason}")]
pub struct ArgumentError {
    field: &'static str,
    reason: String,
}

impl ArgumentError {
    /// An error for `field` saying what is wrong.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }

    /// The argument's name as the API spells it (e.g. `user_id`).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

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
    path_prefix: String,
    user_agent: HeaderValue,
}

impl Default for RequestBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            scheme: Scheme::HTTPS,
            authority: Authority::from_static("api.kraken.com"),
            path_prefix: String::new(),
            user_agent: HeaderValue::from_static(DEFAULT_USER_AGENT),
        }
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
        Ok(self)
    }

    /// Sends another `User-Agent`.
    ///
    /// # Errors
    /// `user_agent` if it cannot be an HTTP header value.
    pub fn with_user_agent(mut self, user_agent: &str) -> Result<Self, ArgumentError> {
        self.user_agent = HeaderValue::from_str(user_agent)
            .map_err(|_| ArgumentError::new("user_agent", "must be visible ASCII"))?;
        Ok(self)
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
        let body = encode_body_with(endpoint, digits)?;
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
        *request.uri_mut() = self.uri(E::PATH)?;
        *request.headers_mut() = headers;
        Ok(request)
    }

    fn uri(&self, path: &'static str) -> Result<Uri, ArgumentError> {
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
    encode_body_with(endpoint, itoa::Buffer::new().format(nonce).as_bytes())
}

fn encode_body_with<E: Endpoint>(endpoint: &E, digits: &[u8]) -> Result<Vec<u8>, ArgumentError> {
    const PREFIX: &[u8] = b"{\"nonce\":";
    let mut body = Vec::with_capacity(128);
    body.extend_from_slice(PREFIX);
    body.extend_from_slice(digits);
    let fields = body.len();
    serde_json::to_writer(&mut body, endpoint)
        .map_err(|_| ArgumentError::new("body", "the request could not be encoded as JSON"))?;
    // Splice the endpoint's object into ours: `{}` closes the body, `{"a":…}` becomes `,"a":…}`.
    match &body[fields..] {
        b"{}" => {
            body.truncate(fields);
            body.push(b'}');
        }
        [b'{', ..] => body[fields] = b',',
        _ => {
            return Err(ArgumentError::new(
                "body",
                "endpoint fields must serialize as a JSON object",
            ));
        }
    }
    Ok(body)
}
