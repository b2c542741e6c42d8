"""`POST /v1/messages/count_tokens` (Anthropic dialect): the input tokens a Messages request would use.

Admitted (one request against the caller's limits, no tokens) and logged like any other route; routed
like a request for its `model`: when the first deployment of the group is an Anthropic upstream,
the caller's bytes go to its `/v1/messages/count_tokens` with `model` rewritten and its answer is relayed;
otherwise the gateway counts the canonical request itself (`_core.count_chat`: exact for OpenAI
encodings, an estimate for other families).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING, Any

import orjson

from switchyard.dialects.anthropic.request import to_openai
from switchyard.errors import GatewayError, NotFound, UpstreamError
from switchyard.pipeline.count import prompt_tokens
from switchyard.pipeline.gateway import Rec
from switchyard.pipeline.ingress import read_body
from switchyard.providers.anthropic import Anthropic

if TYPE_CHECKING:
    from switchyard.pipeline.gateway import Gateway
    from switchyard.pipeline.ingress import Reading
    from switchyard.routing.table import Group

JSON_HEADERS = [("content-type", "application/json")]
ANSWER_LIMIT = 1024 * 1024


async def count_message_tokens(gw: Gateway, headers: Any, proto: Any, request_id: str, flight: Reading) -> None:
    """Answer one count_tokens request, admitted and logged like any other (it takes a request, never
    tokens, from the caller's limits); a GatewayError escaping means nothing was sent yet."""
    start = time.monotonic()
    rec = Rec(request_id)
    rec.endpoint = "count_tokens"
    try:
        principal = gw.auth.check(headers)
        rec.principal = principal.name
        raw = await read_body(headers, proto, gw.max_body, gw.body_timeout, flight)
        body, req = to_openai(raw, counting=True)
        rec.model = model = str(req["model"])
        group = gw.table.resolve(model)
        if group is None:
            raise NotFound(f"model: {model} does not exist or you do not have access to it", param="model")
        admission = await gw.limits.admit(principal, group.name, raw, None, prompt=0)  # a request, no tokens
        try:
            await _answer(gw, group, model, raw, body, proto, request_id, rec)
        finally:
            gw.limits.settle(admission, 0)
    except GatewayError as e:
        gw.record(rec, e.status, None, start, e.code)
        raise
    except asyncio.CancelledError:
        gw.record(rec, 499, None, start, "client_closed")
        raise
    gw.record(rec, 200, None, start, None)


async def _answer(
    gw: Gateway, group: Group, model: str, raw: bytes, body: bytes, proto: Any, rid: str, rec: Rec
) -> None:
    dep = group.order(model, random.random())[0]
    adapter = gw.adapters[dep.provider]
    out_headers = [*JSON_HEADERS, ("x-request-id", rid)]
    if isinstance(adapter, Anthropic):
        rec.deployment = dep.name
        upstream = adapter.count_tokens_request(raw, dep.model)
        resp = await adapter.transport.send(upstream)
        try:
            answer = await resp.read_all(ANSWER_LIMIT)
        finally:
            await resp.close()
        if not 200 <= resp.status < 300:
            raise adapter.error(resp.status, answer, resp.header("retry-after"), upstream.deployment)
        try:
            orjson.loads(answer)["input_tokens"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise UpstreamError("upstream answered count_tokens without input_tokens") from None
        proto.response_bytes(200, out_headers, answer)
        return
    proto.response_bytes(200, out_headers, orjson.dumps({"input_tokens": await prompt_tokens(body)}))
