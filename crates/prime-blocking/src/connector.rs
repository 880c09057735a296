//! ureq connectors: the delivery probe and TLS with a caller's `rustls::ClientConfig`.

use std::cell::Cell;
use std::fmt;
use std::io::{Read as _, Write as _};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use ureq::Agent;
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, DefaultConnector, Either,
    LazyBuffers, NextTimeout, TcpConnector, Transport, TransportAdapter,
};

use crate::resolver::CachedResolver;

thread_local! {
    /// Whether the current call handed any request bytes to a connection. ureq runs a call
    /// entirely on the calling thread, so a thread-local marks exactly this call.
    static REQUEST_WRITTEN: Cell<bool> = const { Cell::new(false) };
}

/// Forgets earlier calls: to be called right before a request is run.
pub(crate) fn reset_request_written() {
    REQUEST_WRITTEN.set(false);
}

/// Whether the request of the current call may have reached the server.
pub(crate) fn request_written() -> bool {
    REQUEST_WRITTEN.get()
}

/// The last link of the connector chain: marks the call as "maybe sent" as soon as the first
/// request byte is handed to the connection (TLS handshakes and proxy `CONNECT`s happen in
/// earlier links and do not count). That turns "was the request sent?" from a guess over
/// error types into a fact.
#[derive(Debug)]
pub(crate) struct DeliveryProbe;

impl<In: Transport> Connector<In> for DeliveryProbe {
    type Out = ProbedTransport<In>;

    fn connect(
        &self,
        _details: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(ProbedTransport))
    }
}

/// A transport that reports its first write to [`request_written`].
#[derive(Debug)]
pub(crate) struct ProbedTransport<T>(T);

impl<T: Transport> Transport for ProbedTransport<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        // Set before writing: a write that fails halfway may still have delivered the request.
        REQUEST_WRITTEN.set(true);
        self.0.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.0.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

/// Wraps `https` connections in TLS with a caller-supplied `rustls::ClientConfig` (custom
/// roots, client certificates), which ureq's own connector cannot take.
#[derive(Debug)]
pub(crate) struct ConfiguredTls(pub(crate) Arc<ClientConfig>);

impl<In: Transport> Connector<In> for ConfiguredTls {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().unwrap_or_default();
        // IPv6 hosts come bracketed in URIs; rustls wants the bare address.
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))?;
        let mut connection = ClientConnection::new(Arc::clone(&self.0), name)?;
        let mut socket = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        socket.set_timeout(details.timeout);
        connection.complete_io(&mut socket)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned::new(connection, socket),
        })))
    }
}

/// A TLS session over a chained transport.
pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.sock.set_timeout(timeout);
        self.stream.write_all(&self.buffers.output()[..amount])?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.sock.set_timeout(timeout);
        let read = self.stream.read(self.buffers.input_append_buf())?;
        self.buffers.input_appended(read);
        Ok(read > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.sock.get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport")
            .field("inner", &self.stream.sock.inner())
            .finish_non_exhaustive()
    }
}

/// An agent whose connector chain ends in the delivery probe; TLS is ureq's (rustls, `ring`,
/// webpki roots) unless a `ClientConfig` is given. Host lookups are reused for a while (see
/// `resolver.rs`), so a call on a kept-alive connection does no name resolution.
pub(crate) fn probed_agent(tls: Option<Arc<rustls::ClientConfig>>) -> Agent {
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build();
    match tls {
        None => Agent::with_parts(
            config,
            DefaultConnector::new().chain(DeliveryProbe),
            CachedResolver::default(),
        ),
        Some(tls) => Agent::with_parts(
            config,
            ().chain(ConnectProxyConnector::default())
                .chain(TcpConnector::default())
                .chain(ConfiguredTls(tls))
                .chain(DeliveryProbe),
            CachedResolver::default(),
        ),
    }
}
