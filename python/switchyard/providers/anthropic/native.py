"""Anthropic-dialect callers to an Anthropic upstream: their bytes pass through with `model` rewritten.

Nothing is decoded into the canonical form; the answer is relayed as the upstream sent it (whole, or
event by event), and only its usage (and, in a stream, errors and the end) is read for accounting.
"""

from __future__ import annotations

import orjson

from switchyard._core import SseParser
from switchyard.canonical import JsonObject, Usage, events_end, json_object
from switchyard.errors import UpstreamError
from switchyard.providers.usage import anthropic_usage, merge_anthropic


def whole_usage(body: bytes) -> tuple[bytes, Usage | None]:
    """The answer unchanged, and its usage."""
    try:
        return body, anthropic_usage(orjson.loads(body).get("usage"))
    except (orjson.JSONDecodeError, AttributeError):
        raise UpstreamError("upstream answered 200 with a body that is not a JSON object") from None


class NativeTap:
    """Relays an Anthropic event stream byte for byte, a complete event at a time (the `StreamTap` surface)."""

    def __init__(self) -> None:
        self._sse = SseParser()
        self._held = b""
        self._raw: JsonObject | None = None
        self.error: bytes | None = None
        self.done = False
        self.text = ""
        self.service_tier: str | None = None  # translators put the tier in their Usage

    @property
    def usage(self) -> Usage | None:
        return anthropic_usage(self._raw)

    def feed(self, chunk: bytes) -> bytes:
        for ev in self._sse.feed(chunk):
            data = json_object(ev.data)
            if data is None:
                continue
            kind = data.get("type")
            if kind == "message_start":
                self._raw = merge_anthropic(None, (data.get("message") or {}).get("usage"))
            elif kind == "message_delta":
                self._raw = merge_anthropic(self._raw, data.get("usage"))
            elif kind == "message_stop":
                self.done = True
            elif kind == "error" and self.error is None:
                self.error = ev.data.encode()
        buf = self._held + chunk
        end = events_end(buf)
        self._held = buf[end:]
        return buf[:end]

    def finish(self) -> bytes:
        self._sse.finish()
        rest, self._held = self._held, b""
        return rest
