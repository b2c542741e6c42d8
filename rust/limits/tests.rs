use std::sync::Arc;

use super::gcra::{Check, Limit, Limiter, State, Verdict, MIN_SWEEP};
use super::slots::Slots;

const S: i64 = 1_000_000_000;

fn limit(name: &str, rate: u64, period_s: u64, burst: u64) -> Arc<Limit> {
    Arc::new(Limit::new(name, rate, period_s * S as u64, burst).unwrap())
}

fn admit(l: &mut Limiter, checks: &[(&str, &Arc<Limit>, u64)], now: i64) -> (Verdict, Vec<State>) {
    let checks: Vec<Check<'_>> = checks
        .iter()
        .map(|&(key, limit, cost)| Check { key, limit, cost })
        .collect();
    let mut states = Vec::new();
    let v = l.admit(&checks, now, &mut states);
    (v, states)
}

fn one(l: &mut Limiter, key: &str, lim: &Arc<Limit>, cost: u64, now: i64) -> Verdict {
    admit(l, &[(key, lim, cost)], now).0
}

fn denied(retry_after_ns: u64) -> Verdict {
    Verdict::Denied {
        by: 0,
        retry_after_ns: Some(retry_after_ns),
    }
}

#[test]
fn rpm_burst_then_one_per_second_exactly() {
    let rpm = limit("requests", 60, 60, 60);
    let mut l = Limiter::new(100);
    for k in 1..=60u64 {
        let (v, st) = admit(&mut l, &[("a", &rpm, 1)], 0);
        assert_eq!(v, Verdict::Allowed);
        assert_eq!(
            st[0],
            State {
                remaining: 60 - k,
                reset_ns: k * S as u64
            }
        );
    }
    let (v, st) = admit(&mut l, &[("a", &rpm, 1)], 0);
    assert_eq!(v, denied(S as u64));
    // A denial reports the untouched state.
    assert_eq!(
        st[0],
        State {
            remaining: 0,
            reset_ns: 60 * S as u64
        }
    );
    assert_eq!(one(&mut l, "a", &rpm, 1, S - 1), denied(1));
    assert_eq!(one(&mut l, "a", &rpm, 1, S), Verdict::Allowed);
    // Other keys have their own bucket.
    assert_eq!(one(&mut l, "b", &rpm, 1, S), Verdict::Allowed);
}

#[test]
fn retry_after_is_exact_with_a_rate_that_does_not_divide_the_period() {
    // 7 per second: a unit refills every 142_857_142.86 ns.
    let lim = limit("tokens", 7, 1, 3);
    let mut l = Limiter::new(100);
    assert_eq!(one(&mut l, "k", &lim, 3, 0), Verdict::Allowed);
    assert_eq!(one(&mut l, "k", &lim, 1, 0), denied(142_857_143));
    assert_eq!(one(&mut l, "k", &lim, 1, 142_857_142), denied(1));
    assert_eq!(one(&mut l, "k", &lim, 1, 142_857_143), Verdict::Allowed);
    // The bucket is now full at 4/7 s; two more units fit once it is within 3/7 s of full, i.e. at
    // t = 3/7 s = 428_571_428.57 ns, rounded up.
    let now = 142_857_143;
    assert_eq!(
        one(&mut l, "k", &lim, 2, now),
        denied(428_571_429 - now as u64)
    );
    let st = l.peek("k", &lim, now);
    assert_eq!(st.reset_ns, 571_428_572 - now as u64);
    assert_eq!(st.remaining, 0);
    assert_eq!(l.peek("k", &lim, 428_571_428).remaining, 1);
    assert_eq!(l.peek("k", &lim, 428_571_429).remaining, 2);
    assert_eq!(one(&mut l, "k", &lim, 2, 428_571_428), denied(1));
    assert_eq!(one(&mut l, "k", &lim, 2, 428_571_429), Verdict::Allowed);
}

#[test]
fn cost_over_burst_never_passes_and_zero_cost_passes_unless_in_debt() {
    let tpm = limit("tokens", 1000, 60, 100);
    let mut l = Limiter::new(100);
    assert_eq!(
        one(&mut l, "k", &tpm, 101, 0),
        Verdict::Denied {
            by: 0,
            retry_after_ns: None
        }
    );
    assert_eq!(one(&mut l, "k", &tpm, 100, 0), Verdict::Allowed);
    assert_eq!(one(&mut l, "k", &tpm, 0, 0), Verdict::Allowed);
    l.settle("k", &tpm, 10, 0); // 10 units of debt: 0.6 s to pay back
    assert_eq!(one(&mut l, "k", &tpm, 0, 0), denied(600_000_000));
    assert_eq!(one(&mut l, "k", &tpm, 0, 600_000_000), Verdict::Allowed);
    // A zero-cost check on no bucket creates none.
    assert_eq!(one(&mut l, "fresh", &tpm, 0, 0), Verdict::Allowed);
    assert_eq!(l.len(), 1);
}

#[test]
fn all_or_nothing_and_the_longest_wait_denies() {
    let rpm = limit("requests", 60, 60, 60);
    let tpm = limit("tokens", 600, 60, 600); // 10 tokens per second
    let mut l = Limiter::new(100);
    assert_eq!(one(&mut l, "model", &tpm, 590, 0), Verdict::Allowed);
    let checks = [
        ("key", &rpm, 1),
        ("key", &tpm, 100),
        ("model", &rpm, 1),
        ("model", &tpm, 30),
    ];
    let (v, st) = admit(&mut l, &checks, 0);
    // model tpm needs 20 more tokens: 2 s; key tpm and both rpm have room.
    assert_eq!(
        v,
        Verdict::Denied {
            by: 3,
            retry_after_ns: Some(2 * S as u64)
        }
    );
    assert_eq!(st[3].remaining, 10);
    // Nothing was consumed anywhere.
    assert_eq!(l.peek("key", &rpm, 0).remaining, 60);
    assert_eq!(l.peek("key", &tpm, 0).remaining, 600);
    assert_eq!(l.len(), 1);
    let (v, st) = admit(&mut l, &checks, 2 * S);
    assert_eq!(v, Verdict::Allowed);
    assert_eq!(
        st.iter().map(|s| s.remaining).collect::<Vec<_>>(),
        [59, 500, 59, 0]
    );
    assert_eq!(l.len(), 4);
    // Two denials: the longer wait names the check, the first of equal waits wins.
    let (v, _) = admit(
        &mut l,
        &[("model", &tpm, 5), ("key", &tpm, 600), ("model", &tpm, 0)],
        2 * S,
    );
    assert_eq!(
        v,
        Verdict::Denied {
            by: 1,
            retry_after_ns: Some(10 * S as u64)
        }
    );
    // A check that can never pass wins over any wait.
    let (v, _) = admit(&mut l, &[("model", &tpm, 5), ("key", &rpm, 61)], 2 * S);
    assert_eq!(
        v,
        Verdict::Denied {
            by: 1,
            retry_after_ns: None
        }
    );
}

#[test]
fn the_same_bucket_twice_in_one_call_is_consumed_in_order() {
    let lim = limit("tokens", 10, 1, 10);
    let mut l = Limiter::new(100);
    let (v, st) = admit(&mut l, &[("k", &lim, 4), ("k", &lim, 5)], 0);
    assert_eq!(v, Verdict::Allowed);
    assert_eq!((st[0].remaining, st[1].remaining), (6, 1));
    assert_eq!(l.peek("k", &lim, 0).remaining, 1);
    // Each alone fits the burst, together they never can.
    let (v, st) = admit(&mut l, &[("j", &lim, 6), ("j", &lim, 6)], 0);
    assert_eq!(
        v,
        Verdict::Denied {
            by: 1,
            retry_after_ns: None
        }
    );
    assert_eq!((st[0].remaining, st[1].remaining), (10, 10));
    // An equal Limit built separately is the same bucket; a different one is not.
    let same = limit("tokens", 10, 1, 10);
    let other = limit("tokens", 10, 1, 11);
    assert_eq!(l.peek("k", &same, 0).remaining, 1);
    assert_eq!(l.peek("k", &other, 0).remaining, 11);
}

#[test]
fn settle_moves_the_bucket_by_the_difference() {
    let tpm = limit("tokens", 60, 60, 60); // 1 token per second
    let mut l = Limiter::new(100);
    assert_eq!(one(&mut l, "k", &tpm, 10, 0), Verdict::Allowed);
    l.settle("k", &tpm, 25, 0); // actual 35
    assert_eq!(l.peek("k", &tpm, 0).remaining, 25);
    l.settle("k", &tpm, 40, 0); // 75 used: 15 in debt
    assert_eq!(
        l.peek("k", &tpm, 0),
        State {
            remaining: 0,
            reset_ns: 75 * S as u64
        }
    );
    assert_eq!(one(&mut l, "k", &tpm, 1, 0), denied(16 * S as u64));
    l.settle("k", &tpm, -70, 0); // refund: 5 used
    assert_eq!(l.peek("k", &tpm, 0).remaining, 55);
    l.settle("k", &tpm, -70, 0); // never past full
    assert_eq!(
        l.peek("k", &tpm, 0),
        State {
            remaining: 60,
            reset_ns: 0
        }
    );
    // A refund on a full or absent bucket creates nothing; a charge does.
    l.settle("new", &tpm, -5, 0);
    l.settle("zero", &tpm, 0, 0);
    assert_eq!(l.len(), 1);
    l.settle("new", &tpm, 5, 0);
    assert_eq!(l.len(), 2);
    assert_eq!(l.peek("new", &tpm, 0).remaining, 55);
    // Debt is capped (overflow guard) at 2^62 ns ahead.
    l.settle("new", &tpm, 1 << 53, 0);
    l.settle("new", &tpm, 1 << 53, 0);
    assert_eq!(l.peek("new", &tpm, 0).reset_ns, 1 << 62);
}

#[test]
fn full_buckets_are_swept_and_a_million_keys_stay_bounded() {
    let rpm = limit("requests", 60, 60, 60);
    let cap = 10_000;
    let mut l = Limiter::new(cap);
    let mut high = 0;
    for i in 0..1_000_000i64 {
        // 1 ms apart: a key's bucket is full again 1 s after its request, so ~1000 are live at once.
        let key = format!("user-{i}");
        assert_eq!(one(&mut l, &key, &rpm, 1, i * 1_000_000), Verdict::Allowed);
        high = high.max(l.len());
    }
    assert!(high <= MIN_SWEEP.max(2 * 1001) + 1, "high water {high}");
    // Without time passing, the cap holds and the oldest (nearest to full) buckets go first.
    let mut l = Limiter::new(cap);
    for i in 0..1_000_000i64 {
        let key = format!("user-{i}");
        assert_eq!(one(&mut l, &key, &rpm, 1, i), Verdict::Allowed);
        assert!(l.len() <= cap);
    }
    let now = 1_000_000;
    assert_eq!(l.peek("user-999999", &rpm, now).remaining, 59);
    assert_eq!(l.peek("user-0", &rpm, now).remaining, 60);
}

#[test]
fn eviction_at_the_cap_drops_the_buckets_nearest_to_full() {
    let tpm = limit("tokens", 100, 1, 100);
    let mut l = Limiter::new(8); // low-water mark 7
    for (i, cost) in [50u64, 10, 90, 20, 80, 30, 70, 40].iter().enumerate() {
        assert_eq!(
            one(&mut l, &format!("k{i}"), &tpm, *cost, 0),
            Verdict::Allowed
        );
    }
    assert_eq!(l.len(), 8);
    // One more: 8 + 1 > 7, so the two with the least left to refill (10 and 20) go.
    assert_eq!(one(&mut l, "k8", &tpm, 60, 0), Verdict::Allowed);
    assert_eq!(l.len(), 7);
    assert_eq!(l.peek("k1", &tpm, 0).remaining, 100);
    assert_eq!(l.peek("k3", &tpm, 0).remaining, 100);
    assert_eq!(l.peek("k5", &tpm, 0).remaining, 70);
    // Ties at the threshold all go: two more of cost 30 make three buckets 0.3 s from full.
    assert_eq!(one(&mut l, "k9", &tpm, 30, 0), Verdict::Allowed);
    assert_eq!(l.len(), 8);
    assert_eq!(one(&mut l, "k10", &tpm, 30, 0), Verdict::Allowed);
    // 8 + 1 > 7: two to go, but k5 and k9 tie at 0.3 s from full with k7 next at 0.4 s, so
    // exactly those two go, and k10 comes in.
    assert_eq!(l.len(), 7);
    assert_eq!(l.peek("k7", &tpm, 0).remaining, 60);
    assert_eq!(l.peek("k9", &tpm, 0).remaining, 100);
    // Time passing makes every bucket full, but they stay until a call needs the room (sweep_at 8).
    assert_eq!(one(&mut l, "k11", &tpm, 1, 10 * S), Verdict::Allowed);
    assert_eq!(l.len(), 8);
    assert_eq!(one(&mut l, "k12", &tpm, 1, 10 * S), Verdict::Allowed);
    assert_eq!(l.len(), 2);
}

#[test]
fn permits_count_in_flight_and_give_back_once() {
    let slots = Slots::new();
    let a = slots.try_acquire("k", 2).unwrap();
    let b = slots.try_acquire("k", 2).unwrap();
    assert!(slots.try_acquire("k", 2).is_none());
    assert!(slots.try_acquire("other", 0).is_none());
    assert_eq!(slots.in_flight("k"), 2);
    a.release();
    assert_eq!(slots.in_flight("k"), 1);
    let c = slots.try_acquire("k", 2).unwrap();
    assert_eq!(c.key(), "k");
    drop(b); // dropping is releasing
    drop(c);
    assert_eq!(slots.in_flight("k"), 0);
    assert!(slots.is_empty());
    // A lower limit than the slots already out admits nothing until they drain below it.
    let held: Vec<_> = (0..3).map(|_| slots.try_acquire("k", 5).unwrap()).collect();
    assert!(slots.try_acquire("k", 3).is_none());
    drop(held);
    assert_eq!(slots.len(), 0);
}

#[test]
fn limits_validate_their_ranges() {
    assert!(Limit::new("x", 0, 1, 1).is_err());
    assert!(Limit::new("x", 1, 0, 1).is_err());
    assert!(Limit::new("x", 1, 1, 0).is_err());
    assert!(Limit::new("x", 1 << 41, 1, 1).is_err());
    assert!(Limit::new("x", 1 << 40, 10_000_000_000_000_000, 1 << 40).is_ok());
}
