"""The Anthropic adapter end to end: the openai SDK -> the gateway -> the mock speaking Anthropic Messages.

Each test checks what the caller received and what the upstream was sent (the mock records requests).
Shapes: https://docs.anthropic.com/en/api/messages, https://docs.anthropic.com/en/api/messages-streaming.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from conftest import CLIENT_KEY, UPSTREAM_KEY, Gateway
from mock_server import MockProvider

MESSAGES: Any = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]
TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
TEXT = "word0 word1 word2 word3 word4 word5 word6 word7"


def client(gw: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0, timeout=20)


def sent(mock: MockProvider) -> tuple[dict[str, Any], dict[str, Any]]:
    rec = mock.requests()[-1]
    return rec, json.loads(rec["body"])


def record(gw: Gateway) -> dict[str, Any]:
    return gw.admin_requests()["recent"][-1]  # type: ignore[no-any-return]


def test_text_whole(native_gateway: Gateway, mock: MockProvider) -> None:
    answer = client(native_gateway).chat.completions.create(
        model="anthropic", messages=MESSAGES, temperature=0.2, top_p=0.9, stop="END", user="u-1"
    )
    assert answer.choices[0].message.content == TEXT
    assert answer.choices[0].finish_reason == "stop"
    assert answer.model == "up-anthropic" and answer.object == "chat.completion"
    rec, body = sent(mock)
    assert rec["path"] == "/v1/messages"
    assert rec["headers"]["x-api-key"] == UPSTREAM_KEY and "authorization" not in rec["headers"]
    assert rec["headers"]["anthropic-version"] == "2023-06-01"
    assert body == {
        "model": "up-anthropic",
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Say hello"}]}],
        "temperature": 0.2,
        "top_p": 0.9,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u-1"},
        "max_tokens": 4096,
    }
    assert answer.usage is not None and answer.usage.completion_tokens == 8
    assert answer.usage.prompt_tokens == answer.usage.total_tokens - 8 > 0


def test_max_tokens_from_the_request(native_gateway: Gateway, mock: MockProvider) -> None:
    client(native_gateway).chat.completions.create(model="anthropic", messages=MESSAGES, max_completion_tokens=77)
    assert sent(mock)[1]["max_tokens"] == 77


def test_text_stream_with_usage_from_message_delta(native_gateway: Gateway, mock: MockProvider) -> None:
    chunks = list(
        client(native_gateway).chat.completions.create(
            model="anthropic", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage = chunks[-1].usage
    assert not chunks[-1].choices and usage is not None
    assert usage.completion_tokens == 8, "message_start's preliminary output_tokens (1) must not win"
    assert sent(mock)[1]["stream"] is True
    assert record(native_gateway)["usage"]["output_tokens"] == 8


def test_stream_without_include_usage_has_no_usage_chunk(native_gateway: Gateway) -> None:
    chunks = list(client(native_gateway).chat.completions.create(model="anthropic", messages=MESSAGES, stream=True))
    assert all(c.choices for c in chunks)
    assert record(native_gateway)["usage"]["completion_tokens"] == 8  # still accounted


def test_parallel_tool_calls_whole(native_gateway: Gateway, mock: MockProvider) -> None:
    answer = client(native_gateway).chat.completions.create(
        model="anthropic-tools2", messages=MESSAGES, tools=TOOLS, tool_choice="required"
    )
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("call_mock_0", "get_weather", {"city": "Paris", "n": 0}),
        ("call_mock_1", "get_weather", {"city": "Paris", "n": 1}),
    ]
    body = sent(mock)[1]
    assert body["tools"] == [
        {"name": "get_weather", "input_schema": TOOLS[0]["function"]["parameters"], "description": "Weather in a city"}
    ]
    assert body["tool_choice"] == {"type": "any"}


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("none", None, {"type": "none"}),
        ({"type": "function", "function": {"name": "get_weather"}}, None, {"type": "tool", "name": "get_weather"}),
        ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}),
    ],
)
def test_tool_choice_mapping(
    native_gateway: Gateway, mock: MockProvider, choice: Any, parallel: Any, expected: Any
) -> None:
    extra = {} if parallel is None else {"parallel_tool_calls": parallel}
    client(native_gateway).chat.completions.create(
        model="anthropic", messages=MESSAGES, tools=TOOLS, tool_choice=choice, **extra
    )
    assert sent(mock)[1]["tool_choice"] == expected


def test_tool_calls_streamed_with_argument_deltas(native_gateway: Gateway) -> None:
    chunks = list(
        client(native_gateway).chat.completions.create(
            model="anthropic-tools2", messages=MESSAGES, tools=TOOLS, stream=True
        )
    )
    deltas = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]
    assert len([d for d in deltas if d.id]) == 2, "id and name only in each call's first delta"
    args: dict[int, str] = {}
    for d in deltas:
        args[d.index] = args.get(d.index, "") + ((d.function.arguments or "") if d.function else "")
    assert {i: json.loads(a) for i, a in args.items()} == {0: {"city": "Paris", "n": 0}, 1: {"city": "Paris", "n": 1}}
    assert len([d for d in deltas if d.function and d.function.arguments]) == 6, "three argument deltas per call"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"


def test_tool_result_round_trip(native_gateway: Gateway, mock: MockProvider) -> None:
    history: Any = [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "call_2", "content": "24C"},
    ]
    answer = client(native_gateway).chat.completions.create(model="anthropic", messages=history, tools=TOOLS)
    assert answer.choices[0].message.content == TEXT
    assert sent(mock)[1]["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
                {"type": "tool_result", "tool_use_id": "call_2", "content": "24C"},
            ],
        },
    ]


def test_images_base64_and_url_and_cache_control(native_gateway: Gateway, mock: MockProvider) -> None:
    content: Any = [
        {"type": "text", "text": "What is in these?", "cache_control": {"type": "ephemeral"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    client(native_gateway).chat.completions.create(model="anthropic", messages=[{"role": "user", "content": content}])
    assert sent(mock)[1]["messages"][0]["content"] == [
        {"type": "text", "text": "What is in these?", "cache_control": {"type": "ephemeral"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


SCHEMA: Any = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.mark.parametrize("stream", [False, True])
def test_json_schema_output_via_a_forced_tool(native_gateway: Gateway, mock: MockProvider, stream: bool) -> None:
    fmt: Any = {"type": "json_schema", "json_schema": {"name": "place", "schema": SCHEMA}}
    c = client(native_gateway)
    if stream:
        chunks = list(c.chat.completions.create(model="anthropic", messages=MESSAGES, response_format=fmt, stream=True))
        text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        assert not any(ch.choices[0].delta.tool_calls for ch in chunks if ch.choices)
        finish = [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1]
    else:
        answer = c.chat.completions.create(model="anthropic", messages=MESSAGES, response_format=fmt)
        text, finish = answer.choices[0].message.content or "", answer.choices[0].finish_reason
        assert not answer.choices[0].message.tool_calls
    assert json.loads(text) == {"city": "Paris", "n": 0}
    assert finish == "stop"
    body = sent(mock)[1]
    assert body["tools"] == [
        {"name": "json_output", "description": "Answer with a place object.", "input_schema": SCHEMA}
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "json_output"}


def test_cache_and_service_tier_usage(native_gateway: Gateway) -> None:
    answer = client(native_gateway).chat.completions.create(model="anthropic-cache", messages=MESSAGES)
    u = answer.usage
    assert u is not None and u.prompt_tokens_details is not None
    assert u.prompt_tokens_details.cached_tokens == 5
    rec = record(native_gateway)["usage"]
    assert (rec["cache_read_tokens"], rec["cache_write_5m_tokens"], rec["cache_write_1h_tokens"]) == (5, 7, 3)
    assert rec["prompt_tokens"] == rec["input_tokens"] + 15 == u.prompt_tokens
    assert rec["output_tokens"] == 12 == u.completion_tokens  # 8 text + 4 thinking: Anthropic does not split them
    assert rec["service_tier"] == "standard"
    assert answer.service_tier == "standard"
    assert u.prompt_tokens_details.cache_write_tokens == 10


def test_thinking_comes_back_and_round_trips(native_gateway: Gateway, mock: MockProvider) -> None:
    c = client(native_gateway)
    answer = c.chat.completions.create(
        model="anthropic-think", messages=MESSAGES, extra_body={"thinking": {"type": "enabled", "budget_tokens": 2048}}
    )
    extra = answer.choices[0].message.model_extra or {}
    assert extra["reasoning_content"] == "Let me think this through."
    blocks = extra["thinking_blocks"]
    assert blocks == [
        {"type": "thinking", "thinking": "Let me think this through.", "signature": "sig-mock-EqQBCgIYAhIM"}
    ]
    assert sent(mock)[1]["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    history: Any = [
        *MESSAGES,
        {"role": "assistant", "content": "hi", "thinking_blocks": blocks},
        {"role": "user", "content": "again"},
    ]
    c.chat.completions.create(model="anthropic", messages=history)
    assert sent(mock)[1]["messages"][1] == {"role": "assistant", "content": [blocks[0], {"type": "text", "text": "hi"}]}
    chunks = list(c.chat.completions.create(model="anthropic-think", messages=MESSAGES, stream=True))
    extras = [ch.choices[0].delta.model_extra or {} for ch in chunks if ch.choices]
    assert "".join(e.get("reasoning_content", "") for e in extras) == "Let me think this through."
    assert [b for e in extras for b in e.get("thinking_blocks", [])] == blocks


def test_refusal_is_content_filter(native_gateway: Gateway) -> None:
    answer = client(native_gateway).chat.completions.create(model="anthropic-refusal", messages=MESSAGES)
    assert answer.choices[0].finish_reason == "content_filter"


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("anthropic-429", 429, "rate_limit_error"),
        ("anthropic-529", 502, "upstream_overloaded"),
        ("anthropic-500", 502, "upstream_error"),
        ("anthropic-401", 502, "upstream_auth_error"),
        ("anthropic-400", 400, "invalid_request_error"),
    ],
)
def test_errors_are_mapped_with_the_upstream_message(
    native_gateway: Gateway, model: str, status: int, code: str
) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client(native_gateway).chat.completions.create(model=model, messages=MESSAGES)
    assert info.value.status_code == status
    assert info.value.code == code
    assert "mock error" in info.value.message
    if status == 429:
        assert info.value.response.headers["retry-after"] == "7"


@pytest.mark.parametrize(
    ("model", "message"), [("anthropic-cut", "connection failed"), ("anthropic-errevent", "Overloaded")]
)
def test_a_stream_failing_midway_ends_with_an_error_event(native_gateway: Gateway, model: str, message: str) -> None:
    got: list[str] = []
    with pytest.raises(openai.APIError) as info:
        for c in client(native_gateway).chat.completions.create(model=model, messages=MESSAGES, stream=True):
            got.append(c.choices[0].delta.content or "" if c.choices else "")
    assert "".join(got) == "word0 word1"
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("extra", "param"),
    [({"logprobs": True}, "logprobs"), ({"temperature": 1.5}, "temperature"), ({"n": 2}, "n"), ({"seed": 1}, "seed")],
)
def test_a_parameter_anthropic_cannot_take_is_a_400_naming_it(native_gateway: Gateway, extra: Any, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client(native_gateway).chat.completions.create(model="anthropic", messages=MESSAGES, **extra)
    assert info.value.param == param
    assert param in info.value.message
    if param in ("logprobs", "seed"):
        assert "anthropic/up-anthropic" in info.value.message


def test_native_tap_holds_an_event_until_it_is_complete() -> None:
    from switchyard.providers.anthropic.native import NativeTap

    tap = NativeTap()
    assert tap.feed(b"event: message_start\n") == b""  # no blank line yet: nothing is complete
    assert tap.feed(b"data: {}\n") == b""
    assert tap.feed(b"\nevent: ping\r\n") == b"event: message_start\ndata: {}\n\n"
    assert tap.feed(b"data: {}\r\n\r\n") == b"event: ping\r\ndata: {}\r\n\r\n"
