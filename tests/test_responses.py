"""The Responses API (`POST /v1/responses`) end to end: the official openai SDK and raw HTTP -> the gateway ->
the mock speaking the Responses API itself (native pass-through), OpenAI chat, Anthropic or Gemini
(translated). Every streamed event and every final object is validated against OpenAI's published schemas."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from conftest import ADMIN_KEY, CLIENT_KEY, UPSTREAM_KEY, Gateway
from mock_server import MockProvider, knob_prefix
from openapi_schema import validate

TEXT = "word0 word1 word2 word3 word4 word5 word6 word7"
PARAMS: Any = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOLS: Any = [{"type": "function", "name": "get_weather", "description": "Weather in a city", "parameters": PARAMS}]
# model -> (provider kind, base-URL suffix, endpoints override, the path the upstream is asked on)
UPSTREAMS: dict[str, tuple[str, str, list[str] | None, str]] = {
    "native": ("openai-compatible", "/v1", ["responses"], "/v1/responses"),
    "chat": ("openai-compatible", "/v1", None, "/v1/chat/completions"),
    "anthropic": ("anthropic", "/v1", None, "/v1/messages"),
    "gemini": ("gemini", "/v1beta", None, ":generateContent"),
}


@pytest.fixture(scope="module")
def gw(mock: MockProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    providers: dict[str, Any] = {}
    for name, (kind, suffix, endpoints, _) in UPSTREAMS.items():
        providers[name] = {"kind": kind, "base_url": mock.url + suffix, "api_key": UPSTREAM_KEY}
        if endpoints is not None:
            providers[name]["endpoints"] = endpoints
    cut = knob_prefix(drop_after=2, chunks=6, interval_ms=20)
    providers["native-cut"] = {**providers["native"], "base_url": mock.url + cut + "/v1"}
    providers["chat-cut"] = {**providers["chat"], "base_url": mock.url + cut + "/v1"}
    config = {
        "server": {"api_keys": [CLIENT_KEY], "admin_api_key": ADMIN_KEY},
        "providers": providers,
        "models": {name: {"deployments": [{"provider": name, "model": f"up-{name}"}]} for name in providers},
    }
    g = Gateway(config, tmp_path_factory.mktemp("responses"))
    yield g
    g.stop()


@pytest.fixture(scope="module")
def client(gw: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0, timeout=20)


def post(gw: Gateway, body: dict[str, Any]) -> tuple[int, bytes]:
    req = urllib.request.Request(
        gw.url + "/v1/responses",
        json.dumps(body).encode(),
        {"content-type": "application/json", "authorization": f"Bearer {CLIENT_KEY}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


@pytest.mark.parametrize("model", list(UPSTREAMS))
def test_stream_events_and_final_object_validate(gw: Gateway, mock: MockProvider, model: str) -> None:
    status, raw = post(gw, {"model": model, "input": "hi", "stream": True, "tools": TOOLS})
    assert status == 200
    seen = events(raw)
    for name, data in seen:
        assert name == data["type"]
        validate("ResponseStreamEvent", data)
    kinds = [name for name, _ in seen]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert [d["sequence_number"] for _, d in seen] == list(range(len(seen)))
    final = seen[-1][1]["response"]
    validate("Response", final)
    assert mock.requests()[-1]["path"].endswith(UPSTREAMS[model][3].replace(":generateContent", ""))
    status, whole = post(gw, {"model": model, "input": "hi"})
    assert status == 200
    validate("Response", json.loads(whole))
    assert json.loads(whole)["output"][0]["type"] == "message"


@pytest.mark.parametrize("model", list(UPSTREAMS))
@pytest.mark.parametrize("stream", [False, True])
def test_function_tool_round_trip(client: openai.OpenAI, mock: MockProvider, model: str, stream: bool) -> None:
    turn: Any = [{"role": "user", "content": "Weather in Paris?"}]
    forced: Any = {"type": "function", "name": "get_weather"}
    if stream:
        with client.responses.stream(model=model, input=turn, tools=TOOLS, tool_choice=forced) as s:
            first = s.get_final_response()
    else:
        first = client.responses.create(model=model, input=turn, tools=TOOLS, tool_choice=forced)
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "Paris", "n": 0}
    # the next turn: the whole history back, the call's output included (stateless use)
    history = [*turn, *[item.model_dump(exclude_none=True) for item in first.output]]
    history.append({"type": "function_call_output", "call_id": calls[0].call_id, "output": '{"temp": "18C"}'})
    second = client.responses.create(model=model, input=history, tools=TOOLS, store=False)
    assert second.output_text == TEXT
    body = json.loads(mock.requests()[-1]["body"])
    if model == "native":  # the caller's own bytes, model rewritten
        assert body["model"] == "up-native" and body["input"][-1]["call_id"] == calls[0].call_id
    elif model == "chat":
        assert body["messages"][-1] == {"role": "tool", "tool_call_id": calls[0].call_id, "content": '{"temp": "18C"}'}
        assert body["messages"][-2]["tool_calls"][0]["function"]["name"] == "get_weather"
    elif model == "anthropic":
        assert body["messages"][-1]["content"][0]["type"] == "tool_result"
        assert body["messages"][-2]["content"][-1]["name"] == "get_weather"
    else:
        assert "functionResponse" in body["contents"][-1]["parts"][0]
        assert body["contents"][-2]["parts"][-1]["functionCall"]["name"] == "get_weather"


def test_translation_carries_instructions_schema_and_effort(client: openai.OpenAI, mock: MockProvider) -> None:
    fmt: Any = {"format": {"type": "json_schema", "name": "place", "schema": PARAMS, "strict": True}}
    client.responses.create(
        model="chat", instructions="Be brief.", input="hi", text=fmt, reasoning={"effort": "low"}, max_output_tokens=50
    )
    body = json.loads(mock.requests()[-1]["body"])
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["response_format"]["json_schema"]["schema"] == PARAMS
    assert body["reasoning_effort"] == "low" and body["max_completion_tokens"] == 50


def test_previous_response_id_needs_server_side_state(gw: Gateway, client: openai.OpenAI, mock: MockProvider) -> None:
    for model in ("chat", "anthropic", "gemini"):
        with pytest.raises(openai.BadRequestError) as info:
            client.responses.create(model=model, input="and then?", previous_response_id="resp_123")
        assert info.value.code == "unsupported_parameter"
        assert info.value.param == "previous_response_id" and "store" in str(info.value)
    # an upstream that keeps the state gets the request as it was sent
    client.responses.create(model="native", input="and then?", previous_response_id="resp_123")
    assert json.loads(mock.requests()[-1]["body"])["previous_response_id"] == "resp_123"


def test_usage_lands_in_the_request_record(gw: Gateway, client: openai.OpenAI) -> None:
    for model in UPSTREAMS:
        got = client.responses.create(model=model, input="hi")
        record = gw.admin_requests()["recent"][-1]
        assert record["endpoint"] == "responses" and record["model"] == model
        usage = record["usage"]
        assert got.usage is not None and usage["prompt_tokens"] == got.usage.input_tokens
        assert usage["completion_tokens"] == got.usage.output_tokens == 8


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": "chat"}, 400, "input"),
        ({"input": "hi"}, 400, "model"),
        ({"model": "nope", "input": "hi"}, 404, "model"),
        ({"model": "chat", "input": "hi", "tools": [{"type": "web_search"}]}, 400, "tools[0]"),
    ],
)
def test_bad_requests_get_the_openai_envelope(gw: Gateway, body: dict[str, Any], status: int, param: str) -> None:
    got, raw = post(gw, body)
    err = json.loads(raw)["error"]
    assert got == status and err["param"] == param and set(err) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("model", ["native-cut", "chat-cut"])
def test_a_stream_cut_mid_way_ends_with_a_numbered_error_event(gw: Gateway, model: str) -> None:
    status, raw = post(gw, {"model": model, "input": "hi", "stream": True})
    assert status == 200
    seen = events(raw)
    for _, data in seen:
        validate("ResponseStreamEvent", data)
    assert [d["sequence_number"] for _, d in seen] == list(range(len(seen)))
    assert seen[-1][0] == "error" and "response.completed" not in [name for name, _ in seen]
    assert any(name == "response.output_text.delta" for name, _ in seen)
    assert gw.admin_requests()["recent"][-1]["error"] == "stream_cut"
