//! The hyper client this crate builds, and reading its response bodies into the core's
//! capped, zeroizing buffer.

use std::sync::Arc;

use http_body_util::BodyExt as _;
use hyper::body::{Body as _, Incoming};
use hyper_rustls::HttpsConnectorBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use prime_core::BuildError;
use prime_core::transport::{BodyBuffer, ClientCore, TransportError};
use tokio::time::{Instant, timeout_at};

use crate::{HyperClient, failure};

/// Reads the body frame by frame into a capped, zeroizing buffer until `deadline`: an oversized
/// body fails as soon as it crosses the cap instead of being buffered whole.
pub(crate) async fn read_capped(
    core: &ClientCore,
    mut body: Incoming,
    deadline: Instant,
) -> Result<BodyBuffer, TransportError> {
    let mut buffer = core.body_buffer(body.size_hint().exact())?;
    loop {
        // Whatever ends the read early, the bytes received go along: a created key's secret
        // among them is still delivered by the driver.
        let Ok(next) = timeout_at(deadline, body.frame()).await else {
            return Err(failure::timeout_error(true).with_received(buffer.as_bytes()));
        };
        let Some(frame) = next else { break };
        let frame = frame.map_err(|e| failure::body_error(e).with_received(buffer.as_bytes()))?;
        if let Ok(data) = frame.into_data() {
            buffer
                .extend(&data)
                .map_err(|e| e.with_received(buffer.as_bytes()))?;
        }
    }
    Ok(buffer)
}

/// HTTP/1.1 over rustls (`ring`, the feature-selected roots unless `tls` is given), plain HTTP
/// allowed. `https` says whether the base URL needs TLS at all.
pub(crate) fn hyper_client(
    tls: Option<Arc<rustls::ClientConfig>>,
    https: bool,
) -> Result<HyperClient, BuildError> {
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    let config = match tls {
        Some(config) => config,
        None => crate::roots::feature_tls(https)?,
    };
    let https = HttpsConnectorBuilder::new()
        .with_tls_config((*config).clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Ok(hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(https))
}
