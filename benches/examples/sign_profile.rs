//! Runs one of the signing benches' bodies `N` times, for instruction counts under callgrind
//! (which are stable on a shared, noisy machine where wall-clock medians are not):
//!
//! ```text
//! cargo build --profile bench -p prime-benches --example sign_profile
//! valgrind --tool=callgrind target/release/examples/sign_profile sign 100000
//! ```
//!
//! Run once with `N = 0` and subtract to remove setup.
fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "sign".to_owned());
    let count: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let mut inputs = prime_benches::SigningInputs::new();
    match mode.as_str() {
        "sign" => (0..count).for_each(|_| {
            std::hint::black_box(inputs.sign());
        }),
        "floor" => (0..count).for_each(|_| {
            std::hint::black_box(inputs.floor());
        }),
        "bytes" => {
            let mut buf = Vec::new();
            (0..count).for_each(|_| {
                inputs.bytes(&mut buf);
                std::hint::black_box(&buf);
            });
        }
        "signature" => (0..count).for_each(|_| {
            std::hint::black_box(inputs.signature());
        }),
        "naive" => (0..count).for_each(|_| {
            std::hint::black_box(inputs.naive());
        }),
        other => panic!("unknown mode {other}: sign, bytes, signature, floor or naive"),
    }
}
