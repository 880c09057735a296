//! HTTPS: prime-mock served over TLS with a certificate generated here (rcgen), each
//! transport trusting it through `tls_config`; without that root the handshake fails, and the
//! failure is classified as TLS and *not sent*.

use std::time::Duration;

use prime_core::endpoints::Role;
use prime_core::{Delivery, Error, RetryPolicy, TransportErrorKind};
use prime_mock::MockServer;
use prime_tests::SelfSignedTls;

fn tls_mock(tls: &SelfSignedTls) -> MockServer {
    let server = MockServer::builder()
        .tls(tls.server.clone())
        .start()
        .unwrap();
    assert!(
        server.url().starts_with("https://127.0.0.1:"),
        "{}",
        server.url()
    );
    server
}

fn assert_untrusted(error: &Error) {
    let Error::Transport(transport) = error else {
        panic!("expected a transport error, got {error:?}");
    };
    assert_eq!(transport.kind(), TransportErrorKind::Tls, "{error}");
    assert_eq!(transport.delivery(), Delivery::NotSent, "{error}");
}

#[test]
fn blocking_over_tls_with_a_custom_root() {
    let tls = SelfSignedTls::generate();
    let server = tls_mock(&tls);
    let client = prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .tls_config(tls.client.clone())
        .build()
        .unwrap();
    let user = client.create_api_user("tls-bot", Role::Viewer).unwrap();
    let key = client.create_api_user_key(&user.id).unwrap();
    assert_eq!(
        client.list_api_user_keys(&user.id).unwrap()[0].api_key,
        key.api_key
    );

    // Default roots (webpki) do not include the test certificate.
    let untrusting = prime_blocking::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .retry_policy(RetryPolicy::never())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_untrusted(&untrusting.list_api_users().unwrap_err());
    assert_eq!(server.executions("ListPrimeApiUsers"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_over_tls_with_a_custom_root() {
    let tls = SelfSignedTls::generate();
    let server = tls_mock(&tls);
    let client = prime_async::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .tls_config(tls.client.clone())
        .build()
        .unwrap();
    let user = client
        .create_api_user("tls-bot", Role::Viewer)
        .await
        .unwrap();
    let key = client.create_api_user_key(&user.id).await.unwrap();
    assert_eq!(
        client.list_api_user_keys(&user.id).await.unwrap()[0].api_key,
        key.api_key
    );

    let untrusting = prime_async::Client::builder(server.account_credentials())
        .base_url(&server.url())
        .retry_policy(RetryPolicy::never())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_untrusted(&untrusting.list_api_users().await.unwrap_err());
    assert_eq!(server.executions("ListPrimeApiUsers"), 0);
}
