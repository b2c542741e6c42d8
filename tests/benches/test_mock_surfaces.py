"""The mock provider's Responses API, embeddings (OpenAI and Gemini), images, legacy completions and
moderations against its real binary: shapes (validated against OpenAI's OpenAPI description), knobs,
faults and recording."""

from __future__ import annotations

import base64
import http.client
import json
import math
import pathlib
import struct
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from mock_server import MockProvider, knob_prefix
from openapi_schema import validate

RESP: Any = {"model": "gpt-resp", "input": "hi"}
TOOLS: Any = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]
ARGS = '{"city": "Paris","n":0}'  # the arguments every mock tool call carries (n = call index)


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProvider]:
    with MockProvider("--chunks", "3") as m:
        yield m


@pytest.fixture(autouse=True)
def _clean(mock: MockProvider) -> None:
    mock.clear()


def post(mock: MockProvider, path: str, body: Any) -> tuple[int, http.client.HTTPMessage, bytes, bool]:
    """(status, headers, body, complete): `complete` is False when the body was cut short."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
    conn.request("POST", path, raw, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    try:
        return resp.status, resp.headers, resp.read(), True
    except http.client.IncompleteRead as e:
        return resp.status, resp.headers, e.partial, False
    finally:
        conn.close()


def ok_json(mock: MockProvider, path: str, body: Any) -> Any:
    status, headers, raw, complete = post(mock, path, body)
    assert (status, complete) == (200, True), raw
    assert headers["content-type"] == "application/json"
    return json.loads(raw)


def openai_error(mock: MockProvider, path: str, body: Any, status: int = 400) -> dict[str, Any]:
    got, _, raw, _ = post(mock, path, body)
    assert got == status, raw
    err = json.loads(raw)["error"]
    assert set(err) == {"message", "type", "param", "code"}
    return err  # type: ignore[no-any-return]


def sse_events(raw: bytes) -> list[tuple[str | None, Any]]:
    """(event name, parsed data) per SSE event; data `[DONE]` stays a string."""
    out = []
    for block in raw.split(b"\n\n"):
        if not block.strip():
            continue
        name = None
        data: Any = None
        for line in block.decode().split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:] if line[6:] == "[DONE]" else json.loads(line[6:])
        out.append((name, data))
    return out


# -- the deterministic embedding vector, as documented in benches/mock_provider/README.md -------

M64 = 2**64 - 1


def fnv1a64(b: bytes) -> int:
    h = 0xCBF29CE484222325
    for c in b:
        h = ((h ^ c) * 0x100000001B3) & M64
    return h


def splitmix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def vector(text: str, dims: int = 8) -> list[float]:
    seed = fnv1a64(text.encode())
    return [((splitmix64((seed + j) & M64) >> 40) - 2**23) / 2**23 for j in range(dims)]


# -- Responses API ---------------------------------------------------------------------------


def test_responses_message_shape_and_usage(mock: MockProvider) -> None:
    body = {**RESP, "instructions": "be brief", "metadata": {"k": "v"}, "temperature": 0.5}
    raw = json.dumps(body).encode()
    out = ok_json(mock, knob_prefix(cache_read=4, reasoning=2, cache_write=1) + "/v1/responses", raw)
    validate("Response", out)
    assert out["id"].startswith("resp_") and out["object"] == "response" and out["status"] == "completed"
    assert abs(out["created_at"] - time.time()) < 5
    assert (out["model"], out["instructions"], out["metadata"], out["temperature"]) == (
        "gpt-resp",
        "be brief",
        {"k": "v"},
        0.5,
    )
    assert (out["error"], out["incomplete_details"], out["tools"], out["tool_choice"]) == (None, None, [], "auto")
    assert out["parallel_tool_calls"] is True and out["top_p"] == 1.0
    [msg] = out["output"]
    assert msg["id"].startswith("msg_")
    assert {k: v for k, v in msg.items() if k != "id"} == {
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "word0 word1 word2", "annotations": [], "logprobs": []}],
    }
    p = math.ceil(len(raw) / 4) + 4
    assert out["usage"] == {
        "input_tokens": p,
        "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 1},
        "output_tokens": 3 + 2,
        "output_tokens_details": {"reasoning_tokens": 2},
        "total_tokens": p + 5,
    }


def test_responses_function_call_and_tool_result_turn(mock: MockProvider) -> None:
    out = ok_json(mock, "/v1/responses", {**RESP, "tools": TOOLS})
    validate("Response", out)
    [call] = out["output"]
    assert call["id"].startswith("fc_") and call["call_id"].startswith("call_")
    assert (call["type"], call["name"], call["arguments"], call["status"]) == (
        "function_call",
        "get_weather",
        ARGS,
        "completed",
    )
    assert json.loads(call["arguments"]) == {"city": "Paris", "n": 0}
    assert out["tools"][0]["name"] == "get_weather" and out["tools"][0]["strict"] is True
    assert out["usage"]["output_tokens"] == 3  # one per argument piece
    # The tool's result handed back: a text answer.
    turn = [
        {"role": "user", "content": "weather?"},
        {"type": "function_call", "call_id": call["call_id"], "name": "get_weather", "arguments": ARGS},
        {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"},
    ]
    out = ok_json(mock, "/v1/responses", {**RESP, "tools": TOOLS, "input": turn})
    assert [o["type"] for o in out["output"]] == ["message"]
    # tool_choice "none": text; tool_calls=2: two parallel calls of the forced tool.
    out = ok_json(mock, "/v1/responses", {**RESP, "tools": TOOLS, "tool_choice": "none"})
    assert [o["type"] for o in out["output"]] == ["message"]
    two = [*TOOLS, {"type": "function", "name": "other", "parameters": {}}]
    out = ok_json(
        mock,
        "/v1/responses",
        {**RESP, "tools": two, "tool_choice": {"type": "function", "name": "other"}, "mock": {"tool_calls": 2}},
    )
    validate("Response", out)
    assert [(o["name"], json.loads(o["arguments"])["n"]) for o in out["output"]] == [("other", 0), ("other", 1)]


EVENT_SCHEMAS = {
    "response.created": "ResponseCreatedEvent",
    "response.in_progress": "ResponseInProgressEvent",
    "response.output_item.added": "ResponseOutputItemAddedEvent",
    "response.output_item.done": "ResponseOutputItemDoneEvent",
    "response.content_part.added": "ResponseContentPartAddedEvent",
    "response.content_part.done": "ResponseContentPartDoneEvent",
    "response.output_text.delta": "ResponseTextDeltaEvent",
    "response.output_text.done": "ResponseTextDoneEvent",
    "response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaEvent",
    "response.function_call_arguments.done": "ResponseFunctionCallArgumentsDoneEvent",
    "response.reasoning_summary_part.added": "ResponseReasoningSummaryPartAddedEvent",
    "response.reasoning_summary_part.done": "ResponseReasoningSummaryPartDoneEvent",
    "response.reasoning_summary_text.delta": "ResponseReasoningSummaryTextDeltaEvent",
    "response.reasoning_summary_text.done": "ResponseReasoningSummaryTextDoneEvent",
    "response.completed": "ResponseCompletedEvent",
    "response.incomplete": "ResponseIncompleteEvent",
    "error": "ResponseErrorEvent",
}


def stream_responses(mock: MockProvider, path: str, body: Any) -> tuple[list[tuple[str | None, Any]], bool]:
    status, headers, raw, complete = post(mock, path, {**body, "stream": True})
    assert status == 200 and headers["content-type"] == "text/event-stream"
    assert b"[DONE]" not in raw
    evs = sse_events(raw)
    for i, (name, data) in enumerate(evs):
        assert name == data["type"] and data["sequence_number"] == i
        validate(EVENT_SCHEMAS[data["type"]], data)  # names the failing field, unlike the anyOf below
        validate("ResponseStreamEvent", data)
    return evs, complete


def test_responses_stream_message(mock: MockProvider) -> None:
    evs, complete = stream_responses(mock, "/v1/responses", RESP)
    assert complete
    assert [n for n, _ in evs] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    data = [d for _, d in evs]
    assert data[0]["response"]["status"] == "in_progress" and data[0]["response"]["output"] == []
    msg_id = data[2]["item"]["id"]
    deltas = [d for d in data if d["type"] == "response.output_text.delta"]
    assert [d["delta"] for d in deltas] == ["word0", " word1", " word2"]
    assert all(
        (d["item_id"], d["output_index"], d["content_index"], d["logprobs"]) == (msg_id, 0, 0, []) for d in deltas
    )
    assert data[7]["text"] == "word0 word1 word2"
    final = data[-1]["response"]
    validate("Response", final)
    assert final["status"] == "completed" and final["output"][0]["content"][0]["text"] == "word0 word1 word2"
    assert final["usage"]["output_tokens"] == 3 and final["id"] == data[0]["response"]["id"]
    assert mock.wait_stats(streams_completed=1)["streams_completed"] == 1


def test_responses_stream_function_call(mock: MockProvider) -> None:
    evs, _ = stream_responses(mock, "/openai/v1/responses", {**RESP, "tools": TOOLS})
    assert [n for n, _ in evs] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        *["response.function_call_arguments.delta"] * 3,
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    data = [d for _, d in evs]
    assert data[2]["item"]["arguments"] == "" and data[2]["item"]["status"] == "in_progress"
    assert "".join(d["delta"] for d in data[3:6]) == ARGS
    assert (data[6]["name"], data[6]["arguments"]) == ("get_weather", ARGS)
    assert data[-1]["response"]["output"][0]["arguments"] == ARGS


def test_responses_stream_thinking_and_incomplete(mock: MockProvider) -> None:
    evs, _ = stream_responses(mock, knob_prefix(thinking=True, finish="max_output_tokens") + "/v1/responses", RESP)
    names = [n for n, _ in evs]
    assert names[2:8] == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
    ]
    assert names[-1] == "response.incomplete"
    final = evs[-1][1]["response"]
    assert final["status"] == "incomplete" and final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert [o["type"] for o in final["output"]] == ["reasoning", "message"]
    assert evs[8][1]["output_index"] == 1  # the message follows the reasoning item


def test_responses_faults(mock: MockProvider) -> None:
    status, headers, raw, _ = post(mock, knob_prefix(status=429, retry_after=7) + "/v1/responses", RESP)
    assert status == 429 and headers["retry-after"] == "7"
    assert json.loads(raw)["error"]["code"] == "rate_limit_exceeded"
    err = openai_error(mock, "/v1/responses", {**RESP, "mock": {"status": 503}}, 503)
    assert err["type"] == "server_error"
    assert openai_error(mock, "/v1/responses", {"input": "x"})["message"] == "Missing required parameter: 'model'."
    # error_event_after: the deltas so far, then an `error` event, and the stream ends.
    evs, complete = stream_responses(mock, knob_prefix(error_event_after=1) + "/v1/responses", RESP)
    assert complete
    assert [n for n, _ in evs][-3:] == ["response.content_part.added", "response.output_text.delta", "error"]
    assert evs[-1][1] == {
        "type": "error",
        "code": "server_error",
        "message": "mock stream error",
        "param": None,
        "sequence_number": len(evs) - 1,
    }
    # drop_after: the connection closes after two deltas, without a terminating chunk.
    evs, complete = stream_responses(mock, "/v1/responses", {**RESP, "mock": {"drop_after": 2}})
    assert not complete
    assert [n for n, _ in evs][-2:] == ["response.output_text.delta"] * 2


def test_responses_pacing(mock: MockProvider) -> None:
    t0 = time.monotonic()
    post(mock, knob_prefix(ttft_ms=150, interval_ms=50) + "/v1/responses", {**RESP, "stream": True})
    assert time.monotonic() - t0 >= 0.15 + 2 * 0.05


# -- embeddings ------------------------------------------------------------------------------


def test_embeddings_inputs_and_vectors(mock: MockProvider) -> None:
    out = ok_json(mock, "/v1/embeddings", {"model": "text-embedding-3-small", "input": "hello"})
    validate("CreateEmbeddingResponse", out)
    assert out == {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": vector("hello")}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }
    out = ok_json(mock, "/v1/embeddings", {"model": "e", "input": ["a", "bb", "a"], "dimensions": 5})
    validate("CreateEmbeddingResponse", out)
    assert [d["index"] for d in out["data"]] == [0, 1, 2]
    assert [d["embedding"] for d in out["data"]] == [vector("a", 5), vector("bb", 5), vector("a", 5)]
    assert vector("a", 5) != vector("bb", 5)
    # Token arrays: the vector of the ids joined by ","; usage counts the tokens.
    out = ok_json(mock, "/v1/embeddings", {"model": "e", "input": [1, 2, 3]})
    assert [d["embedding"] for d in out["data"]] == [vector("1,2,3")] and out["usage"]["prompt_tokens"] == 3
    out = ok_json(mock, "/v1/embeddings", {"model": "e", "input": [[1, 2], [7]]})
    assert [d["embedding"] for d in out["data"]] == [vector("1,2"), vector("7")]


def test_embeddings_base64_and_azure(mock: MockProvider) -> None:
    path = "/openai/deployments/emb/embeddings?api-version=2024-10-21"
    out = ok_json(mock, path, {"model": "e", "input": ["x", "y"], "encoding_format": "base64", "dimensions": 4})
    validate("CreateEmbeddingResponse", {**out, "data": []})  # the spec types `embedding` as floats only
    for d, text in zip(out["data"], ["x", "y"], strict=True):
        raw = base64.b64decode(d["embedding"])
        assert list(struct.unpack("<4f", raw)) == vector(text, 4)
    rec = mock.requests()[-1]
    assert rec["path"] == "/openai/deployments/emb/embeddings" and rec["query"] == "api-version=2024-10-21"
    assert json.loads(rec["body"])["encoding_format"] == "base64"


@pytest.mark.parametrize(
    "body",
    [
        {"model": "e"},
        {"model": "e", "input": []},
        {"model": "e", "input": 5},
        {"model": "e", "input": ""},
        {"model": "e", "input": ["a", 3]},
        {"model": "e", "input": [[1], "a", {}]},
        {"model": "e", "input": "a", "dimensions": 0},
        {"model": "e", "input": "a", "encoding_format": "hex"},
        {"input": "a"},
    ],
)
def test_embeddings_invalid_input(mock: MockProvider, body: Any) -> None:
    err = openai_error(mock, "/v1/embeddings", body)
    assert err["type"] == "invalid_request_error"


def test_embeddings_status_knob(mock: MockProvider) -> None:
    err = openai_error(mock, knob_prefix(status=500) + "/v1/embeddings", {"model": "e", "input": "a"}, 500)
    assert err["type"] == "server_error"


def test_gemini_embeddings_match_openai(mock: MockProvider) -> None:
    out = ok_json(mock, "/v1beta/models/gemini-embedding-001:embedContent", {"content": {"parts": [{"text": "hello"}]}})
    assert out == {"embedding": {"values": vector("hello")}}
    body = {
        "content": {"parts": [{"text": "hel"}, {"text": "lo"}]},
        "outputDimensionality": 3,
        "taskType": "RETRIEVAL_QUERY",
    }
    out = ok_json(mock, "/v1beta/models/gemini-embedding-001:embedContent", body)
    assert out == {"embedding": {"values": vector("hello", 3)}}
    oai = ok_json(mock, "/v1/embeddings", {"model": "e", "input": "hello", "dimensions": 3})
    assert oai["data"][0]["embedding"] == out["embedding"]["values"]
    batch = {
        "requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": t}]}, "outputDimensionality": 4}
            for t in ("a", "b")
        ]
    }
    out = ok_json(mock, "/v1beta/models/gemini-embedding-001:batchEmbedContents", batch)
    assert out == {"embeddings": [{"values": vector("a", 4)}, {"values": vector("b", 4)}]}
    assert json.loads(mock.requests()[-1]["body"]) == batch


def test_gemini_embeddings_errors(mock: MockProvider) -> None:
    for path, body in [
        ("/v1beta/models/g:embedContent", {"content": {}}),
        ("/v1beta/models/g:batchEmbedContents", {"requests": []}),
        ("/v1beta/models/g:batchEmbedContents", {"requests": [{"model": "models/other", "content": {"parts": []}}]}),
    ]:
        status, _, raw, _ = post(mock, path, body)
        err = json.loads(raw)["error"]
        assert (status, err["code"], err["status"]) == (400, 400, "INVALID_ARGUMENT"), raw
    status, _, raw, _ = post(
        mock, knob_prefix(status=429) + "/v1beta/models/g:embedContent", {"content": {"parts": []}}
    )
    assert (status, json.loads(raw)["error"]["status"]) == (429, "RESOURCE_EXHAUSTED")


# -- images ----------------------------------------------------------------------------------


def test_images_url_and_b64(mock: MockProvider) -> None:
    out = ok_json(mock, "/v1/images/generations", {"prompt": "a cat", "n": 2, "size": "256x256"})
    validate("ImagesResponse", out)
    assert abs(out["created"] - time.time()) < 5 and "usage" not in out
    assert [d["url"] for d in out["data"]] == [f"{mock.url}/_mock/image/{i}.png" for i in range(2)]
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
    conn.request("GET", "/_mock/image/1.png")
    resp = conn.getresponse()
    png = resp.read()
    assert resp.status == 200 and resp.headers["content-type"] == "image/png" and png.startswith(b"\x89PNG\r\n")
    out = ok_json(
        mock, "/v1/images/generations", {"prompt": "a cat", "model": "dall-e-3", "response_format": "b64_json"}
    )
    validate("ImagesResponse", out)
    assert out["data"] == [{"b64_json": base64.b64encode(png).decode(), "revised_prompt": "a cat"}]


def test_images_gpt_image_usage_and_azure(mock: MockProvider) -> None:
    path = "/openai/deployments/img/images/generations?api-version=2025-04-01-preview"
    out = ok_json(mock, path, {"prompt": "a dog!!", "model": "gpt-image-1", "n": 3, "quality": "low"})
    validate("ImagesResponse", out)
    assert len(out["data"]) == 3 and out["quality"] == "low"
    assert out["usage"] == {
        "input_tokens": 2,
        "output_tokens": 9,  # chunks (3) per image
        "total_tokens": 11,
        "input_tokens_details": {"text_tokens": 2, "image_tokens": 0},
    }


def test_images_errors_and_faults(mock: MockProvider) -> None:
    assert openai_error(mock, "/v1/images/generations", {"n": 1})["message"] == "Missing required parameter: 'prompt'."
    openai_error(mock, "/v1/images/generations", {"prompt": "x", "n": 0})
    openai_error(mock, "/v1/images/generations", {"prompt": "x", "response_format": "gif"})
    err = openai_error(mock, knob_prefix(status=403) + "/v1/images/generations", {"prompt": "x"}, 403)
    assert err["type"] == "permission_error"


# -- legacy completions ----------------------------------------------------------------------


def test_completions_whole(mock: MockProvider) -> None:
    raw = json.dumps({"model": "gpt-3.5-turbo-instruct", "prompt": "Say", "suffix": "end"}).encode()
    out = ok_json(mock, "/v1/completions", raw)
    validate("CreateCompletionResponse", out)
    p = math.ceil(len(raw) / 4)
    assert out["id"].startswith("cmpl-") and out["object"] == "text_completion"
    assert out["choices"] == [{"text": "word0 word1 word2", "index": 0, "logprobs": None, "finish_reason": "stop"}]
    assert out["usage"] == {"prompt_tokens": p, "completion_tokens": 3, "total_tokens": p + 3}
    out = ok_json(mock, "/v1/completions", {"model": "m", "prompt": ["a", "b"], "max_tokens": 2})
    validate("CreateCompletionResponse", out)
    assert [(c["index"], c["text"], c["finish_reason"]) for c in out["choices"]] == [
        (0, "word0 word1", "length"),
        (1, "word0 word1", "length"),
    ]
    assert out["usage"]["completion_tokens"] == 4
    out = ok_json(mock, "/openai/deployments/inst/completions", {"model": "m", "prompt": [1, 2]})
    assert len(out["choices"]) == 1
    openai_error(mock, "/v1/completions", {"model": "m"})
    openai_error(mock, "/v1/completions", {"model": "m", "prompt": {}})


def test_completions_stream(mock: MockProvider) -> None:
    body = {"model": "m", "prompt": "x", "stream": True, "stream_options": {"include_usage": True}}
    status, headers, raw, complete = post(mock, "/v1/completions", body)
    assert status == 200 and complete and headers["content-type"] == "text/event-stream"
    data = [d for _, d in sse_events(raw)]
    assert data[-1] == "[DONE]"
    chunks = data[:-1]
    assert all(c["object"] == "text_completion" and c["id"] == chunks[0]["id"] for c in chunks)
    assert [c["choices"][0]["text"] for c in chunks[:4]] == ["word0", " word1", " word2", ""]
    assert [c["choices"][0]["finish_reason"] for c in chunks[:4]] == [None, None, None, "stop"]
    assert all(c["usage"] is None for c in chunks[:4])
    assert chunks[4]["choices"] == [] and chunks[4]["usage"]["completion_tokens"] == 3
    # Chunks carry `"usage": null` (as the API sends), which the published schema does not allow.
    validate("CreateCompletionResponse", {k: v for k, v in chunks[3].items() if k != "usage"})
    # error_event_after: an error event after one piece, no [DONE].
    _, _, raw, complete = post(mock, knob_prefix(error_event_after=1) + "/v1/completions", body)
    data = [d for _, d in sse_events(raw)]
    assert complete and len(data) == 2 and data[-1]["error"]["type"] == "server_error"
    _, _, raw, complete = post(mock, "/v1/completions", {**body, "mock": {"drop_after": 2}})
    assert not complete and len(sse_events(raw)) == 2
    assert openai_error(mock, knob_prefix(status=401) + "/v1/completions", body, 401)["code"] == "invalid_api_key"


# -- moderations -----------------------------------------------------------------------------


def test_moderations(mock: MockProvider) -> None:
    out = ok_json(mock, "/v1/moderations", {"input": ["I will KILL it", "hello"]})
    validate("CreateModerationResponse", out)
    assert out["id"].startswith("modr-") and out["model"] == "omni-moderation-latest"
    assert [r["flagged"] for r in out["results"]] == [True, False]
    assert out["results"][0]["categories"]["violence"] is True
    assert not any(out["results"][1]["categories"].values())
    assert out["results"][0]["category_scores"]["violence"] > 0.5
    out = ok_json(
        mock,
        "/v1/moderations",
        {
            "model": "omni-moderation-2024-09-26",
            "input": [{"type": "text", "text": "fine"}, {"type": "image_url", "image_url": {"url": "http://x/y.png"}}],
        },
    )
    validate("CreateModerationResponse", out)
    assert out["model"] == "omni-moderation-2024-09-26" and len(out["results"]) == 1
    assert out["results"][0]["category_applied_input_types"]["violence"] == ["text", "image"]
    assert out["results"][0]["category_applied_input_types"]["hate"] == ["text"]
    openai_error(mock, "/v1/moderations", {"model": "m"})
    openai_error(mock, "/v1/moderations", {"input": 3})
    assert (
        openai_error(mock, knob_prefix(status=500) + "/v1/moderations", {"input": "x"}, 500)["type"] == "server_error"
    )


# -- recording and the knob gate shared by every surface -------------------------------------

SURFACES: Any = [
    ("/v1/responses", RESP),
    ("/v1/embeddings", {"model": "e", "input": "a"}),
    ("/v1/images/generations", {"prompt": "p"}),
    ("/v1/completions", {"model": "m", "prompt": "p"}),
    ("/v1/moderations", {"input": "a"}),
    ("/v1beta/models/g:embedContent", {"content": {"parts": [{"text": "a"}]}}),
    ("/v1beta/models/g:batchEmbedContents", {"requests": [{"content": {"parts": [{"text": "a"}]}}]}),
]


@pytest.mark.parametrize(("path", "body"), SURFACES)
def test_every_surface_is_recorded_and_gated(mock: MockProvider, path: str, body: Any) -> None:
    ok_json(mock, path, {**body, "tag": path})
    rec = mock.requests()[-1]
    assert (rec["method"], rec["path"]) == ("POST", path) and json.loads(rec["body"])["tag"] == path
    assert rec["headers"]["content-type"] == "application/json"
    status, headers, _, _ = post(mock, knob_prefix(status=503, retry_after=2) + path, body)
    assert (status, headers["retry-after"]) == (503, "2")
    assert mock.requests()[-1]["path"] == knob_prefix(status=503, retry_after=2) + path
    t0 = time.monotonic()
    ok_json(mock, knob_prefix(latency_ms=120) + path, body)
    assert time.monotonic() - t0 >= 0.12
    # drop_after on a whole response: half the body, then the connection closes.
    status, _, raw, complete = post(mock, path, {**body, "mock": {"drop_after": 0}})
    assert status == 200 and not complete and raw
    assert mock.stats()["requests"] == 4
