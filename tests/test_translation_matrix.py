"""The translation matrix: every caller dialect by every upstream protocol by every feature, one grid.

Callers use the official SDK of their dialect (`openai`, `anthropic`) against a real gateway; the Rust mock
speaks each upstream protocol (OpenAI-compatible, Anthropic, Gemini, Azure) and records what it was sent.
Each cell checks what the caller received and what the upstream got. The README's provider-by-feature
table is rendered from `FEATURES` and `PROTOCOLS` here (test_readme_table_is_this_grid keeps them equal).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from conftest import CLIENT_KEY, Gateway
from mock_server import MockProvider
from openapi_schema import validate

CALLERS = ["openai", "anthropic", "responses"]  # responses: the openai SDK's Responses API
PROTOCOLS = {"openai": "OpenAI-compatible", "anthropic": "Anthropic", "gemini": "Gemini", "azure": "Azure OpenAI"}
FEATURES = {
    "text": "text",
    "stream": "stream",
    "tool_call": "tool call",
    "tool_call_stream": "tool call streamed (argument deltas)",
    "tool_result": "tool result round-trip",
    "parallel_tools": "parallel tool calls",
    "image": "image input",
    "json_output": "JSON output",
    "usage": "usage incl. cache + reasoning",
    "upstream_error": "upstream error",
    "stream_cut": "upstream cut mid-stream",
    "embeddings": "embeddings",
    "images": "images",
    "responses": "Responses API",
}
PER_UPSTREAM = {"embeddings", "images", "responses"}  # one cell per upstream (the openai SDK's row)
SERVED = {"embeddings": {"openai", "gemini", "azure"}, "images": {"openai", "azure"}}  # else a clear 400
NATIVE_RESPONSES = {"openai", "azure"}  # the others get the Responses API translated through chat
TEXT = "word0 word1 word2 word3 word4 word5 word6 word7"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
SCHEMA: Any = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
PARAMS: Any = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
OA_TOOLS: Any = [{"type": "function", "function": {"name": "get_weather", "parameters": PARAMS}}]
AN_TOOLS: Any = [{"name": "get_weather", "input_schema": PARAMS}]
ARGS = [{"city": "Paris", "n": 0}, {"city": "Paris", "n": 1}]


RS_TOOLS: Any = [{"type": "function", "name": "get_weather", "parameters": PARAMS}]


class StreamFailed(Exception):
    """A Responses stream ended with an `error` event (the SDK yields it as an event rather than raising)."""


class Caller:
    """One dialect's SDK, reduced to what the grid asks: (text, tool calls [(name, args)], stop) per answer."""

    def __init__(self, dialect: str, gw: Gateway) -> None:
        self.dialect = dialect
        if dialect in ("openai", "responses"):
            self.oa = openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0, timeout=20)
        else:
            self.an = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=20)

    def respond(
        self, model: str, stream: bool, tools: bool, forced: bool, **extra: Any
    ) -> tuple[str, list[Any], str | None, Any]:
        kw: Any = {"model": model, "input": extra.pop("input", "hi"), **extra}
        if tools:
            kw["tools"] = RS_TOOLS
            if forced:
                kw["tool_choice"] = {"type": "function", "name": "get_weather"}
        if not stream:
            r = self.oa.responses.create(**kw)
        else:
            deltas, r = 0, None
            for ev in self.oa.responses.create(stream=True, **kw):
                validate("ResponseStreamEvent", ev.model_dump(mode="json", exclude_unset=True, by_alias=True))
                if ev.type == "response.function_call_arguments.delta":
                    deltas += 1
                elif ev.type == "error":
                    raise StreamFailed(ev.message)
                elif ev.type in ("response.completed", "response.incomplete"):
                    r = ev.response
            self.deltas = deltas
            assert r is not None, "the stream ended without response.completed"
        validate("Response", r.model_dump(mode="json", exclude_unset=True, by_alias=True))
        calls = [(i.name, json.loads(i.arguments)) for i in r.output if i.type == "function_call"]
        return r.output_text, calls, r.status, r.usage

    def ask(
        self, model: str, stream: bool = False, tools: bool = False, forced: bool = False, **extra: Any
    ) -> tuple[str, list[Any], str | None, Any]:
        if self.dialect == "responses":
            return self.respond(model, stream, tools, forced, **extra)
        if self.dialect == "openai":
            kw: Any = {"model": model, "messages": extra.pop("messages", [{"role": "user", "content": "hi"}]), **extra}
            if tools:
                kw["tools"] = OA_TOOLS
                if forced:
                    kw["tool_choice"] = {"type": "function", "function": {"name": "get_weather"}}
            if not stream:
                a = self.oa.chat.completions.create(**kw)
                calls = [
                    (c.function.name, json.loads(c.function.arguments)) for c in a.choices[0].message.tool_calls or []
                ]
                return a.choices[0].message.content or "", calls, a.choices[0].finish_reason, a.usage
            text, args, names, finish, usage, deltas = "", {}, {}, None, None, 0
            for ch in self.oa.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kw):
                usage = ch.usage or usage
                if not ch.choices:
                    continue
                d = ch.choices[0].delta
                text += d.content or ""
                for tc in d.tool_calls or []:
                    if tc.function and tc.function.name:
                        names[tc.index] = tc.function.name
                    if tc.function and tc.function.arguments:
                        args[tc.index] = args.get(tc.index, "") + tc.function.arguments
                        deltas += 1
                finish = ch.choices[0].finish_reason or finish
            self.deltas = deltas
            return text, [(names[i], json.loads(args[i])) for i in sorted(args)], finish, usage
        kw = {
            "model": model,
            "max_tokens": 100,
            "messages": extra.pop("messages", [{"role": "user", "content": "hi"}]),
            **extra,
        }
        if tools:
            kw["tools"] = AN_TOOLS
            if forced:
                kw["tool_choice"] = {"type": "tool", "name": "get_weather"}
        if stream:
            deltas = 0
            with self.an.messages.stream(**kw) as s:
                for ev in s:
                    if ev.type == "content_block_delta" and ev.delta.type == "input_json_delta":
                        deltas += 1
                msg = s.get_final_message()
            self.deltas = deltas
        else:
            msg = self.an.messages.create(**kw)
        text = "".join(b.text for b in msg.content if b.type == "text")
        calls = [(b.name, b.input) for b in msg.content if b.type == "tool_use"]
        return text, calls, msg.stop_reason, msg.usage


def sent(mock: MockProvider) -> dict[str, Any]:
    return json.loads(mock.requests()[-1]["body"])  # type: ignore[no-any-return]


def tool_stop(dialect: str) -> str:
    return {"openai": "tool_calls", "anthropic": "tool_use", "responses": "completed"}[dialect]


def end_stop(dialect: str) -> str:
    return {"openai": "stop", "anthropic": "end_turn", "responses": "completed"}[dialect]


def native_responses(c: Caller, up: str) -> bool:
    """Whether the upstream got the Responses caller's own bytes (it speaks the Responses API)."""
    return c.dialect == "responses" and up in ("openai", "azure")


# -- per-feature checks ----------------------------------------------------------------------------------


def check_text(c: Caller, up: str, mock: MockProvider) -> None:
    text, calls, stop, _ = c.ask(up)
    assert (text, calls, stop) == (TEXT, [], end_stop(c.dialect))
    assert sent(mock) is not None


def check_stream(c: Caller, up: str, mock: MockProvider) -> None:
    text, _, stop, usage = c.ask(up, stream=True)
    assert (text, stop) == (TEXT, end_stop(c.dialect))
    assert usage is not None and (usage.completion_tokens if c.dialect == "openai" else usage.output_tokens) == 8


def check_tool_call(c: Caller, up: str, mock: MockProvider) -> None:
    _, calls, stop, _ = c.ask(up, tools=True, forced=True)
    assert (calls, stop) == ([("get_weather", ARGS[0])], tool_stop(c.dialect))


def check_tool_call_stream(c: Caller, up: str, mock: MockProvider) -> None:
    _, calls, stop, _ = c.ask(up, stream=True, tools=True, forced=True)
    assert (calls, stop) == ([("get_weather", ARGS[0])], tool_stop(c.dialect))
    assert c.deltas == (1 if up == "gemini" else 3), "Gemini sends a call whole; the others in argument deltas"


def check_parallel_tools(c: Caller, up: str, mock: MockProvider) -> None:
    for stream in (False, True):
        _, calls, stop, _ = c.ask(f"{up}-tools2", stream=stream, tools=True)
        assert (calls, stop) == ([("get_weather", ARGS[0]), ("get_weather", ARGS[1])], tool_stop(c.dialect))


def check_tool_result(c: Caller, up: str, mock: MockProvider) -> None:
    if c.dialect == "responses":
        history: Any = [
            {"role": "user", "content": "weather?"},
            {"type": "function_call", "call_id": "call_9", "name": "get_weather", "arguments": '{"city":"Paris"}'},
            {"type": "function_call_output", "call_id": "call_9", "output": "18C"},
        ]
    elif c.dialect == "openai":
        history = [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_9",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_9", "content": "18C"},
        ]
    else:
        history = [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "call_9", "name": "get_weather", "input": {"city": "Paris"}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_9", "content": "18C"}]},
        ]
    text, _, _, _ = c.ask(up, tools=True, **{"input" if c.dialect == "responses" else "messages": history})
    assert text == TEXT
    body = sent(mock)
    if native_responses(c, up):
        assert body["input"] == history
    elif up in ("openai", "azure"):
        assert body["messages"][-1] == {"role": "tool", "tool_call_id": "call_9", "content": "18C"}
        assert body["messages"][-2]["tool_calls"][0]["id"] == "call_9"
    elif up == "anthropic":
        assert body["messages"][-1] == {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "call_9", "content": "18C"}],
        }
        assert body["messages"][-2]["content"] == [
            {"type": "tool_use", "id": "call_9", "name": "get_weather", "input": {"city": "Paris"}}
        ]
    else:
        assert body["contents"][-1] == {
            "role": "user",
            "parts": [{"functionResponse": {"name": "get_weather", "response": {"content": "18C"}}}],
        }
        assert body["contents"][-2] == {
            "role": "model",
            "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
        }


def check_image(c: Caller, up: str, mock: MockProvider) -> None:
    if c.dialect == "responses":
        content: Any = [
            {"type": "input_text", "text": "what?"},
            {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "auto"},
        ]
    elif c.dialect == "openai":
        content = [
            {"type": "text", "text": "what?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        ]
    else:
        content = [
            {"type": "text", "text": "what?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        ]
    turn = [{"role": "user", "content": content}]
    text, _, _, _ = c.ask(up, **{"input" if c.dialect == "responses" else "messages": turn})
    assert text == TEXT
    body = sent(mock)
    if native_responses(c, up):
        assert body["input"] == turn
    elif up in ("openai", "azure"):
        image = body["messages"][-1]["content"][1]
        assert image["type"] == "image_url" and image["image_url"]["url"] == f"data:image/png;base64,{PNG}"
    elif up == "anthropic":
        assert body["messages"][-1]["content"][1] == {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": PNG},
        }
    else:
        assert body["contents"][-1]["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": PNG}}


def check_json_output(c: Caller, up: str, mock: MockProvider) -> None:
    if c.dialect in ("openai", "responses"):
        if c.dialect == "openai":
            fmt: Any = {"response_format": {"type": "json_schema", "json_schema": {"name": "place", "schema": SCHEMA}}}
        else:
            fmt = {"text": {"format": {"type": "json_schema", "name": "place", "schema": SCHEMA}}}
        text, calls, stop, _ = c.ask(up, **fmt)
        assert calls == [] and stop == end_stop(c.dialect)
        if up == "anthropic":  # the forced tool's input comes back as the content
            assert json.loads(text) == ARGS[0]
    else:
        c.ask(up, output_config={"format": {"type": "json_schema", "schema": SCHEMA}})
    body = sent(mock)
    if native_responses(c, up):
        assert body["text"]["format"]["schema"] == SCHEMA
    elif up in ("openai", "azure"):
        assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    elif up == "anthropic" and c.dialect != "anthropic":
        assert body["tool_choice"] == {"type": "tool", "name": "json_output"}
        assert body["tools"][-1]["input_schema"] == SCHEMA
    elif up == "anthropic":  # the caller's own bytes
        assert body["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    else:
        assert body["generationConfig"]["responseSchema"] == SCHEMA


def check_usage(c: Caller, up: str, mock: MockProvider, gw: Gateway) -> None:
    # the mock reports 5 cache-read, 4 reasoning, 8 visible output (Anthropic: +7/+3 cache writes)
    for stream in (False, True):
        _, _, _, usage = c.ask(f"{up}-cache", stream=stream)
        rec = gw.admin_requests()["recent"][-1]["usage"]
        assert rec["cache_read_tokens"] == 5
        if up == "anthropic":  # no reasoning split; cache writes by TTL
            assert (
                rec["output_tokens"],
                rec["reasoning_tokens"],
                rec["cache_write_5m_tokens"],
                rec["cache_write_1h_tokens"],
            ) == (12, 0, 7, 3)
        else:
            assert (rec["output_tokens"], rec["reasoning_tokens"]) == (8, 4)
        if c.dialect == "responses":
            assert usage.input_tokens_details.cached_tokens == 5 and usage.output_tokens == 12
            assert usage.input_tokens == rec["prompt_tokens"]
            assert usage.output_tokens_details.reasoning_tokens == rec["reasoning_tokens"]
        elif c.dialect == "openai":
            assert usage.prompt_tokens_details.cached_tokens == 5 and usage.completion_tokens == 12
            assert usage.prompt_tokens == rec["prompt_tokens"]
            assert usage.completion_tokens_details.reasoning_tokens == rec["reasoning_tokens"]
        else:
            assert usage.cache_read_input_tokens == 5 and usage.output_tokens == 12
            assert usage.input_tokens == rec["input_tokens"]


def check_upstream_error(c: Caller, up: str, mock: MockProvider) -> None:
    exc: Any = anthropic.RateLimitError if c.dialect == "anthropic" else openai.RateLimitError
    with pytest.raises(exc) as info:
        c.ask(f"{up}-429")
    assert info.value.status_code == 429 and "mock error" in str(info.value)
    assert info.value.response.headers["retry-after"] == "7"


def check_stream_cut(c: Caller, up: str, mock: MockProvider) -> None:
    exc: Any = {"openai": openai.APIError, "anthropic": anthropic.APIError, "responses": StreamFailed}[c.dialect]
    for fault in ("cut", "errevent"):
        with pytest.raises(exc):
            c.ask(f"{up}-{fault}", stream=True)


M64 = 2**64 - 1


def mock_vector(text: str, dims: int = 8) -> list[float]:
    """The mock's embedding of `text` (benches/mock_provider/README.md): FNV-1a seed, splitmix64 per value."""
    seed = 0xCBF29CE484222325
    for byte in text.encode():
        seed = ((seed ^ byte) * 0x100000001B3) & M64

    def mix(x: int) -> int:
        z = (x + 0x9E3779B97F4A7C15) & M64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    return [((mix((seed + j) & M64) >> 40) - 2**23) / 2**23 for j in range(dims)]


def refused(call: Any) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        call()
    assert info.value.code == "unsupported_endpoint" and "does not serve" in str(info.value)


def check_embeddings(c: Caller, up: str, mock: MockProvider) -> None:
    def call() -> Any:
        return c.oa.embeddings.create(model=up, input=["alpha", "beta"], encoding_format="float")

    if up not in SERVED["embeddings"]:
        return refused(call)
    got = call()
    assert [d.embedding for d in got.data] == [mock_vector("alpha"), mock_vector("beta")]
    path = mock.requests()[-1]["path"]
    assert path.endswith(":batchEmbedContents" if up == "gemini" else "/embeddings")


def check_images(c: Caller, up: str, mock: MockProvider) -> None:
    def call() -> Any:
        return c.oa.images.generate(model=up, prompt="a fox", response_format="b64_json")

    if up not in SERVED["images"]:
        return refused(call)
    got = call()
    assert got.data is not None and base64.b64decode(got.data[0].b64_json or "").startswith(b"\x89PNG")
    assert mock.requests()[-1]["path"].endswith("/images/generations")


def check_responses(c: Caller, up: str, mock: MockProvider) -> None:
    got = c.oa.responses.create(model=up, input="hi")
    assert got.output_text == TEXT and got.status == "completed"
    assert mock.requests()[-1]["path"].endswith("/responses") == (up in NATIVE_RESPONSES)


CHECKS = {name: globals()[f"check_{name}"] for name in FEATURES}
CELLS = [
    (caller, upstream, feature)
    for caller in CALLERS
    for upstream in PROTOCOLS
    for feature in FEATURES
    if feature not in PER_UPSTREAM or caller == "openai"
]


@pytest.mark.parametrize(("caller", "upstream", "feature"), CELLS)
def test_matrix(native_gateway: Gateway, mock: MockProvider, caller: str, upstream: str, feature: str) -> None:
    c = Caller(caller, native_gateway)
    if feature == "usage":
        check_usage(c, upstream, mock, native_gateway)
    else:
        CHECKS[feature](c, upstream, mock)


def render_table() -> str:
    """The README's table: one row per upstream protocol and caller dialect, a cell per feature this grid
    runs: ✓, `400` (refused with a clear error, tested), `native` / `translated` (how the Responses API
    reaches the upstream), `—` (per-upstream features are tested once, in the openai SDK's row)."""

    def cell(caller: str, up: str, feature: str) -> str:
        if feature in PER_UPSTREAM and caller != "openai":
            return "—"
        if feature in SERVED and up not in SERVED[feature]:
            return "400"
        if feature == "responses":
            return "native" if up in NATIVE_RESPONSES else "translated"
        return "✓"

    head = "| upstream ← caller | " + " | ".join(FEATURES.values()) + " |"
    rows = [head, "| --- |" + " :-: |" * len(FEATURES)]
    for up, label in PROTOCOLS.items():
        for caller in CALLERS:
            sdk = {"openai": "openai SDK", "anthropic": "anthropic SDK", "responses": "openai SDK, Responses API"}[
                caller
            ]
            rows.append(f"| {label} ← {sdk} | " + " | ".join(cell(caller, up, f) for f in FEATURES) + " |")
    return "\n".join(rows)


def test_readme_table_is_this_grid() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start, end = "<!-- translation-matrix:start -->\n", "\n<!-- translation-matrix:end -->"
    assert readme[readme.index(start) + len(start) : readme.index(end)] == render_table()
