//! A third Prime transport: HTTP/1.1 over `std::net::TcpStream`, a connection per attempt. It
//! writes the signed request bytes the call driver produces ([`Call::request_bytes_at`]: no
//! `http::Request`, no header map, one buffer reused across attempts), reads the answer, and
//! says whether a failure came before anything was written; every rule of a call (validate
//! before spending a nonce, re-sign, never resend a write that may have executed, back off)
//! comes from prime-core's call driver.
//!
//! Run it against the embedded simulator: `cargo run -p prime-tests --example tcp_transport`.
//! Plain HTTP only: fine for the simulator on loopback, not for Kraken.
//!
//! [`Call::request_bytes_at`]: prime_core::transport::Call::request_bytes_at

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use prime_core::http::{HeaderName, HeaderValue, Response, StatusCode, Uri, response::Parts};
use prime_core::transport::{
    BodyBuffer, ClientCore, Step, TransportError, TransportErrorKind, maybe_sent, not_sent,
};
use prime_core::{BuildError, Credentials, Endpoint, Error, Reply, Settings};
use zeroize::Zeroizing;

/// The longest response head read; Prime's are a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;

/// A blocking client whose transport is a bare TCP socket.
pub struct TcpClient {
    core: ClientCore,
    /// `host:port` of the base URL.
    address: String,
}

impl TcpClient {
    /// A client for `settings` (whose base URL must be `http://`).
    pub fn new(credentials: Credentials, settings: &Settings) -> Result<Self, BuildError> {
        let core = ClientCore::new(credentials, settings)?;
        let refused = || BuildError::new("base_url", "plain HTTP only");
        let uri: Uri = core.base_url().parse().map_err(|_| refused())?;
        let (Some("http"), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return Err(refused());
        };
        let address = format!("{host}:{}", uri.port_u16().unwrap_or(80));
        Ok(Self { core, address })
    }

    /// Sends `endpoint` as the call driver directs.
    pub fn send<E: Endpoint>(&self, endpoint: E) -> Result<Reply<E::Response>, Error> {
        let mut call = self.core.start(&endpoint, Instant::now())?;
        // One buffer for every attempt of the call: each is signed afresh into it.
        let mut request = Vec::with_capacity(1024);
        loop {
            // Signed only while the call's deadline allows; the attempt gets the time left.
            let now = Instant::now();
            call.request_bytes_at(now, &mut request)?;
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

    /// One request on a fresh connection; the answer ends after its `Content-Length` (or,
    /// without one, when the server closes).
    fn exchange(
        &self,
        request: &[u8],
        limit: Duration,
    ) -> Result<(Parts, BodyBuffer), TransportError> {
        let address = (self.address.as_str())
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
        // From the first byte on, the server may execute the request: "maybe sent".
        stream.write_all(request).map_err(io)?;

        // The head, read whole before anything is parsed. Sized once, so the zeroizing
        // buffer never reallocates (a body that follows may hold a one-time secret).
        let mut received = Zeroizing::new(Vec::with_capacity(MAX_HEAD));
        let mut chunk = Zeroizing::new([0u8; 4096]);
        let head_end = loop {
            if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let room = (MAX_HEAD - received.len()).min(chunk.len());
            if room == 0 {
                return Err(maybe_sent(
                    TransportErrorKind::Io,
                    "response head over 16 KiB",
                ));
            }
            match stream.read(&mut chunk[..room]).map_err(io)? {
                0 => return Err(io(ErrorKind::UnexpectedEof.into())),
                read => received.extend_from_slice(&chunk[..read]),
            }
        };
        let parts = parse_head(&received[..head_end])?;
        let length = parts.headers.get("content-length");
        let length = length.and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let mut body = self.core.body_buffer(length)?;
        body.extend(&received[head_end..])?;
        // The body, never past the cap. A failure hands over the bytes received: the driver
        // still delivers a created key's secret that is among them.
        while length.is_none_or(|length| (body.len() as u64) < length) {
            match stream.read(&mut chunk[..]) {
                Ok(0) => break,
                Ok(read) => body.extend(&chunk[..read])?,
                Err(e) => return Err(io(e).with_received(body.as_bytes())),
            }
        }
        if length.is_some_and(|length| length != body.len() as u64) {
            let cut = maybe_sent(TransportErrorKind::Io, "body cut short");
            return Err(cut.with_received(body.as_bytes()));
        }
        Ok((parts, body))
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
