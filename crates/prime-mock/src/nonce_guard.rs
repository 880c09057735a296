//! Per-key nonce order: strictly increasing, or out of order within an optional window but
//! never twice.

use std::collections::BTreeSet;

/// Most nonces remembered inside a window; older ones raise the floor instead, so memory stays
/// bounded whatever the window.
const MAX_REMEMBERED: usize = 4096;

#[derive(Debug, Default)]
pub(crate) struct NonceGuard {
    highest: Option<u64>,
    window: u64,
    /// Accepted nonces that are still inside the window (a resend of one is a replay).
    recent: BTreeSet<u64>,
    /// Nothing at or below this is admissible any more.
    floor: Option<u64>,
}

impl NonceGuard {
    /// Whether `nonce` may be accepted now. Checking changes nothing: a request that fails
    /// later must not use up its nonce.
    pub(crate) fn admits(&self, nonce: u64) -> bool {
        let Some(highest) = self.highest else {
            return true;
        };
        if nonce > highest {
            return true;
        }
        nonce != highest
            && highest - nonce < self.window
            && self.floor.is_none_or(|floor| nonce > floor)
            && !self.recent.contains(&nonce)
    }

    /// Records an accepted nonce.
    pub(crate) fn accept(&mut self, nonce: u64) {
        let highest = self.highest.map_or(nonce, |h| h.max(nonce));
        self.highest = Some(highest);
        if self.window == 0 {
            return;
        }
        self.recent.insert(nonce);
        while let Some(&oldest) = self.recent.first() {
            let outside = highest - oldest >= self.window;
            if !outside && self.recent.len() <= MAX_REMEMBERED {
                break;
            }
            self.recent.pop_first();
            if !outside {
                self.floor = Some(self.floor.map_or(oldest, |f| f.max(oldest)));
            }
        }
    }

    /// Sets the window (in nonce units; 0 means strictly increasing).
    pub(crate) fn set_window(&mut self, window: u64) {
        self.window = window;
        // Nonces accepted before now were not remembered, so none of them may come back.
        self.floor = self.highest.max(self.floor);
        self.recent.clear();
    }

    /// The highest nonce accepted so far.
    pub(crate) fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// The window.
    pub(crate) fn window(&self) -> u64 {
        self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept_all(guard: &mut NonceGuard, nonces: &[u64]) -> Vec<bool> {
        nonces
            .iter()
            .map(|&n| {
                let ok = guard.admits(n);
                if ok {
                    guard.accept(n);
                }
                ok
            })
            .collect()
    }

    #[test]
    fn without_a_window_nonces_strictly_increase() {
        let mut guard = NonceGuard::default();
        assert_eq!(
            accept_all(&mut guard, &[5, 5, 4, 6, 100, 99]),
            [true, false, false, true, true, false]
        );
    }

    #[test]
    fn a_window_admits_late_nonces_once() {
        let mut guard = NonceGuard::default();
        accept_all(&mut guard, &[10]);
        guard.set_window(5);
        // 10 and below predate the window; 16..=20 arrive out of order; 15 is 5 behind 20.
        assert_eq!(
            accept_all(&mut guard, &[20, 17, 17, 16, 10, 9, 15, 21, 20]),
            [true, true, false, true, false, false, false, true, false]
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let mut guard = NonceGuard::default();
        guard.set_window(u64::MAX);
        for n in (1..=10_000).map(|n| n * 2) {
            assert!(guard.admits(n));
            guard.accept(n);
        }
        assert_eq!(guard.recent.len(), MAX_REMEMBERED);
        // The newest 4096 even nonces are remembered (11810..=20000); older ones raised the
        // floor to 11808, so they are refused rather than accepted twice.
        assert!(!guard.admits(2));
        assert!(!guard.admits(11_807));
        assert!(!guard.admits(19_998));
        assert!(guard.admits(11_809));
        assert!(guard.admits(19_999));
    }
}
