"""Shared helpers of the micro-benchmarks: per-call timing and the machine line every table starts with."""

from __future__ import annotations

import platform
import timeit
from collections.abc import Callable
from pathlib import Path


def per_call_us(f: Callable[[], object], quick: bool = False) -> float:
    """Microseconds per call of `f`: best of 5 timed loops of ~0.2 s each (3 shorter loops when quick)."""
    t = timeit.Timer(f)
    n, _ = t.autorange()  # ≥ 0.2 s
    if quick:
        n = max(1, n // 10)
    return min(t.repeat(repeat=3 if quick else 5, number=n)) / n * 1e6


def cpu_model() -> str:
    """The CPU's model name, for the line that states the hardware beside every result."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
