"""Dispatch: walk the routing plan until an upstream answers, retrying and failing over before the first
byte reaches the caller (never after).

An attempt succeeds only once `opener` has what the caller's response starts with (a stream's first
complete event, a whole body), so an upstream that answers 200 and then fails before its first event
still fails over. Failures that say nothing about the request (connection errors, timeouts, statuses in
`retry.on_status`) count against the deployment's health and move on; a deployment tried again waits
first (full-jitter exponential backoff, or the upstream's `Retry-After`), within the request's deadline
and attempt budget. A prompt too long or a content-policy refusal moves to the group's configured
alternatives; any other refusal of the request is the caller's answer. Cooling deployments are tried
only when nothing else is left; a half-open one gets one probe at a time.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import msgspec

from switchyard._core import Inspected
from switchyard.config import RetryConfig
from switchyard.errors import GatewayError, InvalidRequest, RateLimited, UpstreamError, UpstreamTimeout
from switchyard.providers.base import Adapter
from switchyard.routing.health import Health, parse_duration
from switchyard.routing.policy import Leg, alternatives
from switchyard.routing.table import Deployment, Group, ModelTable
from switchyard.upstream import UpstreamResponse

ERROR_BODY_LIMIT = 64 * 1024
T = TypeVar("T")
Opener = Callable[[UpstreamResponse, bool, Adapter], Awaitable[T]]  # (response, strip_usage, its adapter)


class Attempt(Generic[T]):
    """The answer that will be relayed: the response, what `opener` read of it, and how it was reached."""

    __slots__ = ("attempts", "deployment", "group", "opened", "response", "strip_usage")

    def __init__(
        self, response: UpstreamResponse, opened: T, deployment: Deployment, group: Group, strip: bool, attempts: int
    ) -> None:
        self.response = response
        self.opened = opened
        self.deployment = deployment
        self.group = group
        self.strip_usage = strip
        self.attempts = attempts


class Dispatcher:
    """Built once per config: adapters, the model table (for alternatives), health and the retry policy."""

    def __init__(
        self, adapters: dict[str, Adapter], table: ModelTable, health: Health, retry: RetryConfig, want_usage: bool
    ) -> None:
        self.want_usage = want_usage
        self.adapters = adapters
        self.table = table
        self.health = health
        self.retry = retry
        self.retry_status = frozenset(retry.on_status)

    async def run(self, legs: list[Leg], body: bytes, info: Inspected, opener: Opener[T], start: float) -> Attempt[T]:
        """The first deployment whose answer opens, or the error that ended the walk."""
        queue = [(leg.group, d) for leg in legs for d in leg.deployments]
        if not queue:
            skipped = "; ".join(s for leg in legs for s in leg.skipped)
            raise InvalidRequest(
                f"no deployment can take this request: {skipped}", param="messages", code="context_length_exceeded"
            )
        deadline = start + self.retry.deadline_s
        tries: dict[str, int] = {}
        waits: dict[str, float] = {}  # Retry-After of a deployment's last answer
        last: GatewayError | None = None
        attempts = 0
        i = 0
        while attempts < self.retry.attempts:
            group, dep = self._next(queue, i)
            i += 1
            name = dep.name
            if tries.get(name):
                wait = waits.pop(name, None)
                if wait is None:
                    cap = self.retry.backoff_ms * 2 ** (tries[name] - 1)
                    wait = random.uniform(0, min(self.retry.backoff_max_ms, cap)) / 1000.0
                if time.monotonic() + wait >= deadline:
                    break
                await asyncio.sleep(wait)
            if time.monotonic() >= deadline:
                break
            attempts += 1
            tries[name] = tries.get(name, 0) + 1
            try:
                return await self._attempt(group, dep, body, info, opener, attempts, len(queue) > 1)
            except _Retry as r:
                last = r.error
                if r.retry_after is not None:
                    waits[name] = r.retry_after
            except _Redirect as r:
                last = r.error
                # The request itself is the problem here: only the alternatives are left.
                queue = [(g, d) for g in r.groups for d in g.order(g.name, -1.0)]
                i = 0
        if last is None:
            last = UpstreamTimeout(f"no upstream answered within the request deadline ({self.retry.deadline_s:g} s)")
        raise last

    def _next(self, queue: list[tuple[Group, Deployment]], i: int) -> tuple[Group, Deployment]:
        """The i-th candidate, cycling; a cooling one (or a half-open one whose probe is taken) is passed
        over while any candidate is not."""
        now = time.monotonic()
        n = len(queue)
        for k in range(n):
            group, dep = queue[(i + k) % n]
            state = self.health.state(dep.name, now)
            if state == "healthy" or (state == "half-open" and self.health.try_probe(dep.name, now)):
                return group, dep
        return queue[i % n]  # everything is cooling: try anyway rather than refuse

    async def _attempt(
        self, group: Group, dep: Deployment, body: bytes, info: Inspected, opener: Opener[T], attempts: int, quota: bool
    ) -> Attempt[T]:
        adapter = self.adapters[dep.provider]
        req, strip = adapter.build(body, info, dep.model, self.want_usage)
        if dep.timeouts is not None:
            req = msgspec.structs.replace(req, timeouts=dep.timeouts)
        health = self.health
        health.started(dep.name)
        t0 = time.perf_counter()
        verdict = False  # whether health has heard how this attempt ended
        try:
            try:
                resp = await adapter.transport.send(req)
            except (UpstreamError, UpstreamTimeout) as e:
                health.failed(dep.name, time.monotonic())
                verdict = True
                raise _Retry(e, None) from None
            if quota:  # only worth reading when there is another candidate to prefer
                remaining = resp.header("x-ratelimit-remaining-requests")
                if remaining is not None:
                    reset = resp.header("x-ratelimit-reset-requests")
                    health.note_quota(dep.name, remaining, reset, time.monotonic())
            if 200 <= resp.status < 300:
                try:
                    opened = await opener(resp, strip, adapter)
                except (UpstreamError, UpstreamTimeout) as e:
                    await resp.close()
                    health.failed(dep.name, time.monotonic())
                    verdict = True
                    raise _Retry(e, None) from None
                except BaseException:
                    await resp.close()
                    raise
                health.succeeded(dep.name, (time.perf_counter() - t0) * 1000.0)
                verdict = True
                return Attempt(resp, opened, dep, group, strip, attempts)
            try:
                detail = await resp.read_all(ERROR_BODY_LIMIT)
            except GatewayError:
                detail = b""
            finally:
                await resp.close()
            retry_after = resp.header("retry-after")
            err = adapter.error(resp.status, detail, retry_after, req.deployment)
            if resp.status in self.retry_status or isinstance(err, (UpstreamError, UpstreamTimeout)):
                health.failed(dep.name, time.monotonic())
                verdict = True
                wait = parse_duration(retry_after) if retry_after else None
                raise _Retry(err, wait)
            alt = alternatives(self.table, group, err.code)
            if alt:
                raise _Redirect(err, alt)
            if isinstance(err, RateLimited):  # a 429 the config does not retry: still the upstream's quota
                health.failed(dep.name, time.monotonic())
                verdict = True
            raise err
        finally:
            if not verdict:
                health.released(dep.name)


class _Retry(Exception):
    def __init__(self, error: GatewayError, retry_after: float | None) -> None:
        self.error = error
        self.retry_after = retry_after


class _Redirect(Exception):
    def __init__(self, error: GatewayError, groups: list[Group]) -> None:
        self.error = error
        self.groups = groups
