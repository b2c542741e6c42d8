"""The RSGI entry point: routes, request ids, error rendering, and the per-worker gateway lifecycle.

Granian imports `switchyard.app:app` in each worker; `__rsgi_init__` builds the gateway from the config
named by SWITCHYARD_CONFIG (the embedded default when unset). Nothing else lives here.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from switchyard.config import Config, ConfigError, load_config
from switchyard.errors import (
    GatewayError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    NotReady,
    anthropic_error,
    error_body,
)
from switchyard.inflight import InFlight
from switchyard.pipeline.caller import CallerFactory
from switchyard.pipeline.count_tokens import count_message_tokens
from switchyard.pipeline.dialect import AnthropicCaller
from switchyard.pipeline.gateway import Gateway
from switchyard.pipeline.responses import ResponsesCaller
from switchyard.pipeline.surfaces import COMPLETIONS, EMBEDDINGS, IMAGES, MODERATIONS
from switchyard.reload import CONFIG_ENV, Reloader

GC_THRESHOLDS = (20_000, 50, 100)  # gen0 allocations, gen1 and gen2 collections (CPython: 700, 10, 10)
JSON = ("content-type", "application/json")
log = logging.getLogger("switchyard")

Handler = Callable[[Any, Any, str], Awaitable[None]]
_CALLER_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class App:
    """The RSGI application: one per worker process."""

    def __init__(self, config: Config | None = None) -> None:
        self._config = config
        self.gateway: Gateway | None = None
        self._ids = itertools.count(1)
        self._id_prefix = os.urandom(4).hex()
        chat: dict[str, Handler] = {"POST": self._chat}
        self.routes: dict[str, dict[str, Handler]] = {
            "/v1/chat/completions": chat,
            "/chat/completions": chat,
            "/v1/messages": {"POST": self._messages},  # the Anthropic dialect
            "/v1/messages/count_tokens": {"POST": self._count_tokens},
            **_aliased("/responses", {"POST": self._route(ResponsesCaller)}),
            **_aliased("/embeddings", {"POST": self._route(EMBEDDINGS.caller)}),
            **_aliased("/images/generations", {"POST": self._route(IMAGES.caller)}),
            **_aliased("/completions", {"POST": self._route(COMPLETIONS.caller)}),
            **_aliased("/moderations", {"POST": self._route(MODERATIONS.caller)}),
            "/v1/models": {"GET": self._models},
            "/models": {"GET": self._models},
            "/health": {"GET": self._health},
            "/ready": {"GET": self._ready},
            "/admin/requests": {"GET": self._admin_requests},
            "/admin/health": {"GET": self._admin_health},
            "/admin/reload": {"POST": self._admin_reload},
        }
        self.reloader: Reloader | None = None
        self.inflight = InFlight(30.0)
        self._watcher: asyncio.Task[None] | None = None

    # -- lifecycle (called by Granian in each worker) --
    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        config = self._config or load_config(os.environ.get(CONFIG_ENV) or None)
        self.gateway = Gateway(config)
        self.inflight.body_timeout_s = config.server.body_read_timeout_s
        self.reloader = Reloader(self._swap, config.server.watch_config)
        self._watcher = loop.create_task(self.reloader.watch())
        # Everything built so far lives as long as the worker: keep it out of the collector's scans, and
        # collect young objects less often (measured: full collections over the startup heap were the
        # 30-40 ms p99 stalls at 64 connections).
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)

    def _swap(self, config: Config) -> None:
        """Install a gateway built from `config`; requests in flight keep the one they started with."""
        old = self.gateway
        self.gateway = Gateway(config, old.shared if old is not None else None)
        self.inflight.body_timeout_s = config.server.body_read_timeout_s

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        if self.gateway is not None:
            loop.run_until_complete(self.gateway.close())
            self.gateway = None

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":  # websockets are not part of the API
            proto.close(403)
            return
        caller_id = scope.headers.get("x-request-id")
        if caller_id is not None and _CALLER_ID.fullmatch(caller_id):
            rid = caller_id
        else:
            rid = f"req_{self._id_prefix}{next(self._ids):x}"
        try:
            methods = self.routes.get(scope.path)
            if methods is None:
                raise NotFound(f"Unknown request URL: {scope.method} {scope.path}.", code="unknown_url")
            handler = methods.get(scope.method)
            if handler is None:
                allow = ", ".join(methods)
                raise MethodNotAllowed(
                    f"Method {scope.method} is not allowed on {scope.path}; use {allow}.",
                    headers=[("allow", allow)],
                )
            await handler(scope, proto, rid)
        except GatewayError as e:
            proto.response_bytes(e.status, [JSON, ("x-request-id", rid), *e.headers], error_body(e))
        except Exception:
            log.exception("internal error serving %s %s (request %s)", scope.method, scope.path, rid)
            err = InternalError(f"internal error; quote request id {rid} when reporting it")
            proto.response_bytes(500, [JSON, ("x-request-id", rid)], error_body(err))

    def _gateway(self) -> Gateway:
        if self.gateway is None:
            raise NotReady("the gateway is not ready")
        return self.gateway

    # -- handlers --
    async def _messages(self, scope: Any, proto: Any, rid: str) -> None:
        try:
            await self._chat(scope, proto, rid, AnthropicCaller)
        except GatewayError as e:  # rendered in the caller's dialect
            status, body = anthropic_error(e)
            proto.response_bytes(status, [JSON, ("x-request-id", rid), *e.headers], body)

    async def _count_tokens(self, scope: Any, proto: Any, rid: str) -> None:
        gateway = self._gateway()
        flight = self.inflight.enter(proto)
        try:
            await count_message_tokens(gateway, scope.headers, proto, rid, flight)
        except GatewayError as e:
            status, body = anthropic_error(e)
            proto.response_bytes(status, [JSON, ("x-request-id", rid), *e.headers], body)
        except asyncio.CancelledError:
            if not flight.caller_left():
                raise
            flight.task.uncancel()  # the caller is gone and nothing is left to answer
        finally:
            self.inflight.leave(flight)

    def _route(self, route: CallerFactory) -> Handler:
        """The handler of a route served by the chat pipeline with its own `Caller`."""

        async def handler(scope: Any, proto: Any, rid: str) -> None:
            await self._chat(scope, proto, rid, route)

        return handler

    async def _chat(self, scope: Any, proto: Any, rid: str, route: CallerFactory | None = None) -> None:
        gateway = self._gateway()
        flight = self.inflight.enter(proto)
        try:
            await gateway.chat(scope.headers, proto, rid, flight, route)
        except asyncio.CancelledError:
            if not flight.caller_left():
                raise  # cancelled for another reason (shutdown): let it propagate
            flight.task.uncancel()  # our own cancel: the caller is gone and nothing is left to answer
        finally:
            self.inflight.leave(flight)

    async def _models(self, scope: Any, proto: Any, rid: str) -> None:
        gateway = self._gateway()
        gateway.auth.check(scope.headers)
        proto.response_bytes(200, [JSON, ("x-request-id", rid)], gateway.models_body())

    async def _health(self, scope: Any, proto: Any, rid: str) -> None:
        proto.response_bytes(200, [JSON, ("x-request-id", rid)], b'{"status":"ok"}')

    async def _ready(self, scope: Any, proto: Any, rid: str) -> None:
        gateway = self._gateway()
        body = msgspec.json.encode(
            {
                "status": "ready",
                "config": gateway.config.source,
                "models": len(gateway.table.listed()),
                "providers": len(gateway.adapters),
            }
        )
        proto.response_bytes(200, [JSON, ("x-request-id", rid)], body)

    def _admin(self, scope: Any) -> Gateway:
        gateway = self._gateway()
        if gateway.admin_auth is None:
            raise NotFound("admin endpoints are disabled (set server.admin_api_key)", code="unknown_url")
        gateway.admin_auth.check(scope.headers)
        return gateway

    async def _admin_health(self, scope: Any, proto: Any, rid: str) -> None:
        body = msgspec.json.encode({"models": self._admin(scope).models_with_health()})
        proto.response_bytes(200, [JSON, ("x-request-id", rid)], body)

    async def _admin_reload(self, scope: Any, proto: Any, rid: str) -> None:
        self._admin(scope)
        assert self.reloader is not None
        try:
            config = self.reloader.reload_all()
        except ConfigError as e:
            raise InvalidRequest(
                f"config refused, the previous one keeps serving: {e}", code="invalid_config"
            ) from None
        body = msgspec.json.encode({"status": "reloaded", "config": config.source, "models": len(config.models)})
        proto.response_bytes(200, [JSON, ("x-request-id", rid)], body)

    async def _admin_requests(self, scope: Any, proto: Any, rid: str) -> None:
        gateway = self._admin(scope)
        ledger = gateway.ledger
        body = msgspec.json.encode(
            {
                "requests": ledger.requests,
                "prompt_tokens": ledger.prompt_tokens,
                "completion_tokens": ledger.completion_tokens,
                "recent": list(ledger.recent),
            }
        )
        proto.response_bytes(200, [JSON, ("x-request-id", rid)], body)


def _aliased(path: str, methods: dict[str, Handler]) -> dict[str, dict[str, Handler]]:
    """A route under `/v1` and at the root (clients configured with a base URL without `/v1`)."""
    return {"/v1" + path: methods, path: methods}


app = App()
