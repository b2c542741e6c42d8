"""The inbound Responses dialect as pure translation (no servers): request mapping and refusals, whole
answers, the chunk → event stream translator, and the native pass-through tap. Every `response` object
and every streamed event produced is validated against OpenAI's published schemas."""

from __future__ import annotations

import functools
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_schema import load_spec, validate
from switchyard._core import SseParser
from switchyard.canonical import Usage
from switchyard.dialects.responses import native, request, response
from switchyard.errors import InvalidRequest, UpstreamError, UpstreamTimeout

USAGE = Usage.of(input=80, cache_read=20, output=30, reasoning=12)
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def translate(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    out, echo = request.to_openai(orjson.dumps(body))
    return orjson.loads(out), echo


def refused(body: dict[str, Any]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as e:
        request.to_openai(orjson.dumps({"model": "m", "input": "hi", **body}))
    return e.value


@functools.cache
def event_schemas() -> dict[str, str]:
    """Streamed event `type` → its schema's name, from `ResponseStreamEvent`."""
    schemas = load_spec()["components"]["schemas"]
    out = {}
    for ref in schemas["ResponseStreamEvent"]["anyOf"]:
        name = ref["$ref"].rsplit("/", 1)[1]
        out[schemas[name]["properties"]["type"]["enum"][0]] = name
    return out


# -- request ---------------------------------------------------------------------------------------------


def test_string_input_instructions_and_kept_fields() -> None:
    req, echo = translate(
        {
            "model": "gpt-x",
            "instructions": "Be brief.",
            "input": "Hello",
            "temperature": 0.2,
            "top_p": 0.9,
            "max_output_tokens": 256,
            "parallel_tool_calls": False,
            "metadata": {"k": "v"},
            "service_tier": "flex",
            "user": "u1",
            "safety_identifier": "s1",
            "prompt_cache_key": "p1",
            "store": True,
            "stream": True,
            "stream_options": {"include_obfuscation": False},
            "include": ["reasoning.encrypted_content"],
            "truncation": "disabled",
            "previous_response_id": None,  # null counts as absent
        }
    )
    assert req == {
        "model": "gpt-x",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
        "temperature": 0.2,
        "top_p": 0.9,
        "parallel_tool_calls": False,
        "metadata": {"k": "v"},
        "service_tier": "flex",
        "user": "u1",
        "safety_identifier": "s1",
        "max_completion_tokens": 256,
        "prompt_cache_key": "p1",
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert echo["store"] is False, "nothing is kept, whatever the caller asked"
    assert (echo["instructions"], echo["max_output_tokens"], echo["user"], echo["service_tier"]) == (
        "Be brief.",
        256,
        "u1",
        "flex",
    )
    assert (echo["tools"], echo["tool_choice"], echo["text"], echo["reasoning"]) == (
        [],
        "auto",
        {"format": {"type": "text"}},
        None,
    )


def test_message_items_roles_and_parts() -> None:
    req, _ = translate(
        {
            "model": "m",
            "input": [
                {"role": "developer", "content": "Answer in French."},
                {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "Sys."}]},
                {
                    "type": "message",
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "What is this?"},
                        {"type": "input_image", "image_url": "https://x/cat.png", "detail": "low"},
                        {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "original"},
                    ],
                },
                {
                    "type": "message",
                    "id": "msg_1",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "Un chat.", "annotations": []}],
                },
                {
                    "type": "reasoning",
                    "id": "rs_1",
                    "summary": [{"type": "summary_text", "text": "hm"}],
                    "encrypted_content": "x",
                },
                {"role": "user", "content": "Merci"},
            ],
        }
    )
    assert req["messages"] == [
        {"role": "system", "content": "Answer in French."},
        {"role": "system", "content": "Sys."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://x/cat.png", "detail": "low"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {"role": "assistant", "content": "Un chat."},  # the reasoning item after it is dropped
        {"role": "user", "content": "Merci"},
    ]


def test_function_tool_round_trip() -> None:
    """Turn 1 declares the tool; turn 2 sends back the model's text and calls (as whole() produced them)
    and their outputs: one assistant message with both calls, then one tool message per output."""
    tools = [
        {"type": "function", "name": "get_weather", "description": "Weather", "parameters": WEATHER, "strict": True}
    ]
    first, echo = translate(
        {"model": "m", "input": "Weather in Paris and Rome?", "tools": tools, "tool_choice": "required"}
    )
    assert first["tools"] == [
        {
            "type": "function",
            "function": {"name": "get_weather", "parameters": WEATHER, "description": "Weather", "strict": True},
        }
    ]
    assert first["tool_choice"] == "required" and echo["tools"] == tools
    completion = chat_completion(
        content="Checking.",
        tool_calls=[("call_a", "get_weather", '{"city":"Paris"}'), ("call_b", "get_weather", '{"city":"Rome"}')],
        finish="tool_calls",
    )
    answered = orjson.loads(response.whole(completion, USAGE, echo))
    second, _ = translate(
        {
            "model": "m",
            "tools": tools,
            "input": [
                {"role": "user", "content": "Weather in Paris and Rome?"},
                *answered["output"],
                {"type": "function_call_output", "call_id": "call_a", "output": "18C"},
                {
                    "type": "function_call_output",
                    "call_id": "call_b",
                    "output": [{"type": "input_text", "text": "21C"}],
                },
            ],
        }
    )
    assert second["messages"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": "18C"},
        {"role": "tool", "tool_call_id": "call_b", "content": "21C"},
    ]


def test_function_calls_without_text_make_one_assistant_message() -> None:
    calls = [{"type": "function_call", "call_id": f"c{i}", "name": "f", "arguments": "{}"} for i in range(3)]
    req, _ = translate({"model": "m", "input": [{"role": "user", "content": "go"}, *calls]})
    assert [m["role"] for m in req["messages"]] == ["user", "assistant"]
    assert req["messages"][1]["content"] is None and [c["id"] for c in req["messages"][1]["tool_calls"]] == [
        "c0",
        "c1",
        "c2",
    ]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ({"type": "function", "name": "f"}, {"type": "function", "function": {"name": "f"}}),
    ],
)
def test_tool_choice_forms(choice: Any, expected: Any) -> None:
    req, echo = translate({"model": "m", "input": "x", "tool_choice": choice})
    assert req["tool_choice"] == expected and echo["tool_choice"] == choice


def test_text_format() -> None:
    fmt = {"type": "json_schema", "name": "weather", "schema": WEATHER, "strict": True}
    req, echo = translate({"model": "m", "input": "x", "text": {"format": fmt, "verbosity": "low"}})
    assert req["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "weather", "schema": WEATHER, "strict": True},
    }
    assert req["verbosity"] == "low" and echo["text"] == {"format": fmt, "verbosity": "low"}
    req, _ = translate({"model": "m", "input": "x", "text": {"format": {"type": "json_object"}}})
    assert req["response_format"] == {"type": "json_object"}
    req, _ = translate({"model": "m", "input": "x", "text": {"format": {"type": "text"}}})
    assert "response_format" not in req


@pytest.mark.parametrize("effort", ["minimal", "low", "medium", "high"])
def test_reasoning_effort_passes_unchanged(effort: str) -> None:
    req, echo = translate({"model": "m", "input": "x", "reasoning": {"effort": effort, "summary": "auto"}})
    assert req["reasoning_effort"] == effort and echo["reasoning"] == {"effort": effort, "summary": "auto"}


@pytest.mark.parametrize(
    ("body", "param", "code", "says"),
    [
        (
            {"previous_response_id": "resp_1"},
            "previous_response_id",
            "unsupported_parameter",
            "no server-side response state",
        ),
        ({"conversation": "conv_1"}, "conversation", "unsupported_parameter", "store: false"),
        ({"prompt": {"id": "pmpt_1"}}, "prompt", "unsupported_parameter", "whole conversation"),
        ({"background": True}, "background", "unsupported_parameter", "OpenAI deployment"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]", "unsupported_parameter", "no server-side"),
        ({"tools": [{"type": "web_search"}]}, "tools[0]", None, "'web_search' tools"),
        ({"tools": [{"type": "mcp", "server_label": "x"}]}, "tools[0]", None, "Responses API"),
        ({"tool_choice": {"type": "file_search"}}, "tool_choice", None, "file_search"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}]},
            "input[0].content[0].file_id",
            None,
            "file_id",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"}]}]},
            "input[0].content[0].type",
            None,
            "input_file",
        ),
        ({"input": [{"type": "web_search_call", "id": "ws_1"}]}, "input[0]", None, "web_search_call"),
        ({"top_logprobs": 3}, "top_logprobs", None, "top_logprobs"),
        ({"context_management": [{"type": "x"}]}, "context_management", None, "context_management"),
        ({"include": ["file_search_call.results"]}, "include", None, "file_search_call.results"),
        ({"truncation": "auto"}, "truncation", "unsupported_value", "disabled"),
        ({"reasoning": {"effort": "low", "mode": "x"}}, "reasoning.mode", None, "reasoning.mode"),
        ({"text": {"format": {"type": "grammar"}}}, "text.format", None, "grammar"),
    ],
)
def test_refusals_name_the_field(body: dict[str, Any], param: str, code: str | None, says: str) -> None:
    err = refused(body)
    assert (err.status, err.param, err.code) == (400, param, code)
    assert says in err.message


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{nope", "invalid_json"),
        (b"[1]", "not_object"),
        (b'{"input": "x"}', "missing_required_parameter"),
        (b'{"model": "m"}', "missing_required_parameter"),
        (b'{"model": "m", "input": null}', "missing_required_parameter"),
    ],
)
def test_fatal_request_errors(raw: bytes, code: str) -> None:
    with pytest.raises(InvalidRequest) as e:
        request.to_openai(raw)
    assert e.value.code == code


def test_minimal_stand_in() -> None:
    raw = orjson.dumps(
        {"model": "m", "input": "x", "stream": True, "max_output_tokens": 64, "previous_response_id": "r"}
    )
    assert orjson.loads(request.minimal(raw)) == {
        "model": "m",
        "messages": [{"role": "user", "content": ""}],
        "max_completion_tokens": 64,
        "stream": True,
    }


# -- whole answers ---------------------------------------------------------------------------------------


def chat_completion(
    content: str | None = None,
    tool_calls: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    reasoning: str | None = None,
    finish: str = "stop",
) -> bytes:
    msg: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        msg["reasoning_content"] = reasoning
    if tool_calls:
        msg["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in tool_calls
        ]
    return orjson.dumps(
        {
            "id": "chatcmpl-abc123",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "up-model",
            "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
            "usage": USAGE.openai(),
        }
    )


def echo_of(**body: Any) -> dict[str, Any]:
    return request.to_openai(orjson.dumps({"model": "alias", "input": "x", **body}))[1]


def whole(completion: bytes, **body: Any) -> dict[str, Any]:
    out = orjson.loads(response.whole(completion, USAGE, echo_of(**body)))
    validate("Response", out)
    return out


def test_whole_text() -> None:
    out = whole(chat_completion("Hello there."), instructions="Be nice.", temperature=0.5, metadata={"a": "b"})
    assert (out["id"], out["object"], out["status"], out["created_at"], out["model"]) == (
        "resp_abc123",
        "response",
        "completed",
        1700000000,
        "up-model",
    )
    assert out["output"] == [
        {
            "id": "msg_abc123",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hello there.", "annotations": [], "logprobs": []}],
        }
    ]
    assert out["usage"] == {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 20, "cache_write_tokens": 0},
        "output_tokens": 42,
        "output_tokens_details": {"reasoning_tokens": 12},
        "total_tokens": 142,
    }
    assert (out["instructions"], out["temperature"], out["metadata"], out["store"]) == (
        "Be nice.",
        0.5,
        {"a": "b"},
        False,
    )
    assert out["error"] is None and out["incomplete_details"] is None


def test_whole_tool_calls_and_reasoning() -> None:
    calls = [("call_1", "get_weather", '{"city":"Paris"}'), ("call_2", "get_weather", '{"city":"Rome"}')]
    out = whole(
        chat_completion(None, calls, reasoning="Two cities.", finish="tool_calls"),
        tools=[{"type": "function", "name": "get_weather", "parameters": WEATHER}],
    )
    assert out["status"] == "completed"
    assert out["output"] == [
        {"id": "rs_abc123", "type": "reasoning", "summary": [{"type": "summary_text", "text": "Two cities."}]},
        {
            "id": "fc_1",
            "type": "function_call",
            "status": "completed",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
        },
        {
            "id": "fc_2",
            "type": "function_call",
            "status": "completed",
            "call_id": "call_2",
            "name": "get_weather",
            "arguments": '{"city":"Rome"}',
        },
    ]


@pytest.mark.parametrize(("finish", "reason"), [("length", "max_output_tokens"), ("content_filter", "content_filter")])
def test_whole_incomplete(finish: str, reason: str) -> None:
    out = whole(chat_completion("Cut sho", finish=finish), max_output_tokens=16)
    assert out["status"] == "incomplete" and out["incomplete_details"] == {"reason": reason}
    assert out["output"][-1]["status"] == "incomplete" and out["max_output_tokens"] == 16


def test_whole_without_usage_and_malformed() -> None:
    out = orjson.loads(response.whole(chat_completion("x"), None, echo_of()))
    assert out["usage"]["total_tokens"] == 0
    for bad in (b"nope", b"[]", b'{"choices": []}', b'{"choices": [{"message": {"tool_calls": [{}]}}]}'):
        with pytest.raises(UpstreamError):
            response.whole(bad, None, echo_of())


# -- the stream translator -------------------------------------------------------------------------------


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-abc123",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "up-model",
    }
    body["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return b"data: " + orjson.dumps({**body, **extra}) + b"\n\n"


def ending(finish: str) -> list[bytes]:
    return [chunk({}, finish), chunk(None, usage=USAGE.openai()), b"data: [DONE]\n\n"]


def tool_delta(index: int, args: str, call_id: str | None = None, name: str | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": args}}
    if call_id:
        call |= {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}
    return {"tool_calls": [call]}


TEXT_STREAM = [
    chunk({"role": "assistant", "content": ""}),
    chunk({"content": "Hello"}),
    chunk({"content": " there."}),
    *ending("stop"),
]
ONE_TOOL = [
    chunk({"role": "assistant", "content": None, **tool_delta(0, "", "call_1", "get_weather")}),
    chunk(tool_delta(0, '{"ci')),
    chunk(tool_delta(0, 'ty":"Paris"}')),
    *ending("tool_calls"),
]
TWO_TOOLS = [
    chunk({"role": "assistant", **tool_delta(0, "", "call_1", "get_weather")}),
    chunk(tool_delta(0, '{"city":')),
    chunk(tool_delta(1, '{"ci', "call_2", "get_weather")),
    chunk(tool_delta(0, '"Paris"}')),  # interleaved: back to the first call
    chunk(tool_delta(1, 'ty":"Rome"}')),
    *ending("tool_calls"),
]
REASONING_THEN_TEXT = [
    chunk({"role": "assistant", "reasoning_content": "Let me "}),
    chunk({"reasoning_content": "think."}),
    chunk({"content": "Done"}),
    chunk({"content": "."}),
    *ending("length"),
]


def run(
    chunks: list[bytes], echo: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], response.StreamTranslator]:
    """Feed the chunks; parse and schema-check every event produced (the `event:` line matching `type`)."""
    tap = response.StreamTranslator(lambda: USAGE, echo or echo_of())
    raw = b"".join(tap.feed(c) for c in chunks) + tap.finish()
    return check_events(raw), tap


def check_events(raw: bytes) -> list[dict[str, Any]]:
    events = []
    for ev in SseParser().feed(raw):
        data = orjson.loads(ev.data)
        assert ev.event == data["type"]
        validate(event_schemas()[data["type"]], data)
        events.append(data)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


def final(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert events[-1]["type"] in ("response.completed", "response.incomplete")
    validate("Response", events[-1]["response"])
    return events[-1]["response"]


def same_as_whole(streamed: dict[str, Any], completion: bytes) -> None:
    expected = orjson.loads(response.whole(completion, USAGE, echo_of()))
    assert {**streamed, "completed_at": 0} == {**expected, "completed_at": 0}


def test_stream_text() -> None:
    events, tap = run(TEXT_STREAM)
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[0]["response"]["status"] == "in_progress" and events[0]["response"]["output"] == []
    assert events[6]["text"] == "Hello there." and events[4]["item_id"] == "msg_abc123"
    assert tap.done and tap.error is None
    same_as_whole(final(events), chat_completion("Hello there."))


def test_stream_one_tool_call() -> None:
    events, _ = run(ONE_TOOL)
    kinds = [e["type"] for e in events]
    assert kinds[2:] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[2]["item"] == {
        "id": "fc_1",
        "type": "function_call",
        "status": "in_progress",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": "",
    }
    assert events[5]["arguments"] == '{"city":"Paris"}' and events[5]["name"] == "get_weather"
    same_as_whole(
        final(events), chat_completion(None, [("call_1", "get_weather", '{"city":"Paris"}')], finish="tool_calls")
    )


def test_stream_two_interleaved_tool_calls() -> None:
    events, _ = run(TWO_TOOLS)
    deltas = [(e["output_index"], e["delta"]) for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert deltas == [(0, '{"city":'), (1, '{"ci'), (0, '"Paris"}'), (1, 'ty":"Rome"}')]
    calls = [("call_1", "get_weather", '{"city":"Paris"}'), ("call_2", "get_weather", '{"city":"Rome"}')]
    same_as_whole(final(events), chat_completion(None, calls, finish="tool_calls"))


def test_stream_reasoning_then_text_cut_by_length() -> None:
    events, _ = run(REASONING_THEN_TEXT)
    kinds = [e["type"] for e in events]
    assert kinds[2:10] == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
    ]
    assert events[-2]["type"] == "response.output_item.done" and events[-2]["item"]["status"] == "incomplete"
    assert events[-1]["type"] == "response.incomplete"
    streamed = final(events)
    assert streamed["incomplete_details"] == {"reason": "max_output_tokens"}
    same_as_whole(streamed, chat_completion("Done.", reasoning="Let me think.", finish="length"))


def test_stream_text_then_refusal_parts() -> None:
    events, _ = run([chunk({"content": "I"}), chunk({"refusal": "can't"}), *ending("stop")])
    parts = [(e["content_index"], e["part"]["type"]) for e in events if e["type"] == "response.content_part.done"]
    assert parts == [(0, "output_text"), (1, "refusal")]
    assert final(events)["output"][0]["content"][1] == {"type": "refusal", "refusal": "can't"}


def test_stream_error_chunk_mid_stream() -> None:
    err = {"error": {"message": "overloaded", "type": "server_error", "code": "upstream_overloaded", "param": None}}
    events, tap = run([chunk({"content": "Hel"}), b"data: " + orjson.dumps(err) + b"\n\n"])
    assert events[-1] == {
        "type": "error",
        "code": "upstream_overloaded",
        "message": "overloaded",
        "param": None,
        "sequence_number": len(events) - 1,
    }
    assert tap.error is not None and orjson.loads(tap.error)["error"]["message"] == "overloaded"
    assert not tap.done


def test_error_event_continues_the_sequence() -> None:
    tap = response.StreamTranslator(lambda: None, echo_of())
    events = check_events(tap.feed(TEXT_STREAM[1]) + tap.error_event(UpstreamTimeout("upstream stopped sending")))
    assert events[-1]["type"] == "error" and events[-1]["code"] == "upstream_timeout"
    assert events[-1]["sequence_number"] == len(events) - 1 and not tap.done


def test_stream_cut_before_done_is_not_done() -> None:
    tap = response.StreamTranslator(lambda: None, echo_of())
    tap.feed(b"".join(TEXT_STREAM[:-1]))
    assert tap.finish() == b"" and not tap.done


def test_stream_usage_is_read_at_the_end() -> None:
    seen: list[Usage | None] = [None]
    tap = response.StreamTranslator(lambda: seen[0], echo_of())
    head = tap.feed(b"".join(TEXT_STREAM[:-1]))
    assert b"usage" not in head
    seen[0] = USAGE
    events = check_events(head + tap.feed(TEXT_STREAM[-1]))
    assert final(events)["usage"]["total_tokens"] == USAGE.total_tokens


STREAMS = [TEXT_STREAM, ONE_TOOL, TWO_TOOLS, REASONING_THEN_TEXT]


def splits(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=60, deadline=None)
@given(which=st.integers(0, len(STREAMS) - 1), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_stream_events_do_not_depend_on_chunk_boundaries(which: int, cuts: list[int]) -> None:
    data = b"".join(STREAMS[which])
    whole_events, _ = run([data])
    split_events, _ = run(splits(data, cuts))
    strip = lambda evs: [e | {"response": e["response"] | {"completed_at": 0}} if "response" in e else e for e in evs]  # noqa: E731
    assert strip(split_events) == strip(whole_events)


# -- the native pass-through tap -------------------------------------------------------------------------


def native_stream(*, crlf: bool = False, failed: bool = False) -> bytes:
    usage = {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 20},
        "output_tokens": 42,
        "output_tokens_details": {"reasoning_tokens": 12},
        "total_tokens": 142,
    }
    resp = {"id": "resp_1", "object": "response", "status": "in_progress", "error": None, "output": []}
    events = [
        {"type": "response.created", "sequence_number": 0, "response": resp},
        {
            "type": "response.output_text.delta",
            "sequence_number": 1,
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": 'say "error" and response.completed',
        },
    ]
    if failed:
        err = {"code": "server_error", "message": "boom"}
        events.append(
            {"type": "response.failed", "sequence_number": 2, "response": resp | {"status": "failed", "error": err}}
        )
    else:
        events.append(
            {
                "type": "response.completed",
                "sequence_number": 2,
                "response": resp | {"status": "completed", "usage": usage, "service_tier": "default"},
            }
        )
    nl = b"\r\n" if crlf else b"\n"
    return b"".join(b"event: " + e["type"].encode() + nl + b"data: " + orjson.dumps(e) + nl + nl for e in events)


@settings(max_examples=80, deadline=None)
@given(crlf=st.booleans(), cuts=st.lists(st.integers(0, 10_000), max_size=16))
def test_passthrough_is_byte_exact_under_any_split(crlf: bool, cuts: list[int]) -> None:
    data = native_stream(crlf=crlf)
    tap = native.PassthroughTap()
    out = b""
    for piece in splits(data, cuts):
        sent = tap.feed(piece)
        assert sent == b"" or sent.endswith((b"\n\n", b"\r\n\r\n")), "only complete events go out"
        out += sent
    assert out + tap.finish() == data and out == data
    assert tap.done and tap.error is None
    assert tap.usage == Usage.of(input=80, cache_read=20, output=30, reasoning=12, service_tier="default")
    assert (tap.text, tap.service_tier) == ("", None)


def test_passthrough_holds_an_unterminated_event() -> None:
    tap = native.PassthroughTap()
    assert tap.feed(b"event: response.created\ndata: {") == b""
    assert tap.finish() == b"event: response.created\ndata: {" and not tap.done


def test_passthrough_errors() -> None:
    tap = native.PassthroughTap()
    tap.feed(native_stream(failed=True))
    assert tap.done and tap.error is not None
    assert orjson.loads(tap.error)["error"] == {
        "message": "boom",
        "type": "upstream_error",
        "param": None,
        "code": "server_error",
    }
    tap = native.PassthroughTap()
    event = {
        "type": "error",
        "code": "rate_limit_exceeded",
        "message": "slow down",
        "param": None,
        "sequence_number": 3,
    }
    tap.feed(b"event: error\ndata: " + orjson.dumps(event) + b"\n\n")
    assert not tap.done and tap.error is not None and orjson.loads(tap.error)["error"]["code"] == "rate_limit_exceeded"


def test_native_whole_usage() -> None:
    body = orjson.dumps(
        {
            "id": "resp_1",
            "usage": {
                "input_tokens": 10,
                "input_tokens_details": {"cached_tokens": 4},
                "output_tokens": 5,
                "output_tokens_details": {"reasoning_tokens": 2},
                "total_tokens": 15,
            },
        }
    )
    assert native.whole_usage(body) == Usage.of(input=6, cache_read=4, output=3, reasoning=2)
    assert native.whole_usage(b'{"id": "resp_1"}') is None
    with pytest.raises(UpstreamError):
        native.whole_usage(b"[]")


def test_served_tier_is_reported_whole_and_streamed() -> None:
    tiered = Usage.of(input=1, output=1, service_tier="flex")
    out = orjson.loads(response.whole(chat_completion("x"), tiered, echo_of(service_tier="auto")))
    validate("Response", out)
    assert out["service_tier"] == "flex"
    tap = response.StreamTranslator(lambda: tiered, echo_of(service_tier="auto"))
    events = check_events(b"".join(tap.feed(c) for c in TEXT_STREAM))
    assert final(events)["service_tier"] == "flex"
    untiered = orjson.loads(response.whole(chat_completion("x"), USAGE, echo_of(service_tier="auto")))
    assert untiered["service_tier"] == "auto", "without a report, the tier asked for"


def test_stream_error_before_any_event_sets_error_for_failover() -> None:
    tap = response.StreamTranslator(lambda: None, echo_of())
    err = {"error": {"message": "rate limited", "code": 429}}
    events = check_events(tap.feed(b"data: " + orjson.dumps(err) + b"\n\n"))
    assert [e["type"] for e in events] == ["error"] and events[0]["code"] == "429"
    assert tap.error is not None and not tap.done


def test_the_openai_sdk_reads_both_answers() -> None:
    """The openai SDK's own request bodies in, its own parsers (and stream accumulator) on what comes out;
    in process, through the SDK's HTTP client's mock transport."""
    import httpx2
    import openai

    calls = [("call_1", "get_weather", '{"city":"Paris"}')]
    stream = [
        chunk({"reasoning_content": "Hm."}),
        chunk({"content": "Checking."}),
        *ONE_TOOL[:-3],
        *ending("tool_calls"),
    ]
    sent: list[dict[str, Any]] = []

    def handler(req: Any) -> Any:
        canonical, echo = request.to_openai(req.content)
        sent.append(orjson.loads(canonical))
        if sent[-1].get("stream"):
            tap = response.StreamTranslator(lambda: USAGE, echo)
            body = b"".join(tap.feed(c) for c in stream)
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)
        body = response.whole(chat_completion("Checking.", calls, reasoning="Hm.", finish="tool_calls"), USAGE, echo)
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=body)

    client = openai.OpenAI(
        api_key="k", base_url="http://gw/v1", http_client=httpx2.Client(transport=httpx2.MockTransport(handler))
    )
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": WEATHER, "strict": False}]
    got = client.responses.create(model="m", input="Weather?", instructions="Be brief.", tools=tools, store=False)
    with client.responses.stream(model="m", input="Weather?", tools=tools, reasoning={"effort": "low"}) as s:
        streamed = s.get_final_response()
    for r in (got, streamed):
        assert r.output_text == "Checking." and r.status == "completed" and r.usage is not None
        assert [o.type for o in r.output] == ["reasoning", "message", "function_call"]
        assert r.output[2].arguments == '{"city":"Paris"}' and r.usage.output_tokens_details.reasoning_tokens == 12  # type: ignore[union-attr]
    assert sent[0]["messages"][0] == {"role": "system", "content": "Be brief."} and sent[1]["reasoning_effort"] == "low"
