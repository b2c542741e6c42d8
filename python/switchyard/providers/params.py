"""Parameter mapping as data: one engine applies a provider's table (canonical field → what to do with it).

A table row is one of:
  - `Rename(target)`: copy the value under another (dotted: `generationConfig.topP`) name;
  - `Bounded(target, lo, hi)`: the same, but a value outside [lo, hi] is a 400 naming the field, never a
    clamp (Portkey clamps Anthropic's temperature to 1 without a word);
  - `Convert(fn)`: a named function with its own tests does the real work (`fn(request, out)`);
  - `Handled`: another row's function reads this field (e.g. `stream_options` with `stream`).
Never silent: a field the caller set that has no row is a 400 naming the field and the deployment.
`tests/providers/test_params.py` holds every table's keys against `ChatRequest`'s fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from switchyard.canonical import ChatRequest, JsonObject
from switchyard.errors import InvalidRequest


class Rename(msgspec.Struct, frozen=True):
    target: str


class Bounded(msgspec.Struct, frozen=True):
    target: str
    lo: float
    hi: float


class Convert(msgspec.Struct, frozen=True):
    fn: Callable[[ChatRequest, JsonObject], None]


class _Handled(msgspec.Struct, frozen=True):
    pass


Handled = _Handled()
Row = Rename | Bounded | Convert | _Handled
ParamMap = Mapping[str, Row]


def put(out: JsonObject, dotted: str, value: Any) -> None:
    """Set `out["a"]["b"] = value` for `a.b`, creating the inner objects."""
    *path, last = dotted.split(".")
    for key in path:
        out = out.setdefault(key, {})
    out[last] = value


def apply(req: ChatRequest, table: ParamMap, deployment: str) -> JsonObject:
    """The provider's request body for `req` by `table`; a set field without a row is a 400."""
    out: JsonObject = {}
    for field in req.__struct_fields__:
        value = getattr(req, field)
        if value is None:
            continue
        row = table.get(field)
        if row is None:
            raise InvalidRequest(
                f"`{field}` is not supported by deployment {deployment}; remove it or route to another model.",
                param=field,
                code="unsupported_parameter",
            )
        if isinstance(row, Rename):
            put(out, row.target, value)
        elif isinstance(row, Bounded):
            if not row.lo <= value <= row.hi:
                raise InvalidRequest(
                    f"`{field}` must be between {row.lo:g} and {row.hi:g} for deployment {deployment}, got {value}.",
                    param=field,
                    code="invalid_value",
                )
            put(out, row.target, value)
        elif isinstance(row, Convert):
            row.fn(req, out)
    return out
