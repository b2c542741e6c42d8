"""Fault injection against a real gateway and the mock: failover, retries with Retry-After, timeouts before
and after the first byte, the circuit breaker, alternatives for a too-long prompt, cross-group fallback,
weighted spread, and routing-only mode. Each test checks which deployment served, how many attempts it
took, how long, and what the caller got."""

from __future__ import annotations

import collections
import json
import time
from typing import Any

import httpx
import pytest
from conftest import ADMIN_KEY, CLIENT_KEY, UPSTREAM_KEY, Gateway
from mock_server import MockProvider
from openapi_schema import validate

AUTH = {"authorization": f"Bearer {CLIENT_KEY}"}


@pytest.fixture(scope="module")
def gw(mock: MockProvider, tmp_path_factory: pytest.TempPathFactory) -> Any:
    def provider(knobs: str = "") -> dict[str, Any]:
        prefix = f"/mock/{knobs}" if knobs else ""
        return {"kind": "openai-compatible", "base_url": f"{mock.url}{prefix}/v1", "api_key": UPSTREAM_KEY}

    def dep(p: str, m: str, **kw: Any) -> dict[str, Any]:
        return {"provider": p, "model": m, **kw}

    config = {
        "server": {
            "api_keys": [CLIENT_KEY],
            "admin_api_key": ADMIN_KEY,
            "timeouts": {"connect_s": 1, "first_byte_s": 1, "idle_s": 1, "total_s": 10},
            "retry": {"attempts": 3, "backoff_ms": 50, "deadline_s": 8},
            "health": {"failures": 2, "window_s": 30, "cooldown_s": 1.5},
        },
        "providers": {
            "ok": provider(),
            "e500": provider("status=500"),
            "e503": provider("status=503"),
            "r429": provider("status=429,retry_after=1"),
            "hang": provider("hang=true"),
            "slow": provider("ttft_ms=3000"),
            "ctx": provider("status=400,error_code=context_length_exceeded"),
            "bad": provider("status=400"),
        },
        "models": {
            "fo-500": {"strategy": "fallback", "deployments": [dep("e500", "first"), dep("ok", "second")]},
            "fo-hang": {"strategy": "fallback", "deployments": [dep("hang", "first"), dep("ok", "second")]},
            "fo-ttft": {"strategy": "fallback", "deployments": [dep("slow", "first"), dep("ok", "second")]},
            "only-429": {"deployments": [dep("r429", "limited")]},
            "ctx": {"deployments": [dep("ctx", "small")], "context_fallbacks": ["big"]},
            "big": {"deployments": [dep("ok", "big-model")]},
            "refuse": {"deployments": [dep("bad", "x")], "context_fallbacks": ["big"]},
            "cross": {"deployments": [dep("e503", "down")], "fallbacks": ["big"]},
            "cb": {"strategy": "fallback", "deployments": [dep("e503", "cb-bad"), dep("ok", "cb-good")]},
            "weighted": {"deployments": [dep("ok", "w3", weight=3), dep("ok", "w1", weight=1)]},
            "mid": {"deployments": [dep("ok", "mid")]},
            "ro": {
                "mode": "routing-only",
                "strategy": "fallback",
                "deployments": [dep("e500", "ro-1"), dep("ok", "ro-2")],
            },
        },
    }
    g = Gateway(config, tmp_path_factory.mktemp("failover"))
    yield g
    g.stop()


def post(
    gw: Gateway, model: str, stream: bool = False, timeout: float = 15, **mock: Any
) -> tuple[httpx.Response, float]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    if mock:
        body["mock"] = mock
    t0 = time.monotonic()
    r = httpx.post(gw.base_url + "/chat/completions", json=body, headers=AUTH, timeout=timeout)
    return r, time.monotonic() - t0


def route(r: httpx.Response) -> dict[str, str]:
    return dict(part.split("=", 1) for part in r.headers["x-switchyard-route"].split("; "))


def upstream_models(mock: MockProvider) -> list[str]:
    return [json.loads(q["body"])["model"] for q in mock.requests() if q["path"].endswith("/chat/completions")]


def test_500_fails_over_to_the_next_deployment(gw: Gateway, mock: MockProvider) -> None:
    mock.clear()
    r, took = post(gw, "fo-500")
    assert r.status_code == 200
    assert route(r)["deployment"] == "ok/second" and route(r)["attempts"] == "2"
    assert upstream_models(mock) == ["first", "second"]
    assert took < 2


def test_hang_before_headers_times_out_and_fails_over(gw: Gateway) -> None:
    r, took = post(gw, "fo-hang")
    assert r.status_code == 200 and route(r)["deployment"] == "ok/second"
    assert 0.9 < took < 3  # first_byte_s = 1


def test_slow_first_token_fails_over_before_the_caller_sees_a_byte(gw: Gateway) -> None:
    r, took = post(gw, "fo-ttft", stream=True)
    assert r.status_code == 200 and route(r)["deployment"] == "ok/second"
    assert r.text.rstrip().endswith("data: [DONE]")
    assert 0.9 < took < 3  # idle_s = 1 while waiting for the first event


def test_429_retry_after_is_honoured_then_the_caller_gets_429(gw: Gateway, mock: MockProvider) -> None:
    mock.clear()
    r, took = post(gw, "only-429")
    assert r.status_code == 429
    validate("ErrorResponse", r.json())
    assert r.headers["retry-after"] == "1"
    assert len(upstream_models(mock)) == 3  # attempts: 3, the same deployment
    assert 2.0 <= took < 5  # two waits of Retry-After = 1 s


def test_prompt_too_long_moves_to_the_context_fallback(gw: Gateway, mock: MockProvider) -> None:
    mock.clear()
    r, _ = post(gw, "ctx")
    assert r.status_code == 200 and route(r)["group"] == "big" and route(r)["deployment"] == "ok/big-model"
    assert upstream_models(mock) == ["small", "big-model"]


def test_other_caller_errors_are_not_retried(gw: Gateway, mock: MockProvider) -> None:
    mock.clear()
    r, _ = post(gw, "refuse")
    assert r.status_code == 400
    assert upstream_models(mock) == ["x"]


def test_cross_group_fallback(gw: Gateway) -> None:
    r, _ = post(gw, "cross")
    assert r.status_code == 200 and route(r)["group"] == "big"


def test_circuit_breaker_cools_a_failing_deployment_then_probes_it(gw: Gateway, mock: MockProvider) -> None:
    mock.clear()
    for _ in range(2):  # two failures within the window open the breaker
        assert post(gw, "cb")[0].status_code == 200
    assert upstream_models(mock) == ["cb-bad", "cb-good", "cb-bad", "cb-good"]
    mock.clear()
    r, _ = post(gw, "cb")
    assert r.status_code == 200 and route(r)["attempts"] == "1"
    assert upstream_models(mock) == ["cb-good"]  # cooling: not even tried
    health = httpx.get(gw.url + "/admin/health", headers={"authorization": f"Bearer {ADMIN_KEY}"}).json()
    states = {d["name"]: d["state"] for d in health["models"]["cb"]["deployments"]}
    assert states == {"e503/cb-bad": "cooling", "ok/cb-good": "healthy"}
    time.sleep(1.6)  # cooldown over: one probe goes to the bad one, fails, and it cools again
    mock.clear()
    assert post(gw, "cb")[0].status_code == 200
    assert upstream_models(mock) == ["cb-bad", "cb-good"]


def test_weighted_spread_over_400_requests(gw: Gateway, mock: MockProvider) -> None:
    mock.clear()
    with httpx.Client(base_url=gw.base_url, headers=AUTH, timeout=10) as client:
        for _ in range(400):
            body = {"model": "weighted", "messages": [{"role": "user", "content": "hi"}]}
            assert client.post("/chat/completions", json=body).status_code == 200
    counts = collections.Counter(upstream_models(mock))
    assert 270 <= counts["w3"] <= 330, counts  # 300 expected; 3.5 sigma is +-30


def test_no_retry_after_the_first_byte(gw: Gateway, mock: MockProvider) -> None:
    mock.clear()
    r, took = post(gw, "mid", stream=True, chunks=4, interval_ms=3000)
    assert r.status_code == 200
    last = r.text.strip().split("\n\n")[-1]
    assert last.startswith("data: ") and "error" in json.loads(last[6:])
    assert upstream_models(mock) == ["mid"]  # one attempt: the stream had started
    assert took < 3


def test_routing_only_fails_over_and_forwards_the_callers_bytes(gw: Gateway, mock: MockProvider) -> None:
    mock.clear()
    raw = b'{"model":"ro","stream":true,"messages":[{"role":"user","content":"hi"}],"x_unknown":[1.50,2]}'
    r = httpx.post(gw.base_url + "/chat/completions", content=raw, headers={**AUTH, "content-type": "application/json"})
    assert r.status_code == 200 and route(r)["deployment"] == "ok/ro-2"
    assert r.text.rstrip().endswith("data: [DONE]")
    sent = [q["body"] for q in mock.requests()]
    assert sent[-1] == raw.decode().replace('"ro"', '"ro-2"')  # no usage option added, every other byte kept
    assert '"usage"' not in r.text  # the caller did not ask for usage, and none was asked for
    r, _ = post(gw, "ro")
    assert r.status_code == 200 and r.json()["object"] == "chat.completion"


def test_session_affinity_by_header_or_user_field(gw: Gateway, mock: MockProvider) -> None:
    def served(**extra: Any) -> str:
        headers = {**AUTH, **extra.pop("headers", {})}
        body = {"model": "weighted", "messages": [{"role": "user", "content": "hi"}], **extra}
        r = httpx.post(gw.base_url + "/chat/completions", json=body, headers=headers)
        assert r.status_code == 200 and "session affinity" in route(r)["rule"]
        return route(r)["deployment"]

    for session in ("alice", "bob", "carol", "dave"):
        by_header = {served(headers={"x-switchyard-session": session}) for _ in range(8)}
        by_user = {served(user=session) for _ in range(8)}
        assert len(by_header) == 1 and by_header == by_user  # the same session always lands on one deployment


def test_bad_routing_header_is_a_400(gw: Gateway) -> None:
    body = {"model": "weighted", "messages": [{"role": "user", "content": "hi"}]}
    r = httpx.post(
        gw.base_url + "/chat/completions", json=body, headers={**AUTH, "x-switchyard-max-latency-ms": "fast"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_header"


def test_a_breaker_opened_in_one_worker_holds_in_all(mock: MockProvider, start_gateway: Any) -> None:
    bad = {"kind": "openai-compatible", "base_url": f"{mock.url}/mock/status=503/v1", "api_key": UPSTREAM_KEY}
    good = {"kind": "openai-compatible", "base_url": f"{mock.url}/v1", "api_key": UPSTREAM_KEY}
    g = start_gateway(
        {
            "server": {"api_keys": [CLIENT_KEY], "workers": 2, "health": {"failures": 1, "cooldown_s": 60}},
            "providers": {"bad": bad, "good": good},
            "models": {
                "m": {"strategy": "fallback", "deployments": [dep_("bad", "shared-bad"), dep_("good", "shared-ok")]}
            },
        }
    )
    mock.clear()
    post(g, "m")
    assert upstream_models(mock) == ["shared-bad", "shared-ok"]
    mock.clear()
    for _ in range(12):  # fresh connections: both workers answer some
        assert post(g, "m")[0].status_code == 200
    assert upstream_models(mock) == ["shared-ok"] * 12


def dep_(provider: str, model: str) -> dict[str, Any]:
    return {"provider": provider, "model": model}


def test_models_list_shows_availability_and_validates(gw: Gateway) -> None:
    for _ in range(2):
        post(gw, "cb")  # keeps the failing deployment of `cb` cooling
    r = httpx.get(gw.base_url + "/models", headers=AUTH)
    validate("ListModelsResponse", r.json())
    models = {m["id"]: m["switchyard"] for m in r.json()["data"]}
    assert models["cb"] == {"deployments": 2, "available": 1}
    assert models["weighted"] == {"deployments": 2, "available": 2}


def test_a_caller_leaving_cancels_pending_retries(gw: Gateway, mock: MockProvider) -> None:
    mock.clear()
    with pytest.raises(httpx.ReadTimeout):
        post(gw, "only-429", timeout=0.5)  # the gateway is waiting out Retry-After: 1 s
    time.sleep(2.5)
    assert len(upstream_models(mock)) == 1  # no attempt after the caller left
    record = gw.admin_requests()["recent"][-1]
    assert (record["status"], record["error"]) == (499, "client_closed")
