//! The signature diagnosis names the mistake a signature was made with. Every wrong signature
//! here is made independently of prime-core's signer, with the `hmac`/`sha2` crates, the way a
//! client making that mistake computes it.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use prime_core::diagnosis::{Diagnoser, Mistake, RestInputs};
use prime_test_support::reference::{hex, hmac_sha512, sha256};

/// Kraken's published example secret.
const SECRET: &str = prime_core::example::SECRET;

/// The calls the mistakes are made on: a JSON body with a query string in the path (Kraken's
/// custody example), a JSON body with nested values, and a form body.
const CALLS: [(&str, &str, &str); 3] = [
    (
        "/0/private/GetCustodyTask?id=TGWOJ4JQPOTZT2",
        "1616492376594",
        r#"{"nonce":1616492376594}"#,
    ),
    (
        "/0/private/ListPrimeSettlementBatches?x=1",
        "1795000000123456789",
        r#"{"nonce":1795000000123456789,"statuses":["unsettled","settled"],"limit":20}"#,
    ),
    (
        "/0/private/AddOrder?a=b",
        "1616492376594",
        "nonce=1616492376594&ordertype=limit&pair=XBTUSD",
    ),
];

/// The HMAC-SHA512 tag of `path || inner`.
fn tag(key: &[u8], path: &[u8], inner: &[u8]) -> Vec<u8> {
    hmac_sha512(key, &[path, inner])
}

/// Python's `json.dumps(dict)` of a flat or nested JSON object: `", "` and `": "`.
fn python_dumps(json: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        match (in_string, c) {
            (true, _) => {
                out.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            }
            (false, '"') => {
                in_string = true;
                out.push(c);
            }
            (false, ',') => out.push_str(", "),
            (false, ':') => out.push_str(": "),
            (false, c) => out.push(c),
        }
    }
    out
}

/// The signature a client makes with `mistake` on `(path, nonce, body)`, or `None` where the
/// mistake cannot apply (a form body is never re-serialized as JSON).
fn made_with(mistake: Mistake, path: &str, nonce: &str, body: &str) -> Option<String> {
    let secret = STANDARD.decode(SECRET).expect("base64");
    let (p, n, b) = (path.as_bytes(), nonce.as_bytes(), body.as_bytes());
    let right = || tag(&secret, p, &sha256(&[n, b]));
    Some(match mistake {
        Mistake::SecretNotDecoded => STANDARD.encode(tag(SECRET.as_bytes(), p, &sha256(&[n, b]))),
        Mistake::HexDigest => hex(&right()),
        Mistake::UrlSafeBase64 => URL_SAFE.encode(right()),
        Mistake::PathWithout0 => STANDARD.encode(tag(&secret, &p[2..], &sha256(&[n, b]))),
        Mistake::FullUrlSigned => {
            let url = format!("https://api.kraken.com{path}");
            STANDARD.encode(tag(&secret, url.as_bytes(), &sha256(&[n, b])))
        }
        Mistake::QueryStringDropped => {
            let bare = path.split('?').next().expect("a path");
            STANDARD.encode(tag(&secret, bare.as_bytes(), &sha256(&[n, b])))
        }
        Mistake::NonceNotPrefixed => STANDARD.encode(tag(&secret, p, &sha256(&[b]))),
        Mistake::InnerHex => STANDARD.encode(tag(&secret, p, hex(&sha256(&[n, b])).as_bytes())),
        Mistake::BodyReserialized => {
            if !body.starts_with('{') {
                return None;
            }
            let python = python_dumps(body);
            STANDARD.encode(tag(&secret, p, &sha256(&[n, python.as_bytes()])))
        }
        _ => return None,
    })
}

#[test]
fn each_mistake_is_named_and_only_it() {
    let diagnoser = Diagnoser::from_base64_secret(SECRET).expect("valid secret");
    let mut checked = 0;
    for (path, nonce, body) in CALLS {
        let inputs = RestInputs::new(path, nonce, body.as_bytes());
        let right = diagnoser
            .key()
            .sign(path, nonce.as_bytes(), body.as_bytes());
        assert!(diagnoser.diagnose(&inputs, right.as_str()).is_empty());
        for mistake in Mistake::ALL {
            let Some(wrong) = made_with(mistake, path, nonce, body) else {
                continue;
            };
            if wrong == right.as_str() {
                // URL-safe base64 of a tag without + or / is the right signature.
                continue;
            }
            assert_eq!(
                diagnoser.diagnose(&inputs, &wrong),
                [mistake],
                "{} on {path}",
                mistake.id()
            );
            checked += 1;
        }
    }
    assert!(checked >= 24, "only {checked} cases");
}

#[test]
fn reordered_json_keys_are_a_reserialized_body() {
    let diagnoser = Diagnoser::from_base64_secret(SECRET).expect("valid secret");
    let secret = STANDARD.decode(SECRET).expect("base64");
    let sent = r#"{"nonce":7,"user_id":"U1","name":"x"}"#;
    for signed in [
        r#"{"user_id":"U1","name":"x","nonce":7}"#,
        r#"{"name": "x", "nonce": 7, "user_id": "U1"}"#,
    ] {
        let wrong = STANDARD.encode(tag(
            &secret,
            b"/0/private/CreatePrimeApiUser",
            &sha256(&[b"7", signed.as_bytes()]),
        ));
        let inputs = RestInputs::new("/0/private/CreatePrimeApiUser", "7", sent.as_bytes());
        assert_eq!(
            diagnoser.diagnose(&inputs, &wrong),
            [Mistake::BodyReserialized]
        );
    }
}

#[test]
fn unrelated_signatures_and_garbage_are_unknown() {
    let diagnoser = Diagnoser::from_base64_secret(SECRET).expect("valid secret");
    let inputs = RestInputs::new(CALLS[0].0, CALLS[0].1, CALLS[0].2.as_bytes());
    let other = Diagnoser::from_base64_secret("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
        .expect("valid secret");
    let foreign = other
        .key()
        .sign(CALLS[0].0, CALLS[0].1.as_bytes(), CALLS[0].2.as_bytes());
    for refused in [
        foreign.as_str(),
        "",
        "not base64 at all",
        "====",
        "\u{0}\u{7f}é",
    ] {
        assert!(
            diagnoser.diagnose(&inputs, refused).is_empty(),
            "{refused:?}"
        );
    }
}

#[test]
fn ids_round_trip_and_explanations_never_hold_the_secret() {
    for mistake in Mistake::ALL {
        assert_eq!(Mistake::from_id(mistake.id()), Some(mistake));
        assert!(!mistake.to_string().contains(SECRET));
    }
    let diagnoser = Diagnoser::from_base64_secret(SECRET).expect("valid secret");
    assert!(!format!("{diagnoser:?}").contains("kQH5"));
}
