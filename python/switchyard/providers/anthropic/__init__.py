"""The Anthropic Messages API adapter: `POST {base_url}/messages`, `x-api-key`, `anthropic-version`.

Split by concern: request.py (the parameter table and converters), response.py (whole answers and the
stream translator), this module (the adapter and the error mapping). An OpenAI-dialect caller's body is
decoded into the canonical form, mapped by the table (a field without a row is a 400 naming it and the
deployment), and the answer translated back; see docs/providers.md for the mapping in full.
Errors: Anthropic's envelope `{"type":"error","error":{"type","message"}}`
(https://docs.anthropic.com/en/api/errors): 400 invalid_request_error (a prompt over the context window
says "prompt is too long": `context_length_exceeded`), 401 authentication_error, 403 permission_error,
404 not_found_error, 413 request_too_large, 429 rate_limit_error, 500 api_error, 529 overloaded_error.
"""

from __future__ import annotations

import orjson

from switchyard._core import Inspected, rewrite_model
from switchyard.canonical import Usage, decode_request
from switchyard.config import ProviderConfig, Timeouts
from switchyard.errors import GatewayError
from switchyard.providers import params
from switchyard.providers.anthropic import native, request, response
from switchyard.providers.base import HttpUpstream
from switchyard.providers.openai import map_status
from switchyard.upstream import Transport, UpstreamRequest

API_VERSION = "2023-06-01"  # the current (and only GA) `anthropic-version`


class Anthropic(HttpUpstream):
    """An Anthropic upstream, for OpenAI-dialect callers (an Anthropic-dialect caller's bytes pass through)."""

    protocol = "anthropic"
    stream_usage = True  # Anthropic streams always report usage

    def __init__(self, name: str, cfg: ProviderConfig, timeouts: Timeouts, transport: Transport) -> None:
        super().__init__(name, cfg, timeouts, transport, ("anthropic-version", cfg.api_version or API_VERSION))
        self.url = self.base_url + "/messages"
        self.default_max_tokens = cfg.default_max_tokens

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        deployment = f"{self.name}/{model}"
        req = decode_request(body)
        out = {"model": model, **params.apply(req, request.PARAMS, deployment)}
        out.setdefault("max_tokens", self.default_max_tokens)
        upstream = UpstreamRequest(self.url, self.headers, orjson.dumps(out), self.timeouts, deployment, info.stream)
        return upstream, not req.wants_usage

    def build_native(self, body: bytes, stream: bool, model: str) -> UpstreamRequest:
        """The upstream request for an Anthropic-dialect caller's own bytes, `model` rewritten."""
        out = rewrite_model(body, model)
        return UpstreamRequest(self.url, self.headers, out, self.timeouts, f"{self.name}/{model}", stream)

    def count_tokens_request(self, body: bytes, model: str) -> UpstreamRequest:
        """`POST /v1/messages/count_tokens` for an Anthropic-dialect caller's bytes, `model` rewritten."""
        url = self.url + "/count_tokens"
        return UpstreamRequest(
            url, self.headers, rewrite_model(body, model), self.timeouts, f"{self.name}/{model}", False
        )

    def whole_native(self, body: bytes) -> tuple[bytes, Usage | None]:
        return native.whole_usage(body)

    def stream_tap_native(self) -> native.NativeTap:
        return native.NativeTap()

    def error(self, status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
        message, kind = error_detail(body)
        code = None
        if status == 400 and "prompt is too long" in message:
            code = "context_length_exceeded"
        return map_status(status, message, None, code or kind, retry_after, deployment)

    def whole(self, body: bytes) -> tuple[bytes, Usage | None]:
        return response.whole(body)

    def stream_tap(self, strip_usage: bool, collect_text: bool) -> response.StreamTranslator:
        return response.StreamTranslator(emit_usage=not strip_usage)


def error_detail(body: bytes) -> tuple[str, str | None]:
    """The message and error type of an Anthropic error body (or its first 200 bytes)."""
    try:
        err = orjson.loads(body)["error"]
        return str(err.get("message") or "no message"), str(err.get("type")) if err.get("type") else None
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        text = body[:200].decode("utf-8", "replace").strip()
        return text or "empty body", None
