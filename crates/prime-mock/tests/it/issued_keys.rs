//! Issued keys on the simulator's Prime WebSocket (`GET /ws/v1`) and Prime FIX checks, over
//! real sockets: a fresh key authenticates on both, and every refusal (wrong signature, stale
//! timestamp, deleted key, IP outside the allow-list, malformed FIX) is answered, never hung.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prime_core::IssuedCredentials;
use prime_core::endpoints::{
    CreateApiUser, CreateApiUserKey, DeleteApiUserKey, Role, UpdateApiUser, UpdateApiUserKey,
    UserStatus,
};
use prime_core::issued::{FixLogon, FixMessage, UtcTimestamp, WsConnectHeaders};
use prime_mock::MockServer;

use crate::http_client::Session;

/// No test waits longer than this for an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

struct Issued {
    user_id: String,
    key_id: String,
    credentials: IssuedCredentials,
}

fn issue_key(server: &MockServer, session: &mut Session, role: Role) -> Issued {
    let admin = server.account_credentials();
    let user_id = session.ok(&admin, &CreateApiUser::new("Issued", role)).id;
    let key = session.ok(&admin, &CreateApiUserKey::new(&user_id));
    let credentials = IssuedCredentials::from_secret(&key.api_key, key.api_secret())
        .expect("the simulator issues usable keys");
    Issued {
        user_id,
        key_id: key.id,
        credentials,
    }
}

fn now() -> UtcTimestamp {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    UtcTimestamp::from_unix_nanos(u64::try_from(nanos).unwrap())
}

fn minutes_ago(minutes: u64) -> UtcTimestamp {
    UtcTimestamp::from_unix_micros(now().unix_micros() - minutes * 60_000_000).unwrap()
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    stream
}

/// What the WebSocket endpoint answered: status, headers, and the bytes after the head.
struct WsAnswer {
    status: u16,
    head: String,
    rest: Vec<u8>,
}

impl WsAnswer {
    fn body_line(&self) -> String {
        String::from_utf8_lossy(&self.rest).trim_end().to_owned()
    }
}

/// Sends a WebSocket upgrade with `headers` (names as written) and reads the answer's head,
/// then whatever follows until the server closes or `extra` bytes arrived.
fn ws_request(server: &MockServer, headers: &[(&str, String)], extra: usize) -> WsAnswer {
    let mut stream = connect(server.addr());
    let mut request = format!("GET /ws/v1 HTTP/1.1\r\nHost: {}\r\n", server.addr());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream
            .read(&mut chunk)
            .expect("an answer within the timeout");
        assert!(n > 0, "closed before a complete head: {bytes:?}");
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let status = head[9..12].parse().unwrap();
    let content_length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let wanted = head_end + content_length.max(extra);
    while bytes.len() < wanted {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
        }
    }
    WsAnswer {
        status,
        head,
        rest: bytes[head_end..].to_vec(),
    }
}

const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn upgrade_headers() -> Vec<(&'static str, String)> {
    vec![
        ("Upgrade", "websocket".to_owned()),
        ("Connection", "Upgrade".to_owned()),
        ("Sec-WebSocket-Version", "13".to_owned()),
        ("Sec-WebSocket-Key", WS_KEY.to_owned()),
    ]
}

fn signed_headers(
    server: &MockServer,
    credentials: &IssuedCredentials,
    at: UtcTimestamp,
) -> Vec<(&'static str, String)> {
    let auth =
        WsConnectHeaders::new(credentials, at, &server.addr().to_string(), "/ws/v1").unwrap();
    let mut headers = upgrade_headers();
    headers.push(("ApiKey", auth.api_key().to_owned()));
    headers.push(("ApiTimestamp", auth.api_timestamp().to_owned()));
    headers.push(("ApiSign", auth.api_sign().to_owned()));
    headers
}

#[test]
fn a_fresh_issued_key_gets_101_and_a_normal_close() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let issued = issue_key(&server, &mut session, Role::Trader);

    let answer = ws_request(
        &server,
        &signed_headers(&server, &issued.credentials, now()),
        15,
    );
    assert_eq!(answer.status, 101, "{}", answer.head);
    // RFC 6455 (section 1.3)'s own example key and accept value; also:
    // python3 -c "import hashlib,base64;print(base64.b64encode(hashlib.sha1(b'dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest()).decode())"
    // -> s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
    let accept = answer.head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-accept")
            .then(|| value.trim().to_owned())
    });
    assert_eq!(
        accept.as_deref(),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{}",
        answer.head
    );
    // A close frame: FIN + opcode 8, unmasked, code 1000, reason "authenticated".
    assert_eq!(answer.rest, b"\x88\x0f\x03\xe8authenticated");
}

#[test]
fn every_websocket_refusal_is_401_with_a_one_line_reason() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let issued = issue_key(&server, &mut session, Role::Viewer);
    let key = issued.credentials.api_key().as_str().to_owned();

    let refused = |headers: Vec<(&'static str, String)>, expected: &str| {
        let answer = ws_request(&server, &headers, 0);
        assert_eq!(answer.status, 401, "{expected}: {}", answer.head);
        let line = answer.body_line();
        assert!(!line.contains('\n'), "one line: {line:?}");
        assert!(line.contains(expected), "{line:?} should say {expected:?}");
    };

    // A wrong signature: the same key signed with another secret.
    let forged = IssuedCredentials::new(&key, "not-the-secret").unwrap();
    refused(
        signed_headers(&server, &forged, now()),
        "ApiSign does not match",
    );
    // The right secret over another host or path.
    let mut other_host = signed_headers(&server, &issued.credentials, now());
    let auth = WsConnectHeaders::new(&issued.credentials, now(), "example.com", "/ws/v1").unwrap();
    other_host.retain(|(name, _)| *name != "ApiSign");
    other_host.push(("ApiSign", auth.api_sign().to_owned()));
    refused(other_host, "ApiSign does not match");
    // A stale timestamp (and one from the future), correctly signed.
    refused(
        signed_headers(&server, &issued.credentials, minutes_ago(60)),
        "away from the server's clock",
    );
    let future = UtcTimestamp::from_unix_micros(now().unix_micros() + 120_000_000).unwrap();
    refused(
        signed_headers(&server, &issued.credentials, future),
        "away from the server's clock",
    );
    // Missing or malformed headers.
    for missing in ["ApiKey", "ApiTimestamp", "ApiSign"] {
        let mut headers = signed_headers(&server, &issued.credentials, now());
        headers.retain(|(name, _)| *name != missing);
        refused(headers, &format!("missing {missing} header"));
    }
    let mut headers = signed_headers(&server, &issued.credentials, now());
    headers.retain(|(name, _)| *name != "ApiTimestamp");
    headers.push(("ApiTimestamp", "2019-02-13T05:17:32Z".to_owned()));
    refused(headers, "ApiTimestamp is not of the form");
    // The account key is a REST key, not an issued key.
    let account =
        IssuedCredentials::new(server.account_api_key(), server.account_secret().expose()).unwrap();
    refused(
        signed_headers(&server, &account, now()),
        "not a live issued key",
    );
    // An IP allow-list without the peer.
    session.ok(
        &admin,
        &UpdateApiUserKey::new(&issued.user_id, &issued.key_id).whitelisted_ips(["192.0.2.1"]),
    );
    refused(
        signed_headers(&server, &issued.credentials, now()),
        "127.0.0.1 is not on the key's IP allow-list",
    );
    session.ok(
        &admin,
        &UpdateApiUserKey::new(&issued.user_id, &issued.key_id).whitelisted_ips(["127.0.0.0/8"]),
    );
    let answer = ws_request(
        &server,
        &signed_headers(&server, &issued.credentials, now()),
        0,
    );
    assert_eq!(answer.status, 101, "allowed again: {}", answer.head);
    // A disabled user's key, then a deleted key.
    let mut disable = UpdateApiUser::new(&issued.user_id);
    disable.status = Some(UserStatus::Disabled);
    session.ok(&admin, &disable);
    refused(
        signed_headers(&server, &issued.credentials, now()),
        "not a live issued key",
    );
    let mut enable = UpdateApiUser::new(&issued.user_id);
    enable.status = Some(UserStatus::Enabled);
    session.ok(&admin, &enable);
    session.ok(
        &admin,
        &DeleteApiUserKey::new(&issued.user_id, &issued.key_id),
    );
    refused(
        signed_headers(&server, &issued.credentials, now()),
        "not a live issued key",
    );
}

#[test]
fn an_authenticated_request_that_is_not_an_upgrade_is_400() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let issued = issue_key(&server, &mut session, Role::Viewer);
    let mut headers = signed_headers(&server, &issued.credentials, now());
    headers.retain(|(name, _)| *name != "Upgrade");
    let answer = ws_request(&server, &headers, 0);
    assert_eq!(answer.status, 400, "{}", answer.head);
    assert!(answer.body_line().contains("not a WebSocket upgrade"));
}

// --- FIX ---

/// Reads one FIX message (framed by its 9=), within the timeout; `None` if the server closed.
fn read_fix(stream: &mut TcpStream) -> Option<FixMessage> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        if let Ok(Some(total)) = FixMessage::frame_len(&bytes)
            && bytes.len() >= total
        {
            return Some(
                FixMessage::parse(&bytes[..total]).expect("the simulator sends valid FIX"),
            );
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("no answer within {READ_TIMEOUT:?}: {e}"),
        }
    }
}

fn fix_exchange(server: &MockServer, bytes: &[u8]) -> Option<FixMessage> {
    let mut stream = connect(server.fix_addr());
    stream.write_all(bytes).unwrap();
    read_fix(&mut stream)
}

fn logon(credentials: &IssuedCredentials, at: UtcTimestamp) -> Vec<u8> {
    FixLogon::new("CUSTOMER", "KRAKEN", at)
        .heart_bt_int(60)
        .encode(credentials)
        .unwrap()
}

#[test]
fn a_fresh_issued_key_logs_on_to_fix_and_logs_out() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let issued = issue_key(&server, &mut session, Role::Trader);
    assert_eq!(server.fix_addr().ip(), server.addr().ip());

    let mut stream = connect(server.fix_addr());
    stream
        .write_all(&logon(&issued.credentials, now()))
        .unwrap();
    let reply = read_fix(&mut stream).expect("a Logon reply");
    assert_eq!(reply.msg_type(), "A", "{reply:?}");
    assert_eq!(reply.get(49), Some("KRAKEN"));
    assert_eq!(reply.get(56), Some("CUSTOMER"));
    assert_eq!(reply.get(108), Some("60"));
    assert_eq!(reply.get(141), Some("Y"));
    assert!(UtcTimestamp::parse_sending_time(reply.get(52).unwrap()).is_ok());

    let logout = FixMessage::new("5")
        .with(34, "2")
        .with(49, "CUSTOMER")
        .with(52, now().sending_time())
        .with(56, "KRAKEN");
    stream.write_all(&logout.encode().unwrap()).unwrap();
    let answer = read_fix(&mut stream).expect("a Logout reply");
    assert_eq!(answer.msg_type(), "5");
    assert_eq!(read_fix(&mut stream), None, "then the server closes");
}

#[test]
fn every_fix_refusal_is_a_logout_with_a_reason() {
    let server = MockServer::start().unwrap();
    let admin = server.account_credentials();
    let mut session = Session::new(&server);
    let issued = issue_key(&server, &mut session, Role::Viewer);
    let key = issued.credentials.api_key().as_str().to_owned();

    let refused = |bytes: &[u8], expected: &str| {
        let reply = fix_exchange(&server, bytes).expect("a Logout, not a silent close");
        assert_eq!(reply.msg_type(), "5", "{expected}: {reply:?}");
        let reason = reply.get(58).unwrap_or_default();
        assert!(
            reason.contains(expected),
            "{reason:?} should say {expected:?}"
        );
    };

    let forged = IssuedCredentials::new(&key, "not-the-secret").unwrap();
    refused(&logon(&forged, now()), "96 (RawData) does not match");
    refused(
        &logon(&issued.credentials, minutes_ago(60)),
        "52 (SendingTime) is",
    );
    let not_logon = FixMessage::new("0").with(34, "1").encode().unwrap();
    refused(&not_logon, "expected a Logon (35=A)");
    let unsigned = FixMessage::new("A")
        .with(34, "1")
        .with(49, "C")
        .with(52, now().sending_time())
        .with(56, "K")
        .with(554, key.as_str())
        .encode()
        .unwrap();
    refused(&unsigned, "missing field 95");

    session.ok(
        &admin,
        &UpdateApiUserKey::new(&issued.user_id, &issued.key_id).whitelisted_ips(["192.0.2.1"]),
    );
    refused(
        &logon(&issued.credentials, now()),
        "not on the key's IP allow-list",
    );
    session.ok(
        &admin,
        &DeleteApiUserKey::new(&issued.user_id, &issued.key_id),
    );
    refused(&logon(&issued.credentials, now()), "not a live issued key");
}

#[test]
fn malformed_fix_gets_a_logout_never_a_hang() {
    let server = MockServer::start().unwrap();
    let mut session = Session::new(&server);
    let issued = issue_key(&server, &mut session, Role::Viewer);
    let good = logon(&issued.credentials, now());
    let text = String::from_utf8(good.clone()).unwrap();
    let body_len_field = &text[10..text[10..].find('\u{1}').unwrap() + 10];

    // Every single-byte change except to the 9= digits (a larger length is a message still
    // arriving; that case is the stall below): a Logout, or a refusal, promptly.
    let started = Instant::now();
    for index in 0..good.len() {
        if (10..10 + body_len_field.len()).contains(&index) {
            continue;
        }
        let mut bad = good.clone();
        bad[index] ^= 0x20;
        let reply = fix_exchange(&server, &bad);
        let reply = reply.unwrap_or_else(|| panic!("byte {index}: closed without a Logout"));
        assert_eq!(reply.msg_type(), "5", "byte {index}: {reply:?}");
        assert!(reply.get(58).is_some(), "byte {index}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    let logout_reason = |bytes: &[u8]| {
        let reply = fix_exchange(&server, bytes).expect("a Logout");
        assert_eq!(reply.msg_type(), "5");
        reply.get(58).unwrap().to_owned()
    };
    let at = text.rfind("10=").unwrap();
    let mut bad_checksum = text.clone();
    let wrong = if &text[at + 3..at + 6] == "001" {
        "002"
    } else {
        "001"
    };
    bad_checksum.replace_range(at + 3..at + 6, wrong);
    assert!(logout_reason(bad_checksum.as_bytes()).contains("10 (CheckSum)"));
    let shorter = text.replacen(body_len_field, "9=10", 1);
    assert!(logout_reason(shorter.as_bytes()).contains("9 (BodyLength)"));
    assert!(logout_reason(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").contains("8=FIX.4.4"));
    assert!(logout_reason(&[0u8; 64]).contains("8=FIX.4.4"));

    // A stall: half a Logon, then nothing. The simulator gives up after its read timeout.
    let mut stream = connect(server.fix_addr());
    stream.write_all(&good[..good.len() / 2]).unwrap();
    let started = Instant::now();
    let reply = read_fix(&mut stream).expect("a Logout after the timeout");
    assert_eq!(reply.msg_type(), "5");
    assert!(
        reply
            .get(58)
            .unwrap()
            .contains("no complete message within")
    );
    assert!(started.elapsed() < READ_TIMEOUT);
    // A peer that connects and closes gets nothing and costs nothing.
    drop(connect(server.fix_addr()));
}
