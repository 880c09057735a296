//! The call driver and throttles: `EService: Throttled: <ts>` is measured against the
//! response's own `Date` (the server's clock), so the core reads no clock and local skew does
//! not matter.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::DATE;
use http::{HeaderMap, HeaderValue, StatusCode};
use prime_core::endpoints::{CreateApiUserKey, ListApiUsers};
use prime_core::transport::{ClientCore, Step};
use prime_core::{CountingNonce, Credentials, Endpoint, Error, ErrorCode, RetryPolicy, Settings};

const SECRET: &str = prime_core::example::SECRET;
/// `Date` of the answers below: Unix 1795880000
/// (python3 -c "import email.utils; print(email.utils.formatdate(1795880000, usegmt=True))").
const DATE_1795880000: &str = "Sat, 28 Nov 2026 15:33:20 GMT";

fn core(max_wait: Duration) -> ClientCore {
    let settings = Settings::default()
        .nonce_source(Arc::new(CountingNonce::starting_at(1)))
        .retry_policy(RetryPolicy::default().with_max_throttle_wait(max_wait));
    ClientCore::new(Credentials::new("K", SECRET).unwrap(), &settings).unwrap()
}

/// The step after one throttled answer, with or without a `Date`.
fn first_step<E: Endpoint>(
    endpoint: &E,
    body: &[u8],
    date: Option<&str>,
    max_wait: Duration,
) -> String {
    let core = core(max_wait);
    let mut call = core.start(endpoint, Instant::now()).unwrap();
    call.request().unwrap();
    let mut headers = HeaderMap::new();
    if let Some(date) = date {
        headers.insert(DATE, HeaderValue::from_str(date).unwrap());
    }
    match call.on_response(Instant::now(), StatusCode::OK, &headers, body) {
        Step::Retry { after } => format!("retry after {after:?}"),
        Step::Stop(Error::Response(refused)) => {
            let codes: Vec<ErrorCode> = refused
                .kraken_errors()
                .iter()
                .map(|e| e.code().clone())
                .collect();
            format!("stop {codes:?}")
        }
        Step::Done(_) => "done".to_owned(),
        Step::Stop(other) => format!("stop {other}"),
    }
}

#[test]
fn a_throttle_waits_until_its_second_is_over_by_the_servers_clock() {
    let wait = Duration::from_secs(60);
    for body in [
        &br#"{"error":["EService: Throttled: 1795880010"]}"#[..],
        br#"{"error":["EService:Throttled:1795880010"]}"#,
    ] {
        // Not executed, so a create is resent too: 10 s to the named second, plus that second.
        assert_eq!(
            first_step(
                &CreateApiUserKey::new("U1"),
                body,
                Some(DATE_1795880000),
                wait
            ),
            "retry after 11s"
        );
        assert_eq!(
            first_step(&ListApiUsers::new(), body, Some(DATE_1795880000), wait),
            "retry after 11s"
        );
        // Beyond the maximum wait, or with no server time to measure against: returned.
        assert_eq!(
            first_step(
                &ListApiUsers::new(),
                body,
                Some(DATE_1795880000),
                Duration::from_secs(10)
            ),
            "stop [Throttled { until: Some(1795880010) }]"
        );
        for date in [None, Some("yesterday")] {
            assert_eq!(
                first_step(&ListApiUsers::new(), body, date, wait),
                "stop [Throttled { until: Some(1795880010) }]",
                "{date:?}"
            );
        }
    }
    // A time already past: resent at once.
    assert_eq!(
        first_step(
            &CreateApiUserKey::new("U1"),
            br#"{"error":["EService: Throttled: 1795879000"]}"#,
            Some(DATE_1795880000),
            wait
        ),
        "retry after 0ns"
    );
}
