"""`POST /v1/messages/count_tokens` (Anthropic dialect): the input tokens a Messages request would use.

Routed like a request for its `model`: when the first deployment of the group is an Anthropic upstream,
the caller's bytes go to its `/v1/messages/count_tokens` with `model` rewritten and its answer is relayed;
otherwise the gateway counts the canonical request itself (`_core.count_chat`: exact for OpenAI
encodings, an estimate for other families).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import orjson

from switchyard.errors import NotFound, UpstreamError
from switchyard.pipeline.count import prompt_tokens
from switchyard.pipeline.ingress import read_body
from switchyard.providers.anthropic import Anthropic

if TYPE_CHECKING:
    from switchyard.pipeline.gateway import Gateway
    from switchyard.pipeline.ingress import Reading

JSON_HEADERS = [("content-type", "application/json")]
ANSWER_LIMIT = 1024 * 1024


async def count_message_tokens(gw: Gateway, headers: Any, proto: Any, request_id: str, flight: Reading) -> None:
    """Answer one count_tokens request; a GatewayError escaping means nothing was sent yet."""
    from switchyard.dialects.anthropic.request import to_openai

    gw.auth.check(headers)
    raw = await read_body(headers, proto, gw.max_body, gw.body_timeout, flight)
    body, req = to_openai(raw, counting=True)
    model = str(req["model"])
    group = gw.table.resolve(model)
    if group is None:
        raise NotFound(f"model: {model} does not exist or you do not have access to it", param="model")
    dep = group.order(model, random.random())[0]
    adapter = gw.adapters[dep.provider]
    out_headers = [*JSON_HEADERS, ("x-request-id", request_id)]
    if isinstance(adapter, Anthropic):
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
