"""Plot a results JSON: latency percentiles, throughput and CPU per request per target (one PNG).

Run with the tools venv's Python (matplotlib lives there, not in the project):
    benches/.baselines/tools/bin/python benches/suite/plot.py RESULTS.json OUT.png
"""

from __future__ import annotations

import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main(src: str, dst: str) -> None:
    res = json.loads(pathlib.Path(src).read_text())
    names = [n for n, t in res["targets"].items() if t.get("available")]
    sc = {n: res["targets"][n]["scenarios"] for n in names}
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.5))

    ax = axes[0]
    pcts = ["p50", "p99", "p99.9", "max"]
    width = 0.8 / len(pcts)
    for i, p in enumerate(pcts):
        vals = [sc[n].get("chat-200b/c1-one-cpu", {}).get(p) or 0 for n in names]
        ax.bar([x + i * width for x in range(len(names))], vals, width, label=p)
    ax.set_yscale("log")
    ax.set_title("Latency, 200 B request, 1 connection, one CPU (ms)")
    ax.legend()

    ax = axes[1]
    conns = ["chat-200b/c32", "chat-200b/c64", "stream-50/c64"]
    width = 0.8 / len(conns)
    for i, s in enumerate(conns):
        vals = [sc[n].get(s, {}).get("rps") or 0 for n in names]
        ax.bar([x + i * width for x in range(len(names))], vals, width, label=s)
    ax.set_yscale("log")
    ax.set_title("Throughput, closed loop (req/s; target on its own CPU)")
    ax.legend()

    ax = axes[2]
    loads = ["chat-200b/c64", "chat-10kb/c64", "chat-50kb/c64", "stream-50/c64"]
    width = 0.8 / len(loads)
    for i, s in enumerate(loads):
        vals = [sc[n].get(s, {}).get("cpu_us") or 0 for n in names]
        ax.bar([x + i * width for x in range(len(names))], vals, width, label=s)
    ax.set_yscale("log")
    ax.set_title("CPU per request, whole process tree (µs)")
    ax.legend()

    for ax in axes:
        ax.set_xticks([x + 0.3 for x in range(len(names))])
        ax.set_xticklabels(names, rotation=30, ha="right")
        ax.grid(axis="y", alpha=0.3)
    m = res["meta"]["machine"]
    fig.suptitle(f"Switchyard benchmark {res['meta']['date']} — {m['cpu']}, {m['cpus']} CPUs; one worker each")
    fig.tight_layout()
    fig.savefig(dst, dpi=100)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
