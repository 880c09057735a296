//! [`BodyBuffer`]: a response body received chunk by chunk, capped and zeroized.

use std::fmt;

use zeroize::Zeroizing;

use super::error::{Delivery, TransportError, TransportErrorKind};

/// Where a body starts when the server announces no length: most Prime responses fit.
const INITIAL_CAPACITY: usize = 4 * 1024;

/// A response body as a transport receives it: refused as soon as it would exceed the cap, and
/// held in zeroize-on-drop memory.
///
/// Transports feed it the chunks they read, so an oversized body is never buffered whole. A
/// body may carry a one-time API secret, so the buffer never reallocates in place: it grows by
/// copying into a larger zeroizing buffer and wiping the old one, leaving no stray copies in
/// freed memory. `Debug` shows only the length.
///
/// ```
/// use prime_core::transport::{BodyBuffer, TransportErrorKind};
///
/// let mut body = BodyBuffer::new(8, None)?;
/// body.extend(b"{\"a\":")?;
/// let error = body.extend(b"1234}").unwrap_err();
/// assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge { limit: 8 });
///
/// // An announced length over the cap is refused before anything is read.
/// assert!(BodyBuffer::new(8, Some(9)).is_err());
/// # Ok::<(), prime_core::TransportError>(())
/// ```
pub struct BodyBuffer {
    bytes: Zeroizing<Vec<u8>>,
    limit: usize,
}

impl BodyBuffer {
    /// An empty body that may grow to `limit` bytes.
    ///
    /// `expected_len` is the `Content-Length` the server announced, if any: it sizes the buffer
    /// once, and a value over `limit` fails right away.
    ///
    /// # Errors
    /// [`TransportErrorKind::BodyTooLarge`] (outcome unknown: the request was executed) if
    /// `expected_len` exceeds `limit`.
    pub fn new(limit: usize, expected_len: Option<u64>) -> Result<Self, TransportError> {
        let capacity = match expected_len {
            Some(len) if len > limit as u64 => return Err(too_large(limit)),
            // Within the cap, so it fits in usize.
            Some(len) => len as usize,
            None => INITIAL_CAPACITY.min(limit),
        };
        Ok(Self {
            bytes: Zeroizing::new(Vec::with_capacity(capacity)),
            limit,
        })
    }

    /// Appends a received chunk.
    ///
    /// # Errors
    /// [`TransportErrorKind::BodyTooLarge`] if the body would exceed the cap; nothing of the
    /// chunk is kept then.
    pub fn extend(&mut self, chunk: &[u8]) -> Result<(), TransportError> {
        let needed = self
            .bytes
            .len()
            .checked_add(chunk.len())
            .filter(|&n| n <= self.limit)
            .ok_or_else(|| too_large(self.limit))?;
        if needed > self.bytes.capacity() {
            let capacity = needed.max(self.bytes.capacity() * 2).min(self.limit);
            let mut grown = Zeroizing::new(Vec::with_capacity(capacity));
            grown.extend_from_slice(&self.bytes);
            // The old buffer is zeroized as it is dropped here.
            self.bytes = grown;
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The bytes received so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of bytes received so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing was received.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The cap in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl fmt::Debug for BodyBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BodyBuffer({} of at most {} bytes)",
            self.bytes.len(),
            self.limit
        )
    }
}

fn too_large(limit: usize) -> TransportError {
    TransportError::from_kind(
        Delivery::MaybeSent,
        TransportErrorKind::BodyTooLarge { limit },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_across_many_chunks_up_to_the_cap_exactly() {
        let mut body = BodyBuffer::new(10_000, None).unwrap();
        for i in 0..100u8 {
            body.extend(&[i; 100]).unwrap();
        }
        assert_eq!(body.len(), 10_000);
        assert_eq!(&body.as_bytes()[9_900..], &[99u8; 100][..]);
        let error = body.extend(b"x").unwrap_err();
        assert_eq!(
            error.kind(),
            TransportErrorKind::BodyTooLarge { limit: 10_000 }
        );
        assert_eq!(error.delivery(), Delivery::MaybeSent);
        assert_eq!(body.len(), 10_000, "the refused chunk is not kept");
    }

    #[test]
    fn capacity_never_exceeds_the_cap() {
        let mut body = BodyBuffer::new(5_000, None).unwrap();
        body.extend(&[1; 4_096]).unwrap();
        body.extend(&[2; 904]).unwrap();
        assert!(body.bytes.capacity() <= 5_000);
    }

    #[test]
    fn announced_length_sizes_or_refuses() {
        assert_eq!(
            BodyBuffer::new(100, Some(101)).unwrap_err().kind(),
            TransportErrorKind::BodyTooLarge { limit: 100 }
        );
        let body = BodyBuffer::new(100, Some(100)).unwrap();
        assert_eq!(body.bytes.capacity(), 100);
        assert!(body.is_empty());
    }

    #[test]
    fn an_oversized_body_is_not_retried_even_for_reads() {
        use crate::endpoints::Idempotency;
        use crate::transport::{Attempt, RetryDecision, RetryPolicy};
        let failure = crate::transport::Error::Transport(too_large(10));
        let decision =
            RetryPolicy::default().decide(Idempotency::Idempotent, &failure, Attempt::first(), 0.5);
        assert_eq!(decision, RetryDecision::Stop);
    }

    #[test]
    fn debug_shows_no_content() {
        let mut body = BodyBuffer::new(100, None).unwrap();
        body.extend(b"secret-ish").unwrap();
        let shown = format!("{body:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("10 of at most 100"), "{shown}");
    }
}
