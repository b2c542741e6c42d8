"""Deployment health: latency (EWMA and p95 of time to first byte), requests in flight, a circuit breaker
(closed → cooling → half-open probe → closed), and quota signals read from providers' rate-limit headers.

State of one worker, kept across config reloads for deployments that stay. The clock is passed in, so
the breaker and the quota windows are testable without sleeping; nothing here does I/O.
"""

from __future__ import annotations

import math
import re
from collections import deque
from typing import Literal

from switchyard.config import HealthConfig
from switchyard.store.cooldowns import SharedCooldowns

State = Literal["healthy", "cooling", "half-open"]
SAMPLES = 64  # TTFB samples kept per deployment for the p95
EWMA_ALPHA = 0.2
QUOTA_FLOOR = 1  # remaining requests at or below this: de-prioritise until the provider's reset


class Stats:
    """What is known about one deployment."""

    __slots__ = (
        "cooldown_until",
        "errors",
        "ewma_ms",
        "failures",
        "in_flight",
        "probing",
        "quota_until",
        "samples",
        "successes",
    )

    def __init__(self) -> None:
        self.ewma_ms: float | None = None
        self.samples: deque[float] = deque(maxlen=SAMPLES)
        self.in_flight = 0
        self.failures: deque[float] = deque()
        self.cooldown_until = 0.0  # > 0: the breaker is open until then, half-open after
        self.probing = False
        self.quota_until = 0.0
        self.successes = 0
        self.errors = 0

    def p95_ms(self) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


class Health:
    """The health book of one worker, keyed by deployment name (`provider/model`)."""

    def __init__(self, cfg: HealthConfig, shared: SharedCooldowns | None = None) -> None:
        self.cfg = cfg
        self.stats: dict[str, Stats] = {}
        self.shared = shared  # other workers' breakers: a cooldown one opens holds for all
        self.track_latency = True  # publish latency samples (routing that reads latency needs them)

    def _sync(self, name: str, st: Stats) -> None:
        """Adopt a cooldown another worker opened (or closed) since this one last looked."""
        if self.shared is None:
            return
        until = self.shared.until(name)
        if until > st.cooldown_until and not st.probing:
            st.cooldown_until = until
        elif until == 0.0 and st.cooldown_until and not st.probing:
            st.cooldown_until = 0.0  # another worker's probe succeeded
            st.failures.clear()

    def _get(self, name: str) -> Stats:
        st = self.stats.get(name)
        if st is None:
            st = self.stats[name] = Stats()
        return st

    # -- what routing reads --
    def state(self, name: str, now: float) -> State:
        st = self.stats.get(name)
        if self.shared is not None:
            if st is None:
                if self.shared.until(name) == 0.0:
                    return "healthy"
                st = self._get(name)
            self._sync(name, st)
        if st is None or st.cooldown_until == 0.0:
            return "healthy"
        return "cooling" if now < st.cooldown_until or st.probing else "half-open"

    def ewma_ms(self, name: str) -> float | None:
        if self.shared is not None:
            return self.shared.latency(name)[0]
        st = self.stats.get(name)
        return None if st is None else st.ewma_ms

    def p95_ms(self, name: str) -> float | None:
        if self.shared is not None:
            return self.shared.latency(name)[1]
        st = self.stats.get(name)
        return None if st is None else st.p95_ms()

    def in_flight(self, name: str) -> int:
        st = self.stats.get(name)
        return 0 if st is None else st.in_flight

    def quota_low(self, name: str, now: float) -> bool:
        st = self.stats.get(name)
        return st is not None and now < st.quota_until

    # -- what dispatch reports --
    def try_probe(self, name: str, now: float) -> bool:
        """Take the half-open probe slot of a deployment whose cooldown is over; False if another holds it."""
        st = self._get(name)
        if st.cooldown_until == 0.0:
            return True
        if now < st.cooldown_until or st.probing:
            return False
        st.probing = True
        return True

    def started(self, name: str) -> None:
        self._get(name).in_flight += 1

    def succeeded(self, name: str, ttfb_ms: float) -> None:
        """The attempt got its answer's head (and first event, for streams) in `ttfb_ms`."""
        st = self._get(name)
        st.in_flight -= 1
        st.successes += 1
        st.failures.clear()
        if st.cooldown_until and self.shared is not None:
            self.shared.set(name, 0.0)
        st.cooldown_until = 0.0
        st.probing = False
        st.samples.append(ttfb_ms)
        st.ewma_ms = ttfb_ms if st.ewma_ms is None else st.ewma_ms + EWMA_ALPHA * (ttfb_ms - st.ewma_ms)
        if self.shared is not None and self.track_latency:
            self.shared.add_sample(name, ttfb_ms, EWMA_ALPHA, st.p95_ms() if len(st.samples) % 16 == 0 else None)

    def failed(self, name: str, now: float) -> None:
        """The attempt failed in a way that says something about the deployment (not the request)."""
        st = self._get(name)
        st.in_flight -= 1
        st.errors += 1
        window_start = now - self.cfg.window_s
        while st.failures and st.failures[0] < window_start:
            st.failures.popleft()
        st.failures.append(now)
        if st.probing or len(st.failures) >= self.cfg.failures:
            st.cooldown_until = now + self.cfg.cooldown_s
            st.probing = False
            if self.shared is not None:
                self.shared.set(name, st.cooldown_until)

    def released(self, name: str) -> None:
        """The attempt ended without a verdict on the deployment (a caller error, a cancelled request)."""
        st = self._get(name)
        st.in_flight -= 1
        st.probing = False

    def note_quota(self, name: str, remaining: str | None, reset: str | None, now: float) -> None:
        """Read a provider's `x-ratelimit-remaining-requests` / `-reset-requests`: nearly out means
        de-prioritised until the reset (a minute if the reset is missing or unreadable)."""
        if remaining is None:
            return
        try:
            left = int(remaining)
        except ValueError:
            return
        if left <= QUOTA_FLOOR:
            wait = parse_duration(reset) if reset else None
            self._get(name).quota_until = now + (wait if wait is not None else 60.0)

    def forget_except(self, names: set[str]) -> None:
        """Drop the stats of deployments no longer configured (after a reload)."""
        for name in [n for n in self.stats if n not in names]:
            del self.stats[name]

    def snapshot(self, now: float) -> dict[str, dict[str, object]]:
        """Every known deployment's state, for the admin endpoint and /v1/models."""
        return {
            name: {
                "state": self.state(name, now),
                "in_flight": st.in_flight,
                "ttfb_ewma_ms": None if st.ewma_ms is None else round(st.ewma_ms, 2),
                "ttfb_p95_ms": None if (p := st.p95_ms()) is None else round(p, 2),
                "recent_failures": len(st.failures),
                "cooldown_left_s": max(0.0, round(st.cooldown_until - now, 3)) if st.cooldown_until else 0.0,
                "quota_low": now < st.quota_until,
                "successes": st.successes,
                "errors": st.errors,
            }
            for name, st in sorted(self.stats.items())
        }


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(text: str) -> float | None:
    """`6m0s`, `1.5s`, `20ms`, `1h2m` or a bare number of seconds, in seconds; None if unreadable."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    total, pos = 0.0, 0
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * scale[m.group(2)]
        pos = m.end()
    return total if pos == len(text) and pos > 0 else None
