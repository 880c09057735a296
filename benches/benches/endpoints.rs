//! Per-endpoint building and parsing, for all 13 endpoints, with the spec's own examples:
//!
//! - `build/<Method>`: `RequestBuilder::build` of the spec's request example (validation,
//!   body, signature, headers, URI) with prepared credentials.
//! - `parse/<Method>`: `parse_response` of the spec's response example with `"error": []`
//!   into the endpoint's typed result.

use std::fmt::Debug;
use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use prime_benches::{KEY, NONCE, SECRET, SpecExample};
use prime_core::http::header::CONTENT_TYPE;
use prime_core::http::{HeaderMap, HeaderValue, StatusCode};
use prime_core::{Credentials, Endpoint, RequestBuilder, parse_response};
use serde::de::DeserializeOwned;

/// Something done once per endpoint type.
trait PerEndpoint {
    fn run<E: Endpoint + DeserializeOwned>(&mut self)
    where
        E::Response: Debug;
}

/// Calls `task.run` for every endpoint of the endpoint table.
macro_rules! run_each {
    (($task:ident) $($(#[$doc:meta])* $endpoint:path as $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $make:expr => |$result:ident| $output:expr;)*) => {
        $( $task.run::<$endpoint>(); )*
    };
}

/// Runs `task` for all 13 endpoints, in the endpoint table's order.
fn for_each_endpoint(task: &mut impl PerEndpoint) {
    prime_core::for_each_endpoint!(run_each!(task));
}

struct BuildBench<'a> {
    group: BenchmarkGroup<'a, WallTime>,
    credentials: Credentials,
    builder: RequestBuilder,
}

impl PerEndpoint for BuildBench<'_> {
    fn run<E: Endpoint + DeserializeOwned>(&mut self) {
        let endpoint: E = SpecExample::of::<E>().endpoint();
        let (builder, credentials) = (&self.builder, &self.credentials);
        self.group.bench_function(E::NAME, |b| {
            b.iter(|| {
                builder
                    .build(black_box(&endpoint), credentials, black_box(NONCE))
                    .expect("valid request")
            });
        });
    }
}

struct ParseBench<'a> {
    group: BenchmarkGroup<'a, WallTime>,
    headers: HeaderMap,
}

impl PerEndpoint for ParseBench<'_> {
    fn run<E: Endpoint + DeserializeOwned>(&mut self)
    where
        E::Response: Debug,
    {
        let example = SpecExample::of::<E>();
        example.parsed_response::<E>();
        let headers = &self.headers;
        self.group.bench_function(E::NAME, |b| {
            b.iter(|| {
                parse_response::<E::Response>(
                    StatusCode::OK,
                    headers,
                    black_box(example.response.as_bytes()),
                )
                .expect("the example parses")
            });
        });
    }
}

fn build(c: &mut Criterion) {
    let mut bench = BuildBench {
        group: c.benchmark_group("build"),
        credentials: Credentials::new(KEY, SECRET).expect("valid credentials"),
        builder: RequestBuilder::new(),
    };
    for_each_endpoint(&mut bench);
    bench.group.finish();
}

fn parse(c: &mut Criterion) {
    // What a real response carries; `parse_response` reads headers only for errors.
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut bench = ParseBench {
        group: c.benchmark_group("parse"),
        headers,
    };
    for_each_endpoint(&mut bench);
    bench.group.finish();
}

criterion_group!(benches, build, parse);
criterion_main!(benches);
