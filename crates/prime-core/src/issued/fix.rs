//! FIX 4.4 framing (body length, checksum) and the Prime Logon.

use std::fmt;
use std::time::Duration;

use super::ws::check_skew;
use super::{ISSUED_SIGN_LEN, IssuedCredentials, UtcTimestamp};

/// The FIX field separator, byte 0x01.
pub const SOH: u8 = 0x01;
/// The `8=` BeginString Prime FIX speaks.
pub const FIX_BEGIN_STRING: &str = "FIX.4.4";

const HEADER: &[u8] = b"8=FIX.4.4\x019=";
/// `10=ccc` plus its SOH.
const TRAILER_LEN: usize = 7;
/// Largest body accepted: a Logon is under 200 bytes; this only bounds what a peer can make a
/// reader buffer.
const MAX_BODY_LEN: usize = 64 * 1024;

/// Why bytes are not one well-formed FIX 4.4 message. One line each; used as `58` Text in a
/// Logout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FixParseError {
    /// The message does not start with `8=FIX.4.4<SOH>9=`.
    #[error("the message does not start with 8=FIX.4.4|9=")]
    NotFix44,
    /// `9=` BodyLength is not 1 to 5 digits followed by SOH.
    #[error("9 (BodyLength) is not a number followed by SOH")]
    MalformedBodyLength,
    /// `9=` BodyLength is larger than this reader accepts.
    #[error("9 (BodyLength) {0} is larger than the 65536 bytes accepted")]
    BodyTooLong(usize),
    /// The bytes end before the message does.
    #[error("the message is truncated")]
    Truncated,
    /// The body does not end (with SOH, then `10=`) where `9=` says.
    #[error("9 (BodyLength) does not match the body: no SOH followed by 10= after {0} bytes")]
    BodyLengthMismatch(usize),
    /// `10=` is not three digits followed by SOH.
    #[error("10 (CheckSum) is not three digits followed by SOH")]
    MalformedChecksum,
    /// `10=` does not match the sum of the bytes before it.
    #[error("10 (CheckSum) is {found:03}, the bytes sum to {computed:03}")]
    WrongChecksum {
        /// The checksum sent.
        found: u8,
        /// The checksum of the bytes received.
        computed: u8,
    },
    /// A body field is not `<tag>=<value>` with a numeric tag and a non-empty value.
    #[error("field {0} of the body is not <tag>=<value>")]
    MalformedField(usize),
    /// The body does not start with `35=` MsgType.
    #[error("the body does not start with 35 (MsgType)")]
    MissingMsgType,
    /// Bytes follow the checksum.
    #[error("bytes follow the 10 (CheckSum) field")]
    TrailingBytes,
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FixEncodeError {
    /// A field value is empty (FIX has no empty values).
    #[error("field {0} is empty")]
    EmptyValue(u32),
    /// A field value contains the SOH separator.
    #[error("field {0} contains the SOH separator")]
    SohInValue(u32),
    /// A header or trailer tag (8, 9, 10) was given as a body field.
    #[error("field {0} is written by the encoder and cannot be a body field")]
    ReservedTag(u32),
}

/// One FIX 4.4 message: its body fields in order, starting with `35` MsgType. `8=`, `9=` and
/// `10=` are computed by [`FixMessage::encode`] and checked by [`FixMessage::parse`].
///
/// `Debug` shows the fields with `|` for SOH and masks `554` (Password, the API key) like
/// [`ApiKey`](crate::ApiKey).
///
/// ```
/// use prime_core::issued::FixMessage;
///
/// let logout = FixMessage::new("5").with(34, "2").with(58, "bad signature");
/// let bytes = logout.encode()?;
/// assert_eq!(bytes, b"8=FIX.4.4\x019=27\x0135=5\x0134=2\x0158=bad signature\x0110=119\x01");
/// assert_eq!(FixMessage::parse(&bytes)?, logout);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct FixMessage {
    fields: Vec<(u32, String)>,
}

impl FixMessage {
    /// A message of type `msg_type` (`A` Logon, `5` Logout, …) with no other fields yet.
    pub fn new(msg_type: &str) -> Self {
        Self {
            fields: vec![(35, msg_type.to_owned())],
        }
    }

    /// Appends a field.
    #[must_use]
    pub fn with(mut self, tag: u32, value: impl Into<String>) -> Self {
        self.push(tag, value);
        self
    }

    /// Appends a field.
    pub fn push(&mut self, tag: u32, value: impl Into<String>) {
        self.fields.push((tag, value.into()));
    }

    /// `35` MsgType.
    pub fn msg_type(&self) -> &str {
        self.get(35).unwrap_or_default()
    }

    /// The first value of `tag`.
    pub fn get(&self, tag: u32) -> Option<&str> {
        self.fields
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_str())
    }

    /// The body fields in order, `35` first.
    pub fn fields(&self) -> &[(u32, String)] {
        &self.fields
    }

    /// The complete message: `8=FIX.4.4`, `9=` the body's length in bytes, the body, and
    /// `10=` the sum of every byte before it modulo 256, three digits; SOH after each field.
    ///
    /// # Errors
    /// [`FixEncodeError`] for an empty value, a value containing SOH, or tag 8, 9 or 10.
    pub fn encode(&self) -> Result<Vec<u8>, FixEncodeError> {
        let mut body = Vec::with_capacity(256);
        for (tag, value) in &self.fields {
            if matches!(tag, 8..=10) {
                return Err(FixEncodeError::ReservedTag(*tag));
            }
            if value.is_empty() {
                return Err(FixEncodeError::EmptyValue(*tag));
            }
            if value.as_bytes().contains(&SOH) {
                return Err(FixEncodeError::SohInValue(*tag));
            }
            body.extend_from_slice(tag.to_string().as_bytes());
            body.push(b'=');
            body.extend_from_slice(value.as_bytes());
            body.push(SOH);
        }
        let mut message = Vec::with_capacity(body.len() + 32);
        message.extend_from_slice(HEADER);
        message.extend_from_slice(body.len().to_string().as_bytes());
        message.push(SOH);
        message.extend_from_slice(&body);
        let checksum = checksum(&message);
        message.extend_from_slice(format!("10={checksum:03}").as_bytes());
        message.push(SOH);
        Ok(message)
    }

    /// How many bytes the message at the start of `buffer` has in all, once its header is
    /// in: `Ok(None)` while more bytes are needed to tell. A stream reader reads until it
    /// holds that many bytes, then calls [`FixMessage::parse`] on them. Garbage is reported
    /// as soon as it shows, so a reader never waits for a message that cannot come.
    ///
    /// # Errors
    /// [`FixParseError::NotFix44`], [`FixParseError::MalformedBodyLength`] or
    /// [`FixParseError::BodyTooLong`].
    pub fn frame_len(buffer: &[u8]) -> Result<Option<usize>, FixParseError> {
        let prefix = buffer.len().min(HEADER.len());
        if buffer[..prefix] != HEADER[..prefix] {
            return Err(FixParseError::NotFix44);
        }
        if buffer.len() <= HEADER.len() {
            return Ok(None);
        }
        let rest = &buffer[HEADER.len()..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        // Five digits hold every length up to the maximum; more is garbage, not a message.
        if digits > 5 || (digits == 0 && !rest.is_empty()) {
            return Err(FixParseError::MalformedBodyLength);
        }
        match rest.get(digits) {
            None => Ok(None),
            Some(&SOH) => {
                let body_len: usize = std::str::from_utf8(&rest[..digits])
                    .ok()
                    .and_then(|d| d.parse().ok())
                    .ok_or(FixParseError::MalformedBodyLength)?;
                if body_len > MAX_BODY_LEN {
                    return Err(FixParseError::BodyTooLong(body_len));
                }
                Ok(Some(HEADER.len() + digits + 1 + body_len + TRAILER_LEN))
            }
            Some(_) => Err(FixParseError::MalformedBodyLength),
        }
    }

    /// Parses exactly one complete message, checking `8=FIX.4.4`, `9=` BodyLength and `10=`
    /// CheckSum, and that the body is `<tag>=<value>` fields starting with `35`.
    ///
    /// # Errors
    /// [`FixParseError`] naming the first problem.
    pub fn parse(bytes: &[u8]) -> Result<Self, FixParseError> {
        let total = Self::frame_len(bytes)?.ok_or(FixParseError::Truncated)?;
        if bytes.len() < total {
            return Err(FixParseError::Truncated);
        }
        if bytes.len() > total {
            return Err(FixParseError::TrailingBytes);
        }
        let body_end = total - TRAILER_LEN;
        let body_start = bytes[HEADER.len()..]
            .iter()
            .position(|&b| b == SOH)
            .map(|p| HEADER.len() + p + 1)
            .ok_or(FixParseError::MalformedBodyLength)?;
        let body_len = body_end - body_start;
        let trailer = &bytes[body_end..];
        if body_len == 0 || bytes[body_end - 1] != SOH || !trailer.starts_with(b"10=") {
            return Err(FixParseError::BodyLengthMismatch(body_len));
        }
        let digits = &trailer[3..6];
        if !digits.iter().all(u8::is_ascii_digit) || trailer[6] != SOH {
            return Err(FixParseError::MalformedChecksum);
        }
        let found = digits
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        let found = u8::try_from(found).map_err(|_| FixParseError::MalformedChecksum)?;
        let computed = checksum(&bytes[..body_end]);
        if found != computed {
            return Err(FixParseError::WrongChecksum { found, computed });
        }
        let body = &bytes[body_start..body_end - 1];
        let mut fields = Vec::new();
        for (index, field) in body.split(|&b| b == SOH).enumerate() {
            fields.push(parse_field(field).ok_or(FixParseError::MalformedField(index + 1))?);
        }
        if fields.first().is_none_or(|(tag, _)| *tag != 35) {
            return Err(FixParseError::MissingMsgType);
        }
        Ok(Self { fields })
    }
}

fn parse_field(field: &[u8]) -> Option<(u32, String)> {
    let eq = field.iter().position(|&b| b == b'=')?;
    let (tag, value) = (&field[..eq], &field[eq + 1..]);
    if tag.is_empty() || tag.len() > 9 || !tag.iter().all(u8::is_ascii_digit) || value.is_empty() {
        return None;
    }
    let tag = std::str::from_utf8(tag).ok()?.parse().ok()?;
    Some((tag, String::from_utf8(value.to_vec()).ok()?))
}

fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b))
}

impl fmt::Debug for FixMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FixMessage(")?;
        for (tag, value) in &self.fields {
            if *tag == 554 {
                let shown: String = value.chars().take(4).collect();
                write!(f, "{tag}={shown}…|")?;
            } else {
                write!(f, "{tag}={value}|")?;
            }
        }
        f.write_str(")")
    }
}

/// A Prime FIX Logon (`35=A`) signed with an issued key.
///
/// Fields in the order of Kraken's example: `34` MsgSeqNum, `49` SenderCompID, `52`
/// SendingTime, `56` TargetCompID, `95` RawDataLength (44), `96` RawData, `98=0`, `108`
/// HeartBtInt, `141=Y` when resetting sequence numbers, `554` Password (the API key).
///
/// SenderCompID and TargetCompID are the ones Kraken assigns; Kraken's page elides the
/// TargetCompID, so `KRAKEN` in the examples here is a placeholder, not Kraken's value.
///
/// ```
/// use prime_core::issued::{FixLogon, FixMessage, IssuedCredentials, UtcTimestamp};
///
/// let credentials = IssuedCredentials::new("KRA5L19LAW8Z", "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf")?;
/// let sent = UtcTimestamp::parse_sending_time("20220915-18:29:58.756")?;
/// let logon = FixLogon::new("CUSTOMER", "KRAKEN", sent).heart_bt_int(60).message(&credentials)?;
/// assert_eq!(logon.get(52), Some("20220915-18:29:58.756"));
/// assert_eq!(logon.get(95), Some("44"));
/// assert_eq!(
///     logon.get(96).map(str::to_owned),
///     Some(credentials.fix_raw_data("20220915-18:29:58.756", "1", "CUSTOMER", "KRAKEN").to_string())
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixLogon {
    sender_comp_id: String,
    target_comp_id: String,
    sending_time: UtcTimestamp,
    msg_seq_num: u64,
    heart_bt_int: u32,
    reset_seq_num: bool,
}

impl FixLogon {
    /// A Logon from `sender_comp_id` to `target_comp_id` sent at `sending_time`, with
    /// MsgSeqNum 1, HeartBtInt 60 (the value in Kraken's Logon example) and ResetSeqNumFlag
    /// `Y`.
    pub fn new(sender_comp_id: &str, target_comp_id: &str, sending_time: UtcTimestamp) -> Self {
        Self {
            sender_comp_id: sender_comp_id.to_owned(),
            target_comp_id: target_comp_id.to_owned(),
            sending_time,
            msg_seq_num: 1,
            heart_bt_int: 60,
            reset_seq_num: true,
        }
    }

    /// Sets `34` MsgSeqNum.
    #[must_use]
    pub fn msg_seq_num(mut self, msg_seq_num: u64) -> Self {
        self.msg_seq_num = msg_seq_num;
        self
    }

    /// Sets `108` HeartBtInt, in seconds.
    #[must_use]
    pub fn heart_bt_int(mut self, seconds: u32) -> Self {
        self.heart_bt_int = seconds;
        self
    }

    /// Whether to send `141=Y` (ResetSeqNumFlag); without it the field is left out.
    #[must_use]
    pub fn reset_seq_num(mut self, reset: bool) -> Self {
        self.reset_seq_num = reset;
        self
    }

    /// The signed Logon's fields.
    ///
    /// # Errors
    /// [`FixEncodeError`] for an empty CompID or one containing SOH.
    pub fn message(&self, credentials: &IssuedCredentials) -> Result<FixMessage, FixEncodeError> {
        for (tag, value) in [(49, &self.sender_comp_id), (56, &self.target_comp_id)] {
            if value.is_empty() {
                return Err(FixEncodeError::EmptyValue(tag));
            }
            if value.as_bytes().contains(&SOH) {
                return Err(FixEncodeError::SohInValue(tag));
            }
        }
        let sending_time = self.sending_time.sending_time();
        let seq = self.msg_seq_num.to_string();
        let raw_data = credentials.fix_raw_data(
            &sending_time,
            &seq,
            &self.sender_comp_id,
            &self.target_comp_id,
        );
        let mut message = FixMessage::new("A")
            .with(34, seq)
            .with(49, self.sender_comp_id.as_str())
            .with(52, sending_time)
            .with(56, self.target_comp_id.as_str())
            .with(95, ISSUED_SIGN_LEN.to_string())
            .with(96, raw_data.as_str())
            .with(98, "0")
            .with(108, self.heart_bt_int.to_string());
        if self.reset_seq_num {
            message.push(141, "Y");
        }
        message.push(554, credentials.api_key().as_str());
        Ok(message)
    }

    /// The signed Logon as bytes on the wire.
    ///
    /// # Errors
    /// As [`FixLogon::message`].
    pub fn encode(&self, credentials: &IssuedCredentials) -> Result<Vec<u8>, FixEncodeError> {
        self.message(credentials)?.encode()
    }
}

/// Why a server refuses a Logon: one line for `58` Text, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FixRefusal {
    /// The first message is not a Logon.
    #[error("expected a Logon (35=A), got 35={0}")]
    NotLogon(String),
    /// A required field is absent.
    #[error("missing field {0}")]
    MissingField(u32),
    /// `34` MsgSeqNum is not a positive integer.
    #[error("34 (MsgSeqNum) is not a positive integer")]
    MsgSeqNum,
    /// `52` SendingTime is not a FIX UTC timestamp.
    #[error("52 (SendingTime) is not of the form 20220915-18:29:58.756")]
    SendingTime,
    /// `52` SendingTime is further from the server's clock than it allows.
    #[error(
        "52 (SendingTime) is {skew_ms} ms away from the server's clock (allowed: {window_ms} ms)"
    )]
    StaleSendingTime {
        /// How far off SendingTime is, in milliseconds.
        skew_ms: u64,
        /// The server's window, in milliseconds.
        window_ms: u64,
    },
    /// `95` RawDataLength is not the length of `96` RawData.
    #[error("95 (RawDataLength) is not the length of 96 (RawData)")]
    RawDataLength,
    /// `96` RawData does not match.
    #[error("96 (RawData) does not match 52|34|49|56 under the key's secret")]
    WrongSignature,
}

/// The authentication fields of a received Logon (server side).
#[derive(Debug, Clone, Copy)]
pub struct ReceivedLogon<'a> {
    msg_seq_num: &'a str,
    sender_comp_id: &'a str,
    sending_time_text: &'a str,
    sending_time: UtcTimestamp,
    target_comp_id: &'a str,
    raw_data: &'a str,
    password: &'a str,
}

impl<'a> ReceivedLogon<'a> {
    /// Reads a Logon's `34`, `49`, `52`, `56`, `95`, `96` and `554`.
    ///
    /// # Errors
    /// [`FixRefusal`] naming the first missing or malformed field.
    pub fn from_message(message: &'a FixMessage) -> Result<Self, FixRefusal> {
        if message.msg_type() != "A" {
            return Err(FixRefusal::NotLogon(message.msg_type().to_owned()));
        }
        let field = |tag| message.get(tag).ok_or(FixRefusal::MissingField(tag));
        let msg_seq_num = field(34)?;
        if msg_seq_num.parse::<u64>().map_or(true, |n| n == 0) {
            return Err(FixRefusal::MsgSeqNum);
        }
        let sender_comp_id = field(49)?;
        let sending_time_text = field(52)?;
        let sending_time = UtcTimestamp::parse_sending_time(sending_time_text)
            .map_err(|_| FixRefusal::SendingTime)?;
        let target_comp_id = field(56)?;
        let raw_data_length = field(95)?;
        let raw_data = field(96)?;
        if raw_data_length.parse::<usize>().ok() != Some(raw_data.len()) {
            return Err(FixRefusal::RawDataLength);
        }
        let password = field(554)?;
        Ok(Self {
            msg_seq_num,
            sender_comp_id,
            sending_time_text,
            sending_time,
            target_comp_id,
            raw_data,
            password,
        })
    }

    /// `554` Password: the API key.
    pub fn api_key(&self) -> &'a str {
        self.password
    }

    /// `49` SenderCompID.
    pub fn sender_comp_id(&self) -> &'a str {
        self.sender_comp_id
    }

    /// `56` TargetCompID.
    pub fn target_comp_id(&self) -> &'a str {
        self.target_comp_id
    }

    /// `34` MsgSeqNum as sent.
    pub fn msg_seq_num(&self) -> &'a str {
        self.msg_seq_num
    }

    /// `52` SendingTime, parsed.
    pub fn sending_time(&self) -> UtcTimestamp {
        self.sending_time
    }

    /// Refuses a SendingTime more than `window` away from `now` (either direction).
    ///
    /// # Errors
    /// [`FixRefusal::StaleSendingTime`].
    pub fn check_time(&self, now: UtcTimestamp, window: Duration) -> Result<(), FixRefusal> {
        check_skew(self.sending_time, now, window)
            .map_err(|(skew_ms, window_ms)| FixRefusal::StaleSendingTime { skew_ms, window_ms })
    }

    /// Checks `96` RawData (constant time) over the fields as received.
    ///
    /// # Errors
    /// [`FixRefusal::WrongSignature`].
    pub fn verify(&self, credentials: &IssuedCredentials) -> Result<(), FixRefusal> {
        if credentials.verify_fix_raw_data(
            self.sending_time_text,
            self.msg_seq_num,
            self.sender_comp_id,
            self.target_comp_id,
            self.raw_data.as_bytes(),
        ) {
            Ok(())
        } else {
            Err(FixRefusal::WrongSignature)
        }
    }
}
