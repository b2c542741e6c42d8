"""The bench suite's Nagle/delayed-ACK detector: a ~40 ms band at one connection fails the run only when the
target was idle most of that time (a stall), not when it spent it on the CPU (a slow target)."""

from __future__ import annotations

import pathlib
import sys
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "benches"))
from suite.runner import nagle_plateau


def med(p25: float, p50: float, p75: float, cpu_us: float) -> dict[str, Any]:
    return {"p25": p25, "p50": p50, "p75": p75, "cpu_us": cpu_us}


def test_an_idle_40ms_band_is_a_plateau() -> None:
    assert nagle_plateau(True, med(40.0, 40.5, 41.0, 300.0))


def test_a_target_busy_for_40ms_is_slow_not_stalled() -> None:
    assert not nagle_plateau(True, med(40.0, 41.0, 42.2, 41_067.0))  # LiteLLM stream-50 at one CPU


def test_outside_the_band_or_many_connections_is_no_plateau() -> None:
    assert not nagle_plateau(True, med(2.0, 2.1, 2.3, 100.0))
    assert not nagle_plateau(False, med(40.0, 40.5, 41.0, 300.0))
    assert not nagle_plateau(True, {"p25": None})
