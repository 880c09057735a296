//! Reading a response body into the core's capped, zeroizing buffer.

use std::io::Read as _;

use prime_core::transport::{BodyBuffer, ClientCore, TransportError};
use zeroize::Zeroize as _;

use crate::failure;

/// Reads the body chunk by chunk into a capped, zeroizing buffer: an oversized body fails as
/// soon as it crosses the cap instead of being buffered whole.
pub(crate) fn read_capped(
    core: &ClientCore,
    body: ureq::Body,
) -> Result<BodyBuffer, TransportError> {
    let mut buffer = core.body_buffer(body.content_length())?;
    let mut reader = body.into_reader();
    let mut chunk = ReadChunk::default();
    loop {
        match reader.read(&mut chunk.bytes) {
            Ok(0) => return Ok(buffer),
            Ok(read) => {
                chunk.used = chunk.used.max(read);
                buffer
                    .extend(&chunk.bytes[..read])
                    .map_err(|e| e.with_received(buffer.as_bytes()))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // The request was answered, so it was certainly sent. The bytes received go
            // along: a created key's secret among them is still delivered by the driver.
            Err(e) => {
                let error = failure::transport_error(e.into(), Some(true));
                return Err(error.with_received(buffer.as_bytes()));
            }
        }
    }
}

/// The stack buffer bodies are read through. On drop it wipes the bytes reads filled in, and
/// only those: wiping all 8 KiB (byte by byte, as zeroizing must) cost about 1.5 µs per call,
/// more than reading a typical Prime body.
struct ReadChunk {
    bytes: [u8; 8 * 1024],
    /// The longest prefix any read filled.
    used: usize,
}

impl Default for ReadChunk {
    fn default() -> Self {
        Self {
            bytes: [0; 8 * 1024],
            used: 0,
        }
    }
}

impl Drop for ReadChunk {
    fn drop(&mut self) {
        self.bytes[..self.used].zeroize();
    }
}
