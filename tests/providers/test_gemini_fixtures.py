"""Gemini translation on payloads shaped like the documentation's examples (tests/fixtures/gemini/, sources
in its README), the JSON-schema subset, and the parameter table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from switchyard.canonical import REQUEST_FIELDS
from switchyard.errors import InvalidRequest
from switchyard.providers.gemini import Gemini, request, response
from switchyard.providers.gemini.schema import to_gemini

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gemini"


def test_parallel_function_calls_whole() -> None:
    body, usage = response.whole((FIXTURES / "function_call.json").read_bytes())
    answer = orjson.loads(body)
    msg = answer["choices"][0]["message"]
    assert msg["content"] == "Turning on the lights and the music."
    assert [(c["id"], c["function"]["name"], orjson.loads(c["function"]["arguments"])) for c in msg["tool_calls"]] == [
        ("call_0", "power_disco_ball", {"power": True}),
        ("call_1", "start_music", {"energetic": True, "loud": True}),
    ]
    assert answer["choices"][0]["finish_reason"] == "tool_calls"
    assert (answer["id"], answer["model"]) == ("mAitaLmkHPPlz7IPvtfUqQ4", "gemini-2.5-flash")
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (174, 32)


def test_thoughts_and_usage_classes() -> None:
    body, usage = response.whole((FIXTURES / "thinking_usage.json").read_bytes())
    msg = orjson.loads(body)["choices"][0]["message"]
    assert msg["content"] == "The smallest prime number greater than 100 is 101."
    assert msg["reasoning_content"].startswith("**Analyzing the prime question**")
    assert usage is not None
    # cached tokens are inside promptTokenCount; thoughts are outside candidatesTokenCount
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens, usage.reasoning_tokens) == (
        16,
        2048,
        12,
        458,
    )
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (2064, 470, 2534)


def test_a_blocked_prompt_is_content_filter() -> None:
    body, _ = response.whole((FIXTURES / "prompt_blocked.json").read_bytes())
    choice = orjson.loads(body)["choices"][0]
    assert (choice["finish_reason"], choice["message"]["content"]) == ("content_filter", None)


@pytest.mark.parametrize("size", [1, 3, 50, 100_000])
def test_stream_in_any_chunking(size: int) -> None:
    raw = (FIXTURES / "stream.sse").read_bytes()
    tap = response.StreamTranslator(emit_usage=True)
    out = b"".join(tap.feed(raw[i : i + size]) for i in range(0, len(raw), size))
    assert not tap.done
    out += tap.finish()
    assert tap.done
    events = [e.removeprefix(b"data: ") for e in out.split(b"\n\n") if e]
    assert events[-1] == b"[DONE]"
    chunks = [orjson.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "The sky is blue because of Rayleigh scattering."
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 11 + 15
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] == 15


def test_a_stream_without_finish_reason_is_not_done() -> None:
    raw = (FIXTURES / "stream.sse").read_bytes()
    tap = response.StreamTranslator(emit_usage=False)
    tap.feed(raw[: raw.index(b"\r\n\r\n") + 4])
    assert tap.finish() == b"" and not tap.done


def test_error_envelope() -> None:
    g = Gemini.__new__(Gemini)
    err = g.error(429, (FIXTURES / "error_429.json").read_bytes(), "12", "g/m")
    assert (err.status, err.code, err.headers) == (429, "RESOURCE_EXHAUSTED", [("retry-after", "12")])
    assert "exceeded your current quota" in err.message
    big = b'{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}'
    assert g.error(400, big, None, "g/m").code == "context_length_exceeded"


def test_schema_subset() -> None:
    schema: Any = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "when": {"$ref": "#/$defs/day"},
            "tags": {"type": "array", "items": {"type": ["string", "null"]}},
        },
        "$defs": {"day": {"type": "string", "enum": ["mon", "tue"]}},
        "additionalProperties": False,
    }
    assert to_gemini(schema, "p") == {
        "type": "object",
        "properties": {
            "when": {"type": "string", "enum": ["mon", "tue"]},
            "tags": {"type": "array", "items": {"type": "string", "nullable": True}},
        },
    }
    with pytest.raises(InvalidRequest) as info:
        to_gemini({"type": "object", "patternProperties": {}}, "tools[0].function.parameters")
    assert "patternProperties" in info.value.message
    with pytest.raises(InvalidRequest):
        to_gemini({"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}}, "p")


def test_every_table_key_is_a_canonical_field() -> None:
    assert set(request.PARAMS) <= REQUEST_FIELDS
