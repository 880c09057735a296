//! A third Prime transport in under 150 lines: plain HTTP/1.1 over `std::net::TcpStream`, one
//! connection per attempt. It moves bytes and says whether a failure happened before anything
//! was written; every rule of a call (validation before a nonce is spent, re-signing, never
//! resending a write that may have executed, backoff) comes from prime-core's call driver.
//!
//! Run it against the embedded simulator: `cargo run -p prime-tests --example tcp_transport`.
//! Plain HTTP only: fine for the simulator on loopback, not for Kraken.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Instant;

use prime_core::http::{HeaderName, HeaderValue, Request, Response, StatusCode, response::Parts};
use prime_core::transport::{
    BodyBuffer, ClientCore, Step, TransportError, TransportErrorKind, maybe_sent, not_sent,
};
use prime_core::{BuildError, Credentials, Endpoint, Error, Reply, Settings};

/// A blocking client whose transport is a bare TCP socket.
pub struct TcpClient {
    core: ClientCore,
}

impl TcpClient {
    /// A client for `settings` (whose base URL must be `http://`).
    pub fn new(credentials: Credentials, settings: &Settings) -> Result<Self, BuildError> {
        let core = ClientCore::new(credentials, settings)?;
        if !core.base_url().starts_with("http://") {
            return Err(BuildError::new(
                "base_url",
                "this example speaks plain HTTP only",
            ));
        }
        Ok(Self { core })
    }

    /// Sends `endpoint` as the call driver directs.
    pub fn send<E: Endpoint>(&self, endpoint: &E) -> Result<Reply<E::Response>, Error> {
        let mut call = self.core.start(endpoint, Instant::now())?;
        loop {
            let request = call.request()?;
            let outcome = self.exchange(&request);
            match call.on_attempt(Instant::now(), outcome) {
                Step::Done(reply) => return Ok(reply),
                Step::Stop(error) => return Err(error),
                Step::Retry { after } => std::thread::sleep(after),
            }
        }
    }

    // The 13 typed methods (`create_api_user_key`, ...), from the core's endpoint table.
    prime_core::client_methods!(blocking);

    /// One request on a fresh connection, read until the whole body is in.
    fn exchange(&self, request: &Request<Vec<u8>>) -> Result<(Parts, BodyBuffer), TransportError> {
        let host = request.uri().authority().map_or("", |a| a.as_str());
        let address = host
            .to_socket_addrs()
            .map_err(|e| not_sent(TransportErrorKind::Connect, e))?
            .next()
            .ok_or_else(|| not_sent(TransportErrorKind::Connect, "the host has no address"))?;
        let mut stream = TcpStream::connect_timeout(&address, self.core.connect_timeout())
            .map_err(|e| not_sent(kind_of(&e, TransportErrorKind::Connect), e))?;
        let io = |e: std::io::Error| maybe_sent(kind_of(&e, TransportErrorKind::Io), e);
        // A read or write stalled past the per-attempt timeout fails the attempt.
        stream
            .set_read_timeout(Some(self.core.timeout()))
            .map_err(io)?;
        stream
            .set_write_timeout(Some(self.core.timeout()))
            .map_err(io)?;

        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            request.uri().path(),
            request.body().len()
        );
        for (name, value) in request.headers() {
            // Header values the core builds are visible ASCII.
            head.push_str(&format!(
                "{name}: {}\r\n",
                value.to_str().unwrap_or_default()
            ));
        }
        head.push_str("\r\n");
        // From the first byte on, the server may execute the request: "maybe sent".
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(request.body()).map_err(io)?;

        let mut received = Vec::new();
        let head_end = loop {
            if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            if received.len() > 64 * 1024 {
                return Err(maybe_sent(TransportErrorKind::Io, "response head too long"));
            }
            if read_some(&mut stream, &mut received).map_err(io)? == 0 {
                return Err(maybe_sent(
                    TransportErrorKind::Io,
                    "closed before a response",
                ));
            }
        };
        let parts = parse_head(&received[..head_end])?;
        let length = parts
            .headers
            .get("content-length")
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let mut body = self.core.body_buffer(length)?;
        body.extend(&received[head_end..])?;
        received.fill(0);
        // Without a length the body ends when the server closes the connection.
        while length.is_none_or(|length| (body.len() as u64) < length) {
            let mut chunk = Vec::with_capacity(8 * 1024);
            if read_some(&mut stream, &mut chunk).map_err(io)? == 0 {
                if length.is_some() {
                    return Err(maybe_sent(TransportErrorKind::Io, "body cut short"));
                }
                break;
            }
            body.extend(&chunk)?;
            chunk.fill(0);
        }
        Ok((parts, body))
    }
}

/// Reads what is available into `into`; 0 means the peer closed.
fn read_some(stream: &mut TcpStream, into: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut chunk = [0u8; 8 * 1024];
    let read = stream.read(&mut chunk)?;
    into.extend_from_slice(&chunk[..read]);
    Ok(read)
}

/// `HTTP/1.1 200 OK\r\nName: value\r\n...` into response parts.
fn parse_head(head: &[u8]) -> Result<Parts, TransportError> {
    let bad = || maybe_sent(TransportErrorKind::Io, "malformed HTTP response head");
    let text = std::str::from_utf8(head).map_err(|_| bad())?;
    let mut lines = text.split("\r\n").filter(|line| !line.is_empty());
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .ok_or_else(bad)?;
    let (mut parts, ()) = Response::new(()).into_parts();
    parts.status = StatusCode::from_bytes(status.as_bytes()).map_err(|_| bad())?;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or_else(bad)?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad())?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| bad())?;
        parts.headers.append(name, value);
    }
    Ok(parts)
}

fn kind_of(error: &std::io::Error, otherwise: TransportErrorKind) -> TransportErrorKind {
    match error.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => TransportErrorKind::Timeout,
        _ => otherwise,
    }
}

#[allow(
    dead_code,
    reason = "the fault-matrix test includes this file for `TcpClient` alone"
)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = prime_mock::MockServer::start()?;
    let settings = Settings::default().base_url(&server.url());
    let admin = TcpClient::new(server.account_credentials(), &settings)?;
    let user = admin.create_api_user("Desk 1", prime_core::endpoints::Role::Trader)?;
    let key = admin.create_api_user_key(&user.id)?;
    eprintln!(
        "created user {} and key {} over a bare TCP transport",
        user.id, key.api_key
    );
    let keys = admin.list_api_user_keys(&user.id)?;
    assert_eq!(keys.len(), 1);
    Ok(())
}
