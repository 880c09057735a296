//! prime-mock answers the requests three widely used Kraken clients send, byte for byte, over
//! real HTTP: python-kraken-sdk 3.5.1 (JSON and form modes), krakenex 2.2.2 and ccxt 4.5.90.
//! Each builds its body and signs it its own way (read from their signing code, quoted below);
//! these tests rebuild exactly those bytes and headers and create a user, list users, create a
//! key and list keys with the account key. `tests/python/real_clients.py` runs the stock
//! libraries themselves against `prime mock` (not in CI: it needs PyPI).
//!
//! - python-kraken-sdk `SpotClient.request(method, uri, params, do_json=…)`
//!   (`kraken/base_api/__init__.py`): `params["nonce"] = str(int(time.time() * 100_000_000))`
//!   is added last; JSON mode signs `json.dumps(params)` (separators `", "`/`": "`, the nonce a
//!   string) and sends it with `Content-Type: application/json; charset=utf-8`; form mode signs
//!   and sends `urlencode(params, doseq=True)` with
//!   `Content-Type: application/x-www-form-urlencoded; charset=utf-8`.
//! - krakenex `API.query_private(method, data)` (`krakenex/api.py`): `data['nonce'] =
//!   int(1000*time.time())` added last, signs `urllib.parse.urlencode(data)`; `requests` sends
//!   it with `Content-Type: application/x-www-form-urlencoded`.
//! - ccxt `kraken.sign()` (`ccxt/kraken.py`): `nonce = str(incrementing_nonce())` (milliseconds)
//!   goes first, `urlencode_nested({'nonce': nonce, **params})`, with
//!   `Content-Type: application/x-www-form-urlencoded`.
//!
//! All of them: `API-Sign = base64(HMAC-SHA512(b64decode(secret), path +
//! SHA256(str(nonce) + body)))`, the same scheme the core implements.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use prime_core::SigningKey;
use prime_mock::{AccountKeySpec, MockServer, Permission};
use serde_json::Value;

/// How a client lays out the body: its fields (already in the client's order), the nonce.
#[derive(Clone, Copy)]
enum Client {
    /// python-kraken-sdk, `do_json=True`.
    KrakenSdkJson,
    /// python-kraken-sdk, `do_json=False` (its default).
    KrakenSdkForm,
    Krakenex,
    Ccxt,
}

impl Client {
    /// In rising nonce order (milliseconds, then python-kraken-sdk's 10^-8 s), since the
    /// tests share one account key across clients.
    const ALL: [Client; 4] = [
        Client::Krakenex,
        Client::Ccxt,
        Client::KrakenSdkForm,
        Client::KrakenSdkJson,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::KrakenSdkJson => "python-kraken-sdk (JSON)",
            Self::KrakenSdkForm => "python-kraken-sdk (form)",
            Self::Krakenex => "krakenex",
            Self::Ccxt => "ccxt",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::KrakenSdkJson => "application/json; charset=utf-8",
            Self::KrakenSdkForm => "application/x-www-form-urlencoded; charset=utf-8",
            Self::Krakenex | Self::Ccxt => "application/x-www-form-urlencoded",
        }
    }

    /// The nonce in the client's unit, made strictly increasing by `sequence`.
    fn nonce(self, sequence: u64) -> String {
        let base = match self {
            // str(int(time.time() * 100_000_000))
            Self::KrakenSdkJson | Self::KrakenSdkForm => 179_588_000_062_567_744,
            // int(1000*time.time()) / milliseconds
            Self::Krakenex | Self::Ccxt => 1_795_880_000_625,
        };
        (base + sequence).to_string()
    }

    /// The exact body for `fields` (name, value; flat strings, as the Prime user and key
    /// endpoints need) and `nonce`.
    fn body(self, fields: &[(&str, &str)], nonce: &str) -> String {
        match self {
            Self::KrakenSdkJson => {
                // json.dumps(params): insertion order, nonce last, ", " and ": " separators,
                // ASCII only.
                let mut members: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{}: {}", json_str(name), json_str(value)))
                    .collect();
                members.push(format!("\"nonce\": \"{nonce}\""));
                format!("{{{}}}", members.join(", "))
            }
            Self::KrakenSdkForm | Self::Krakenex => {
                let mut pairs: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{}={}", urlencode(name), urlencode(value)))
                    .collect();
                pairs.push(format!("nonce={nonce}"));
                pairs.join("&")
            }
            Self::Ccxt => {
                let mut pairs = vec![format!("nonce={nonce}")];
                pairs.extend(
                    fields
                        .iter()
                        .map(|(name, value)| format!("{}={}", urlencode(name), urlencode(value))),
                );
                pairs.join("&")
            }
        }
    }
}

/// Python's `json.dumps` of a string (`ensure_ascii=True`).
fn json_str(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// Python's `urllib.parse.quote_plus` (what `urlencode` applies to keys and values).
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// One POST over a fresh connection, as `requests` sends it; returns the JSON answer.
fn post(server: &MockServer, path: &str, headers: &[(&str, &str)], body: &str) -> Value {
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: python-requests/2.32.3\r\n\
         Accept-Encoding: identity\r\nAccept: */*\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.addr(),
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    let answer = String::from_utf8(answer).expect("UTF-8");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_str(body).expect("a JSON body")
}

/// Calls `method` with `fields` as `client` would, signed with `key`.
fn call(
    server: &MockServer,
    client: Client,
    (api_key, signing_key): (&str, &SigningKey),
    sequence: &mut u64,
    method: &str,
    fields: &[(&str, &str)],
) -> Value {
    *sequence += 1;
    let nonce = client.nonce(*sequence);
    let body = client.body(fields, &nonce);
    let path = format!("/0/private/{method}");
    let sign = signing_key.sign(&path, nonce.as_bytes(), body.as_bytes());
    post(
        server,
        &path,
        &[
            ("Content-Type", client.content_type()),
            ("API-Key", api_key),
            ("API-Sign", sign.as_str()),
        ],
        &body,
    )
}

fn result(answer: Value, what: &str) -> Value {
    assert_eq!(answer["error"], serde_json::json!([]), "{what}: {answer}");
    answer["result"].clone()
}

#[test]
fn each_client_creates_and_lists_users_and_keys_with_the_account_key() {
    let server = MockServer::start().expect("the simulator starts");
    let account = server.account_credentials();
    let key = (server.account_api_key(), account.signing_key());
    // One account key for all four clients, so each client's nonces must rise above the
    // last: the finest-resolution ones go last.
    let mut sequence = 0;
    for client in Client::ALL {
        let name = client.name();
        let user_name = format!("Desk {name}");
        let user = result(
            call(
                &server,
                client,
                key,
                &mut sequence,
                "CreatePrimeApiUser",
                &[("name", &user_name), ("role", "Trader")],
            ),
            name,
        );
        let user_id = user["id"].as_str().expect("an id").to_owned();
        assert_eq!(user["name"], user_name.as_str(), "{name}");
        let users = result(
            call(
                &server,
                client,
                key,
                &mut sequence,
                "ListPrimeApiUsers",
                &[],
            ),
            name,
        );
        assert!(
            users["data"]
                .as_array()
                .expect("a list")
                .iter()
                .any(|u| u["id"] == user_id.as_str()),
            "{name}"
        );
        let created = result(
            call(
                &server,
                client,
                key,
                &mut sequence,
                "CreatePrimeApiUserKey",
                &[("user_id", &user_id)],
            ),
            name,
        );
        let secret = created["api_secret"].as_str().expect("a secret");
        assert!(!secret.is_empty(), "{name}");
        let keys = result(
            call(
                &server,
                client,
                key,
                &mut sequence,
                "ListPrimeApiUserKeys",
                &[("user_id", &user_id)],
            ),
            name,
        );
        assert_eq!(keys["data"][0]["key"], created["api_key"], "{name}");
    }
    for method in [
        "CreatePrimeApiUser",
        "ListPrimeApiUsers",
        "CreatePrimeApiUserKey",
        "ListPrimeApiUserKeys",
    ] {
        assert_eq!(server.executions(method), 4, "{method}");
    }
}

#[test]
fn their_settlement_calls_follow_the_documented_permissions() {
    let server = MockServer::start().expect("the simulator starts");
    let minted = server
        .mint_account_key(&AccountKeySpec::new([Permission::QueryOpenOrdersAndTrades]))
        .expect("a query-only key");
    let signing_key = SigningKey::from_base64(minted.api_secret().expose()).expect("base64");
    let key = (minted.api_key.as_str(), &signing_key);
    let mut sequence = 0;
    for client in Client::ALL {
        let name = client.name();
        let listed = call(
            &server,
            client,
            key,
            &mut sequence,
            "ListPrimeSettlementBatches",
            // Flat text fields only: a form cannot carry a JSON number or list.
            &[("asset_kind", "currency")],
        );
        assert_eq!(listed["error"], serde_json::json!([]), "{name}: {listed}");
        let refused = call(
            &server,
            client,
            key,
            &mut sequence,
            "CreatePrimeSettlementBatch",
            &[],
        );
        assert_eq!(
            refused["error"],
            serde_json::json!(["EGeneral:Permission denied"]),
            "{name}"
        );
    }
    assert_eq!(server.executions("CreatePrimeSettlementBatch"), 0);
}

#[test]
fn their_bodies_with_a_wrong_signature_are_reported_as_signature_errors() {
    // A signing bug must read as one, whatever the body's format.
    let server = MockServer::start().expect("the simulator starts");
    let wrong = SigningKey::from_bytes(&[7; 64]);
    let key = (server.account_api_key(), &wrong);
    let mut sequence = 0;
    for client in Client::ALL {
        let answer = call(
            &server,
            client,
            key,
            &mut sequence,
            "CreatePrimeApiUser",
            &[("name", "Desk"), ("role", "Trader"), ("unknown", "x")],
        );
        assert_eq!(
            answer["error"],
            serde_json::json!(["EAPI:Invalid signature"]),
            "{}",
            client.name()
        );
    }
}

#[test]
fn python_kraken_sdk_sends_the_otp_of_a_key_with_2fa_as_a_field() {
    // `params={"otp": "…"}` with the user's other params; the SDK appends the nonce.
    let server = MockServer::start().expect("the simulator starts");
    let minted = server
        .mint_account_key(&AccountKeySpec::new(Permission::ALL).otp("481516"))
        .expect("a 2FA key");
    let signing_key = SigningKey::from_base64(minted.api_secret().expose()).expect("base64");
    let key = (minted.api_key.as_str(), &signing_key);
    let mut sequence = 0;
    for client in [Client::KrakenSdkJson, Client::KrakenSdkForm] {
        let answer = call(
            &server,
            client,
            key,
            &mut sequence,
            "ListPrimeApiUsers",
            &[("otp", "481516")],
        );
        assert_eq!(answer["error"], serde_json::json!([]), "{}", client.name());
        let without = call(
            &server,
            client,
            key,
            &mut sequence,
            "ListPrimeApiUsers",
            &[],
        );
        assert_eq!(
            without["error"],
            serde_json::json!(["EAPI:Invalid signature"]),
            "{}",
            client.name()
        );
    }
}

#[test]
fn the_body_layouts_match_the_python_libraries() {
    // Pinned from the libraries themselves (python3, json/urllib):
    //   json.dumps({"name": "Desk 1/é", "role": "Trader", "nonce": "5"})
    //   urllib.parse.urlencode({"name": "Desk 1/é", "role": "Trader", "nonce": "5"})
    let fields = [("name", "Desk 1/\u{e9}"), ("role", "Trader")];
    assert_eq!(
        Client::KrakenSdkJson.body(&fields, "5"),
        r#"{"name": "Desk 1/\u00e9", "role": "Trader", "nonce": "5"}"#
    );
    assert_eq!(
        Client::Krakenex.body(&fields, "5"),
        "name=Desk+1%2F%C3%A9&role=Trader&nonce=5"
    );
    assert_eq!(
        Client::Ccxt.body(&fields, "5"),
        "nonce=5&name=Desk+1%2F%C3%A9&role=Trader"
    );
}
