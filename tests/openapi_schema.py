"""OpenAI's published OpenAPI description as JSON Schema 2020-12 validators for what the gateway returns.

Owns: finding the spec (env `SWITCHYARD_OPENAPI`, else `<repo>/../shared/specs/openai-openapi.json`),
translating its OpenAPI 3.0 leftovers into JSON Schema 2020-12, and `validate(name, instance)`, which
raises AssertionError naming the schema and each failing JSON path. Must not: skip when the spec is
missing (a missing spec is a broken checkout, not an optional extra), or check `format` (whether
`uri`/`date` are checked depends on optional packages, so results would vary by machine).

The spec declares OpenAPI 3.1 but (spec 2.3.0, 1,422 schemas) still carries:
  - `nullable: true` (102 places): `null` joins `type`, or the schema is wrapped in `anyOf [..., null]`
    when it has `$ref`, `enum`, `const` or a combinator (a `null` type alone would still fail those).
  - `allOf: [{$ref: X}, {nullable: true}]` (9 places): 3.0's nullable reference; the marker is dropped
    and the whole schema becomes nullable.
  - boolean `exclusiveMinimum: true` beside `minimum` (7 places): becomes `exclusiveMinimum: <minimum>`.
  - `$recursiveRef: "#"` (2 places, 2019-09): becomes a `$ref` to the enclosing component.
  - a `required` list naming a field twice (`ContainerResource`): deduplicated, as 2020-12 demands.
`$ref` siblings (346 places) are kept: 2020-12 applies them beside the reference, as OpenAPI 3.1 means,
and all but `nullable` (handled above) only narrow or annotate. `x-*` keys and data (`enum`, `default`,
`example`, ...) are left as they are.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_ENV = "SWITCHYARD_OPENAPI"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = REPO.parent / "shared" / "specs" / "openai-openapi.json"
BASE_URI = "urn:openai-openapi"

_DATA_KEYS = {"enum", "const", "default", "example", "examples"}  # values, not schemas: never rewritten
_ANNOTATIONS = {"description", "title", "deprecated", *_DATA_KEYS}
_NEEDS_WRAP = {"$ref", "anyOf", "oneOf", "allOf", "enum", "const", "not"}


def spec_path() -> Path:
    """Where the OpenAPI description is; FileNotFoundError saying how to provide it when it is absent."""
    configured = os.environ.get(SPEC_ENV)
    path = Path(configured) if configured else DEFAULT_SPEC
    if not path.is_file():
        origin = f"from ${SPEC_ENV}" if configured else f"the default location; set ${SPEC_ENV} to override"
        raise FileNotFoundError(f"OpenAI OpenAPI description not found at {path} ({origin})")
    return path


@functools.cache
def load_spec() -> dict[str, Any]:
    """The spec as published (no conversion)."""
    with spec_path().open("rb") as f:
        spec: dict[str, Any] = json.load(f)
    return spec


@functools.cache
def schemas() -> dict[str, Any]:
    """`components.schemas`, each converted to JSON Schema 2020-12."""
    return {name: to_json_schema(s, name) for name, s in load_spec()["components"]["schemas"].items()}


def to_json_schema(node: Any, component: str | None = None) -> Any:
    """A 2020-12 copy of one OpenAPI schema; `component` names it, for `$recursiveRef: "#"`."""
    if isinstance(node, list):
        return [to_json_schema(v, component) for v in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    nullable = node.pop("nullable", False) if isinstance(node.get("nullable"), bool) else False
    if isinstance(node.get("allOf"), list):
        markers = [m for m in node["allOf"] if _is_nullable_marker(m)]
        if markers:
            nullable = True
            node["allOf"] = [m for m in node["allOf"] if not _is_nullable_marker(m)]
            if not node["allOf"]:
                del node["allOf"]
    node = {k: v if k in _DATA_KEYS or k.startswith("x-") else to_json_schema(v, component) for k, v in node.items()}
    if node.get("$recursiveRef") == "#":
        if component is None:
            raise ValueError("$recursiveRef outside a named component")
        del node["$recursiveRef"]
        node["$ref"] = f"#/components/schemas/{component}"
    node.pop("$recursiveAnchor", None)
    if isinstance(node.get("required"), list):
        node["required"] = list(dict.fromkeys(node["required"]))
    for bound in ("Minimum", "Maximum"):
        flag = node.get(f"exclusive{bound}")
        if isinstance(flag, bool):
            del node[f"exclusive{bound}"]
            if flag:
                node[f"exclusive{bound}"] = node.pop(bound.lower())
    if not nullable:
        return node
    if "type" in node and not _NEEDS_WRAP & node.keys():
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        return {**node, "type": [*types, "null"] if "null" not in types else types}
    return {"anyOf": [node, {"type": "null"}]}


def _is_nullable_marker(member: Any) -> bool:
    return isinstance(member, dict) and member.get("nullable") is True and member.keys() - _ANNOTATIONS == {"nullable"}


@functools.cache
def registry() -> Registry:
    """The converted schemas as one resource at BASE_URI, so `#/components/schemas/X` refs resolve as-is."""
    resource = Resource.from_contents({"components": {"schemas": schemas()}}, DRAFT202012)
    return Registry().with_resource(BASE_URI, resource)


@functools.cache
def validator(schema_name: str) -> Draft202012Validator:
    """A compiled validator for one component schema (KeyError with near names when unknown)."""
    all_schemas = schemas()
    if schema_name not in all_schemas:
        import difflib

        near = difflib.get_close_matches(schema_name, all_schemas, n=5)
        raise KeyError(f"{schema_name!r} is not in components.schemas of {spec_path()} (near: {near})")
    Draft202012Validator.check_schema(all_schemas[schema_name])
    return Draft202012Validator({"$ref": f"{BASE_URI}#/components/schemas/{schema_name}"}, registry=registry())


def validate(schema_name: str, instance: Any) -> None:
    """Raise AssertionError listing where and why `instance` is not a valid `schema_name`."""
    errors = list(validator(schema_name).iter_errors(instance))
    if not errors:
        return
    lines = [f"instance is not a valid {schema_name} ({len(errors)} error(s)):"]
    for err in sorted(errors, key=lambda e: list(map(str, e.absolute_path)))[:8]:
        lines.append(f"  at {err.json_path}: {_short(err.message)}")
    deepest = best_match(errors)
    lines.append(f"  most specific: at {deepest.json_path}: {_short(deepest.message)}")
    raise AssertionError("\n".join(lines))


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
