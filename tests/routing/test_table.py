"""switchyard.routing.table: model name → group (exact first, then the longest `prefix/*`), and a group's
weighted try order (one deployment drawn by weight, the rest in config order)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from switchyard.config import DeploymentConfig, ModelConfig
from switchyard.routing.table import Deployment, Group, ModelTable


def _group(*deps: tuple[str, str, float]) -> ModelConfig:
    return ModelConfig([DeploymentConfig(provider=p, model=m, weight=w) for p, m, w in deps])


TABLE = ModelTable(
    {
        "chat": _group(("deepseek", "deepseek-chat", 3), ("openai", "gpt-4o-mini", 1)),
        "openai/gpt-4o": _group(("azure", "gpt-4o-eu", 1)),
        "openai/*": _group(("openai", "*", 1)),
        "a/*": _group(("pa", "*", 1)),
        "a/b/*": _group(("pab", "*", 1)),
        "demo": _group(("demo", "demo", 1)),
    }
)


@pytest.mark.parametrize(
    ("model", "group"),
    [
        ("chat", "chat"),
        ("demo", "demo"),
        ("openai/gpt-4o", "openai/gpt-4o"),  # an exact name beats a matching wildcard
        ("openai/gpt-4o-mini", "openai/*"),
        ("openai/ft:gpt-4o:org/v2", "openai/*"),  # the rest may contain slashes
        ("a/x", "a/*"),
        ("a/b/c", "a/b/*"),  # the longest prefix wins
        ("a/b/c/d", "a/b/*"),
        ("a/bc", "a/*"),
        ("a/b/", "a/*"),  # `a/b/*` would leave an empty rest, so `a/*` takes it with rest `b/`
    ],
)
def test_resolve_finds_the_group(model: str, group: str) -> None:
    resolved = TABLE.resolve(model)
    assert resolved is not None and resolved.name == group


@pytest.mark.parametrize("model", ["", "openai/", "openai", "gpt-4o", "x/openai/gpt-4o", "a/", "Chat", "chat "])
def test_resolve_unknown_is_none(model: str) -> None:
    assert TABLE.resolve(model) is None


def test_resolve_without_wildcards_is_exact_only() -> None:
    table = ModelTable({"chat": _group(("p", "m", 1))})
    assert table.resolve("chat") is not None
    assert table.resolve("chat/x") is None
    assert ModelTable({}).resolve("chat") is None


def test_listed_is_sorted_exact_names_without_wildcards() -> None:
    assert TABLE.listed() == ["chat", "demo", "openai/gpt-4o"]


def test_single_deployment_ignores_the_draw() -> None:
    group = Group("g", _group(("p", "m", 5)))
    for draw in [0.0, 0.5, 0.999999]:
        assert group.order("g", draw) == [Deployment("p", "m", 5)]


def _first(group: Group, draw: float) -> str:
    return group.order(group.name, draw)[0].provider


@pytest.mark.parametrize(
    ("draw", "first"),
    [
        (0.0, "a"),
        (math.nextafter(0.75, 0), "a"),  # weights 3:1: [0, 0.75) draws a
        (0.75, "b"),
        (math.nextafter(0.75, 1), "b"),
        (0.999999, "b"),
    ],
)
def test_two_way_draw_boundaries(draw: float, first: str) -> None:
    assert _first(Group("g", _group(("a", "m", 3), ("b", "m", 1))), draw) == first


@pytest.mark.parametrize(
    ("draw", "order"),
    [
        (0.0, "abc"),
        (math.nextafter(0.25, 0), "abc"),  # weights 1:2:1: a [0, .25), b [.25, .75), c [.75, 1)
        (0.25, "bac"),
        (math.nextafter(0.75, 0), "bac"),
        (0.75, "cab"),
        (0.999999, "cab"),
    ],
)
def test_three_way_draw_and_the_rest_in_config_order(draw: float, order: str) -> None:
    group = Group("g", _group(("a", "m1", 1), ("b", "m2", 2), ("c", "m3", 1)))
    deps = group.order("g", draw)
    assert "".join(d.provider for d in deps) == order
    assert {d.provider: d.model for d in deps} == {"a": "m1", "b": "m2", "c": "m3"}


def test_fractional_weights_scale_like_integers() -> None:
    group = Group("g", _group(("a", "m", 0.25), ("b", "m", 0.75)))
    assert [_first(group, d) for d in (0.0, math.nextafter(0.25, 0), 0.25, 0.999999)] == ["a", "a", "b", "b"]


def test_order_does_not_mutate_the_group() -> None:
    group = Group("g", _group(("a", "m", 1), ("b", "m", 1), ("c", "m", 1)))
    before = list(group.deployments)
    group.order("g", 0.9)
    assert group.deployments == before


def test_wildcard_star_becomes_the_suffix() -> None:
    group = Group("openai/*", _group(("openai", "*", 1), ("azure", "gpt-4o-fixed", 1)))
    assert group.wildcard
    assert group.order("openai/gpt-4o", 0.0) == [
        Deployment("openai", "gpt-4o", 1),
        Deployment("azure", "gpt-4o-fixed", 1),  # a named upstream model stays as configured
    ]
    assert group.order("openai/ft:gpt-4o/v2", 0.99)[1].model == "ft:gpt-4o/v2"


def test_nested_wildcard_suffix_is_after_the_longest_prefix() -> None:
    group = TABLE.resolve("a/b/c/d")
    assert group is not None
    assert group.order("a/b/c/d", 0.5) == [Deployment("pab", "c/d", 1)]
    outer = TABLE.resolve("a/b/")
    assert outer is not None and outer.order("a/b/", 0.5)[0].model == "b/"


def test_exact_group_keeps_a_literal_model() -> None:
    group = Group("chat", _group(("p", "m", 1)))
    assert not group.wildcard
    assert group.order("chat", 0.1)[0].name == "p/m"


def test_weighted_draw_frequencies_match_the_weights() -> None:
    """4,000 draws at 3:1: the count of `a` is Binomial(4000, 0.75), mean 3000, sigma sqrt(750) ~ 27.4.
    Allowing 5 sigma (~137) fails a correct table with probability ~6e-7; swapping or ignoring the
    weights (mean 1000 or 2000) fails it every time."""
    rng = random.Random(20240601)
    group = Group("g", _group(("a", "m", 3), ("b", "m", 1)))
    n, p = 4000, 0.75
    hits = sum(_first(group, rng.random()) == "a" for _ in range(n))
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(hits - n * p) <= 5 * sigma, (hits, n * p, sigma)


_weights = st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=8)


@given(weights=_weights, draw=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_order_is_a_permutation_led_by_the_weighted_pick(weights: list[int], draw: float) -> None:
    group = Group("g", _group(*((f"p{i}", "m", w) for i, w in enumerate(weights))))
    deps = group.order("g", draw)
    chosen = int(deps[0].provider[1:])
    low, high = sum(weights[:chosen]), sum(weights[: chosen + 1])
    assert low <= draw * sum(weights) < high or (chosen == len(weights) - 1 and draw * sum(weights) >= low)
    assert deps[1:] == [d for d in group.deployments if d is not deps[0]]
