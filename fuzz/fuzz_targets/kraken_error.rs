#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| prime_fuzz::kraken_error(data));
