"""Every registered route goes through auth, limits and the request log, or says why it does not.

The table below classifies each route of `App().routes`; a route added without an entry fails
`test_every_route_is_classified`. Each pipeline route is then driven over HTTP against a real gateway
and the mock: refused without a key (and logged), served with one (and logged under its endpoint), and
refused with a 429 by its model group's one-request-per-minute limit (and logged).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ADMIN_KEY, CLIENT_KEY, UPSTREAM_KEY, Gateway
from mock_server import MockProvider
from switchyard.app import App

CHAT: Any = {"messages": [{"role": "user", "content": "hi"}]}
ANTHROPIC: Any = {"max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
# route -> (the request log's endpoint, a valid body without its model)
PIPELINE: dict[str, tuple[str, dict[str, Any]]] = {
    "/v1/chat/completions": ("chat", CHAT),
    "/chat/completions": ("chat", CHAT),
    "/v1/messages": ("messages", ANTHROPIC),
    "/v1/messages/count_tokens": ("count_tokens", {"messages": ANTHROPIC["messages"]}),
    "/v1/responses": ("responses", {"input": "hi"}),
    "/responses": ("responses", {"input": "hi"}),
    "/v1/embeddings": ("embeddings", {"input": ["a", "b"]}),
    "/embeddings": ("embeddings", {"input": "a"}),
    "/v1/images/generations": ("images", {"prompt": "a fox"}),
    "/images/generations": ("images", {"prompt": "a fox"}),
    "/v1/completions": ("completions", {"prompt": "hi", "max_tokens": 4}),
    "/completions": ("completions", {"prompt": "hi", "max_tokens": 4}),
    "/v1/moderations": ("moderations", {"input": "hi"}),
    "/moderations": ("moderations", {"input": "hi"}),
}
# Routes outside the pipeline, and why.
AUTH_ONLY = {
    "/v1/models": "the model list, served from memory: no upstream, nothing to limit or bill",
    "/models": "the model list, served from memory: no upstream, nothing to limit or bill",
    "/admin/requests": "operators' view of the log: the admin key, not a caller's key or limits",
    "/admin/health": "operators' view of deployment health: the admin key",
    "/admin/reload": "operators' config reload: the admin key",
}
PUBLIC = {
    "/health": "liveness probe for load balancers: no key, no body, constant answer",
    "/ready": "readiness probe for load balancers: no key, no body",
}


def model_for(route: str) -> str:
    return "m" + route.replace("/", "-")


@pytest.fixture(scope="module")
def gw(mock: MockProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    provider = {"kind": "openai-compatible", "base_url": mock.url + "/v1", "api_key": UPSTREAM_KEY}
    models: dict[str, Any] = {
        model_for(r): {"deployments": [{"provider": "mock", "model": "up"}], "limits": {"rpm": 1}} for r in PIPELINE
    }
    for route in ("/v1/embeddings", "/v1/completions", "/v1/responses"):  # tokens, counted per route
        models["tpm" + route.replace("/", "-")] = {
            "deployments": [{"provider": "mock", "model": "up"}],
            "limits": {"tpm": 40},
        }
    config = {
        "server": {"api_keys": [CLIENT_KEY], "admin_api_key": ADMIN_KEY},
        "providers": {"mock": provider},
        "models": models,
    }
    g = Gateway(config, tmp_path_factory.mktemp("routes"))
    yield g
    g.stop()


def post(gw: Gateway, path: str, body: dict[str, Any], key: str | None) -> tuple[int, str, bytes]:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    req = urllib.request.Request(gw.url + path, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers["x-request-id"], resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["x-request-id"], e.read()


def logged(gw: Gateway, request_id: str) -> dict[str, Any]:
    found = [r for r in gw.admin_requests()["recent"] if r["request_id"] == request_id]
    assert len(found) == 1, f"request {request_id} is not in the request log exactly once: {found}"
    return found[0]


def test_every_route_is_classified() -> None:
    registered = set(App().routes)
    classified = set(PIPELINE) | set(AUTH_ONLY) | set(PUBLIC)
    assert registered == classified, f"unclassified: {registered - classified}; gone: {classified - registered}"


@pytest.mark.parametrize("route", sorted(PIPELINE))
def test_pipeline_route_is_authed_limited_and_logged(gw: Gateway, route: str) -> None:
    endpoint, body = PIPELINE[route]
    body = {"model": model_for(route), **body}
    for key in (None, "sk-wrong"):
        status, rid, _ = post(gw, route, body, key)
        assert status == 401
        assert logged(gw, rid)["status"] == 401
    status, rid, answer = post(gw, route, body, CLIENT_KEY)
    assert status == 200, answer
    record = logged(gw, rid)
    assert (record["status"], record["endpoint"], record["model"]) == (200, endpoint, body["model"])
    assert record["principal"] is not None
    status, rid, answer = post(gw, route, body, CLIENT_KEY)
    assert status == 429, answer
    assert logged(gw, rid)["status"] == 429


@pytest.mark.parametrize("route", sorted(AUTH_ONLY))
def test_auth_only_routes_need_their_key(gw: Gateway, route: str) -> None:
    method = "POST" if route == "/admin/reload" else "GET"
    for key in (None, CLIENT_KEY if route.startswith("/admin") else "sk-wrong"):
        headers = {} if key is None else {"authorization": f"Bearer {key}"}
        req = urllib.request.Request(gw.url + route, None, headers, method=method)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 401


@pytest.mark.parametrize(
    ("route", "field"), [("/v1/embeddings", "input"), ("/v1/completions", "prompt"), ("/v1/responses", "input")]
)
def test_token_limits_count_each_routes_own_input(gw: Gateway, route: str, field: str) -> None:
    model = "tpm" + route.replace("/", "-")
    status, _, _ = post(gw, route, {"model": model, field: "short"}, CLIENT_KEY)
    assert status == 200
    status, rid, answer = post(gw, route, {"model": model, field: "many words " * 30}, CLIENT_KEY)
    assert status == 429 and json.loads(answer)["error"]["code"] == "request_too_large"
    assert logged(gw, rid)["status"] == 429
