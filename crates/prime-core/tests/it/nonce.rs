//! Nonces: the default source is strictly increasing and duplicate-free under any thread
//! interleaving, even when the wall clock steps backwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use prime_core::{ClockNonce, CountingNonce, NonceSource};
use proptest::prelude::*;

const THREADS: usize = 8;
const PER_THREAD: usize = 10_000;

fn now_ns() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    u64::try_from(nanos).expect("before 2554")
}

/// [`issue_concurrently_n`] with 10 000 nonces per thread.
fn issue_concurrently(next: impl Fn(usize, usize) -> u64 + Send + Sync + 'static) -> Vec<u64> {
    issue_concurrently_n(PER_THREAD, next)
}

/// Runs `next(thread, i)` on 8 threads, `per_thread` times each, and checks each thread saw
/// a strictly increasing sequence and no value was issued twice. Returns all values, sorted.
fn issue_concurrently_n(
    per_thread: usize,
    next: impl Fn(usize, usize) -> u64 + Send + Sync + 'static,
) -> Vec<u64> {
    let next = Arc::new(next);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let next = Arc::clone(&next);
            thread::spawn(move || (0..per_thread).map(|i| next(t, i)).collect::<Vec<u64>>())
        })
        .collect();
    let mut all = Vec::with_capacity(THREADS * per_thread);
    for handle in handles {
        let seen = handle.join().expect("no panic");
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "a thread saw a nonce that did not increase"
        );
        all.extend(seen);
    }
    let issued = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), issued, "a nonce was issued twice");
    all
}

#[test]
fn clock_nonce_is_strictly_increasing_and_unique_across_8_threads() {
    let source = Arc::new(ClockNonce::new());
    let before = now_ns();
    let all = {
        let source = Arc::clone(&source);
        issue_concurrently(move |_, _| source.next_nonce())
    };
    let after = now_ns();
    // Nanosecond time, running ahead of the clock by at most one per nonce issued.
    assert!(all[0] >= before);
    let max = all[all.len() - 1];
    assert!(
        max <= after + (THREADS * PER_THREAD) as u64,
        "{max} vs {after}"
    );
    assert_eq!(source.last(), max);
}

#[test]
fn clock_nonce_survives_a_clock_that_steps_backwards_across_8_threads() {
    // A shared fake clock that mostly steps back and sometimes jumps forward.
    let clock = Arc::new(AtomicU64::new(1_000_000_000));
    let source = Arc::new(ClockNonce::new());
    let all = {
        let (clock, source) = (Arc::clone(&clock), Arc::clone(&source));
        issue_concurrently(move |t, i| {
            let now = if (i + t) % 5 == 0 {
                clock.fetch_add(17, Ordering::Relaxed)
            } else {
                clock.fetch_sub(3, Ordering::Relaxed)
            };
            let nonce = source.next_at(now);
            assert!(
                nonce >= now,
                "a nonce is never behind the clock it was given"
            );
            nonce
        })
    };
    assert_eq!(all.len(), THREADS * PER_THREAD);
}

#[test]
fn clock_nonce_survives_skewed_per_thread_clocks() {
    // Each thread's clock is skewed differently and jitters backwards: e.g. threads reading
    // different cores' clocks, or an NTP step in the middle.
    let source = Arc::new(ClockNonce::after(5));
    let all = {
        let source = Arc::clone(&source);
        issue_concurrently(move |t, i| {
            let skew = t as u64 * 1_000;
            let wobble = (i as u64 * 7_919) % 5_000;
            source.next_at(10_000 + skew + wobble)
        })
    };
    assert!(all[0] > 5);
}

#[test]
fn next_at_is_max_of_previous_plus_one_and_now() {
    let source = ClockNonce::new();
    assert_eq!(source.last(), 0);
    assert_eq!(source.next_at(100), 100);
    assert_eq!(source.next_at(50), 101, "the clock stepped back: count up");
    assert_eq!(source.next_at(101), 102);
    assert_eq!(
        source.next_at(1_000),
        1_000,
        "the clock caught up: follow it"
    );
    assert_eq!(source.next_at(0), 1_001);
    assert_eq!(source.last(), 1_001);

    let resumed = ClockNonce::after(1_616_492_376_594);
    assert_eq!(resumed.next_at(1), 1_616_492_376_595);

    // Documented saturation at u64::MAX (year 2554 in nanoseconds): no overflow panic.
    let end = ClockNonce::after(u64::MAX - 1);
    assert_eq!(end.next_at(0), u64::MAX);
    assert_eq!(end.next_at(0), u64::MAX);
}

#[test]
fn counting_nonce_counts_and_arc_is_a_source() {
    let source = Arc::new(CountingNonce::starting_at(7));
    assert_eq!(source.next_nonce(), 7);
    let shared: &dyn NonceSource = &source;
    assert_eq!(shared.next_nonce(), 8);
    assert_eq!(source.next_nonce(), 9);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any sequence of clock readings yields `max(previous + 1, now)`: strictly increasing
    /// and never behind the clock.
    #[test]
    fn any_clock_sequence_gives_strictly_increasing_nonces(
        floor in 0_u64..u64::MAX / 2,
        readings in prop::collection::vec(0_u64..u64::MAX / 2, 1..200),
    ) {
        let source = ClockNonce::after(floor);
        let mut previous = floor;
        for now in readings {
            let nonce = source.next_at(now);
            prop_assert_eq!(nonce, (previous + 1).max(now));
            prop_assert!(nonce > previous);
            previous = nonce;
        }
        prop_assert_eq!(source.last(), previous);
    }
}

proptest! {
    // Each case spawns 8 threads; a few cases of arbitrary clock patterns suffice.
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// 8 threads, each reading its own arbitrary clock (steps back and forth), share one
    /// source: every thread's nonces increase and none is issued twice.
    #[test]
    fn any_per_thread_clocks_give_unique_increasing_nonces(
        clocks in prop::collection::vec(
            prop::collection::vec(-1_000_i64..1_000, 1..64),
            THREADS,
        ),
    ) {
        let source = Arc::new(ClockNonce::new());
        let clocks = Arc::new(clocks);
        let all = {
            let source = Arc::clone(&source);
            issue_concurrently_n(1_000, move |t, i| {
                let steps = &clocks[t];
                let now = 1_000_000_i64 + steps[i % steps.len()] * (i as i64 % 7);
                source.next_at(u64::try_from(now).expect("positive"))
            })
        };
        prop_assert_eq!(all.len(), THREADS * 1_000);
        prop_assert_eq!(source.last(), all[all.len() - 1]);
    }
}

#[test]
fn each_unit_counts_the_clock_in_its_own_digits() {
    use prime_core::NonceUnit;
    use std::time::Duration;
    // 2021-03-23T09:39:36.594Z, Kraken's example nonce, in each unit.
    let at = Duration::from_millis(1_616_492_376_594);
    assert_eq!(NonceUnit::Milliseconds.count(at), 1_616_492_376_594);
    assert_eq!(NonceUnit::Microseconds.count(at), 1_616_492_376_594_000);
    assert_eq!(NonceUnit::Nanoseconds.count(at), 1_616_492_376_594_000_000);
    for unit in [
        NonceUnit::Milliseconds,
        NonceUnit::Microseconds,
        NonceUnit::Nanoseconds,
    ] {
        assert_eq!(NonceUnit::guess(unit.count(at)), Some(unit));
        assert_eq!(unit.as_str().parse::<NonceUnit>(), Ok(unit));
        let source = ClockNonce::with_unit(unit);
        assert_eq!(source.unit(), Some(unit));
        let nonce = source.next_nonce();
        assert_eq!(NonceUnit::guess(nonce), Some(unit), "{unit}: {nonce}");
    }
    assert_eq!(NonceUnit::guess(42), None);
    assert!("seconds".parse::<NonceUnit>().is_err());
    assert_eq!(NonceUnit::default(), NonceUnit::Nanoseconds);
    assert_eq!(NonceUnit::Nanoseconds.count(Duration::MAX), u64::MAX);
}
