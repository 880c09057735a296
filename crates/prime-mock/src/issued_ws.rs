//! `GET /ws/v1`: the Prime WebSocket authentication check for issued keys.
//!
//! A real WebSocket upgrade on the same server as REST. In order, the first failure answers
//! `401` with a one-line `text/plain` reason:
//!
//! 1. `ApiKey`, `ApiTimestamp` (of the form `2019-02-13T05:17:32.000000Z`) and `ApiSign` are
//!    present;
//! 2. `ApiKey` is a live issued key (not deleted, its user enabled; the account key is not an
//!    issued key);
//! 3. `ApiSign` matches `GET\n<ApiTimestamp>\n<Host header>\n<path>` under its secret;
//! 4. `ApiTimestamp` is within [`TIME_WINDOW`] of the simulator's clock (Kraken documents no
//!    window; this one is the simulator's choice);
//! 5. the peer is on the key's IP allow-list, when it has one.
//!
//! Then a request that is not a WebSocket upgrade gets `400`; an upgrade gets
//! `101 Switching Protocols`, and the simulator closes the WebSocket normally at once (close
//! code 1000, reason `authenticated`): it checks authentication, it serves no channels.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_TYPE, HOST, HeaderValue, UPGRADE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prime_core::issued::{ReceivedWsAuth, UtcTimestamp};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::response_body::MockBody;
use crate::shared::Shared;

/// How far `ApiTimestamp` may be from the simulator's clock, either way.
pub(crate) const TIME_WINDOW: Duration = Duration::from_secs(30);
/// How long the simulator waits for the client's answer to its close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// RFC 6455's GUID for `Sec-WebSocket-Accept`.
const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The simulator's clock as a [`UtcTimestamp`].
pub(crate) fn now() -> UtcTimestamp {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    UtcTimestamp::from_unix_nanos(nanos)
}

pub(crate) fn handle(
    shared: &Shared,
    peer: SocketAddr,
    mut request: Request<Incoming>,
) -> Response<MockBody> {
    if request.method() != hyper::Method::GET {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "the WebSocket endpoint takes GET",
        );
        response
            .headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    if let Err(reason) = authenticate(shared, peer, &request) {
        tracing::debug!(%peer, %reason, "prime-mock: WebSocket refused");
        return text(StatusCode::UNAUTHORIZED, &reason);
    }
    let Some(accept) = upgrade_accept(&request) else {
        return text(
            StatusCode::BAD_REQUEST,
            "authenticated, but not a WebSocket upgrade (Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Version: 13, Sec-WebSocket-Key)",
        );
    };
    tracing::debug!(%peer, "prime-mock: WebSocket authenticated");
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => close_normally(TokioIo::new(upgraded)).await,
            Err(error) => tracing::debug!(%peer, %error, "prime-mock: WebSocket upgrade failed"),
        }
    });
    let mut response = Response::new(MockBody::full(Vec::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert("sec-websocket-accept", accept);
    }
    response
}

/// The reason to refuse, as one line.
fn authenticate(
    shared: &Shared,
    peer: SocketAddr,
    request: &Request<Incoming>,
) -> Result<(), String> {
    let auth = ReceivedWsAuth::from_headers(request.headers()).map_err(|e| e.to_string())?;
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or("missing Host header")?;
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path(), |pq| pq.as_str());
    let key = shared
        .simulator()
        .issued_key(auth.api_key(), peer.ip())
        .map_err(|reason| format!("ApiKey is {reason}"))?;
    auth.verify(&key.credentials, host, path)
        .map_err(|e| e.to_string())?;
    auth.check_time(now(), TIME_WINDOW)
        .map_err(|e| e.to_string())?;
    if !key.peer_allowed {
        return Err(format!(
            "the peer address {} is not on the key's IP allow-list",
            peer.ip()
        ));
    }
    Ok(())
}

/// `Sec-WebSocket-Accept` for a well-formed upgrade request; `None` if it is not one.
fn upgrade_accept(request: &Request<Incoming>) -> Option<String> {
    let headers = request.headers();
    let has_token = |name, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    let version_13 = headers
        .get("sec-websocket-version")
        .is_some_and(|v| v.as_bytes() == b"13");
    let key = headers.get("sec-websocket-key")?;
    if !(has_token(UPGRADE, "websocket") && has_token(CONNECTION, "upgrade") && version_13) {
        return None;
    }
    let digest = Sha1::new()
        .chain_update(key.as_bytes())
        .chain_update(WEBSOCKET_GUID.as_bytes())
        .finalize();
    Some(STANDARD.encode(digest))
}

/// Sends a close frame (1000, "authenticated"; server frames are unmasked) and waits, bounded,
/// for the client's close before dropping the connection.
async fn close_normally<I>(mut io: I)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    const REASON: &[u8] = b"authenticated";
    let mut frame = vec![
        0x88,
        u8::try_from(2 + REASON.len()).unwrap_or(0x7d),
        0x03,
        0xe8,
    ];
    frame.extend_from_slice(REASON);
    if io.write_all(&frame).await.is_err() || io.flush().await.is_err() {
        return;
    }
    let mut buffer = [0u8; 256];
    // Any answer (the client's close frame) or its absence ends the connection.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, io.read(&mut buffer)).await;
    let _ = io.shutdown().await;
}

fn text(status: StatusCode, reason: &str) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(format!("{reason}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
