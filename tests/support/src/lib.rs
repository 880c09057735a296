//! Fixtures shared by the tests of every crate in the workspace, written once:
//!
//! - [`reference`](mod@reference): the signing primitives computed with `hmac`/`sha2` directly, so a test can
//!   check prime-core's signer (and the simulator's verifier) against values it did not make;
//! - [`scripted`]: a loopback HTTP server that answers each connection with bytes the test
//!   wrote, for replies no well-behaved server would send.
//!
//! It depends on no crate of the workspace, so that prime-core's own tests can use it.
#![forbid(unsafe_code)]

pub mod reference;
pub mod scripted;
