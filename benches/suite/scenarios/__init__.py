"""Every module of this package registers its scenarios on import: a new feature adds one module here."""

import importlib
import pkgutil

from suite.scenarios.base import REGISTRY, Scenario

for _m in pkgutil.iter_modules(__path__):
    if _m.name != "base":
        importlib.import_module(f"{__name__}.{_m.name}")

__all__ = ["REGISTRY", "Scenario"]
