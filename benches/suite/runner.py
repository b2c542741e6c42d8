"""The run: start the mock, then each target in turn, run its scenarios, soak it, stop it.

Progress goes to stderr as it goes; the result is one dict (written as JSON by the CLI). Everything
started here goes through `procs`, so an interrupt or an error stops it all.
Must not: format tables or know the bars.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from suite import loadgen, measure, procs
from suite.scenarios.base import Scenario
from suite.targets import KEY, STARTERS, Context, Running, Unavailable

REPO = pathlib.Path(__file__).resolve().parents[2]
MOCK = REPO / "target" / "release" / "mock-provider"
NAGLE_MS = (38.0, 44.0)  # a p25..p75 inside this band at one connection is Nagle meeting delayed ACKs
IDLE_SHARE = 0.5  # ... when the target's CPU per request is under this share of the latency (it waited)


@dataclass
class Plan:
    targets: list[str]
    scenarios: list[Scenario]
    duration: float
    repeat: int
    warmup_s: float
    soak_s: float
    workers: int
    profile: str  # "auto" | "always" | "never"
    profile_s: float
    workdir: pathlib.Path
    results_dir: pathlib.Path
    stamp: str
    py_spy: str | None = None
    deadline: float = float("inf")  # monotonic time after which remaining scenarios are skipped
    skipped: list[str] = field(default_factory=list)


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def start_mock(workdir: pathlib.Path) -> tuple[Any, str]:
    """The one mock every target talks to: one thread, no recording, the ~50-event stream by default."""
    cmd = [str(MOCK), "--port", "0", "--threads", "1", "--record", "0", "--chunks", "47"]
    p = procs.start(cmd, None, stdout_pipe=True)
    line = p.stdout.readline().decode() if p.stdout else ""
    if not line.startswith("listening on "):
        raise RuntimeError(f"mock did not start: {line!r}")
    return p, "http://" + line.split()[-1]


def overlays(scenarios: list[Scenario]) -> list[Mapping[str, Any] | None]:
    """Distinct config overlays, the baseline (None) first: one target start per overlay."""
    out: list[Mapping[str, Any] | None] = [None]
    for s in scenarios:
        if s.overlay is not None and s.overlay not in out:
            out.append(s.overlay)
    return out


def run(plan: Plan) -> dict[str, Any]:
    procs.install_cleanup()
    mock, mock_url = start_mock(plan.workdir)
    say(f"mock provider on {mock_url} (pid {mock.pid})")
    results: dict[str, Any] = {"targets": {}, "nagle_plateaus": [], "profiles": []}
    try:
        for name in plan.targets:
            results["targets"][name] = run_target(plan, name, mock.pid, mock_url, results)
    finally:
        procs.stop(mock)
    return results


def run_target(plan: Plan, name: str, mock_pid: int, mock_url: str, results: dict[str, Any]) -> dict[str, Any]:
    ctx = Context(mock_url, mock_pid, plan.workdir, plan.workers)
    out: dict[str, Any] = {"available": True, "reason": None, "scenarios": {}}
    for overlay in overlays(plan.scenarios):
        if overlay is not None and not name.startswith("switchyard"):
            continue
        todo = [s for s in plan.scenarios if s.overlay == overlay and s.applies_to(name)]
        if not todo:
            continue
        say(f"{name}: starting" + (f" with {dict(overlay)}" if overlay else ""))
        try:
            target = STARTERS[name](ctx, overlay)
        except Unavailable as e:
            say(f"{name}: not available: {e}")
            if overlay is None:
                return {"available": False, "reason": str(e), "scenarios": {}}
            continue
        try:
            time.sleep(0.5)
            if overlay is None:
                out["rss_idle_mib"] = procs.rss_mib(target.pids())
            for s in todo:
                if time.monotonic() > plan.deadline:
                    plan.skipped.append(f"{name} {s.name}")
                    say(f"{name}: {s.name} skipped: past the time bound")
                    continue
                out["scenarios"][s.name] = run_scenario(plan, s, target, mock_pid, results)
            if overlay is None:
                if plan.soak_s > 0:
                    out["soak"] = soak(plan, target, mock_pid)
                out["rss_after_mib"] = procs.rss_mib(target.pids())
                out["processes"] = len(target.pids())
                maybe_profile(plan, name, target, mock_pid, out, results)
        finally:
            target.stop()
        say(f"{name}: stopped")
    return out


def run_scenario(plan: Plan, s: Scenario, target: Running, mock_pid: int, results: dict[str, Any]) -> dict:
    body = plan.workdir / f"{re.sub(r'[^a-z0-9]+', '-', s.name)}.json"
    body.write_bytes(s.body_bytes())
    cpus = measure.prepare(s, target, mock_pid)
    duration = plan.duration * s.duration_scale
    measure.warm_up(s, target, body, min(plan.warmup_s, duration), cpus)
    runs = []
    for _ in range(plan.repeat):
        try:
            runs.append(measure.run_once(s, target, mock_pid, body, duration, cpus))
        except RuntimeError as e:
            say(f"{target.name} {s.name}: load generator failed: {e}")
            runs.append({"rps": 0.0, "requests": 0, "errors": -1, "failed": str(e)[:300]})
    med = measure.median_run(runs)
    med["runs"] = runs
    say(
        f"{target.name:24} {s.name:26} {med['rps']:9.0f} req/s  p50 {fmt(med.get('p50'))} ms  "
        f"p99 {fmt(med.get('p99'))} ms  cpu {fmt(med.get('cpu_us'), 0)} us/req  "
        f"mock {fmt(med.get('mock_util_pct'), 0)}%  steal {fmt(med.get('steal_pct'), 1)}%  errors {med['errors']}"
    )
    if nagle_plateau(s.connections == 1 and s.load == "wrk", med):
        results["nagle_plateaus"].append(f"{target.name} {s.name}: p25..p75 {med['p25']:.1f}..{med['p75']:.1f} ms")
    return med


def nagle_plateau(one_connection: bool, med: dict[str, Any]) -> bool:
    """Whether one connection's latencies sit in the ~40 ms band while the target was mostly idle: Nagle
    meeting delayed ACKs. A target that spends that long on the CPU per request (LiteLLM's streams at one
    CPU) is slow, not stalled."""
    if not one_connection or med.get("p25") is None:
        return False
    in_band = NAGLE_MS[0] <= med["p25"] and med["p75"] <= NAGLE_MS[1]
    cpu_ms = (med.get("cpu_us") or 0.0) / 1000.0
    return bool(in_band and cpu_ms < IDLE_SHARE * med["p50"])


def fmt(v: float | None, nd: int = 2) -> str:
    return "—" if v is None else f"{v:.{nd}f}"


def soak(plan: Plan, target: Running, mock_pid: int) -> dict[str, Any]:
    """Moderate closed-loop load for `soak_s`; RSS sampled each second; growth per minute by least squares."""
    body = plan.workdir / "soak.json"
    body.write_bytes(b'{"model":"gpt-mock","messages":[{"role":"user","content":"soak"}],"max_tokens":16}')
    s = Scenario("soak", "soak", {}, connections=8)
    cpus = measure.prepare(s, target, mock_pid)
    script = body.with_suffix(".lua")
    script.write_text(loadgen._WRK_LUA.format(body=body, key=KEY))
    cmd = ["wrk", "-t1", "-c8", f"-d{plan.soak_s:g}s", "--timeout", "10s", "-s", str(script), target.url]
    say(f"{target.name}: soak {plan.soak_s:g} s")
    p = procs.start(cmd, None, cpus=cpus, stdout_pipe=True)
    samples: list[tuple[float, float]] = []
    t0 = time.monotonic()
    while p.poll() is None:
        samples.append((time.monotonic() - t0, procs.rss_mib(target.pids())))
        time.sleep(1.0)
    out = p.stdout.read().decode() if p.stdout else ""
    procs.stop(p)
    m = re.search(r'"requests":(\d+)', out)
    steady = samples[len(samples) // 5 :]  # the first fifth is warm-up (pools, allocator arenas)
    return {
        "seconds": plan.soak_s,
        "requests": int(m[1]) if m else None,
        "rss_start_mib": samples[0][1] if samples else None,
        "rss_end_mib": samples[-1][1] if samples else None,
        "growth_mib_per_min": slope(steady) * 60 if len(steady) >= 3 else None,
    }


def slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def maybe_profile(
    plan: Plan, name: str, target: Running, mock_pid: int, out: dict[str, Any], results: dict[str, Any]
) -> None:
    """py-spy flame graph of the scenario where `name` costs most CPU per request relative to python-floor."""
    if plan.profile == "never" or not name.startswith("switchyard") or not plan.py_spy:
        return
    floor = results["targets"].get("python-floor", {}).get("scenarios", {})
    by_name = {s.name: s for s in plan.scenarios}
    ratios = {
        sn: r["cpu_us"] / floor[sn]["cpu_us"]
        for sn, r in out["scenarios"].items()
        if r.get("cpu_us") and floor.get(sn, {}).get("cpu_us") and any(t.startswith("cpu") for t in by_name[sn].tags)
    }
    if not ratios:
        return
    worst = max(ratios, key=lambda k: ratios[k])
    limit = 1.2 if name.endswith("routing-only") else 1.6
    if plan.profile == "auto" and ratios[worst] <= limit:
        return
    s = next(s for s in plan.scenarios if s.name == worst)
    svg = plan.results_dir / f"{plan.stamp}-profile-{name}-{re.sub(r'[^a-z0-9]+', '-', worst)}.svg"
    body = plan.workdir / f"{re.sub(r'[^a-z0-9]+', '-', worst)}.json"
    cpus = measure.prepare(s, target, mock_pid)
    say(f"{name}: profiling {worst} ({ratios[worst]:.2f}x python-floor's CPU/req) with py-spy -> {svg.name}")
    cmd = [plan.py_spy, "record", "--pid", str(target.root_pid), "--subprocesses", "--rate", "250"]
    cmd += ["--duration", f"{plan.profile_s:g}", "--format", "flamegraph", "--output", str(svg), "--nonblocking"]
    spy = procs.start(cmd, plan.workdir / "py-spy.log")
    try:
        loadgen.wrk(target.url, body, KEY, s.connections, plan.profile_s, cpus)
        spy.wait(plan.profile_s + 30)
    finally:
        procs.stop(spy)
    if svg.exists():
        results["profiles"].append({"target": name, "scenario": worst, "cpu_ratio": ratios[worst], "svg": svg.name})


def which(name: str, extra: pathlib.Path | None = None) -> str | None:
    if extra is not None and extra.exists():
        return str(extra)
    return shutil.which(name)
