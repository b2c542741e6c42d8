"""Gemini answers → OpenAI chat completions, whole and streamed.

Shapes: https://ai.google.dev/api/generate-content (GenerateContentResponse, Candidate, FinishReason,
UsageMetadata); streaming with `alt=sse`: each event is a whole GenerateContentResponse holding the next
parts, `usageMetadata` repeated (the last is the total), no end marker (the stream ends after the chunk
with a `finishReason`).
  - `text` parts → `content`; `thought: true` parts → `reasoning_content` (+ `thinking_blocks` with the
    `thoughtSignature`); `functionCall` parts → `tool_calls` (ids `call_<n>` unless Gemini gives one; a
    call arrives whole, so a stream sends it in one delta with all its arguments);
  - `finishReason` → `finish_reason` by `FINISH` (safety blocks → `content_filter`); a prompt blocked by
    `promptFeedback.blockReason` (no candidates) → an empty answer with `content_filter`;
  - usage: `providers/usage.py` (`thoughtsTokenCount` is outside `candidatesTokenCount`).
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from switchyard._core import SseParser
from switchyard.canonical import JsonObject, Usage, json_object
from switchyard.errors import UpstreamError
from switchyard.providers.usage import gemini_usage

FILTERED = "content_filter"
FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": FILTERED,
    "RECITATION": FILTERED,
    "BLOCKLIST": FILTERED,
    "PROHIBITED_CONTENT": FILTERED,
    "SPII": FILTERED,
    "IMAGE_SAFETY": FILTERED,
    "LANGUAGE": "stop",
    "OTHER": "stop",
    "MALFORMED_FUNCTION_CALL": "stop",
}


def _finish(reason: Any, has_calls: bool) -> str:
    if reason == "STOP" and has_calls:
        return "tool_calls"
    return FINISH.get(str(reason), "stop")


class _Parts:
    """The OpenAI pieces of one response's parts."""

    def __init__(self, parts: list[Any], first_call: int) -> None:
        self.text: list[str] = []
        self.thought: list[str] = []
        self.signed: list[JsonObject] = []
        self.calls: list[JsonObject] = []
        for p in parts:
            if not isinstance(p, dict):
                continue
            if p.get("thought"):
                self.thought.append(str(p.get("text", "")))
                if p.get("thoughtSignature"):
                    self.signed.append(
                        {"type": "thinking", "thinking": p.get("text", ""), "signature": p["thoughtSignature"]}
                    )
            elif "text" in p:
                self.text.append(str(p["text"]))
            elif isinstance(p.get("functionCall"), dict):
                fc = p["functionCall"]
                n = first_call + len(self.calls)
                self.calls.append(
                    {
                        "id": fc.get("id") or f"call_{n}",
                        "type": "function",
                        "function": {"name": fc.get("name"), "arguments": orjson.dumps(fc.get("args", {})).decode()},
                    }
                )


def _candidate(answer: JsonObject) -> tuple[list[Any], Any]:
    cands = answer.get("candidates") or []
    if not cands:
        blocked = (answer.get("promptFeedback") or {}).get("blockReason")
        return [], "SAFETY" if blocked else None
    cand = cands[0]
    return list((cand.get("content") or {}).get("parts") or []), cand.get("finishReason")


def whole(body: bytes) -> tuple[bytes, Usage | None]:
    """A GenerateContentResponse as an OpenAI chat completion."""
    try:
        answer = orjson.loads(body)
        assert isinstance(answer, dict)
        parts, reason = _candidate(answer)
    except (orjson.JSONDecodeError, AssertionError, AttributeError, TypeError):
        raise UpstreamError("upstream answered 200 with a body that is not a Gemini response") from None
    got = _Parts(parts, 0)
    message: JsonObject = {"role": "assistant", "content": "".join(got.text) if got.text else None, "refusal": None}
    if got.calls:
        message["tool_calls"] = got.calls
    if got.thought:
        message["reasoning_content"] = "".join(got.thought)
    if got.signed:
        message["thinking_blocks"] = got.signed
    usage = gemini_usage(answer.get("usageMetadata"))
    out: JsonObject = {
        "id": answer.get("responseId"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": answer.get("modelVersion"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _finish(reason or "STOP", bool(got.calls)),
            }
        ],
    }
    if usage is not None:
        out["usage"] = usage.openai()
    return orjson.dumps(out), usage


class StreamTranslator:
    """Gemini `alt=sse` events in, OpenAI chunks out (the `StreamTap` surface)."""

    def __init__(self, emit_usage: bool) -> None:
        self._sse = SseParser()
        self._emit_usage = emit_usage
        self._head: JsonObject | None = None
        self._calls = 0
        self._finish: str | None = None
        self.usage: Usage | None = None
        self.error: bytes | None = None
        self.done = False
        self.text = ""
        self.service_tier: str | None = None  # translators put the tier in their Usage

    def _chunk(self, delta: JsonObject, finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + orjson.dumps({**(self._head or {}), "choices": [choice]}) + b"\n\n"

    def feed(self, chunk: bytes) -> bytes:
        out: list[bytes] = []
        for ev in self._sse.feed(chunk):
            data = json_object(ev.data)
            if data is not None:
                self._response(data, out)
        return b"".join(out)

    def _response(self, data: JsonObject, out: list[bytes]) -> None:
        if isinstance(data.get("error"), dict):
            err = data["error"]
            status = err.get("status")
            self.error = orjson.dumps(
                {
                    "error": {
                        "message": str(err.get("message") or "upstream stream error"),
                        "type": str(status or "server_error"),
                        "param": None,
                        "code": "upstream_overloaded" if status == "UNAVAILABLE" else "upstream_error",
                    }
                }
            )
            out.append(b"data: " + self.error + b"\n\n")
            return
        if self._head is None:
            self._head = {
                "id": data.get("responseId"),
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": data.get("modelVersion"),
            }
            out.append(self._chunk({"role": "assistant", "content": ""}))
        usage = gemini_usage(data.get("usageMetadata"))
        if usage is not None:
            self.usage = usage
        parts, reason = _candidate(data)
        got = _Parts(parts, self._calls)
        for thought in got.thought:
            out.append(self._chunk({"reasoning_content": thought}))
            self.text += thought
        if got.signed:
            out.append(self._chunk({"thinking_blocks": got.signed}))
        for text in got.text:
            out.append(self._chunk({"content": text}))
            self.text += text
        for call in got.calls:
            out.append(self._chunk({"tool_calls": [{"index": self._calls, **call}]}))
            self._calls += 1
            self.text += call["function"]["name"] + call["function"]["arguments"]
        if reason is not None and self._finish is None:
            self._finish = _finish(reason, self._calls > 0)
            out.append(self._chunk({}, self._finish))

    def finish(self) -> bytes:
        """Gemini has no end marker: a stream that delivered its finish reason ended well."""
        self._sse.finish()
        if self._finish is None or self.error is not None or self.done:
            return b""
        self.done = True
        out = b""
        if self._emit_usage and self.usage is not None:
            out = (
                b"data: " + orjson.dumps({**(self._head or {}), "choices": [], "usage": self.usage.openai()}) + b"\n\n"
            )
        return out + b"data: [DONE]\n\n"
