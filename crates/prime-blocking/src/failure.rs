//! Classifying ureq failures into prime-core's [`TransportError`].

use std::io;

use prime_core::{Delivery, TransportError, TransportErrorKind};
use ureq::Timeout;

/// Turns a ureq failure into a transport error.
///
/// `written` is the delivery probe's answer when the agent has it: a fact. A caller-supplied
/// agent has no probe, so delivery is inferred from the error alone, and anything not clearly
/// from before the request was written counts as *maybe sent*: wrongly saying "not sent" could
/// let a non-idempotent call be executed twice, wrongly saying "maybe sent" only costs a retry.
pub(crate) fn transport_error(error: ureq::Error, written: Option<bool>) -> TransportError {
    let kind = kind(&error);
    let delivery = match written {
        Some(false) => Delivery::NotSent,
        Some(true) => Delivery::MaybeSent,
        None if before_writing(&error) => Delivery::NotSent,
        None => Delivery::MaybeSent,
    };
    TransportError::new(delivery, kind, error)
}

fn kind(error: &ureq::Error) -> TransportErrorKind {
    match error {
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::InvalidProxyUrl => TransportErrorKind::Connect,
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::TlsRequired => {
            TransportErrorKind::Tls
        }
        ureq::Error::Io(e) if is_tls(e) => TransportErrorKind::Tls,
        ureq::Error::Io(e) if e.kind() == io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
        ureq::Error::Io(e) if is_connect(e) => TransportErrorKind::Connect,
        ureq::Error::Io(_) | ureq::Error::Protocol(_) | ureq::Error::BodyStalled => {
            TransportErrorKind::Io
        }
        _ => TransportErrorKind::Client,
    }
}

/// Errors that can only arise before a request byte is written.
fn before_writing(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Timeout(phase) => matches!(phase, Timeout::Resolve | Timeout::Connect),
        ureq::Error::Io(e) => is_connect(e),
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::InvalidProxyUrl
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::TlsRequired
        | ureq::Error::BadUri(_)
        | ureq::Error::Http(_)
        | ureq::Error::RequireHttpsOnly(_) => true,
        _ => false,
    }
}

fn is_connect(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
    )
}

/// rustls reports handshake and record failures as I/O errors wrapping a `rustls::Error`.
fn is_tls(error: &io::Error) -> bool {
    let mut source = error
        .get_ref()
        .map(|e| e as &(dyn std::error::Error + 'static));
    while let Some(e) = source {
        if e.is::<rustls::Error>() {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_decides_delivery_when_present() {
        let reset = || ureq::Error::Io(io::ErrorKind::ConnectionReset.into());
        assert_eq!(
            transport_error(reset(), Some(false)).delivery(),
            Delivery::NotSent
        );
        assert_eq!(
            transport_error(reset(), Some(true)).delivery(),
            Delivery::MaybeSent
        );
        assert_eq!(
            transport_error(reset(), None).delivery(),
            Delivery::MaybeSent
        );
    }

    #[test]
    fn without_the_probe_only_pre_write_failures_are_not_sent() {
        let cases = [
            (
                ureq::Error::HostNotFound,
                Delivery::NotSent,
                TransportErrorKind::Connect,
            ),
            (
                ureq::Error::Io(io::ErrorKind::ConnectionRefused.into()),
                Delivery::NotSent,
                TransportErrorKind::Connect,
            ),
            (
                ureq::Error::Timeout(Timeout::Connect),
                Delivery::NotSent,
                TransportErrorKind::Timeout,
            ),
            (
                ureq::Error::Timeout(Timeout::Global),
                Delivery::MaybeSent,
                TransportErrorKind::Timeout,
            ),
            (
                ureq::Error::Timeout(Timeout::RecvResponse),
                Delivery::MaybeSent,
                TransportErrorKind::Timeout,
            ),
            (
                ureq::Error::Io(io::ErrorKind::UnexpectedEof.into()),
                Delivery::MaybeSent,
                TransportErrorKind::Io,
            ),
            (
                ureq::Error::Io(io::Error::new(
                    io::ErrorKind::InvalidData,
                    rustls::Error::DecryptError,
                )),
                Delivery::MaybeSent,
                TransportErrorKind::Tls,
            ),
        ];
        for (error, delivery, kind) in cases {
            let shown = error.to_string();
            let classified = transport_error(error, None);
            assert_eq!(classified.delivery(), delivery, "{shown}");
            assert_eq!(classified.kind(), kind, "{shown}");
        }
    }
}
