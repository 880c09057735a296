//! The `API-Sign` value.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;

/// Length of a base64-encoded HMAC-SHA512 tag.
const API_SIGN_LEN: usize = 88;

/// A computed `API-Sign` header value: base64 of the 64-byte HMAC-SHA512 tag, kept on the
/// stack.
///
/// It is not a secret (it travels in every request), but it authenticates exactly one request,
/// so `Debug` shows it in full for troubleshooting signature mismatches.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiSign {
    text: [u8; API_SIGN_LEN],
}

impl ApiSign {
    pub(crate) fn from_tag(tag: &[u8]) -> Self {
        let mut text = [0u8; API_SIGN_LEN];
        let written = STANDARD.encode_slice(tag, &mut text);
        debug_assert_eq!(written, Ok(API_SIGN_LEN));
        Self { text }
    }

    /// The signature's base64 text as bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.text
    }

    /// The signature as base64 text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// The signature as an `API-Sign` header value.
    pub fn to_header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.text)
            .unwrap_or_else(|_| unreachable!("base64 is a valid header value"))
    }
}

impl fmt::Display for ApiSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ApiSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiSign({})", self.as_str())
    }
}

/// The `API-Sign` computation at the block level: exactly the compressions the protocol needs,
/// from the prepared HMAC key schedule, with every buffer on the stack.
///
/// `hmac`/`sha2`'s streaming API clones a whole HMAC state (two SHA-512 states plus a block
/// buffer) per signature and keeps a buffer per hash; this does the same arithmetic with
/// `sha2::block_api`'s compression functions (the same hardware-accelerated code) and pads
/// by hand. Correctness at every padding edge is checked against `hmac`/`sha2` in the tests
/// below and by the committed edge vectors (`vectors/edges.json`).
pub(crate) mod block {
    use sha2::block_api::{compress256, compress512};

    const SHA256_IV: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    pub(crate) const SHA512_IV: [u64; 8] = [
        0x6a09e667f3bcc908,
        0xbb67ae8584caa73b,
        0x3c6ef372fe94f82b,
        0xa54ff53a5f1d36f1,
        0x510e527fade682d1,
        0x9b05688c2b3e6c1f,
        0x1f83d9abfb41bd6b,
        0x5be0cd19137e2179,
    ];

    /// SHA-256 of `a ++ b` (the nonce digits, then the body) without concatenating them.
    pub(crate) fn sha256_concat(a: &[u8], b: &[u8]) -> [u8; 32] {
        let mut state = SHA256_IV;
        let mut buffer = [0u8; 64];
        let mut filled = 0;
        for part in [a, b] {
            let mut part = part;
            if filled > 0 {
                let take = part.len().min(64 - filled);
                buffer[filled..filled + take].copy_from_slice(&part[..take]);
                filled += take;
                part = &part[take..];
                if filled < 64 {
                    continue;
                }
                compress256(&mut state, std::slice::from_ref(&buffer));
            }
            let (blocks, rest) = part.as_chunks::<64>();
            compress256(&mut state, blocks);
            buffer[..rest.len()].copy_from_slice(rest);
            filled = rest.len();
        }
        let bits = ((a.len() as u64) + (b.len() as u64)).wrapping_mul(8);
        buffer[filled] = 0x80;
        buffer[filled + 1..].fill(0);
        if filled + 1 > 56 {
            // No room for the length: it goes in one more block.
            compress256(&mut state, std::slice::from_ref(&buffer));
            buffer = [0u8; 64];
        }
        buffer[56..].copy_from_slice(&bits.to_be_bytes());
        compress256(&mut state, std::slice::from_ref(&buffer));
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }

    /// SHA-512 continued from `state` (which already absorbed one 128-byte key block) over
    /// `a ++ b`, finished with the padding of `128 + a.len() + b.len()` bytes.
    pub(crate) fn sha512_after_key_block(mut state: [u64; 8], a: &[u8], b: &[u8]) -> [u8; 64] {
        let mut buffer = [0u8; 128];
        let mut filled = 0;
        for part in [a, b] {
            let mut part = part;
            if filled > 0 {
                let take = part.len().min(128 - filled);
                buffer[filled..filled + take].copy_from_slice(&part[..take]);
                filled += take;
                part = &part[take..];
                if filled < 128 {
                    continue;
                }
                compress512(&mut state, std::slice::from_ref(&buffer));
            }
            let (blocks, rest) = part.as_chunks::<128>();
            compress512(&mut state, blocks);
            buffer[..rest.len()].copy_from_slice(rest);
            filled = rest.len();
        }
        let bits = (128 + a.len() as u128 + b.len() as u128).wrapping_mul(8);
        buffer[filled] = 0x80;
        buffer[filled + 1..].fill(0);
        if filled + 1 > 112 {
            compress512(&mut state, std::slice::from_ref(&buffer));
            buffer = [0u8; 128];
        }
        buffer[112..].copy_from_slice(&bits.to_be_bytes());
        compress512(&mut state, std::slice::from_ref(&buffer));
        let mut digest = [0u8; 64];
        for (out, word) in digest.chunks_exact_mut(8).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }

    /// The state after compressing one key block `key ^ pad` (key at most 128 bytes).
    pub(crate) fn key_block_state(key: &[u8], pad: u8) -> [u64; 8] {
        let mut block = [pad; 128];
        for (b, k) in block.iter_mut().zip(key) {
            *b ^= k;
        }
        let mut state = SHA512_IV;
        compress512(&mut state, &[block]);
        zeroize::Zeroize::zeroize(&mut block);
        state
    }

    /// `HMAC-SHA512(key, path ++ SHA256(nonce ++ body))` from the prepared inner and outer
    /// states: the SHA-256 blocks, the inner message's blocks, one outer block.
    pub(crate) fn api_sign_tag(
        inner: &[u64; 8],
        outer: &[u64; 8],
        path: &[u8],
        nonce: &[u8],
        body: &[u8],
    ) -> [u8; 64] {
        let digest = sha256_concat(nonce, body);
        let inner_hash = sha512_after_key_block(*inner, path, &digest);
        sha512_after_key_block(*outer, &inner_hash, &[])
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use hmac::{Hmac, KeyInit, Mac};
        use sha2::{Digest, Sha256, Sha512};

        fn reference(key: &[u8], path: &[u8], nonce: &[u8], body: &[u8]) -> [u8; 64] {
            let digest = Sha256::new()
                .chain_update(nonce)
                .chain_update(body)
                .finalize();
            let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(key).unwrap();
            mac.update(path);
            mac.update(&digest);
            mac.finalize().into_bytes().into()
        }

        fn prepared(key: &[u8]) -> ([u64; 8], [u64; 8]) {
            let hashed;
            let key = if key.len() > 128 {
                hashed = Sha512::digest(key);
                &hashed[..]
            } else {
                key
            };
            (key_block_state(key, 0x36), key_block_state(key, 0x5c))
        }

        /// Every split of every length across both padding edges of both hashes, against
        /// `hmac`/`sha2`'s streaming implementation.
        #[test]
        fn agrees_with_hmac_and_sha2_at_every_length_and_split() {
            let bytes: Vec<u8> = (0..400u32).map(|i| (i * 31 + 7) as u8).collect();
            for key_len in [1, 32, 64, 127, 128, 129, 300] {
                let key = &bytes[..key_len];
                let (inner, outer) = prepared(key);
                for total in 0..=260 {
                    for nonce_len in [0, 13, 19, 64].into_iter().filter(|n| *n <= total) {
                        let (nonce, body) = bytes[..total].split_at(nonce_len);
                        for path_len in [0, 18, 95, 96, 112, 200] {
                            let path = &bytes[100..100 + path_len];
                            assert_eq!(
                                api_sign_tag(&inner, &outer, path, nonce, body),
                                reference(key, path, nonce, body),
                                "key {key_len}, message {total} ({nonce_len}+), path {path_len}"
                            );
                        }
                    }
                }
            }
        }
    }
}
