//! Recovering a created key's one-time secret from a reply that is otherwise unusable.
//!
//! `CreatePrimeApiUserKey` returns a secret Kraken stores nowhere: if its reply does not
//! decode exactly (a `null` list, a missing or numeric `id`, an error beside the result, a
//! body cut short after the secret), the key exists all the same and the secret must still
//! reach the caller. So the secret is read first and leniently, by a scan that stops caring
//! about the rest of the body as soon as it holds a string at `result.api_secret`.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::auth::ApiSecret;

/// What could be read of a created key from a reply that did not decode as documented: the
/// one-time secret (always) and whichever of the other fields were plain strings.
///
/// Found in [`ResponseError::KeyCreated`](crate::ResponseError::KeyCreated). `Debug` never
/// shows the secret and there is no `Display`; read it with [`SalvagedKey::api_secret`].
///
/// ```
/// use prime_core::http::{HeaderMap, StatusCode};
/// use prime_core::endpoints::CreatedApiUserKey;
/// use prime_core::{ResponseError, parse_response};
///
/// // `whitelisted_ips: null` and a numeric `id`: not the documented shape, but the key exists.
/// let body = br#"{"error":[],"result":{"id":7,"api_key":"KEY","api_secret":"c2VjcmV0","whitelisted_ips":null}}"#;
/// let error = parse_response::<CreatedApiUserKey>(StatusCode::OK, &HeaderMap::new(), body).unwrap_err();
/// let key = error.salvaged_key().expect("the secret is recovered");
/// assert_eq!(key.api_secret().expose(), "c2VjcmV0");
/// assert_eq!(key.api_key(), Some("KEY"));
/// assert_eq!(key.id(), None); // not a string
/// assert!(matches!(error, ResponseError::KeyCreated { .. }));
/// assert!(!format!("{error} {error:?}").contains("c2VjcmV0"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalvagedKey {
    api_secret: ApiSecret,
    api_key: Option<String>,
    id: Option<String>,
    user_id: Option<String>,
}

impl SalvagedKey {
    /// The one-time secret, exactly as the server sent it.
    pub fn api_secret(&self) -> &ApiSecret {
        &self.api_secret
    }

    /// `result.api_key`, if the reply had it as a string before the point where it broke off.
    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// `result.id` (the key id), if it was a string.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// `result.user_id`, if it was a string.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }
}

/// Scans `body` for a string at `result.api_secret`, tolerating anything else: wrong types,
/// `null`s, unknown members, and a body that is cut off or broken *after* the secret.
///
/// The first string seen at each place wins (a duplicate member cannot replace it).
pub(crate) fn salvage_key(body: &[u8]) -> Option<SalvagedKey> {
    let mut found = Found::default();
    let mut json = serde_json::Deserializer::from_slice(body);
    // The outcome is deliberately ignored: an error after the secret changes nothing.
    let _ = json.deserialize_map(EnvelopeVisitor(&mut found));
    Some(SalvagedKey {
        api_secret: found.api_secret?,
        api_key: found.api_key,
        id: found.id,
        user_id: found.user_id,
    })
}

#[derive(Default)]
struct Found {
    api_secret: Option<ApiSecret>,
    api_key: Option<String>,
    id: Option<String>,
    user_id: Option<String>,
}

struct EnvelopeVisitor<'a>(&'a mut Found);

impl<'de> Visitor<'de> for EnvelopeVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "result" {
                map.next_value_seed(ResultSeed(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct ResultSeed<'a>(&'a mut Found);

impl<'de> DeserializeSeed<'de> for ResultSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(ResultVisitor(self.0))
    }
}

struct ResultVisitor<'a>(&'a mut Found);

impl<'de> Visitor<'de> for ResultVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "api_secret" => {
                    if let Some(text) = map.next_value_seed(LenientString)? {
                        // Wrapped at once, so the text is zeroized on drop from here on.
                        let secret = ApiSecret::new(text);
                        self.0.api_secret.get_or_insert(secret);
                    }
                    continue;
                }
                "api_key" => &mut self.0.api_key,
                "id" => &mut self.0.id,
                "user_id" => &mut self.0.user_id,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if let Some(text) = map.next_value_seed(LenientString)? {
                slot.get_or_insert(text);
            }
        }
        Ok(())
    }

    // A `result` that is not an object (null, a number, a list...) holds no secret.
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// A string, or `None` for any other JSON value (which is skipped whole).
struct LenientString;

impl<'de> DeserializeSeed<'de> for LenientString {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LenientString {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Some(text.to_owned()))
    }
    fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
        Ok(Some(text))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}
