//! The bytes on the wire: signed requests built from an endpoint (as an `http::Request` or as
//! HTTP/1.1 bytes), and responses parsed into typed results or typed errors (Kraken's error
//! codes, and a created key's secret salvaged from a broken reply).

mod http1;
mod kraken_error;
mod request;
mod response;
mod salvage;

pub use http1::WriteRequestError;
pub use kraken_error::{ErrorCode, KrakenError, Severity};
pub use request::{
    DEFAULT_BASE_URL, DEFAULT_USER_AGENT, RequestBuilder, encode_body, encode_body_with_otp,
};
pub use response::{RawBody, Reply, ResponseError, parse_response};
pub use salvage::SalvagedKey;
pub(crate) use salvage::salvage_key;
