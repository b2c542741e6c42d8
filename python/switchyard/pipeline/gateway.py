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

from switchyard._core import preload_encodings
from switchyard.config import Config
from switchyard.errors import GatewayError, NotFound, sse_error_event
from switchyard.pipeline.account import Ledger, RequestRecord, Usage
from switchyard.pipeline.admit import Admission, build_limits
from switchyard.pipeline.auth import KeyAuth, build_auth
from switchyard.pipeline.count import count_usage
from switchyard.pipeline.dialect import AnthropicCaller
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
        self.limits = build_limits(config)
        if self.limits.counts_tokens or any(not a.stream_usage for a in self.adapters.values()):
            preload_encodings()  # ~130 ms once, here, rather than inside the first request that counts
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

    async def chat(
        self, headers: Any, proto: Any, request_id: str, dialect: type[AnthropicCaller] | None = None
    ) -> None:
        """Serve one `POST /v1/chat/completions` (or, with a `dialect`, its own endpoint, e.g. Anthropic's
        `/v1/messages`). A GatewayError escaping means nothing was sent yet."""
        start = time.perf_counter()
        principal: str | None = None
        model: str | None = None
        deployment: str | None = None
        stream = False
        admission: Admission | None = None
        billed: int | None = None  # tokens to settle the admission to; None keeps the estimate
        try:
            caller = self.auth.check(headers)
            principal = caller.name
            body = await read_body(headers, proto, self.max_body, self.body_timeout)
            spoken = None if dialect is None else dialect(body)
            if spoken is not None:  # another dialect: its request in canonical (OpenAI) form
                body = spoken.body
            info, model = inspect_chat(body)
            stream = info.stream
            group = self.table.resolve(model)
            if group is None:
                raise NotFound(
                    f"The model `{model}` does not exist or you do not have access to it.",
                    param="model",
                    code="model_not_found",
                )
            admission = await self.limits.admit(caller, group.name, body, info.max_tokens)
            billed = 0  # until an upstream answers, nothing was used
            candidates = group.order(model, random.random())
            adapters = self.adapters
            if spoken is not None:  # answering in the caller's dialect
                adapters = spoken.view({d.provider: self.adapters[d.provider] for d in candidates})
            attempt = await dispatch(candidates, adapters, body, info)
            deployment = attempt.deployment.name
            billed = None
            out_headers = [("x-request-id", request_id), *admission.headers]
            usage: Usage | None
            adapter = adapters[attempt.deployment.provider]
            error_event = sse_error_event if spoken is None else spoken.error_event
            try:
                if stream:
                    collect = not (attempt.strip_usage or info.include_usage)  # no usage is coming: count it
                    tap = adapter.stream_tap(attempt.strip_usage, collect)
                    result = await relay_stream(
                        proto, attempt.response, out_headers, attempt.strip_usage, collect, tap, error_event
                    )
                    usage, error = result.usage, None if result.complete else "stream_cut"
                    if usage is None and collect and result.complete:
                        usage = await count_usage(body, result.text, attempt.deployment.model)
                else:
                    usage, error = (
                        await respond_whole(proto, attempt.response, out_headers, RESPONSE_LIMIT, adapter.whole),
                        None,
                    )
            finally:
                await attempt.response.close()
            billed = usage.billed if usage is not None else None
        except GatewayError as e:
            self._record(request_id, principal, model, deployment, e.status, stream, None, start, e.code)
            raise
        except asyncio.CancelledError:  # the caller went away: 499, as nginx logs it
            self._record(request_id, principal, model, deployment, 499, stream, None, start, "client_closed")
            raise
        finally:
            if admission is not None:
                self.limits.settle(admission, billed)
        self._record(request_id, principal, model, deployment, 200, stream, usage, start, error)

    def _record(
        self,
        request_id: str,
        principal: str | None,
        model: str | None,
        deployment: str | None,
        status: int,
        stream: bool,
        usage: Usage | None,
        start: float,
        error: str | None,
    ) -> None:
        ms = (time.perf_counter() - start) * 1000.0
        self.ledger.add(RequestRecord(request_id, principal, model, deployment, status, stream, usage, ms, error))

    async def close(self) -> None:
        await self.http.close()
