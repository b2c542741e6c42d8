"""The OpenAI wire protocol, for OpenAI and every OpenAI-compatible vendor (presets.py holds their rows).

Pass-through: the caller's bytes go upstream with only `model` rewritten (and, for streams, the usage
option added where the caller did not ask for it), so parameters this gateway has never heard of survive.
"""

from __future__ import annotations

import orjson

from switchyard._core import ChatStreamTap, Inspected, rewrite_model
from switchyard.canonical import Usage
from switchyard.config import ProviderConfig, Timeouts
from switchyard.errors import (
    GatewayError,
    InvalidRequest,
    PayloadTooLarge,
    RateLimited,
    Unprocessable,
    UpstreamError,
    UpstreamTimeout,
)
from switchyard.providers.base import HttpUpstream
from switchyard.providers.presets import PRESETS
from switchyard.providers.usage import openai_usage
from switchyard.upstream import Transport, UpstreamRequest


class OpenAICompatible(HttpUpstream):
    """An OpenAI-compatible upstream: `POST {base_url}/chat/completions` with bearer (or header) auth."""

    protocol = "openai"

    def __init__(self, name: str, cfg: ProviderConfig, timeouts: Timeouts, transport: Transport) -> None:
        super().__init__(name, cfg, timeouts, transport)
        preset = PRESETS[cfg.kind]
        self.url = self.base_url + "/chat/completions"
        self.stream_usage = preset.stream_usage if cfg.stream_usage is None else cfg.stream_usage

    def endpoint_url(self, path: str, model: str) -> str:
        """The URL of another endpoint it serves (`embeddings`, `images/generations`, `responses`, ...)."""
        return f"{self.base_url}/{path}"

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        return self.request_to(self.url, body, info, model, want_usage)

    def request_to(
        self, url: str, body: bytes, info: Inspected, model: str, want_usage: bool = True
    ) -> tuple[UpstreamRequest, bool]:
        """The caller's `body` to `url` with `model` rewritten (and, for a stream whose caller did not ask
        for usage, the usage option added when `want_usage`), and whether that usage chunk must be stripped."""
        add_usage = want_usage and info.stream and self.stream_usage and not info.include_usage
        out = rewrite_model(body, model, include_usage=add_usage)
        return UpstreamRequest(url, self.headers, out, self.timeouts, f"{self.name}/{model}", info.stream), add_usage

    def error(self, status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
        return map_error(status, body, retry_after, deployment)

    def whole(self, body: bytes) -> tuple[bytes, Usage | None]:
        return body, whole_usage(body)

    def stream_tap(self, strip_usage: bool, collect_text: bool) -> ChatStreamTap:
        return ChatStreamTap(strip_usage, collect_text=collect_text)


def whole_usage(body: bytes) -> Usage | None:
    """The usage (and served tier) of a non-streamed OpenAI answer; UpstreamError if it is no JSON object."""
    try:
        answer = orjson.loads(body)
        return openai_usage(answer.get("usage"), answer.get("service_tier"))
    except (orjson.JSONDecodeError, AttributeError):
        raise UpstreamError("upstream answered 200 with a body that is not a JSON object") from None


def map_error(status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
    """Map an OpenAI-style upstream error to the caller's status, keeping the upstream's message."""
    message, param, code = _upstream_detail(body)
    return map_status(status, message, param, code, retry_after, deployment)


def map_status(
    status: int, message: str, param: str | None, code: str | None, retry_after: str | None, deployment: str
) -> GatewayError:
    """The gateway error for an upstream status and its (already extracted) message, for every protocol.

    Caller faults (400, 413, 422) keep their status; the upstream rejecting the gateway's own credentials
    or model name (401, 403, 404) is a gateway misconfiguration, so the caller gets 502; 429 keeps its
    Retry-After; 408 and 504 become 504; every other status is a 502 (503 and Anthropic's 529 with the code
    `upstream_overloaded`, which the Anthropic dialect renders as its 529 `overloaded_error`).
    """
    text = f"upstream {deployment} returned {status}: {message}"
    if status in (503, 529):
        return UpstreamError(text, code="upstream_overloaded")
    if status == 400:
        return InvalidRequest(message, param=param, code=code)
    if status == 413:
        return PayloadTooLarge(message, param=param, code=code)
    if status == 422:
        return Unprocessable(message, param=param, code=code)
    if status == 429:
        headers = [("retry-after", retry_after)] if retry_after else []
        return RateLimited(text, code=code or "upstream_rate_limited", headers=headers)
    if status in (408, 504):
        return UpstreamTimeout(text)
    if status in (401, 403):
        return UpstreamError(text, code="upstream_auth_error")
    return UpstreamError(text, code=code if status == 404 else "upstream_error")


def _upstream_detail(body: bytes) -> tuple[str, str | None, str | None]:
    try:
        err = orjson.loads(body)["error"]
        if isinstance(err, dict):
            msg = err.get("message")
            code = err.get("code")
            return (
                str(msg) if msg else "no message",
                err.get("param") if isinstance(err.get("param"), str) else None,
                str(code) if code is not None else None,
            )
        return str(err), None, None
    except (orjson.JSONDecodeError, KeyError, TypeError):
        text = body[:200].decode("utf-8", "replace").strip()
        return text or "empty body", None, None
