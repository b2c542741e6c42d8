"""The Gemini adapter end to end: the openai SDK -> the gateway -> the mock speaking generateContent.

Each test checks what the caller received and what the upstream was sent (the mock records requests).
Shapes: https://ai.google.dev/api/generate-content, https://ai.google.dev/gemini-api/docs/function-calling.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from conftest import CLIENT_KEY, UPSTREAM_KEY, Gateway
from mock_server import MockProvider

MESSAGES: Any = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]
PARAMS: Any = {
    "type": "object",
    "properties": {"city": {"type": ["string", "null"]}, "unit": {"const": "C"}},
    "required": ["city"],
    "additionalProperties": False,
}
TOOLS: Any = [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": PARAMS}}]
GEMINI_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string", "nullable": True}, "unit": {"enum": ["C"]}},
    "required": ["city"],
}
TEXT = "word0 word1 word2 word3 word4 word5 word6 word7"


def client(gw: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0, timeout=20)


def sent(mock: MockProvider) -> tuple[dict[str, Any], dict[str, Any]]:
    rec = mock.requests()[-1]
    return rec, json.loads(rec["body"])


def test_text_whole(native_gateway: Gateway, mock: MockProvider) -> None:
    answer = client(native_gateway).chat.completions.create(
        model="gemini", messages=MESSAGES, temperature=1.5, top_p=0.9, max_tokens=50, stop=["END"], seed=3
    )
    assert answer.choices[0].message.content == TEXT
    assert answer.choices[0].finish_reason == "stop"
    assert answer.model == "up-gemini"
    rec, body = sent(mock)
    assert (rec["path"], rec["query"]) == ("/v1beta/models/up-gemini:generateContent", None)
    assert rec["headers"]["x-goog-api-key"] == UPSTREAM_KEY and "authorization" not in rec["headers"]
    assert body == {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "Say hello"}]}],
        "generationConfig": {
            "maxOutputTokens": 50,
            "temperature": 1.5,
            "topP": 0.9,
            "stopSequences": ["END"],
            "seed": 3,
        },
    }
    assert answer.usage is not None and answer.usage.completion_tokens == 8


def test_text_stream_with_usage(native_gateway: Gateway, mock: MockProvider) -> None:
    chunks = list(
        client(native_gateway).chat.completions.create(
            model="gemini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 8
    rec, _ = sent(mock)
    assert (rec["path"], rec["query"]) == ("/v1beta/models/up-gemini:streamGenerateContent", "alt=sse")
    plain = list(client(native_gateway).chat.completions.create(model="gemini", messages=MESSAGES, stream=True))
    assert all(c.choices for c in plain)
    assert native_gateway.admin_requests()["recent"][-1]["usage"]["output_tokens"] == 8


@pytest.mark.parametrize("stream", [False, True])
def test_parallel_function_calls(native_gateway: Gateway, mock: MockProvider, stream: bool) -> None:
    c = client(native_gateway)
    if stream:
        chunks = list(c.chat.completions.create(model="gemini-tools2", messages=MESSAGES, tools=TOOLS, stream=True))
        deltas = [tc for ch in chunks if ch.choices for tc in ch.choices[0].delta.tool_calls or []]
        calls = [
            (d.index, d.id, d.function.name if d.function else None, d.function.arguments if d.function else None)
            for d in deltas
        ]
        finish = [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1]
    else:
        answer = c.chat.completions.create(model="gemini-tools2", messages=MESSAGES, tools=TOOLS, tool_choice="auto")
        calls = [
            (i, t.id, t.function.name, t.function.arguments)
            for i, t in enumerate(answer.choices[0].message.tool_calls or [])
        ]
        finish = answer.choices[0].finish_reason
    assert [(i, cid, name, json.loads(args or "")) for i, cid, name, args in calls] == [
        (0, "call_0", "get_weather", {"city": "Paris", "n": 0}),
        (1, "call_1", "get_weather", {"city": "Paris", "n": 1}),
    ]
    assert finish == "tool_calls"
    body = sent(mock)[1]
    assert body["tools"] == [
        {"functionDeclarations": [{"name": "get_weather", "description": "Weather", "parameters": GEMINI_PARAMS}]}
    ]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ),
    ],
)
def test_tool_choice_mapping(native_gateway: Gateway, mock: MockProvider, choice: Any, expected: Any) -> None:
    client(native_gateway).chat.completions.create(model="gemini", messages=MESSAGES, tools=TOOLS, tool_choice=choice)
    assert sent(mock)[1]["toolConfig"] == {"functionCallingConfig": expected}


def test_tool_result_round_trip(native_gateway: Gateway, mock: MockProvider) -> None:
    history: Any = [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {"id": "call_1", "type": "function", "function": {"name": "get_time", "arguments": '{"city":"Rome"}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_0", "content": "18C"},
        {"role": "tool", "tool_call_id": "call_1", "content": "12:00"},
    ]
    answer = client(native_gateway).chat.completions.create(model="gemini", messages=history, tools=TOOLS)
    assert answer.choices[0].message.content == TEXT
    assert sent(mock)[1]["contents"] == [
        {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"name": "get_time", "args": {"city": "Rome"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"content": "18C"}}},
                {"functionResponse": {"name": "get_time", "response": {"content": "12:00"}}},
            ],
        },
    ]


def test_inline_image_and_remote_url_refused(native_gateway: Gateway, mock: MockProvider) -> None:
    content: Any = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
    ]
    client(native_gateway).chat.completions.create(model="gemini", messages=[{"role": "user", "content": content}])
    assert sent(mock)[1]["contents"][0]["parts"] == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
    ]
    remote: Any = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]
    with pytest.raises(openai.BadRequestError) as info:
        client(native_gateway).chat.completions.create(model="gemini", messages=[{"role": "user", "content": remote}])
    assert info.value.param == "messages[0].content[0]"


def test_json_schema_output(native_gateway: Gateway, mock: MockProvider) -> None:
    fmt: Any = {"type": "json_schema", "json_schema": {"name": "place", "schema": PARAMS}}
    client(native_gateway).chat.completions.create(model="gemini", messages=MESSAGES, response_format=fmt)
    cfg = sent(mock)[1]["generationConfig"]
    assert cfg == {"responseMimeType": "application/json", "responseSchema": GEMINI_PARAMS}


def test_safety_block_is_content_filter(native_gateway: Gateway) -> None:
    answer = client(native_gateway).chat.completions.create(model="gemini-safety", messages=MESSAGES)
    assert answer.choices[0].finish_reason == "content_filter"
    assert answer.choices[0].message.content is None


def test_thoughts_and_cache_usage(native_gateway: Gateway, mock: MockProvider) -> None:
    c = client(native_gateway)
    answer = c.chat.completions.create(model="gemini-think", messages=MESSAGES, reasoning_effort="low")
    extra = answer.choices[0].message.model_extra or {}
    assert extra["reasoning_content"] == "Let me think this through."
    assert extra["thinking_blocks"][0]["signature"] == "sig-mock-EqQBCgIYAhIM"
    assert sent(mock)[1]["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 1024, "includeThoughts": True}
    answer = c.chat.completions.create(model="gemini-cache", messages=MESSAGES)
    u = answer.usage
    assert u is not None and u.prompt_tokens_details is not None and u.completion_tokens_details is not None
    assert u.prompt_tokens_details.cached_tokens == 5
    assert u.completion_tokens_details.reasoning_tokens == 4
    assert u.completion_tokens == 8 + 4, "thoughtsTokenCount is outside candidatesTokenCount"
    rec = native_gateway.admin_requests()["recent"][-1]["usage"]
    assert (rec["cache_read_tokens"], rec["output_tokens"], rec["reasoning_tokens"]) == (5, 8, 4)
    assert rec["input_tokens"] == u.prompt_tokens - 5


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("gemini-429", 429, "RESOURCE_EXHAUSTED"),
        ("gemini-503", 502, "upstream_overloaded"),
        ("gemini-500", 502, "upstream_error"),
        ("gemini-401", 502, "upstream_auth_error"),
        ("gemini-400", 400, "INVALID_ARGUMENT"),
    ],
)
def test_errors_are_mapped_with_the_upstream_message(
    native_gateway: Gateway, model: str, status: int, code: str
) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client(native_gateway).chat.completions.create(model=model, messages=MESSAGES)
    assert (info.value.status_code, info.value.code) == (status, code)
    assert "mock error" in info.value.message


@pytest.mark.parametrize(("model", "message"), [("gemini-cut", "connection failed"), ("gemini-errevent", "overloaded")])
def test_a_stream_failing_midway_ends_with_an_error_event(native_gateway: Gateway, model: str, message: str) -> None:
    got: list[str] = []
    with pytest.raises(openai.APIError) as info:
        for c in client(native_gateway).chat.completions.create(model=model, messages=MESSAGES, stream=True):
            got.append(c.choices[0].delta.content or "" if c.choices else "")
    assert "".join(got) == "word0 word1"
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"parallel_tool_calls": False, "tools": TOOLS}, "parallel_tool_calls"),
        ({"user": "u"}, "user"),
        ({"logprobs": True}, "logprobs"),
    ],
)
def test_a_parameter_gemini_cannot_take_is_a_400_naming_it(native_gateway: Gateway, extra: Any, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client(native_gateway).chat.completions.create(model="gemini", messages=MESSAGES, **extra)
    assert info.value.param == param
