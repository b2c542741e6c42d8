"""switchyard.errors: each error kind's status, OpenAI `type` and default `code`, and the two renderings
(JSON body, SSE event), checked against OpenAI's published `ErrorResponse` schema."""

from __future__ import annotations

import inspect
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openapi_schema import validate
from switchyard import errors
from switchyard.errors import GatewayError, error_body, sse_error_event

# (status, type, default code), as each class's docstring documents them.
DOCUMENTED: dict[str, tuple[int, str, str | None]] = {
    "InvalidRequest": (400, "invalid_request_error", None),
    "Unauthenticated": (401, "authentication_error", "invalid_api_key"),
    "NotFound": (404, "invalid_request_error", "not_found"),
    "MethodNotAllowed": (405, "invalid_request_error", "method_not_allowed"),
    "RequestTimeout": (408, "invalid_request_error", "request_timeout"),
    "PayloadTooLarge": (413, "invalid_request_error", "request_too_large"),
    "UnsupportedMediaType": (415, "invalid_request_error", "unsupported_media_type"),
    "Unprocessable": (422, "invalid_request_error", "invalid_value"),
    "RateLimited": (429, "rate_limit_error", "rate_limit_exceeded"),
    "InternalError": (500, "server_error", "internal_error"),
    "UpstreamError": (502, "upstream_error", "upstream_error"),
    "NotReady": (503, "server_error", "not_ready"),
    "UpstreamTimeout": (504, "timeout_error", "upstream_timeout"),
}

KINDS = {
    name: cls
    for name, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, GatewayError) and cls is not GatewayError
}


def test_every_error_kind_is_documented_here() -> None:
    assert sorted(KINDS) == sorted(DOCUMENTED)


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_status_type_and_code(name: str) -> None:
    status, type_, code = DOCUMENTED[name]
    cls = KINDS[name]
    err = cls("something went wrong")
    assert (cls.status, cls.type, err.code) == (status, type_, code)
    assert err.message == "something went wrong" == str(err)
    assert err.param is None
    assert err.headers == []
    assert (cls.__doc__ or "").startswith(f"{status}:"), "the docstring states the status first"


def test_statuses_are_distinct_http_errors() -> None:
    statuses = [cls.status for cls in KINDS.values()]
    assert len(set(statuses)) == len(statuses)
    assert all(400 <= s <= 599 for s in statuses)


def test_base_is_a_500_server_error() -> None:
    err = GatewayError("boom")
    assert (err.status, err.type, err.code) == (500, "server_error", None)
    assert isinstance(err, Exception)


def test_explicit_code_param_and_headers_override_defaults() -> None:
    err = errors.RateLimited("slow down", param="model", code="tokens_exceeded", headers=[("retry-after", "3")])
    assert (err.code, err.param, err.headers) == ("tokens_exceeded", "model", [("retry-after", "3")])
    assert errors.RateLimited("slow down").code == "rate_limit_exceeded"


def test_headers_are_not_shared_between_instances() -> None:
    a, b = errors.MethodNotAllowed("no"), errors.MethodNotAllowed("no")
    a.headers.append(("allow", "POST"))
    assert b.headers == []


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_error_body_is_an_openai_error_response(name: str) -> None:
    _, type_, code = DOCUMENTED[name]
    body = json.loads(error_body(KINDS[name]("The model `gpt-5` does not exist.", param="model")))
    validate("ErrorResponse", body)
    assert body == {
        "error": {
            "message": "The model `gpt-5` does not exist.",
            "type": type_,
            "param": "model",
            "code": code,
        }
    }


_text = st.text(st.characters(exclude_categories=("Cs",)))  # lone surrogates are not valid UTF-8


@given(message=_text, param=st.none() | _text, code=st.none() | _text)
def test_error_body_round_trips(message: str, param: str | None, code: str | None) -> None:
    err = errors.InvalidRequest(message, param=param, code=code)
    body = json.loads(error_body(err))
    validate("ErrorResponse", body)
    assert body["error"] == {
        "message": message,
        "type": "invalid_request_error",
        "param": param,
        "code": code,
    }


def _sse_events(stream: bytes) -> list[str]:
    """The `data` of each event in an SSE stream (WHATWG rules: events end at a blank line)."""
    text = stream.decode("utf-8")
    assert text.endswith("\n\n"), "an event must be terminated by a blank line"
    events = []
    for block in text.split("\n\n")[:-1]:
        lines = block.split("\n")
        assert all(line.startswith("data: ") for line in lines), lines
        events.append("\n".join(line[len("data: ") :] for line in lines))
    return events


@pytest.mark.parametrize("message", ["upstream reset the stream", "two\nlines\r\nand\rmore\n\n", "data: x\n\n"])
def test_sse_error_event_is_one_event(message: str) -> None:
    err = errors.UpstreamTimeout(message)
    event = sse_error_event(err)
    assert event.startswith(b"data: ")
    assert event.count(b"\n") == 2 and b"\r" not in event, "newlines in the message must stay escaped"
    (data,) = _sse_events(event)
    payload = json.loads(data)
    validate("ErrorResponse", payload)
    assert payload["error"] == {
        "message": message,
        "type": "timeout_error",
        "param": None,
        "code": "upstream_timeout",
    }
    assert data.encode() == error_body(err)
