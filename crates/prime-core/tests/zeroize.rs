//! Secret material is wiped on drop: the `ZeroizeOnDrop` bound holds for every type that holds
//! a secret, and for the library types they rely on.

use zeroize::{ZeroizeOnDrop, Zeroizing};

fn zeroized_on_drop<T: ZeroizeOnDrop>() {}

#[test]
fn secret_types_are_zeroize_on_drop() {
    // What the markers in prime-core rest on.
    zeroized_on_drop::<hmac::Hmac<sha2::Sha512>>();
    zeroized_on_drop::<Zeroizing<String>>();
    zeroized_on_drop::<Zeroizing<Vec<u8>>>();
    // The types that hold secrets.
    zeroized_on_drop::<prime_core::SigningKey>();
    zeroized_on_drop::<prime_core::Credentials>();
    zeroized_on_drop::<prime_core::ApiSecret>();
    zeroized_on_drop::<prime_core::RawBody>();
}
