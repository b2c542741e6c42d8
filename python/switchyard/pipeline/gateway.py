"""The gateway: the pipeline assembled once from a config, then run per request.

Build once, run per call: adapters, the model table, auth, limits and the dispatcher are built here from
the config, so a disabled feature costs nothing at request time (it is not in the line, rather than
tested for). A reload builds a new Gateway that inherits the worker's `Shared` state (connection pool,
deployment health, limit buckets, request ledger); requests in flight finish on the one they started with.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import orjson
from granian._granian import RSGIProtocolClosed as ProtocolClosed

from switchyard._core import Inspected, preload_encodings
from switchyard.config import Config
from switchyard.errors import GatewayError, InvalidRequest, NotFound, sse_error_event
from switchyard.pipeline.account import Ledger, RequestRecord, Usage
from switchyard.pipeline.admit import Admission, Limits, NoLimits, build_limits
from switchyard.pipeline.auth import KeyAuth, build_auth
from switchyard.pipeline.caller import CallerFactory
from switchyard.pipeline.count import count_usage, prompt_tokens
from switchyard.pipeline.dispatch import Attempt, Dispatcher
from switchyard.pipeline.ingress import Reading, read_body
from switchyard.pipeline.inspect import inspect_chat
from switchyard.pipeline.respond import first_chunk, first_event, relay_raw, relay_stream, send_whole
from switchyard.pipeline.surfaces import usable
from switchyard.providers.base import Adapter, StreamTap, build_adapter
from switchyard.routing.health import Health
from switchyard.routing.policy import Ask, Leg, plan
from switchyard.routing.table import Group, ModelTable
from switchyard.store.cooldowns import SharedCooldowns
from switchyard.upstream import HttpTransport, UpstreamResponse

RESPONSE_LIMIT = 64 * 1024 * 1024  # a non-streamed answer larger than this is an upstream fault


class Shared:
    """Worker state that outlives a config: kept across reloads (health only for deployments that stay)."""

    def __init__(self, config: Config) -> None:
        self.http = HttpTransport(config.server.timeouts.connect_s)
        self.health = Health(config.server.health, SharedCooldowns.from_env())
        self.ledger = Ledger()
        self.limits: Limits | NoLimits | None = None


class Gateway:
    """Everything one worker needs to serve requests, built from one config."""

    def __init__(self, config: Config, shared: Shared | None = None) -> None:
        server = config.server
        self.config = config
        self.shared = shared = shared or Shared(config)
        self.http = shared.http
        self.health = shared.health
        self.health.cfg = server.health
        # Latency only orders a group with a choice to make; otherwise publishing samples is wasted work.
        self.health.track_latency = any(len(m.deployments) > 1 or m.fallbacks for m in config.models.values())
        self.ledger = shared.ledger
        self.adapters: dict[str, Adapter] = {
            name: build_adapter(name, p, server.timeouts, self.http) for name, p in config.providers.items()
        }
        self.table = ModelTable(config.models)
        self.health.forget_except({d.name for g in self.table.groups() for d in g.deployments})
        self.auth = build_auth(server.api_keys)
        self.admin_auth = KeyAuth([server.admin_api_key]) if server.admin_api_key else None
        self.limits = build_limits(config, shared.limits)
        shared.limits = self.limits
        self.full = Dispatcher(self.adapters, self.table, self.health, server.retry, want_usage=True)
        self.raw = Dispatcher(self.adapters, self.table, self.health, server.retry, want_usage=False)
        self.routing_only = {g.name for g in self.table.groups() if (g.cfg.mode or server.mode) == "routing-only"}
        self.counts_prompt = {g.name for g in self.table.groups() if any(d.context_window for d in g.deployments)}
        # A group with one deployment and nothing to decide routes the same way every time.
        self.static_legs = {
            g.name: [Leg(g, list(g.deployments), g.cfg.strategy, [])]
            for g in self.table.groups()
            if len(g.deployments) == 1
            and not (g.wildcard or g.cfg.tiers or g.cfg.fallbacks)
            and g.name not in self.counts_prompt
        }
        if self.limits.counts_tokens or any(not a.stream_usage for a in self.adapters.values()):
            preload_encodings()  # ~130 ms once, here, rather than inside the first request that counts
        self.max_body = server.max_body_bytes
        self.body_timeout = server.body_read_timeout_s

    def models_body(self) -> bytes:
        """`GET /v1/models`: every exact model name, with how many of its deployments are up right now
        (`switchyard.available` of `switchyard.deployments`; names stay internal, see /admin/health)."""
        now = time.monotonic()
        data = []
        for name in self.table.listed():
            group = self.table.get(name)
            deps = group.deployments if group is not None else []
            up = sum(self.health.state(d.name, now) != "cooling" for d in deps)
            info = {"deployments": len(deps), "available": up}
            data.append({"id": name, "object": "model", "created": 0, "owned_by": "switchyard", "switchyard": info})
        return orjson.dumps({"object": "list", "data": data})

    async def chat(
        self,
        headers: Any,
        proto: Any,
        request_id: str,
        flight: Reading,
        route: CallerFactory | None = None,
    ) -> None:
        """Serve one `POST /v1/chat/completions`, or with `route` any other route (another dialect such as
        Anthropic's `/v1/messages`, another endpoint such as `/v1/embeddings`) through the same stages.
        A GatewayError escaping means nothing was sent yet."""
        start = time.monotonic()
        rec = Rec(request_id)
        admission: Admission | None = None
        billed: int | None = None  # tokens to settle the admission to; None keeps the estimate
        usage: Usage | None = None
        error: str | None = None
        try:
            caller = self.auth.check(headers)
            rec.principal = caller.name
            body = await read_body(headers, proto, self.max_body, self.body_timeout, flight)
            spoken = None if route is None else route(body)
            if spoken is None:
                info, rec.model = inspect_chat(body)
            else:  # another route: its body as routing reads it
                rec.endpoint = spoken.name
                body = spoken.body
                info, rec.model = spoken.inspect()
            rec.stream = stream = info.stream
            group = self.table.resolve(rec.model)
            if group is None:
                raise NotFound(
                    f"The model `{rec.model}` does not exist or you do not have access to it.",
                    param="model",
                    code="model_not_found",
                )
            if group.name in self.routing_only and spoken is None:
                error = await self._routing_only(headers, proto, request_id, body, info, group, rec, start)
                self.record(rec, 200, None, start, error)
                return
            count = prompt_tokens if spoken is None else spoken.count
            prompt = await count(body) if group.name in self.counts_prompt else None  # for context windows
            admission = await self.limits.admit(caller, group.name, body, info.max_tokens, count, prompt)
            billed = 0  # until an upstream answers, nothing was used
            prompt = admission.prompt if prompt is None else prompt  # counted once, whoever needed it first
            legs = self.static_legs.get(group.name) or self._plan(headers, info, group, rec.model, prompt or 0)
            dispatcher = self.full
            if spoken is not None:  # the providers as this route sees them
                views = spoken.view(self.adapters)
                legs = usable(legs, views)
                dispatcher = Dispatcher(views, self.table, self.health, self.config.server.retry, want_usage=True)
                if spoken.counts_input and any(
                    getattr(views[d.provider], "needs_input_count", False) for leg in legs for d in leg.deployments
                ):
                    await spoken.count(body)  # a provider that reports no usage: its answer carries the count
            if stream:
                collect = not info.include_usage  # and no usage chunk was asked for (below): count it

                async def opener(resp: UpstreamResponse, strip: bool, adapter: Adapter) -> tuple[StreamTap, bytes]:
                    count = collect and not strip
                    return await first_event(resp, strip, count, adapter.stream_tap(strip, count))

                attempt_s = await dispatcher.run(legs, body, info, opener, start)
                billed = None
                rec.deployment = attempt_s.deployment.name
                out_headers = _out_headers(request_id, admission.headers, attempt_s, legs)
                try:
                    tap, first = attempt_s.opened
                    error_event = sse_error_event if spoken is None else spoken.error_event
                    result = await relay_stream(proto, attempt_s.response, tap, first, out_headers, error_event)
                finally:
                    await attempt_s.response.close()
                usage, error = result.usage, None if result.complete else "stream_cut"
                if usage is None and result.complete and result.text:
                    known = prompt if prompt is not None else await count(body)
                    usage = await count_usage(known, result.text, attempt_s.deployment.model)
            else:
                attempt_w = await dispatcher.run(legs, body, info, _read_whole, start)
                billed = None
                rec.deployment = attempt_w.deployment.name
                await attempt_w.response.close()
                usage = send_whole(
                    proto,
                    attempt_w.opened,
                    _out_headers(request_id, admission.headers, attempt_w, legs),
                    dispatcher.adapters[attempt_w.deployment.provider].whole,
                )
                if usage is None and spoken is not None and spoken.counts_input:
                    usage = Usage.of(input=await spoken.count(body), counted=True)
            billed = usage.billed if usage is not None else None
        except GatewayError as e:
            self.record(rec, e.status, None, start, e.code)
            raise
        except asyncio.CancelledError:  # the caller went away: 499, as nginx logs it
            self.record(rec, 499, None, start, "client_closed")
            raise
        except ProtocolClosed:  # the caller went away while we wrote to it: nothing left to answer
            self.record(rec, 499, None, start, "client_closed")
            return
        finally:
            if admission is not None:
                self.limits.settle(admission, billed)
        self.record(rec, 200, usage, start, error)

    async def _routing_only(
        self, headers: Any, proto: Any, rid: str, body: bytes, info: Inspected, group: Group, rec: Rec, start: float
    ) -> str | None:
        """The short line: route, dispatch with failover, bytes relayed as they come (nothing parsed)."""
        legs = self.static_legs.get(group.name) or self._plan(headers, info, group, rec.model or "", 0)
        if info.stream:
            attempt_s = await self.raw.run(legs, body, info, _read_first, start)
            rec.deployment = attempt_s.deployment.name
            try:
                ok = await relay_raw(
                    proto, attempt_s.response, attempt_s.opened, _out_headers(rid, [], attempt_s, legs)
                )
            finally:
                await attempt_s.response.close()
            return None if ok else "stream_cut"
        attempt_w = await self.raw.run(legs, body, info, _read_whole, start)
        rec.deployment = attempt_w.deployment.name
        ctype = attempt_w.response.header("content-type") or "application/json"
        await attempt_w.response.close()
        proto.response_bytes(200, [("content-type", ctype), *_out_headers(rid, [], attempt_w, legs)], attempt_w.opened)
        return None

    def _plan(self, headers: Any, info: Inspected, group: Group, model: str, prompt: int) -> list[Leg]:
        ask = _ask(headers, info.user)
        return plan(self.table, group, model, info, self.health, time.monotonic(), random.random(), ask, prompt)

    def record(self, rec: Rec, status: int, usage: Usage | None, start: float, error: str | None) -> None:
        ms = (time.monotonic() - start) * 1000.0
        self.ledger.add(
            RequestRecord(
                rec.request_id,
                rec.principal,
                rec.model,
                rec.deployment,
                status,
                rec.stream,
                usage,
                ms,
                error,
                rec.endpoint,
            )
        )

    def models_with_health(self) -> dict[str, Any]:
        """Each group's deployments and their health, for `GET /admin/health`."""
        now = time.monotonic()
        snap = self.health.snapshot(now)
        return {
            g.name: {
                "strategy": g.cfg.strategy,
                "mode": g.cfg.mode or self.config.server.mode,
                "deployments": [{"name": d.name, **snap.get(d.name, {"state": "healthy"})} for d in g.deployments],
            }
            for g in self.table.groups()
        }

    async def close(self) -> None:
        await self.http.close()


class Rec:
    """What the request record will say, filled in as the request goes (`Gateway.record` files it)."""

    __slots__ = ("deployment", "endpoint", "model", "principal", "request_id", "stream")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.principal: str | None = None
        self.model: str | None = None
        self.deployment: str | None = None
        self.stream = False
        self.endpoint = "chat"


async def _read_whole(resp: UpstreamResponse, strip: bool, adapter: Adapter) -> bytes:
    return await resp.read_all(RESPONSE_LIMIT)


async def _read_first(resp: UpstreamResponse, strip: bool, adapter: Adapter) -> bytes:
    return await first_chunk(resp)


def _ask(headers: Any, user: str | None) -> Ask:
    tier = headers.get("x-switchyard-tier")
    session = headers.get("x-switchyard-session") or user
    raw = headers.get("x-switchyard-max-latency-ms")
    if tier is None and session is None and raw is None:
        return _NO_ASK
    latency = None
    if raw is not None:
        try:
            latency = float(raw)
        except ValueError:
            latency = -1.0
        if not latency > 0:
            raise InvalidRequest(
                f"x-switchyard-max-latency-ms must be a positive number of milliseconds, got {raw[:40]!r}",
                code="invalid_header",
            )
    return Ask(tier, latency, session)


_NO_ASK = Ask()


def _out_headers(
    rid: str, limit_headers: list[tuple[str, str]], attempt: Attempt[Any], legs: list[Leg]
) -> list[tuple[str, str]]:
    leg = legs[0] if legs[0].group is attempt.group else next((x for x in legs if x.group is attempt.group), None)
    key = (attempt.group.name, attempt.deployment.name, leg.reason if leg is not None else "fallback")
    prefix = _ROUTES.get(key)
    if prefix is None:
        if len(_ROUTES) > 4096:  # reasons can carry per-request numbers: keep the cache bounded
            _ROUTES.clear()
        prefix = _ROUTES[key] = f"group={key[0]}; deployment={key[1]}; rule={key[2]}; attempts="
    route = prefix + str(attempt.attempts)
    if limit_headers:
        return [("x-request-id", rid), ("x-switchyard-route", route), *limit_headers]
    return [("x-request-id", rid), ("x-switchyard-route", route)]


_ROUTES: dict[tuple[str, str, str], str] = {}
