"""Rate limits from the config, enforced by a real gateway against the mock: RPM, TPM (admitted on an
estimate, settled to the provider's usage), concurrency, OpenAI's x-ratelimit-* headers and Retry-After."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import openai
import pytest
from conftest import ADMIN_KEY, CLIENT_KEY, Gateway, mock_config
from core.tokens_reference import count_tokens  # tiktoken on the vendored vocabularies
from mock_server import MockProvider
from openapi_schema import validate

TEAM, TOK, CONC, STREAMER = "sk-team-key", "sk-token-key", "sk-conc-key", "sk-stream-key"


@pytest.fixture(scope="module")
def gw(mock: MockProvider, tmp_path_factory: pytest.TempPathFactory) -> Any:
    config = mock_config(mock.url)
    config["server"]["api_keys"] = [
        CLIENT_KEY,
        {"key": TEAM, "name": "team", "limits": {"rpm": 3}},
        {"key": TOK, "name": "tok", "limits": {"rpm": 100, "tpm": 1000}},
        {"key": CONC, "name": "conc", "limits": {"concurrent": 1}},
        {"key": STREAMER, "name": "streamer", "limits": {"tpm": 100_000}},
    ]
    config["limits"] = {"per_key": {"rpm": 10_000}}
    config["providers"]["nousage"] = {**config["providers"]["mock"], "stream_usage": False}
    config["models"]["small"] = {"deployments": [{"provider": "mock", "model": "m"}], "limits": {"rpm": 2}}
    config["models"]["plain"] = {"deployments": [{"provider": "nousage", "model": "gpt-4o"}]}
    g = Gateway(config, tmp_path_factory.mktemp("limits"))
    yield g
    g.stop()


def chat(gw: Gateway, key: str, model: str = "gpt-mock", **extra: Any) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hello there"}], **extra}
    return httpx.post(
        gw.base_url + "/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}, timeout=10
    )


def assert_429(r: httpx.Response, code: str) -> dict[str, Any]:
    assert r.status_code == 429, r.text
    body: dict[str, Any] = r.json()
    validate("ErrorResponse", body)
    assert body["error"]["type"] == "rate_limit_error"
    assert body["error"]["code"] == code
    assert r.headers["x-request-id"]
    return body


def test_requests_per_minute_per_key_with_openai_headers(gw: Gateway) -> None:
    remaining = []
    for _ in range(3):
        r = chat(gw, TEAM)
        assert r.status_code == 200, r.text
        assert r.headers["x-ratelimit-limit-requests"] == "3"
        remaining.append(int(r.headers["x-ratelimit-remaining-requests"]))
        assert r.headers["x-ratelimit-reset-requests"].endswith(("ms", "s"))
        assert "x-ratelimit-limit-tokens" not in r.headers  # no token limit applies to this key
    assert remaining == [2, 1, 0]
    r = chat(gw, TEAM)
    body = assert_429(r, "rate_limit_exceeded")
    assert "key team" in body["error"]["message"] and "RPM" in body["error"]["message"]
    assert TEAM not in r.text
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 20  # a request's worth refills in 60/3 s
    assert r.headers["x-ratelimit-remaining-requests"] == "0"
    # The official SDK reads it as a RateLimitError.
    sdk = openai.OpenAI(base_url=gw.base_url, api_key=TEAM, max_retries=0)
    with pytest.raises(openai.RateLimitError) as exc:
        sdk.chat.completions.create(model="gpt-mock", messages=[{"role": "user", "content": "hi"}])
    assert exc.value.code == "rate_limit_exceeded"
    # Other keys are not affected.
    assert chat(gw, CLIENT_KEY).status_code == 200


def test_model_limit_is_shared_across_keys(gw: Gateway) -> None:
    assert chat(gw, CLIENT_KEY, "small").status_code == 200
    assert chat(gw, STREAMER, "small").status_code == 200
    body = assert_429(chat(gw, CLIENT_KEY, "small"), "rate_limit_exceeded")
    assert "model small" in body["error"]["message"]


def test_tokens_per_minute_admits_on_the_estimate_and_settles_to_usage(gw: Gateway, mock: MockProvider) -> None:
    # Estimate: ~10 prompt tokens + max_tokens 600 = ~610 of the 1000-token minute. The mock bills
    # len(body)/4 + 8 (~40), so after settling ~960 remain and a second 610 fits: without the settle it could not.
    r = chat(gw, TOK, max_tokens=600)
    assert r.status_code == 200, r.text
    assert r.headers["x-ratelimit-limit-tokens"] == "1000"
    first_remaining = int(r.headers["x-ratelimit-remaining-tokens"])
    assert 380 <= first_remaining <= 395, first_remaining  # 1000 - estimate (+ refill of a few ms)
    actual = r.json()["usage"]["total_tokens"]
    r = chat(gw, TOK, max_tokens=600)
    assert r.status_code == 200, f"not settled: {r.text}"
    second_remaining = int(r.headers["x-ratelimit-remaining-tokens"])
    # 1000 - actual(first) - estimate(second), the estimates being equal: first_remaining - actual (+ refill).
    assert first_remaining - actual <= second_remaining <= first_remaining - actual + 20
    # ~64 tokens are used: one estimated at ~959 exceeds what is left of the minute (but not the limit
    # itself): denied with Retry-After, and nothing consumed by the denial.
    r = chat(gw, TOK, max_tokens=950)
    assert_429(r, "rate_limit_exceeded")
    assert "TPM" in r.json()["error"]["message"]
    assert int(r.headers["retry-after"]) >= 1
    rpm_left = int(r.headers["x-ratelimit-remaining-requests"])
    ok = chat(gw, TOK, max_tokens=5)
    assert ok.status_code == 200
    assert int(ok.headers["x-ratelimit-remaining-requests"]) == rpm_left - 1  # the denial took no request


def test_a_request_larger_than_the_limit_can_never_pass(gw: Gateway) -> None:
    r = chat(gw, TOK, max_tokens=5000)
    body = assert_429(r, "request_too_large")
    assert "requested" in body["error"]["message"] and "limit 1000" in body["error"]["message"]
    assert "retry-after" not in r.headers


def test_tokens_are_refunded_when_the_upstream_fails(gw: Gateway) -> None:
    for _ in range(4):  # 4 x ~610 estimated tokens: only possible if each failed attempt is refunded
        assert chat(gw, TOK, "failing", max_tokens=600).status_code == 502


def test_concurrency_limit(gw: Gateway) -> None:
    slow = threading.Thread(target=chat, args=(gw, CONC), kwargs={"mock": {"latency_ms": 800}})
    slow.start()
    try:
        time.sleep(0.3)
        r = chat(gw, CONC)
        body = assert_429(r, "concurrency_limit_exceeded")
        assert "key conc" in body["error"]["message"]
        assert r.headers["retry-after"] == "1"
    finally:
        slow.join()
    assert chat(gw, CONC).status_code == 200  # the slot came back


def test_stream_without_upstream_usage_is_counted(gw: Gateway, mock: MockProvider) -> None:
    content = "The quick brown fox jumps over the lazy dog, twice over."
    body = {
        "model": "plain",
        "stream": True,
        "messages": [{"role": "user", "content": "tell me"}],
        "mock": {"content": content, "chunks": 5},
    }
    mock.clear()
    with httpx.stream(
        "POST", gw.base_url + "/chat/completions", json=body, headers={"authorization": f"Bearer {STREAMER}"}
    ) as r:
        assert r.status_code == 200
        text = r.read().decode()
    assert "[DONE]" in text
    sent = json.loads(mock.requests()[-1]["body"])
    assert "stream_options" not in sent  # this vendor is not asked for usage
    record = next(x for x in reversed(gw.admin_requests()["recent"]) if x["principal"] == "streamer")
    usage = record["usage"]
    assert usage["counted"] is True
    assert usage["completion_tokens"] == count_tokens(content, "o200k_base")
    assert usage["prompt_tokens"] > 0 and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_records_name_the_principal_never_the_key(gw: Gateway) -> None:
    chat(gw, TEAM)
    data = httpx.get(gw.url + "/admin/requests", headers={"authorization": f"Bearer {ADMIN_KEY}"}).text
    assert '"principal":"team"' in data
    for secret in (TEAM, TOK, CONC, CLIENT_KEY):
        assert secret not in data
