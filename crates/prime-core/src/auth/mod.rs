//! Who signs, and how: credentials and their secrets, nonces, the `API-Sign` signature, and
//! the diagnosis of a signature that does not match.

mod credentials;
pub mod diagnosis;
mod nonce;
mod secret;
mod signature;

pub use credentials::{
    ApiKey, Credentials, CredentialsError, Otp, OtpGenerator, SECRET_LEN, SigningKey,
};
pub use nonce::{ClockNonce, CountingNonce, NonceSource, NonceUnit, UnknownNonceUnit};
pub use secret::ApiSecret;
pub use signature::ApiSign;
