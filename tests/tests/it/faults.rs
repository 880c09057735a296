//! Faults over real loopback HTTP, once per transport: dropped connections before and after
//! execution, an injected `EAPI:Invalid nonce`, an edge 502, oversized and endless bodies, and
//! a server that never answers. Each test counts signed attempts (nonces issued) and the
//! simulator's executions, so "not resent" and "resent once" are facts, not guesses.

use std::time::{Duration, Instant};

use prime_core::endpoints::{CreateApiUserKey, Role};
use prime_core::{Delivery, Error, ResponseError, RetryPolicy, TransportErrorKind};
use prime_mock::{Fault, FaultKind, MockServer};
use prime_tests::{EndlessBodyServer, RecordedNonces, SilentServer, quick_retries};

fn transport_kind(error: &Error) -> (Delivery, TransportErrorKind) {
    match error {
        Error::Transport(t) => (t.delivery(), t.kind()),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// Credentials for servers that do not check them.
fn any_credentials() -> prime_core::Credentials {
    prime_core::Credentials::new("KRA5L19LAW8Z", prime_core::example::SECRET).unwrap()
}

/// Counts what one call cost: nonces issued (signed attempts).
fn attempts_during<T>(nonces: &RecordedNonces, call: impl FnOnce() -> T) -> (T, Vec<u64>) {
    let before = nonces.count();
    let result = call();
    (result, nonces.issued()[before..].to_vec())
}

mod blocking {
    use super::*;
    use prime_blocking::Client;

    fn client(server: &MockServer, nonces: &std::sync::Arc<RecordedNonces>) -> Client {
        Client::builder(server.account_credentials())
            .base_url(&server.url())
            .nonce_source(nonces.clone())
            .retry_policy(quick_retries())
            .build()
            .unwrap()
    }

    #[test]
    fn drop_after_execute_on_key_creation_is_outcome_unknown_and_not_resent() {
        let server = MockServer::start().unwrap();
        let nonces = RecordedNonces::new();
        let client = client(&server, &nonces);
        let user = client.create_api_user("fault-bot", Role::Viewer).unwrap();
        server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("CreatePrimeApiUserKey"));

        let (result, attempts) = attempts_during(&nonces, || {
            client
                .send(CreateApiUserKey::new(&user.id))
                .map(|reply| reply.result)
        });
        let error = result.unwrap_err();
        assert!(error.is_outcome_unknown(), "{error:?}");
        assert_eq!(transport_kind(&error).0, Delivery::MaybeSent);
        assert_eq!(
            attempts.len(),
            1,
            "a key creation that may have executed was resent"
        );
        assert_eq!(server.key_count(&user.id), 1, "exactly one key was created");
        assert_eq!(server.executions("CreatePrimeApiUserKey"), 1);
        let secret = server.account_secret().expose();
        assert!(!format!("{error} {error:?}").contains(secret));
    }

    #[test]
    fn drop_before_execute_is_still_outcome_unknown_to_the_client() {
        // The client cannot tell the two drops apart: it wrote the request either way.
        let server = MockServer::start().unwrap();
        let nonces = RecordedNonces::new();
        let client = client(&server, &nonces);
        let user = client.create_api_user("fault-bot", Role::Viewer).unwrap();
        server.push_fault(Fault::new(FaultKind::DropBeforeExecute).on("CreatePrimeApiUserKey"));

        let (result, attempts) = attempts_during(&nonces, || {
            client
                .send(CreateApiUserKey::new(&user.id))
                .map(|reply| reply.result)
        });
        assert!(result.unwrap_err().is_outcome_unknown());
        assert_eq!(attempts.len(), 1);
        assert_eq!(server.key_count(&user.id), 0);
    }

    #[test]
    fn drop_after_execute_on_key_listing_is_retried_and_succeeds() {
        let server = MockServer::start().unwrap();
        let nonces = RecordedNonces::new();
        let client = client(&server, &nonces);
        let user = client.create_api_user("fault-bot", Role::Viewer).unwrap();
        client
            .send(CreateApiUserKey::new(&user.id))
            .map(|reply| reply.result)
            .unwrap();
        server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("ListPrimeApiUserKeys"));

        let (result, attempts) = attempts_during(&nonces, || client.list_api_user_keys(&user.id));
        assert_eq!(result.unwrap().len(), 1);
        assert_eq!(attempts.len(), 2);
        assert!(
            attempts[0] < attempts[1],
            "the resend was re-signed with a fresh nonce"
        );
        assert_eq!(server.executions("ListPrimeApiUserKeys"), 2);
    }

    #[test]
    fn invalid_nonce_once_gets_one_re_signed_resend_even_for_a_create() {
        let server = MockServer::start().unwrap();
        let nonces = RecordedNonces::new();
        let client = client(&server, &nonces);
        server.push_fault(
            Fault::new(FaultKind::KrakenError("EAPI:Invalid nonce".to_owned()))
                .on("CreatePrimeApiUser")
                .times(1),
        );

        let (result, attempts) = attempts_during(&nonces, || {
            client.create_api_user("nonce-bot", Role::Viewer)
        });
        result.unwrap();
        assert_eq!(attempts.len(), 2);
        assert!(attempts[0] < attempts[1]);
        assert_eq!(server.executions("CreatePrimeApiUser"), 1);
    }

    #[test]
    fn bad_gateway_is_retried_for_reads_but_not_for_creates() {
        let server = MockServer::start().unwrap();
        let nonces = RecordedNonces::new();
        let client = client(&server, &nonces);
        server.push_fault(Fault::new(FaultKind::BadGatewayHtml).on("ListPrimeApiUsers"));
        let (result, attempts) = attempts_during(&nonces, || client.list_api_users());
        result.unwrap();
        assert_eq!(attempts.len(), 2);

        server.push_fault(Fault::new(FaultKind::BadGatewayHtml).on("CreatePrimeApiUser"));
        let (result, attempts) =
            attempts_during(&nonces, || client.create_api_user("edge", Role::Viewer));
        let error = result.unwrap_err();
        assert!(
            matches!(error.response(), Some(ResponseError::Status { status, .. }) if status.as_u16() == 502),
            "{error:?}"
        );
        assert_eq!(attempts.len(), 1);
        assert_eq!(server.executions("CreatePrimeApiUser"), 0);
    }

    #[test]
    fn oversized_body_is_refused_by_its_announced_length_and_not_retried() {
        let server = MockServer::start().unwrap();
        let client = Client::builder(server.account_credentials())
            .base_url(&server.url())
            .retry_policy(quick_retries())
            .max_response_bytes(64 * 1024)
            .build()
            .unwrap();
        server.push_fault(Fault::new(FaultKind::OversizedBody(4 << 20)).on("ListPrimeApiUsers"));

        let error = client.list_api_users().unwrap_err();
        assert_eq!(
            transport_kind(&error),
            (
                Delivery::MaybeSent,
                TransportErrorKind::BodyTooLarge { limit: 64 * 1024 }
            )
        );
        assert_eq!(server.executions("ListPrimeApiUsers"), 1);
    }

    #[test]
    fn endless_body_is_cut_at_the_cap_without_reading_it_whole() {
        let endless = EndlessBodyServer::start();
        let client = Client::builder(any_credentials())
            .base_url(endless.url())
            .retry_policy(RetryPolicy::never())
            .max_response_bytes(256 * 1024)
            .build()
            .unwrap();

        let started = Instant::now();
        let error = client.list_api_users().unwrap_err();
        assert_eq!(
            transport_kind(&error),
            (
                Delivery::MaybeSent,
                TransportErrorKind::BodyTooLarge { limit: 256 * 1024 }
            )
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let written = endless
            .bytes_written_once_stopped(Duration::from_secs(10))
            .expect("the client hung up, so the server stopped writing");
        assert!(
            written < EndlessBodyServer::MAX_BYTES / 4,
            "{written} bytes were read"
        );
        eprintln!("blocking: server wrote {written} bytes before the client hung up");
    }

    #[test]
    fn silent_server_hits_the_timeout() {
        let silent = SilentServer::start();
        let client = Client::builder(any_credentials())
            .base_url(silent.url())
            .retry_policy(RetryPolicy::never())
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();

        let started = Instant::now();
        let error = client.list_api_users().unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(
            transport_kind(&error),
            (Delivery::MaybeSent, TransportErrorKind::Timeout)
        );
        assert!(
            elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(5),
            "{elapsed:?}"
        );
    }
}

mod asynchronous {
    use super::*;
    use prime_async::Client;

    fn client(server: &MockServer, nonces: &std::sync::Arc<RecordedNonces>) -> Client {
        Client::builder(server.account_credentials())
            .base_url(&server.url())
            .nonce_source(nonces.clone())
            .retry_policy(quick_retries())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn drop_after_execute_on_key_creation_is_outcome_unknown_and_not_resent() {
        let server = MockServer::start().unwrap();
        let nonces = RecordedNonces::new();
        let client = client(&server, &nonces);
        let user = client
            .create_api_user("fault-bot", Role::Viewer)
            .await
            .unwrap();
        server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("CreatePrimeApiUserKey"));

        let before = nonces.count();
        let error = client
            .send(CreateApiUserKey::new(&user.id))
            .await
            .map(|reply| reply.result)
            .unwrap_err();
        assert!(error.is_outcome_unknown(), "{error:?}");
        assert_eq!(transport_kind(&error).0, Delivery::MaybeSent);
        assert_eq!(
            nonces.count() - before,
            1,
            "a key creation that may have executed was resent"
        );
        assert_eq!(server.key_count(&user.id), 1, "exactly one key was created");
        assert_eq!(server.executions("CreatePrimeApiUserKey"), 1);
        let secret = server.account_secret().expose();
        assert!(!format!("{error} {error:?}").contains(secret));
    }

    #[tokio::test]
    async fn drop_before_execute_is_still_outcome_unknown_to_the_client() {
        let server = MockServer::start().unwrap();
        let nonces = RecordedNonces::new();
        let client = client(&server, &nonces);
        let user = client
            .create_api_user("fault-bot", Role::Viewer)
            .await
            .unwrap();
        server.push_fault(Fault::new(FaultKind::DropBeforeExecute).on("CreatePrimeApiUserKey"));

        let before = nonces.count();
        assert!(
            client
                .send(CreateApiUserKey::new(&user.id))
                .await
                .map(|reply| reply.result)
                .unwrap_err()
                .is_outcome_unknown()
        );
        assert_eq!(nonces.count() - before, 1);
        assert_eq!(server.key_count(&user.id), 0);
    }

    #[tokio::test]
    async fn drop_after_execute_on_key_listing_is_retried_and_succeeds() {
        let server = MockServer::start().unwrap();
        let nonces = RecordedNonces::new();
        let client = client(&server, &nonces);
        let user = client
            .create_api_user("fault-bot", Role::Viewer)
            .await
            .unwrap();
        client
            .send(CreateApiUserKey::new(&user.id))
            .await
            .map(|reply| reply.result)
            .unwrap();
        server.push_fault(Fault::new(FaultKind::DropAfterExecute).on("ListPrimeApiUserKeys"));

        let before = nonces.count();
        assert_eq!(client.list_api_user_keys(&user.id).await.unwrap().len(), 1);
        let attempts = nonces.issued()[before..].to_vec();
        assert_eq!(attempts.len(), 2);
        assert!(
            attempts[0] < attempts[1],
            "the resend was re-signed with a fresh nonce"
        );
        assert_eq!(server.executions("ListPrimeApiUserKeys"), 2);
    }

    #[tokio::test]
    async fn invalid_nonce_once_gets_one_re_signed_resend_even_for_a_create() {
        let server = MockServer::start().unwrap();
        let nonces = RecordedNonces::new();
        let client = client(&server, &nonces);
        server.push_fault(
            Fault::new(FaultKind::KrakenError("EAPI:Invalid nonce".to_owned()))
                .on("CreatePrimeApiUser")
                .times(1),
        );

        client
            .create_api_user("nonce-bot", Role::Viewer)
            .await
            .unwrap();
        let attempts = nonces.issued();
        assert_eq!(attempts.len(), 2);
        assert!(attempts[0] < attempts[1]);
        assert_eq!(server.executions("CreatePrimeApiUser"), 1);
    }

    #[tokio::test]
    async fn bad_gateway_is_retried_for_reads_but_not_for_creates() {
        let server = MockServer::start().unwrap();
        let nonces = RecordedNonces::new();
        let client = client(&server, &nonces);
        server.push_fault(Fault::new(FaultKind::BadGatewayHtml).on("ListPrimeApiUsers"));
        client.list_api_users().await.unwrap();
        assert_eq!(nonces.count(), 2);

        server.push_fault(Fault::new(FaultKind::BadGatewayHtml).on("CreatePrimeApiUser"));
        let error = client
            .create_api_user("edge", Role::Viewer)
            .await
            .unwrap_err();
        assert!(
            matches!(error.response(), Some(ResponseError::Status { status, .. }) if status.as_u16() == 502),
            "{error:?}"
        );
        assert_eq!(nonces.count(), 3);
        assert_eq!(server.executions("CreatePrimeApiUser"), 0);
    }

    #[tokio::test]
    async fn oversized_body_is_refused_by_its_announced_length_and_not_retried() {
        let server = MockServer::start().unwrap();
        let client = Client::builder(server.account_credentials())
            .base_url(&server.url())
            .retry_policy(quick_retries())
            .max_response_bytes(64 * 1024)
            .build()
            .unwrap();
        server.push_fault(Fault::new(FaultKind::OversizedBody(4 << 20)).on("ListPrimeApiUsers"));

        let error = client.list_api_users().await.unwrap_err();
        assert_eq!(
            transport_kind(&error),
            (
                Delivery::MaybeSent,
                TransportErrorKind::BodyTooLarge { limit: 64 * 1024 }
            )
        );
        assert_eq!(server.executions("ListPrimeApiUsers"), 1);
    }

    #[tokio::test]
    async fn endless_body_is_cut_at_the_cap_without_reading_it_whole() {
        let endless = EndlessBodyServer::start();
        let client = Client::builder(any_credentials())
            .base_url(endless.url())
            .retry_policy(RetryPolicy::never())
            .max_response_bytes(256 * 1024)
            .build()
            .unwrap();

        let started = Instant::now();
        let error = client.list_api_users().await.unwrap_err();
        assert_eq!(
            transport_kind(&error),
            (
                Delivery::MaybeSent,
                TransportErrorKind::BodyTooLarge { limit: 256 * 1024 }
            )
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let written = tokio::task::spawn_blocking(move || {
            endless.bytes_written_once_stopped(Duration::from_secs(10))
        })
        .await
        .unwrap()
        .expect("the client hung up, so the server stopped writing");
        assert!(
            written < EndlessBodyServer::MAX_BYTES / 4,
            "{written} bytes were read"
        );
        eprintln!("async: server wrote {written} bytes before the client hung up");
    }

    #[tokio::test]
    async fn silent_server_hits_the_timeout() {
        let silent = SilentServer::start();
        let client = Client::builder(any_credentials())
            .base_url(silent.url())
            .retry_policy(RetryPolicy::never())
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();

        let started = Instant::now();
        let error = client.list_api_users().await.unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(
            transport_kind(&error),
            (Delivery::MaybeSent, TransportErrorKind::Timeout)
        );
        assert!(
            elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(5),
            "{elapsed:?}"
        );
    }
}
