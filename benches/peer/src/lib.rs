//! What the peer bench (`benches/peer.rs`) and its callgrind profile
//! (`examples/peer_profile.rs`) share: the inputs and the floor, the four compressions the
//! protocol cannot avoid, on blocks padded in advance. The floor is the workspace benches' own
//! file, so both measure the same code.

#[path = "../../src/floor.rs"]
mod floor;

pub use floor::{Floor, KEY, NONCE, SECRET, USER_ID};
