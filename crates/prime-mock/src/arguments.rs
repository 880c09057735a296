//! Request bodies: the JSON object, the nonce's exact digits, and the endpoint's typed
//! arguments, with the field Kraken would name when something is wrong.

use std::cell::RefCell;
use std::fmt;

use prime_core::Endpoint;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// `EGeneral:Invalid arguments[:field]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidArguments {
    field: Option<String>,
}

impl InvalidArguments {
    /// Without a field (the body is not a JSON object at all).
    pub(crate) fn whole_body() -> Self {
        Self { field: None }
    }

    /// Naming `field`.
    pub(crate) fn field(field: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
        }
    }
}

impl fmt::Display for InvalidArguments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EGeneral:Invalid arguments")?;
        match &self.field {
            Some(field) => write!(f, ":{field}"),
            None => Ok(()),
        }
    }
}

/// A request body split into its nonce and the endpoint's fields.
///
/// The field values stay raw JSON text borrowed from the body until the endpoint's type is
/// known, so nothing is parsed twice and the nonce's digits are exactly those that were signed.
pub(crate) struct RequestBody<'a> {
    nonce_digits: &'a str,
    nonce: u64,
    fields: Vec<(String, &'a RawValue)>,
}

impl<'a> RequestBody<'a> {
    /// Splits `body`: it must be one JSON object, without duplicate keys, whose `nonce` is an
    /// unsigned 64-bit integer written as plain digits.
    pub(crate) fn parse(body: &'a [u8]) -> Result<Self, InvalidArguments> {
        let Members(members) =
            serde_json::from_slice(body).map_err(|_| InvalidArguments::whole_body())?;
        let mut nonce = None;
        let mut fields = Vec::with_capacity(members.len());
        for (name, value) in members {
            if fields.iter().any(|(seen, _)| *seen == name) || (name == "nonce" && nonce.is_some())
            {
                // Duplicate keys are ambiguous (which one counts?), so they are refused.
                return Err(InvalidArguments::field(name));
            }
            if name == "nonce" {
                nonce = Some(value);
            } else {
                fields.push((name, value));
            }
        }
        let nonce_raw = nonce.ok_or_else(|| InvalidArguments::field("nonce"))?;
        let nonce_digits = nonce_raw.get();
        // Only plain digits: no sign, fraction, exponent or quotes. JSON already excludes
        // leading zeros, so the digits are canonical.
        if nonce_digits.is_empty() || !nonce_digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidArguments::field("nonce"));
        }
        let nonce = nonce_digits
            .parse::<u64>()
            .map_err(|_| InvalidArguments::field("nonce"))?;
        Ok(Self {
            nonce_digits,
            nonce,
            fields,
        })
    }

    /// The nonce's decimal digits as they appear in the body (what `API-Sign` covers).
    pub(crate) fn nonce_digits(&self) -> &'a str {
        self.nonce_digits
    }

    /// The nonce.
    pub(crate) fn nonce(&self) -> u64 {
        self.nonce
    }

    /// Deserializes the fields other than `nonce` into the endpoint's request type (which
    /// denies unknown fields) and runs its own validation.
    pub(crate) fn arguments<E: Endpoint + DeserializeOwned>(&self) -> Result<E, InvalidArguments> {
        let failed_field = RefCell::new(None);
        let parsed = E::deserialize(Fields {
            members: &self.fields,
            failed_field: &failed_field,
        });
        match parsed {
            Ok(arguments) => {
                arguments
                    .validate()
                    .map_err(|e| InvalidArguments::field(e.field()))?;
                Ok(arguments)
            }
            Err(error) => {
                // A type error names the key being read; "missing field `x`" names it in the
                // message, since no key was being read.
                let field = failed_field
                    .into_inner()
                    .or_else(|| backticked(&error.to_string()));
                Err(InvalidArguments { field })
            }
        }
    }
}

/// The first `` `name` `` in a serde message.
fn backticked(message: &str) -> Option<String> {
    let (_, rest) = message.split_once('`')?;
    let (name, _) = rest.split_once('`')?;
    Some(name.to_owned())
}

/// The members of a JSON object in order, duplicates kept (so they can be refused).
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> de::Deserialize<'de> for Members<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;

        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(MembersVisitor)
    }
}

/// A deserializer over the body's fields that remembers which field failed, so the error can
/// name it like Kraken's `EGeneral:Invalid arguments:<field>`.
struct Fields<'a, 'b> {
    members: &'b [(String, &'a RawValue)],
    failed_field: &'b RefCell<Option<String>>,
}

impl<'de> de::Deserializer<'de> for Fields<'de, '_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(FieldAccess {
            members: self.members.iter(),
            current: None,
            failed_field: self.failed_field,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct FieldAccess<'a, 'b> {
    members: std::slice::Iter<'b, (String, &'a RawValue)>,
    current: Option<&'b (String, &'a RawValue)>,
    failed_field: &'b RefCell<Option<String>>,
}

impl FieldAccess<'_, '_> {
    fn blame(&self, name: &str) {
        *self.failed_field.borrow_mut() = Some(name.to_owned());
    }
}

impl<'a> MapAccess<'a> for FieldAccess<'a, '_> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some(member) = self.members.next() else {
            return Ok(None);
        };
        self.current = Some(member);
        let key: de::value::StrDeserializer<'_, serde_json::Error> =
            member.0.as_str().into_deserializer();
        // An unknown field fails here (the request types deny unknown fields).
        seed.deserialize(key)
            .map(Some)
            .inspect_err(|_| self.blame(&member.0))
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let Some((name, raw)) = self.current.take() else {
            return Err(de::Error::custom("a value was read without its key"));
        };
        let mut json = serde_json::Deserializer::from_str(raw.get());
        seed.deserialize(&mut json)
            .inspect_err(|_| self.blame(name))
    }
}

#[cfg(test)]
mod tests {
    use prime_core::endpoints::{CreateApiUser, ListApiUsers, ListSettlementBatches, Role};

    use super::*;

    fn parse(body: &str) -> Result<RequestBody<'_>, String> {
        RequestBody::parse(body.as_bytes()).map_err(|e| e.to_string())
    }

    fn arguments<E: Endpoint + DeserializeOwned>(body: &str) -> Result<E, String> {
        parse(body)?.arguments::<E>().map_err(|e| e.to_string())
    }

    #[test]
    fn the_nonce_keeps_its_exact_digits() {
        let body = parse(r#"{"nonce":1616492376594,"name":"A","role":"Trader"}"#).unwrap();
        assert_eq!(body.nonce_digits(), "1616492376594");
        assert_eq!(body.nonce(), 1_616_492_376_594);
        let user: CreateApiUser = body.arguments().unwrap();
        assert_eq!(user, CreateApiUser::new("A", Role::Trader));
    }

    #[test]
    fn bad_nonces_name_the_nonce() {
        for body in [
            r#"{"name":"A"}"#,
            r#"{"nonce":"1"}"#,
            r#"{"nonce":-1}"#,
            r#"{"nonce":1.0}"#,
            r#"{"nonce":1e3}"#,
            r#"{"nonce":18446744073709551616}"#,
            r#"{"nonce":1,"nonce":2}"#,
        ] {
            assert_eq!(
                parse(body).err().as_deref(),
                Some("EGeneral:Invalid arguments:nonce"),
                "{body}"
            );
        }
        assert!(parse(r#"{"nonce":18446744073709551615}"#).is_ok());
    }

    #[test]
    fn bodies_that_are_not_objects_name_no_field() {
        for body in [
            "",
            "nonce=1",
            "[1]",
            "{\"nonce\":1",
            "{\"nonce\":1}x",
            "null",
        ] {
            assert_eq!(
                parse(body).err().as_deref(),
                Some("EGeneral:Invalid arguments"),
                "{body}"
            );
        }
    }

    #[test]
    fn field_errors_name_the_field() {
        let cases = [
            (r#"{"nonce":1,"role":"Trader"}"#, "name"),
            (r#"{"nonce":1,"name":5,"role":"Trader"}"#, "name"),
            (
                r#"{"nonce":1,"name":"A","role":"Trader","admin":true}"#,
                "admin",
            ),
            (
                r#"{"nonce":1,"name":"A","role":"Trader","name":"B"}"#,
                "name",
            ),
            (r#"{"nonce":1,"name":" ","role":"Trader"}"#, "name"),
            (r#"{"nonce":1,"name":"A","role":null}"#, "role"),
        ];
        for (body, field) in cases {
            assert_eq!(
                arguments::<CreateApiUser>(body).err(),
                Some(format!("EGeneral:Invalid arguments:{field}")),
                "{body}"
            );
        }
        assert_eq!(
            arguments::<ListSettlementBatches>(r#"{"nonce":1,"limit":201}"#).err(),
            Some("EGeneral:Invalid arguments:limit".to_owned())
        );
        assert_eq!(
            arguments::<ListSettlementBatches>(r#"{"nonce":1,"limit":-1}"#).err(),
            Some("EGeneral:Invalid arguments:limit".to_owned())
        );
        assert_eq!(
            arguments::<ListApiUsers>(r#"{"nonce":1,"x":1}"#).err(),
            Some("EGeneral:Invalid arguments:x".to_owned())
        );
        assert!(arguments::<ListApiUsers>(r#"{"nonce":1}"#).is_ok());
    }
}
