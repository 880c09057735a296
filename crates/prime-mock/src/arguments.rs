//! Request bodies: the JSON object, the nonce's exact digits, and the endpoint's typed
//! arguments, with the field Kraken would name when something is wrong.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use prime_core::{Endpoint, ErrorCode};
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
        f.write_str(ErrorCode::InvalidArguments { field: None }.as_str())?;
        match &self.field {
            Some(field) => write!(f, ":{field}"),
            None => Ok(()),
        }
    }
}

/// How a request body is encoded, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    /// `application/json` (and, the simulator's choice, no `Content-Type` at all: the Prime
    /// pages show JSON bodies).
    Json,
    /// `application/x-www-form-urlencoded` with flat fields, as krakenex and ccxt send.
    Form,
}

impl BodyFormat {
    /// The format a `Content-Type` header names; `Err` with the reason for any other type.
    pub(crate) fn from_content_type(content_type: Option<&[u8]>) -> Result<Self, Unreadable> {
        let Some(value) = content_type else {
            return Ok(Self::Json);
        };
        let value = std::str::from_utf8(value).unwrap_or_default();
        let media_type = value.split(';').next().unwrap_or_default().trim();
        if media_type.eq_ignore_ascii_case("application/json") {
            Ok(Self::Json)
        } else if media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            Ok(Self::Form)
        } else {
            Err(Unreadable::new(
                "Content-Type is neither application/json nor application/x-www-form-urlencoded",
            ))
        }
    }
}

/// A body that does not parse as its declared type: `EGeneral:Invalid arguments`, with a
/// reason for the log (never the body's content, which may hold a one-time password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable {
    reason: &'static str,
    field: Option<&'static str>,
}

impl Unreadable {
    fn new(reason: &'static str) -> Self {
        Self {
            reason,
            field: None,
        }
    }

    fn field(field: &'static str, reason: &'static str) -> Self {
        Self {
            reason,
            field: Some(field),
        }
    }

    /// Why, for the log.
    pub(crate) fn reason(&self) -> &'static str {
        self.reason
    }

    /// The error string answered.
    pub(crate) fn rejection(&self) -> InvalidArguments {
        match self.field {
            Some(field) => InvalidArguments::field(field),
            None => InvalidArguments::whole_body(),
        }
    }
}

/// A field's value: raw JSON text from a JSON body, or decoded text from a form body.
enum FieldValue<'a> {
    Json(&'a RawValue),
    Text(String),
}

/// A request body split into its nonce, its `otp` and the endpoint's fields.
///
/// JSON field values stay raw JSON text borrowed from the body until the endpoint's type is
/// known, so nothing is parsed twice. The nonce's text is exactly what the client signed:
/// the digits of a JSON number, the content of a JSON string, or a form value.
pub(crate) struct RequestBody<'a> {
    nonce_text: Cow<'a, str>,
    otp: Option<Cow<'a, str>>,
    fields: Vec<(String, FieldValue<'a>)>,
    /// A field sent twice, refused once the request is authenticated.
    duplicate: Option<String>,
}

impl<'a> RequestBody<'a> {
    /// Splits `body` as `format`. Fails only when the body does not parse as its type at
    /// all, or has no single nonce (without one the signature cannot be checked); everything
    /// else about the fields is judged after authentication, in the simulator's order of
    /// checks.
    pub(crate) fn parse(body: &'a [u8], format: BodyFormat) -> Result<Self, Unreadable> {
        let members: Vec<(String, FieldValue<'a>)> = match format {
            BodyFormat::Json => {
                let Members(members) = serde_json::from_slice(body)
                    .map_err(|_| Unreadable::new("the body is not one JSON object"))?;
                members
                    .into_iter()
                    .map(|(name, value)| (name, FieldValue::Json(value)))
                    .collect()
            }
            BodyFormat::Form => form_pairs(body)?
                .into_iter()
                .map(|(name, value)| (name, FieldValue::Text(value)))
                .collect(),
        };
        let mut nonce = None;
        let mut otp = None;
        let mut fields: Vec<(String, FieldValue<'a>)> = Vec::with_capacity(members.len());
        let mut duplicate = None;
        for (name, value) in members {
            match name.as_str() {
                "nonce" if nonce.is_some() => {
                    // Which one was signed? Ambiguous, so refused.
                    return Err(Unreadable::field("nonce", "the nonce is sent twice"));
                }
                "nonce" => nonce = Some(text_of(value)),
                "otp" if otp.is_some() => {
                    return Err(Unreadable::field("otp", "the otp is sent twice"));
                }
                "otp" => otp = Some(text_of(value)),
                _ => {
                    if duplicate.is_none() && fields.iter().any(|(seen, _)| *seen == name) {
                        duplicate = Some(name.clone());
                    }
                    fields.push((name, value));
                }
            }
        }
        let nonce_text =
            nonce.ok_or_else(|| Unreadable::field("nonce", "the body has no nonce"))?;
        Ok(Self {
            nonce_text,
            otp,
            fields,
            duplicate,
        })
    }

    /// The nonce's text as sent (what `API-Sign` covers).
    pub(crate) fn nonce_text(&self) -> &str {
        &self.nonce_text
    }

    /// The nonce: plain decimal digits of an unsigned 64-bit integer, as a JSON number, a
    /// JSON string or a form value.
    pub(crate) fn nonce(&self) -> Result<u64, InvalidArguments> {
        let text = self.nonce_text.as_ref();
        // Only plain digits: no sign, fraction, exponent or spaces.
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidArguments::field("nonce"));
        }
        text.parse::<u64>()
            .map_err(|_| InvalidArguments::field("nonce"))
    }

    /// The `otp` field (API two-factor authentication), if sent.
    pub(crate) fn otp(&self) -> Option<&str> {
        self.otp.as_deref()
    }

    /// Deserializes the fields other than `nonce` and `otp` into the endpoint's request type
    /// (which denies unknown fields, unless `unknown` says to ignore them) and runs its own
    /// validation.
    pub(crate) fn arguments<E: Endpoint + DeserializeOwned>(
        &self,
        unknown: UnknownFields,
    ) -> Result<E, InvalidArguments> {
        if let Some(name) = &self.duplicate {
            // Duplicate keys are ambiguous (which one counts?), so they are refused.
            return Err(InvalidArguments::field(name.clone()));
        }
        let failed_field = RefCell::new(None);
        let parsed = E::deserialize(Fields {
            members: &self.fields,
            failed_field: &failed_field,
            unknown,
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

/// A value as text: a JSON string's content, any other JSON value's raw text, a form value.
fn text_of(value: FieldValue<'_>) -> Cow<'_, str> {
    match value {
        FieldValue::Json(raw) => match serde_json::from_str::<Cow<'_, str>>(raw.get()) {
            Ok(text) => text,
            Err(_) => Cow::Borrowed(raw.get()),
        },
        FieldValue::Text(text) => Cow::Owned(text),
    }
}

/// `name=value&…` pairs of an `application/x-www-form-urlencoded` body, decoded (`+` is a
/// space, `%XX` a byte; the result must be UTF-8). Strict: every pair needs a `=` and a name,
/// so a JSON body labelled as a form does not parse.
fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, Unreadable> {
    const NOT_FORM: &str = "the body is not application/x-www-form-urlencoded name=value pairs";
    let text = std::str::from_utf8(body).map_err(|_| Unreadable::new(NOT_FORM))?;
    if text.is_empty() {
        return Err(Unreadable::new("the body is empty"));
    }
    text.split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').ok_or(Unreadable::new(NOT_FORM))?;
            let name = form_decode(name).ok_or(Unreadable::new(NOT_FORM))?;
            let value = form_decode(value).ok_or(Unreadable::new(NOT_FORM))?;
            let plain_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            if plain_name {
                Ok((name, value))
            } else {
                Err(Unreadable::new(
                    "a form field name is empty or not flat (only letters, digits, _ - .)",
                ))
            }
        })
        .collect()
}

/// One form component decoded, or `None` for a bad `%` escape or bytes that are not UTF-8.
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(at + 1..at + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                at += 2;
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    String::from_utf8(out).ok()
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
/// name it in `EGeneral:Invalid arguments:<field>`.
struct Fields<'a, 'b> {
    members: &'b [(String, FieldValue<'a>)],
    failed_field: &'b RefCell<Option<String>>,
    unknown: UnknownFields,
}

/// What the simulator does with a request field the endpoint does not define
/// ([`MockBuilder::unknown_fields`](crate::MockBuilder::unknown_fields)).
///
/// Kraken's sources disagree: the Prime request schemas that could be read say
/// `additionalProperties: false`, while Kraken support says extra parameters are ignored (of
/// Spot REST). The default refuses, which catches misspelt fields in tests; switch to
/// [`UnknownFields::Ignore`] to check that a client does not depend on that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnknownFields {
    /// `EGeneral:Invalid arguments:<field>` naming the first unknown field.
    #[default]
    Refuse,
    /// Dropped before the arguments are read; the call goes on without them.
    Ignore,
}

impl UnknownFields {
    /// `refuse` or `ignore`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refuse => "refuse",
            Self::Ignore => "ignore",
        }
    }
}

impl std::str::FromStr for UnknownFields {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "refuse" => Ok(Self::Refuse),
            "ignore" => Ok(Self::Ignore),
            other => Err(format!(
                "unknown fields: expected refuse or ignore, not {other:?}"
            )),
        }
    }
}

impl<'de> de::Deserializer<'de> for Fields<'de, '_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(FieldAccess {
            members: self.members.iter(),
            current: None,
            failed_field: self.failed_field,
            known: None,
        })
    }

    /// A struct names its fields: the ones it does not know are dropped when they are to be
    /// ignored.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_map(FieldAccess {
            members: self.members.iter(),
            current: None,
            failed_field: self.failed_field,
            known: (self.unknown == UnknownFields::Ignore).then_some(fields),
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

struct FieldAccess<'a, 'b> {
    members: std::slice::Iter<'b, (String, FieldValue<'a>)>,
    current: Option<&'b (String, FieldValue<'a>)>,
    failed_field: &'b RefCell<Option<String>>,
    /// The type's field names, when fields it does not name are to be skipped.
    known: Option<&'static [&'static str]>,
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
        let known = self.known;
        let Some(member) = self
            .members
            .find(|(name, _)| known.is_none_or(|known| known.contains(&name.as_str())))
        else {
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
        let Some((name, value)) = self.current.take() else {
            return Err(de::Error::custom("a value was read without its key"));
        };
        match value {
            FieldValue::Json(raw) => {
                let mut json = serde_json::Deserializer::from_str(raw.get());
                seed.deserialize(&mut json)
            }
            FieldValue::Text(text) => seed.deserialize(FormValue(text)),
        }
        .inspect_err(|_| self.blame(name))
    }
}

/// A form value: text, read as a number or a boolean where the request type wants one.
/// Lists and objects cannot be sent flat, so they fail (the field is named).
struct FormValue<'b>(&'b str);

impl FormValue<'_> {
    fn parse<T: std::str::FromStr>(&self, what: &str) -> Result<T, serde_json::Error> {
        self.0
            .parse()
            .map_err(|_| de::Error::custom(format_args!("a form value that is not {what}")))
    }
}

macro_rules! parse_as {
    ($($method:ident => $visit:ident: $ty:ty,)+) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            visitor.$visit(self.parse::<$ty>(stringify!($ty))?)
        })+
    };
}

impl<'de> de::Deserializer<'de> for FormValue<'_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_str(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom(
            "a list cannot be sent as a flat form field",
        ))
    }

    fn deserialize_map<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom(
            "an object cannot be sent as a flat form field",
        ))
    }

    parse_as! {
        deserialize_bool => visit_bool: bool,
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_f64 => visit_f64: f64,
    }

    serde::forward_to_deserialize_any! {
        i128 u128 f32 char str string bytes byte_buf unit unit_struct newtype_struct tuple
        tuple_struct struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use prime_core::endpoints::{
        CreateApiUser, GetApiUser, ListApiUsers, ListSettlementBatches, Role, UpdateApiUserKey,
    };

    use super::*;

    fn parse(body: &str) -> Result<RequestBody<'_>, String> {
        RequestBody::parse(body.as_bytes(), BodyFormat::Json).map_err(|e| e.rejection().to_string())
    }

    fn form(body: &str) -> Result<RequestBody<'_>, String> {
        RequestBody::parse(body.as_bytes(), BodyFormat::Form).map_err(|e| e.rejection().to_string())
    }

    fn arguments<E: Endpoint + DeserializeOwned>(body: &str) -> Result<E, String> {
        parse(body)?
            .arguments::<E>(UnknownFields::Refuse)
            .map_err(|e| e.to_string())
    }

    fn form_arguments<E: Endpoint + DeserializeOwned>(body: &str) -> Result<E, String> {
        form(body)?
            .arguments::<E>(UnknownFields::Refuse)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_nonce_keeps_its_exact_text() {
        let body = parse(r#"{"nonce":1616492376594,"name":"A","role":"Trader"}"#).unwrap();
        assert_eq!(body.nonce_text(), "1616492376594");
        assert_eq!(body.nonce(), Ok(1_616_492_376_594));
        let user: CreateApiUser = body.arguments(UnknownFields::Refuse).unwrap();
        assert_eq!(user, CreateApiUser::new("A", Role::Trader));
        // A JSON string of digits, as Kraken's JSON examples and python-kraken-sdk send it:
        // the signature covers the digits inside the quotes.
        let body = parse(r#"{"nonce":"1795880000625677440"}"#).unwrap();
        assert_eq!(body.nonce_text(), "1795880000625677440");
        assert_eq!(body.nonce(), Ok(1_795_880_000_625_677_440));
        let body = form("nonce=1795880000625677440&name=A+B&role=Trader").unwrap();
        assert_eq!(body.nonce_text(), "1795880000625677440");
    }

    #[test]
    fn bad_nonces_name_the_nonce() {
        // Readable bodies with an unusable nonce: refused once the signature is checked.
        for body in [
            r#"{"nonce":"1a"}"#,
            r#"{"nonce":""}"#,
            r#"{"nonce":" 1"}"#,
            r#"{"nonce":-1}"#,
            r#"{"nonce":1.0}"#,
            r#"{"nonce":1e3}"#,
            r#"{"nonce":true}"#,
            r#"{"nonce":18446744073709551616}"#,
            r#"{"nonce":"18446744073709551616"}"#,
        ] {
            assert_eq!(
                parse(body).unwrap().nonce().map_err(|e| e.to_string()),
                Err("EGeneral:Invalid arguments:nonce".to_owned()),
                "{body}"
            );
        }
        // Without exactly one nonce there is nothing to check the signature against.
        for body in [r#"{"name":"A"}"#, r#"{"nonce":1,"nonce":2}"#] {
            assert_eq!(
                parse(body).err().as_deref(),
                Some("EGeneral:Invalid arguments:nonce"),
                "{body}"
            );
        }
        assert_eq!(
            parse(r#"{"nonce":18446744073709551615}"#).unwrap().nonce(),
            Ok(u64::MAX)
        );
    }

    #[test]
    fn bodies_that_do_not_parse_as_their_type_name_no_field() {
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
        // JSON labelled as a form, broken escapes, nested (non-flat) names.
        for body in [
            r#"{"nonce":1}"#,
            "",
            "nonce",
            "nonce=1&",
            "nonce=1&=x",
            "nonce=%G1",
            "nonce=1&name=%FF",
            "nonce=1&statuses[]=unsettled",
        ] {
            assert_eq!(
                form(body).err().as_deref(),
                Some("EGeneral:Invalid arguments"),
                "{body}"
            );
        }
    }

    #[test]
    fn form_fields_are_decoded_and_typed_by_the_request() {
        let user: CreateApiUser = form_arguments("nonce=1&name=Desk+1%2FEU&role=Trader").unwrap();
        assert_eq!(user, CreateApiUser::new("Desk 1/EU", Role::Trader));
        let list: ListSettlementBatches =
            form_arguments("nonce=1&limit=20&from=5&asset_kind=currency").unwrap();
        assert_eq!(list.limit, Some(20));
        assert_eq!(list.from, Some(5));
        assert_eq!(
            form_arguments::<ListSettlementBatches>("nonce=1&limit=lots").err(),
            Some("EGeneral:Invalid arguments:limit".to_owned())
        );
        // Lists cannot be sent flat.
        assert_eq!(
            form_arguments::<ListSettlementBatches>("nonce=1&statuses=unsettled").err(),
            Some("EGeneral:Invalid arguments:statuses".to_owned())
        );
        assert_eq!(
            form_arguments::<UpdateApiUserKey>(
                "nonce=1&user_id=U&key_id=K&whitelisted_ips=1.2.3.4"
            )
            .err(),
            Some("EGeneral:Invalid arguments:whitelisted_ips".to_owned())
        );
        assert!(form_arguments::<ListApiUsers>("nonce=1&otp=123456").is_ok());
    }

    #[test]
    fn every_byte_survives_form_encoding() {
        // What Python's urlencode (quote_plus) produces for every ASCII character, and for
        // multi-byte UTF-8, decodes back to the text.
        let mut text: String = (0u8..128).map(char::from).collect();
        text.push_str("é€😀 +%&=");
        let encoded: String = text
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                    char::from(b).to_string()
                }
                b' ' => "+".to_owned(),
                b => format!("%{b:02X}"),
            })
            .collect();
        assert_eq!(form_decode(&encoded).as_deref(), Some(text.as_str()));
        // Lower-case escapes are as good; broken ones are refused, never guessed at.
        assert_eq!(form_decode("%c3%a9").as_deref(), Some("é"));
        for broken in ["%", "%4", "%G0", "%C3", "%FF"] {
            assert_eq!(form_decode(broken), None, "{broken}");
        }
    }

    #[test]
    fn the_otp_is_read_apart_from_the_fields() {
        let body = parse(r#"{"nonce":1,"otp":"123456"}"#).unwrap();
        assert_eq!(body.otp(), Some("123456"));
        assert!(
            body.arguments::<ListApiUsers>(UnknownFields::Refuse)
                .is_ok()
        );
        assert_eq!(
            form("nonce=1&otp=pass+word").unwrap().otp(),
            Some("pass word")
        );
        assert_eq!(parse(r#"{"nonce":1}"#).unwrap().otp(), None);
        assert_eq!(
            parse(r#"{"nonce":1,"otp":"1","otp":"2"}"#).err().as_deref(),
            Some("EGeneral:Invalid arguments:otp")
        );
    }

    #[test]
    fn content_types_pick_the_parser() {
        let format = |value: Option<&str>| {
            BodyFormat::from_content_type(value.map(str::as_bytes)).map_err(|e| e.reason())
        };
        assert_eq!(format(None), Ok(BodyFormat::Json));
        assert_eq!(format(Some("application/json")), Ok(BodyFormat::Json));
        assert_eq!(
            format(Some("Application/JSON; charset=utf-8")),
            Ok(BodyFormat::Json)
        );
        assert_eq!(
            format(Some("application/x-www-form-urlencoded")),
            Ok(BodyFormat::Form)
        );
        assert_eq!(
            format(Some("application/x-www-form-urlencoded; charset=UTF-8")),
            Ok(BodyFormat::Form)
        );
        for other in ["text/plain", "multipart/form-data; boundary=x", "", "json"] {
            assert!(format(Some(other)).is_err(), "{other}");
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

    #[test]
    fn unknown_fields_can_be_ignored_while_known_ones_are_still_checked() {
        let ignoring = |body: &str| {
            parse(body)
                .and_then(|b| {
                    b.arguments::<ListSettlementBatches>(UnknownFields::Ignore)
                        .map_err(|e| e.to_string())
                })
                .map(|args| args.limit)
        };
        for body in [
            r#"{"nonce":1,"x":1,"limit":5}"#,
            r#"{"nonce":1,"limit":5,"extra":{"deep":[1,2]}}"#,
            r#"{"nonce":1,"Limit":"x","limit":5}"#,
        ] {
            assert_eq!(ignoring(body), Ok(Some(5)), "{body}");
        }
        assert_eq!(
            ignoring(r#"{"nonce":1,"x":1,"limit":-1}"#),
            Err("EGeneral:Invalid arguments:limit".to_owned())
        );
        assert_eq!(
            form(r#"nonce=1&x=1&user_id=U1"#)
                .and_then(|b| {
                    b.arguments::<GetApiUser>(UnknownFields::Ignore)
                        .map_err(|e| e.to_string())
                })
                .map(|args| args.user_id),
            Ok("U1".to_owned())
        );
        assert_eq!("ignore".parse(), Ok(UnknownFields::Ignore));
        assert_eq!("refuse".parse(), Ok(UnknownFields::Refuse));
        assert!("drop".parse::<UnknownFields>().is_err());
    }
}
