"""The bars issue 6 sets, checked against ratios measured in the same run (one worker each).

Each bar reads medians from the result dict and returns a row: what, value, limit, met (None when a side
is missing, e.g. a target not available). Must not: measure or format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FULL, ROUTING, FLOOR, LITELLM = "switchyard-full", "switchyard-routing-only", "python-floor", "litellm"
SOAK_NOISE_MIB_PER_MIN = 1.0  # RSS slope under this over the soak counts as no growth


@dataclass
class Bar:
    name: str
    target: str
    value: float | None
    limit: float
    higher_is_better: bool = False
    unit: str = "×"  # noqa: RUF001
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {
            "bar": self.name,
            "target": self.target,
            "value": self.value,
            "limit": self.limit,
            "unit": self.unit,
            "met": self.met,
            "note": self.note,
        }


def _get(res: dict[str, Any], target: str, scenario: str, key: str) -> float | None:
    t = res["targets"].get(target, {})
    v = t.get("scenarios", {}).get(scenario, {}).get(key) if t.get("available") else None
    return float(v) if isinstance(v, (int, float)) else None


def added(res: dict[str, Any], target: str, scenario: str, key: str) -> float | None:
    """What the client sees through `target` minus what it sees direct, same scenario (ms)."""
    a, d = _get(res, target, scenario, key), _get(res, "direct", scenario, key)
    return None if a is None or d is None else a - d


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def _added_ratio(name: str, target: str, a: float | None, floor: float | None, limit: float) -> Bar:
    """target's added latency over python-floor's; when the floor's is not positive (inside the noise of
    the direct figure) the ratio means nothing and the bar says so."""
    bar = Bar(name, target, _ratio(a, floor), limit)
    if a is not None and floor is not None and floor <= 0:
        bar.note = f"python-floor's added value is {floor:.3f} ms (noise): not comparable; {target}'s is {a:.3f} ms"
    return bar


def check(res: dict[str, Any]) -> list[Bar]:
    bars: list[Bar] = []
    cpu: Callable[[str, str], float | None] = lambda t, s: _get(res, t, s, "cpu_us")  # noqa: E731
    for size in ("200b", "10kb", "50kb"):
        s = f"chat-{size}/c64"
        for t, lim in ((ROUTING, 1.2), (FULL, 1.6)):
            bars.append(
                Bar(f"CPU/request, non-stream {size} (vs python-floor)", t, _ratio(cpu(t, s), cpu(FLOOR, s)), lim)
            )
    s = "stream-50/c64"
    bars.append(
        Bar(
            "CPU/streamed response, 50 events + usage (vs python-floor)", FULL, _ratio(cpu(FULL, s), cpu(FLOOR, s)), 1.6
        )
    )
    s = "chat-200b/c1-one-cpu"
    floor50, floor99 = added(res, FLOOR, s, "p50"), added(res, FLOOR, s, "p99")
    for t, lim in ((ROUTING, 1.2), (FULL, 1.5)):
        name = "added p50, 1 connection, one CPU (vs python-floor's)"
        bars.append(_added_ratio(name, t, added(res, t, s, "p50"), floor50, lim))
    for t in (ROUTING, FULL):
        name = "added p99, 1 connection, one CPU (vs python-floor's)"
        bars.append(_added_ratio(name, t, added(res, t, s, "p99"), floor99, 2.0))
    s = "chat-200b/c64"
    bars.append(
        Bar(
            "throughput, 64 connections (vs LiteLLM)",
            FULL,
            _ratio(_get(res, FULL, s, "rps"), _get(res, LITELLM, s, "rps")),
            50,
            True,
        )
    )
    s = "paced/c64"
    floor_ttfb = added(res, FLOOR, s, "ttfb_p99")
    for t in (ROUTING, FULL):
        name = "paced streams: added TTFB p99 (vs python-floor's)"
        bars.append(_added_ratio(name, t, added(res, t, s, "ttfb_p99"), floor_ttfb, 1.5))
        relay = added(res, t, s, "relay_p99")  # per-chunk relay delay from the mock's send stamps
        value = None if relay is None else relay * 1000
        bars.append(Bar("paced streams: added delay per chunk p99", t, value, 20, unit="µs"))
    for t in (ROUTING, FULL):
        rss = lambda n: res["targets"].get(n, {}).get("rss_after_mib")  # noqa: E731
        bars.append(Bar("RSS after the run (vs python-floor)", t, _ratio(rss(t), rss(FLOOR)), 1.5))
        g = res["targets"].get(t, {}).get("soak", {}).get("growth_mib_per_min")
        bars.append(Bar("RSS growth over the soak", t, g, SOAK_NOISE_MIB_PER_MIN, unit="MiB/min"))
    for b in bars:
        t = res["targets"].get(b.target, {})
        if not t.get("available", False):
            b.note = f"not available: {t.get('reason', 'not run')}"
    return bars
