"""The load generators, each run once and parsed into one flat dict of figures.

- wrk (closed loop): ceilings and latency at a fixed number of connections; a Lua `done()` prints the
  percentiles wrk's `--latency` table leaves out (p99.9, max).
- h2load `--rps` (open loop, HTTP/1.1): latency under a fixed offered rate, percentiles from its
  per-request log.
- stream-loadgen (ours, benches/stream_loadgen): time to the first SSE event and gaps between events.
Latencies are in ms. Must not: start targets or read /proc.
"""

from __future__ import annotations

import json
import pathlib
import re

from suite import procs

REPO = pathlib.Path(__file__).resolve().parents[2]
STREAM_LOADGEN = REPO / "target" / "release" / "stream-loadgen"

_WRK_LUA = """\
wrk.method = "POST"
local f = io.open("{body}", "rb")
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,' ..
    '"p25":%d,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(25), latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
"""


def wrk(url: str, body: pathlib.Path, key: str, connections: int, duration: float, cpus: str | None) -> dict:
    """Closed loop: `connections` connections, one request in flight each, for `duration` seconds."""
    script = body.with_suffix(".lua")
    script.write_text(_WRK_LUA.format(body=body, key=key))
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(duration, 1):g}s", "--timeout", "10s", "-s", str(script), url]
    out = procs.run(cmd, timeout=duration + 60, cpus=cpus)
    m = re.search(r"WRKJSON (\{.*\})", out)
    if not m:
        raise RuntimeError(f"wrk printed no summary: {out[-500:]}")
    r = json.loads(m[1])
    secs = r["duration_us"] / 1e6
    return {
        "requests": r["requests"],
        "rps": r["requests"] / secs,
        "errors": r["errors"] + r["non2xx"],
        **{k: r[k] / 1000 for k in ("p25", "p50", "p75", "p90", "p99")},
        "p99.9": r["p999"] / 1000,
        "max": r["max"] / 1000,
    }


def h2load(
    url: str, body: pathlib.Path, key: str, connections: int, rate: int, duration: float, cpus: str | None
) -> dict:
    """Open loop over HTTP/1.1: `rate` requests/s in all, spread over `connections` connections."""
    log = body.with_suffix(f".h2load-{rate}.log")
    per_conn = max(rate / connections, 0.1)
    cmd = ["h2load", "--h1", "-t1", f"-c{connections}", f"--rps={per_conn:g}", f"-D{max(duration, 1):g}"]
    cmd += ["-d", str(body), "-H", "content-type: application/json", "-H", f"authorization: Bearer {key}"]
    cmd += ["--log-file", str(log), url]
    out = procs.run(cmd, timeout=duration + 60, cpus=cpus)
    lat, errors = [], 0
    for line in log.read_text().splitlines():
        _start, status, us = line.split("\t")[:3]
        if 200 <= int(status) < 300:
            lat.append(int(us) / 1000)
        else:
            errors += 1
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed", out)
    if m:
        errors = max(errors, int(m[5]))
    done = re.search(r"finished in ([\d.]+)(s|ms), ([\d.]+) req/s", out)
    rps = float(done[3]) if done else (len(lat) + errors) / duration
    return {"requests": len(lat) + errors, "rps": rps, "offered_rps": rate, "errors": errors, **percentiles(lat)}


def stream(url: str, body: pathlib.Path, key: str, connections: int, duration: float, cpus: str | None) -> dict:
    """Streams back to back on `connections` connections; TTFB and inter-event gaps per stream."""
    cmd = [str(STREAM_LOADGEN), "--url", url, "--body-file", str(body), "--connections", str(connections)]
    cmd += ["--duration-s", f"{duration:g}", "--header", f"authorization: Bearer {key}"]
    r = json.loads(procs.run(cmd, timeout=duration + 60, cpus=cpus).strip().splitlines()[-1])
    ttfb, gap, relay = r["ttfb_us"], r["gap_us"], r.get("relay_us", {})
    out = {
        "requests": r["streams"],
        "rps": r["streams_per_s"],
        "errors": r["errors"],
        "stalled_streams": r["stalled_streams"],
        "held_without_stall": r.get("held_without_stall"),
        "connections": r["connections"],
        "events": r["events"],
    }
    for name, s in (("ttfb", ttfb), ("gap", gap), ("relay", relay)):
        for p in ("p50", "p99", "p99.9", "max"):
            out[f"{name}_{p}"] = None if s.get(p) is None else s[p] / 1000
    out.update({p: out[f"ttfb_{p}"] for p in ("p50", "p99", "p99.9", "max")})
    return out


def percentiles(values_ms: list[float]) -> dict:
    """p50/p90/p99/p99.9/max of a list of latencies (nearest rank)."""
    if not values_ms:
        return {k: None for k in ("p50", "p90", "p99", "p99.9", "max")}
    v = sorted(values_ms)

    def at(p: float) -> float:
        return v[min(len(v) - 1, round(p / 100 * (len(v) - 1)))]

    return {"p50": at(50), "p90": at(90), "p99": at(99), "p99.9": at(99.9), "max": v[-1]}
