"""Inspect: the Rust scan of the body (model, stream, counts) turned into the caller-facing errors."""

from __future__ import annotations

from switchyard._core import Inspected, InspectError, inspect_request
from switchyard.errors import InvalidRequest, Unprocessable

_CODES = {"missing_param": "missing_required_parameter"}  # the rest keep the Rust kind as their code


def inspect_any(body: bytes) -> tuple[Inspected, str]:
    """Scan any request body that names a model (the fields chat shares are type-checked); 400 for
    malformed or mistyped input. Returns the scan and its model, now known to be a string."""
    try:
        info = inspect_request(body)
    except InspectError as e:
        code = _CODES.get(e.kind, e.kind)
        raise InvalidRequest(str(e), param=e.param, code=code) from None
    model = info.model
    if model is None:
        raise InvalidRequest("you must provide a model parameter", param="model", code="missing_required_parameter")
    return info, model


def inspect_chat(body: bytes) -> tuple[Inspected, str]:
    """Scan a chat-completions body; raise 400 for malformed or mistyped input, 422 for bad values.
    Returns the scan and its model, now known to be a string."""
    info, model = inspect_any(body)
    if info.messages is None:
        raise InvalidRequest(
            "Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter"
        )
    if info.messages == 0:
        raise Unprocessable("'messages' must contain at least one message.", param="messages")
    if info.n is not None and info.n < 1:
        raise Unprocessable(f"Invalid 'n': {info.n}. Expected a value >= 1.", param="n")
    if info.max_tokens is not None and info.max_tokens < 1:
        raise Unprocessable(f"Invalid 'max_tokens': {info.max_tokens}. Expected a value >= 1.", param="max_tokens")
    return info, model
