//! The high-water mark file: the key's last nonce, a durable bound above it, and the boot it
//! was written in.
//!
//! One fixed-length line, rewritten in place under the lock, so it never needs truncating and
//! a reader never sees half of two writes:
//!
//! ```text
//! prime-send-order 1 last=01700000000000000001 durable=01700000001000000001 boot=<boot id>
//! ```

use prime_core::NonceUnit;

const MAGIC: &str = "prime-send-order 1";
/// Boot ids are 36 characters (a UUID) where the OS has one; shorter ones are padded.
const BOOT_WIDTH: usize = 36;
/// The encoded length: every write covers the whole line.
pub(crate) const LINE_LEN: usize =
    MAGIC.len() + " last=".len() + 20 + " durable=".len() + 20 + " boot=".len() + BOOT_WIDTH + 1;

/// What the file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Mark {
    /// The last nonce recorded (written on every turn, synced only with `durable`).
    pub(crate) last: u64,
    /// A bound above every nonce ever recorded, synced to disk before any nonce above the
    /// previous bound was sent.
    pub(crate) durable: u64,
    /// The boot `last` was written in; empty where the OS names none.
    pub(crate) boot: String,
}

impl Mark {
    /// The floor for the next nonce. Within one boot the page cache holds `last` for every
    /// process, even one killed right after writing it; after a reboot, writes that were never
    /// synced may be lost, so the synced bound counts.
    pub(crate) fn floor(&self, boot: &str) -> u64 {
        if self.boot == boot {
            self.last
        } else {
            self.last.max(self.durable)
        }
    }

    /// Records `nonce` as the last one; returns whether the file must be synced before the
    /// request leaves (the nonce passed the durable bound, which then moves one second of
    /// the nonce's unit ahead of it, so a sync happens about once a second at most).
    pub(crate) fn record(&mut self, nonce: u64, boot: &str) -> bool {
        self.last = nonce;
        boot.clone_into(&mut self.boot);
        if nonce < self.durable {
            return false;
        }
        let headroom = match NonceUnit::guess(nonce) {
            Some(NonceUnit::Milliseconds) => 1_000,
            Some(NonceUnit::Microseconds) => 1_000_000,
            Some(NonceUnit::Nanoseconds) => 1_000_000_000,
            // A counter, not a clock reading.
            None => 1_000,
        };
        self.durable = nonce.saturating_add(headroom);
        true
    }

    pub(crate) fn encode(&self) -> String {
        let boot: String = self.boot.chars().take(BOOT_WIDTH).collect();
        let line = format!(
            "{MAGIC} last={:020} durable={:020} boot={boot:<BOOT_WIDTH$}\n",
            self.last, self.durable
        );
        debug_assert_eq!(line.len(), LINE_LEN);
        line
    }

    /// Reads a line written by `encode`; an empty file is a new key.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() {
            return Some(Self::default());
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let rest = text.strip_prefix(MAGIC)?.strip_suffix('\n')?;
        let mut fields = rest.split(' ').filter(|f| !f.is_empty());
        let last = fields.next()?.strip_prefix("last=")?.parse().ok()?;
        let durable = fields.next()?.strip_prefix("durable=")?.parse().ok()?;
        let boot = fields.next()?.strip_prefix("boot=")?.to_owned();
        if fields.next().is_some() || durable < last {
            return None;
        }
        Some(Self {
            last,
            durable,
            boot,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_at_one_length() {
        for (last, durable, boot) in [
            (0, 0, ""),
            (1_700_000_000_000, 1_700_000_001_000, "x"),
            (u64::MAX, u64::MAX, "0d3c1ae6-8b7e-4f0e-9a51-2f7a3c9e1b44"),
        ] {
            let mark = Mark {
                last,
                durable,
                boot: boot.to_owned(),
            };
            let line = mark.encode();
            assert_eq!(line.len(), LINE_LEN);
            assert_eq!(Mark::decode(line.as_bytes()), Some(mark));
        }
        assert_eq!(Mark::decode(b""), Some(Mark::default()));
    }

    #[test]
    fn damaged_lines_are_refused() {
        let line = Mark {
            last: 5,
            durable: 9,
            boot: "b".into(),
        }
        .encode();
        for cut in 1..line.len() {
            assert_eq!(Mark::decode(&line.as_bytes()[..cut]), None, "cut at {cut}");
        }
        let swapped = line.replace("last=00000000000000000005", "last=00000000000000000010");
        assert_eq!(Mark::decode(swapped.as_bytes()), None, "durable below last");
        assert_eq!(Mark::decode(b"\xff\xfe"), None);
    }

    #[test]
    fn the_durable_bound_moves_a_second_ahead_only_when_passed() {
        let mut mark = Mark::default();
        let ms = 1_700_000_000_000;
        assert!(mark.record(ms, "b"));
        assert_eq!(mark.durable, ms + 1_000);
        assert!(!mark.record(ms + 999, "b"), "inside the bound: no sync");
        assert!(mark.record(ms + 1_000, "b"));
        let ns = 1_700_000_000_000_000_000;
        assert!(mark.record(ns, "b"));
        assert_eq!(mark.durable, ns + 1_000_000_000);
        assert!(mark.record(u64::MAX, "b"));
        assert_eq!(mark.durable, u64::MAX);
    }

    #[test]
    fn after_a_reboot_the_durable_bound_is_the_floor() {
        let mut mark = Mark::default();
        mark.record(1_700_000_000_000, "first");
        mark.record(1_700_000_000_500, "first");
        assert_eq!(mark.floor("first"), 1_700_000_000_500);
        assert_eq!(mark.floor("second"), 1_700_000_001_000);
    }
}
