//! A third Prime transport: HTTP/1.1 over `std::net::TcpStream`, a connection per attempt. It
//! moves bytes and says whether a failure came before anything was written; every rule of a
//! call (validate before spending a nonce, re-sign, never resend a write that may have
//! executed, back off) comes from prime-core's call driver.
//!
//! Run it against the embedded simulator: `cargo run -p prime-tests --example tcp_transport`.
//! Plain HTTP only: fine for the simulator on loopback, not for Kraken.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use prime_core::http::{HeaderName, HeaderValue, Request, Response, StatusCode, response::Parts};
use prime_core::transport::{
    BodyBuffer, ClientCore, Step, TransportError, TransportErrorKind, maybe_sent, not_sent,
};
use prime_core::{BuildError, Credentials, Endpoint, Error, Reply, Settings};

/// What one attempt brings back: the response, or how it failed.
type Attempt = Result<(Parts, BodyBuffer), TransportError>;

/// A blocking client whose transport is a bare TCP socket.
pub struct TcpClient {
    core: ClientCore,
}

impl TcpClient {
    /// A client for `settings` (whose base URL must be `http://`).
    pub fn new(credentials: Credentials, settings: &Settings) -> Result<Self, BuildError> {
        let core = ClientCore::new(credentials, settings)?;
        let plain = core.base_url().starts_with("http://");
        let refused = || BuildError::new("base_url", "plain HTTP only");
        plain.then_some(Self { core }).ok_or_else(refused)
    }

    /// Sends `endpoint` as the call driver directs.
    pub fn send<E: Endpoint>(&self, endpoint: E) -> Result<Reply<E::Response>, Error> {
        let mut call = self.core.start(&endpoint, Instant::now())?;
        loop {
            let now = Instant::now();
            let request = call.request_at(now)?;
            let outcome = self.exchange(&request, call.attempt_timeout(now));
            match call.on_attempt(Instant::now(), outcome) {
                Step::Done(reply) => return Ok(reply),
                Step::Stop(error) => return Err(error),
                Step::Retry { after } => std::thread::sleep(after),
            }
        }
    }

    // The typed methods and key workflows (the orphan-safe `create_api_user_key`, ...).
    prime_core::client_methods!(blocking);
    prime_core::workflow_methods!(blocking);

    /// One request on a fresh connection, read until the whole body is in.
    fn exchange(&self, request: &Request<Vec<u8>>, limit: Duration) -> Attempt {
        let host = request.uri().authority().map_or("", |a| a.as_str());
        let address = host
            .to_socket_addrs()
            .map_err(|e| not_sent(TransportErrorKind::Connect, e))?
            .next()
            .ok_or_else(|| not_sent(TransportErrorKind::Connect, "the host has no address"))?;
        let mut stream = TcpStream::connect_timeout(&address, self.core.connect_timeout())
            .map_err(|e| not_sent(kind_of(&e, TransportErrorKind::Connect), e))?;
        let io = |e: std::io::Error| maybe_sent(kind_of(&e, TransportErrorKind::Io), e);
        // A read or write stalled past the attempt's limit (cut to the deadline) fails it.
        let timeout = Some(limit);
        stream
            .set_read_timeout(timeout)
            .and_then(|()| stream.set_write_timeout(timeout))
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

        // `Connection: close`: the response ends when the server closes. Never read more than
        // the body cap (plus room for a head) allows.
        let limit = self.core.max_response_bytes() as u64 + 64 * 1024;
        let mut received = zeroize::Zeroizing::new(Vec::new());
        let read = (&mut stream).take(limit).read_to_end(&mut received);
        let Some(head_end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
            return Err(io(read.err().unwrap_or(ErrorKind::UnexpectedEof.into())));
        };
        let (head, rest) = received.split_at(head_end + 4);
        let parts = parse_head(head)?;
        let length = parts.headers.get("content-length");
        let length = length.and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let mut body = self.core.body_buffer(length)?;
        body.extend(rest)?;
        // A failure hands over the bytes received: the driver still delivers a created key's
        // secret that is among them.
        match read {
            Err(e) => Err(io(e).with_received(body.as_bytes())),
            Ok(_) if length.is_some_and(|length| length != body.len() as u64) => {
                let cut = maybe_sent(TransportErrorKind::Io, "body cut short");
                Err(cut.with_received(body.as_bytes()))
            }
            Ok(_) => Ok((parts, body)),
        }
    }
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

#[allow(dead_code, reason = "the fault matrix uses `TcpClient` alone")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = prime_mock::MockServer::start()?;
    let settings = Settings::default().base_url(&server.url());
    let admin = TcpClient::new(server.account_credentials(), &settings)?;
    let user = admin.create_api_user("Desk 1", prime_core::endpoints::Role::Trader)?;
    let key = admin.create_api_user_key(&user.id)?;
    assert_eq!(admin.list_api_user_keys(&user.id)?[0].api_key, key.api_key);
    Ok(())
}
