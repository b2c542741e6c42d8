"""Micro-benchmark: `switchyard._core.Limiter.admit` with 1, 2 and 4 limits per call against the Python
reference (`tests/core/limits_reference.py`) and against the least a Python gateway could do (a float
GCRA in a dict: no per-limit states for headers, no eviction, duplicates not chained).

Workload: the gateway's hot path. Keys cycle over 1,000 virtual keys and 4 models; limits are large, so
every call is admitted (the "denied" row uses a limit that is always empty); time advances 1 µs a call.
The 4-limit call is the gateway's: key RPM, key TPM, model RPM, model TPM. Every timed call builds its
checks list, as the gateway must; the "build the list only" row is that share.

Method: each callable runs in a timed loop sized to ~0.2 s, best of 5 repeats, reported per call.
Usage: python benches/micro_limits.py [--quick]
"""

from __future__ import annotations

import itertools
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

from switchyard._core import Concurrency, Limit, Limiter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "core"))
import limits_reference as ref
from microbench import cpu_model, per_call_us

KEYS = [f"vk-{i:04d}-0123456789abcdef" for i in range(1000)]
MODELS = ["gpt-4o-mini", "gpt-4.1", "claude-sonnet-4", "gemini-2.5-flash"]
ARGS = {
    "key_rpm": ("requests", 10**9, 60.0, None),
    "key_tpm": ("tokens", 10**12, 60.0, None),
    "model_rpm": ("requests", 10**9, 60.0, None),
    "model_tpm": ("tokens", 10**12, 60.0, None),
    "empty": ("tokens", 1, 3600.0, 1000),  # 2 calls of 500 per model empty it for an hour
}


class MinimalLimiter:
    """The least a Python gateway could get away with: float GCRA, all-or-nothing, nothing else."""

    def __init__(self) -> None:
        self.tat: dict[tuple[str, tuple[float, float]], float] = {}

    def admit(self, checks: list[tuple[str, tuple[float, float], int]], now: float) -> tuple[bool, float]:
        news = []
        for key, lim, cost in checks:  # lim = (seconds per unit, burst tolerance in seconds)
            k = (key, lim)
            tat = max(self.tat.get(k, now), now) + cost * lim[0]
            if tat - now > lim[1]:
                return False, tat - lim[1] - now
            news.append((k, tat))
        for k, tat in news:
            self.tat[k] = tat
        return True, 0.0


def minimal_limit(name: str, rate: int, period_s: float, burst: int | None) -> tuple[float, float]:
    per_unit = period_s / rate
    return (per_unit, (burst or rate) * per_unit)


def calls(limiter: object, limits: dict[str, object], n: int, *, ns: bool) -> Callable[[], object]:
    """A zero-argument callable doing one gateway-shaped admit per call with `n` limits."""
    keys, models, clock = itertools.cycle(KEYS), itertools.cycle(MODELS), itertools.count(10**12, 1000)
    admit = limiter.admit  # type: ignore[attr-defined]
    kr, kt, mr, mt, empty = (limits[k] for k in ("key_rpm", "key_tpm", "model_rpm", "model_tpm", "empty"))
    tick = (lambda: next(clock)) if ns else (lambda: next(clock) / 1e9)
    if n == 1:
        return lambda: admit([(next(keys), kr, 1)], tick())
    if n == 2:

        def two() -> object:
            k = next(keys)
            return admit([(k, kr, 1), (k, kt, 500)], tick())

        return two
    last = empty if n == -4 else mt

    def four() -> object:
        k, m = next(keys), next(models)
        return admit([(k, kr, 1), (k, kt, 500), (m, mr, 1), (m, last, 500)], tick())

    return four


def build_only() -> Callable[[], object]:
    keys, models, clock = itertools.cycle(KEYS), itertools.cycle(MODELS), itertools.count(10**12, 1000)
    lim = Limit("requests", 60)

    def four() -> object:
        k, m = next(keys), next(models)
        return ([(k, lim, 1), (k, lim, 500), (m, lim, 1), (m, lim, 500)], next(clock) / 1e9)

    return four


def main() -> None:
    quick = "--quick" in sys.argv
    print(
        f"Python {platform.python_version()}, {cpu_model()}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}"
    )
    print("Per call, best of 5 timed loops of ~0.2 s each; ratio = other / Rust (above 1: Rust is faster).\n")
    rust_limits = {k: Limit(*a) for k, a in ARGS.items()}
    ref_limits = {k: ref.Limit.make(*a) for k, a in ARGS.items()}
    min_limits = {k: minimal_limit(*a) for k, a in ARGS.items()}
    print("| admit | Rust µs | Python ref µs | ref / Rust | minimal Python µs | minimal / Rust |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for n, label in [
        (1, "1 limit"),
        (2, "2 limits (key RPM + TPM)"),
        (4, "4 limits (key + model, RPM + TPM)"),
        (-4, "4 limits, the last denies (wait)"),
    ]:
        rust = calls(Limiter(), rust_limits, n, ns=False)
        py = calls(ref.Limiter(), ref_limits, n, ns=True)
        mini = calls(MinimalLimiter(), min_limits, n, ns=False)
        for _ in range(8):  # the first two calls per model fill the "empty" limit
            rust(), py(), mini()
        assert bool(rust()) == py().allowed == mini()[0] == (n > 0)  # type: ignore[attr-defined,index]
        r, p, m = (per_call_us(f, quick) for f in (rust, py, mini))
        print(f"| {label} | {r:.2f} | {p:.2f} | {p / r:.1f}x | {m:.2f} | {m / r:.1f}x |")
    print(f"| (build the 4-check list only) | {per_call_us(build_only(), quick):.2f} | | | | |")

    print("\n| other call | Rust µs |")
    print("| --- | ---: |")
    lim, tpm = Limiter(), rust_limits["key_tpm"]
    d = lim.admit([("k", rust_limits["key_rpm"], 1), ("k", tpm, 500)], 1.0)
    conc = Concurrency()
    others: list[tuple[str, Callable[[], object]]] = [
        ("settle (1 bucket)", lambda: lim.settle("k", tpm, -100, 1.0)),
        ("peek", lambda: lim.peek("k", tpm, 1.0)),
        ("headers: tightest('requests') + tightest('tokens') + 3 fields each", lambda: headers(d)),
        ("Concurrency.try_acquire + Permit.release", lambda: conc.try_acquire("k", 100).release()),  # type: ignore[union-attr]
    ]
    for name, f in others:
        print(f"| {name} | {per_call_us(f, quick):.2f} |")


def headers(d: object) -> object:
    out = []
    for kind in ("requests", "tokens"):
        s = d.tightest(kind)  # type: ignore[attr-defined]
        out.append((s.limit.burst, s.remaining, s.reset_s))
    return out


if __name__ == "__main__":
    main()
