//! The TLS roots this crate trusts when it builds the connection itself: the ones the enabled
//! features name (`webpki-roots`, `rustls-native-roots`).

use std::sync::Arc;

use prime_core::BuildError;

/// A rustls configuration (with `ring`) trusting the feature-selected roots. Over plain HTTP
/// (`https` false, the simulator) no roots are needed; over HTTPS none is an error that says
/// which feature to enable.
pub(crate) fn feature_tls(https: bool) -> Result<Arc<rustls::ClientConfig>, BuildError> {
    let refused = |reason: String| BuildError::new("tls_config", reason);
    #[allow(unused_mut, reason = "filled only by the enabled features")]
    let mut roots = rustls::RootCertStore::empty();
    #[cfg(feature = "webpki-roots")]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[cfg(feature = "rustls-native-roots")]
    {
        let found = rustls_native_certs::load_native_certs();
        let (added, _unparsable) = roots.add_parsable_certificates(found.certs);
        if added == 0 && roots.is_empty() && https {
            let why = found
                .errors
                .first()
                .map_or_else(|| "it is empty".to_owned(), ToString::to_string);
            return Err(refused(format!(
                "no usable certificate in the operating system's trust store ({why})"
            )));
        }
    }
    if roots.is_empty() && https {
        return Err(refused(
            "no TLS roots to trust: enable the `webpki-roots` or `rustls-native-roots` feature, \
             or pass a rustls ClientConfig"
                .to_owned(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| refused(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::feature_tls;

    #[test]
    fn plain_http_needs_no_roots() {
        assert!(feature_tls(false).is_ok());
    }

    #[test]
    fn https_gets_the_feature_roots_or_an_error_naming_the_features() {
        let some_roots_enabled = cfg!(any(
            feature = "webpki-roots",
            feature = "rustls-native-roots"
        ));
        let webpki_enabled = cfg!(feature = "webpki-roots");
        match feature_tls(true) {
            Ok(_) => assert!(some_roots_enabled),
            Err(error) => {
                assert!(!webpki_enabled, "{error}");
                assert_eq!(error.setting(), "tls_config");
                assert!(
                    error.reason().contains("feature") || error.reason().contains("trust store"),
                    "{error}"
                );
            }
        }
    }
}
