"""The gateway's Python pipeline per request, in process: `App.__rsgi__` driven with a fake RSGI scope and
protocol and an in-memory upstream (no sockets, no Granian, no HTTP client), against the same fake
doing only what python-floor does (read the body, send it, answer). The difference is what the
pipeline's Python costs per request, stage by stage when run under a profiler:

    python3 benches/micro_pipeline.py               # table of µs per request per route
    python3 -m cProfile -s tottime benches/micro_pipeline.py --only chat-routing-only --n 20000

Machine noise applies (quote the ratios to `floor` measured in the same run).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from switchyard.app import App
from switchyard.config import parse_config
from switchyard.providers.demo import DemoResponse
from switchyard.upstream import UpstreamRequest

USAGE = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
CHAT = orjson.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "up",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there"}, "finish_reason": "stop"}],
        "usage": USAGE,
    }
)
EMBED = orjson.dumps(
    {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.5] * 8}],
        "model": "up",
        "usage": USAGE,
    }
)
ASK = {"messages": [{"role": "user", "content": "Say hello in one short sentence, please."}]}
ROUTES: dict[str, tuple[str, dict[str, Any]]] = {
    "floor": ("/v1/chat/completions", {"model": "m", **ASK}),
    "chat-full": ("/v1/chat/completions", {"model": "m", **ASK}),
    "chat-routing-only": ("/v1/chat/completions", {"model": "m-ro", **ASK}),
    "embeddings": ("/v1/embeddings", {"model": "e", "input": "Say hello"}),
    "responses-translated": ("/v1/responses", {"model": "m", "input": "Say hello"}),
    "messages-translated": ("/v1/messages", {"model": "m", "max_tokens": 64, **ASK}),
}


class Headers(dict[str, str]):
    """What the pipeline reads of Granian's headers: `get`."""


class Scope:
    proto = "http"
    method = "POST"

    def __init__(self, path: str, body: bytes) -> None:
        self.path = path
        self.headers = Headers(
            {
                "content-type": "application/json",
                "content-length": str(len(body)),
                "authorization": "Bearer sk-bench",
            }
        )


class Proto:
    """A fake RSGI protocol: the body in, the answer kept."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.status = 0

    async def __call__(self) -> bytes:
        return self.body

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status

    async def client_disconnect(self) -> None:
        await asyncio.Event().wait()


class Upstream:
    """An in-memory upstream: a chat completion, or an embeddings list for the embeddings path."""

    async def send(self, req: UpstreamRequest) -> DemoResponse:
        return DemoResponse([EMBED if req.url.endswith("/embeddings") else CHAT])

    async def close(self) -> None:
        return None


def build_app() -> App:
    provider = {"kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "endpoints": ["embeddings"]}
    tree = {
        "server": {"api_keys": ["sk-bench"]},
        "providers": {"up": provider},
        "models": {
            "m": {"deployments": [{"provider": "up", "model": "up"}]},
            "m-ro": {"deployments": [{"provider": "up", "model": "up"}], "mode": "routing-only"},
            "e": {"deployments": [{"provider": "up", "model": "up"}]},
        },
    }
    return App(parse_config(tree, {}))


async def floor(upstream: Upstream, proto: Proto, url: str) -> None:
    """What python-floor does per request."""
    body = await proto()
    headers = [("content-type", "application/json")]
    resp = await upstream.send(UpstreamRequest(url, headers, body, None, "", False))  # type: ignore[arg-type]
    proto.response_bytes(resp.status, headers, await resp.read_all(1 << 26))


async def run(name: str, n: int, app: App, upstream: Upstream) -> float:
    """µs per request of route `name`, over `n` requests after a warm-up."""
    path, tree = ROUTES[name]
    body = orjson.dumps(tree)
    scope = Scope(path, body)
    one: Callable[[Proto], Awaitable[None]]
    if name == "floor":

        def one(p: Proto) -> Awaitable[None]:
            return floor(upstream, p, "http://127.0.0.1:9/v1/chat/completions")
    else:

        def one(p: Proto) -> Awaitable[None]:
            return app.__rsgi__(scope, p)

    for _ in range(200):
        p = Proto(body)
        await one(p)
        assert p.status == 200, f"{name}: status {p.status}"
    t0 = time.perf_counter()
    for _ in range(n):
        await one(Proto(body))
    return (time.perf_counter() - t0) / n * 1e6


async def main(names: list[str], n: int) -> dict[str, float]:
    app = build_app()
    app.__rsgi_init__(asyncio.get_running_loop())
    upstream = Upstream()
    assert app.gateway is not None
    for adapter in app.gateway.adapters.values():
        adapter.transport = upstream
    return {name: await run(name, n, app, upstream) for name in names}


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=list(ROUTES), action="append", help="routes to run (default: all)")
    parser.add_argument("--n", type=int, default=5000, help="requests per route (default 5000)")
    args = parser.parse_args()
    names = args.only or list(ROUTES)
    try:
        import uvloop

        results = uvloop.run(main(names, args.n))
    except ImportError:
        results = asyncio.run(main(names, args.n))
    base = results.get("floor")
    print(f"{'route':24} {'µs/request':>11} {'vs floor':>9}")
    for name, us in results.items():
        ratio = f"{us / base:8.2f}x" if base else ""
        print(f"{name:24} {us:11.2f} {ratio}")


if __name__ == "__main__":
    sys.exit(cli())
