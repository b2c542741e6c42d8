"""`benches/run`: argument parsing, the plan and its time bound, install, run, write the three outputs.

Exit status: 0 when the run completed, 1 when it found a Nagle/delayed-ACK plateau or a tool is missing,
130/143 when interrupted (everything started is stopped first).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile
import time

from suite import bars, install, report, runner
from suite.scenarios import REGISTRY
from suite.targets import ORDER

REPO = pathlib.Path(__file__).resolve().parents[2]
RESULTS = REPO / "benches" / "results"
STARTUP_S = {"litellm": 40.0}  # seconds to start and check a target (others: ~3 s)

DESCRIPTION = """\
Switchyard's benchmark suite against its baselines, in one command.

Installs what it needs (wrk, h2load, nginx from Debian; LiteLLM's proxy and matplotlib/py-spy in venvs under
benches/.baselines/), starts the mock provider and each target on 127.0.0.1 in turn (direct, nginx,
python-floor, litellm, switchyard-full, switchyard-routing-only), runs the scenarios, stops everything,
and writes benches/results/<date>.json, .md and .png. Ctrl-C stops everything it started."""


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="benches/run", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--quick", action="store_true", help="a pass of a few minutes: 2 s runs, 1 repeat, 20 s soak, fewer scenarios"
    )
    ap.add_argument("--targets", help=f"comma-separated subset of {','.join(ORDER)} (default: all)")
    ap.add_argument("--scenarios", help="comma-separated glob patterns of scenario names (see --list)")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ap.add_argument("--workers", type=int, default=1, help="workers per target (default 1)")
    ap.add_argument("--duration", type=float, help="seconds per measured run (default 10, quick 2)")
    ap.add_argument("--repeat", type=int, help="measured runs per scenario, median kept (default 3, quick 1)")
    ap.add_argument("--warmup", type=float, help="seconds of warm-up per scenario (default 2, quick 1)")
    ap.add_argument("--soak", type=float, help="seconds of soak per target for RSS growth (default 300, quick 20)")
    ap.add_argument(
        "--profile",
        choices=["auto", "always", "never"],
        default="auto",
        help="py-spy flame graph of a switchyard target's worst CPU scenario (auto: when a CPU bar is missed)",
    )
    ap.add_argument("--out", type=pathlib.Path, default=RESULTS, help="results directory (default benches/results)")
    ap.add_argument("--no-install", action="store_true", help="do not install anything (use what is there)")
    ap.add_argument("--no-plot", action="store_true", help="skip the PNG")
    ap.add_argument("--readme", action="store_true", help="put this run's table into README.md's Performance section")
    a = ap.parse_args(argv)
    a.duration = a.duration or (2.0 if a.quick else 10.0)
    a.repeat = a.repeat or (1 if a.quick else 3)
    a.warmup = a.warmup if a.warmup is not None else (1.0 if a.quick else 2.0)
    a.soak = a.soak if a.soak is not None else (20.0 if a.quick else 300.0)
    return a


def select(a: argparse.Namespace) -> tuple[list[str], list]:
    targets = a.targets.split(",") if a.targets else list(ORDER)
    unknown = [t for t in targets if t not in ORDER]
    if unknown:
        raise SystemExit(f"benches/run: unknown target(s) {unknown}; known: {ORDER}")
    pats = a.scenarios.split(",") if a.scenarios else ["*"]
    scen = [s for s in REGISTRY.values() if any(fnmatch.fnmatch(s.name, p) for p in pats)]
    if a.quick and not a.scenarios:
        scen = [s for s in scen if s.quick]
    if not scen:
        raise SystemExit(f"benches/run: no scenario matches {pats}")
    return [t for t in ORDER if t in targets], scen


def estimate(a: argparse.Namespace, targets: list[str], scen: list) -> float:
    """Seconds the plan should take on an idle machine (printed up front)."""
    total = 0.0
    for t in targets:
        total += STARTUP_S.get(t, 3.0) + a.soak + 2
        for s in scen:
            if s.overlay is None or t.startswith("switchyard"):
                total += (0 if s.load == "stream" else a.warmup) + a.repeat * (a.duration * s.duration_scale + 1.5)
    return total


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    if a.list:
        for s in REGISTRY.values():
            print(f"{s.name:28} {s.load:7} c{s.connections:<3} {s.layout:8}{' quick' if s.quick else ''}")
        return 0
    targets, scen = select(a)
    est = estimate(a, targets, scen)
    bound = est * 1.5 + 120
    runner.say(
        f"plan: {len(targets)} targets x {len(scen)} scenarios, {a.repeat} repeat(s) of {a.duration:g} s, "
        f"soak {a.soak:g} s; "
        f"expected ~{est / 60:.0f} min, bounded at {bound / 60:.0f} min (scenarios past it are skipped), plus installs"
    )
    t_start = time.monotonic()
    missing = [] if a.no_install else install.debian_tools()
    if a.no_install:
        missing = [c for c in install.APT if not install._have(c)]
    if {"wrk", "taskset"} & set(missing):
        print(f"benches/run: missing {missing}; install them (apt-get install wrk util-linux)", file=sys.stderr)
        return 1
    notes: dict[str, str] = {}
    install.rust_binaries()  # not an install: a no-op when up to date
    if not a.no_install:
        if "litellm" in targets and (why := install.litellm()):
            notes["litellm"] = why
        if why := install.tools():
            notes["tools"] = why
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    a.out.mkdir(parents=True, exist_ok=True)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="switchyard-bench-"))
    runner.say(f"logs and configs in {workdir}")
    py_spy = runner.which("py-spy", install.TOOLS / "bin" / "py-spy")
    plan = runner.Plan(
        targets=targets, scenarios=scen, duration=a.duration, repeat=a.repeat, warmup_s=a.warmup, soak_s=a.soak,
        workers=a.workers, profile=a.profile, profile_s=min(10.0, max(3.0, a.duration)), workdir=workdir,
        results_dir=a.out, stamp=stamp, py_spy=py_spy, deadline=time.monotonic() + bound,
    )  # fmt: skip
    res = runner.run(plan)
    for name, why in notes.items():
        t = res["targets"].get(name)
        if t is not None and not t.get("available"):
            t["reason"] = f"{why}; {t['reason']}"
    res["scenario_order"] = [s.name for s in scen]
    res["pairs"] = {s.name: s.pair for s in scen if s.pair}  # feature on -> its off twin
    res["meta"] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "benches/run " + " ".join(shlex.quote(x) for x in (argv if argv is not None else sys.argv[1:])),
        "args": {"workers": a.workers, "duration": a.duration, "repeat": a.repeat, "soak": a.soak, "quick": a.quick},
        "machine": install.machine(),
        "versions": install.versions(),
        "elapsed_s": time.monotonic() - t_start,
        "expected_s": est,
        "skipped": plan.skipped,
    }
    res["bars"] = [b.as_dict() for b in bars.check(res)]
    base = a.out / stamp
    base.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    base.with_suffix(".md").write_text(report.markdown(res))
    outputs = [base.with_suffix(".json"), base.with_suffix(".md")]
    if not a.no_plot:
        py = install.TOOLS / "bin" / "python"  # else the running Python, if it has matplotlib (tests)
        plot = pathlib.Path(__file__).with_name("plot.py")
        r = subprocess.run([str(py if py.exists() else sys.executable), str(plot), str(base.with_suffix(".json")),
                            str(base.with_suffix(".png"))], capture_output=True, text=True)  # fmt: skip
        if r.returncode != 0:
            print(f"benches/run: plot failed: {r.stderr.strip()[-300:]}", file=sys.stderr)
        else:
            outputs.append(base.with_suffix(".png"))
    print(report.markdown(res))
    if a.readme and not report.update_readme(REPO / "README.md", report.readme_block(res, base.name + ".json")):
        print("benches/run: README.md has no benches/run markers; not updated", file=sys.stderr)
    runner.say("wrote " + ", ".join(str(p.relative_to(REPO) if p.is_relative_to(REPO) else p) for p in outputs))
    if res["nagle_plateaus"]:
        print("benches/run: FAILED: ~40 ms plateau (Nagle/delayed ACK): " + "; ".join(res["nagle_plateaus"]))
        return 1
    return 0 if os.environ.get("BENCH_STRICT") != "1" or all(b["met"] is not False for b in res["bars"]) else 1
