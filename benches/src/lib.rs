//! Shared inputs of the criterion benches in `benches/` (see BENCHMARKS.md), kept in one place
//! so the benches and the callgrind profile (`examples/sign_profile.rs`) measure the same code:
//! the signing measurements, the spec's examples for all 13 endpoints, and the simulator set-up
//! of the transport benches.

use std::fmt::Debug;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use prime_core::endpoints::{CreateApiUserKey, ListSettlementBatches};
use prime_core::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use prime_core::{Credentials, Endpoint, NonceSource, RequestBuilder, encode_body};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256, Sha512};

mod floor;

pub use floor::{Floor, KEY, NONCE, SECRET, USER_ID};

/// The three signing measurements for one `CreatePrimeApiUserKey` request: `sign` (what the
/// library does), `floor` (what the protocol cannot avoid) and `naive` (what typical clients
/// do).
#[derive(Debug)]
pub struct SigningInputs {
    credentials: Credentials,
    body: Vec<u8>,
    digits: String,
    builder: RequestBuilder,
    endpoint: CreateApiUserKey,
    floor: Floor,
}

impl Default for SigningInputs {
    fn default() -> Self {
        Self::new()
    }
}

impl SigningInputs {
    /// Prepares credentials and the floor's padded blocks, and checks that the floor computes
    /// exactly the signature `sign` does.
    pub fn new() -> Self {
        let credentials = Credentials::new(KEY, SECRET).expect("valid credentials");
        let endpoint = CreateApiUserKey::new(USER_ID);
        let digits = NONCE.to_string();
        let body = encode_body(&endpoint, NONCE).expect("valid endpoint");
        let floor = Floor::new(&body);
        let mut inputs = Self {
            credentials,
            body,
            digits,
            builder: RequestBuilder::new(),
            endpoint,
            floor,
        };
        // The floor must compute what signing computes.
        let tag: Vec<u8> = inputs
            .floor()
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        let signed = inputs.sign();
        assert_eq!(signed.headers()["API-Sign"], STANDARD.encode(tag).as_str());
        assert_eq!(
            inputs.naive().headers()["API-Sign"],
            signed.headers()["API-Sign"]
        );
        inputs
    }

    /// `sign`: a complete signed `CreatePrimeApiUserKey` request with prepared `Credentials`
    /// (validation, body serialization, nonce digits, SHA-256, HMAC-SHA512, base64, headers,
    /// URI).
    pub fn sign(&self) -> Request<Vec<u8>> {
        self.builder
            .build(
                std::hint::black_box(&self.endpoint),
                &self.credentials,
                std::hint::black_box(NONCE),
            )
            .expect("valid request")
    }

    /// `bytes`: the same signed request as [`sign`](Self::sign), written as HTTP/1.1 bytes
    /// into `buf`, a buffer reused from call to call (`RequestBuilder::build_http1`).
    pub fn bytes(&self, buf: &mut Vec<u8>) {
        self.builder
            .build_http1(
                std::hint::black_box(&self.endpoint),
                &self.credentials,
                std::hint::black_box(NONCE),
                buf,
            )
            .expect("valid request");
    }

    /// `signature`: `SigningKey::sign` alone, given the body (no request around it).
    pub fn signature(&self) -> prime_core::ApiSign {
        self.credentials.signing_key().sign(
            CreateApiUserKey::PATH,
            std::hint::black_box(self.digits.as_bytes()),
            std::hint::black_box(&self.body),
        )
    }

    /// `floor`: only the compressions the protocol cannot avoid for the same input: the
    /// SHA-256 blocks of `nonce ++ body` and one SHA-512 block each for the HMAC inner and
    /// outer message, from the prepared key schedule. Returns the HMAC tag's state words.
    pub fn floor(&mut self) -> [u64; 8] {
        self.floor.run()
    }

    /// `naive`: what typical clients do on every call: decode the base64 secret, key the
    /// HMAC, build the body through a `serde_json::Value`, format strings, then build the same
    /// request.
    pub fn naive(&self) -> Request<Vec<u8>> {
        let secret = STANDARD
            .decode(std::hint::black_box(SECRET))
            .expect("base64");
        let nonce = std::hint::black_box(NONCE);
        let body = serde_json::json!({ "nonce": nonce, "user_id": USER_ID }).to_string();
        let digits = nonce.to_string();
        let mut sha = Sha256::new();
        sha.update(digits.as_bytes());
        sha.update(body.as_bytes());
        let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(&secret).expect("any length");
        mac.update(CreateApiUserKey::PATH.as_bytes());
        mac.update(&sha.finalize());
        let sign = STANDARD.encode(mac.finalize().into_bytes());
        Request::post(format!("https://api.kraken.com{}", CreateApiUserKey::PATH))
            .header("Content-Type", "application/json")
            .header("User-Agent", prime_core::DEFAULT_USER_AGENT)
            .header("API-Key", KEY)
            .header("API-Sign", sign)
            .body(body.into_bytes())
            .expect("valid request")
    }
}

/// One endpoint's documented request and response examples.
#[derive(Debug, Clone, Copy)]
pub struct SpecExample {
    /// The method name, e.g. `CreatePrimeApiUserKey`.
    pub name: &'static str,
    /// The spec's request example (with its `nonce` of 123), as JSON.
    pub request: &'static str,
    /// The spec's response example as a success: its `error` array replaced by `[]`.
    pub response: &'static str,
}

impl SpecExample {
    /// The example of endpoint `E`.
    ///
    /// # Panics
    /// If the spec has no example for `E` (every one of the 13 endpoints has one).
    pub fn of<E: Endpoint>() -> Self {
        *SPEC_EXAMPLES
            .iter()
            .find(|example| example.name == E::NAME)
            .unwrap_or_else(|| panic!("no spec example for {}", E::NAME))
    }

    /// The request example as the endpoint's request type, checked to encode back to exactly
    /// the documented body.
    ///
    /// # Panics
    /// If the example does not decode into `E` or does not encode back byte for byte.
    pub fn endpoint<E: Endpoint + DeserializeOwned>(&self) -> E {
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(self.request).expect("the request example is a JSON object");
        let nonce = fields
            .remove("nonce")
            .and_then(|nonce| nonce.as_u64())
            .expect("the request example has a nonce");
        let endpoint: E = serde_json::from_value(fields.into())
            .unwrap_or_else(|e| panic!("{}: request example: {e}", self.name));
        let body = encode_body(&endpoint, nonce).expect("the example's arguments are valid");
        assert_eq!(
            String::from_utf8_lossy(&body),
            self.request,
            "{}",
            self.name
        );
        endpoint
    }

    /// The response example parsed as endpoint `E`'s result, checked to succeed.
    ///
    /// # Panics
    /// If the success example does not parse.
    pub fn parsed_response<E: Endpoint>(&self) -> E::Response
    where
        E::Response: Debug,
    {
        prime_core::parse_response::<E::Response>(
            prime_core::http::StatusCode::OK,
            &prime_core::http::HeaderMap::new(),
            self.response.as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{}: response example: {e}", self.name))
        .result
    }
}

/// The request and response examples of all 13 endpoints, converted from
/// `docs/spec/prime-rest.openapi.yaml` to compact JSON with key order kept; only each response's
/// sample error (`EGeneral:Invalid arguments`) was replaced by `[]`, so it parses as a success.
pub const SPEC_EXAMPLES: [SpecExample; 13] = [
    SpecExample {
        name: "CreatePrimeApiUserKey",
        request: r#"{"nonce":123,"user_id":"2T0RXL9B8K5D6"}"#,
        response: r#"{"result":{"id":"3RM9K4ZTC0C00","api_key":"KRA5L19LAW8Z","api_secret":"6xq8p1mvk9r3n7swt2l5cj4eaydhzbf","user_id":"2T0RXL9B8K5D6","permissions":["read::marketdata"],"whitelisted_ips":["192.168.1.1"]},"error":[]}"#,
    },
    SpecExample {
        name: "ListPrimeApiUserKeys",
        request: r#"{"nonce":123,"user_id":"2T0RXL9B8K5D6"}"#,
        response: r#"{"result":{"data":[{"id":"3RM9K4ZTC0C00","key":"KRA5L19LAW8Z","user_id":"2T0RXL9B8K5D6","updated_at":123,"permissions":["read::marketdata"],"whitelisted_ips":[]}]},"error":[]}"#,
    },
    SpecExample {
        name: "UpdatePrimeApiUserKey",
        request: r#"{"nonce":123,"user_id":"2T0RXL9B8K5D6","key_id":"3RM9K4ZTC0C00","whitelisted_ips":["192.168.1.1","10.0.0.1"]}"#,
        response: r#"{"result":{"id":"3RM9K4ZTC0C00","api_key":"KRA5L19LAW8Z","user_id":"2T0RXL9B8K5D6","permissions":["read::marketdata"],"whitelisted_ips":["192.168.1.1"],"updated_at":123},"error":[]}"#,
    },
    SpecExample {
        name: "DeletePrimeApiUserKey",
        request: r#"{"nonce":123,"user_id":"2T0RXL9B8K5D6","key_id":"3RM9K4ZTC0C00"}"#,
        response: r#"{"result":{"deleted":true},"error":[]}"#,
    },
    SpecExample {
        name: "CreatePrimeApiUser",
        request: r#"{"nonce":123,"name":"Test User","role":"Trader"}"#,
        response: r#"{"result":{"id":"2T0RXL9B8K5D6","name":"Test User","status":"Enabled","roles":["Trader"]},"error":[]}"#,
    },
    SpecExample {
        name: "GetPrimeApiUser",
        request: r#"{"nonce":123,"user_id":"user_abc123"}"#,
        response: r#"{"result":{"data":{"id":"2T0RXL9B8K5D6","name":"Test User","status":"Enabled","roles":["Trader"]}},"error":[]}"#,
    },
    SpecExample {
        name: "ListPrimeApiUsers",
        request: r#"{"nonce":123}"#,
        response: r#"{"result":{"data":[{"id":"2T0RXL9B8K5D6","name":"Test User","status":"Enabled","roles":["Trader"]}]},"error":[]}"#,
    },
    SpecExample {
        name: "UpdatePrimeApiUser",
        request: r#"{"nonce":123,"user_id":"2T0RXL9B8K5D6","name":"Updated User Name","status":"Enabled"}"#,
        response: r#"{"result":{"id":"2T0RXL9B8K5D6","name":"Test User","status":"Enabled","roles":["Trader"]},"error":[]}"#,
    },
    SpecExample {
        name: "UpdatePrimeApiUserRoles",
        request: r#"{"nonce":123,"user_id":"2T0RXL9B8K5D6","role":"Trader"}"#,
        response: r#"{"result":{"id":"2T0RXL9B8K5D6","name":"Test User","status":"Enabled","roles":["Trader"]},"error":[]}"#,
    },
    SpecExample {
        name: "CreatePrimeSettlementBatch",
        request: r#"{"nonce":123,"asset_kind":"currency"}"#,
        response: r#"{"result":{"batch":{"id":"B_Y7T2LPVX","attributes":{"status":"unsettled","confirmed":false,"created_at":1700000000000,"trade_count":5,"asset_kind":"currency","updated_at":1700000100000},"legs":[{"status":"unsettled","asset":"BTC","amount":"1.5","can_settle":true,"settled_at":123,"latest_spot_transfer":{}}],"trade_ids":["3f435d6b-62fd-4f26-b1c5-68ef573d93ef","7f6a6d75-6470-4f65-8b24-9858f28ede83"]}},"error":[]}"#,
    },
    SpecExample {
        name: "GetPrimeSettlementBatch",
        request: r#"{"nonce":123,"batch_id":"B_Y7T2LPVX"}"#,
        response: r#"{"result":{"batch":{"id":"B_Y7T2LPVX","attributes":{"status":"unsettled","confirmed":false,"created_at":1700000000000,"trade_count":5,"updated_at":1700000100000},"legs":[{"status":"unsettled","asset":"BTC","amount":"1.5","can_settle":true,"settled_at":123,"latest_spot_transfer":{}}]}},"error":[]}"#,
    },
    SpecExample {
        name: "ListPrimeSettlementBatches",
        request: r#"{"nonce":123,"statuses":["unsettled","partially_settled"],"from":1700000000000,"until":1700100000000,"limit":20,"offset":0}"#,
        response: r#"{"result":{"data":[{"id":"B_Y7T2LPVX","attributes":{"status":"unsettled","confirmed":false,"created_at":1700000000000,"trade_count":5,"updated_at":1700000100000},"legs":[{"status":"unsettled","asset":"BTC","amount":"1.5","can_settle":true,"settled_at":123,"latest_spot_transfer":{}}]}],"pagination":{"has_more":true,"limit":123,"offset":123}},"error":[]}"#,
    },
    SpecExample {
        name: "SettlePrimeSettlementBatchAsset",
        request: r#"{"nonce":123,"batch_id":"B_Y7T2LPVX","asset":"BTC"}"#,
        response: r#"{"result":{"transfer":{"id":"100","attributes":{"transfer_status":"pending","transfer_amount":"1.5","transfer_asset":"BTC"},"relationships":{"leg":{"status":"unsettled","asset":"BTC","amount":"1.5","can_settle":true,"settled_at":123,"latest_spot_transfer":{}}}}},"error":[]}"#,
    },
];

/// A simulator holding one settlement batch, the endpoint the transport and simulator benches
/// call (`ListPrimeSettlementBatches`, answered with that batch), and the credentials of a
/// trader allowed to call it.
///
/// # Panics
/// If the simulator cannot start or refuses the set-up calls.
pub fn mock_with_batch() -> (prime_mock::MockServer, ListSettlementBatches, Credentials) {
    let server = prime_mock::MockServer::builder()
        .seed(7)
        .start()
        .expect("the simulator starts");
    let trader = trader_credentials(&server);
    let client = prime_blocking::Client::builder(trader.clone())
        .base_url(&server.url())
        .build()
        .expect("valid client settings");
    client
        .create_settlement_batch(Default::default())
        .expect("the seeded trades form a batch");
    (server, ListSettlementBatches::new(), trader)
}

/// Credentials of a new account key with every permission on `server` (each call mints
/// another key, so concurrent connections can each have their own nonce sequence).
///
/// # Panics
/// If the simulator refuses to mint the key.
pub fn trader_credentials(server: &prime_mock::MockServer) -> Credentials {
    server
        .mint_account_key(&prime_mock::AccountKeySpec::new(
            prime_mock::Permission::ALL,
        ))
        .and_then(|key| key.credentials())
        .expect("the simulator mints valid keys")
}

/// `count` requests for `endpoint`, signed in advance with increasing nonces from `nonces`,
/// as the raw-HTTP baselines send them.
///
/// # Panics
/// If the endpoint's arguments are invalid.
pub fn presigned<E: Endpoint>(
    builder: &RequestBuilder,
    endpoint: &E,
    credentials: &Credentials,
    nonces: &dyn NonceSource,
    count: u64,
) -> Vec<Request<Vec<u8>>> {
    (0..count)
        .map(|_| {
            builder
                .build(endpoint, credentials, nonces.next_nonce())
                .expect("valid request")
        })
        .collect()
}

/// Criterion settings for benches that make a loopback round trip (tens of microseconds
/// each): longer warm-up and measurement, so a ratio between two of them has enough samples.
pub fn round_trip_config() -> criterion::Criterion {
    criterion::Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(2))
        .measurement_time(std::time::Duration::from_secs(10))
}

/// One exchange as a minimal hand-written HTTP/1.1 client does it: connect, write `request`,
/// read the head (parsed with `httparse` into a header map) and then the body by its
/// `Content-Length`. `received` is reused; the body is `received[body_start..]`. The hand-written side of
/// the example transport's measurements (`benches/transports.rs`, `examples/transport_profile.rs`).
pub fn raw_tcp(
    address: SocketAddr,
    request: &[u8],
    received: &mut Vec<u8>,
) -> (StatusCode, HeaderMap, usize) {
    let mut stream = TcpStream::connect(address).expect("the simulator accepts");
    stream.write_all(request).expect("the request is written");
    received.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let read = stream.read(&mut chunk).expect("the simulator answers");
        assert!(read > 0, "the simulator closed early");
        received.extend_from_slice(&chunk[..read]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut head = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head_len) = head.parse(received).expect("HTTP/1.1") {
            let status = StatusCode::from_u16(head.code.unwrap_or(0)).expect("a status");
            let mut map = HeaderMap::with_capacity(head.headers.len());
            for header in head.headers.iter() {
                map.append(
                    HeaderName::from_bytes(header.name.as_bytes()).expect("a header name"),
                    HeaderValue::from_bytes(header.value).expect("a header value"),
                );
            }
            let length: usize = map["content-length"]
                .to_str()
                .ok()
                .and_then(|v| v.parse().ok())
                .expect("a Content-Length");
            while received.len() < head_len + length {
                let read = stream.read(&mut chunk).expect("the body arrives");
                assert!(read > 0, "the simulator closed early");
                received.extend_from_slice(&chunk[..read]);
            }
            return (status, map, head_len);
        }
    }
}
