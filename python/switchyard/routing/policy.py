"""Routing policy: (request features, health, a clock, a random draw) in, an ordered plan out, with the
reason for each choice. Pure: no I/O, no provider imports, so the same code can replay a logged trace.

One plan is a list of legs, one per model group it may use: the group the caller named (or the tier a
content rule chose), then its fallback groups. Within a leg the group's strategy orders the deployments;
then session affinity, context-window pre-checks, quota and health reorder or drop them.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from switchyard.config import TierConfig
from switchyard.routing.health import Health
from switchyard.routing.table import Deployment, Group, ModelTable


class Features(Protocol):
    """What routing reads from the inspected request (`_core.Inspected` has all of it)."""

    @property
    def text_len(self) -> int: ...
    @property
    def messages(self) -> int | None: ...
    @property
    def code_blocks(self) -> int: ...
    @property
    def reasoning_markers(self) -> int: ...
    @property
    def has_tools(self) -> bool: ...
    @property
    def has_images(self) -> bool: ...
    @property
    def has_response_format(self) -> bool: ...
    @property
    def max_tokens(self) -> int | None: ...


class Ask:
    """The caller's routing hints: a forced tier, a latency target, a session id."""

    __slots__ = ("max_latency_ms", "session", "tier")

    def __init__(self, tier: str | None = None, max_latency_ms: float | None = None, session: str | None = None):
        self.tier = tier
        self.max_latency_ms = max_latency_ms
        self.session = session


class Leg:
    """The deployments of one group, in the order to try them, and why."""

    __slots__ = ("deployments", "group", "reason", "skipped")

    def __init__(self, group: Group, deployments: list[Deployment], reason: str, skipped: list[str]) -> None:
        self.group = group
        self.deployments = deployments
        self.reason = reason
        self.skipped = skipped  # "deployment: why" for each one left out


def pick_tier(tiers: list[TierConfig], f: Features, forced: str | None) -> tuple[TierConfig | None, str]:
    """The first tier whose conditions all hold (or the one the caller forced by name), and why."""
    if forced is not None:
        for t in tiers:
            if t.name == forced:
                return t, f"tier {t.name} (x-switchyard-tier)"
    for i, t in enumerate(tiers):
        why = _matches(t, f)
        if why is not None:
            return t, f"tier {t.name} (rule {i + 1}: {why})"
    return None, "no tier matched"


def _matches(t: TierConfig, f: Features) -> str | None:
    checks: list[tuple[bool, str]] = []
    if t.min_chars is not None:
        checks.append((f.text_len >= t.min_chars, f"chars>={t.min_chars}"))
    if t.max_chars is not None:
        checks.append((f.text_len <= t.max_chars, f"chars<={t.max_chars}"))
    if t.min_messages is not None:
        checks.append(((f.messages or 0) >= t.min_messages, f"messages>={t.min_messages}"))
    for flag, value, label in (
        (t.code, f.code_blocks > 0, "code"),
        (t.reasoning, f.reasoning_markers > 0, "reasoning"),
        (t.tools, f.has_tools, "tools"),
        (t.images, f.has_images, "images"),
        (t.json, f.has_response_format, "json"),
    ):
        if flag is not None:
            checks.append((value == flag, label if flag else f"no {label}"))
    if not all(ok for ok, _ in checks):
        return None
    return ", ".join(label for _, label in checks) or "default"


def order_group(
    group: Group, model: str, f: Features, health: Health, now: float, draw: float, ask: Ask, prompt_tokens: int
) -> Leg:
    """One group's deployments in the order to try them (see the module docs)."""
    cfg = group.cfg
    strategy = cfg.strategy
    deps = group.order(model, draw if strategy == "weighted" else -1.0)
    reason: str = strategy
    if strategy == "least-latency":
        deps = sorted(deps, key=lambda d: health.ewma_ms(d.name) or 0.0)  # unmeasured first: explore them
    elif strategy == "least-busy":
        deps = sorted(deps, key=lambda d: health.in_flight(d.name))
    elif strategy == "cheapest":
        deps = sorted(deps, key=_cost)
    target = ask.max_latency_ms or cfg.max_latency_ms
    if strategy == "latency-slo" or ask.max_latency_ms is not None:
        assert target is not None
        fast = [d for d in deps if (p := health.p95_ms(d.name)) is None or p <= target]
        slow = sorted((d for d in deps if d not in fast), key=lambda d: health.p95_ms(d.name) or 0.0)
        deps = sorted(fast, key=_cost) + slow
        reason = f"cheapest with p95 ttfb <= {target:g} ms ({len(fast)} of {len(fast) + len(slow)})"
    if ask.session is not None and len(deps) > 1:
        pinned = max(deps, key=lambda d: _affinity(ask.session or "", d.name))
        deps = [pinned, *(d for d in deps if d is not pinned)]
        reason += ", session affinity"
    skipped: list[str] = []
    need = prompt_tokens + (f.max_tokens or 0)
    fits = []
    for d in deps:
        if d.context_window is not None and need > d.context_window:
            skipped.append(f"{d.name}: needs ~{need} tokens, context window {d.context_window}")
        else:
            fits.append(d)
    rank = {"healthy": 0, "half-open": 0, "cooling": 3}  # half-open keeps its place: its probe must run
    ordered = sorted(fits, key=lambda d: rank[health.state(d.name, now)] + (health.quota_low(d.name, now) and 1))
    return Leg(group, ordered, reason, skipped)


def plan(
    table: ModelTable,
    group: Group,
    model: str,
    f: Features,
    health: Health,
    now: float,
    draw: float,
    ask: Ask,
    prompt_tokens: int,
) -> list[Leg]:
    """The legs to walk: the chosen group (after tiers), then its fallback groups, each ordered."""
    legs: list[Leg] = []
    first, why = group, ""
    if group.cfg.tiers:
        tier, why = pick_tier(group.cfg.tiers, f, ask.tier)
        target = table.get(tier.route) if tier is not None else None
        if target is not None:
            first = target
    seen = {group.name}
    for g in [first, *(table.get(n) for n in group.cfg.fallbacks)]:
        if g is None or (g is not first and g.name in seen):
            continue
        seen.add(g.name)
        leg = order_group(g, model if g is group else g.name, f, health, now, draw, ask, prompt_tokens)
        if why and g is first:
            leg.reason = f"{why}; {leg.reason}"
        legs.append(leg)
    return legs


def alternatives(table: ModelTable, group: Group, code: str | None) -> list[Group]:
    """The groups to try instead when the request itself was refused by `group`'s deployment: a prompt too
    long (`context_fallbacks`) or a content-policy refusal (`policy_fallbacks`)."""
    if code == "context_length_exceeded":
        names = group.cfg.context_fallbacks
    elif code in ("content_policy_violation", "content_filter"):
        names = group.cfg.policy_fallbacks
    else:
        return []
    return [g for n in names if (g := table.get(n)) is not None and g.deployments]


def _cost(d: Deployment) -> float:
    return float("inf") if d.cost is None else d.cost


def _affinity(session: str, name: str) -> int:
    """Rendezvous hashing: each session prefers one deployment, and keeps it while that one stays."""
    return int.from_bytes(hashlib.blake2b(f"{session}\0{name}".encode(), digest_size=8).digest(), "big")
