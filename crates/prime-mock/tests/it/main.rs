//! prime-mock's integration tests, one binary (`logging.rs` stays apart: it installs a global
//! tracing subscriber; so does `connection_limits.rs`: it counts the process's file
//! descriptors, which tests running beside it would disturb).

mod authentication;
mod choices;
mod diagnosis;
mod endpoints;
mod faults;
mod http_client;
mod issued_keys;
mod permissions;
mod server;
mod settlement;
mod throughput;
