//! What both clients share through prime-core: settings refused alike, arguments refused
//! before a nonce is spent, refused connections reported as not sent, masked `Debug`, and one
//! `prime_call` span per call with the same fields.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prime_core::{CountingNonce, Delivery, Error, NonceSource, TransportErrorKind};
use prime_mock::MockServer;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Record};
use tracing::{Id, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::{Layer, Registry};

const KEY: &str = "KRA5L19LAW8Z";
const SECRET: &str = prime_core::example::SECRET;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn tls() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocols")
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    )
}

#[test]
fn both_builders_refuse_the_same_settings_naming_them() {
    type Tweak = fn(prime_core::Settings) -> prime_core::Settings;
    let cases: [(&str, Tweak); 5] = [
        ("base_url", |s| s.base_url("ftp://example.com")),
        ("user_agent", |s| s.user_agent("bad\nagent")),
        ("timeout", |s| s.timeout(Duration::ZERO)),
        ("connect_timeout", |s| s.connect_timeout(Duration::ZERO)),
        ("max_response_bytes", |s| s.max_response_bytes(0)),
    ];
    for (setting, tweak) in cases {
        let settings = tweak(prime_core::Settings::default());
        let blocking = prime_blocking::Client::builder(prime_core::example::credentials())
            .settings(settings.clone())
            .build()
            .expect_err("refused");
        let asynchronous = prime_async::Client::builder(prime_core::example::credentials())
            .settings(settings)
            .build()
            .expect_err("refused");
        assert_eq!(blocking.setting(), setting);
        assert_eq!(blocking, asynchronous, "the same error from both");
        assert!(blocking.to_string().contains(setting), "{blocking}");
    }
    // TLS settings cannot be combined with a caller-built HTTP client.
    let blocking = prime_blocking::Client::builder(prime_core::example::credentials())
        .agent(prime_blocking::ureq::Agent::new_with_defaults())
        .tls_config(tls())
        .build()
        .expect_err("refused");
    assert_eq!(blocking.setting(), "tls_config");
    let connector = prime_async::hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config((*tls()).clone())
        .https_or_http()
        .enable_http1()
        .build();
    let hyper = prime_async::hyper_util::client::legacy::Client::builder(
        prime_async::hyper_util::rt::TokioExecutor::new(),
    )
    .build(connector);
    let asynchronous = prime_async::Client::builder(prime_core::example::credentials())
        .hyper_client(hyper)
        .tls_config(tls())
        .build()
        .expect_err("refused");
    assert_eq!(asynchronous.setting(), "tls_config");
}

#[test]
fn bad_arguments_are_refused_before_a_nonce_is_spent_by_both() {
    let nonces = Arc::new(CountingNonce::starting_at(1));
    // Nothing listens here; nothing must be sent anyway.
    let settings = prime_core::Settings::default()
        .base_url("http://127.0.0.1:9")
        .nonce_source(nonces.clone());
    let blocking = prime_blocking::Client::builder(prime_core::example::credentials())
        .settings(settings.clone())
        .build()
        .expect("builds");
    let asynchronous = prime_async::Client::builder(prime_core::example::credentials())
        .settings(settings)
        .build()
        .expect("builds");
    let errors = [
        blocking.get_api_user("").expect_err("refused"),
        runtime()
            .block_on(asynchronous.get_api_user(""))
            .expect_err("refused"),
    ];
    for error in errors {
        assert!(
            matches!(&error, Error::InvalidArgument(e) if e.field() == "user_id"),
            "{error:?}"
        );
    }
    assert_eq!(nonces.next_nonce(), 1, "no nonce spent");
}

#[test]
fn a_refused_connection_is_not_sent_for_both() {
    // Bind then drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let settings = prime_core::Settings::default()
        .base_url(&format!("http://127.0.0.1:{port}"))
        .retry_policy(prime_core::RetryPolicy::never());
    let blocking = prime_blocking::Client::builder(prime_core::example::credentials())
        .settings(settings.clone())
        .build()
        .expect("builds");
    let asynchronous = prime_async::Client::builder(prime_core::example::credentials())
        .settings(settings)
        .build()
        .expect("builds");
    let errors = [
        blocking
            .create_api_user_key("U1")
            .expect_err("refused")
            .into(),
        runtime()
            .block_on(asynchronous.create_api_user_key("U1"))
            .expect_err("refused")
            .into(),
    ];
    for error in errors {
        let Error::Transport(transport) = &error else {
            panic!("expected a transport error, got {error:?}");
        };
        assert_eq!(transport.delivery(), Delivery::NotSent);
        assert_eq!(transport.kind(), TransportErrorKind::Connect);
        assert!(!error.is_outcome_unknown());
        // The cause is the error's source, not repeated in its message.
        let cause = std::error::Error::source(transport).expect("the socket error");
        assert!(!transport.to_string().contains(&cause.to_string()));
    }
}

#[test]
fn debug_masks_the_key_and_never_shows_the_secret() {
    let shown = [
        format!(
            "{:?}",
            prime_blocking::Client::builder(prime_core::example::credentials())
        ),
        format!(
            "{:?}",
            prime_blocking::Client::builder(prime_core::example::credentials()).build()
        ),
        format!(
            "{:?}",
            prime_async::Client::builder(prime_core::example::credentials())
        ),
        format!(
            "{:?}",
            prime_async::Client::builder(prime_core::example::credentials()).build()
        ),
    ];
    for shown in shown {
        assert!(!shown.contains(KEY), "{shown}");
        assert!(!shown.contains(&SECRET[..12]), "{shown}");
        assert!(shown.contains("https://api.kraken.com"), "{shown}");
    }
}

/// A span's fields as `(name, value)`.
type SpanFields = Vec<(String, String)>;

/// The fields of every `prime_call` span, as recorded by the time it closed.
#[derive(Default, Clone)]
struct Spans(Arc<Mutex<Vec<SpanFields>>>);

struct Fields<'a>(&'a mut SpanFields);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl<S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "prime_call" {
            return;
        }
        let mut fields = Vec::new();
        attrs.record(&mut Fields(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<SpanFields>()
        {
            values.record(&mut Fields(fields));
        }
    }
    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(fields) = span.extensions_mut().remove::<SpanFields>()
        {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(fields);
        }
    }
}

#[test]
fn each_call_has_one_span_with_the_same_fields_in_both_clients() {
    let server = MockServer::start().expect("the simulator starts");
    let spans = Spans::default();
    let subscriber = Registry::default().with(spans.clone());
    tracing::subscriber::with_default(subscriber, || {
        let blocking = prime_blocking::Client::builder(server.account_credentials())
            .base_url(&server.url())
            .build()
            .expect("builds");
        let asynchronous = prime_async::Client::builder(server.account_credentials())
            .base_url(&server.url())
            .build()
            .expect("builds");
        blocking.list_api_users().expect("listed");
        let rt = runtime();
        rt.block_on(asynchronous.list_api_users()).expect("listed");
        let _ = blocking.get_api_user("NOSUCHUSER");
        let _ = rt.block_on(asynchronous.get_api_user("NOSUCHUSER"));
    });
    let spans = spans
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert_eq!(spans.len(), 4, "{spans:?}");
    let names = |fields: &[(String, String)]| -> Vec<String> {
        let mut names: Vec<String> = fields.iter().map(|(n, _)| n.clone()).collect();
        names.sort();
        names
    };
    for fields in &spans {
        assert_eq!(
            names(fields),
            ["attempts", "elapsed_ms", "endpoint", "outcome"],
            "{fields:?}"
        );
    }
    let value = |fields: &[(String, String)], name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // Blocking then async, for a success and a refusal: the same endpoint and outcome.
    for pair in spans.chunks(2) {
        for name in ["endpoint", "outcome", "attempts"] {
            assert_eq!(value(&pair[0], name), value(&pair[1], name), "{pair:?}");
        }
    }
    assert_eq!(value(&spans[0], "outcome"), "ok");
    assert_eq!(value(&spans[2], "outcome"), "kraken_error");
    assert_eq!(value(&spans[2], "endpoint"), "GetPrimeApiUser");
}
