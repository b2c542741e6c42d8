"""Canonical (OpenAI chat) answers → Anthropic Messages answers, whole and streamed.

Shapes: https://docs.anthropic.com/en/api/messages (response) and
https://docs.anthropic.com/en/api/messages-streaming (event flow: message_start, then per content block
content_block_start / content_block_delta… / content_block_stop, then message_delta with the stop reason
and usage, then message_stop; errors as an `error` event).
  - `reasoning_content` → a `thinking` block (its signature from `thinking_blocks`, else empty: only an
    Anthropic upstream can sign one), `content` → a `text` block, `tool_calls` → `tool_use` blocks
    (streamed arguments → `input_json_delta`);
  - `finish_reason` stop / length / tool_calls / content_filter → `stop_reason` end_turn / max_tokens /
    tool_use / refusal;
  - usage: the record's classes in Anthropic's fields (`usage_of`): uncached input in `input_tokens`,
    cache reads and writes beside it, `output_tokens` = output + reasoning. In a stream the final counts
    go in `message_delta` (the usage chunk arrives at the end; `message_start` carries zeros).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from switchyard.canonical import JsonObject, Usage
from switchyard.dialects.stream import ChunkTranslator
from switchyard.errors import UpstreamError

STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


def usage_of(u: Usage | None) -> JsonObject:
    """A usage record as an Anthropic `usage` object."""
    if u is None:
        return {"input_tokens": 0, "output_tokens": 0}
    out: JsonObject = {
        "input_tokens": u.input_tokens,
        "cache_creation_input_tokens": u.cache_write_tokens,
        "cache_read_input_tokens": u.cache_read_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": u.cache_write_5m_tokens,
            "ephemeral_1h_input_tokens": u.cache_write_1h_tokens,
        },
        "output_tokens": u.output_tokens + u.reasoning_tokens,
    }
    if u.service_tier:
        out["service_tier"] = u.service_tier
    return out


def _id(raw: Any) -> str:
    text = str(raw or "")
    return text if text.startswith("msg_") else f"msg_{text}"


def whole(body: bytes, usage: Usage | None) -> bytes:
    """An OpenAI chat completion as an Anthropic message."""
    try:
        answer = orjson.loads(body)
        choice = answer["choices"][0]
        msg = choice["message"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        raise UpstreamError("upstream answered 200 with a body that is not a chat completion") from None
    content: list[JsonObject] = []
    signed = {b.get("thinking"): b for b in msg.get("thinking_blocks") or [] if isinstance(b, dict)}
    for b in signed.values():
        if b.get("type") == "redacted_thinking":
            content.append(b)
    if msg.get("reasoning_content"):
        thought = msg["reasoning_content"]
        sig = (signed.get(thought) or {}).get("signature", "")
        content.append({"type": "thinking", "thinking": thought, "signature": sig})
    if msg.get("content"):
        content.append({"type": "text", "text": msg["content"]})
    for call in msg.get("tool_calls") or []:
        fn = call.get("function") or {}
        try:
            args = orjson.loads(fn.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            args = {"_raw_arguments": fn.get("arguments")}  # what the model produced, kept visible
        content.append({"type": "tool_use", "id": call.get("id"), "name": fn.get("name"), "input": args})
    return orjson.dumps(
        {
            "id": _id(answer.get("id")),
            "type": "message",
            "role": "assistant",
            "model": answer.get("model"),
            "content": content,
            "stop_reason": STOP.get(choice.get("finish_reason") or "stop", "end_turn"),
            "stop_sequence": None,
            "usage": usage_of(usage),
        }
    )


def _event(name: str, data: JsonObject) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class StreamTranslator(ChunkTranslator):
    """OpenAI chunks in, Anthropic events out (the `StreamTap` surface, stacked after the adapter's)."""

    def __init__(self, usage: Callable[[], Usage | None]) -> None:
        """`usage`: the stream's usage so far, as the adapter's tap below this one parsed it."""
        self._usage = usage
        super().__init__()
        self._started = False
        self._index = -1
        self._open: str | None = None  # the open block's kind: thinking, text, tool_use
        self._tools: dict[int, int] = {}  # OpenAI tool-call index → block index
        self._stop: str | None = None
        self.error: bytes | None = None
        self.text = ""

    @property
    def usage(self) -> Usage | None:
        return self._usage()

    def _start(self, data: JsonObject, out: list[bytes]) -> None:
        self._started = True
        message: JsonObject = {
            "id": _id(data.get("id")),
            "type": "message",
            "role": "assistant",
            "model": data.get("model"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        out.append(_event("message_start", {"type": "message_start", "message": message}))

    def _block(self, kind: str, block: JsonObject, out: list[bytes]) -> None:
        self._close(out)
        self._index += 1
        self._open = kind
        out.append(
            _event("content_block_start", {"type": "content_block_start", "index": self._index, "content_block": block})
        )

    def _close(self, out: list[bytes]) -> None:
        if self._open is not None:
            out.append(_event("content_block_stop", {"type": "content_block_stop", "index": self._index}))
            self._open = None

    def _delta(self, delta: JsonObject, out: list[bytes]) -> None:
        out.append(_event("content_block_delta", {"type": "content_block_delta", "index": self._index, "delta": delta}))

    def _chunk(self, data: JsonObject, out: list[bytes]) -> None:
        if isinstance(data.get("error"), dict):
            err = data["error"]
            kind = "overloaded_error" if err.get("code") == "upstream_overloaded" else "api_error"
            self.error = orjson.dumps({"type": "error", "error": {"type": kind, "message": str(err.get("message"))}})
            out.append(b"event: error\ndata: " + self.error + b"\n\n")
            return
        if not self._started:
            self._start(data, out)
        for choice in data.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("reasoning_content"):
                if self._open != "thinking":
                    self._block("thinking", {"type": "thinking", "thinking": ""}, out)
                self._delta({"type": "thinking_delta", "thinking": delta["reasoning_content"]}, out)
            for b in delta.get("thinking_blocks") or []:
                if b.get("type") == "thinking" and b.get("signature") and self._open == "thinking":
                    self._delta({"type": "signature_delta", "signature": b["signature"]}, out)
                elif b.get("type") == "redacted_thinking":
                    self._block("redacted_thinking", b, out)
            if delta.get("content"):
                if self._open != "text":
                    self._block("text", {"type": "text", "text": ""}, out)
                self._delta({"type": "text_delta", "text": delta["content"]}, out)
                self.text += delta["content"]
            for call in delta.get("tool_calls") or []:
                self._tool(call, out)
            if choice.get("finish_reason"):
                self._stop = STOP.get(choice["finish_reason"], "end_turn")

    def _tool(self, call: JsonObject, out: list[bytes]) -> None:
        n = int(call.get("index", 0))
        fn = call.get("function") or {}
        if n not in self._tools:
            block: JsonObject = {"type": "tool_use", "id": call.get("id"), "name": fn.get("name"), "input": {}}
            self._block("tool_use", block, out)
            self._tools[n] = self._index
        elif self._tools[n] != self._index:  # interleaved calls are not expressible in Anthropic's stream
            raise UpstreamError("upstream interleaved the arguments of parallel tool calls")
        if fn.get("arguments"):
            self._delta({"type": "input_json_delta", "partial_json": fn["arguments"]}, out)

    def _end(self, out: list[bytes]) -> None:
        if not self._started:
            self._start({}, out)
        self._close(out)
        delta = {"stop_reason": self._stop or "end_turn", "stop_sequence": None}
        out.append(_event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage_of(self._usage())}))
        out.append(_event("message_stop", {"type": "message_stop"}))
        self.done = True
