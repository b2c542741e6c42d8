"""switchyard.routing.policy: strategies, content tiers (a documented table of prompts), session affinity,
context pre-checks, health ordering and fallback legs. Pure: features, health and a clock in."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from switchyard._core import inspect_request
from switchyard.config import HealthConfig, parse_config
from switchyard.routing.health import Health
from switchyard.routing.policy import Ask, pick_tier, plan
from switchyard.routing.table import ModelTable

TREE: dict[str, Any] = {
    "providers": {p: {"kind": "demo"} for p in ("a", "b", "c")},
    "models": {
        "w": {
            "deployments": [{"provider": "a", "model": "x", "weight": 3}, {"provider": "b", "model": "x", "weight": 1}]
        },
        "ordered": {
            "strategy": "fallback",
            "deployments": [
                {"provider": "a", "model": "x"},
                {"provider": "b", "model": "x"},
                {"provider": "c", "model": "x"},
            ],
            "fallbacks": ["cheap"],
        },
        "fast": {
            "strategy": "least-latency",
            "deployments": [{"provider": "a", "model": "x"}, {"provider": "b", "model": "x"}],
        },
        "idle": {
            "strategy": "least-busy",
            "deployments": [{"provider": "a", "model": "x"}, {"provider": "b", "model": "x"}],
        },
        "cheap": {
            "strategy": "cheapest",
            "deployments": [
                {"provider": "a", "model": "x", "input_cost": 5, "output_cost": 15},
                {"provider": "b", "model": "x", "input_cost": 0.15, "output_cost": 0.6},
                {"provider": "c", "model": "x"},
            ],
        },
        "slo": {
            "strategy": "latency-slo",
            "max_latency_ms": 500,
            "deployments": [
                {"provider": "a", "model": "x", "input_cost": 1},
                {"provider": "b", "model": "x", "input_cost": 2},
                {"provider": "c", "model": "x", "input_cost": 3},
            ],
        },
        "windows": {
            "deployments": [
                {"provider": "a", "model": "small", "context_window": 1000},
                {"provider": "b", "model": "big", "context_window": 200000},
            ]
        },
        "mini": {"deployments": [{"provider": "a", "model": "mini"}]},
        "coder": {"deployments": [{"provider": "b", "model": "coder"}]},
        "thinker": {"deployments": [{"provider": "c", "model": "o3"}]},
        "vision": {"deployments": [{"provider": "b", "model": "4o"}]},
        "auto": {
            "tiers": [
                {"name": "vision", "route": "vision", "images": True},
                {"name": "reasoning", "route": "thinker", "reasoning": True},
                {"name": "code", "route": "coder", "code": True},
                {"name": "agent", "route": "thinker", "tools": True, "min_messages": 4},
                {"name": "long", "route": "thinker", "min_chars": 4000},
                {"name": "simple", "route": "mini"},
            ]
        },
    },
}
CONFIG = parse_config(TREE, {})
TABLE = ModelTable(CONFIG.models)


def health() -> Health:
    return Health(HealthConfig(failures=1, window_s=10, cooldown_s=30))


def info(content: Any = "hi", **extra: Any) -> Any:
    import orjson

    return inspect_request(orjson.dumps({"model": "m", "messages": [{"role": "user", "content": content}], **extra}))


def names(
    group: str, h: Health | None = None, ask: Ask | None = None, draw: float = 0.0, prompt: int = 0, **kw: Any
) -> list[str]:
    g = TABLE.resolve(group)
    assert g is not None
    legs = plan(TABLE, g, group, info(**kw), h or health(), 100.0, draw, ask or Ask(), prompt)
    return [d.name for leg in legs for d in leg.deployments]


def test_weighted_draw_lands_within_tolerance() -> None:
    import random

    rng = random.Random(7)
    firsts = collections.Counter(names("w", draw=rng.random())[0] for _ in range(4000))
    assert abs(firsts["a/x"] / 4000 - 0.75) < 0.03


def test_fallback_order_then_fallback_groups() -> None:
    assert names("ordered") == ["a/x", "b/x", "c/x", "b/x", "a/x", "c/x"]  # then `cheap`, cheapest first


def test_cheapest_puts_unpriced_last() -> None:
    assert names("cheap") == ["b/x", "a/x", "c/x"]


def test_least_latency_prefers_the_fastest_and_explores_unmeasured() -> None:
    h = health()
    for name, ms in (("a/x", 300.0), ("b/x", 80.0)):
        h.started(name)
        h.succeeded(name, ms)
    assert names("fast", h) == ["b/x", "a/x"]
    for _ in range(20):  # a slows down: traffic shifts to b
        h.started("b/x")
        h.succeeded("b/x", 900.0)
    assert names("fast", h) == ["a/x", "b/x"]


def test_least_busy() -> None:
    h = health()
    h.started("a/x")
    h.started("a/x")
    h.started("b/x")
    assert names("idle", h) == ["b/x", "a/x"]


def test_latency_slo_is_the_cheapest_meeting_the_target() -> None:
    h = health()
    for name, ms in (("a/x", 900.0), ("b/x", 300.0), ("c/x", 100.0)):
        h.started(name)
        h.succeeded(name, ms)
    assert names("slo", h) == ["b/x", "c/x", "a/x"]
    assert names("slo", h, Ask(max_latency_ms=150)) == ["c/x", "b/x", "a/x"]  # the caller's header wins


def test_unhealthy_and_quota_low_go_last() -> None:
    h = health()
    h.started("a/x")
    h.failed("a/x", 99.0)  # cooling
    h.note_quota("b/x", "0", "10s", 99.0)
    assert names("ordered", h)[:3] == ["c/x", "b/x", "a/x"]


def test_context_window_pre_check_skips_small_deployments() -> None:
    g = TABLE.resolve("windows")
    assert g is not None
    legs = plan(TABLE, g, "windows", info(max_tokens=500), health(), 0, 0, Ask(), 600)
    assert [d.name for d in legs[0].deployments] == ["b/big"]
    assert "a/small: needs ~1100 tokens, context window 1000" in legs[0].skipped


def test_session_affinity_is_stable_and_spreads_sessions() -> None:
    picks = {s: names("w", ask=Ask(session=s), draw=0.99)[0] for s in (f"user-{i}" for i in range(200))}
    again = {s: names("w", ask=Ask(session=s), draw=0.01)[0] for s in picks}
    assert picks == again  # the draw does not move a session
    assert 60 < collections.Counter(picks.values())["a/x"] < 140


# The documented tier table: (prompt, extra request fields, expected tier).
CODE = "Fix this:\n```python\nprint(1\n```"
TIER_CASES: list[tuple[Any, dict[str, Any], str]] = [
    ("hi", {}, "simple"),
    ("What is the capital of France?", {}, "simple"),
    ("Translate 'good morning' to Spanish.", {}, "simple"),
    ("Summarise: the meeting moved to 3pm.", {}, "simple"),
    ("Write a haiku about autumn.", {}, "simple"),
    ("Think step by step: what is 17 * 23?", {}, "reasoning"),
    ("Prove that the square root of 2 is irrational.", {}, "reasoning"),
    ("Let's reason step by step about this puzzle.", {}, "reasoning"),
    (CODE, {}, "code"),
    ("Why does this fail?\n```js\nfoo(\n```", {}, "code"),
    ("```sql\nSELECT 1\n```", {}, "code"),
    ("x" * 4000, {}, "long"),
    ("word " * 1000, {}, "long"),
    ("x" * 3999, {}, "simple"),
    (
        [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
        {},
        "vision",
    ),
    ([{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}], {}, "vision"),
    ("weather?", {"tools": [{"type": "function", "function": {"name": "get_weather"}}]}, "simple"),  # tools but 1 msg
    ("Return JSON", {"response_format": {"type": "json_object"}}, "simple"),
    ("Step by step, prove it:\n```py\nx\n```", {}, "reasoning"),  # rules are tried in order
    ("hello " * 10, {}, "simple"),
]


@pytest.mark.parametrize(("content", "extra", "tier"), TIER_CASES)
def test_content_tier_table(content: Any, extra: dict[str, Any], tier: str) -> None:
    g = TABLE.resolve("auto")
    assert g is not None
    chosen, why = pick_tier(g.cfg.tiers, info(content, **extra), None)
    assert chosen is not None and chosen.name == tier, why


def test_tool_agent_tier_needs_a_conversation() -> None:
    import orjson

    msgs = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}] * 2
    body = orjson.dumps({"model": "m", "messages": msgs, "tools": [{"type": "function", "function": {"name": "f"}}]})
    g = TABLE.resolve("auto")
    assert g is not None
    chosen, why = pick_tier(g.cfg.tiers, inspect_request(body), None)
    assert chosen is not None and chosen.name == "agent" and "tools" in why and "messages>=4" in why


def test_tier_routes_to_its_group_and_says_why() -> None:
    g = TABLE.resolve("auto")
    assert g is not None
    legs = plan(TABLE, g, "auto", info(CODE), health(), 0, 0, Ask(), 0)
    assert [d.name for d in legs[0].deployments] == ["b/coder"]
    assert legs[0].reason.startswith("tier code (rule 3: code)")
    forced = plan(TABLE, g, "auto", info(CODE), health(), 0, 0, Ask(tier="simple"), 0)
    assert [d.name for d in forced[0].deployments] == ["a/mini"] and "x-switchyard-tier" in forced[0].reason
