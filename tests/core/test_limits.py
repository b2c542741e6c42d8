"""`switchyard._core` limits against the plain-Python reference (`limits_reference.py`).

A hypothesis state machine drives the Rust `Limiter` and the reference through the same random sequence
of time steps, multi-limit admits, settles and peeks, over a small pool of keys and limits (so buckets
collide, go into debt and refill) and a small `max_buckets` now and then (so sweeps and evictions run),
and asserts identical answers: verdict, denying check, retry-after, every state, and the table size.
The arithmetic is integer on both sides, so the comparison is exact (floats are the same ns / 1e9).
"""

from __future__ import annotations

import gc
import random
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from switchyard._core import Concurrency, Decision, Limit, Limiter, LimitState, Permit

sys.path.insert(0, str(Path(__file__).parent))  # the reference sits beside this file
import limits_reference as ref

KEYS = ["a", "b", "vk:1", "model/gpt-4o", "é", ""]
PERIODS = [60.0, 1.0, 0.25, 0.007, 3.3, 86400.0, 1e-9]
LIMIT_ARGS = st.tuples(
    st.sampled_from(["requests", "tokens", "custom"]),
    st.integers(1, 50) | st.sampled_from([1, 7, 60, 1000, 1 << 40]),
    st.sampled_from(PERIODS),
    st.none() | st.integers(1, 80),
)


def expected_state(s: ref.State) -> tuple[int, float]:
    return (s.remaining, s.reset_ns / 1e9)


def actual_state(s: LimitState) -> tuple[int, float]:
    return (s.remaining, s.reset_s)


class LimiterMachine(RuleBasedStateMachine):
    @initialize(
        max_buckets=st.sampled_from([1, 2, 3, 5, 8, 40, 100_000]),
        start=st.sampled_from([0.0, 1.5, 12_345.678_9, 1.7e9]),
        limits=st.lists(LIMIT_ARGS, min_size=1, max_size=5),
    )
    def init(self, max_buckets: int, start: float, limits: list[tuple[str, int, float, int | None]]) -> None:
        self.rust = Limiter(max_buckets)
        self.ref = ref.Limiter(max_buckets)
        self.now = start
        self.limits = [(Limit(*args), ref.Limit.make(*args)) for args in limits]
        self.conc = Concurrency()
        self.conc_ref = ref.Concurrency()
        self.permits: list[Permit] = []

    @rule(dt=st.sampled_from([0.0, 1e-9, 0.001, 0.1, 0.5, 1.0, 7.0, 61.0, 3600.0]) | st.floats(0, 10))
    def advance(self, dt: float) -> None:
        self.now += dt

    @rule(data=st.data())
    def admit(self, data: st.DataObject) -> None:
        picks = data.draw(
            st.lists(
                st.tuples(
                    st.sampled_from(KEYS),
                    st.integers(0, len(self.limits) - 1),
                    st.sampled_from([0, 1, 2, 5, 30]) | st.integers(0, 90),
                ),
                max_size=5,
            )
        )
        self.check_admit(picks)

    @rule(keys=st.permutations(KEYS[:3]), repeat=st.integers(1, 4), data=st.data())
    def admit_in_lockstep(self, keys: list[str], repeat: int, data: st.DataObject) -> None:
        """One limit and cost over the same few keys, again and again: their buckets move together until
        they run dry, so the waits of the denying checks tie."""
        i, cost = data.draw(st.integers(0, len(self.limits) - 1)), data.draw(st.sampled_from([1, 2, 5]))
        for _ in range(repeat):
            self.check_admit([(k, i, cost) for k in keys for _ in range(2)])

    def check_admit(self, picks: list[tuple[str, int, int]]) -> None:
        got = self.rust.admit([(k, self.limits[i][0], c) for k, i, c in picks], self.now)
        want = self.ref.admit([(k, self.limits[i][1], c) for k, i, c in picks], ref.nanos(self.now))
        assert got.allowed == want.allowed == bool(got)
        want_retry = None if want.retry_after_ns is None else want.retry_after_ns / 1e9
        assert got.retry_after_s == want_retry
        states = got.states
        assert [actual_state(s) for s in states] == [expected_state(s) for s in want.states]
        assert [(s.key, s.limit) for s in states] == [(k, self.limits[i][0]) for k, i, _ in picks]
        if want.denied_by is None:
            assert got.denied_by is None
        else:
            by = got.denied_by
            assert by is not None
            k, i, _ = picks[want.denied_by]
            assert (by.key, by.limit, actual_state(by)) == (
                k,
                self.limits[i][0],
                expected_state(want.states[want.denied_by]),
            )
        for name in ("requests", "tokens", "custom"):
            check_tightest(got, name)

    @rule(key=st.sampled_from(KEYS), data=st.data(), delta=st.integers(-100, 100))
    def settle(self, key: str, data: st.DataObject, delta: int) -> None:
        rust_limit, ref_limit = self.limits[data.draw(st.integers(0, len(self.limits) - 1))]
        self.rust.settle(key, rust_limit, delta, self.now)
        self.ref.settle(key, ref_limit, delta, ref.nanos(self.now))

    @rule(key=st.sampled_from(KEYS), data=st.data())
    def peek(self, key: str, data: st.DataObject) -> None:
        rust_limit, ref_limit = self.limits[data.draw(st.integers(0, len(self.limits) - 1))]
        got = self.rust.peek(key, rust_limit, self.now)
        assert (got.key, got.limit) == (key, rust_limit)
        assert actual_state(got) == expected_state(self.ref.peek(key, ref_limit, ref.nanos(self.now)))

    @rule(key=st.sampled_from(KEYS[:3]), most=st.integers(0, 3))
    def acquire(self, key: str, most: int) -> None:
        permit = self.conc.try_acquire(key, most)
        assert (permit is not None) == self.conc_ref.try_acquire(key, most)
        if permit is not None:
            self.permits.append(permit)

    @precondition(lambda self: self.permits)
    @rule(data=st.data(), how=st.sampled_from(["release", "drop", "with"]))
    def release(self, data: st.DataObject, how: str) -> None:
        permit = self.permits.pop(data.draw(st.integers(0, len(self.permits) - 1)))
        key = permit.key
        if how == "release":
            assert permit.release() is True
            assert permit.release() is False  # idempotent
        elif how == "with":
            with permit:
                pass
            assert permit.released
        del permit  # "drop": the last reference goes, the slot comes back
        self.conc_ref.release(key)

    @invariant()
    def same_size(self) -> None:
        if hasattr(self, "rust"):
            assert len(self.rust) == len(self.ref)
            assert len(self.rust) <= max(self.rust.max_buckets, 5)
            for key in KEYS:
                assert self.conc.in_flight(key) == self.conc_ref.in_flight(key)
            assert len(self.conc) == len(self.conc_ref.counts)


def check_tightest(d: Decision, name: str) -> None:
    """`tightest` is the least remaining, then longest reset, then first, among states of that name."""
    named = [s for s in d.states if s.limit.name == name]
    got = d.tightest(name)
    if not named:
        assert got is None
        return
    best = min(range(len(named)), key=lambda i: (named[i].remaining, -named[i].reset_s, i))
    assert got is not None
    assert (got.key, got.limit, actual_state(got)) == (named[best].key, named[best].limit, actual_state(named[best]))


TestLimiterMachine = LimiterMachine.TestCase
TestLimiterMachine.settings = settings(
    max_examples=300, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --- the OpenAI header story, by hand ------------------------------------------------------------------


def test_headers_for_a_denied_request() -> None:
    rpm, tpm = Limit("requests", 3), Limit("tokens", 600, 60.0)  # 10 tokens/s
    lim = Limiter()
    assert lim.admit([("k", rpm, 1), ("k", tpm, 500)], 100.0)
    d = lim.admit([("k", rpm, 1), ("k", tpm, 200)], 100.0)
    assert not d.allowed
    assert d.retry_after_s == 10.0  # 100 tokens short at 10/s
    assert d.denied_by is not None and d.denied_by.limit == tpm
    r, t = d.tightest("requests"), d.tightest("tokens")
    assert r is not None and t is not None
    assert (r.limit.burst, r.remaining, r.reset_s) == (3, 2, 20.0)  # nothing consumed by the denial
    assert (t.limit.burst, t.remaining, t.reset_s) == (600, 100, 50.0)
    assert lim.admit([("k", rpm, 1), ("k", tpm, 200)], 110.0)


def test_settle_to_real_usage() -> None:
    tpm = Limit("tokens", 60)  # 1 token/s
    lim = Limiter()
    assert lim.admit([("k", tpm, 30)], 0.0)
    lim.settle("k", tpm, 40, 0.0)  # actual 70: 10 in debt
    assert lim.peek("k", tpm, 0.0).remaining == 0
    d = lim.admit([("k", tpm, 0)], 0.0)
    assert not d and d.retry_after_s == 10.0
    lim.settle("k", tpm, -1000, 0.0)  # refunds stop at full
    assert lim.peek("k", tpm, 0.0).remaining == 60
    assert len(lim) == 1


def test_equal_waits_name_the_first_check() -> None:
    tpm = Limit("tokens", 10, 1.0)
    lim = Limiter()
    d = lim.admit([("a", tpm, 5), ("b", tpm, 12), ("c", tpm, 12), ("d", tpm, 11)], 0.0)
    assert d.denied_by is not None and d.denied_by.key == "b" and d.retry_after_s is None
    assert lim.admit([("a", tpm, 10), ("b", tpm, 10)], 0.0)
    d = lim.admit([("x", tpm, 1), ("a", tpm, 3), ("b", tpm, 3), ("y", tpm, 1)], 0.0)
    assert d.denied_by is not None and d.denied_by.key == "a" and d.retry_after_s == 0.3


@pytest.mark.parametrize(("max_buckets", "pace"), [(1500, 0.3), (5000, 0.3), (100_000, 3.0)])
def test_many_keys_against_the_reference(max_buckets: int, pace: float) -> None:
    """Thousands of keys, so the growth sweeps (1024, then 2x the live buckets) and the cap both run."""
    rng = random.Random(max_buckets)
    args = [
        ("requests", 60, 60.0, None),
        ("tokens", 1000, 60.0, 200),
        ("tokens", 7, 1.0, 3),
        ("hourly", 5, 3600.0, None),
    ]
    limits = [(Limit(*a), ref.Limit.make(*a)) for a in args]
    rust, model = Limiter(max_buckets), ref.Limiter(max_buckets)
    now = 1000.0
    for step in range(20_000):
        now += rng.choice([0.0, 0.0, 0.001, 0.01, pace])
        picks = [
            (f"k{rng.randrange(4000)}", rng.randrange(len(limits)), rng.choice([0, 1, 3, 50]))
            for _ in range(rng.randint(1, 4))
        ]
        if step % 7 == 0:
            k, i, c = picks[0]
            rust.settle(k, limits[i][0], c - 25, now)
            model.settle(k, limits[i][1], c - 25, ref.nanos(now))
        got = rust.admit([(k, limits[i][0], c) for k, i, c in picks], now)
        want = model.admit([(k, limits[i][1], c) for k, i, c in picks], ref.nanos(now))
        assert got.allowed == want.allowed
        if want.denied_by is not None:
            by, (k, i, _) = got.denied_by, picks[want.denied_by]
            assert by is not None and (by.key, by.limit, actual_state(by)) == (
                k,
                limits[i][0],
                expected_state(want.states[want.denied_by]),
            )
        assert got.retry_after_s == (None if want.retry_after_ns is None else want.retry_after_ns / 1e9)
        assert [actual_state(s) for s in got.states] == [expected_state(s) for s in want.states]
        assert len(rust) == len(model) <= max_buckets


def test_a_million_keys_stay_bounded() -> None:
    rpm = Limit("requests", 60)
    lim = Limiter(max_buckets=50_000)
    high = 0
    for i in range(1_000_000):
        # 100 µs apart, each key's bucket full again 1 s later: ~10k live at any time.
        assert lim.admit([(f"user-{i}", rpm, 1)], i * 1e-4)
        if i % 1000 == 0:
            high = max(high, len(lim))
    assert high <= 2 * 10_001 + 1000
    # With no time passing every bucket stays live, and the cap holds.
    lim = Limiter(max_buckets=1000)
    for i in range(20_000):
        assert lim.admit([(f"user-{i}", rpm, 1)], 5.0)
        assert len(lim) <= 1000


def test_permits_come_back_when_dropped_by_an_exception() -> None:
    conc = Concurrency()

    def handler() -> None:
        permit = conc.try_acquire("k", 1)
        assert permit is not None
        raise RuntimeError("upstream failed")

    for _ in range(3):
        with pytest.raises(RuntimeError):
            handler()
        gc.collect()  # the traceback may hold the frame for a moment; after that the permit is gone
        assert conc.in_flight("k") == 0
    assert len(conc) == 0


def test_concurrency_from_threads() -> None:
    conc = Concurrency()
    peak = [0]
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(2000):
            p = conc.try_acquire("shared", 4)
            if p is not None:
                with lock:
                    peak[0] = max(peak[0], conc.in_flight("shared"))
                p.release()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] <= 4
    assert conc.in_flight("shared") == 0 and len(conc) == 0


def test_values_and_errors() -> None:
    assert Limit("tokens", 10) == Limit("tokens", 10, 60.0, 10)
    assert hash(Limit("tokens", 10)) == hash(Limit("tokens", 10, 60.0, 10))
    assert Limit("tokens", 10) != Limit("tokens", 10, burst=11)
    assert repr(Limit("tokens", 10)) == "Limit('tokens', rate=10, period_s=60.0, burst=10)"
    for bad in [(0,), (1, 0.0), (1, 60.0, 0), (1, float("nan")), (1, 1e8), (1 << 41,), (-1,)]:
        with pytest.raises(ValueError):
            Limit("x", *bad)  # type: ignore[arg-type]
    lim, tpm = Limiter(), Limit("tokens", 10)
    with pytest.raises(ValueError):
        Limiter(0)
    with pytest.raises(ValueError):
        lim.admit([("k", tpm, -1)], 0.0)
    with pytest.raises(ValueError):
        lim.admit([("k", tpm, (1 << 53) + 1)], 0.0)
    for now in (-1.0, float("nan"), float("inf"), 1e10):
        with pytest.raises(ValueError):
            lim.admit([("k", tpm, 1)], now)
    for bad_check in [("k", tpm), ("k", "tokens", 1), (1, tpm, 1), ["k", tpm, 1]]:
        with pytest.raises(TypeError):
            lim.admit([bad_check], 0.0)  # type: ignore[list-item]
    with pytest.raises(ValueError):
        lim.settle("k", tpm, 1 << 54, 0.0)
    with pytest.raises(UnicodeEncodeError):
        lim.admit([("k", tpm, 1), ("\ud800", tpm, 1)], 0.0)
    assert lim.peek("k", tpm, 0.0).remaining == 10  # nothing consumed by the failed calls
    assert lim.admit((c for c in [("k", tpm, 1)]), 0.0)  # any iterable of checks
    assert lim.admit([], 0.0).allowed
    with pytest.raises(ValueError):
        Concurrency().try_acquire("k", -1)
    assert Concurrency().try_acquire("k", 0) is None
