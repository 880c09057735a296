//! A minimal HTTP/1.1 client over `std::net::TcpStream` for driving the simulator: it sends the
//! exact bytes `prime_core::RequestBuilder` produced and reports broken answers (closed,
//! truncated) as values, which the fault tests need. Keep-alive: one connection is reused
//! until the server closes it.

// Each test binary uses a different subset of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use prime_core::endpoints::{CreateApiUser, CreateApiUserKey, CreatedApiUserKey, Role};
use prime_core::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use prime_core::{ClockNonce, Credentials, Endpoint, NonceSource, RequestBuilder, ResponseError};
use prime_mock::MockServer;
use prime_mock::{AccountKeySpec, Permission};
use serde::de::DeserializeOwned;

/// No test waits longer than this for an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A complete response.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    /// The first string of the `error` array, if any.
    pub fn first_error(&self) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        value["error"].get(0)?.as_str().map(str::to_owned)
    }

    pub fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                map.append(n, v);
            }
        }
        map
    }
}

/// What came back for one request.
#[derive(Debug)]
pub enum Received {
    Response(RawResponse),
    /// The connection closed before a status line.
    Closed,
    /// The body ended before its `Content-Length`.
    Truncated {
        expected: usize,
        received: usize,
    },
}

impl Received {
    #[track_caller]
    pub fn response(self) -> RawResponse {
        match self {
            Self::Response(response) => response,
            other => panic!("expected a response, got {other:?}"),
        }
    }
}

pub struct HttpClient {
    addr: SocketAddr,
    connection: Option<BufReader<TcpStream>>,
    pub connections_opened: usize,
}

impl HttpClient {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            connection: None,
            connections_opened: 0,
        }
    }

    /// Sends a request built by `RequestBuilder` (its URI is absolute; the path is sent).
    pub fn send(&mut self, request: &Request<Vec<u8>>) -> Received {
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let headers: Vec<(&str, &[u8])> = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        self.send_parts(request.method().as_str(), &path, &headers, request.body())
    }

    /// Sends arbitrary bytes as a request.
    pub fn send_parts(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &[u8])],
        body: &[u8],
    ) -> Received {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr).into_bytes();
        for (name, value) in headers {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value);
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        head.extend_from_slice(body);
        let received = self.exchange(&head);
        if !matches!(received, Received::Response(_)) {
            self.connection = None;
        }
        received
    }

    fn exchange(&mut self, bytes: &[u8]) -> Received {
        if self.connection.is_none() {
            let stream = TcpStream::connect(self.addr).expect("connect to the simulator");
            stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
            stream.set_nodelay(true).unwrap();
            self.connection = Some(BufReader::new(stream));
            self.connections_opened += 1;
        }
        let reader = self.connection.as_mut().unwrap();
        reader.get_mut().write_all(bytes).expect("send the request");
        let mut status_line = String::new();
        match reader.read_line(&mut status_line) {
            Ok(0) => return Received::Closed,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Received::Closed,
            Err(e) => panic!("reading the status line: {e}"),
        }
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read a header line");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("a header");
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let expected: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().expect("numeric content-length"))
            .expect("the simulator always sends content-length");
        let mut body = Vec::with_capacity(expected);
        let received = reader
            .by_ref()
            .take(expected as u64)
            .read_to_end(&mut body)
            .unwrap_or(body.len());
        if received < expected {
            return Received::Truncated { expected, received };
        }
        Received::Response(RawResponse {
            status,
            headers,
            body,
        })
    }
}

/// Signs and sends Prime calls to one simulator.
pub struct Session {
    pub client: HttpClient,
    pub builder: RequestBuilder,
    nonces: ClockNonce,
}

impl Session {
    pub fn new(server: &MockServer) -> Self {
        Self {
            client: HttpClient::new(server.addr()),
            builder: RequestBuilder::new()
                .with_base_url(&server.url())
                .expect("the simulator URL is valid"),
            nonces: ClockNonce::new(),
        }
    }

    pub fn next_nonce(&self) -> u64 {
        self.nonces.next_nonce()
    }

    pub fn build<E: Endpoint>(
        &self,
        credentials: &Credentials,
        endpoint: &E,
        nonce: u64,
    ) -> Request<Vec<u8>> {
        self.builder
            .build(endpoint, credentials, nonce)
            .expect("valid arguments")
    }

    /// Sends with a fresh nonce.
    pub fn send<E: Endpoint>(&mut self, credentials: &Credentials, endpoint: &E) -> Received {
        let nonce = self.next_nonce();
        let request = self.build(credentials, endpoint, nonce);
        self.client.send(&request)
    }

    /// Sends and parses the answer with the core's parser.
    #[track_caller]
    pub fn call<E: Endpoint>(
        &mut self,
        credentials: &Credentials,
        endpoint: &E,
    ) -> Result<E::Response, ResponseError> {
        let response = self.send(credentials, endpoint).response();
        parse::<E::Response>(&response)
    }

    /// Sends, expecting success.
    #[track_caller]
    pub fn ok<E: Endpoint>(&mut self, credentials: &Credentials, endpoint: &E) -> E::Response {
        match self.call(credentials, endpoint) {
            Ok(result) => result,
            Err(e) => panic!("{} failed: {e}", E::NAME),
        }
    }

    /// Creates a user named `name` with `role` and a key for it (the account key `admin`
    /// signs both); returns the user's id and the created key.
    #[track_caller]
    pub fn user_with_key(
        &mut self,
        admin: &Credentials,
        name: &str,
        role: Role,
    ) -> (String, CreatedApiUserKey) {
        let user = self.ok(admin, &CreateApiUser::new(name, role)).id;
        let key = self.ok(admin, &CreateApiUserKey::new(&user));
        (user, key)
    }

    /// Sends, expecting a Kraken error; returns its string.
    #[track_caller]
    pub fn error<E: Endpoint>(&mut self, credentials: &Credentials, endpoint: &E) -> String {
        let response = self.send(credentials, endpoint).response();
        assert_eq!(response.status, 200, "Kraken errors come with HTTP 200");
        response
            .first_error()
            .unwrap_or_else(|| panic!("{} unexpectedly succeeded", E::NAME))
    }
}

/// Credentials of a new account key with every permission, minted after a user named `name`
/// with `role` and its issued key were created: users and their issued keys exist, but REST
/// calls (settlement included) are made with an account key.
#[track_caller]
pub fn account_key_beside_a_user(server: &MockServer, name: &str, role: Role) -> Credentials {
    Session::new(server).user_with_key(&server.account_credentials(), name, role);
    server
        .mint_account_key(&AccountKeySpec::new(Permission::ALL))
        .expect("the simulator mints a key")
        .credentials()
        .expect("minted credentials are valid")
}

/// REST credentials made from an issued key, as a client that mistakes it for a REST key
/// would: the opaque secret's bytes as the HMAC key.
pub fn issued_as_rest(key: &CreatedApiUserKey) -> Credentials {
    Credentials::from_parts(
        prime_core::ApiKey::new(&key.api_key).expect("an issued key is a valid key"),
        prime_core::SigningKey::from_bytes(key.api_secret().expose().as_bytes()),
    )
}

/// The bytes of `request` for a raw socket, to `host`, asking the server to close afterwards.
pub fn request_bytes(request: &Request<Vec<u8>>, host: &str) -> Vec<u8> {
    let mut bytes = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        request.uri().path(),
        request.body().len()
    )
    .into_bytes();
    for (name, value) in request.headers() {
        bytes.extend_from_slice(format!("{name}: ").as_bytes());
        bytes.extend_from_slice(value.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(request.body());
    bytes
}

pub fn parse<T: DeserializeOwned>(response: &RawResponse) -> Result<T, ResponseError> {
    let status = StatusCode::from_u16(response.status).expect("valid status");
    prime_core::parse_response::<T>(status, &response.header_map(), &response.body)
        .map(|reply| reply.result)
}
