//! The response body type: a complete body, or one that stops half-way and breaks the
//! connection (the truncated-body fault).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

/// How long a truncated body waits after its first half, so that half is flushed to the
/// client before the connection breaks.
const TRUNCATION_PAUSE: Duration = Duration::from_millis(30);

/// Why a body stopped early (the truncated-body fault).
#[derive(Debug)]
pub(crate) struct BodyCut;

impl std::fmt::Display for BodyCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response body cut short on purpose (truncated-body fault)")
    }
}

impl std::error::Error for BodyCut {}

pub(crate) enum MockBody {
    Full(Option<Bytes>),
    /// Sends `head`, waits, then fails: hyper then closes the connection, leaving the client
    /// short of the `Content-Length` it was promised.
    Truncated {
        head: Option<Bytes>,
        pause: Pin<Box<tokio::time::Sleep>>,
    },
}

impl MockBody {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        Self::Full(Some(bytes.into()))
    }

    pub(crate) fn truncated(head: Bytes) -> Self {
        Self::Truncated {
            head: Some(head),
            pause: Box::pin(tokio::time::sleep(TRUNCATION_PAUSE)),
        }
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = BodyCut;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyCut>>> {
        match self.get_mut() {
            Self::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Truncated { head, pause } => {
                if let Some(head) = head.take() {
                    return Poll::Ready(Some(Ok(Frame::data(head))));
                }
                match pause.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(BodyCut))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            // Unknown, so hyper uses the Content-Length header the fault sets.
            Self::Truncated { .. } => SizeHint::default(),
        }
    }
}

/// A complete JSON response.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
