"""Every error the gateway can answer with: its HTTP status, OpenAI `type` and `code`, rendered in one place.

Errors are values: a stage raises one of these and `render_openai` turns it into the OpenAI error envelope
`{"error": {"message", "type", "param", "code"}}`. Nothing else in the package builds an error body.
Messages are caller-facing: they say what to fix and never contain a secret.
"""

from __future__ import annotations

from typing import ClassVar

import orjson


class GatewayError(Exception):
    """Base of every error answered to a caller. Subclasses fix `status`, `type` and the default `code`."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "server_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        self.headers = headers or []


class InvalidRequest(GatewayError):
    """400: the body is malformed, a field has the wrong type, or a required field is missing."""

    status = 400
    type = "invalid_request_error"


class Unauthenticated(GatewayError):
    """401: no or wrong gateway API key."""

    status = 401
    type = "authentication_error"
    default_code = "invalid_api_key"


class NotFound(GatewayError):
    """404: unknown route or unknown model."""

    status = 404
    type = "invalid_request_error"
    default_code = "not_found"


class MethodNotAllowed(GatewayError):
    """405: the route exists but not for this method; `headers` carries `Allow`."""

    status = 405
    type = "invalid_request_error"
    default_code = "method_not_allowed"


class RequestTimeout(GatewayError):
    """408: the caller did not finish sending its body in time."""

    status = 408
    type = "invalid_request_error"
    default_code = "request_timeout"


class PayloadTooLarge(GatewayError):
    """413: the body is over `server.max_body_bytes`."""

    status = 413
    type = "invalid_request_error"
    default_code = "request_too_large"


class UnsupportedMediaType(GatewayError):
    """415: the body is declared as something other than JSON."""

    status = 415
    type = "invalid_request_error"
    default_code = "unsupported_media_type"


class Unprocessable(GatewayError):
    """422: well-formed and well-typed, but a value is out of range (e.g. `n: 0`, empty `messages`)."""

    status = 422
    type = "invalid_request_error"
    default_code = "invalid_value"


class RateLimited(GatewayError):
    """429: a limit was hit (ours, or the upstream's passed on); `headers` carries `Retry-After`."""

    status = 429
    type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class UpstreamError(GatewayError):
    """502: the upstream failed (connection refused or reset, 5xx, a malformed or cut response)."""

    status = 502
    type = "upstream_error"
    default_code = "upstream_error"


class NotReady(GatewayError):
    """503: the gateway is starting or shutting down."""

    status = 503
    type = "server_error"
    default_code = "not_ready"


class UpstreamTimeout(GatewayError):
    """504: the upstream did not connect, answer or continue a stream within its timeout."""

    status = 504
    type = "timeout_error"
    default_code = "upstream_timeout"


class InternalError(GatewayError):
    """500: a bug in the gateway; the message never carries internals."""

    status = 500
    type = "server_error"
    default_code = "internal_error"


def error_body(err: GatewayError) -> bytes:
    """The OpenAI error envelope for `err`, as JSON bytes."""
    return orjson.dumps({"error": {"message": err.message, "type": err.type, "param": err.param, "code": err.code}})


def sse_error_event(err: GatewayError) -> bytes:
    """An SSE event carrying the OpenAI error envelope: how a stream that fails after its start ends."""
    return b"data: " + error_body(err) + b"\n\n"


# -- the Anthropic dialect's envelope (https://docs.anthropic.com/en/api/errors) --
_ANTHROPIC_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
}


def anthropic_error(err: GatewayError) -> tuple[int, bytes]:
    """The status and Anthropic error envelope `{"type":"error","error":{"type","message"}}` for `err`;
    an overloaded upstream is Anthropic's own 529 `overloaded_error`."""
    if err.code == "upstream_overloaded":
        status, kind = 529, "overloaded_error"
    else:
        status = err.status
        kind = _ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return status, orjson.dumps({"type": "error", "error": {"type": kind, "message": err.message}})


def anthropic_sse_error_event(err: GatewayError) -> bytes:
    """An Anthropic `error` event: how a stream to an Anthropic-dialect caller that fails after its start ends."""
    return b"event: error\ndata: " + anthropic_error(err)[1] + b"\n\n"
