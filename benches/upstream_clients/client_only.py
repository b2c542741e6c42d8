#!/usr/bin/env python3
"""The upstream clients alone, no server in front: CPU per request of the client process.

    python benches/upstream_clients/client_only.py [--requests 20000] [--rounds 3] [--concurrency 32]

Starts the Rust mock (release, `--record 0`), then for each round and client runs a fresh Python process
that drives `--concurrency` keep-alive request loops on uvloop against it: a 2,000-request warm-up, then
`--requests` measured requests (the same ~200-byte chat request as run.py, non-stream, then
`"stream":true` read chunk by chunk to the end). CPU is getrusage(RUSAGE_SELF) user+sys of that process
(every thread: the event loop and the client's own runtime thread), after minus before, / requests.
Clients are interleaved round by round so that load from outside drifts over all of them alike; the
table gives each client's median and the spread over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BODY = (
    '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},'
    '{"role":"user","content":"Say hello to the benchmark in one short line, please."}],"max_tokens":32'
)
CLIENTS = ["_core.HttpClient", "pyreqwest", "pyreqwest (no read-ahead)"]


def _core_loop(url: str, body: bytes, stream: bool) -> Callable[[int], Awaitable[None]]:
    from switchyard._core import HttpClient

    client = HttpClient()
    hdrs = [("content-type", "application/json")]

    async def loop(n: int) -> None:
        for _ in range(n):
            resp = await client.send("POST", url, hdrs, body, 60.0)
            if stream:
                while await resp.read_chunk() is not None:
                    pass
            else:
                await resp.read_all(1 << 26)

    return loop


def _pyreqwest_loop(url: str, body: bytes, stream: bool, read_ahead: int | None) -> Callable[[int], Awaitable[None]]:
    from pyreqwest.client import ClientBuilder

    client = ClientBuilder().max_connections(1024).tcp_nodelay(True).build()
    hdrs = {"content-type": "application/json"}

    async def loop(n: int) -> None:
        for _ in range(n):
            req = client.post(url).headers(hdrs).body_bytes(body)
            if not stream:
                resp = await req.build().send()
                bytes(await resp.bytes())
                continue
            if read_ahead is not None:
                req = req.streamed_read_buffer_limit(read_ahead)
            async with req.build_streamed() as resp:
                reader = resp.body_reader
                while (chunk := await reader.read_chunk()) is not None:
                    bytes(chunk)

    return loop


def child(name: str, mode: str, url: str, requests: int, concurrency: int) -> None:
    import uvloop

    stream = mode == "stream"
    body = (BODY + (',"stream":true}' if stream else "}")).encode()

    async def main() -> None:
        if name == "_core.HttpClient":
            loop = _core_loop(url, body, stream)
        else:
            loop = _pyreqwest_loop(url, body, stream, 0 if "no read-ahead" in name else None)

        async def run(n: int) -> None:
            await asyncio.gather(*(loop(n // concurrency) for _ in range(concurrency)))

        await run(2000)
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        await run(requests)
        r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        print(f"{requests / (t1 - t0):.0f} {cpu / requests * 1e6:.2f}")

    uvloop.run(main())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--child", nargs=3, metavar=("CLIENT", "MODE", "URL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child, args.requests, args.concurrency)
        return

    sys.path.insert(0, str(REPO / "tests"))
    from mock_server import MockProvider

    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with MockProvider("--record", "0") as mock:
        url = mock.url + "/v1/chat/completions"
        for r in range(args.rounds):
            for name in CLIENTS:
                for mode in ("non-stream", "stream"):
                    cmd = [sys.executable, __file__, "--requests", str(args.requests)]
                    cmd += ["--concurrency", str(args.concurrency), "--child", name, mode, url]
                    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
                    rps, cpu = float(out[0]), float(out[1])
                    results.setdefault((name, mode), []).append((rps, cpu))
                    print(f"round {r + 1} {name:26} {mode:10} {rps:8.0f} req/s {cpu:7.1f} µs CPU/req", file=sys.stderr)

    base = {mode: statistics.median(c for _, c in results[("pyreqwest", mode)]) for mode in ("non-stream", "stream")}
    print("| client | mode | req/s (median) | CPU µs/req (median) | CPU µs/req (rounds) | vs pyreqwest |")
    print("|---|---|---:|---:|---:|---:|")
    for (name, mode), runs in results.items():
        cpu = statistics.median(c for _, c in runs)
        rps = statistics.median(r for r, _ in runs)
        spread = ", ".join(f"{c:.1f}" for _, c in runs)
        print(f"| {name} | {mode} | {rps:,.0f} | {cpu:.1f} | {spread} | {cpu / base[mode]:.2f}x |")
    print(f"\npyreqwest {version('pyreqwest')}, uvloop {version('uvloop')}, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
