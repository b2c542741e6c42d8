"""The Google Gemini adapter: `POST {base_url}/models/{model}:generateContent` and
`:streamGenerateContent?alt=sse`, API key in `x-goog-api-key`.

Split by concern: request.py (parameter table and converters), schema.py (the JSON-schema subset Gemini
accepts), response.py (whole answers and the stream translator), this module (adapter, errors).
Errors: Google's envelope `{"error":{"code","message","status"}}`
(https://ai.google.dev/gemini-api/docs/troubleshooting): 400 INVALID_ARGUMENT (an input over the context
window: `context_length_exceeded`), 403 PERMISSION_DENIED, 404 NOT_FOUND, 429 RESOURCE_EXHAUSTED,
500 INTERNAL, 503 UNAVAILABLE (overloaded), 504 DEADLINE_EXCEEDED.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

import orjson

from switchyard._core import Inspected
from switchyard.canonical import Usage, decode_request
from switchyard.config import ProviderConfig, Timeouts
from switchyard.errors import GatewayError
from switchyard.providers import params
from switchyard.providers.base import HttpUpstream
from switchyard.providers.gemini import request, response
from switchyard.providers.gemini.embeddings import GeminiEmbeddings
from switchyard.providers.openai import map_status
from switchyard.upstream import Transport, UpstreamRequest

if TYPE_CHECKING:
    from switchyard.pipeline.surfaces import EndpointCall


class Gemini(HttpUpstream):
    """A Gemini (Google AI Studio) upstream, for OpenAI-dialect callers."""

    protocol = "gemini"
    stream_usage = True  # every stream chunk carries usageMetadata

    def __init__(self, name: str, cfg: ProviderConfig, timeouts: Timeouts, transport: Transport) -> None:
        super().__init__(name, cfg, timeouts, transport)

    def for_endpoint(self, call: EndpointCall) -> GeminiEmbeddings:
        """How it takes a request to another endpoint (embeddings, the only one it serves)."""
        return GeminiEmbeddings(self, call)

    def url(self, model: str, stream: bool) -> str:
        name = urllib.parse.quote(model, safe="")
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"{self.base_url}/models/{name}:{method}"

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        deployment = f"{self.name}/{model}"
        req = decode_request(body)
        out = params.apply(req, request.PARAMS, deployment)
        url = self.url(model, info.stream)
        return UpstreamRequest(
            url, self.headers, orjson.dumps(out), self.timeouts, deployment, info.stream
        ), not req.wants_usage

    def error(self, status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
        try:
            err = orjson.loads(body)["error"]
            message, kind = str(err.get("message") or "no message"), err.get("status")
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            message, kind = body[:200].decode("utf-8", "replace").strip() or "empty body", None
        code = str(kind) if kind else None
        if status == 400 and "token" in message and "exceed" in message:
            code = "context_length_exceeded"
        return map_status(status, message, None, code, retry_after, deployment)

    def whole(self, body: bytes) -> tuple[bytes, Usage | None]:
        return response.whole(body)

    def stream_tap(self, strip_usage: bool, collect_text: bool) -> response.StreamTranslator:
        return response.StreamTranslator(emit_usage=not strip_usage)
