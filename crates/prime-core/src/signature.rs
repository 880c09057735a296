//! The `API-Sign` value.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;

/// Length of a base64-encoded HMAC-SHA512 tag.
const API_SIGN_LEN: usize = 88;

/// A computed `API-Sign` header value: base64 of the 64-byte HMAC-SHA512 tag, kept on the
/// stack.
///
/// It is not a secret (it travels in every request), but it authenticates exactly one request,
/// so `Debug` shows it in full for troubleshooting signature mismatches.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiSign {
    text: [u8; API_SIGN_LEN],
}

impl ApiSign {
    pub(crate) fn from_tag(tag: &[u8]) -> Self {
        let mut text = [0u8; API_SIGN_LEN];
        let written = STANDARD.encode_slice(tag, &mut text);
        debug_assert_eq!(written, Ok(API_SIGN_LEN));
        Self { text }
    }

    /// The signature as base64 text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// The signature as an `API-Sign` header value.
    pub fn to_header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.text)
            .unwrap_or_else(|_| unreachable!("base64 is a valid header value"))
    }
}

impl fmt::Display for ApiSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ApiSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiSign({})", self.as_str())
    }
}
