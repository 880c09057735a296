//! API two-factor authentication: the `otp` body field, right after the nonce, signed like
//! the rest of the body.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use prime_core::endpoints::{GetApiUser, ListApiUsers};
use prime_core::{Credentials, CredentialsError, Otp, RequestBuilder};
use zeroize::Zeroizing;

const SECRET: &str = prime_core::example::SECRET;
const NONCE: u64 = 1_616_492_376_594;

fn credentials(otp: Otp) -> Credentials {
    Credentials::new("KRA5L19LAW8Z", SECRET)
        .expect("valid")
        .with_otp(otp)
}

#[test]
fn a_static_password_travels_after_the_nonce_and_is_signed() {
    // Expected values from Python, independently of this crate:
    // python3 -c "import hmac,hashlib,base64; k=base64.b64decode('kQH5…uXg=='); b=b'{\"nonce\":1616492376594,\"otp\":\"123456\",\"user_id\":\"2T0RXL9B8K5D6\"}'; print(base64.b64encode(hmac.new(k,b'/0/private/GetPrimeApiUser'+hashlib.sha256(b'1616492376594'+b).digest(),hashlib.sha512).digest()).decode())"
    let request = RequestBuilder::new()
        .build(
            &GetApiUser::new("2T0RXL9B8K5D6"),
            &credentials(Otp::password("123456").unwrap()),
            NONCE,
        )
        .unwrap();
    assert_eq!(
        request.body().as_slice(),
        br#"{"nonce":1616492376594,"otp":"123456","user_id":"2T0RXL9B8K5D6"}"#
    );
    assert_eq!(
        request.headers()["API-Sign"],
        "dYpboMk0PXMsp8LRMZnB9QBZla35dGB1W+h/3AMb9PoT8M/0bvjMXFWrPa5UdkjGLHNOhmPelABAIGKSZHWVsw=="
    );
}

#[test]
fn passwords_are_json_escaped_and_bodies_without_fields_stay_objects() {
    // python3: body = '{"nonce":1616492376594,"otp":' + json.dumps('pa"ss wé', ensure_ascii=False) + '}'
    let request = RequestBuilder::new()
        .build(
            &ListApiUsers::new(),
            &credentials(Otp::password("pa\"ss w\u{e9}").unwrap()),
            NONCE,
        )
        .unwrap();
    assert_eq!(
        std::str::from_utf8(request.body()).unwrap(),
        "{\"nonce\":1616492376594,\"otp\":\"pa\\\"ss w\u{e9}\"}"
    );
    assert_eq!(
        request.headers()["API-Sign"],
        "HVfTFzj5suUytkd83qah8kb3iKtb1otMSCppY1j2lQXrx3X7dYiI4QuExiCa6jVN/AVXP8gslMqqge58wIT+Ug=="
    );
}

#[test]
fn a_generator_is_asked_for_every_request() {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&calls);
    let totp = Otp::generator(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        Zeroizing::new(format!("{:06}", 100_000 + n))
    });
    let credentials = credentials(totp);
    let builder = RequestBuilder::new();
    let first = builder
        .build(&ListApiUsers::new(), &credentials, 1)
        .unwrap();
    let second = builder
        .build(&ListApiUsers::new(), &credentials, 2)
        .unwrap();
    assert_eq!(first.body().as_slice(), br#"{"nonce":1,"otp":"100000"}"#);
    assert_eq!(second.body().as_slice(), br#"{"nonce":2,"otp":"100001"}"#);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(format!("{:?}", credentials.otp()), "Some(Otp::Generator)");
}

#[test]
fn unusable_codes_are_refused_before_signing() {
    for (password, expected) in [
        ("", CredentialsError::EmptyOtp),
        ("12\n34", CredentialsError::InvalidOtp { position: 2 }),
        ("\u{0}", CredentialsError::InvalidOtp { position: 0 }),
        ("\u{e9}\u{85}", CredentialsError::InvalidOtp { position: 2 }),
    ] {
        assert_eq!(
            Otp::password(password).unwrap_err(),
            expected,
            "{password:?}"
        );
    }
    // A generator that yields nothing usable fails the request, naming the field.
    let broken = credentials(Otp::generator(|| Zeroizing::new(String::new())));
    let error = RequestBuilder::new()
        .build(&ListApiUsers::new(), &broken, 1)
        .unwrap_err();
    assert_eq!(error.field(), "otp");
}

#[test]
fn the_password_is_never_shown() {
    let credentials = credentials(Otp::password("zq7-Xv9-secret").unwrap());
    let debug = format!("{credentials:?}");
    assert!(!debug.contains("zq7"), "{debug}");
    assert!(debug.contains("Otp::Password(<redacted>)"), "{debug}");
}
