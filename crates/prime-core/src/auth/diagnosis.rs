//! Why was a signature refused? Given what a client meant to sign and the `API-Sign` it sent,
//! find which known client mistake reproduces that exact signature.
//!
//! `EAPI:Invalid signature` is all Kraken answers; the same few mistakes explain most of them
//! (the secret used as text, hex instead of base64, the path without `/0`, a re-serialized
//! JSON body, …). Each [`Mistake`] is recomputed from the inputs with the mistake made; the
//! ones whose result equals the refused signature are the diagnosis. Pure: no IO, no clock,
//! and nothing here prints a secret (only mistake ids and fixed explanations come out).
//!
//! ```
//! use prime_core::diagnosis::{Diagnoser, Mistake, RestInputs};
//!
//! let diagnoser = Diagnoser::from_base64_secret(prime_core::example::SECRET)?;
//! let inputs = RestInputs::new("/0/private/Balance", "1616492376594", b"nonce=1616492376594");
//! // A client that signed "/private/Balance".
//! let refused = diagnoser.key().sign("/private/Balance", b"1616492376594", b"nonce=1616492376594");
//! assert_eq!(diagnoser.diagnose(&inputs, refused.as_str()), [Mistake::PathWithout0]);
//! # Ok::<(), prime_core::CredentialsError>(())
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::credentials::{CredentialsError, SigningKey};

/// The host Kraken's REST API is served from, for [`Mistake::FullUrlSigned`].
pub const KRAKEN_REST_ORIGIN: &str = "https://api.kraken.com";

/// A known way of computing `API-Sign` wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mistake {
    /// The HMAC was keyed with the base64 text of the secret instead of its decoded bytes.
    SecretNotDecoded,
    /// The HMAC output was hex-encoded instead of base64.
    HexDigest,
    /// The HMAC output was URL-safe base64 (`-`/`_`) instead of standard base64 (`+`/`/`).
    UrlSafeBase64,
    /// The signed path lacks the `/0` prefix (`/private/...`).
    PathWithout0,
    /// The full URL (`https://host/0/private/...`) was signed instead of the path.
    FullUrlSigned,
    /// The path's query string was left out of the signed message.
    QueryStringDropped,
    /// The SHA-256 was taken over the body alone, without the nonce in front.
    NonceNotPrefixed,
    /// The SHA-256 digest was hex-encoded before it went into the HMAC.
    InnerHex,
    /// The body signed differs from the body sent only in JSON whitespace or key order.
    BodyReserialized,
}

impl Mistake {
    /// Every mistake the diagnosis tries, in the order it reports them.
    pub const ALL: [Mistake; 9] = [
        Mistake::SecretNotDecoded,
        Mistake::HexDigest,
        Mistake::UrlSafeBase64,
        Mistake::PathWithout0,
        Mistake::FullUrlSigned,
        Mistake::QueryStringDropped,
        Mistake::NonceNotPrefixed,
        Mistake::InnerHex,
        Mistake::BodyReserialized,
    ];

    /// The stable id, e.g. `secret-not-decoded`.
    pub fn id(self) -> &'static str {
        match self {
            Mistake::SecretNotDecoded => "secret-not-decoded",
            Mistake::HexDigest => "hex-digest",
            Mistake::UrlSafeBase64 => "url-safe-base64",
            Mistake::PathWithout0 => "path-without-0",
            Mistake::FullUrlSigned => "full-url-signed",
            Mistake::QueryStringDropped => "query-string-dropped",
            Mistake::NonceNotPrefixed => "nonce-not-prefixed",
            Mistake::InnerHex => "inner-hex",
            Mistake::BodyReserialized => "body-reserialized",
        }
    }

    /// One sentence: what the client did and what to do instead.
    pub fn explanation(self) -> &'static str {
        match self {
            Mistake::SecretNotDecoded => {
                "the HMAC was keyed with the secret's base64 text; base64-decode the secret and key HMAC-SHA512 with the bytes"
            }
            Mistake::HexDigest => {
                "the HMAC-SHA512 output was hex-encoded; API-Sign is its standard base64"
            }
            Mistake::UrlSafeBase64 => {
                "the HMAC-SHA512 output was URL-safe base64 (- and _); use standard base64 (+ and /) with padding"
            }
            Mistake::PathWithout0 => {
                "the signed path lacks the /0 prefix; sign the URI path as sent, e.g. /0/private/Balance"
            }
            Mistake::FullUrlSigned => {
                "the full URL was signed; sign only the URI path (from /0/private/...)"
            }
            Mistake::QueryStringDropped => {
                "the query string was left out; sign the path with its ?query exactly as sent"
            }
            Mistake::NonceNotPrefixed => {
                "the SHA-256 covered the body alone; hash the nonce's digits followed by the body"
            }
            Mistake::InnerHex => {
                "the SHA-256 digest was hex-encoded before the HMAC; append its 32 raw bytes to the path"
            }
            Mistake::BodyReserialized => {
                "the body signed differs from the body sent in JSON whitespace or key order (e.g. Python's json.dumps defaults); sign the exact bytes you send"
            }
        }
    }

    /// The mistake with this id.
    pub fn from_id(id: &str) -> Option<Mistake> {
        Mistake::ALL.into_iter().find(|m| m.id() == id)
    }
}

impl fmt::Display for Mistake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.id(), self.explanation())
    }
}

/// What a client meant to sign for one REST call.
#[derive(Debug, Clone, Copy)]
pub struct RestInputs<'a> {
    path: &'a str,
    nonce: &'a str,
    body: &'a [u8],
    origins: &'a [&'a str],
}

impl<'a> RestInputs<'a> {
    /// The URI path as sent (with any `?query`), the nonce's text as sent and the exact body.
    pub fn new(path: &'a str, nonce: &'a str, body: &'a [u8]) -> Self {
        Self {
            path,
            nonce,
            body,
            origins: &[KRAKEN_REST_ORIGIN],
        }
    }

    /// The origins (`scheme://host[:port]`) a client may have put in front of the path for
    /// [`Mistake::FullUrlSigned`]; Kraken's by default. The simulator passes its own too.
    pub fn with_origins(mut self, origins: &'a [&'a str]) -> Self {
        self.origins = origins;
        self
    }
}

/// The prepared keys the diagnosis recomputes with: the real one, and the one a client gets
/// by keying HMAC with the secret's base64 text. Holds no secret text; `Debug` is redacted.
#[derive(Clone)]
pub struct Diagnoser {
    key: SigningKey,
    text_key: Option<SigningKey>,
}

impl fmt::Debug for Diagnoser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Diagnoser(<redacted>)")
    }
}

impl Diagnoser {
    /// Prepares both keys from a base64 secret (as [`SigningKey::from_base64`] reads it).
    ///
    /// # Errors
    /// [`CredentialsError`] if the secret is not usable base64.
    pub fn from_base64_secret(secret: &str) -> Result<Self, CredentialsError> {
        Ok(Self {
            key: SigningKey::from_base64(secret)?,
            text_key: Some(SigningKey::from_bytes(secret.trim().as_bytes())),
        })
    }

    /// From prepared keys: `key` the real one, `text_key` the HMAC key of the secret's base64
    /// text (if known; without it [`Mistake::SecretNotDecoded`] is never found).
    pub fn new(key: SigningKey, text_key: Option<SigningKey>) -> Self {
        Self { key, text_key }
    }

    /// The real signing key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// Every [`Mistake`] whose result is exactly `refused` (surrounding whitespace ignored), in
    /// [`Mistake::ALL`] order; empty when none reproduces it (or `refused` is correct).
    pub fn diagnose(&self, inputs: &RestInputs<'_>, refused: &str) -> Vec<Mistake> {
        let refused = refused.trim();
        let nonce = inputs.nonce.as_bytes();
        let correct = self.key.tag(inputs.path.as_bytes(), nonce, inputs.body);
        if STANDARD.encode(correct) == refused {
            return Vec::new();
        }
        let b64 = |tag: [u8; 64]| STANDARD.encode(tag) == refused;
        let signed =
            |path: &str, nonce: &[u8], body: &[u8]| b64(self.key.tag(path.as_bytes(), nonce, body));
        Mistake::ALL
            .into_iter()
            .filter(|mistake| match mistake {
                Mistake::SecretNotDecoded => self
                    .text_key
                    .as_ref()
                    .is_some_and(|k| b64(k.tag(inputs.path.as_bytes(), nonce, inputs.body))),
                Mistake::HexDigest => refused.eq_ignore_ascii_case(&hex(&correct)),
                Mistake::UrlSafeBase64 => {
                    URL_SAFE.encode(correct) == refused
                        || URL_SAFE_NO_PAD.encode(correct) == refused
                }
                Mistake::PathWithout0 => inputs
                    .path
                    .strip_prefix("/0/")
                    .is_some_and(|rest| signed(&format!("/{rest}"), nonce, inputs.body)),
                Mistake::FullUrlSigned => inputs.origins.iter().any(|origin| {
                    signed(
                        &format!("{}{}", origin.trim_end_matches('/'), inputs.path),
                        nonce,
                        inputs.body,
                    )
                }),
                Mistake::QueryStringDropped => inputs
                    .path
                    .split_once('?')
                    .is_some_and(|(path, _)| signed(path, nonce, inputs.body)),
                Mistake::NonceNotPrefixed => signed(inputs.path, b"", inputs.body),
                Mistake::InnerHex => {
                    let digest = Sha256::new()
                        .chain_update(nonce)
                        .chain_update(inputs.body)
                        .finalize();
                    b64(self
                        .key
                        .mac(inputs.path.as_bytes(), hex(&digest).as_bytes()))
                }
                Mistake::BodyReserialized => reserialized(inputs.body)
                    .iter()
                    .any(|body| signed(inputs.path, nonce, body.as_bytes())),
            })
            .collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    text
}

/// The same JSON object written the other ways clients write it: compact or with Python's
/// default separators (`", "`, `": "`), members in the given order, sorted, reversed, or with
/// `nonce` moved first or last. Empty for a body that is not a JSON object.
fn reserialized(body: &[u8]) -> Vec<String> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Vec::new();
    };
    let Ok(Members(members)) = serde_json::from_str::<Members>(text) else {
        return Vec::new();
    };
    let mut orders: Vec<Vec<&(String, Box<RawValue>)>> = vec![members.iter().collect()];
    let mut sorted: Vec<_> = members.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    orders.push(sorted);
    orders.push(members.iter().rev().collect());
    let is_nonce = |m: &&(String, Box<RawValue>)| m.0 == "nonce";
    let (nonce, others): (Vec<_>, Vec<_>) = members.iter().partition(is_nonce);
    orders.push(nonce.iter().chain(&others).copied().collect());
    orders.push(others.iter().chain(&nonce).copied().collect());
    let mut bodies = Vec::new();
    for order in &orders {
        for (item, pair) in [(",", ":"), (", ", ": ")] {
            let mut out = String::from("{");
            for (i, (key, value)) in order.iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push_str(pair);
                out.push_str(&restyle(value.get(), item, pair));
            }
            out.push('}');
            if out.as_bytes() != body && !bodies.contains(&out) {
                bodies.push(out);
            }
        }
    }
    bodies
}

/// `json` with its whitespace outside strings replaced: `item` after commas, `pair` after
/// colons, none elsewhere.
fn restyle(json: &str, item: &str, pair: &str) -> String {
    let mut out = String::with_capacity(json.len() + 8);
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            ',' => out.push_str(item),
            ':' => out.push_str(pair),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// A JSON object's members in their order, values kept as raw text.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Ordered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restyle_keeps_strings_and_changes_only_separators() {
        assert_eq!(
            restyle(r#"{"a": [1, 2], "b": "x, y: z \" ,"}"#, ",", ":"),
            r#"{"a":[1,2],"b":"x, y: z \" ,"}"#
        );
        assert_eq!(restyle(r#"{"a":[1,2]}"#, ", ", ": "), r#"{"a": [1, 2]}"#);
    }

    #[test]
    fn reserialized_bodies_include_python_defaults_and_sorted_keys() {
        let bodies = reserialized(br#"{"user_id":"U1","nonce":7}"#);
        assert!(bodies.contains(&r#"{"user_id": "U1", "nonce": 7}"#.to_owned()));
        assert!(bodies.contains(&r#"{"nonce":7,"user_id":"U1"}"#.to_owned()));
        assert!(!bodies.contains(&r#"{"user_id":"U1","nonce":7}"#.to_owned()));
        assert!(reserialized(b"nonce=7&a=b").is_empty());
        assert!(reserialized(b"[1,2]").is_empty());
    }
}
