"""Anthropic Messages answers → OpenAI chat completions, whole and streamed.

Shapes: https://docs.anthropic.com/en/api/messages (response), streaming events:
https://docs.anthropic.com/en/api/messages-streaming (message_start, content_block_start/delta/stop,
message_delta, message_stop, ping, error).
  - text blocks → `content`; `tool_use` blocks → `tool_calls` (the `JSON_TOOL` one → `content`, as
    the JSON text the caller asked for with `response_format`); `thinking` → `reasoning_content`, and
    the signed blocks (thinking, redacted_thinking) → `thinking_blocks` to be echoed back next turn;
  - `stop_reason` → `finish_reason` by `FINISH`;
  - usage: `providers/usage.py` (message_delta's counts win over message_start's).
In a stream, a tool call's `id`, `type` and `name` go only in its first delta (the openai SDK's
accumulator concatenates every string it sees), and its index counts tool calls, not content blocks.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from switchyard._core import SseParser
from switchyard.canonical import JsonObject, Usage, json_object
from switchyard.errors import UpstreamError
from switchyard.providers.anthropic.request import JSON_TOOL
from switchyard.providers.usage import anthropic_usage, merge_anthropic

FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _finish(stop_reason: Any, json_mode: bool) -> str | None:
    if stop_reason is None:
        return None
    if json_mode and stop_reason == "tool_use":
        return "stop"
    return FINISH.get(str(stop_reason), "stop")


def whole(body: bytes) -> tuple[bytes, Usage | None]:
    """A Messages response as an OpenAI chat completion."""
    try:
        msg = orjson.loads(body)
        blocks = msg["content"]
        assert isinstance(blocks, list)
    except (orjson.JSONDecodeError, KeyError, TypeError, AssertionError):
        raise UpstreamError("upstream answered 200 with a body that is not an Anthropic message") from None
    text: list[str] = []
    thinking: list[str] = []
    signed: list[JsonObject] = []
    calls: list[JsonObject] = []
    json_mode = False
    for b in blocks:
        kind = b.get("type")
        if kind == "text":
            text.append(b.get("text", ""))
        elif kind == "tool_use" and b.get("name") == JSON_TOOL:
            json_mode = True
            text.append(orjson.dumps(b.get("input")).decode())
        elif kind == "tool_use":
            args = orjson.dumps(b.get("input", {})).decode()
            calls.append(
                {"id": b.get("id"), "type": "function", "function": {"name": b.get("name"), "arguments": args}}
            )
        elif kind == "thinking":
            thinking.append(b.get("thinking", ""))
            signed.append(b)
        elif kind == "redacted_thinking":
            signed.append(b)
    message: JsonObject = {"role": "assistant", "content": "".join(text) if text else None, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    if thinking:
        message["reasoning_content"] = "".join(thinking)
    if signed:
        message["thinking_blocks"] = signed
    usage = anthropic_usage(msg.get("usage"))
    answer: JsonObject = {
        "id": msg.get("id"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": msg.get("model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _finish(msg.get("stop_reason"), json_mode),
            }
        ],
    }
    if usage is not None:
        answer["usage"] = usage.openai()
        if usage.service_tier:
            answer["service_tier"] = usage.service_tier
    return orjson.dumps(answer), usage


class StreamTranslator:
    """Anthropic stream events in, OpenAI chunks out (the `StreamTap` surface)."""

    def __init__(self, emit_usage: bool) -> None:
        self._sse = SseParser()
        self._emit_usage = emit_usage
        self._raw_usage: JsonObject | None = None
        self._head: JsonObject = {}
        self._tools: dict[int, int] = {}  # content block index → tool call index
        self._json_blocks: set[int] = set()
        self._signature: dict[int, JsonObject] = {}
        self.error: bytes | None = None
        self.done = False
        self.text = ""
        self.service_tier: str | None = None  # translators put the tier in their Usage

    @property
    def usage(self) -> Usage | None:
        return anthropic_usage(self._raw_usage)

    def feed(self, chunk: bytes) -> bytes:
        out: list[bytes] = []
        for ev in self._sse.feed(chunk):
            data = json_object(ev.data)
            if data is not None:
                self._event(data, out)
        return b"".join(out)

    def finish(self) -> bytes:
        self._sse.finish()
        return b""

    def _chunk(self, delta: JsonObject, finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + orjson.dumps({**self._head, "choices": [choice]}) + b"\n\n"

    def _event(self, data: JsonObject, out: list[bytes]) -> None:
        kind = data.get("type")
        if kind == "message_start":
            msg = data.get("message") or {}
            self._head = {
                "id": msg.get("id"),
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": msg.get("model"),
            }
            self._raw_usage = merge_anthropic(None, msg.get("usage"))
            out.append(self._chunk({"role": "assistant", "content": ""}))
        elif kind == "content_block_start":
            self._block_start(int(data.get("index", 0)), data.get("content_block") or {}, out)
        elif kind == "content_block_delta":
            self._block_delta(int(data.get("index", 0)), data.get("delta") or {}, out)
        elif kind == "content_block_stop":
            sig = self._signature.pop(int(data.get("index", 0)), None)
            if sig is not None:
                out.append(self._chunk({"thinking_blocks": [sig]}))
        elif kind == "message_delta":
            self._raw_usage = merge_anthropic(self._raw_usage, data.get("usage"))
            reason = (data.get("delta") or {}).get("stop_reason")
            if reason is not None:  # there may be several message_delta events; one finish chunk
                out.append(self._chunk({}, _finish(reason, bool(self._json_blocks))))
        elif kind == "message_stop":
            usage = self.usage
            if self._emit_usage and usage is not None:
                out.append(b"data: " + orjson.dumps({**self._head, "choices": [], "usage": usage.openai()}) + b"\n\n")
            out.append(b"data: [DONE]\n\n")
            self.done = True
        elif kind == "error":
            err = data.get("error") or {}
            self.error = orjson.dumps(
                {
                    "error": {
                        "message": str(err.get("message") or "upstream stream error"),
                        "type": str(err.get("type") or "api_error"),
                        "param": None,
                        "code": "upstream_overloaded" if err.get("type") == "overloaded_error" else "upstream_error",
                    }
                }
            )
            out.append(b"data: " + self.error + b"\n\n")
        # ping and unknown events (Anthropic may add some) carry nothing for the caller

    def _block_start(self, index: int, block: JsonObject, out: list[bytes]) -> None:
        kind = block.get("type")
        if kind == "tool_use" and block.get("name") == JSON_TOOL:
            self._json_blocks.add(index)
        elif kind == "tool_use":
            n = self._tools[index] = len(self._tools)
            call = {
                "index": n,
                "id": block.get("id"),
                "type": "function",
                "function": {"name": block.get("name"), "arguments": ""},
            }
            out.append(self._chunk({"tool_calls": [call]}))
            self.text += str(block.get("name") or "")
        elif kind == "thinking":
            self._signature[index] = {"type": "thinking", "thinking": "", "signature": ""}
        elif kind == "redacted_thinking":
            out.append(self._chunk({"thinking_blocks": [block]}))
        elif kind == "text" and block.get("text"):
            out.append(self._chunk({"content": block["text"]}))

    def _block_delta(self, index: int, delta: JsonObject, out: list[bytes]) -> None:
        kind = delta.get("type")
        if kind == "text_delta":
            text = str(delta.get("text", ""))
            out.append(self._chunk({"content": text}))
            self.text += text
        elif kind == "input_json_delta":
            part = str(delta.get("partial_json", ""))
            if index in self._json_blocks:
                out.append(self._chunk({"content": part}))
            elif index in self._tools:
                out.append(
                    self._chunk({"tool_calls": [{"index": self._tools[index], "function": {"arguments": part}}]})
                )
            self.text += part
        elif kind == "thinking_delta":
            thought = str(delta.get("thinking", ""))
            if index in self._signature:
                self._signature[index]["thinking"] += thought
            out.append(self._chunk({"reasoning_content": thought}))
            self.text += thought
        elif kind == "signature_delta" and index in self._signature:
            self._signature[index]["signature"] += str(delta.get("signature", ""))
