//! Classifying hyper failures into prime-core's [`TransportError`].

use std::error::Error as StdError;
use std::io;

use prime_core::{Delivery, TransportError, TransportErrorKind};

/// Turns a failed `request()` into a transport error.
///
/// `connected` says whether the client had handed the request to a connection (see
/// `hyper_util`'s `capture_connection`): before that nothing can have been written. Connector
/// failures (DNS, TCP connect, TLS handshake) are never sent; anything after a connection was
/// obtained is *maybe sent*, since hyper does not say how far the write got.
pub(crate) fn request_error(
    error: hyper_util::client::legacy::Error,
    connected: bool,
) -> TransportError {
    let delivery = if error.is_connect() || !connected {
        Delivery::NotSent
    } else {
        Delivery::MaybeSent
    };
    let kind = if error.is_connect() {
        connect_kind(&error)
    } else if !connected {
        TransportErrorKind::Client
    } else if has_timeout(&error) {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Io
    };
    TransportError::new(delivery, kind, error)
}

/// The attempt's deadline passed. Before a connection was obtained it was still resolving,
/// connecting or handshaking, so nothing was sent.
pub(crate) fn timeout_error(connected: bool) -> TransportError {
    let delivery = if connected {
        Delivery::MaybeSent
    } else {
        Delivery::NotSent
    };
    TransportError::from_kind(delivery, TransportErrorKind::Timeout)
}

/// Reading the body failed: the server answered, so the request was executed.
pub(crate) fn body_error(error: hyper::Error) -> TransportError {
    TransportError::new(Delivery::MaybeSent, TransportErrorKind::Io, error)
}

fn connect_kind(error: &(dyn StdError + 'static)) -> TransportErrorKind {
    if sources(error).any(|e| e.is::<rustls::Error>()) {
        TransportErrorKind::Tls
    } else if has_timeout(error) {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Connect
    }
}

fn has_timeout(error: &(dyn StdError + 'static)) -> bool {
    sources(error).any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::TimedOut)
    })
}

/// `error` and its chain of sources. rustls errors hide inside `io::Error`s, whose `source()`
/// skips the wrapped error, so `get_ref` is followed too.
fn sources<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e: &&'a (dyn StdError + 'static)| match e
        .downcast_ref::<io::Error>()
    {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => e.source(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_errors_are_found_inside_io_errors() {
        let wrapped = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert_eq!(connect_kind(&wrapped), TransportErrorKind::Tls);
        let timed_out = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(connect_kind(&timed_out), TransportErrorKind::Timeout);
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(connect_kind(&refused), TransportErrorKind::Connect);
    }

    #[test]
    fn deadline_before_a_connection_is_not_sent() {
        assert_eq!(timeout_error(false).delivery(), Delivery::NotSent);
        assert_eq!(timeout_error(true).delivery(), Delivery::MaybeSent);
    }
}
