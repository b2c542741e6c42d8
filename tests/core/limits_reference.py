"""Plain-Python reference for `switchyard._core`'s limits (`Limit`, `Limiter`, `Concurrency`): the same
semantics, written for reading, not speed. `tests/core/test_limits.py` holds the Rust module to it.

GCRA in integer ticks of 1/rate ns, so one unit of a limit is exactly `period_ns` ticks and nothing is
ever rounded except where a result is reported (remaining: floor; reset and retry-after: ceil to the ns):
- `n = now_ns * rate`; a bucket is its TAT, the tick at which it is full again; no bucket means full.
- a check of `cost`: `new = max(tat, n) + cost * period_ns`; it passes iff `new - n <= burst * period_ns`.
- a denied check passes after `ceil((new - n - burst * period_ns) / rate)` ns; never if the bucket's
  cost in the call exceeds `burst`.
Times come in as float seconds and are read as `int(now * 1e9)` ns, as the Rust skin reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_RATE = 1 << 40
MAX_PERIOD_NS = 10**16
MAX_COST = 1 << 53
MAX_AHEAD_NS = 1 << 62
MIN_SWEEP = 1024


def nanos(secs: float) -> int:
    x = secs * 1e9
    if not (0.0 <= x < 2.0**63):
        raise ValueError(f"now must be a time in seconds in [0, 2**63 ns), got {secs}")
    return int(x)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Limit:
    name: str
    rate: int
    period_ns: int
    burst: int

    @classmethod
    def make(cls, name: str, rate: int, period_s: float = 60.0, burst: int | None = None) -> Limit:
        ns = period_s * 1e9
        if not (1.0 <= ns <= MAX_PERIOD_NS):
            raise ValueError("period_s out of range")
        burst = rate if burst is None else burst
        if not (1 <= rate <= MAX_RATE and 1 <= burst <= MAX_RATE):
            raise ValueError("rate or burst out of range")
        return cls(name, rate, int(ns), burst)

    @property
    def capacity(self) -> int:
        return self.burst * self.period_ns

    def state(self, tat: int, n: int) -> State:
        ahead = max(tat - n, 0)
        room = self.capacity - ahead
        return State(room // self.period_ns if room > 0 else 0, ceil_div(ahead, self.rate))


@dataclass(frozen=True)
class State:
    remaining: int
    reset_ns: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    denied_by: int | None  # index of the denying check
    retry_after_ns: int | None  # 0 if allowed; None if the call can never pass
    states: list[State]


Bucket = tuple[str, Limit]


class Limiter:
    def __init__(self, max_buckets: int = 100_000) -> None:
        self.max_buckets = max(1, max_buckets)
        self.sweep_at = min(MIN_SWEEP, self.max_buckets)
        self.buckets: dict[Bucket, int] = {}  # (key, limit) -> TAT in ticks

    def __len__(self) -> int:
        return len(self.buckets)

    def _maintain(self, now_ns: int, incoming: int) -> None:
        if len(self.buckets) + incoming <= self.sweep_at:
            return
        # A full bucket is the same as none: dropping it changes no answer.
        self.buckets = {b: tat for b, tat in self.buckets.items() if tat > now_ns * b[1].rate}
        low = self.max_buckets - self.max_buckets // 8
        size = len(self.buckets)
        if size > 0 and size + incoming > low:
            count = min(size + incoming - low, size)

            def reset(b: Bucket) -> int:
                return b[1].state(self.buckets[b], now_ns * b[1].rate).reset_ns

            threshold = sorted(reset(b) for b in self.buckets)[count - 1]
            self.buckets = {b: tat for b, tat in self.buckets.items() if reset(b) > threshold}
        lo = min(MIN_SWEEP, self.max_buckets)
        self.sweep_at = min(max(2 * len(self.buckets), lo), self.max_buckets)

    def admit(self, checks: list[tuple[str, Limit, int]], now_ns: int) -> Decision:
        for _, _, cost in checks:
            if not 0 <= cost <= MAX_COST:
                raise ValueError("cost out of range")
        self._maintain(now_ns, len(checks))
        tail: dict[Bucket, int] = {}  # each bucket's TAT so far in this call
        spent: dict[Bucket, int] = {}  # each bucket's cost so far in this call
        before: list[State] = []
        after: list[State] = []
        denied: tuple[int, int | None] | None = None
        for i, (key, lim, cost) in enumerate(checks):
            b = (key, lim)
            n = now_ns * lim.rate
            orig = self.buckets.get(b, n)
            new = max(tail.get(b, orig), n) + cost * lim.period_ns
            tail[b] = new
            spent[b] = spent.get(b, 0) + cost
            before.append(lim.state(orig, n))
            after.append(lim.state(new, n))
            excess = new - n - lim.capacity
            if excess > 0:
                wait = None if spent[b] > lim.burst else ceil_div(excess, lim.rate)
                if denied is None or (denied[1] is not None and (wait is None or wait > denied[1])):
                    denied = (i, wait)
        if denied is not None:
            return Decision(False, denied[0], denied[1], before)
        for b, tat in tail.items():
            if b in self.buckets or tat > now_ns * b[1].rate:
                self.buckets[b] = tat
        return Decision(True, None, 0, after)

    def settle(self, key: str, limit: Limit, delta: int, now_ns: int) -> None:
        if abs(delta) > MAX_COST:
            raise ValueError("delta out of range")
        self._maintain(now_ns, 1)
        b = (key, limit)
        n = now_ns * limit.rate
        tat = max(self.buckets.get(b, n), n) + delta * limit.period_ns
        tat = min(max(tat, n), n + MAX_AHEAD_NS * limit.rate)  # never past full; debt capped
        if b in self.buckets or tat > n:
            self.buckets[b] = tat

    def peek(self, key: str, limit: Limit, now_ns: int) -> State:
        n = now_ns * limit.rate
        return limit.state(self.buckets.get((key, limit), n), n)


class Concurrency:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def try_acquire(self, key: str, max_in_flight: int) -> bool:
        if self.counts.get(key, 0) >= max_in_flight:
            return False
        self.counts[key] = self.counts.get(key, 0) + 1
        return True

    def release(self, key: str) -> None:
        self.counts[key] -= 1
        if self.counts[key] == 0:
            del self.counts[key]

    def in_flight(self, key: str) -> int:
        return self.counts.get(key, 0)
