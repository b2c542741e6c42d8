"""The mock provider's Anthropic, Gemini and Azure dialects against its real binary: shapes, faults, knobs."""

from __future__ import annotations

import http.client
import json
import pathlib
import sys
from collections.abc import Iterator
from typing import Any

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from mock_server import MockProvider, knob_prefix

MSG: Any = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
GEM: Any = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProvider]:
    with MockProvider("--chunks", "3") as m:
        yield m


def post(mock: MockProvider, path: str, body: Any) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
    conn.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    return resp.status, resp.read()


def events(raw: bytes) -> list[tuple[str | None, Any]]:
    out = []
    for block in raw.replace(b"\r\n", b"\n").split(b"\n\n"):
        if not block.strip():
            continue
        name = None
        data = None
        for line in block.decode().split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        out.append((name, data))
    return out


def test_anthropic_whole_and_usage(mock: MockProvider) -> None:
    status, body = post(mock, knob_prefix(cache_read=2, cache_write=3, cache_write_1h=1) + "/v1/messages", MSG)
    msg = json.loads(body)
    assert status == 200 and msg["type"] == "message" and msg["model"] == "claude-x"
    assert msg["content"] == [{"type": "text", "text": "word0 word1 word2"}] and msg["stop_reason"] == "end_turn"
    u = msg["usage"]
    assert (u["cache_read_input_tokens"], u["cache_creation_input_tokens"], u["output_tokens"]) == (2, 4, 3)
    assert u["cache_creation"] == {"ephemeral_5m_input_tokens": 3, "ephemeral_1h_input_tokens": 1}


def test_anthropic_requires_max_tokens_and_speaks_its_error_envelope(mock: MockProvider) -> None:
    status, body = post(mock, "/v1/messages", {"model": "m", "messages": []})
    assert status == 400 and json.loads(body)["error"]["type"] == "invalid_request_error"
    status, body = post(mock, knob_prefix(status=529) + "/v1/messages", MSG)
    assert (status, json.loads(body)) == (
        529,
        {"type": "error", "error": {"type": "overloaded_error", "message": "mock error"}},
    )


def test_anthropic_stream_event_sequence(mock: MockProvider) -> None:
    _, raw = post(
        mock, "/v1/messages", {**MSG, "stream": True, "tools": [{"name": "f"}], "tool_choice": {"type": "any"}}
    )
    names = [n for n, _ in events(raw)]
    assert names == [
        "message_start",
        "ping",
        "content_block_start",
        *["content_block_delta"] * 3,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    evs = events(raw)
    assert evs[0][1]["message"]["usage"]["output_tokens"] == 1  # preliminary; the final count is in message_delta
    assert evs[-2][1]["usage"]["output_tokens"] == 3 and evs[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_anthropic_error_event_and_count_tokens(mock: MockProvider) -> None:
    _, raw = post(mock, knob_prefix(error_event_after=1) + "/v1/messages", {**MSG, "stream": True})
    assert events(raw)[-1] == (
        "error",
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    status, body = post(mock, "/v1/messages/count_tokens", {"model": "m", "messages": []})
    assert status == 200 and json.loads(body)["input_tokens"] > 0


def test_gemini_whole_stream_and_error(mock: MockProvider) -> None:
    status, body = post(mock, knob_prefix(reasoning=5) + "/v1beta/models/gem-x:generateContent", GEM)
    answer = json.loads(body)
    assert status == 200 and answer["candidates"][0]["content"]["parts"] == [{"text": "word0 word1 word2"}]
    assert answer["usageMetadata"]["thoughtsTokenCount"] == 5 and answer["modelVersion"] == "gem-x"
    _, raw = post(mock, "/v1beta/models/gem-x:streamGenerateContent?alt=sse", GEM)
    chunks = [d for _, d in events(raw)]
    assert len(chunks) == 3 and chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    status, body = post(mock, knob_prefix(status=429) + "/v1beta/models/gem-x:generateContent", GEM)
    assert (status, json.loads(body)["error"]["status"]) == (429, "RESOURCE_EXHAUSTED")


def test_azure_deployment_path(mock: MockProvider) -> None:
    status, body = post(
        mock, "/openai/deployments/dep-1/chat/completions?api-version=2024-10-21", {"model": "x", "messages": []}
    )
    assert status == 200 and json.loads(body)["object"] == "chat.completion"
    assert mock.requests()[-1]["query"] == "api-version=2024-10-21"
