"""The upstream HTTP client: one pooled pyreqwest client per worker, and the timeouts around each attempt.

Chosen by measurement (docs/architecture.md): in a bare Granian pass-through on this hardware pyreqwest
(Rust reqwest under a thin Python skin) proxied the most requests per CPU second of the clients tried;
httpx's default transport is an order of magnitude slower and is never used on the request path.
Owns: connection pooling, keep-alive, TCP_NODELAY, connect / first-byte / idle / total timeouts, and the
mapping of transport failures to gateway errors. Must not: know any provider's wire format.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Protocol

import msgspec
from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import (
    ConnectError,
    ConnectTimeoutError,
    PyreqwestError,
    RequestTimeoutError,
)

from switchyard.config import Timeouts
from switchyard.errors import GatewayError, UpstreamError, UpstreamTimeout


class UpstreamRequest(msgspec.Struct, frozen=True):
    """One attempt's request, fully built by an adapter."""

    url: str
    headers: list[tuple[str, str]]
    body: bytes
    timeouts: Timeouts
    deployment: str  # "provider/model", for error messages
    stream: bool  # relay chunks as they arrive instead of reading ahead


class UpstreamResponse(Protocol):
    """What the pipeline needs from an upstream answer, whatever carried it."""

    status: int

    def header(self, name: str) -> str | None: ...
    async def read_chunk(self) -> bytes | None: ...
    async def read_all(self, limit: int) -> bytes: ...
    async def close(self) -> None: ...


class Transport(Protocol):
    """Sends an `UpstreamRequest`; returns once the response headers are in."""

    async def send(self, req: UpstreamRequest) -> UpstreamResponse: ...
    async def close(self) -> None: ...


class HttpResponse:
    """A streamed pyreqwest response; `close()` releases (or drops) the connection."""

    __slots__ = ("_ctx", "_idle", "_reader", "_resp", "deployment", "status")

    def __init__(self, ctx: Any, resp: Any, idle_s: float, deployment: str) -> None:
        self._ctx = ctx
        self._resp = resp
        self._reader = resp.body_reader
        self._idle = idle_s
        self.status: int = resp.status
        self.deployment = deployment

    def header(self, name: str) -> str | None:
        value: str | None = self._resp.get_header(name)
        return value

    async def read_chunk(self) -> bytes | None:
        """The next body chunk as it arrives, or None at the end; raises on idle timeout or a cut."""
        try:
            async with asyncio.timeout(self._idle):
                chunk = await self._reader.read_chunk()
        except TimeoutError:
            raise UpstreamTimeout(
                f"upstream {self.deployment} sent nothing for {self._idle:g} s (timeouts.idle_s)"
            ) from None
        except PyreqwestError as e:
            raise transport_error(e, self.deployment) from None
        return None if chunk is None else bytes(chunk)

    async def read_all(self, limit: int) -> bytes:
        """The whole body (up to `limit` bytes, for error bodies and non-streamed answers)."""
        parts: list[bytes] = []
        size = 0
        while (chunk := await self.read_chunk()) is not None:
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                raise UpstreamError(f"upstream {self.deployment} answered with more than {limit} bytes")
        return b"".join(parts)

    async def close(self) -> None:
        await self._ctx.__aexit__(None, None, None)


class HttpTransport:
    """The pooled client of one worker. Build it inside the worker's event loop."""

    def __init__(self, connect_timeout_s: float) -> None:
        self._client: Client = (
            ClientBuilder()
            .connect_timeout(timedelta(seconds=connect_timeout_s))
            .pool_idle_timeout(timedelta(seconds=90))
            .tcp_nodelay(True)  # a ~40 ms plateau in a benchmark is Nagle meeting delayed ACKs
            .gzip(False)  # bytes are relayed as the upstream sent them
            .brotli(False)
            .zstd(False)
            .deflate(False)
            .follow_redirects(False)
            .build()
        )

    async def send(self, req: UpstreamRequest) -> UpstreamResponse:
        t = req.timeouts
        builder = self._client.post(req.url).headers(req.headers).body_bytes(req.body)
        if req.stream:
            # pyreqwest reads up to 64 KiB of body ahead before returning (measured: a paced stream's first
            # event arrived only with its last); 0 hands over each chunk as the socket delivers it.
            builder = builder.streamed_read_buffer_limit(0)
        ctx = builder.timeout(timedelta(seconds=t.total_s)).build_streamed()
        try:
            async with asyncio.timeout(t.first_byte_s):
                resp = await ctx.__aenter__()
        except TimeoutError:
            raise UpstreamTimeout(
                f"upstream {req.deployment} did not answer within {t.first_byte_s:g} s (timeouts.first_byte_s)"
            ) from None
        except PyreqwestError as e:
            raise transport_error(e, req.deployment) from None
        return HttpResponse(ctx, resp, t.idle_s, req.deployment)

    async def close(self) -> None:
        await self._client.close()


def transport_error(e: PyreqwestError, deployment: str) -> GatewayError:
    """Map a pyreqwest failure to 504 (timeouts) or 502 (everything else), naming the deployment."""
    if isinstance(e, ConnectTimeoutError):
        return UpstreamTimeout(f"upstream {deployment}: connect timed out (timeouts.connect_s)")
    if isinstance(e, RequestTimeoutError):
        return UpstreamTimeout(f"upstream {deployment}: request timed out (timeouts.total_s)")
    if isinstance(e, ConnectError):
        return UpstreamError(f"upstream {deployment}: cannot connect", code="upstream_connect_error")
    return UpstreamError(f"upstream {deployment}: connection failed ({type(e).__name__})")
