"""The gateway: the pipeline assembled once from a config, then run per request.

Build once, run per call: adapters, the model table, auth and limits are built here from the config, so
a disabled feature costs nothing at request time (it is not in the line, rather than tested for).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import orjson

from switchyard.config import Config
from switchyard.errors import GatewayError, NotFound
from switchyard.pipeline.account import Ledger, RequestRecord, Usage
from switchyard.pipeline.auth import KeyAuth, build_auth
from switchyard.pipeline.dispatch import dispatch
from switchyard.pipeline.ingress import read_body
from switchyard.pipeline.inspect import inspect_chat
from switchyard.pipeline.respond import relay_stream, respond_whole
from switchyard.providers.base import Adapter, build_adapter
from switchyard.routing.table import ModelTable
from switchyard.upstream import HttpTransport

RESPONSE_LIMIT = 64 * 1024 * 1024  # a non-streamed answer larger than this is an upstream fault


class Gateway:
    """Everything one worker needs to serve requests, built from one config."""

    def __init__(self, config: Config) -> None:
        server = config.server
        self.config = config
        self.http = HttpTransport(server.timeouts.connect_s)
        self.adapters: dict[str, Adapter] = {
            name: build_adapter(name, p, server.timeouts, self.http) for name, p in config.providers.items()
        }
        self.table = ModelTable(config.models)
        self.auth = build_auth(server.api_keys)
        self.admin_auth = KeyAuth([server.admin_api_key]) if server.admin_api_key else None
        self.ledger = Ledger()
        self.max_body = server.max_body_bytes
        self.body_timeout = server.body_read_timeout_s
        self.models_body = orjson.dumps(
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 0, "owned_by": "switchyard"} for m in self.table.listed()
                ],
            }
        )

    async def chat(self, headers: Any, proto: Any, request_id: str) -> None:
        """Serve one `POST /v1/chat/completions`. A GatewayError escaping means nothing was sent yet."""
        start = time.perf_counter()
        model: str | None = None
        deployment: str | None = None
        stream = False
        try:
            self.auth.check(headers)
            body = await read_body(headers, proto, self.max_body, self.body_timeout)
            info, model = inspect_chat(body)
            stream = info.stream
            group = self.table.resolve(model)
            if group is None:
                raise NotFound(
                    f"The model `{model}` does not exist or you do not have access to it.",
                    param="model",
                    code="model_not_found",
                )
            attempt = await dispatch(group.order(model, random.random()), self.adapters, body, info)
            deployment = attempt.deployment.name
            out_headers = [("x-request-id", request_id)]
            usage: Usage | None
            try:
                if stream:
                    result = await relay_stream(proto, attempt.response, out_headers, attempt.strip_usage)
                    usage, error = result.usage, None if result.complete else "stream_cut"
                else:
                    usage, error = (
                        await respond_whole(proto, attempt.response, out_headers, RESPONSE_LIMIT),
                        None,
                    )
            finally:
                await attempt.response.close()
        except GatewayError as e:
            self._record(request_id, model, deployment, e.status, stream, None, start, e.code)
            raise
        except asyncio.CancelledError:  # the caller went away: 499, as nginx logs it
            self._record(request_id, model, deployment, 499, stream, None, start, "client_closed")
            raise
        self._record(request_id, model, deployment, 200, stream, usage, start, error)

    def _record(
        self,
        request_id: str,
        model: str | None,
        deployment: str | None,
        status: int,
        stream: bool,
        usage: Usage | None,
        start: float,
        error: str | None,
    ) -> None:
        ms = (time.perf_counter() - start) * 1000.0
        self.ledger.add(RequestRecord(request_id, model, deployment, status, stream, usage, ms, error))

    async def close(self) -> None:
        await self.http.close()
