"""switchyard.routing.health: the circuit breaker (closed → cooling → half-open → closed), latency stats,
quota signals and duration parsing, on an injected clock."""

from __future__ import annotations

import pytest
from switchyard.config import HealthConfig
from switchyard.routing.health import Health, parse_duration

CFG = HealthConfig(failures=3, window_s=10, cooldown_s=30)


def fail(h: Health, name: str, now: float) -> None:
    h.started(name)
    h.failed(name, now)


def test_failures_within_the_window_open_the_breaker_then_one_probe_closes_it() -> None:
    h = Health(CFG)
    fail(h, "a", 0)
    fail(h, "a", 1)
    assert h.state("a", 2) == "healthy"
    fail(h, "a", 2)
    assert h.state("a", 2) == "cooling"
    assert h.state("a", 31.9) == "cooling"
    assert not h.try_probe("a", 31.9)
    assert h.state("a", 32.1) == "half-open"
    assert h.try_probe("a", 32.1)  # one probe at a time
    assert h.state("a", 32.2) == "cooling" and not h.try_probe("a", 32.2)
    h.started("a")
    h.succeeded("a", 12.0)
    assert h.state("a", 33) == "healthy"


def test_a_failed_probe_cools_down_again() -> None:
    h = Health(CFG)
    for t in (0, 1, 2):
        fail(h, "a", t)
    assert h.try_probe("a", 40)
    fail(h, "a", 40)
    assert h.state("a", 41) == "cooling" and h.state("a", 70.1) == "half-open"


def test_old_failures_leave_the_window() -> None:
    h = Health(CFG)
    fail(h, "a", 0)
    fail(h, "a", 1)
    fail(h, "a", 20)  # the first two are more than 10 s old
    assert h.state("a", 20) == "healthy"


def test_a_released_attempt_gives_back_the_probe_without_a_verdict() -> None:
    h = Health(CFG)
    for t in (0, 1, 2):
        fail(h, "a", t)
    assert h.try_probe("a", 33)
    h.started("a")
    h.released("a")
    assert h.state("a", 33) == "half-open" and h.in_flight("a") == 0


def test_latency_stats() -> None:
    h = Health(CFG)
    for ms in range(1, 101):
        h.started("a")
        h.succeeded("a", float(ms))
    assert h.p95_ms("a") == 97.0  # of the last 64 samples: 37..100
    ewma = h.ewma_ms("a")
    assert ewma is not None and 90 < ewma < 100
    assert h.p95_ms("b") is None and h.ewma_ms("b") is None


def test_quota_signal_deprioritises_until_the_reset() -> None:
    h = Health(CFG)
    h.note_quota("a", "57", "1s", 0)
    assert not h.quota_low("a", 0)
    h.note_quota("a", "1", "6m0s", 0)
    assert h.quota_low("a", 359) and not h.quota_low("a", 361)
    h.note_quota("b", "0", None, 0)
    assert h.quota_low("b", 59) and not h.quota_low("b", 61)
    h.note_quota("c", "lots", "1s", 0)
    assert not h.quota_low("c", 0)


def test_forget_and_snapshot() -> None:
    h = Health(CFG)
    fail(h, "a", 0)
    h.started("b")
    h.succeeded("b", 5.0)
    h.forget_except({"b"})
    snap = h.snapshot(1.0)
    assert list(snap) == ["b"] and snap["b"]["state"] == "healthy" and snap["b"]["ttfb_p95_ms"] == 5.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1.5s", 1.5), ("1h2m", 3720.0), ("7", 7.0), ("0.5", 0.5)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "1x", "1s junk", "m1"])
def test_parse_duration_rejects(text: str) -> None:
    assert parse_duration(text) is None
