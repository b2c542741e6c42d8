"""Ingress: read the caller's body within the size limit and the read deadline, check its media type.

Granian never times out a slow body upload, so a deadline is what stops one slow client from holding a
connection for ever. The deadline is kept by the worker's in-flight sweeper (`switchyard.inflight`),
which cancels a request still reading its body past it; this stage marks the read and turns that
cancellation into a 408.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from switchyard.errors import InvalidRequest, PayloadTooLarge, RequestTimeout, UnsupportedMediaType


class Reading(Protocol):
    """The request's in-flight record, as ingress sees it (`switchyard.inflight.Request`)."""

    reading: bool
    timed_out: bool
    task: asyncio.Task[Any]


async def read_body(headers: Any, proto: Any, max_bytes: int, timeout_s: float, flight: Reading) -> bytes:
    """The whole request body, or a 413 / 415 / 408 / 400 error."""
    ctype = headers.get("content-type")
    if ctype is not None and not _is_json(ctype):
        raise UnsupportedMediaType(f"Content-Type must be application/json, got {ctype[:100]!r}", param="content-type")
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise InvalidRequest("Content-Length is not a number", param="content-length")
        if int(length) > max_bytes:
            raise _too_large(max_bytes)
    flight.reading = True
    try:
        body = await proto() if length is not None else await _read_chunked(proto, max_bytes)
    except asyncio.CancelledError:
        if not flight.timed_out:
            raise
        flight.task.uncancel()
        raise RequestTimeout(f"request body not received within {timeout_s:g} s") from None
    finally:
        flight.reading = False
    if len(body) > max_bytes:
        raise _too_large(max_bytes)
    if not body:
        raise InvalidRequest("request body is empty; expected a JSON object")
    return bytes(body)


async def _read_chunked(proto: Any, max_bytes: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in proto:
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        parts.append(chunk)
    return b"".join(parts)


def _is_json(ctype: str) -> bool:
    if ctype == "application/json":  # what nearly every client sends
        return True
    mime = ctype.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body is larger than the limit of {max_bytes} bytes (server.max_body_bytes)")
