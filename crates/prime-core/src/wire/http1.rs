//! Signed requests as HTTP/1.1 bytes, for transports that own their socket.
//!
//! [`RequestBuilder::build`] returns an `http::Request`, the currency hyper and ureq consume;
//! it costs the body `Vec`, the header map's two tables and the `API-Sign` header value on
//! every request. A transport that writes HTTP/1.1 itself (a bare `TcpStream`, io_uring, an
//! embedded stack) needs none of that: [`RequestBuilder::build_http1`] writes the whole
//! request — request line, headers, body — into a buffer the caller keeps, and allocates
//! nothing once that buffer has grown to a request's size.
//!
//! The bytes are exactly what a plain HTTP/1.1 writer makes of the `http::Request` path's
//! output: `POST <path> HTTP/1.1`, `host` from the base URL, the request's four headers in
//! order (`content-type`, `user-agent`, `api-key`, `api-sign`, names in lower case as the
//! `http` crate and both clients send them), `content-length`, an empty line, the body.

use super::request::{
    BodyOutput, EncodeError, RequestBuilder, encode_body_into, endpoint_index, otp_code,
};

/// Length of the `API-Sign` value: base64 of a 64-byte tag.
const API_SIGN_LEN: usize = 88;

/// The head after the `api-key` value, with room for the signature and the body length, which
/// only the body decides; they are filled in once it is written.
const HEAD_END: &[u8] = b"\r\napi-sign: \
    ........................................................................................\
    \r\ncontent-length: 00\r\n\r\n";
/// Where in [`HEAD_END`] the signature goes.
const SIGN_AT: usize = b"\r\napi-sign: ".len();
/// Where in [`HEAD_END`] the body length goes.
const LENGTH_AT: usize = SIGN_AT + API_SIGN_LEN + b"\r\ncontent-length: ".len();
/// The room for the body length: two digits, as most Prime bodies are 10-99 bytes long.
const LENGTH_ROOM: &[u8] = b"00";

const _: () = assert!(
    HEAD_END[SIGN_AT + API_SIGN_LEN] == b'\r'
        && HEAD_END.len() == LENGTH_AT + LENGTH_ROOM.len() + 4
);
use crate::auth::Credentials;
use crate::endpoints::{ArgumentError, Endpoint};

/// Why [`RequestBuilder::build_http1_into`] wrote no request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteRequestError {
    /// The endpoint's arguments are invalid (nothing was signed).
    #[error(transparent)]
    InvalidArgument(#[from] ArgumentError),
    /// The buffer cannot hold the request; one of `needed` bytes can.
    #[error("the buffer holds {available} bytes; this signed request needs {needed}")]
    BufferTooSmall {
        /// The length of the whole request.
        needed: usize,
        /// The length of the buffer given.
        available: usize,
    },
}

impl RequestBuilder {
    /// Validates `endpoint`, serializes its body with `nonce`, signs it and writes the
    /// complete HTTP/1.1 request into `buf`, replacing what it held.
    ///
    /// `buf` is the caller's to keep: once it has grown to a request's size, building the
    /// next request into it allocates nothing (a key with API 2FA allocates for its `otp`).
    /// The bytes are what the request [`build`](Self::build) returns looks like on the wire
    /// (see [`transport`](crate::transport)).
    /// The request has no `Connection` header: HTTP/1.1 keeps the connection open.
    ///
    /// ```
    /// use prime_core::endpoints::ListApiUsers;
    /// use prime_core::{Credentials, RequestBuilder};
    ///
    /// let credentials = Credentials::new("KRA5L19LAW8Z", prime_core::example::SECRET)?;
    /// let builder = RequestBuilder::new()
    ///     .with_base_url("http://127.0.0.1:8080")?
    ///     .with_user_agent("desk/1.0")?;
    /// let mut buf = Vec::new();
    /// builder.build_http1(&ListApiUsers::new(), &credentials, 1616492376594, &mut buf)?;
    /// let sign = credentials.signing_key().sign(
    ///     "/0/private/ListPrimeApiUsers",
    ///     b"1616492376594",
    ///     br#"{"nonce":1616492376594}"#,
    /// );
    /// let expected = format!(
    ///     "POST /0/private/ListPrimeApiUsers HTTP/1.1\r\n\
    ///      host: 127.0.0.1:8080\r\n\
    ///      content-type: application/json\r\n\
    ///      user-agent: desk/1.0\r\n\
    ///      api-key: KRA5L19LAW8Z\r\n\
    ///      api-sign: {sign}\r\n\
    ///      content-length: 23\r\n\
    ///      \r\n\
    ///      {{\"nonce\":1616492376594}}"
    /// );
    /// assert_eq!(String::from_utf8(buf)?, expected);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ArgumentError`] if the endpoint's arguments are invalid; `buf` is then empty.
    pub fn build_http1<E: Endpoint>(
        &self,
        endpoint: &E,
        credentials: &Credentials,
        nonce: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(), ArgumentError> {
        buf.clear();
        match self.write_http1(endpoint, credentials, nonce, buf) {
            Ok(_) => Ok(()),
            Err(error) => {
                buf.clear();
                Err(error.into())
            }
        }
    }

    /// As [`build_http1`](Self::build_http1), into a fixed buffer: returns how many bytes of
    /// `buf` the request fills, from the start. A few bytes past them may have been written
    /// to as well.
    ///
    /// ```
    /// use prime_core::endpoints::ListApiUsers;
    /// use prime_core::{Credentials, RequestBuilder, WriteRequestError};
    ///
    /// let credentials = Credentials::new("KRA5L19LAW8Z", prime_core::example::SECRET)?;
    /// let builder = RequestBuilder::new();
    /// let mut buf = [0u8; 1024];
    /// let len = builder.build_http1_into(&ListApiUsers::new(), &credentials, 7, &mut buf)?;
    /// assert!(buf[..len].starts_with(b"POST /0/private/ListPrimeApiUsers HTTP/1.1\r\n"));
    /// assert!(buf[..len].ends_with(b"\r\n\r\n{\"nonce\":7}"));
    ///
    /// let mut small = [0u8; 100];
    /// match builder.build_http1_into(&ListApiUsers::new(), &credentials, 8, &mut small) {
    ///     Err(WriteRequestError::BufferTooSmall { needed, available: 100 }) => assert_eq!(needed, len),
    ///     other => panic!("expected a too-small buffer, got {other:?}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`WriteRequestError::InvalidArgument`] if the endpoint's arguments are invalid;
    /// [`WriteRequestError::BufferTooSmall`] with the length the request needs if `buf` is
    /// shorter. What `buf` holds after an error is unspecified.
    pub fn build_http1_into<E: Endpoint>(
        &self,
        endpoint: &E,
        credentials: &Credentials,
        nonce: u64,
        buf: &mut [u8],
    ) -> Result<usize, WriteRequestError> {
        let available = buf.len();
        let mut output = SliceOutput { buf, len: 0 };
        match self.write_http1(endpoint, credentials, nonce, &mut output) {
            Ok(len) => Ok(len),
            Err(EncodeError::Argument(error)) => Err(error.into()),
            Err(EncodeError::Full) => {
                // Only now is the whole length worth knowing: build the request once more,
                // into a buffer that grows (wiped after, as it may hold a 2FA password).
                let mut whole = zeroize::Zeroizing::new(Vec::new());
                self.build_http1(endpoint, credentials, nonce, &mut whole)?;
                // Writing in place needs a byte more than the request while an endpoint
                // without fields is spliced in (`{}`); a buffer of just the right size gets
                // the request all the same.
                if let Some(target) = output.buf.get_mut(..whole.len()) {
                    target.copy_from_slice(&whole);
                    return Ok(whole.len());
                }
                Err(WriteRequestError::BufferTooSmall {
                    needed: whole.len(),
                    available,
                })
            }
        }
    }

    /// Writes the head with room for the signature and the body length, which only the
    /// body decides, then the body after it; signs the body and fills the room in. Writing
    /// in order (rather than body first, head in front) means nothing is zero-filled or
    /// moved, except the body when its length has more than two digits. Returns the
    /// request's length.
    fn write_http1<E: Endpoint, O: BodyOutput>(
        &self,
        endpoint: &E,
        credentials: &Credentials,
        nonce: u64,
        output: &mut O,
    ) -> Result<usize, EncodeError> {
        endpoint.validate().map_err(EncodeError::Argument)?;
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(nonce).as_bytes();
        let otp = otp_code(credentials).map_err(EncodeError::Argument)?;
        let full = |_: std::io::Error| EncodeError::Full;
        match const { endpoint_index(E::PATH) } {
            Some(index) => output.write_all(self.endpoint_heads[index].as_bytes()),
            None => [
                self.head_start.as_bytes(),
                E::PATH.as_bytes(),
                self.head_middle.as_bytes(),
            ]
            .into_iter()
            .try_for_each(|part| output.write_all(part)),
        }
        .map_err(full)?;
        output
            .write_all(credentials.api_key().header_value().as_bytes())
            .map_err(full)?;
        let sign_at = output.written_mut().len() + SIGN_AT;
        let length_at = output.written_mut().len() + LENGTH_AT;
        output.write_all(HEAD_END).map_err(full)?;
        let body_at = output.written_mut().len();
        encode_body_into(
            endpoint,
            digits,
            otp.as_ref().map(|otp| otp.as_str()),
            output,
        )?;

        let written = output.written_mut();
        let sign = credentials
            .signing_key()
            .sign(E::PATH, digits, &written[body_at..]);
        written[sign_at..sign_at + API_SIGN_LEN].copy_from_slice(sign.as_bytes());
        let mut length = itoa::Buffer::new();
        let length = length.format(written.len() - body_at).as_bytes();
        // A body is at least `{"nonce":0}`, so its length has two digits or more: the room
        // only ever grows, moving the body behind it.
        let after = length_at + LENGTH_ROOM.len();
        let end = written.len();
        let extra = length.len() - LENGTH_ROOM.len();
        if extra > 0 {
            output.write_all(&[0; 20][..extra]).map_err(full)?;
            output.written_mut().copy_within(after..end, after + extra);
        }
        let written = output.written_mut();
        written[length_at..length_at + length.len()].copy_from_slice(length);
        Ok(written.len())
    }
}

/// A caller's fixed buffer as a body output that reports when it is full.
struct SliceOutput<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl std::io::Write for SliceOutput<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let end = self.len + data.len();
        let target = self
            .buf
            .get_mut(self.len..end)
            .ok_or(std::io::ErrorKind::WriteZero)?;
        target.copy_from_slice(data);
        self.len = end;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl BodyOutput for SliceOutput<'_> {
    fn written_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len]
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}
