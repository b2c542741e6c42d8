"""JSON Schema → the OpenAPI 3.0 subset Gemini's `parameters` and `responseSchema` accept.

Gemini's `Schema` object (https://ai.google.dev/api/caching#Schema) takes: type, format, title,
description, nullable, enum, items, minItems, maxItems, properties, required, propertyOrdering,
minProperties, maxProperties, minLength, maxLength, pattern, minimum, maximum, anyOf, default, example.
Conversions: `type: [T, "null"]` → `type: T, nullable: true`; `const: v` → `enum: [v]`; local `$ref`s into
`$defs` / `definitions` are inlined (recursive ones are a 400: Gemini has no references). Keys Gemini rejects
and that only constrain what a model may produce (`additionalProperties`, `$schema`, `$id`, `$comment`,
`strict`, `examples`) are left out; any other key is a 400 naming its path, so no constraint is lost quietly.
"""

from __future__ import annotations

from typing import Any

from switchyard.errors import InvalidRequest

KEEP = frozenset(
    [
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "minItems",
        "maxItems",
        "required",
        "propertyOrdering",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "default",
        "example",
    ]
)
NESTED = frozenset({"items", "properties", "anyOf"})
LEAVE_OUT = frozenset(
    {"additionalProperties", "$schema", "$id", "$comment", "strict", "examples", "$defs", "definitions"}
)


def to_gemini(schema: Any, param: str) -> Any:
    """The Gemini form of `schema`; `param` names the request field for errors."""
    defs = {}
    if isinstance(schema, dict):
        defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    return _convert(schema, defs, param, ())


def _convert(node: Any, defs: dict[str, Any], where: str, seen: tuple[str, ...]) -> Any:
    if not isinstance(node, dict):
        raise InvalidRequest(f"a JSON schema must be an object at {where}", param=where)
    if "$ref" in node:
        ref = str(node["$ref"])
        name = ref.rsplit("/", 1)[-1]
        if not ref.startswith(("#/$defs/", "#/definitions/")) or name not in defs:
            raise InvalidRequest(f"unsupported $ref {ref!r} for Gemini at {where}", param=where)
        if name in seen:
            raise InvalidRequest(f"recursive $ref {ref!r} cannot be expressed for Gemini at {where}", param=where)
        return _convert(defs[name], defs, where, (*seen, name))
    out: dict[str, Any] = {}
    for key, value in node.items():
        path = f"{where}.{key}"
        if key in LEAVE_OUT:
            continue
        if key == "type" and isinstance(value, list):
            kinds = [t for t in value if t != "null"]
            if len(kinds) != 1:
                raise InvalidRequest(f"Gemini takes one type (plus null) at {path}", param=where)
            out["type"] = kinds[0]
            if "null" in value:
                out["nullable"] = True
        elif key == "const":
            out["enum"] = [value]
        elif key == "properties":
            out[key] = {k: _convert(v, defs, f"{path}.{k}", seen) for k, v in value.items()}
        elif key == "items":
            out[key] = _convert(value, defs, path, seen)
        elif key == "anyOf":
            out[key] = [_convert(v, defs, f"{path}[{i}]", seen) for i, v in enumerate(value)]
        elif key in KEEP:
            out[key] = value
        else:
            raise InvalidRequest(f"JSON schema keyword {key!r} is not supported by Gemini (at {path})", param=where)
    return out
