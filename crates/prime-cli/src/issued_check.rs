//! `prime keys check` and `keys create --check`: does an issued key authenticate where Kraken
//! uses it? A real WebSocket upgrade (tungstenite over rustls for `wss://`) and a real FIX
//! Logon (TLS, or plain TCP for the simulator on loopback).

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prime_core::endpoints::CreatedApiUserKey;
use prime_core::http::header::{CONNECTION, HOST, UPGRADE};
use prime_core::http::{Request, Uri};
use prime_core::issued::{FixLogon, FixMessage, IssuedCredentials, UtcTimestamp, WsConnectHeaders};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde::Deserialize;

use crate::cli::{CheckEndpoints, FixTransport, Global};
use crate::failure::Failure;
use crate::output::clean;

/// SenderCompID and TargetCompID used with the simulator when none are given: it accepts any.
const MOCK_SENDER: &str = "CUSTOMER";
const MOCK_TARGET: &str = "PRIME-MOCK";

/// What one check found.
pub enum Outcome {
    /// The key authenticated; the detail says how the server answered.
    Authenticated(String),
    /// The server refused the key; the reason is the server's.
    Refused(String),
}

/// A FIX endpoint to log on to.
pub struct FixTarget {
    pub addr: String,
    pub transport: FixTransport,
    pub sender: String,
    pub target: String,
}

/// Where to check.
pub struct Plan {
    pub ws_url: Option<String>,
    pub fix: Option<FixTarget>,
}

/// `prime keys check --api-key K --secret-file F [endpoints]`.
pub fn keys_check(
    global: &Global,
    api_key: &str,
    secret_file: &Path,
    endpoints: &CheckEndpoints,
) -> Result<(), Failure> {
    crate::activity::doing("while checking the key; nothing was changed");
    let secret = crate::sign::read_secret_file(secret_file)?;
    let credentials = IssuedCredentials::new(api_key, &secret)
        .map_err(|e| Failure::Usage(format!("--api-key/--secret-file: {e}")))?;
    let plan = plan(global, endpoints)?;
    run_plan(
        &plan,
        &credentials,
        crate::credentials::timeout(global.timeout)?,
        global.json,
    )
}

/// `keys create --check`: the key just created, checked at once.
pub fn created_key(
    global: &Global,
    key: &CreatedApiUserKey,
    endpoints: &CheckEndpoints,
) -> Result<(), Failure> {
    let credentials = IssuedCredentials::from_secret(&key.api_key, key.api_secret())
        .map_err(|e| Failure::Call(format!("the created key cannot sign: {e}")))?;
    let plan = plan(global, endpoints)?;
    run_plan(
        &plan,
        &credentials,
        crate::credentials::timeout(global.timeout)?,
        global.json,
    )
}

/// Refuses malformed check endpoints (exit 2) before anything is created.
pub fn validate(global: &Global, endpoints: &CheckEndpoints) -> Result<(), Failure> {
    plan(global, endpoints).map(|_| ())
}

/// Endpoints from the flags; else from a simulator credentials file (`prime mock`'s first
/// line: `ws_url`, `fix_addr`); else the WebSocket of a loopback `--base-url` (the
/// simulator's); else Kraken's production WebSocket.
fn plan(global: &Global, endpoints: &CheckEndpoints) -> Result<Plan, Failure> {
    // Malformed values are usage errors (exit 2), found before anything is sent: they are
    // not a key that failed to authenticate.
    if let Some(url) = &endpoints.ws_url {
        ws_url_problem(url).map_or(Ok(()), |problem| {
            Err(Failure::Usage(format!(
                "--ws-url {}: {problem} (expected wss://HOST[:PORT]/PATH, or ws:// for the \
                 simulator)",
                clean(url)
            )))
        })?;
    }
    if let Some(addr) = &endpoints.fix_addr {
        split_fix_addr(addr).map_err(|problem| {
            Failure::Usage(format!(
                "--fix-addr {}: {problem} (expected HOST:PORT, e.g. fix.prime.kraken.com:4443)",
                clean(addr)
            ))
        })?;
    }
    for (flag, value) in [
        ("--sender", &endpoints.sender),
        ("--target", &endpoints.target),
    ] {
        if let Some(problem) = value.as_deref().and_then(comp_id_problem) {
            return Err(Failure::Usage(format!(
                "{flag} {:?}: {problem} (the CompID Kraken assigned: printable ASCII, no spaces)",
                value.as_deref().unwrap_or_default()
            )));
        }
    }
    let fix_from_flags = |addr: &str| -> Result<FixTarget, Failure> {
        let need = |value: &Option<String>, flag: &str| {
            value.clone().ok_or_else(|| {
                Failure::Usage(format!(
                    "--fix-addr needs {flag} (the CompIDs Kraken assigned for the session)"
                ))
            })
        };
        Ok(FixTarget {
            addr: addr.to_owned(),
            transport: endpoints.fix_transport,
            sender: need(&endpoints.sender, "--sender")?,
            target: need(&endpoints.target, "--target")?,
        })
    };
    if endpoints.ws_url.is_some() || endpoints.fix_addr.is_some() {
        return Ok(Plan {
            ws_url: endpoints.ws_url.clone(),
            fix: endpoints
                .fix_addr
                .as_deref()
                .map(fix_from_flags)
                .transpose()?,
        });
    }
    if let Some(file) = mock_endpoints(global)? {
        return Ok(Plan {
            ws_url: file.ws_url,
            fix: file.fix_addr.map(|addr| FixTarget {
                addr,
                transport: endpoints.fix_transport,
                sender: endpoints
                    .sender
                    .clone()
                    .unwrap_or_else(|| MOCK_SENDER.to_owned()),
                target: endpoints
                    .target
                    .clone()
                    .unwrap_or_else(|| MOCK_TARGET.to_owned()),
            }),
        });
    }
    let loopback_ws = global.base_url.as_deref().and_then(|url| {
        let uri: Uri = url.parse().ok()?;
        let authority = uri.authority()?;
        (uri.scheme_str() == Some("http") && is_loopback(authority.host()))
            .then(|| format!("ws://{}{}", authority.as_str(), prime_core::issued::WS_PATH))
    });
    Ok(Plan {
        ws_url: Some(loopback_ws.unwrap_or_else(|| prime_core::issued::WS_URL.to_owned())),
        fix: None,
    })
}

/// Why `url` cannot be a Prime WebSocket URL, if it cannot.
fn ws_url_problem(url: &str) -> Option<String> {
    let uri: Uri = match url.parse() {
        Ok(uri) => uri,
        Err(e) => return Some(format!("not a URL ({e})")),
    };
    match uri.scheme_str() {
        Some("ws" | "wss") => {}
        Some(other) => return Some(format!("the scheme {other}:// is not ws:// or wss://")),
        None => return Some("no scheme".to_owned()),
    }
    match uri.authority() {
        Some(authority) if !authority.host().is_empty() => {
            // `Authority::port` is `None` for a port that is not a number: look at the text.
            let text = authority.as_str();
            let after_host = text.rsplit_once(']').map_or(text, |(_, rest)| rest);
            match after_host.rsplit_once(':') {
                Some((_, port)) if !port.parse::<u16>().is_ok_and(|p| p > 0) => {
                    Some(format!("{port:?} is not a port (1 to 65535)"))
                }
                _ => None,
            }
        }
        _ => Some("no host".to_owned()),
    }
}

/// `HOST:PORT` split, or why it cannot be.
fn split_fix_addr(addr: &str) -> Result<(&str, u16), String> {
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| "no :PORT".to_owned())?;
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b));
    if !host_ok {
        return Err(format!("{:?} is not a host name or address", clean(host)));
    }
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok((host, port)),
        _ => Err(format!("{:?} is not a port (1 to 65535)", clean(port))),
    }
}

/// Why `id` cannot be a FIX CompID (it would corrupt the Logon), if it cannot.
fn comp_id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        Some("empty")
    } else if !id.bytes().all(|b| b.is_ascii_graphic()) {
        Some("contains a space, a control character or a non-ASCII character")
    } else {
        None
    }
}

#[derive(Deserialize)]
struct MockEndpoints {
    #[serde(default)]
    ws_url: Option<String>,
    #[serde(default)]
    fix_addr: Option<String>,
}

/// The `ws_url` and `fix_addr` of a `--credentials` file, if it names any.
fn mock_endpoints(global: &Global) -> Result<Option<MockEndpoints>, Failure> {
    let Some(path) = &global.credentials else {
        return Ok(None);
    };
    let text = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| {
        Failure::Usage(format!(
            "cannot read credentials file {}: {e}",
            path.display()
        ))
    })?);
    // Only the position of a problem is reported: the file holds a secret.
    let file: MockEndpoints = serde_json::from_slice(&text).map_err(|e| {
        Failure::Usage(format!(
            "credentials file {} is not a JSON object (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    Ok((file.ws_url.is_some() || file.fix_addr.is_some()).then_some(file))
}

/// One check's result, as printed.
#[derive(serde::Serialize)]
struct Checked {
    surface: &'static str,
    endpoint: String,
    /// `authenticated`, `refused` (the server said no) or `failed` (no answer).
    result: &'static str,
    detail: String,
}

impl Checked {
    fn new(surface: &'static str, endpoint: &str, outcome: Result<Outcome, String>) -> Self {
        let (result, detail) = match outcome {
            Ok(Outcome::Authenticated(detail)) => ("authenticated", detail),
            Ok(Outcome::Refused(reason)) => ("refused", reason),
            Err(error) => ("failed", error),
        };
        Self {
            surface,
            endpoint: endpoint.to_owned(),
            result,
            detail,
        }
    }
}

/// Runs every check of `plan`, prints one line each (or, with `json`, one JSON document with
/// a `checks` array), and fails unless all authenticated.
pub fn run_plan(
    plan: &Plan,
    credentials: &IssuedCredentials,
    timeout: Duration,
    json: bool,
) -> Result<(), Failure> {
    let mut checks = Vec::new();
    if let Some(url) = &plan.ws_url {
        checks.push(Checked::new(
            "websocket",
            url,
            check_ws(url, credentials, timeout),
        ));
    }
    if let Some(fix) = &plan.fix {
        checks.push(Checked::new(
            "fix",
            &fix.addr,
            check_fix(fix, credentials, timeout),
        ));
    }
    let text = if json {
        format!(
            "{}\n",
            crate::output::to_json(&serde_json::json!({
                "api_key": credentials.api_key().as_str(),
                "checks": checks,
            }))
        )
    } else {
        checks
            .iter()
            .map(|c| match c.result {
                // The detail may quote the server: cleaned before it reaches a terminal.
                "authenticated" => format!(
                    "{} {}: authenticated ({})\n",
                    c.surface,
                    clean(&c.endpoint),
                    clean(&c.detail)
                ),
                other => format!(
                    "{} {}: {other}: {}\n",
                    c.surface,
                    clean(&c.endpoint),
                    clean(&c.detail)
                ),
            })
            .collect()
    };
    crate::output::stdout(&text)?;
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.result != "authenticated")
        .map(|c| c.surface)
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Call(format!(
            "key {} did not authenticate on: {}",
            credentials.api_key().as_str(),
            failed.join(", ")
        )))
    }
}

/// A check ends within `timeout`, and never after the command's overall deadline.
fn check_deadline(timeout: Duration) -> Instant {
    let own = Instant::now() + timeout;
    match crate::budget::deadline() {
        Some(overall) => own.min(overall),
        None => own,
    }
}

fn now() -> UtcTimestamp {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    UtcTimestamp::from_unix_nanos(nanos)
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A connection to `host:port` whose every read and write ends by `deadline`: each is given
/// only what is left, so a server that drips one byte at a time cannot stretch the check.
fn connect(host: &str, port: u16, deadline: Instant) -> Result<Bounded, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    let mut last = format!("{host} has no address");
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("{last}; out of time"));
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(Bounded { stream, deadline });
            }
            Err(e) => last = format!("cannot connect to {addr}: {e}"),
        }
    }
    Err(last)
}

/// A TCP stream bounded by an absolute deadline (see [`connect`]).
pub struct Bounded {
    stream: TcpStream,
    deadline: Instant,
}

impl Bounded {
    /// Sets the socket's timeout to what is left; none left is a timeout error.
    fn arm(&self) -> std::io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the check ran out of time (--timeout)",
            ));
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.set_write_timeout(Some(left))
    }
}

impl Read for Bounded {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.arm()?;
        self.stream.read(buffer)
    }
}

impl Write for Bounded {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.arm()?;
        self.stream.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

/// TLS with the webpki roots, on rustls's `ring` provider (the workspace's only one).
fn tls(host: &str, tcp: Bounded) -> Result<StreamOwned<ClientConnection, Bounded>, String> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| format!("{host} is not a TLS server name: {e}"))?;
    let connection =
        ClientConnection::new(Arc::new(config), name).map_err(|e| format!("TLS setup: {e}"))?;
    Ok(StreamOwned::new(connection, tcp))
}

/// A WebSocket upgrade to `url` with the key's `ApiKey`/`ApiTimestamp`/`ApiSign`.
pub fn check_ws(
    url: &str,
    credentials: &IssuedCredentials,
    timeout: Duration,
) -> Result<Outcome, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("--ws-url {url}: not a URL: {e}"))?;
    let auth = WsConnectHeaders::for_uri(credentials, now(), &uri).map_err(|e| e.to_string())?;
    let secure = uri.scheme_str() == Some("wss");
    let authority = uri
        .authority()
        .ok_or_else(|| format!("--ws-url {url}: no host"))?;
    let port = authority
        .port_u16()
        .unwrap_or(if secure { 443 } else { 80 });
    let mut request = Request::get(uri.clone())
        // The Host header the signature covers: the URL's authority, exactly.
        .header(HOST, authority.as_str())
        .header(CONNECTION, "Upgrade")
        .header(UPGRADE, "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header(
            "Sec-WebSocket-Key",
            tungstenite::handshake::client::generate_key(),
        )
        .body(())
        .map_err(|e| format!("cannot build the upgrade request: {e}"))?;
    auth.add_to(request.headers_mut());
    let tcp = connect(authority.host(), port, check_deadline(timeout))?;
    if secure {
        upgrade(request, tls(authority.host(), tcp)?)
    } else {
        upgrade(request, tcp)
    }
}

fn upgrade<S: Read + Write>(request: Request<()>, stream: S) -> Result<Outcome, String> {
    use tungstenite::handshake::HandshakeError;
    match tungstenite::client(request, stream) {
        Ok((mut socket, response)) => {
            // Authenticated. Close politely; every read is bounded by the socket's timeout
            // and the loop by its count.
            let _ = socket.close(None);
            for _ in 0..16 {
                if socket.read().is_err() {
                    break;
                }
            }
            Ok(Outcome::Authenticated(format!(
                "{} Switching Protocols",
                response.status().as_u16()
            )))
        }
        Err(HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            let reason = response
                .body()
                .as_deref()
                .map(|body| first_line(&String::from_utf8_lossy(body)))
                .unwrap_or_default();
            Ok(Outcome::Refused(format!(
                "{} {}{}",
                response.status().as_u16(),
                response.status().canonical_reason().unwrap_or(""),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                }
            )))
        }
        Err(HandshakeError::Failure(error)) => Err(format!("WebSocket handshake failed: {error}")),
        Err(HandshakeError::Interrupted(_)) => {
            Err("WebSocket handshake interrupted (timed out)".to_owned())
        }
    }
}

/// The first line of a server's text, at most 200 characters, control characters dropped.
fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

/// A FIX Logon to `target` signed with the key; a Logout follows a successful Logon.
pub fn check_fix(
    target: &FixTarget,
    credentials: &IssuedCredentials,
    timeout: Duration,
) -> Result<Outcome, String> {
    let (host, port) = split_fix_addr(&target.addr)
        .map_err(|problem| format!("--fix-addr {}: {problem}", target.addr))?;
    let secure = match target.transport {
        FixTransport::Tls => true,
        FixTransport::Plain => false,
        FixTransport::Auto => !is_loopback(host),
    };
    let logon = FixLogon::new(&target.sender, &target.target, now())
        .encode(credentials)
        .map_err(|e| format!("cannot build the Logon: {e}"))?;
    let tcp = connect(host, port, check_deadline(timeout))?;
    if secure {
        logon_exchange(tls(host, tcp)?, &logon, target)
    } else {
        logon_exchange(tcp, &logon, target)
    }
}

fn logon_exchange<S: Read + Write>(
    mut stream: S,
    logon: &[u8],
    target: &FixTarget,
) -> Result<Outcome, String> {
    stream
        .write_all(logon)
        .and_then(|()| stream.flush())
        .map_err(|e| format!("cannot send the Logon: {e}"))?;
    let mut buffer = Vec::new();
    let Some(reply) = read_fix(&mut stream, &mut buffer)? else {
        return Ok(Outcome::Refused(
            "the connection was closed without an answer".to_owned(),
        ));
    };
    match reply.msg_type() {
        "A" => {
            let logout = FixMessage::new("5")
                .with(34, "2")
                .with(49, target.sender.as_str())
                .with(52, now().sending_time())
                .with(56, target.target.as_str());
            // Best effort: the check has its answer already.
            if let Ok(bytes) = logout.encode()
                && stream.write_all(&bytes).is_ok()
            {
                let _ = stream.flush();
                let _ = read_fix(&mut stream, &mut buffer);
            }
            Ok(Outcome::Authenticated(format!(
                "Logon 35=A from {}",
                reply.get(49).unwrap_or("?")
            )))
        }
        "5" => Ok(Outcome::Refused(format!(
            "Logout 35=5: 58={}",
            first_line(reply.get(58).unwrap_or("(no reason given)"))
        ))),
        other => Ok(Outcome::Refused(format!(
            "unexpected answer 35={}",
            first_line(other)
        ))),
    }
}

/// One FIX message, or `None` if the peer closed first. Bounded by the stream's read timeout
/// and by the frame size limit of [`FixMessage::frame_len`].
fn read_fix<S: Read>(stream: &mut S, buffer: &mut Vec<u8>) -> Result<Option<FixMessage>, String> {
    let mut chunk = [0u8; 1024];
    loop {
        let frame =
            FixMessage::frame_len(buffer).map_err(|e| format!("malformed FIX answer: {e}"))?;
        if let Some(total) = frame.filter(|&total| buffer.len() >= total) {
            let message = FixMessage::parse(&buffer[..total])
                .map_err(|e| format!("malformed FIX answer: {e}"));
            buffer.drain(..total);
            return message.map(Some);
        }
        match stream.read(&mut chunk) {
            Ok(0) if buffer.is_empty() => return Ok(None),
            Ok(0) => return Err("the FIX answer was cut short".to_owned()),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("no FIX answer: {e}")),
        }
    }
}

/// The demo's step: the key just issued authenticates on the simulator's WebSocket and FIX.
/// Returns the two result lines, or why a check did not pass.
pub fn demo_lines(
    server: &prime_mock::MockServer,
    key: &CreatedApiUserKey,
    timeout: Duration,
) -> Result<Vec<String>, Failure> {
    let credentials = IssuedCredentials::from_secret(&key.api_key, key.api_secret())
        .map_err(|e| Failure::Call(format!("the new key cannot sign: {e}")))?;
    let ws_url = server.ws_url();
    let fix = FixTarget {
        addr: server.fix_addr().to_string(),
        transport: FixTransport::Plain,
        sender: MOCK_SENDER.to_owned(),
        target: MOCK_TARGET.to_owned(),
    };
    let ws = check_ws(&ws_url, &credentials, timeout);
    let fix_outcome = check_fix(&fix, &credentials, timeout);
    let mut lines = Vec::new();
    for (what, outcome) in [("WebSocket", ws), ("FIX", fix_outcome)] {
        match outcome {
            Ok(Outcome::Authenticated(detail)) => {
                lines.push(format!("{what}: authenticated ({detail})"));
            }
            Ok(Outcome::Refused(reason)) => {
                return Err(Failure::Call(format!(
                    "the new key was refused on {what}: {reason}"
                )));
            }
            Err(error) => return Err(Failure::Call(format!("{what} check failed: {error}"))),
        }
    }
    Ok(lines)
}

/// `keys rotate`'s check: the same checks as `keys check`, reported as one line (for the
/// progress on stderr) instead of on stdout. `Err` says why the key did not authenticate.
pub fn check_for_rotation(
    global: &Global,
    endpoints: &CheckEndpoints,
    api_key: &str,
    secret: &prime_core::ApiSecret,
) -> Result<Result<String, String>, Failure> {
    let credentials = IssuedCredentials::from_secret(api_key, secret)
        .map_err(|e| Failure::Call(format!("the new key cannot sign: {e}")))?;
    let plan = plan(global, endpoints)?;
    let timeout = crate::credentials::timeout(global.timeout)?;
    let mut passed = Vec::new();
    let checks = [
        plan.ws_url
            .as_ref()
            .map(|url| ("websocket", check_ws(url, &credentials, timeout))),
        plan.fix
            .as_ref()
            .map(|fix| ("fix", check_fix(fix, &credentials, timeout))),
    ];
    for (surface, outcome) in checks.into_iter().flatten() {
        match outcome {
            Ok(Outcome::Authenticated(_)) => passed.push(surface),
            Ok(Outcome::Refused(reason)) => {
                return Ok(Err(format!("{surface}: refused: {reason}")));
            }
            Err(error) => return Ok(Err(format!("{surface}: {error}"))),
        }
    }
    Ok(Ok(format!("authenticated on {}", passed.join(" and "))))
}

/// The demo's last word on a deleted key: both checks must now refuse it. Returns the two
/// refusals, or why that did not happen.
pub fn demo_refused_lines(
    server: &prime_mock::MockServer,
    key: &CreatedApiUserKey,
    timeout: Duration,
) -> Result<Vec<String>, Failure> {
    let credentials = IssuedCredentials::from_secret(&key.api_key, key.api_secret())
        .map_err(|e| Failure::Call(format!("the key cannot sign: {e}")))?;
    let fix = FixTarget {
        addr: server.fix_addr().to_string(),
        transport: FixTransport::Plain,
        sender: MOCK_SENDER.to_owned(),
        target: MOCK_TARGET.to_owned(),
    };
    let ws = check_ws(&server.ws_url(), &credentials, timeout);
    let fix_outcome = check_fix(&fix, &credentials, timeout);
    let mut lines = Vec::new();
    for (what, outcome) in [("WebSocket", ws), ("FIX", fix_outcome)] {
        match outcome {
            Ok(Outcome::Refused(reason)) => lines.push(format!("{what}: refused ({reason})")),
            Ok(Outcome::Authenticated(_)) => {
                return Err(Failure::Call(format!(
                    "the deleted key still authenticated on {what}"
                )));
            }
            Err(error) => return Err(Failure::Call(format!("{what} check failed: {error}"))),
        }
    }
    Ok(lines)
}
