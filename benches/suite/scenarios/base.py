"""What a scenario is, and the registry the runner reads.

A scenario is data: a request body, a load generator, a connection count, a CPU layout, and which targets
it applies to. A later feature (logging, cache, guardrails, budgets) adds one module in this package that
registers an on/off pair: the same load twice, the "on" one with a config `overlay` merged into the
switchyard targets' config and `pair` naming its "off" twin, and the report shows the pair side by side:

    # benches/suite/scenarios/logging.py
    register(Scenario("logging-on/c64", "chat-200b", chat_body(200), connections=64, applies_to=switchyard_only,
                      overlay={"logging": {"sink": "sqlite"}}, pair="chat-200b/c64", tags=("cpu",)))

The runner starts a switchyard target once per distinct overlay. Must not: start processes or measure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Load = Literal["wrk", "h2load", "stream"]
# one-cpu: target, mock and load generator all on CPU 0 (no cross-CPU wake-ups: latency).
# split: target on CPU 0, mock and load generator on CPU 1 (throughput).
Layout = Literal["one-cpu", "split"]


def everywhere(_target: str) -> bool:
    return True


def switchyard_only(target: str) -> bool:
    return target.startswith("switchyard")


@dataclass(frozen=True)
class Scenario:
    """One measured load against one target; run `repeat` times, the median kept, the spread shown."""

    name: str
    group: str  # rows of the same group share a table section ("chat-200b", "paced", ...)
    body: Mapping[str, Any]
    load: Load = "wrk"
    connections: int = 1
    layout: Layout = "split"
    rate: int | None = None  # h2load: offered requests/s in all
    duration_scale: float = 1.0  # paced streams take ~1.4 s each: they get longer runs
    quick: bool = True  # part of `--quick`
    applies_to: Callable[[str], bool] = everywhere
    overlay: Mapping[str, Any] | None = None  # switchyard config merged in (a feature switched on)
    pair: str | None = None  # the scenario this one is the "on" side of
    tags: tuple[str, ...] = field(default_factory=tuple)  # which bars read it: "cpu", "lat1", "tput64", ...

    def body_bytes(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":")).encode()


REGISTRY: dict[str, Scenario] = {}


def register(*scenarios: Scenario) -> None:
    """Add scenarios to the registry (import time, from each module of this package)."""
    for s in scenarios:
        if s.name in REGISTRY:
            raise ValueError(f"scenario {s.name} registered twice")
        REGISTRY[s.name] = s


def chat_body(content_bytes: int, **extra: Any) -> dict[str, Any]:
    """A chat request whose serialised size is about `content_bytes` (the user message is padded)."""
    base: dict[str, Any] = {
        "model": "gpt-mock",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": ""},
        ],
        "max_tokens": 64,
        **extra,
    }
    pad = max(0, content_bytes - len(json.dumps(base, separators=(",", ":"))))
    words = ("Tell me about the benchmark suite and its baselines. " * (pad // 50 + 1))[:pad]
    base["messages"][1]["content"] = words
    return base
