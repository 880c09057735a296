#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| prime_fuzz::mock_request(data));
