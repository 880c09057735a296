//! The one error type a transport returns: argument, transport or response failure.

use std::error::Error as StdError;
use std::fmt;

use crate::endpoints::ArgumentError;
use crate::wire::{RawBody, ResponseError};

/// Whether a failed request could have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// The request was certainly not sent (DNS, connect, TLS handshake): safe to resend.
    NotSent,
    /// The request may have been executed (timeout or reset after it was written, a failed or
    /// oversized response): the outcome is unknown.
    MaybeSent,
}

/// What went wrong in the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Name resolution or TCP connect failed.
    Connect,
    /// The TLS handshake failed.
    Tls,
    /// A timeout elapsed.
    Timeout,
    /// The response body exceeded the configured size cap.
    BodyTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The connection failed while sending or receiving.
    Io,
    /// The HTTP client refused the request or configuration.
    Client,
    /// The call's overall deadline ([`Settings::deadline`](crate::Settings::deadline)) passed.
    Deadline,
}

/// A failure below HTTP: the request was not sent, or its outcome is unknown.
#[derive(Debug, thiserror::Error)]
// The cause is the `source()`, not part of this message: error-chain printers show it once.
#[error("{}: {}", delivery_text(*.delivery), kind_label(*.kind))]
pub struct TransportError {
    delivery: Delivery,
    kind: TransportErrorKind,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync>>,
    /// The response body bytes received before the failure, if the transport kept them.
    received: Option<RawBody>,
}

fn delivery_text(delivery: Delivery) -> &'static str {
    match delivery {
        Delivery::NotSent => "request not sent",
        Delivery::MaybeSent => "outcome unknown, the request may have been executed",
    }
}

impl TransportError {
    /// A transport failure with the underlying error.
    pub fn new(
        delivery: Delivery,
        kind: TransportErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            delivery,
            kind,
            source: Some(source.into()),
            received: None,
        }
    }

    /// A transport failure described by `kind` alone.
    pub fn from_kind(delivery: Delivery, kind: TransportErrorKind) -> Self {
        Self {
            delivery,
            kind,
            source: None,
            received: None,
        }
    }

    /// Keeps the response body bytes that arrived before the failure (the connection closed or
    /// reset mid-body, a timeout, the size cap crossed).
    ///
    /// A transport should always hand them over: if they already hold a created key's
    /// one-time secret, the key exists and its secret must not be lost, so the call driver
    /// ([`Call::on_transport_error`](crate::transport::Call::on_transport_error)) turns the
    /// failure into [`ResponseError::KeyCreated`] (whose problem is a
    /// [`ResponseError::Decode`] at `$` saying where the body broke off) instead of an
    /// unknown outcome. Otherwise the bytes are wiped and the failure stays as it is. They are
    /// never shown: `Debug` prints only their length.
    #[must_use]
    pub fn with_received(mut self, bytes: &[u8]) -> Self {
        self.received = Some(RawBody::new(bytes));
        self
    }

    /// The response body bytes kept by [`TransportError::with_received`].
    pub fn received(&self) -> Option<&RawBody> {
        self.received.as_ref()
    }

    /// The same failure, described as `kind`.
    #[must_use]
    pub fn with_kind(mut self, kind: TransportErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// Whether the request could have reached the server.
    pub fn delivery(&self) -> Delivery {
        self.delivery
    }

    /// What failed.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
}

fn kind_label(kind: TransportErrorKind) -> &'static str {
    match kind {
        TransportErrorKind::Connect => "could not connect",
        TransportErrorKind::Tls => "TLS handshake failed",
        TransportErrorKind::Timeout => "timed out",
        TransportErrorKind::BodyTooLarge { .. } => "response body exceeds the size cap",
        TransportErrorKind::Io => "connection failed",
        TransportErrorKind::Client => "HTTP client error",
        TransportErrorKind::Deadline => "the call's deadline passed",
    }
}

/// Everything a Prime call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument was refused before anything was signed or sent.
    #[error(transparent)]
    InvalidArgument(#[from] ArgumentError),
    /// The transport failed; see [`TransportError::delivery`].
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered, but not with a result.
    #[error(transparent)]
    Response(#[from] ResponseError),
}

impl Error {
    /// A transport failure, unless the body bytes it kept hold a created key's one-time
    /// secret: then [`ResponseError::KeyCreated`], since the key exists.
    pub(crate) fn from_transport(mut error: TransportError) -> Self {
        let Some(received) = error.received.take() else {
            return Self::Transport(error);
        };
        let Some(key) = crate::wire::salvage_key(received.as_bytes()) else {
            return Self::Transport(error);
        };
        Self::Response(ResponseError::KeyCreated {
            key,
            problem: Box::new(ResponseError::Decode {
                path: "$".to_owned(),
                // The key exists, so the delivery ("outcome unknown") does not apply: only
                // what broke the body off is told.
                message: format!(
                    "the body broke off after {} bytes ({})",
                    received.len(),
                    kind_label(error.kind)
                ),
                body: received,
            }),
        })
    }

    /// `true` when the request may have been executed although no result came back: check the
    /// server's state before doing it again.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::Transport(t) if t.delivery() == Delivery::MaybeSent)
    }

    /// How long to wait before calling again with this key, when the call stopped because of a
    /// rate limit or a lockout ([`ResponseError::Limited`]); see
    /// [`RetryPolicy`](crate::RetryPolicy) for why the client does not call again by itself.
    pub fn recommended_wait(&self) -> Option<std::time::Duration> {
        self.response().and_then(ResponseError::recommended_wait)
    }

    /// The response error, if the server answered.
    pub fn response(&self) -> Option<&ResponseError> {
        match self {
            Self::Response(r) => Some(r),
            _ => None,
        }
    }
}

impl fmt::Display for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(delivery_text(*self))
    }
}
