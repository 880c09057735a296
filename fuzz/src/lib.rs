//! What each fuzz target checks, as plain functions: the cargo-fuzz targets call them, and the
//! workspace test `tests/tests/it/fuzz_corpus.rs` replays the committed corpora through them.
//!
//! Each function panics only when an invariant is broken (that is the finding); bad input
//! itself must come back as a typed error.

use std::marker::PhantomData;

use prime_core::http::{self, HeaderMap, StatusCode};
use prime_core::{Endpoint, KrakenError, ResponseError, Severity, parse_response};
use prime_mock::Simulator;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The status is taken from the first two bytes so the fuzzer reaches the non-2xx path too.
fn split_status(data: &[u8]) -> (StatusCode, &[u8]) {
    match data {
        [a, b, rest @ ..] => {
            let code = 100 + (u16::from_le_bytes([*a, *b]) % 500);
            (StatusCode::from_u16(code).unwrap_or(StatusCode::OK), rest)
        }
        _ => (StatusCode::OK, data),
    }
}

/// Any bytes through the envelope parser: never a panic, and every error keeps the body.
pub fn response_envelope(data: &[u8]) {
    let (status, body) = split_status(data);
    match parse_response::<serde_json::Value>(status, &HeaderMap::new(), body) {
        Ok(reply) => {
            assert!(status.is_success());
            assert!(
                reply
                    .warnings
                    .iter()
                    .all(|w| w.severity() == Severity::Warning)
            );
        }
        Err(error) => {
            assert_eq!(error.body().as_bytes(), body, "the raw body must be kept");
            if let ResponseError::Api { errors, .. } = &error {
                assert!(!errors.is_empty());
            }
            let _ = error.to_string();
        }
    }
}

fn typed<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    parse_response::<T>(StatusCode::OK, &HeaderMap::new(), body)
        .ok()
        .map(|reply| reply.result)
}

/// A successfully parsed value serializes and parses back to itself.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(body: &[u8]) {
    if let Some(value) = typed::<T>(body) {
        let again = serde_json::json!({ "error": [], "result": value }).to_string();
        let reparsed = typed::<T>(again.as_bytes()).expect("a serialized result parses again");
        assert_eq!(reparsed, value);
    }
}

/// One response type under test. Method resolution picks the round trip where the type can
/// be serialized, and falls back (through the extra `&`) to parsing alone where it cannot: the
/// created key, whose secret type has no `Serialize` on purpose.
struct ResponseCheck<T>(PhantomData<T>);

trait RoundTrips {
    fn run(&self, data: &[u8]);
}

impl<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug> RoundTrips
    for ResponseCheck<T>
{
    fn run(&self, data: &[u8]) {
        round_trip::<T>(data);
    }
}

trait Parses {
    fn run(&self, data: &[u8]);
}

impl<T: DeserializeOwned> Parses for &ResponseCheck<T> {
    fn run(&self, data: &[u8]) {
        let _ = typed::<T>(data);
    }
}

/// Every endpoint's response type, from the endpoint table.
macro_rules! check_every_response_type {
    (($data:ident) $($(#[$doc:meta])* $endpoint:path as $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $make:expr => |$result:ident| $output:expr;)*) => {
        $( (&ResponseCheck::<<$endpoint as Endpoint>::Response>(PhantomData)).run($data); )*
    };
}

/// Any bytes through every endpoint's response type.
pub fn response_types(data: &[u8]) {
    prime_core::for_each_endpoint!(check_every_response_type!(data));
}

/// Any text as a Kraken error string: the original is kept verbatim and the severity follows
/// the first letter.
pub fn kraken_error(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let error = KrakenError::parse(&text);
    assert_eq!(error.as_str(), text);
    assert_eq!(error.to_string(), text);
    let warning = text.starts_with('W');
    assert_eq!(error.severity() == Severity::Warning, warning);
}

/// The method names of the endpoint table.
macro_rules! method_names {
    (() $($(#[$doc:meta])* $endpoint:path as $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $make:expr => |$result:ident| $output:expr;)*) => {
        [$(<$endpoint as Endpoint>::NAME),*]
    };
}

/// Every method name, in the endpoint table's order, so the first input byte picks the path.
const METHODS: &[&str] = &prime_core::for_each_endpoint!(method_names!());

/// Any request through the simulator's verification and execution.
///
/// Input: one byte choosing the method (low nibble) and how to sign (high bit: correctly with
/// the account key, so the fuzzer gets past the signature; otherwise the bytes after the body
/// separator are sent as `API-Sign`), then the nonce digits the signature covers, a newline,
/// and the body. Invariants: no panic, every answer is a Kraken envelope, and a refused call
/// executes nothing.
pub fn mock_request(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let method = METHODS[usize::from(selector & 0x0f) % METHODS.len()];
    let (digits, rest) = rest
        .iter()
        .position(|&b| b == b'\n')
        .map_or((&rest[..0], rest), |i| (&rest[..i], &rest[i + 1..]));
    let (body, raw_sign) = rest
        .iter()
        .position(|&b| b == 0)
        .map_or((rest, &rest[..0]), |i| (&rest[..i], &rest[i + 1..]));
    let mut simulator = Simulator::new(1);
    let credentials = simulator.account_credentials();
    let path = format!("/0/private/{method}");
    let api_sign = if selector & 0x80 != 0 {
        credentials
            .signing_key()
            .sign(&path, digits, body)
            .to_string()
            .into_bytes()
    } else {
        raw_sign.to_vec()
    };
    let Ok(sign_header) = http::HeaderValue::from_bytes(&api_sign) else {
        return;
    };
    let request = http::Request::post(path)
        .header("API-Key", credentials.api_key().header_value().clone())
        .header("API-Sign", sign_header)
        .body(body.to_vec())
        .expect("a valid request");
    let executed_before: u64 = METHODS.iter().map(|m| simulator.executions(m)).sum();
    let response = simulator.handle(&request, [127, 0, 0, 1].into());
    let executed_after: u64 = METHODS.iter().map(|m| simulator.executions(m)).sum();
    let envelope: serde_json::Value =
        serde_json::from_slice(response.body()).expect("the simulator always answers JSON");
    let refused = envelope["error"].as_array().is_some_and(|e| !e.is_empty());
    if refused {
        assert_eq!(executed_before, executed_after, "a refused call executed");
    } else {
        assert_eq!(
            executed_before + 1,
            executed_after,
            "a success executed exactly once"
        );
        assert!(envelope.get("result").is_some());
    }
}
