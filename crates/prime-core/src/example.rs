//! Kraken's published examples, as data: the REST signing example (Kraken's Spot authentication
//! guide; Prime signs the same way), and the API key and issued secret of the Prime docs'
//! `CreatePrimeApiUserKey` example. For tests and
//! documentation only: these are nobody's credentials.
//!
//! ```
//! use prime_core::example;
//!
//! let credentials = example::credentials();
//! let sign = credentials.signing_key().sign(
//!     example::PATH,
//!     example::NONCE.to_string().as_bytes(),
//!     example::BODY.as_bytes(),
//! );
//! assert_eq!(sign.as_str(), example::API_SIGN);
//! ```

use crate::auth::Credentials;

/// The example's secret: base64 of 64 bytes.
pub const SECRET: &str =
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
/// The example's nonce.
pub const NONCE: u64 = 1_616_492_376_594;
/// The example's signed path.
pub const PATH: &str = "/0/private/AddOrder";
/// The example's body, exactly as signed.
pub const BODY: &str =
    "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25";
/// `API-Sign` for [`SECRET`], [`NONCE`], [`PATH`] and [`BODY`], as Kraken publishes it.
pub const API_SIGN: &str =
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==";
/// The API key of the `CreatePrimeApiUserKey` example in the Prime docs.
pub const API_KEY: &str = "KRA5L19LAW8Z";

/// [`API_KEY`] with [`SECRET`].
pub fn credentials() -> Credentials {
    Credentials::new(API_KEY, SECRET)
        .unwrap_or_else(|_| unreachable!("Kraken's example secret is valid base64"))
}

/// The secret of the `CreatePrimeApiUserKey` example in the Prime docs: opaque text, not
/// base64. Issued keys sign Prime WebSocket and FIX with it (see [`crate::issued`]).
pub const ISSUED_SECRET: &str = "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf";

/// [`API_KEY`] with [`ISSUED_SECRET`], as an issued key's credentials.
pub fn issued_credentials() -> crate::issued::IssuedCredentials {
    crate::issued::IssuedCredentials::new(API_KEY, ISSUED_SECRET)
        .unwrap_or_else(|_| unreachable!("the documented example is valid issued-key text"))
}
