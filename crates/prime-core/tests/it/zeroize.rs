//! Secret material is wiped on drop: the `ZeroizeOnDrop` bound holds for every type that holds
//! a secret, and for the library parts those claims rest on.

use hmac::digest::block_api::CoreProxy;
use zeroize::{ZeroizeOnDrop, Zeroizing};

fn zeroized_on_drop<T: ZeroizeOnDrop>() {}

#[test]
fn secret_types_are_zeroize_on_drop() {
    // `hmac::Hmac<Sha512>` does not carry the marker itself, but everything secret in it does:
    // its two prepared states (inner and outer key schedule) are SHA-512 cores, which wipe
    // themselves on drop when `sha2` is built with `zeroize`. Its block buffer holds only
    // message bytes (path and body digest), never key material.
    zeroized_on_drop::<<sha2::Sha512 as CoreProxy>::Core>();
    zeroized_on_drop::<Zeroizing<String>>();
    zeroized_on_drop::<Zeroizing<Vec<u8>>>();
    // The types that hold secrets.
    zeroized_on_drop::<prime_core::SigningKey>();
    zeroized_on_drop::<prime_core::Credentials>();
    zeroized_on_drop::<prime_core::ApiSecret>();
    zeroized_on_drop::<prime_core::RawBody>();
}
