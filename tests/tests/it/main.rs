//! Cross-crate integration tests, one binary (`hygiene.rs` and `secrets.rs` stay apart: each
//! installs a process-wide subscriber or allocator).

mod adopters;
mod clients;
mod concurrency;
mod docs;
mod fault_matrix;
mod faults;
mod fuzz_corpus;
mod host_order;
mod load;
mod rate_limits;
mod real_clients;
mod rotation;
mod secret_recovery;
mod throttle_and_2fa;
mod tls;
mod workflow;
