//! The Prime FIX Logon check for issued keys: a plain TCP listener (on the simulator's
//! address, its own port) that answers a Logon.
//!
//! The first message must be a Logon (`35=A`) whose `554` Password is a live issued key
//! (not deleted, its user enabled), whose `96` RawData matches
//! `52 SOH 34 SOH 49 SOH 56` under the key's secret, whose `52` SendingTime is within
//! [`TIME_WINDOW`](crate::issued_ws::TIME_WINDOW) of the simulator's clock, and whose peer is
//! on the key's IP allow-list. Then the answer is a Logon (`35=A`); otherwise a Logout
//! (`35=5`) with `58` Text naming the first problem, and the connection is closed. Malformed
//! FIX (not `8=FIX.4.4`, a wrong `9=` BodyLength or `10=` CheckSum, garbage) gets a Logout
//! too, and a peer that stalls is dropped after [`READ_TIMEOUT`]: no connection ever hangs.
//! Any TargetCompID is accepted; the answer comes from it to the SenderCompID.
//!
//! After a successful Logon the simulator waits (bounded) for one more message, answers a
//! Logout with a Logout, and closes: it checks authentication, it serves no session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prime_core::issued::{FixMessage, ReceivedLogon};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::issued_ws::{TIME_WINDOW, now};
use crate::shared::Shared;

/// How long a peer may take to send a complete message.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The CompID the simulator answers from when the peer's message named none.
const SIMULATOR_COMP_ID: &str = "PRIME-MOCK";
/// The CompID it answers to when the peer's message named none.
const UNKNOWN_COMP_ID: &str = "UNKNOWN";

pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "prime-mock: FIX accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move { serve(stream, peer, &shared).await });
    }
}

async fn serve(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let mut buffer = Vec::with_capacity(512);
    let logon = match read_message(&mut stream, &mut buffer).await {
        Ok(message) => message,
        Err(Ended::Closed) => return,
        Err(Ended::Refused(reason)) => {
            tracing::debug!(%peer, %reason, "prime-mock: FIX input refused");
            let _ = send(&mut stream, &logout(None, &reason)).await;
            return;
        }
    };
    match check(shared, peer, &logon) {
        Ok(()) => {
            tracing::debug!(%peer, "prime-mock: FIX Logon accepted");
            if send(&mut stream, &logon_reply(&logon)).await.is_err() {
                return;
            }
        }
        Err(reason) => {
            tracing::debug!(%peer, %reason, "prime-mock: FIX Logon refused");
            let _ = send(&mut stream, &logout(Some(&logon), &reason)).await;
            return;
        }
    }
    // One more message, bounded: a Logout is answered with a Logout.
    let reason = match read_message(&mut stream, &mut buffer).await {
        Ok(message) if message.msg_type() == "5" => "logout acknowledged".to_owned(),
        Ok(message) => format!(
            "the simulator checks Logons only (got 35={})",
            message.msg_type()
        ),
        Err(Ended::Closed) => return,
        Err(Ended::Refused(reason)) => reason,
    };
    let _ = send(&mut stream, &logout(Some(&logon), &reason)).await;
}

enum Ended {
    /// The peer closed before sending anything more.
    Closed,
    /// A reason to send in a Logout's `58`.
    Refused(String),
}

/// Reads one complete message (bytes beyond it stay in `buffer`), within [`READ_TIMEOUT`].
async fn read_message(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Result<FixMessage, Ended> {
    let deadline = tokio::time::Instant::now() + READ_TIMEOUT;
    let mut chunk = [0u8; 1024];
    loop {
        let frame_len = FixMessage::frame_len(buffer).map_err(|e| Ended::Refused(e.to_string()))?;
        if let Some(total) = frame_len.filter(|&total| buffer.len() >= total) {
            let message = FixMessage::parse(&buffer[..total]);
            buffer.drain(..total);
            return message.map_err(|e| Ended::Refused(e.to_string()));
        }
        let read = tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await;
        match read {
            Ok(Ok(0)) if buffer.is_empty() => return Err(Ended::Closed),
            Ok(Ok(0)) => return Err(Ended::Refused("the message is truncated".to_owned())),
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) => return Err(Ended::Closed),
            Err(_) => {
                return Err(Ended::Refused(format!(
                    "no complete message within {} s",
                    READ_TIMEOUT.as_secs()
                )));
            }
        }
    }
}

fn check(shared: &Shared, peer: SocketAddr, message: &FixMessage) -> Result<(), String> {
    let logon = ReceivedLogon::from_message(message).map_err(|e| e.to_string())?;
    let key = shared
        .simulator()
        .issued_key(logon.api_key(), peer.ip())
        .map_err(|reason| format!("554 (Password) is {reason}"))?;
    logon.verify(&key.credentials).map_err(|e| e.to_string())?;
    logon
        .check_time(now(), TIME_WINDOW)
        .map_err(|e| e.to_string())?;
    if !key.peer_allowed {
        return Err(format!(
            "the peer address {} is not on the key's IP allow-list",
            peer.ip()
        ));
    }
    Ok(())
}

/// The Logon answer: from the peer's TargetCompID to its SenderCompID, echoing 108 and 141.
fn logon_reply(logon: &FixMessage) -> FixMessage {
    let mut reply = header("A", Some(logon)).with(98, "0");
    if let Some(heartbeat) = logon.get(108) {
        reply.push(108, heartbeat);
    }
    if logon.get(141) == Some("Y") {
        reply.push(141, "Y");
    }
    reply
}

fn logout(received: Option<&FixMessage>, reason: &str) -> FixMessage {
    // 58 may not contain SOH; reasons never do, but keep the message encodable regardless.
    let reason: String = reason.chars().filter(|&c| c != '\u{1}').collect();
    header("5", received).with(58, reason)
}

fn header(msg_type: &str, received: Option<&FixMessage>) -> FixMessage {
    let from = received
        .and_then(|m| m.get(56))
        .unwrap_or(SIMULATOR_COMP_ID);
    let to = received.and_then(|m| m.get(49)).unwrap_or(UNKNOWN_COMP_ID);
    FixMessage::new(msg_type)
        .with(34, "1")
        .with(49, from)
        .with(52, now().sending_time())
        .with(56, to)
}

async fn send(stream: &mut TcpStream, message: &FixMessage) -> std::io::Result<()> {
    let bytes = message.encode().map_err(std::io::Error::other)?;
    stream.write_all(&bytes).await?;
    stream.flush().await
}
