"""Request/response pairs shaped on the providers' documentation (tests/fixtures/*/; each names its page):
the canonical request through each adapter's table, and Azure's answers through both dialects."""

from __future__ import annotations

from pathlib import Path

import orjson
from switchyard.canonical import decode_request
from switchyard.dialects.anthropic.response import StreamTranslator, whole
from switchyard.providers import params
from switchyard.providers.anthropic import request as anthropic_request
from switchyard.providers.gemini import request as gemini_request
from switchyard.providers.openai import whole_usage
from switchyard.providers.usage import openai_usage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_anthropic_tool_use_request() -> None:
    pair = orjson.loads((FIXTURES / "anthropic" / "request_tool_use.json").read_bytes())
    req = decode_request(orjson.dumps(pair["openai_request"]))
    out = {"model": "claude-sonnet-4-5", **params.apply(req, anthropic_request.PARAMS, "a/claude-sonnet-4-5")}
    assert out == pair["anthropic_request"]


def test_gemini_function_calling_request() -> None:
    pair = orjson.loads((FIXTURES / "gemini" / "request_function_calling.json").read_bytes())
    req = decode_request(orjson.dumps(pair["openai_request"]))
    assert params.apply(req, gemini_request.PARAMS, "g/gemini") == pair["gemini_request"]


def test_azure_answer_for_both_dialects() -> None:
    body = (FIXTURES / "azure" / "chat_completion.json").read_bytes()
    relayed, usage = body, whole_usage(body)
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (58, 13)
    msg = orjson.loads(whole(relayed, usage))
    assert msg["content"] == [{"type": "text", "text": "Yes, customer managed keys are supported by Azure OpenAI."}]
    assert (msg["stop_reason"], msg["usage"]["input_tokens"], msg["usage"]["output_tokens"]) == ("end_turn", 58, 13)


def test_azure_stream_with_a_filter_results_first_chunk_for_an_anthropic_caller() -> None:
    raw = (FIXTURES / "azure" / "stream.sse").read_bytes()
    seen: list[bytes] = []

    def usage() -> object:
        return openai_usage(orjson.loads(seen[-1].split(b"data: ")[-1])["usage"]) if seen else None

    tap = StreamTranslator(usage)  # type: ignore[arg-type]
    out = b""
    for block in raw.split(b"\n\n"):
        if b'"usage"' in block:
            seen.append(block)
        out += tap.feed(block + b"\n\n")
    names = [line[7:] for line in out.decode().split("\n") if line.startswith("event: ")]
    assert names == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert tap.done and b'"text":"Hello"' in out and b'"output_tokens":2' in out
