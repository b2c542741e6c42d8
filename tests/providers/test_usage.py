"""The usage mapping table (providers/usage.py): each provider's report into the non-overlapping classes,
and the traps the module docstring names."""

from __future__ import annotations

from switchyard.canonical import Usage
from switchyard.dialects.anthropic.response import usage_of
from switchyard.dialects.responses import response as responses_response
from switchyard.providers.usage import anthropic_usage, gemini_usage, merge_anthropic, openai_usage, responses_usage


def classes(u: Usage | None) -> tuple[int, ...]:
    assert u is not None
    return (
        u.input_tokens,
        u.cache_read_tokens,
        u.cache_write_5m_tokens,
        u.cache_write_1h_tokens,
        u.output_tokens,
        u.reasoning_tokens,
    )


def test_openai_cached_tokens_are_inside_prompt_tokens() -> None:
    # https://platform.openai.com/docs/guides/prompt-caching: cached_tokens is part of prompt_tokens
    raw = {
        "prompt_tokens": 2006,
        "completion_tokens": 300,
        "total_tokens": 2306,
        "prompt_tokens_details": {"cached_tokens": 1920},
        "completion_tokens_details": {"reasoning_tokens": 256},
    }
    u = openai_usage(raw, "default")
    assert classes(u) == (86, 1920, 0, 0, 44, 256)
    assert u is not None and (u.prompt_tokens, u.completion_tokens, u.total_tokens, u.service_tier) == (
        2006,
        300,
        2306,
        "default",
    )
    assert u.openai() == {**raw, "prompt_tokens_details": {"cached_tokens": 1920}}


def test_anthropic_cache_tokens_are_beside_input_tokens_and_split_by_ttl() -> None:
    raw = {
        "input_tokens": 50,
        "cache_read_input_tokens": 1800,
        "cache_creation_input_tokens": 248,
        "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 48},
        "output_tokens": 503,
        "service_tier": "priority",
    }
    u = anthropic_usage(raw)
    assert classes(u) == (50, 1800, 200, 48, 503, 0)
    assert u is not None and u.prompt_tokens == 50 + 1800 + 248 and u.service_tier == "priority"
    assert usage_of(u) == {**raw, "cache_creation": raw["cache_creation"]}
    older = anthropic_usage({"input_tokens": 5, "cache_creation_input_tokens": 10, "output_tokens": 1})
    assert classes(older) == (5, 0, 10, 0, 1, 0), "without the TTL split, all writes are 5-minute ones"


def test_anthropic_stream_final_counts_come_from_message_delta() -> None:
    start = {"input_tokens": 472, "cache_read_input_tokens": 100, "output_tokens": 1}
    delta = {"output_tokens": 89}
    u = anthropic_usage(merge_anthropic(merge_anthropic(None, start), delta))
    assert classes(u) == (472, 100, 0, 0, 89, 0)
    cumulative = {"input_tokens": 470, "cache_read_input_tokens": 100, "output_tokens": 90}  # later API versions
    assert classes(anthropic_usage(merge_anthropic(start, cumulative))) == (470, 100, 0, 0, 90, 0)


def test_gemini_thoughts_are_outside_candidates() -> None:
    u = gemini_usage(
        {
            "promptTokenCount": 2064,
            "cachedContentTokenCount": 2048,
            "candidatesTokenCount": 12,
            "thoughtsTokenCount": 458,
        }
    )
    assert classes(u) == (16, 2048, 0, 0, 12, 458)
    assert u is not None and (u.prompt_tokens, u.completion_tokens) == (2064, 470)


def test_reasoning_goes_to_anthropic_output_tokens() -> None:
    u = Usage.of(input=10, cache_read=5, output=8, reasoning=4)
    out = usage_of(u)
    assert (out["input_tokens"], out["cache_read_input_tokens"], out["output_tokens"]) == (10, 5, 12)


def test_responses_cached_and_reasoning_tokens_are_inside_their_totals() -> None:
    # https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage
    raw = {
        "input_tokens": 2006,
        "input_tokens_details": {"cached_tokens": 1920},
        "output_tokens": 300,
        "output_tokens_details": {"reasoning_tokens": 256},
        "total_tokens": 2306,
    }
    u = responses_usage(raw, "default")
    assert classes(u) == (86, 1920, 0, 0, 44, 256)
    assert u is not None and (u.prompt_tokens, u.completion_tokens, u.total_tokens, u.service_tier) == (
        2006,
        300,
        2306,
        "default",
    )
    back = responses_response.usage_of(u)
    assert back == {**raw, "input_tokens_details": {"cached_tokens": 1920, "cache_write_tokens": 0}}
    out_of_range = {
        "input_tokens": 5,
        "input_tokens_details": {"cached_tokens": 9},
        "output_tokens": 3,
        "output_tokens_details": {"reasoning_tokens": 4},
    }
    assert classes(responses_usage(out_of_range)) == (5, 0, 0, 0, 3, 0)


def test_absent_or_malformed_reports() -> None:
    assert openai_usage(None) is None and anthropic_usage("x") is None and gemini_usage([]) is None
    assert responses_usage([]) is None
    assert classes(responses_usage({"input_tokens": "7", "output_tokens": True})) == (0, 0, 0, 0, 0, 0)
    assert classes(openai_usage({"prompt_tokens": "7", "completion_tokens": True})) == (0, 0, 0, 0, 0, 0)
