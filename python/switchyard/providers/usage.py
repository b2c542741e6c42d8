"""Where each provider reports its tokens, and how they map into the non-overlapping classes of `Usage`.

class (Usage.of)   OpenAI-compatible `usage`        Anthropic `usage`                   Gemini `usageMetadata`
input (uncached)   prompt_tokens - cached_tokens    input_tokens                        promptTokenCount - cached
cache_read         prompt_tokens_details.           cache_read_input_tokens             cachedContentTokenCount
                   cached_tokens (INSIDE prompt)    (BESIDE input_tokens)               (inside promptTokenCount)
cache_write_5m     —                                cache_creation.ephemeral_5m_input_  —
                                                    tokens (else all cache_creation_
                                                    input_tokens)
cache_write_1h     —                                cache_creation.ephemeral_1h_input_  —
                                                    tokens
output             completion_tokens - reasoning    output_tokens (thinking included;   candidatesTokenCount
                                                    Anthropic reports no split)
reasoning          completion_tokens_details.       — (inside output_tokens)            thoughtsTokenCount (OUTSIDE
                   reasoning_tokens (inside)                                            candidatesTokenCount)
service_tier       response `service_tier`          usage.service_tier                  —

The OpenAI Responses API (`response.usage`) names the same counts differently:
class (Usage.of)   Responses `usage`
input (uncached)   input_tokens - input_tokens_details.cached_tokens
cache_read         input_tokens_details.cached_tokens (INSIDE input_tokens)
cache_write_5m/1h  — (like chat's, `cache_write_tokens` stays in the uncached input)
output             output_tokens - output_tokens_details.reasoning_tokens
reasoning          output_tokens_details.reasoning_tokens (INSIDE output_tokens)
service_tier       the response's `service_tier`

The traps, each tested (tests/providers/test_usage.py):
  - OpenAI's cached tokens are inside `prompt_tokens`; Anthropic's are beside `input_tokens` (adding them
    to get the prompt total) and split by TTL in `cache_creation`.
  - Anthropic streams put preliminary counts in `message_start` and the final ones in `message_delta`
    (cumulative); LiteLLM #42663 counted the `message_start` ones. `merge_anthropic` lets each field of
    the later report win and keeps the earlier value only where the later one is absent.
  - Gemini's `thoughtsTokenCount` is outside `candidatesTokenCount`: completion = candidates + thoughts.
  - Gemini repeats `usageMetadata` on stream chunks; the last one is the total.
"""

from __future__ import annotations

from typing import Any

from switchyard.canonical import JsonObject, Usage


def _int(raw: Any, key: str) -> int:
    v = raw.get(key) if isinstance(raw, dict) else None
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0


def openai_usage(raw: Any, service_tier: Any = None) -> Usage | None:
    """An OpenAI `usage` object (None if absent or not an object). On every pass-through answer's path:
    built without helpers (~1 µs)."""
    if not isinstance(raw, dict):
        return None
    prompt = raw.get("prompt_tokens")
    prompt = prompt if type(prompt) is int else 0
    completion = raw.get("completion_tokens")
    completion = completion if type(completion) is int else 0
    details = raw.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if type(details) is dict else 0
    cached = cached if type(cached) is int and 0 <= cached <= prompt else 0
    details = raw.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if type(details) is dict else 0
    reasoning = reasoning if type(reasoning) is int and 0 <= reasoning <= completion else 0
    tier = service_tier if type(service_tier) is str else None
    return Usage(
        prompt,
        completion,
        prompt + completion,
        prompt - cached,
        cached,
        0,
        0,
        completion - reasoning,
        reasoning,
        False,
        tier,
    )


def responses_usage(raw: Any, service_tier: Any = None) -> Usage | None:
    """An OpenAI Responses `usage` object (None if absent or not an object); counts out of range (cached
    above input, reasoning above output) are ignored as `openai_usage` ignores them."""
    if not isinstance(raw, dict):
        return None
    given, produced = _int(raw, "input_tokens"), _int(raw, "output_tokens")
    cached = _int(raw.get("input_tokens_details"), "cached_tokens")
    cached = cached if 0 <= cached <= given else 0
    reasoning = _int(raw.get("output_tokens_details"), "reasoning_tokens")
    reasoning = reasoning if 0 <= reasoning <= produced else 0
    return Usage.of(
        input=given - cached,
        cache_read=cached,
        output=produced - reasoning,
        reasoning=reasoning,
        service_tier=service_tier if isinstance(service_tier, str) else None,
    )


def merge_anthropic(earlier: JsonObject | None, later: Any) -> JsonObject | None:
    """Anthropic stream usage: `message_delta`'s counts win over `message_start`'s, field by field."""
    if not isinstance(later, dict):
        return earlier
    merged = dict(earlier or {})
    merged.update({k: v for k, v in later.items() if v is not None})
    return merged


def anthropic_usage(raw: Any) -> Usage | None:
    """An Anthropic `usage` object."""
    if not isinstance(raw, dict):
        return None
    creation = raw.get("cache_creation")
    written = _int(raw, "cache_creation_input_tokens")
    if isinstance(creation, dict):
        w5, w1 = _int(creation, "ephemeral_5m_input_tokens"), _int(creation, "ephemeral_1h_input_tokens")
        if w5 + w1 != written and written:  # an older report without the split: all 5-minute
            w5, w1 = written - w1, w1
    else:
        w5, w1 = written, 0
    tier = raw.get("service_tier")
    return Usage.of(
        input=_int(raw, "input_tokens"),
        cache_read=_int(raw, "cache_read_input_tokens"),
        cache_write_5m=w5,
        cache_write_1h=w1,
        output=_int(raw, "output_tokens"),
        service_tier=tier if isinstance(tier, str) else None,
    )


def gemini_usage(raw: Any) -> Usage | None:
    """A Gemini `usageMetadata` object."""
    if not isinstance(raw, dict):
        return None
    prompt, cached = _int(raw, "promptTokenCount"), _int(raw, "cachedContentTokenCount")
    return Usage.of(
        input=prompt - cached,
        cache_read=cached,
        output=_int(raw, "candidatesTokenCount"),
        reasoning=_int(raw, "thoughtsTokenCount"),
    )
