//! `API-Sign`: Kraken's official vector, `verify`, and the `ApiSign` value.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prime_core::{Credentials, SigningKey};

// Kraken's official vector (Spot auth guide; Prime uses the identical scheme), as quoted in
// docs/spec/protocol.md. Checked independently with:
// python3 -c 'import sys,hmac,hashlib,base64 as b;p,n,d=sys.argv[1:];print(b.b64encode(hmac.new(b.b64decode("kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="),p.encode()+hashlib.sha256((n+d).encode()).digest(),hashlib.sha512).digest()).decode())' /0/private/AddOrder 1616492376594 'nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25'
const SECRET: &str = prime_core::example::SECRET;
const NONCE: &[u8] = b"1616492376594";
const PATH: &str = "/0/private/AddOrder";
const BODY: &[u8] =
    b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25";
const API_SIGN: &str =
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==";

#[test]
fn official_vector_reproduces_exactly() {
    let key = SigningKey::from_base64(SECRET).expect("valid secret");
    let sign = key.sign(PATH, NONCE, BODY);
    assert_eq!(sign.as_str(), API_SIGN);
    assert_eq!(sign.to_string(), API_SIGN);
    assert_eq!(sign.to_header_value(), API_SIGN);
    // Debug shows the (non-secret) signature in full, for troubleshooting mismatches.
    assert_eq!(format!("{sign:?}"), format!("ApiSign({API_SIGN})"));
}

#[test]
fn official_vector_through_credentials_and_raw_bytes() {
    let credentials = Credentials::new("AnyKey", SECRET).expect("valid credentials");
    assert_eq!(
        credentials.signing_key().sign(PATH, NONCE, BODY).as_str(),
        API_SIGN
    );
    let raw = STANDARD.decode(SECRET).expect("base64");
    assert_eq!(
        SigningKey::from_bytes(&raw)
            .sign(PATH, NONCE, BODY)
            .as_str(),
        API_SIGN
    );
}

#[test]
fn signing_is_repeatable_with_one_prepared_key() {
    // The prepared HMAC state is cloned per call, never consumed: signing twice, or after
    // signing something else, gives the same value.
    let key = SigningKey::from_base64(SECRET).expect("valid secret");
    let first = key.sign(PATH, NONCE, BODY);
    let _other = key.sign("/0/private/Other", b"1", b"{}");
    assert_eq!(key.sign(PATH, NONCE, BODY), first);
    assert_eq!(key.clone().sign(PATH, NONCE, BODY), first);
}

#[test]
fn verify_accepts_the_vector_and_refuses_everything_else() {
    let key = SigningKey::from_base64(SECRET).expect("valid secret");
    assert!(key.verify(PATH, NONCE, BODY, API_SIGN.as_bytes()));

    // Another input of the signature.
    assert!(!key.verify("/0/private/AddOrde", NONCE, BODY, API_SIGN.as_bytes()));
    assert!(!key.verify(PATH, b"1616492376595", BODY, API_SIGN.as_bytes()));
    assert!(!key.verify(PATH, NONCE, &BODY[..BODY.len() - 1], API_SIGN.as_bytes()));
    let other_key = SigningKey::from_bytes(b"another secret");
    assert!(!other_key.verify(PATH, NONCE, BODY, API_SIGN.as_bytes()));

    // Malformed signatures: empty, truncated (valid base64 of fewer bytes), padded with
    // whitespace, over-long, URL-safe alphabet, unpadded.
    let truncated = STANDARD.encode(&STANDARD.decode(API_SIGN).expect("base64")[..32]);
    let url_safe = API_SIGN.replace('/', "_").replace('+', "-");
    let unpadded = API_SIGN.trim_end_matches('=');
    let spaced = format!(" {API_SIGN}");
    let longer = format!("{API_SIGN}AAAA");
    for bad in [
        "",
        truncated.as_str(),
        url_safe.as_str(),
        unpadded,
        spaced.as_str(),
        longer.as_str(),
    ] {
        assert!(!key.verify(PATH, NONCE, BODY, bad.as_bytes()), "{bad:?}");
    }
}

#[test]
fn the_query_string_is_part_of_the_signed_path() {
    let key = SigningKey::from_base64(SECRET).expect("valid secret");
    assert_ne!(
        key.sign(&format!("{PATH}?pair=XBTUSD"), NONCE, BODY),
        key.sign(PATH, NONCE, BODY)
    );
}
