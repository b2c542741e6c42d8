"""The markdown report: machine and method, a summary per target, the bars, and every scenario's figures.

Reads the result dict the runner produced (plus `bars`); writes nothing but text. Must not: measure.
"""

from __future__ import annotations

from typing import Any

from suite.bars import added


def _f(v: Any, nd: int = 2) -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def _na(t: dict[str, Any]) -> str:
    return f"not available: {t.get('reason')}"


def summary(res: dict[str, Any]) -> list[str]:
    rows = [
        "| target | req/s 200 B c64 | CPU µs/req 200 B / 10 KB / 50 KB | CPU µs/stream (50 ev) | added p50 / p99 ms "
        "(c1, one CPU) | paced c64: added TTFB p99 ms / added delay per chunk p99 µs "
        "| paced c64: streams held without stall | RSS idle / after MiB | soak MiB/min | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, t in res["targets"].items():
        if not t.get("available"):
            rows.append(f"| {name} | {_na(t)} |" + " |" * 9)
            continue
        sc = t["scenarios"]

        def g(s: str, k: str, sc: dict[str, Any] = sc) -> Any:
            return sc.get(s, {}).get(k)

        cpu = " / ".join(_f(g(f"chat-{z}/c64", "cpu_us"), 0) for z in ("200b", "10kb", "50kb"))
        lat = (
            "—"
            if name == "direct"
            else (
                f"{_f(added(res, name, 'chat-200b/c1-one-cpu', 'p50'), 3)} / "
                f"{_f(added(res, name, 'chat-200b/c1-one-cpu', 'p99'), 3)}"
            )
        )
        ttfb, gap = added(res, name, "paced/c64", "ttfb_p99"), added(res, name, "paced/c64", "relay_p99")
        paced = "—" if name == "direct" else f"{_f(ttfb, 3)} / {_f(None if gap is None else gap * 1000, 0)}"
        soak = t.get("soak", {})
        errors = sum(max(0, r.get("errors") or 0) for r in sc.values())
        rows.append(
            f"| {name} | {_f(g('chat-200b/c64', 'rps'), 0)} | {cpu} | {_f(g('stream-50/c64', 'cpu_us'), 0)} | {lat} "
            f"| {paced} | {_f(g('paced/c64', 'held_without_stall'))} / {_f(g('paced/c64', 'connections'))} "
            f"| {_f(t.get('rss_idle_mib'), 0)} / {_f(t.get('rss_after_mib'), 0)} "
            f"| {_f(soak.get('growth_mib_per_min'), 2)} | {errors} |"
        )
    return rows


def mock_line(res: dict[str, Any]) -> str:
    """The mock's own figures: its busiest run, to show it was never the bottleneck."""
    runs = [
        (r.get("mock_util_pct") or 0, tname, s, r)
        for tname, t in res["targets"].items()
        for s, r in t.get("scenarios", {}).items()
    ]
    if not runs:
        return ""
    util, tname, s, r = max(runs, key=lambda x: x[0])
    direct = res["targets"].get("direct", {}).get("scenarios", {}).get("chat-200b/c64", {})
    return (
        f"The mock (one thread) was never the bottleneck: its busiest run used {util:.0f}% of one CPU ({tname}, {s}, "
        f"{_f(r.get('mock_cpu_us'), 1)} µs/req); direct at 64 connections it served {_f(direct.get('rps'), 0)} req/s "
        f"at {_f(direct.get('cpu_us'), 1)} µs/req."
    )


def pairs(res: dict[str, Any]) -> list[str]:
    """Feature on/off pairs (scenarios registered with `overlay` and `pair`): what switching it on costs."""
    if not res.get("pairs"):
        return []
    rows = [
        "## Features on vs off",
        "",
        "| on | off | target | CPU µs/req on / off | p50 ms on / off | req/s on / off |",
        "|---|---|---|---:|---:|---:|",
    ]
    for on, off in res["pairs"].items():
        for tname, t in res["targets"].items():
            a, b = t.get("scenarios", {}).get(on), t.get("scenarios", {}).get(off)
            if a is None or b is None:
                continue
            rows.append(
                f"| {on} | {off} | {tname} | {_f(a.get('cpu_us'), 1)} / {_f(b.get('cpu_us'), 1)} "
                f"| {_f(a.get('p50'), 3)} / {_f(b.get('p50'), 3)} | {_f(a.get('rps'), 0)} / {_f(b.get('rps'), 0)} |"
            )
    return [*rows, ""]


def bars_table(res: dict[str, Any]) -> list[str]:
    rows = ["| bar | target | value | limit | met |", "|---|---|---:|---:|---|"]
    for b in res["bars"]:
        cmp = "≥" if b["bar"].startswith("throughput") else "≤"
        note = b.get("note") or ""
        missing = "— target not available" if note.startswith("not available") else f"— {note or 'not measured'}"
        met = {True: "✅ met", False: "❌ missed", None: missing}[b["met"]]
        val = _f(b["value"], 2) + ("" if b["value"] is None else f" {b['unit']}")
        rows.append(f"| {b['bar']} | {b['target']} | {val} | {cmp} {b['limit']:g} {b['unit']} | {met} |")
    return rows


def detail(res: dict[str, Any]) -> list[str]:
    rows = [
        "| scenario | target | req/s (spread) | p50 | p99 | p99.9 | max | added p50 / p99 | errors | CPU µs/req "
        "| mock µs/req (util %) | steal % | other CPU % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = sorted({s for t in res["targets"].values() for s in t.get("scenarios", {})}, key=_order(res))
    for s in names:
        for tname, t in res["targets"].items():
            r = t.get("scenarios", {}).get(s)
            if r is None:
                continue
            sp = r.get("spread", {}).get("rps")
            spread = f" ({_f(sp[0], 0)}-{_f(sp[1], 0)})" if sp and r.get("repeats", 1) > 1 else ""
            add = (
                "—"
                if tname == "direct"
                else f"{_f(added(res, tname, s, 'p50'), 3)} / {_f(added(res, tname, s, 'p99'), 3)}"
            )
            extra = ""
            if r.get("gap_p99") is not None:
                extra = (
                    f" (gap p99 {_f(r['gap_p99'], 2)}, relay p50/p99 {_f(r.get('relay_p50'), 3)}/"
                    f"{_f(r.get('relay_p99'), 3)}, stalled {r.get('stalled_streams')})"
                )
            if r.get("note"):
                extra += f" ({r['note']})"
            rows.append(
                f"| {s} | {tname} | {_f(r.get('rps'), 0)}{spread} | {_f(r.get('p50'), 3)} "
                f"| {_f(r.get('p99'), 3)}{extra} | {_f(r.get('p99.9'), 3)} | {_f(r.get('max'), 3)} | {add} "
                f"| {r.get('errors')} | {_f(r.get('cpu_us'), 1)} "
                f"| {_f(r.get('mock_cpu_us'), 1)} ({_f(r.get('mock_util_pct'), 0)}) | {_f(r.get('steal_pct'), 1)} "
                f"| {_f(r.get('other_cpu_pct'), 0)} |"
            )
    return rows


def _order(res: dict[str, Any]) -> Any:
    seen = res.get("scenario_order", [])
    return lambda s: seen.index(s) if s in seen else len(seen)


def markdown(res: dict[str, Any]) -> str:
    m, v, a = res["meta"]["machine"], res["meta"]["versions"], res["meta"]["args"]
    lines = [
        f"# Benchmark run {res['meta']['date']}",
        "",
        f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory']}, Linux {m['kernel']} ({m['virtualisation']}). "
        f"Command: `{res['meta']['command']}` ({a['workers']} worker(s), {a['duration']:g} s per run, "
        f"{a['repeat']} repeat(s), soak {a['soak']:g} s); took {res['meta']['elapsed_s'] / 60:.1f} min.",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        "Method: overhead = what the client sees through the target minus what it sees direct (same client, same "
        "mock, same run). CPU µs/req = on-CPU time of the target's whole process tree (schedstat) / requests. "
        "Latency at 1 connection: target, mock and load generator on one CPU; throughput: target on CPU 0, mock + "
        "load on CPU 1. Closed loop: wrk; open loop: h2load --rps; streams: stream-loadgen. Latencies in ms.",
        "",
        "## Summary",
        "",
        *summary(res),
        "",
        mock_line(res),
        "",
        "## Bars (ratios in this run, one worker each)",
        "",
        *bars_table(res),
        "",
    ]
    if res.get("nagle_plateaus"):
        lines += ["**Nagle/delayed-ACK plateau detected (run failed):** " + "; ".join(res["nagle_plateaus"]), ""]
    if res.get("profiles"):
        lines += [
            "Profiles: "
            + ", ".join(
                f"`{p['svg']}` ({p['target']}, {p['scenario']}, {p['cpu_ratio']:.2f}× python-floor CPU/req)"  # noqa: RUF001
                for p in res["profiles"]
            ),
            "",
        ]
    lines += pairs(res)
    lines += ["## Every scenario (median of the repeats)", "", *detail(res), ""]
    return "\n".join(lines)


README_START, README_END = "<!-- benches/run:start -->", "<!-- benches/run:end -->"


def readme_block(res: dict[str, Any], json_name: str) -> str:
    """The README's Performance table: machine, command, the summary and the bars of this run."""
    m, a = res["meta"]["machine"], res["meta"]["args"]
    lines = [
        README_START,
        f"Run {res['meta']['date']} on {m['cpu']}, {m['cpus']} CPUs, {m['memory']}, Linux {m['kernel']} "
        f'({m["virtualisation"]}), shared with other builds (see the "other CPU %" column of the full report); '
        f"`{res['meta']['command']}`: {a['workers']} worker(s), {a['duration']:g} s per run, {a['repeat']} repeat(s), "
        f"soak {a['soak']:g} s, {res['meta']['elapsed_s'] / 60:.0f} min. Full report: "
        f"`benches/results/{json_name}` (.md, .png beside it).",
        "",
        *summary(res),
        "",
        mock_line(res),
        "",
        *bars_table(res),
        README_END,
    ]
    return "\n".join(lines)


def update_readme(path: Any, block: str) -> bool:
    """Replace the marked block in README.md; False if the markers are missing."""
    text = path.read_text()
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    path.write_text(head + block + rest.split(README_END, 1)[1])
    return True
