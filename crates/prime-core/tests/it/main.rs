//! prime-core's integration tests, one binary (`allocations.rs` stays apart: it installs a
//! counting global allocator).

mod adopters;
mod bad_input;
mod credentials;
mod diagnosis;
mod driver;
mod golden;
mod http1;
mod issued;
mod kraken_errors;
mod layers;
mod nonce;
mod otp;
mod properties;
mod responses;
mod retry;
mod rotation;
mod salvage;
mod secrets;
mod send_order;
mod signing;
mod throttle;
mod validation;
mod zeroize;
