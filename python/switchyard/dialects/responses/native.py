"""Responses-dialect callers to an upstream that speaks the Responses API itself (OpenAI, Azure OpenAI):
the caller's bytes go as they are, and the answer comes back as the upstream sent it.

Nothing is decoded into the canonical form. Only the usage is read for accounting (the `response`
object's `usage`, whole; in a stream, that of the response in the terminal event: response.completed,
response.incomplete or response.failed), and in a stream also errors (an `error` event, or the `error`
of response.failed) and the end. Shapes: https://platform.openai.com/docs/api-reference/responses-streaming.
"""

from __future__ import annotations

import orjson

from switchyard._core import SseParser
from switchyard.canonical import JsonObject, Usage, events_end, json_object
from switchyard.errors import GatewayError, UpstreamError
from switchyard.providers.usage import responses_usage

TERMINAL = ("response.completed", "response.incomplete", "response.failed")
MARKERS = (*TERMINAL, '"error"')
BYTE_MARKERS = tuple(m.encode() for m in MARKERS)


def whole_usage(body: bytes) -> Usage | None:
    """The usage (and served tier) of a non-streamed `response` object; UpstreamError if it is no JSON object."""
    answer = json_object(body)
    if answer is None:
        raise UpstreamError("upstream answered 200 with a body that is not a JSON object")
    return responses_usage(answer.get("usage"), answer.get("service_tier"))


def _envelope(err: JsonObject) -> bytes:
    """An OpenAI error envelope for a Responses error (an `error` event, or a failed response's `error`)."""
    code, param = err.get("code"), err.get("param")
    return orjson.dumps(
        {
            "error": {
                "message": str(err.get("message")),
                "type": "upstream_error",
                "param": None if param is None else str(param),
                "code": None if code is None else str(code),
            }
        }
    )


class PassthroughTap:
    """Relays a Responses event stream byte for byte, a complete event at a time (the `StreamTap` surface).
    Only events whose bytes hold a terminal type or `"error"` are parsed (a few per stream: the response
    objects carry `"error": null`; escaped text in deltas never matches)."""

    def __init__(self) -> None:
        self.events = 0  # events relayed so far: the next one's sequence_number
        self._held = b""
        self._usage: Usage | None = None
        self.error: bytes | None = None
        self.done = False
        self.text = ""
        self.service_tier: str | None = None  # the tier is in the Usage

    @property
    def usage(self) -> Usage | None:
        return self._usage

    def feed(self, chunk: bytes) -> bytes:
        buf = self._held + chunk
        end = events_end(buf)
        self._held = buf[end:]
        complete = buf[:end]
        self.events += complete.count(b"\n\n") + complete.count(b"\r\n\r\n")
        if any(m in complete for m in BYTE_MARKERS):
            self._read(complete)
        return complete

    def finish(self) -> bytes:
        rest, self._held = self._held, b""
        return rest

    def error_event(self, err: GatewayError) -> bytes:
        """An `error` event numbered after the events relayed: how a stream that fails after its start ends."""
        data = {"type": "error", "code": err.code, "message": err.message, "param": err.param}
        return b"event: error\ndata: " + orjson.dumps({**data, "sequence_number": self.events}) + b"\n\n"

    def _read(self, events: bytes) -> None:
        parser = SseParser()  # the bytes are whole events: a parser of their own has nothing pending
        for ev in parser.feed(events):
            if not any(m in ev.data for m in MARKERS):
                continue
            data = json_object(ev.data)
            kind = data.get("type") if data is not None else None
            if data is None or kind not in (*TERMINAL, "error"):
                continue
            if kind == "error":
                self.error = self.error or _envelope(data)
                continue
            response = data.get("response")
            response = response if isinstance(response, dict) else {}
            self._usage = responses_usage(response.get("usage"), response.get("service_tier")) or self._usage
            self.done = True
            if kind == "response.failed" and self.error is None:
                err = response.get("error")
                self.error = _envelope(err if isinstance(err, dict) else {"message": "the response failed"})
