"""The built-in demo provider: an OpenAI-compatible server inside the process, for the keyless default.

It answers chat completions (streamed too) without a key or a network, and it goes through the very same
adapter, pass-through and stream relay as a real OpenAI-compatible upstream: only the transport differs.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable

import orjson

from switchyard.config import ProviderConfig, Timeouts
from switchyard.errors import GatewayError
from switchyard.providers.openai import OpenAICompatible
from switchyard.upstream import UpstreamRequest, UpstreamResponse

_ids = itertools.count(1)
REPLY = (
    "Hello from Switchyard's built-in demo model. It answers without any API key or network; "
    "add a provider to your config (or set OPENAI_API_KEY) to reach a real model. You said: "
)


def build(name: str, timeouts: Timeouts) -> OpenAICompatible:
    """The demo provider: the OpenAI-compatible adapter over an in-process transport."""
    cfg = ProviderConfig(kind="openai-compatible", base_url="http://demo.invalid/v1")
    adapter = OpenAICompatible(name, cfg, timeouts, DemoTransport())
    adapter.endpoints = frozenset()  # chat only (a Responses request is translated through chat)
    return adapter


class DemoTransport:
    """Answers like an OpenAI server would, from the request body alone."""

    async def send(self, req: UpstreamRequest) -> UpstreamResponse:
        body = orjson.loads(req.body)
        text = REPLY + _last_user_text(body.get("messages") or [])[:200]
        words = text.split(" ")
        pieces = [w + " " for w in words[:-1]] + words[-1:]
        usage = {
            "prompt_tokens": max(1, len(req.body) // 4),
            "completion_tokens": len(pieces),
            "total_tokens": max(1, len(req.body) // 4) + len(pieces),
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        }
        head = {
            "id": f"chatcmpl-demo-{next(_ids)}",
            "created": int(time.time()),
            "model": body.get("model", "demo"),
            "system_fingerprint": "fp_switchyard_demo",
        }
        if not body.get("stream"):
            message = {"role": "assistant", "content": text, "refusal": None}
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
            answer = {**head, "object": "chat.completion", "choices": [choice], "usage": usage}
            return DemoResponse([orjson.dumps(answer)])
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunk = {**head, "object": "chat.completion.chunk"}
        if with_usage:
            chunk["usage"] = None
        deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in pieces]
        events = [
            {**chunk, "choices": [{"index": 0, "delta": d, "logprobs": None, "finish_reason": None}]} for d in deltas
        ]
        events.append({**chunk, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]})
        if with_usage:
            events.append({**chunk, "choices": [], "usage": usage})
        return DemoResponse([b"data: " + orjson.dumps(e) + b"\n\n" for e in events] + [b"data: [DONE]\n\n"])

    async def close(self) -> None:
        return None


class DemoResponse:
    """A response whose chunks are already in memory."""

    status = 200

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks
        self._next = 0

    def header(self, name: str) -> str | None:
        return None

    async def read_chunk(self) -> bytes | None:
        if self._next >= len(self._chunks):
            return None
        self._next += 1
        return self._chunks[self._next - 1]

    def reader(self) -> Callable[[], Awaitable[bytes | None]]:
        return self.read_chunk

    def error_of(self, e: Exception) -> GatewayError | None:
        return None

    async def read_all(self, limit: int) -> bytes:
        rest = b"".join(self._chunks[self._next :])
        self._next = len(self._chunks)
        return rest

    async def close(self) -> None:
        return None


def _last_user_text(messages: list[object]) -> str:
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            content = m.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""
