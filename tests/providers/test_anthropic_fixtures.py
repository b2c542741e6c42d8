"""Anthropic translation on payloads shaped like the documentation's examples (tests/fixtures/anthropic/,
sources in its README), streams fed in every chunking from one byte up, and the parameter table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from switchyard.canonical import REQUEST_FIELDS, decode_request
from switchyard.errors import InvalidRequest
from switchyard.providers import params
from switchyard.providers.anthropic import Anthropic, request, response
from switchyard.providers.usage import anthropic_usage, merge_anthropic

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "anthropic"


def translate_stream(
    raw: bytes, size: int, emit_usage: bool = True
) -> tuple[list[dict[str, Any]], response.StreamTranslator]:
    tap = response.StreamTranslator(emit_usage=emit_usage)
    out = b"".join(tap.feed(raw[i : i + size]) for i in range(0, len(raw), size)) + tap.finish()
    events = [e.removeprefix(b"data: ") for e in out.split(b"\n\n") if e]
    assert events[-1] == b"[DONE]"
    return [orjson.loads(e) for e in events[:-1]], tap


def test_whole_tool_use_answer_with_cache_usage() -> None:
    body, usage = response.whole((FIXTURES / "message_tool_use.json").read_bytes())
    answer = orjson.loads(body)
    msg = answer["choices"][0]["message"]
    assert msg["content"] == "I'll check the current weather in San Francisco for you."
    assert msg["tool_calls"] == [
        {
            "id": "toolu_01A09q90qw90lq917835lq9",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"location":"San Francisco, CA","unit":"celsius"}'},
        }
    ]
    assert answer["choices"][0]["finish_reason"] == "tool_calls"
    assert answer["usage"] == {
        "prompt_tokens": 50 + 248 + 1800,  # Anthropic's cache tokens are beside input_tokens
        "completion_tokens": 503,
        "total_tokens": 50 + 248 + 1800 + 503,
        "prompt_tokens_details": {"cached_tokens": 1800, "cache_write_tokens": 248},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    assert usage is not None
    assert (usage.input_tokens, usage.cache_read_tokens, usage.cache_write_5m_tokens, usage.cache_write_1h_tokens) == (
        50,
        1800,
        200,
        48,
    )
    assert answer["service_tier"] == "standard"


@pytest.mark.parametrize("size", [1, 2, 7, 64, 100_000])
def test_stream_tool_use_in_any_chunking(size: int) -> None:
    chunks, tap = translate_stream((FIXTURES / "stream_tool_use.sse").read_bytes(), size)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert "".join(d.get("content") or "" for d in deltas) == "Okay, let's check the weather for San Francisco, CA:"
    calls = [tc for d in deltas for tc in d.get("tool_calls", [])]
    assert calls[0] == {
        "index": 0,
        "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert all(set(tc) == {"index", "function"} for tc in calls[1:]), "id/type/name only in the first delta"
    args = "".join(tc["function"]["arguments"] for tc in calls)
    assert json.loads(args) == {"location": "San Francisco, CA", "unit": "fahrenheit"}
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 89
    assert tap.usage is not None and (tap.usage.input_tokens, tap.usage.output_tokens) == (472, 89)
    assert tap.done and tap.error is None
    assert {c["id"] for c in chunks} == {"msg_014p7gG3wDgGV9EUtLvnow3U"}


def test_stream_thinking_with_signature() -> None:
    chunks, _ = translate_stream((FIXTURES / "stream_thinking.sse").read_bytes(), 5, emit_usage=False)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    thought = "".join(d.get("reasoning_content", "") for d in deltas)
    assert thought == "Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3"
    (block,) = [b for d in deltas for b in d.get("thinking_blocks", [])]
    assert block == {
        "type": "thinking",
        "thinking": thought,
        "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...",
    }
    assert "".join(d.get("content") or "" for d in deltas) == "27 * 453 = 12,231"
    assert all(c["choices"] for c in chunks), "no usage chunk unless asked"


def test_error_event_becomes_an_openai_error_event() -> None:
    raw = b"event: error\ndata: " + (FIXTURES / "error_overloaded.json").read_bytes().strip() + b"\n\n"
    tap = response.StreamTranslator(emit_usage=False)
    out = tap.feed(raw)
    assert orjson.loads(out.removeprefix(b"data: "))["error"]["message"] == "Overloaded"
    assert tap.error is not None and not tap.done


def test_usage_trap_message_delta_wins_over_message_start() -> None:
    start = {"input_tokens": 472, "cache_read_input_tokens": 10, "output_tokens": 2}
    merged = merge_anthropic(merge_anthropic(None, start), {"output_tokens": 89})
    u = anthropic_usage(merged)
    assert u is not None and (u.input_tokens, u.cache_read_tokens, u.output_tokens) == (472, 10, 89)


def test_error_mapping_keeps_the_message() -> None:
    a = Anthropic.__new__(Anthropic)
    err = a.error(529, (FIXTURES / "error_overloaded.json").read_bytes(), None, "a/m")
    assert (err.status, err.code) == (502, "upstream_overloaded") and "Overloaded" in err.message
    too_long = b'{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}'
    err = a.error(400, too_long, None, "a/m")
    assert (err.status, err.code) == (400, "context_length_exceeded") and "210000" in err.message
    err = a.error(429, b'{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}', "30", "a/m")
    assert (err.status, err.headers) == (429, [("retry-after", "30")])


def test_every_table_key_is_a_canonical_field() -> None:
    assert set(request.PARAMS) <= REQUEST_FIELDS


def test_system_messages_are_lifted_wherever_they_stand() -> None:
    req = decode_request(
        orjson.dumps(
            {
                "model": "m",
                "messages": [
                    {
                        "role": "system",
                        "content": [{"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}}],
                    },
                    {"role": "user", "content": "hi"},
                    {"role": "developer", "content": "B"},
                ],
            }
        )
    )
    out = params.apply(req, request.PARAMS, "d")
    assert out["system"] == [
        {"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "B"},
    ]
    assert out["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


def test_unknown_fields_and_bad_values_are_400s_naming_them() -> None:
    with pytest.raises(InvalidRequest) as info:
        decode_request(b'{"model":"m","messages":[],"bogus":1}')
    assert "bogus" in info.value.message
    req = decode_request(b'{"model":"m","messages":[],"reasoning_effort":"extreme"}')
    with pytest.raises(InvalidRequest) as info:
        params.apply(req, request.PARAMS, "d")
    assert info.value.param == "reasoning_effort"
    req = decode_request(b'{"model":"m","messages":[],"reasoning_effort":"low"}')
    assert params.apply(req, request.PARAMS, "d")["thinking"] == {"type": "enabled", "budget_tokens": 2048}
