//! Identifiers and secrets, drawn from one seeded generator so a seeded simulator issues the
//! same ids and secrets for the same sequence of calls.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zeroize::Zeroizing;

/// The characters of Kraken-style ids (`2T0RXL9B8K5D6`).
const ID_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

pub(crate) struct IdSource {
    rng: ChaCha8Rng,
}

impl IdSource {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn word(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(ID_ALPHABET[self.rng.random_range(0..ID_ALPHABET.len())]))
            .collect()
    }

    /// A user id like the documented `2T0RXL9B8K5D6`.
    pub(crate) fn user_id(&mut self) -> String {
        self.word(13)
    }

    /// A key id like the documented `3RM9K4ZTC0C00`.
    pub(crate) fn key_id(&mut self) -> String {
        self.word(13)
    }

    /// A public API key shaped like Kraken's real ones: 56 characters of base64 (so clients
    /// meet `+` and `/` in keys, as they will in production).
    pub(crate) fn api_key(&mut self) -> String {
        let mut bytes = [0u8; 42];
        self.rng.fill_bytes(&mut bytes);
        STANDARD.encode(bytes)
    }

    /// A key CreatePrimeApiUserKey issues, shaped like the documented `KRA5L19LAW8Z`: 12
    /// uppercase letters and digits.
    pub(crate) fn issued_api_key(&mut self) -> String {
        self.word(12)
    }

    /// An issued key's secret, shaped like the documented `6xq8p1mvk9r3n7swt2l5cj4eaydhzbf`:
    /// 31 lowercase letters and digits. Opaque text, never base64 (31 characters cannot be
    /// padded base64), used as-is as an HMAC-SHA256 key by Prime WebSocket and FIX.
    pub(crate) fn issued_secret(&mut self) -> Zeroizing<String> {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let mut secret = Zeroizing::new(String::with_capacity(31));
        for _ in 0..31 {
            secret.push(char::from(
                ALPHABET[self.rng.random_range(0..ALPHABET.len())],
            ));
        }
        secret
    }

    /// 64 secret bytes. The caller encodes them once for the client and keeps only the
    /// prepared signing key.
    pub(crate) fn secret(&mut self) -> [u8; prime_core::SECRET_LEN] {
        let mut bytes = [0u8; prime_core::SECRET_LEN];
        self.rng.fill_bytes(&mut bytes);
        bytes
    }

    /// A batch id like the documented `B_Y7T2LPVX`.
    pub(crate) fn batch_id(&mut self) -> String {
        format!("B_{}", self.word(8))
    }

    /// A trade id: a version-4 UUID, as in the documented `trade_ids`.
    pub(crate) fn trade_id(&mut self) -> String {
        let mut b = [0u8; 16];
        self.rng.fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_the_documented_examples() {
        let mut ids = IdSource::new(7);
        let user = ids.user_id();
        assert_eq!(user.len(), 13);
        assert!(user.bytes().all(|b| ID_ALPHABET.contains(&b)));
        assert_eq!(ids.api_key().len(), 56);
        assert!(ids.batch_id().starts_with("B_"));
        let trade = ids.trade_id();
        assert_eq!(trade.len(), 36);
        assert_eq!(&trade[14..15], "4");
    }

    #[test]
    fn issued_credentials_look_like_the_documented_example_and_are_not_base64() {
        let mut ids = IdSource::new(11);
        for _ in 0..200 {
            let key = ids.issued_api_key();
            assert_eq!(key.len(), "KRA5L19LAW8Z".len());
            assert!(
                key.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            );
            let secret = ids.issued_secret();
            assert_eq!(secret.len(), "6xq8p1mvk9r3n7swt2l5cj4eaydhzbf".len());
            assert!(
                secret
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            );
            assert!(STANDARD.decode(secret.as_bytes()).is_err());
            assert!(prime_core::SigningKey::from_base64(&secret).is_err());
        }
    }

    #[test]
    fn a_seed_fixes_the_sequence() {
        let draw = |seed| {
            let mut ids = IdSource::new(seed);
            (ids.user_id(), ids.api_key(), ids.secret())
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }
}
