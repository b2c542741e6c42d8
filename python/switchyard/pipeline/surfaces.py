"""The endpoints beside chat completions: embeddings, image generation, legacy completions, moderations.

Each is a pass-through: the caller's bytes go to an upstream that serves the same endpoint with only
`model` rewritten, and its answer comes back byte for byte, its usage read on the way (Gemini embeddings
are the one translation: providers/gemini/embeddings.py). A request runs the same stages as chat in
`Gateway.chat` (auth, limits, routing, failover, the request log); this module says, per endpoint, what a
valid body is, what its input is estimated at in tokens, and which provider can take it (the provider's
`endpoints`, presets.py). Routing-only mode applies to chat completions; these always take the full line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import orjson

from switchyard._core import ChatStreamTap, Inspected, count_tokens_for_model, rewrite_model
from switchyard.canonical import Usage
from switchyard.errors import GatewayError, InvalidRequest, UpstreamError, sse_error_event
from switchyard.pipeline.count import run_counter
from switchyard.pipeline.inspect import inspect_any
from switchyard.providers.base import Adapter, StreamTap
from switchyard.providers.openai import OpenAICompatible, whole_usage
from switchyard.routing.policy import Leg
from switchyard.upstream import UpstreamRequest

MAX_INPUTS = 2048  # OpenAI's limit on an embeddings batch


class Endpoint(msgspec.Struct, frozen=True):
    """One endpoint: its name (the capability in a provider's `endpoints` and the request log's label),
    the upstream path under the provider's base URL, the body field holding the input, whether it
    streams, and whether the gateway counts the input when the upstream reports no usage."""

    name: str
    path: str
    input: str
    streams: bool = False
    counts_input: bool = False
    default_model: str | None = None

    def caller(self, raw: bytes) -> EndpointCall:
        """The request `raw` to this endpoint, validated (400 naming the field otherwise)."""
        return EndpointCall(self, raw)


EMBEDDINGS = Endpoint("embeddings", "embeddings", "input", counts_input=True)
IMAGES = Endpoint("images", "images/generations", "prompt")
COMPLETIONS = Endpoint("completions", "completions", "prompt", streams=True)
MODERATIONS = Endpoint("moderations", "moderations", "input", default_model="omni-moderation-latest")


class EndpointCall:
    """One request to a pass-through endpoint, validated; what `Gateway.chat` asks of a non-chat caller."""

    error_event: Callable[[GatewayError], bytes] = staticmethod(sse_error_event)

    def __init__(self, endpoint: Endpoint, raw: bytes) -> None:
        self.endpoint = endpoint
        self.name = endpoint.name
        self.counts_input = endpoint.counts_input
        try:
            req = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise InvalidRequest(
                f"We could not parse the JSON body of your request: {e}", code="invalid_json"
            ) from None
        if not isinstance(req, dict):
            raise InvalidRequest("The request body must be a JSON object.", code="not_object")
        self.request: dict[str, Any] = req
        if "model" not in req and endpoint.default_model is not None:
            raw = rewrite_model(raw, endpoint.default_model)
        self.body = raw
        self.texts, self.token_ids = _inputs(req, endpoint)
        if req.get("stream") and not endpoint.streams:
            raise InvalidRequest(f"/v1/{endpoint.path} does not stream; omit 'stream'.", param="stream")
        _check_options(req, endpoint)
        self.counted: int | None = None  # the input's tokens, once `count` ran

    def inspect(self) -> tuple[Inspected, str]:
        """The scan every request gets (model, stream, max_tokens, user), over the caller's bytes."""
        return inspect_any(self.body)

    async def count(self, body: bytes) -> int:
        """The input's tokens (strings counted in the model's encoding, token arrays by length), once."""
        if self.counted is None:
            model = self.request.get("model")
            text = "\n".join(self.texts)
            counted = await run_counter(count_tokens_for_model, text, model if isinstance(model, str) else "")
            self.counted = counted + self.token_ids
        return self.counted

    def view(self, adapters: Mapping[str, Adapter]) -> dict[str, Adapter]:
        """Each provider as this endpoint sees it: a pass-through if it serves it, else one that refuses."""
        out: dict[str, Adapter] = {}
        for name, a in adapters.items():
            special = getattr(a, "for_endpoint", None)  # a provider that translates the endpoint
            if self.name not in getattr(a, "endpoints", ()):
                out[name] = Unsupported(a, self.endpoint)
            elif special is not None:
                out[name] = special(self)
            elif isinstance(a, OpenAICompatible):
                out[name] = PassThrough(a, self.endpoint)
            else:
                out[name] = Unsupported(a, self.endpoint)
        return out


class PassThrough:
    """A provider serving the endpoint itself: the caller's bytes with `model` rewritten, answers as they are."""

    def __init__(self, adapter: OpenAICompatible, endpoint: Endpoint) -> None:
        self.adapter = adapter
        self.endpoint = endpoint
        self.name = adapter.name
        self.protocol = adapter.protocol
        self.transport = adapter.transport
        self.stream_usage = adapter.stream_usage

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        a = self.adapter
        return a.request_to(a.endpoint_url(self.endpoint.path, model), body, info, model, want_usage)

    def error(self, status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
        return self.adapter.error(status, body, retry_after, deployment)

    def whole(self, body: bytes) -> tuple[bytes, Usage | None]:
        if self.endpoint is IMAGES:
            return body, images_usage(body)
        if self.endpoint is MODERATIONS:
            return body, None
        return body, whole_usage(body)

    def stream_tap(self, strip_usage: bool, collect_text: bool) -> StreamTap:
        return ChatStreamTap(strip_usage, collect_text=collect_text)


class Unsupported:
    """A provider that does not serve the endpoint: left out of the plan, and refusing if reached anyway."""

    def __init__(self, adapter: Adapter, endpoint: Endpoint) -> None:
        self.adapter = adapter
        self.endpoint = endpoint
        self.name = adapter.name
        self.protocol = adapter.protocol
        self.transport = adapter.transport
        self.stream_usage = False

    def refusal(self) -> InvalidRequest:
        return InvalidRequest(
            f"provider {self.name!r} does not serve /v1/{self.endpoint.path}; route this model to a deployment "
            f"whose provider does (providers.{self.name}.endpoints lists what a provider serves)",
            param="model",
            code="unsupported_endpoint",
        )

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        raise self.refusal()

    def error(self, status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
        return self.adapter.error(status, body, retry_after, deployment)

    def whole(self, body: bytes) -> tuple[bytes, Usage | None]:
        raise self.refusal()

    def stream_tap(self, strip_usage: bool, collect_text: bool) -> StreamTap:
        raise self.refusal()


def usable(legs: list[Leg], views: Mapping[str, Adapter]) -> list[Leg]:
    """The plan without the deployments whose provider does not serve the endpoint; 400 naming them if
    nothing is left."""
    out: list[Leg] = []
    refused: Unsupported | None = None
    for leg in legs:
        keep = []
        for d in leg.deployments:
            view = views[d.provider]
            if isinstance(view, Unsupported):
                refused = view
            else:
                keep.append(d)
        if keep:
            out.append(leg if len(keep) == len(leg.deployments) else Leg(leg.group, keep, leg.reason, leg.skipped))
    if not out and refused is not None:
        raise refused.refusal()
    return out or legs


def images_usage(body: bytes) -> Usage | None:
    """The usage of an image generation: GPT Image models report `input_tokens` (text and image) and
    `output_tokens` (the image); DALL·E reports none. UpstreamError if the body is no JSON object."""
    try:
        raw = orjson.loads(body).get("usage")
    except (orjson.JSONDecodeError, AttributeError):
        raise UpstreamError("upstream answered 200 with a body that is not a JSON object") from None
    if not isinstance(raw, dict):
        return None
    tokens_in, tokens_out = raw.get("input_tokens"), raw.get("output_tokens")
    if type(tokens_in) is not int or type(tokens_out) is not int:
        return None
    return Usage.of(input=tokens_in, output=tokens_out)


def _inputs(req: dict[str, Any], endpoint: Endpoint) -> tuple[list[str], int]:
    """The input's texts and its number of token ids, with OpenAI's 400s for a missing or mistyped one."""
    field = endpoint.input
    value = req.get(field)
    if value is None:
        raise InvalidRequest(f"Missing required parameter: '{field}'.", param=field, code="missing_required_parameter")
    if isinstance(value, str):
        if endpoint is EMBEDDINGS and not value:
            raise InvalidRequest(f"'{field}' cannot be an empty string.", param=field)
        return [value], 0
    if endpoint is IMAGES:
        raise InvalidRequest(f"Invalid type for '{field}': expected a string.", param=field, code="invalid_type")
    if not isinstance(value, list) or not value:
        raise InvalidRequest(
            f"Invalid '{field}': expected a string or a non-empty array.", param=field, code="invalid_type"
        )
    if endpoint is EMBEDDINGS and len(value) > MAX_INPUTS:
        raise InvalidRequest(f"'{field}' holds {len(value)} items; the maximum is {MAX_INPUTS}.", param=field)
    texts: list[str] = []
    ids = 0
    for i, item in enumerate(value):
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, int) and not isinstance(item, bool) and endpoint is not MODERATIONS:
            ids += 1
        elif isinstance(item, list) and endpoint is not MODERATIONS and _token_ids(item):
            ids += len(item)
        elif endpoint is MODERATIONS and isinstance(item, dict) and item.get("type") in ("text", "image_url"):
            if isinstance(item.get("text"), str):
                texts.append(item["text"])
        else:
            raise InvalidRequest(
                f"Invalid '{field}[{i}]': expected a string, a token id or an array of token ids.",
                param=f"{field}[{i}]",
                code="invalid_type",
            )
    return texts, ids


def _token_ids(item: list[Any]) -> bool:
    return bool(item) and all(isinstance(t, int) and not isinstance(t, bool) for t in item)


def _check_options(req: dict[str, Any], endpoint: Endpoint) -> None:
    if endpoint is EMBEDDINGS:
        fmt = req.get("encoding_format")
        if fmt is not None and fmt not in ("float", "base64"):
            raise InvalidRequest(
                f"Invalid 'encoding_format': {fmt!r}; use 'float' or 'base64'.", param="encoding_format"
            )
        dims = req.get("dimensions")
        if dims is not None and (not isinstance(dims, int) or isinstance(dims, bool) or dims < 1):
            raise InvalidRequest(f"Invalid 'dimensions': {dims!r}; expected an integer >= 1.", param="dimensions")
    elif endpoint is IMAGES:
        fmt = req.get("response_format")
        if fmt is not None and fmt not in ("url", "b64_json"):
            raise InvalidRequest(
                f"Invalid 'response_format': {fmt!r}; use 'url' or 'b64_json'.", param="response_format"
            )
        n = req.get("n")
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 10):
            raise InvalidRequest(f"Invalid 'n': {n!r}; expected an integer from 1 to 10.", param="n")
