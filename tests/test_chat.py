"""Chat completions end to end: the official openai SDK -> a real gateway process -> the mock provider."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from conftest import CLIENT_KEY, UPSTREAM_KEY, Gateway
from mock_server import MockProvider
from openapi_schema import validate

MESSAGES: Any = [{"role": "user", "content": "Say hello"}]


def client(gw: Gateway, key: str = CLIENT_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key=key, max_retries=0, timeout=20)


def last_upstream_body(mock: MockProvider) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(mock.requests()[-1]["body"])
    return body


def test_demo_model_on_the_embedded_default(start_gateway: Any) -> None:
    gw = start_gateway(None, env={"OPENAI_API_KEY": "", "DEEPSEEK_API_KEY": ""})
    c = openai.OpenAI(base_url=gw.base_url, api_key="anything", max_retries=0)
    answer = c.chat.completions.create(model="demo", messages=MESSAGES)
    assert "demo model" in (answer.choices[0].message.content or "")
    assert answer.usage is not None and answer.usage.completion_tokens > 0
    validate("CreateChatCompletionResponse", answer.model_dump(mode="json", exclude_unset=True))
    chunks = list(c.chat.completions.create(model="demo", messages=MESSAGES, stream=True))
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == answer.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(ch.choices for ch in chunks), "the usage chunk the gateway asked for must be stripped"
    for ch in chunks:
        validate("CreateChatCompletionStreamResponse", ch.model_dump(mode="json", exclude_unset=True))
    models = c.models.list()
    assert [m.id for m in models.data] == ["demo"]


def test_non_streamed_completion_is_relayed_with_usage(gateway: Gateway, mock: MockProvider) -> None:
    mock.clear()
    raw = client(gateway).chat.completions.with_raw_response.create(model="gpt-mock", messages=MESSAGES)
    answer = raw.parse()
    assert raw.headers["x-request-id"]
    assert answer.object == "chat.completion"
    assert answer.model == "upstream-model"
    assert answer.usage is not None and answer.usage.total_tokens > 0
    validate("CreateChatCompletionResponse", raw.http_response.json())
    sent = mock.requests()[-1]
    assert sent["headers"]["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert json.loads(sent["body"])["model"] == "upstream-model"
    record = next(r for r in gateway.admin_requests()["recent"] if r["request_id"] == raw.headers["x-request-id"])
    assert record["status"] == 200 and record["deployment"] == "mock/upstream-model"
    assert record["usage"]["prompt_tokens"] == answer.usage.prompt_tokens


def test_pass_through_keeps_every_byte_but_the_model(gateway: Gateway, mock: MockProvider) -> None:
    mock.clear()
    body = (
        b'{ "messages" : [ {"role":"user","content":"caf\\u00e9 \\"q\\""} ],\n'
        b'  "model" :  "gpt-mock", "brand_new_param": {"x": [1, 2.50, null]}, "temperature": 0.70 }'
    )
    r = httpx.post(
        gateway.base_url + "/chat/completions",
        content=body,
        headers={"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert mock.requests()[-1]["body"].encode() == body.replace(b'"gpt-mock"', b'"upstream-model"')


def test_stream_usage_is_captured_and_the_extra_chunk_stripped(gateway: Gateway, mock: MockProvider) -> None:
    mock.clear()
    raw = client(gateway).chat.completions.with_raw_response.create(model="gpt-mock", messages=MESSAGES, stream=True)
    chunks = list(raw.parse())
    assert last_upstream_body(mock)["stream_options"] == {"include_usage": True}
    assert chunks and all(ch.choices for ch in chunks)
    assert all(ch.usage is None for ch in chunks)
    record = next(r for r in gateway.admin_requests()["recent"] if r["request_id"] == raw.headers["x-request-id"])
    assert record["stream"] is True and record["error"] is None
    assert record["usage"]["completion_tokens"] > 0


def test_stream_usage_reaches_a_caller_who_asked(gateway: Gateway, mock: MockProvider) -> None:
    chunks = list(
        client(gateway).chat.completions.create(
            model="gpt-mock", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == sum(1 for ch in chunks if ch.choices and ch.choices[0].delta.content)
    for ch in chunks:
        validate("CreateChatCompletionStreamResponse", ch.model_dump(mode="json", exclude_unset=True))


def test_wildcard_model_forwards_the_suffix(gateway: Gateway, mock: MockProvider) -> None:
    mock.clear()
    client(gateway).chat.completions.create(model="mock/some-new-model", messages=MESSAGES)
    assert last_upstream_body(mock)["model"] == "some-new-model"


def test_failover_to_the_next_deployment_before_the_first_byte(gateway: Gateway, mock: MockProvider) -> None:
    mock.clear()
    answer = client(gateway).chat.completions.create(model="flaky", messages=MESSAGES)
    assert answer.model == "good-upstream"
    assert [json.loads(r["body"])["model"] for r in mock.requests()] == ["bad-upstream", "good-upstream"]


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("failing", 502, "upstream_error"),
        ("limited", 429, None),
        ("unreachable", 502, "upstream_connect_error"),
    ],
)
def test_upstream_failures_map_to_gateway_errors(gateway: Gateway, model: str, status: int, code: str | None) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client(gateway).chat.completions.create(model=model, messages=MESSAGES)
    err = info.value
    assert err.status_code == status
    assert err.response.headers["x-request-id"]
    validate("ErrorResponse", err.response.json())
    if code is not None:
        assert err.response.json()["error"]["code"] == code
    if status == 429:
        assert err.response.headers["retry-after"] == "7"
    assert UPSTREAM_KEY not in err.response.text


def test_slow_first_byte_is_a_504(gateway: Gateway) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client(gateway).chat.completions.create(
            model="gpt-mock", messages=MESSAGES, extra_body={"mock": {"latency_ms": 4000}}
        )
    assert info.value.status_code == 504
    assert info.value.response.json()["error"]["code"] == "upstream_timeout"


def test_upstream_error_event_mid_stream_reaches_the_caller(gateway: Gateway) -> None:
    # Paced, so the error event comes after the caller's response started: the upstream client hands over
    # what arrived together in one chunk, and an error in the first chunk is a failed attempt (see
    # test_error_event_that_arrives_with_the_first_events_is_a_failed_attempt).
    got: list[str] = []
    with pytest.raises(openai.APIError) as info:
        for chunk in client(gateway).chat.completions.create(
            model="gpt-mock",
            messages=MESSAGES,
            stream=True,
            extra_body={"mock": {"error_event_after": 2, "interval_ms": 100}},
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                got.append(chunk.choices[0].delta.content)
    assert len(got) == 2
    assert "mock stream error" in str(info.value)


def test_error_event_that_arrives_with_the_first_events_is_a_failed_attempt(gateway: Gateway) -> None:
    # Unpaced, the mock's whole stream usually lands in one socket read and so in the first chunk the relay
    # sees: nothing has reached the caller, so the error is an error status (and eligible for failover). When
    # the first events come apart from the error, the stream starts and the error is its last event. Either
    # way the caller learns of the error and never sees a clean end.
    got: list[str] = []
    with pytest.raises(openai.APIError) as info:
        for chunk in client(gateway).chat.completions.create(
            model="gpt-mock", messages=MESSAGES, stream=True, extra_body={"mock": {"error_event_after": 2}}
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                got.append(chunk.choices[0].delta.content)
    assert "mock stream error" in str(info.value)
    if isinstance(info.value, openai.APIStatusError):
        assert info.value.status_code == 502
        assert got == []
    else:
        assert len(got) <= 2
