"""benches/run end to end on a tiny budget: cheap targets, the three outputs, nothing left behind.

LiteLLM is never installed here (`--no-install`, and it is not among the targets); nginx is measured when
it is installed and reported "not available" otherwise. Every process the runner starts inherits a
marker variable, so a leftover is found by scanning /proc, also after a SIGINT mid-run.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
RUN = REPO / "benches" / "run"
TARGETS = "direct,nginx,python-floor,switchyard-full"
pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")


def survivors(marker: str) -> list[str]:
    """Command lines of live processes whose environment carries `marker`."""
    found = []
    for d in pathlib.Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            if marker.encode() in (d / "environ").read_bytes():
                found.append((d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


def start(out: pathlib.Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    marker = f"bench-test-{uuid.uuid4().hex}"
    env = {**os.environ, "SWITCHYARD_BENCH_PYTHON": sys.executable, "BENCH_TEST_MARKER": marker}
    cmd = [str(RUN), "--no-install", "--profile", "never", "--out", str(out), *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, marker


def test_tiny_run_writes_json_markdown_png(tmp_path: pathlib.Path) -> None:
    scen = "chat-200b/c1-one-cpu,paced/c1"
    proc, marker = start(tmp_path, "--targets", TARGETS, "--scenarios", scen, "--duration", "1", "--repeat", "1",
                         "--warmup", "0", "--soak", "1")  # fmt: skip
    out, _ = proc.communicate(timeout=150)
    assert proc.returncode == 0, out[-3000:]
    assert survivors(marker) == []
    [js] = tmp_path.glob("*.json")
    res = json.loads(js.read_text())
    assert set(res["targets"]) == set(TARGETS.split(","))
    for name in ("direct", "python-floor", "switchyard-full"):
        t = res["targets"][name]
        assert t["available"], t
        assert t["rss_after_mib"] > 0 and "growth_mib_per_min" in t["soak"]
        for s in scen.split(","):
            r = t["scenarios"][s]
            assert r["requests"] > 0 and r["errors"] == 0, (name, s, r)
            assert r["cpu_us"] > 0 and r["p50"] > 0 and "steal_pct" in r and "mock_util_pct" in r
    paced = res["targets"]["switchyard-full"]["scenarios"]["paced/c1"]
    assert paced["gap_p99"] > 15 and paced["relay_p99"] > 0 and paced["held_without_stall"] == 1  # 20 ms pacing
    nginx = res["targets"]["nginx"]
    assert nginx["available"] or nginx["reason"]
    assert {b["bar"] for b in res["bars"]} >= {"RSS after the run (vs python-floor)"}
    md = js.with_suffix(".md").read_text()
    assert "| switchyard-full |" in md and "## Bars" in md
    assert js.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sigint_mid_run_leaves_nothing_behind(tmp_path: pathlib.Path) -> None:
    proc, marker = start(tmp_path, "--targets", "python-floor,switchyard-full", "--scenarios", "chat-200b/c64",
                         "--duration", "20", "--soak", "0", "--no-plot")  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:  # wait until a target is up and under load
        if "python-floor" in line and "starting" in line:
            break
        assert time.monotonic() < deadline, "runner never started a target"
    time.sleep(3)
    assert len(survivors(marker)) >= 3  # the runner, the mock, the target (and wrk)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGINT
    assert survivors(marker) == []
    assert not list(tmp_path.glob("*.json"))
