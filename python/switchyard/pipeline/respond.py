"""Respond: relay the upstream's answer to the caller, whole or as a stream, and capture its usage.

Streams are relayed chunk by chunk as they arrive: each upstream chunk goes through the Rust
`ChatStreamTap` (one call per chunk; it returns the complete events' exact bytes, drops the usage-only
chunk the gateway asked for on the caller's behalf, and keeps the usage). The response to the caller
starts only once the first complete event is in, so an upstream that answers 200 and then fails before
its first event is still an ordinary error status. After that, a failure ends the stream with an error
event, never a silent cut.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from switchyard._core import ChatStreamTap
from switchyard.errors import GatewayError, UpstreamError, sse_error_event
from switchyard.pipeline.account import Usage, parse_usage
from switchyard.providers.base import StreamTap
from switchyard.providers.openai import whole_usage
from switchyard.upstream import UpstreamResponse

Decode = Callable[[bytes], tuple[bytes, Usage | None]]


def _as_is(body: bytes) -> tuple[bytes, Usage | None]:
    return body, whole_usage(body)


SSE_HEADERS = [("content-type", "text/event-stream"), ("cache-control", "no-cache")]
JSON_HEADERS = [("content-type", "application/json")]


async def respond_whole(
    proto: Any, resp: UpstreamResponse, headers: list[tuple[str, str]], limit: int, decode: Decode = _as_is
) -> Usage | None:
    """Send a non-streamed answer (byte for byte, or as the adapter's `decode` translates it); return its
    usage."""
    body, usage = decode(await resp.read_all(limit))
    proto.response_bytes(200, JSON_HEADERS + headers, body)
    return usage


class StreamResult:
    """What a relayed stream reported: usage, whether it ended cleanly, and its text if collected."""

    __slots__ = ("complete", "text", "usage")

    def __init__(self, usage: Usage | None, complete: bool, text: str) -> None:
        self.usage = usage
        self.complete = complete
        self.text = text


async def relay_stream(
    proto: Any,
    resp: UpstreamResponse,
    headers: list[tuple[str, str]],
    strip_usage: bool,
    collect_text: bool = False,
    tap: StreamTap | None = None,
    error_event: Callable[[GatewayError], bytes] = sse_error_event,
) -> StreamResult:
    """Relay an SSE answer; raises a GatewayError only before the caller's response has started.
    `collect_text` keeps the completion's text, for counting its tokens when no usage will come; `tap`
    (the adapter's, translating to OpenAI chunks) replaces the byte-exact `ChatStreamTap`; `error_event`
    renders a failure after the start in the caller's dialect."""
    if tap is None:
        tap = ChatStreamTap(strip_usage, collect_text=collect_text)
    out = b""
    while not out:  # hold the caller's response until the first complete event
        chunk = await resp.read_chunk()
        if chunk is None:
            out = tap.finish()
            if not out:
                raise UpstreamError("upstream closed the stream before sending any event")
            break
        out = tap.feed(chunk)
        if tap.error is not None:
            raise UpstreamError(f"upstream stream failed: {_error_message(tap.error)}")
    transport = proto.response_stream(200, SSE_HEADERS + headers)
    await transport.send_bytes(out)
    complete = False
    try:
        while (chunk := await resp.read_chunk()) is not None:
            out = tap.feed(chunk)
            if out:
                await transport.send_bytes(out)
        rest = tap.finish()
        if rest:
            await transport.send_bytes(rest)
        complete = tap.done or tap.error is not None
        if not complete:
            await transport.send_bytes(error_event(UpstreamError("upstream closed the stream before it finished")))
    except GatewayError as e:
        await transport.send_bytes(error_event(e))
    return StreamResult(parse_usage(tap.usage) if tap.usage is not None else None, complete, tap.text)


def _error_message(raw: bytes) -> str:
    try:
        err = orjson.loads(raw).get("error")
        return str(err.get("message") if isinstance(err, dict) else err)[:500]
    except (orjson.JSONDecodeError, AttributeError):
        return raw[:200].decode("utf-8", "replace")
