//! A scripted HTTP server on `127.0.0.1`: each connection gets the next reply of the script,
//! byte for byte, and is closed. A reply may be anything, including a response cut off
//! mid-body (declare a longer `Content-Length` than the bytes that follow).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// The most request bytes read from one connection before answering.
const MAX_REQUEST_BYTES: usize = 1 << 20;
/// How long a connection may stay silent before its request counts as complete.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts a server that answers its next `replies.len()` connections with `replies`, in order,
/// each after reading the whole request; then it stops accepting. Returns
/// `http://127.0.0.1:PORT`.
///
/// # Panics
/// If no loopback port can be bound.
pub fn serve(replies: Vec<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    std::thread::spawn(move || {
        for reply in replies {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            read_request(&mut stream);
            let _ = stream.write_all(&reply);
            let _ = stream.flush();
            // Dropping the stream closes the connection, mid-body when the length says more.
        }
    });
    url
}

/// A complete response: `status`, a JSON content type, `body` with its exact length, and
/// `Connection: close`.
pub fn reply(status: u16, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Reads one request from `stream`: its head and the body its `Content-Length` declares, at
/// most 1 MiB, giving up when the peer closes or stays silent for 10 s. Returns the bytes read.
pub fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    while request.len() < MAX_REQUEST_BYTES {
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                break;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
    request
}
