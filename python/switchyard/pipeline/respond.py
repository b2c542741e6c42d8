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


def send_whole(proto: Any, body: bytes, headers: list[tuple[str, str]], decode: Decode = _as_is) -> Usage | None:
    """Send a non-streamed answer (read whole by dispatch) byte for byte, or as the adapter's `decode`
    translates it; return its usage."""
    body, usage = decode(body)
    proto.response_bytes(200, JSON_HEADERS + headers, body)
    return usage


class StreamResult:
    """What a relayed stream reported: usage, whether it ended cleanly, and its text if collected."""

    __slots__ = ("complete", "text", "usage")

    def __init__(self, usage: Usage | None, complete: bool, text: str) -> None:
        self.usage = usage
        self.complete = complete
        self.text = text


async def first_event(
    resp: UpstreamResponse, strip_usage: bool, collect_text: bool = False, tap: StreamTap | None = None
) -> tuple[StreamTap, bytes]:
    """Read an SSE answer up to its first complete event: (the tap, the bytes to send first). Raises
    `UpstreamError` if the upstream fails or closes before that, so dispatch can still fail over.
    `collect_text` keeps the completion's text, for counting its tokens when no usage will come; `tap`
    (the adapter's, translating to OpenAI chunks) replaces the byte-exact `ChatStreamTap`."""
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
    return tap, out


async def relay_stream(
    proto: Any,
    resp: UpstreamResponse,
    tap: StreamTap,
    first: bytes,
    headers: list[tuple[str, str]],
    error_event: Callable[[GatewayError], bytes] = sse_error_event,
) -> StreamResult:
    """Relay an SSE answer whose first event `first_event` read; a failure from here on ends the stream
    with an error event in the caller's dialect (`error_event`), never a silent cut."""
    transport = proto.response_stream(200, SSE_HEADERS + headers)
    await transport.send_bytes(first)
    complete = False
    read, feed, send = resp.reader(), tap.feed, transport.send_bytes
    try:
        try:
            while (chunk := await read()) is not None:
                out = feed(chunk)
                if out:
                    await send(out)
        except Exception as e:
            raise resp.error_of(e) or e from None
        rest = tap.finish()
        if rest:
            await transport.send_bytes(rest)
        complete = tap.done or tap.error is not None
        if not complete:
            await transport.send_bytes(error_event(UpstreamError("upstream closed the stream before it finished")))
    except GatewayError as e:
        await transport.send_bytes(error_event(e))
    usage = parse_usage(tap.usage, tap.service_tier) if tap.usage is not None else None
    return StreamResult(usage, complete, tap.text)


async def first_chunk(resp: UpstreamResponse) -> bytes:
    """Routing-only streams: the first body chunk, or `UpstreamError` (fail over) if none comes."""
    first = await resp.read_chunk()
    if first is None:
        raise UpstreamError("upstream closed the stream before sending any byte")
    return first


async def relay_raw(proto: Any, resp: UpstreamResponse, first: bytes, headers: list[tuple[str, str]]) -> bool:
    """Routing-only streams: relay the bytes as they come, nothing parsed. Returns whether the stream
    ended cleanly; a cut after the start ends with an error event."""
    ctype = resp.header("content-type") or "text/event-stream"
    transport = proto.response_stream(200, [("content-type", ctype), *headers])
    await transport.send_bytes(first)
    read, send = resp.reader(), transport.send_bytes
    try:
        try:
            while (chunk := await read()) is not None:
                await send(chunk)
        except Exception as e:
            raise resp.error_of(e) or e from None
    except GatewayError as e:
        await transport.send_bytes(b"\n\n" + sse_error_event(e))
        return False
    return True


def _error_message(raw: bytes) -> str:
    try:
        err = orjson.loads(raw).get("error")
        return str(err.get("message") if isinstance(err, dict) else err)[:500]
    except (orjson.JSONDecodeError, AttributeError):
        return raw[:200].decode("utf-8", "replace")
