"""The model table: caller-facing model names (exact, or `prefix/*`) to groups of deployments, and the
weighted order in which a group's deployments are tried. Pure: no I/O, no provider imports, no clock."""

from __future__ import annotations

import bisect
import itertools

import msgspec

from switchyard.config import DeploymentConfig, ModelConfig, Timeouts


class Deployment(msgspec.Struct):
    """A provider + an upstream model + a weight (the `*` model already resolved), its prices per 1M
    tokens, context window and timeouts override."""

    provider: str
    model: str
    weight: float = 1.0
    cost: float | None = None  # input + output USD per 1M tokens: the `cheapest` key
    context_window: int | None = None
    timeouts: Timeouts | None = None
    name: str = ""  # "provider/model", filled in by __post_init__ (read on every attempt)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = f"{self.provider}/{self.model}"

    @classmethod
    def of(cls, d: DeploymentConfig) -> Deployment:
        cost = None if d.input_cost is None and d.output_cost is None else (d.input_cost or 0) + (d.output_cost or 0)
        return cls(d.provider, d.model, d.weight, cost, d.context_window, d.timeouts)


class Group:
    """The deployments behind one model name, with cumulative weights for a weighted draw."""

    __slots__ = ("_cumulative", "cfg", "deployments", "name", "wildcard")

    def __init__(self, name: str, cfg: ModelConfig) -> None:
        self.name = name
        self.cfg = cfg
        self.wildcard = name.endswith("/*")
        self.deployments = [Deployment.of(d) for d in cfg.deployments]
        self._cumulative = list(itertools.accumulate(d.weight for d in self.deployments))

    def order(self, model: str, draw: float) -> list[Deployment]:
        """Deployments in the order to try: one drawn by weight (`draw` uniform in [0, 1)), then the rest
        in config order (a negative `draw`: config order). For a wildcard group, `*` becomes the part of
        `model` after the prefix."""
        deps = self.deployments
        if len(deps) > 1 and draw >= 0:
            i = bisect.bisect_right(self._cumulative, draw * self._cumulative[-1])
            i = min(i, len(deps) - 1)
            deps = [deps[i], *deps[:i], *deps[i + 1 :]]
        if self.wildcard:
            suffix = model[len(self.name) - 1 :]
            deps = [msgspec.structs.replace(d, model=suffix, name="") if d.model == "*" else d for d in deps]
        return deps


class ModelTable:
    """Resolves a caller's model name to its group: an exact name first, then the `prefix/*` groups."""

    def __init__(self, models: dict[str, ModelConfig]) -> None:
        self._exact = {n: Group(n, m) for n, m in models.items() if not n.endswith("/*")}
        self._prefixed = {n[:-1]: Group(n, m) for n, m in models.items() if n.endswith("/*")}

    def resolve(self, model: str) -> Group | None:
        group = self._exact.get(model)
        if group is not None or not self._prefixed:
            return group
        slash = model.rfind("/", 0, len(model) - 1)  # longest prefix first; the rest must not be empty
        while slash != -1:
            group = self._prefixed.get(model[: slash + 1])
            if group is not None:
                return group
            slash = model.rfind("/", 0, slash)
        return None

    def get(self, name: str) -> Group | None:
        """A group by its exact config name (fallback and tier targets)."""
        return self._exact.get(name)

    def groups(self) -> list[Group]:
        return [*self._exact.values(), *self._prefixed.values()]

    def listed(self) -> list[str]:
        """The names `GET /v1/models` shows: every exact name (wildcards match open-ended sets)."""
        return sorted(self._exact)
