"""Dispatch: send the attempt to each candidate deployment in turn until one answers 2xx.

A candidate is skipped for the next one only on failures that say nothing about the request itself
(connection errors, timeouts, 429, 5xx) and only before any byte reached the caller. Backoff, cooldowns
and health belong to the routing issue; this is the straight walk down the list.
"""

from __future__ import annotations

from switchyard._core import Inspected
from switchyard.errors import GatewayError, RateLimited, UpstreamError, UpstreamTimeout
from switchyard.providers.base import Adapter
from switchyard.routing.table import Deployment
from switchyard.upstream import UpstreamResponse

ERROR_BODY_LIMIT = 64 * 1024
_RETRYABLE = (UpstreamError, UpstreamTimeout, RateLimited)


class Attempt:
    """The answer that will be relayed: the response, its deployment, and the stream-usage flag."""

    __slots__ = ("deployment", "response", "strip_usage")

    def __init__(self, response: UpstreamResponse, deployment: Deployment, strip_usage: bool) -> None:
        self.response = response
        self.deployment = deployment
        self.strip_usage = strip_usage


async def dispatch(candidates: list[Deployment], adapters: dict[str, Adapter], body: bytes, info: Inspected) -> Attempt:
    """The first candidate's 2xx answer (headers in, body unread), or the last candidate's error."""
    last: GatewayError | None = None
    for dep in candidates:
        adapter = adapters[dep.provider]
        req, strip = adapter.build(body, info, dep.model)
        try:
            resp = await adapter.transport.send(req)
        except _RETRYABLE as e:
            last = e
            continue
        if 200 <= resp.status < 300:
            return Attempt(resp, dep, strip)
        try:
            detail = await resp.read_all(ERROR_BODY_LIMIT)
        except GatewayError:
            detail = b""
        finally:
            await resp.close()
        err = adapter.error(resp.status, detail, resp.header("retry-after"), req.deployment)
        if not isinstance(err, _RETRYABLE):
            raise err
        last = err
    assert last is not None, "a group always has at least one deployment"
    raise last
