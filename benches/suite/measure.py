"""One measured run of one scenario against one running target, and the figures /proc gives around it.

CPU per request is the on-CPU time (schedstat) of the target's whole process tree over the run divided by
the requests the client completed; the mock's own CPU and utilisation are measured the same way, to show
it is not the bottleneck. Steal and "other" CPU (machine busy time not spent by the target, the mock or
the load generator) flag a noisy run. Must not: start or stop targets.
"""

from __future__ import annotations

import os
import pathlib
import resource
import time

from suite import loadgen, procs
from suite.scenarios.base import Scenario
from suite.targets import KEY, Running

NCPU = os.cpu_count() or 1


def layout_cpus(s: Scenario) -> tuple[set[int], set[int]]:
    """(target CPUs, mock + load generator CPUs) for the scenario's layout."""
    if s.layout == "one-cpu" or NCPU < 2:
        return {0}, {0}
    return {0}, {1}


def _load(s: Scenario, url: str, body: pathlib.Path, duration: float, cpus: str) -> dict:
    if s.load == "wrk":
        return loadgen.wrk(url, body, KEY, s.connections, duration, cpus)
    if s.load == "h2load":
        assert s.rate is not None
        return loadgen.h2load(url, body, KEY, s.connections, s.rate, duration, cpus)
    return loadgen.stream(url, body, KEY, s.connections, duration, cpus)


def prepare(s: Scenario, target: Running, mock_pid: int) -> str:
    """Pin the target and the mock for the scenario's layout; the load generator's taskset list."""
    tcpus, lcpus = layout_cpus(s)
    procs.pin(procs.tree(mock_pid), lcpus)
    procs.pin(target.pids(), tcpus)  # for `direct` the target is the mock: the target's CPUs win
    return ",".join(map(str, sorted(lcpus)))


def warm_up(s: Scenario, target: Running, body: pathlib.Path, seconds: float, cpus: str) -> None:
    if s.load != "stream" and seconds > 0:
        loadgen.wrk(target.url, body, KEY, s.connections, seconds, cpus)


def run_once(s: Scenario, target: Running, mock_pid: int, body: pathlib.Path, duration: float, cpus: str) -> dict:
    """One measured run: the load generator's figures plus CPU, steal and noise around it."""
    tpids, mpids = target.pids(), procs.tree(mock_pid)
    t0, m0 = procs.cpu_ns(tpids), procs.cpu_ns(mpids)
    busy0, steal0 = procs.cpu_stat()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.monotonic()
    res = _load(s, target.url, body, duration, cpus)
    elapsed = time.monotonic() - w0
    t1, m1 = procs.cpu_ns(tpids), procs.cpu_ns(mpids)
    busy1, steal1 = procs.cpu_stat()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    n = res["requests"]
    load_s = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    target_s, mock_s = (t1 - t0) / 1e9, (m1 - m0) / 1e9
    own = target_s + (0 if target.proc is None else mock_s) + load_s
    if n == 0:  # nothing completed within the run (a target slower than the run is long)
        res["note"] = "no request completed within the run"

    def per(seconds: float) -> float | None:
        return seconds / n * 1e6 if n else None

    res.update(
        cpu_us=per(target_s),
        mock_cpu_us=per(mock_s),
        mock_util_pct=mock_s / elapsed * 100,  # of one CPU: near 100 would mean the mock is the limit
        load_cpu_us=per(load_s),
        steal_pct=(steal1 - steal0) / elapsed / NCPU * 100,
        other_cpu_pct=max(0.0, (busy1 - busy0) - own) / elapsed * 100,
        elapsed_s=elapsed,
    )
    return res


def median_run(runs: list[dict]) -> dict:
    """The run with the median throughput, with the spread of all runs beside it."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    mid = dict(ordered[(len(ordered) - 1) // 2])
    mid["spread"] = {
        k: [min(r[k] for r in runs if r.get(k) is not None), max(r[k] for r in runs if r.get(k) is not None)]
        for k in ("rps", "p50", "p99", "cpu_us")
        if any(r.get(k) is not None for r in runs)
    }
    mid["repeats"] = len(runs)
    return mid
