"""The inbound Anthropic dialect end to end: the official anthropic SDK -> the gateway's `/v1/messages` ->
the mock speaking each upstream protocol (Anthropic: byte pass-through; OpenAI, Gemini: translated)."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from conftest import CLIENT_KEY, Gateway
from mock_server import MockProvider

MESSAGES: Any = [{"role": "user", "content": "Say hello"}]
TOOLS: Any = [
    {
        "name": "get_weather",
        "description": "Weather in a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]
TEXT = "word0 word1 word2 word3 word4 word5 word6 word7"


def client(gw: Gateway, bearer: bool = False) -> anthropic.Anthropic:
    if bearer:
        return anthropic.Anthropic(base_url=gw.url, auth_token=CLIENT_KEY, max_retries=0, timeout=20)
    return anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=20)


def sent(mock: MockProvider) -> tuple[dict[str, Any], dict[str, Any]]:
    rec = mock.requests()[-1]
    return rec, json.loads(rec["body"])


@pytest.mark.parametrize("bearer", [False, True])
def test_pass_through_to_anthropic_rewrites_only_the_model(
    native_gateway: Gateway, mock: MockProvider, bearer: bool
) -> None:
    raw = client(native_gateway, bearer).messages.with_raw_response.create(
        model="anthropic", max_tokens=100, system="Be brief.", messages=MESSAGES, extra_body={"container": "c-1"}
    )
    msg = raw.parse()
    assert msg.content[0].type == "text" and msg.content[0].text == TEXT
    assert msg.model == "up-anthropic" and msg.stop_reason == "end_turn"
    rec, body = sent(mock)
    assert rec["path"] == "/v1/messages" and rec["headers"]["x-api-key"] != CLIENT_KEY
    # fields the gateway has no translation for (`container`) pass through to an Anthropic upstream
    assert body == {
        "max_tokens": 100,
        "messages": MESSAGES,
        "model": "up-anthropic",
        "system": "Be brief.",
        "container": "c-1",
    }
    usage = native_gateway.admin_requests()["recent"][-1]["usage"]
    assert usage["output_tokens"] == 8 and usage["input_tokens"] == msg.usage.input_tokens


def test_pass_through_stream_with_thinking(native_gateway: Gateway) -> None:
    with client(native_gateway).messages.stream(
        model="anthropic-think", max_tokens=2048, messages=MESSAGES, thinking={"type": "enabled", "budget_tokens": 1024}
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].signature == "sig-mock-EqQBCgIYAhIM"  # type: ignore[union-attr]
    assert final.usage.output_tokens == 8


@pytest.mark.parametrize("upstream", ["openai", "gemini"])
def test_translated_text_whole(native_gateway: Gateway, mock: MockProvider, upstream: str) -> None:
    msg = client(native_gateway).messages.create(
        model=upstream,
        max_tokens=100,
        system="Be brief.",
        messages=MESSAGES,
        stop_sequences=["END"],
        metadata={"user_id": "u1"} if upstream == "openai" else anthropic.NOT_GIVEN,
    )
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.content[0].type == "text" and msg.content[0].text == TEXT
    assert msg.stop_reason == "end_turn" and msg.usage.output_tokens == 8 and msg.usage.input_tokens > 0
    body = sent(mock)[1]
    if upstream == "openai":
        assert body == {
            "model": "up-openai",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Say hello"}]},
            ],
            "max_tokens": 100,
            "stop": ["END"],
            "user": "u1",
        }
    else:
        assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
        assert body["generationConfig"] == {"maxOutputTokens": 100, "stopSequences": ["END"]}


@pytest.mark.parametrize("upstream", ["openai", "gemini", "anthropic"])
def test_stream_text_events_and_usage(native_gateway: Gateway, upstream: str) -> None:
    events: list[str] = []
    with client(native_gateway).messages.stream(model=upstream, max_tokens=100, messages=MESSAGES) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_message()
    assert final.content[0].type == "text" and final.content[0].text == TEXT
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert "content_block_start" in events and "message_delta" in events
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 8


@pytest.mark.parametrize("upstream", ["openai", "gemini", "anthropic"])
@pytest.mark.parametrize("stream", [False, True])
def test_parallel_tool_use(native_gateway: Gateway, mock: MockProvider, upstream: str, stream: bool) -> None:
    kwargs: Any = {
        "model": f"{upstream}-tools2",
        "max_tokens": 100,
        "messages": MESSAGES,
        "tools": TOOLS,
        "tool_choice": {"type": "any"},
    }
    if stream:
        with client(native_gateway).messages.stream(**kwargs) as s:
            msg = s.get_final_message()
    else:
        msg = client(native_gateway).messages.create(**kwargs)
    uses = [b for b in msg.content if b.type == "tool_use"]
    assert [(u.name, u.input) for u in uses] == [
        ("get_weather", {"city": "Paris", "n": 0}),
        ("get_weather", {"city": "Paris", "n": 1}),
    ]
    assert msg.stop_reason == "tool_use"
    if upstream == "openai":
        body = sent(mock)[1]
        assert body["tools"] == [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": TOOLS[0]["input_schema"],
                    "description": "Weather in a city",
                },
            }
        ]
        assert body["tool_choice"] == "required"


@pytest.mark.parametrize("upstream", ["openai", "gemini"])
def test_tool_result_round_trip_and_images(native_gateway: Gateway, mock: MockProvider, upstream: str) -> None:
    history: Any = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            ],
        },
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                {"type": "text", "text": "Thanks"},
            ],
        },
    ]
    msg = client(native_gateway).messages.create(model=upstream, max_tokens=50, messages=history, tools=TOOLS)
    assert msg.content[0].type == "text"
    body = sent(mock)[1]
    if upstream == "openai":
        assert body["messages"] == [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
            {"role": "user", "content": [{"type": "text", "text": "Thanks"}]},
        ]
    else:
        assert body["contents"][1] == {
            "role": "model",
            "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
        }
        assert body["contents"][2] == {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"content": "18C"}}},
                {"text": "Thanks"},
            ],
        }
        assert body["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}


@pytest.mark.parametrize("upstream", ["openai", "gemini"])
def test_usage_with_cache_and_reasoning_in_anthropic_fields(native_gateway: Gateway, upstream: str) -> None:
    msg = client(native_gateway).messages.create(model=f"{upstream}-cache", max_tokens=50, messages=MESSAGES)
    assert msg.usage.cache_read_input_tokens == 5
    assert msg.usage.output_tokens == 8 + 4  # reasoning counted as output, as Anthropic does
    rec = native_gateway.admin_requests()["recent"][-1]["usage"]
    assert (rec["cache_read_tokens"], rec["reasoning_tokens"], rec["output_tokens"]) == (5, 4, 8)
    assert rec["input_tokens"] == msg.usage.input_tokens


def test_reasoning_content_becomes_a_thinking_block(native_gateway: Gateway) -> None:
    msg = client(native_gateway).messages.create(model="openai-think", max_tokens=50, messages=MESSAGES)
    assert msg.content[0].type == "thinking" and msg.content[0].thinking == "Let me think this through."
    with client(native_gateway).messages.stream(model="openai-think", max_tokens=50, messages=MESSAGES) as s:
        final = s.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]


@pytest.mark.parametrize(
    ("model", "exc", "status"),
    [
        ("anthropic-429", anthropic.RateLimitError, 429),
        ("openai-429", anthropic.RateLimitError, 429),
        ("gemini-429", anthropic.RateLimitError, 429),
        ("anthropic-529", anthropic.APIStatusError, 529),
        ("gemini-503", anthropic.APIStatusError, 529),
        ("openai-400", anthropic.BadRequestError, 400),
        ("openai-500", anthropic.InternalServerError, 502),
    ],
)
def test_errors_in_anthropic_envelope(native_gateway: Gateway, model: str, exc: type[Exception], status: int) -> None:
    with pytest.raises(exc) as info:
        client(native_gateway).messages.create(model=model, max_tokens=10, messages=MESSAGES)
    err = info.value
    assert isinstance(err, anthropic.APIStatusError) and err.status_code == status
    assert isinstance(err.body, dict) and err.body["type"] == "error"
    assert "mock error" in err.body["error"]["message"]
    if status == 529:
        assert err.body["error"]["type"] == "overloaded_error"


def test_gateway_errors_in_anthropic_envelope(native_gateway: Gateway) -> None:
    with pytest.raises(anthropic.NotFoundError) as nf:
        client(native_gateway).messages.create(model="nope", max_tokens=10, messages=MESSAGES)
    assert nf.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(base_url=native_gateway.url, api_key="wrong", max_retries=0).messages.create(
            model="openai", max_tokens=10, messages=MESSAGES
        )
    with pytest.raises(anthropic.BadRequestError) as bad:
        client(native_gateway).messages.create(
            model="openai", max_tokens=10, messages=MESSAGES, extra_body={"container": "x"}
        )
    assert "container" in bad.value.body["error"]["message"]  # type: ignore[index]


@pytest.mark.parametrize("upstream", ["anthropic", "openai", "gemini"])
@pytest.mark.parametrize("fault", ["cut", "errevent"])
def test_a_stream_cut_midway_ends_with_an_error_event(native_gateway: Gateway, upstream: str, fault: str) -> None:
    text = ""
    with (
        pytest.raises(anthropic.APIError),
        client(native_gateway).messages.stream(model=f"{upstream}-{fault}", max_tokens=50, messages=MESSAGES) as stream,
    ):
        for ev in stream:
            if ev.type == "text":
                text += ev.text
    assert text == "word0 word1"


def test_count_tokens(native_gateway: Gateway, mock: MockProvider) -> None:
    c = client(native_gateway)
    passed = c.messages.count_tokens(model="anthropic", messages=MESSAGES, system="Be brief.")
    rec, body = sent(mock)
    assert rec["path"] == "/v1/messages/count_tokens" and body["model"] == "up-anthropic"
    assert passed.input_tokens == (len(rec["body"].encode()) + 3) // 4
    counted = c.messages.count_tokens(model="openai", messages=MESSAGES)
    assert 0 < counted.input_tokens < 50


@pytest.mark.parametrize("upstream", ["openai", "gemini"])
def test_structured_output_config(native_gateway: Gateway, mock: MockProvider, upstream: str) -> None:
    schema: Any = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    client(native_gateway).messages.create(
        model=upstream,
        max_tokens=50,
        messages=MESSAGES,
        output_config={"format": {"type": "json_schema", "schema": schema}},
    )
    body = sent(mock)[1]
    if upstream == "openai":
        assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
    else:
        assert body["generationConfig"] == {
            "maxOutputTokens": 50,
            "responseMimeType": "application/json",
            "responseSchema": schema,
        }


def test_pass_through_stream_is_byte_exact(native_gateway: Gateway, mock: MockProvider) -> None:
    import httpx

    req = {"model": "anthropic", "max_tokens": 10, "messages": MESSAGES, "stream": True}
    via_gateway = httpx.post(
        native_gateway.url + "/v1/messages", json=req, headers={"x-api-key": CLIENT_KEY}, timeout=10
    )
    direct = httpx.post(mock.url + "/v1/messages", json={**req, "model": "up-anthropic"}, timeout=10)
    assert via_gateway.headers["content-type"] == "text/event-stream"
    strip = [(line if '"id"' not in line else "") for line in via_gateway.text.split("\n")]  # ids count per request
    assert strip == [(line if '"id"' not in line else "") for line in direct.text.split("\n")]


@pytest.mark.parametrize("upstream", ["openai", "gemini", "anthropic"])
def test_cache_control_hints_reach_only_anthropic(native_gateway: Gateway, mock: MockProvider, upstream: str) -> None:
    content: Any = [{"type": "text", "text": "long context", "cache_control": {"type": "ephemeral"}}]
    history: Any = [
        {"role": "user", "content": content},
        {
            "role": "assistant",
            "content": [{"type": "thinking", "thinking": "t", "signature": "sig"}, {"type": "text", "text": "ok"}],
        },
        {"role": "user", "content": "go on"},
    ]
    tools: Any = [{**TOOLS[0], "cache_control": {"type": "ephemeral"}}]
    client(native_gateway).messages.create(
        model=upstream,
        max_tokens=20,
        system=[{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
        messages=history,
        tools=tools,
    )
    raw = mock.requests()[-1]["body"]
    assert ("cache_control" in raw) == (upstream == "anthropic")
    assert ("sig" in raw) == (upstream != "openai")
