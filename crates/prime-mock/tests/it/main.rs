//! prime-mock's integration tests, one binary (`logging.rs` stays apart: it installs a global
//! tracing subscriber).

mod authentication;
mod endpoints;
mod faults;
mod http_client;
mod issued_keys;
mod permissions;
mod server;
mod settlement;
mod throughput;
