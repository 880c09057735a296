//! The floor of `API-Sign`: only the compressions the protocol cannot avoid for one
//! `CreatePrimeApiUserKey` request — the SHA-256 blocks of `nonce ++ body` and one SHA-512
//! block each for the HMAC inner and outer message, from the prepared key schedule, on blocks
//! padded in advance. Shared by the workspace's signing benches and the peer bench (which
//! includes this file: it stands outside the workspace).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prime_core::Endpoint;
use prime_core::endpoints::CreateApiUserKey;
use sha2::block_api::{compress256, compress512};

/// The spec's example public key.
pub const KEY: &str = "KRA5L19LAW8Z";
/// The secret of Kraken's official signing vector.
pub const SECRET: &str = prime_core::example::SECRET;
/// The spec's example user id.
pub const USER_ID: &str = "2T0RXL9B8K5D6";
/// A nanosecond nonce of realistic length (19 digits).
pub const NONCE: u64 = 1_795_000_000_123_456_789;

const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const SHA512_IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// SHA padding of `message` into `block`-byte blocks with a `len_bytes`-byte big-endian bit
/// length counting `prefix_len` bytes hashed before it, as the hash functions do it; done
/// once, outside the measured loop.
fn pad(message: &[u8], prefix_len: usize, block: usize, len_bytes: usize) -> Vec<u8> {
    let mut padded = message.to_vec();
    padded.push(0x80);
    while !(padded.len() + len_bytes).is_multiple_of(block) {
        padded.push(0);
    }
    let bits = ((prefix_len + message.len()) as u128) * 8;
    padded.extend_from_slice(&bits.to_be_bytes()[16 - len_bytes..]);
    padded
}

/// The HMAC-SHA512 key schedule by hand: the state after the ipad or opad block.
fn prepared_state(secret: &[u8], pad_byte: u8) -> [u64; 8] {
    let mut block = [0u8; 128];
    block[..secret.len()].copy_from_slice(secret);
    for b in &mut block {
        *b ^= pad_byte;
    }
    let mut state = SHA512_IV;
    compress512(&mut state, &[block]);
    state
}

/// The floor's prepared blocks and key states.
#[derive(Debug, Clone)]
pub struct Floor {
    sha256_blocks: Vec<[u8; 64]>,
    ipad: [u64; 8],
    opad: [u64; 8],
    inner_block: [u8; 128],
    outer_block: [u8; 128],
}

impl Floor {
    /// Pads `nonce ++ body` (the nonce is [`NONCE`]) and the HMAC blocks for
    /// `CreatePrimeApiUserKey`; done once, outside the measured loop.
    pub fn new(body: &[u8]) -> Self {
        let message: Vec<u8> = [NONCE.to_string().as_bytes(), body].concat();
        let secret = STANDARD.decode(SECRET).expect("base64");
        let path = CreateApiUserKey::PATH.as_bytes();
        let mut inner_block: [u8; 128] = pad(&vec![0; path.len() + 32], 128, 128, 16)
            .try_into()
            .expect("one block: path + digest fit");
        inner_block[..path.len()].copy_from_slice(path);
        Self {
            sha256_blocks: pad(&message, 0, 64, 8)
                .chunks_exact(64)
                .map(|c| c.try_into().expect("64-byte chunk"))
                .collect(),
            ipad: prepared_state(&secret, 0x36),
            opad: prepared_state(&secret, 0x5c),
            inner_block,
            outer_block: pad(&[0; 64], 128, 128, 16).try_into().expect("one block"),
        }
    }

    /// The four compressions; returns the HMAC tag as state words.
    pub fn run(&mut self) -> [u64; 8] {
        let path_len = CreateApiUserKey::PATH.len();
        let mut s256 = SHA256_IV;
        compress256(&mut s256, std::hint::black_box(&self.sha256_blocks));
        for (i, word) in s256.iter().enumerate() {
            self.inner_block[path_len + 4 * i..path_len + 4 * i + 4]
                .copy_from_slice(&word.to_be_bytes());
        }
        let mut inner = self.ipad;
        compress512(&mut inner, &[self.inner_block]);
        for (i, word) in inner.iter().enumerate() {
            self.outer_block[8 * i..8 * i + 8].copy_from_slice(&word.to_be_bytes());
        }
        let mut outer = self.opad;
        compress512(&mut outer, &[self.outer_block]);
        outer
    }
}
