"""Bad input over real HTTP: each answered with the right status and an OpenAI error envelope, and the
gateway keeps serving afterwards."""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import pytest
from conftest import CLIENT_KEY, Gateway
from openapi_schema import validate

AUTH = {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"}
GOOD = b'{"model": "gpt-mock", "messages": [{"role": "user", "content": "hi"}]}'

CASES: list[tuple[str, str, str, bytes, dict[str, str], int, str | None, str | None]] = [
    # name, method, path, body, headers, status, code, param
    (
        "malformed json",
        "POST",
        "/v1/chat/completions",
        b'{"model": "gpt-mock", "messages": [',
        AUTH,
        400,
        "invalid_json",
        None,
    ),
    ("not an object", "POST", "/v1/chat/completions", b"[1, 2]", AUTH, 400, "not_object", None),
    (
        "model wrong type",
        "POST",
        "/v1/chat/completions",
        b'{"model": 5, "messages": []}',
        AUTH,
        400,
        "invalid_type",
        "model",
    ),
    (
        "messages wrong type",
        "POST",
        "/v1/chat/completions",
        b'{"model": "gpt-mock", "messages": "hi"}',
        AUTH,
        400,
        "invalid_type",
        "messages",
    ),
    (
        "role wrong type",
        "POST",
        "/v1/chat/completions",
        b'{"model": "gpt-mock", "messages": [{"role": 1}]}',
        AUTH,
        400,
        "invalid_type",
        "messages[0].role",
    ),
    (
        "stream wrong type",
        "POST",
        "/v1/chat/completions",
        b'{"model": "gpt-mock", "stream": "yes", "messages": []}',
        AUTH,
        400,
        "invalid_type",
        "stream",
    ),
    (
        "missing model",
        "POST",
        "/v1/chat/completions",
        b'{"messages": [{"role": "user", "content": "x"}]}',
        AUTH,
        400,
        "missing_required_parameter",
        "model",
    ),
    (
        "missing messages",
        "POST",
        "/v1/chat/completions",
        b'{"model": "gpt-mock"}',
        AUTH,
        400,
        "missing_required_parameter",
        "messages",
    ),
    (
        "empty messages",
        "POST",
        "/v1/chat/completions",
        b'{"model": "gpt-mock", "messages": []}',
        AUTH,
        422,
        "invalid_value",
        "messages",
    ),
    (
        "n zero",
        "POST",
        "/v1/chat/completions",
        b'{"model": "gpt-mock", "n": 0, "messages": [{"role": "user", "content": "x"}]}',
        AUTH,
        422,
        "invalid_value",
        "n",
    ),
    ("empty body", "POST", "/v1/chat/completions", b"", AUTH, 400, None, None),
    (
        "unknown model",
        "POST",
        "/v1/chat/completions",
        GOOD.replace(b"gpt-mock", b"no-such-model"),
        AUTH,
        404,
        "model_not_found",
        "model",
    ),
    (
        "oversized body",
        "POST",
        "/v1/chat/completions",
        b'{"model": "gpt-mock", "pad": "' + b"x" * 70_000 + b'"}',
        AUTH,
        413,
        "request_too_large",
        None,
    ),
    ("wrong method", "GET", "/v1/chat/completions", b"", AUTH, 405, "method_not_allowed", None),
    ("wrong method on models", "POST", "/v1/models", b"{}", AUTH, 405, "method_not_allowed", None),
    (
        "text content type",
        "POST",
        "/v1/chat/completions",
        GOOD,
        {**AUTH, "content-type": "text/plain"},
        415,
        "unsupported_media_type",
        "content-type",
    ),
    (
        "form content type",
        "POST",
        "/v1/chat/completions",
        GOOD,
        {**AUTH, "content-type": "application/x-www-form-urlencoded"},
        415,
        "unsupported_media_type",
        "content-type",
    ),
    (
        "no key",
        "POST",
        "/v1/chat/completions",
        GOOD,
        {"content-type": "application/json"},
        401,
        "missing_api_key",
        None,
    ),
    (
        "wrong key",
        "POST",
        "/v1/chat/completions",
        GOOD,
        {**AUTH, "authorization": "Bearer sk-wrong"},
        401,
        "invalid_api_key",
        None,
    ),
    (
        "wrong scheme",
        "POST",
        "/v1/chat/completions",
        GOOD,
        {**AUTH, "authorization": "Basic abc"},
        401,
        "invalid_api_key",
        None,
    ),
    ("models without key", "GET", "/v1/models", b"", {}, 401, "missing_api_key", None),
    ("unknown path", "GET", "/v1/nothing-here", b"", AUTH, 404, "unknown_url", None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_its_status_and_envelope(gateway: Gateway, case: Any) -> None:
    _, method, path, body, headers, status, code, param = case
    r = httpx.request(method, gateway.url + path, content=body, headers=headers, timeout=10)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-request-id"]
    payload = r.json()
    validate("ErrorResponse", payload)
    assert payload["error"]["message"]
    if code is not None:
        assert payload["error"]["code"] == code
    if param is not None:
        assert payload["error"]["param"] == param
    if status == 405:
        assert r.headers["allow"] in ("POST", "GET")
    ok = httpx.post(gateway.base_url + "/chat/completions", content=GOOD, headers=AUTH, timeout=10)
    assert ok.status_code == 200, "the gateway must keep serving after bad input"


def test_oversized_chunked_body_is_refused(gateway: Gateway) -> None:
    def chunks() -> Any:
        yield b'{"model": "gpt-mock", "pad": "'
        for _ in range(20):
            yield b"x" * 8192
        yield b'"}'

    r = httpx.post(gateway.base_url + "/chat/completions", content=chunks(), headers=AUTH, timeout=10)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large"


def test_slow_body_upload_is_cut_at_the_read_deadline(gateway: Gateway) -> None:
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {CLIENT_KEY}\r\nContent-Length: {len(GOOD)}\r\n\r\n"
    )
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as s:
        s.sendall(head.encode() + GOOD[:10])  # then stall: the config's body_read_timeout_s is 2
        answer = s.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"request_timeout" in answer
    assert time.monotonic() - start < 6


def test_request_id_is_echoed_when_the_caller_sends_one(gateway: Gateway) -> None:
    r = httpx.post(gateway.base_url + "/chat/completions", content=GOOD, headers={**AUTH, "x-request-id": "trace-123"})
    assert r.headers["x-request-id"] == "trace-123"
    r = httpx.post(
        gateway.base_url + "/chat/completions", content=GOOD, headers={**AUTH, "x-request-id": "bad id with spaces"}
    )
    assert r.headers["x-request-id"] != "bad id with spaces" and r.headers["x-request-id"].startswith("req_")


def test_health_and_ready(gateway: Gateway) -> None:
    assert httpx.get(gateway.url + "/health").json() == {"status": "ok"}
    ready = httpx.get(gateway.url + "/ready").json()
    assert ready["status"] == "ready" and ready["models"] >= 1
