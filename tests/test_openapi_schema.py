"""The OpenAPI helper itself: its 3.0-to-2020-12 conversion, and that it accepts real OpenAI payloads and
rejects broken ones (a validator that accepts everything would make every conformance test pass)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openapi_schema import (
    BASE_URI,
    SPEC_ENV,
    load_spec,
    schemas,
    spec_path,
    to_json_schema,
    validate,
    validator,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# The example of `CreateChatCompletionResponse` in the spec (x-oaiMeta.example), content shortened.
CHAT_COMPLETION = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "object": "chat.completion",
    "created": 1741570283,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "The image shows a wooden boardwalk path running through a lush green field.",
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 1117,
        "completion_tokens": 46,
        "total_tokens": 1163,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_fc9f1d7035",
}
_CHUNK_HEAD = {"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190}
CHUNK = {
    **_CHUNK_HEAD,
    "model": "gpt-4o-mini",
    "system_fingerprint": "fp_44709d6fcb",
    "choices": [{"index": 0, "delta": {"content": "Hello"}, "logprobs": None, "finish_reason": None}],
    "usage": None,  # what OpenAI sends on every chunk but the last with stream_options.include_usage
}
USAGE_CHUNK = {
    **_CHUNK_HEAD,
    "model": "gpt-4o-mini",
    "choices": [],
    "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21},
}
ERROR = {
    "error": {
        "message": "Incorrect API key provided: sk-abc. You can find your API key at https://platform.openai.com.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
MODELS = {
    "object": "list",
    "data": [
        {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
        {"id": "demo", "object": "model", "created": 0, "owned_by": "switchyard"},
    ],
}


@pytest.mark.parametrize(
    ("name", "instance"),
    [
        ("CreateChatCompletionResponse", CHAT_COMPLETION),
        ("CreateChatCompletionStreamResponse", CHUNK),
        ("CreateChatCompletionStreamResponse", USAGE_CHUNK),
        ("ErrorResponse", ERROR),
        ("ListModelsResponse", MODELS),
    ],
)
def test_real_payloads_validate(name: str, instance: dict) -> None:
    validate(name, instance)


def test_spec_examples_validate() -> None:
    raw = load_spec()["components"]["schemas"]
    validate(
        "CreateChatCompletionResponse",
        json.loads(raw["CreateChatCompletionResponse"]["x-oaiMeta"]["example"]),
    )
    stream = raw["CreateChatCompletionStreamResponse"]["x-oaiMeta"]["example"]
    chunks = [json.loads(part) for part in stream.split("\n\n") if part.strip().startswith("{")]
    assert len(chunks) >= 3
    for chunk in chunks:
        validate("CreateChatCompletionStreamResponse", chunk)


def _broken(base: dict, path: list, value: object) -> dict:
    out = copy.deepcopy(base)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("name", "instance", "where"),
    [
        ("CreateChatCompletionResponse", _broken(CHAT_COMPLETION, ["choices"], KeyError), "at $: 'choices'"),
        (
            "CreateChatCompletionResponse",
            _broken(CHAT_COMPLETION, ["object"], "chat.completion.chunk"),
            "$.object",
        ),
        ("CreateChatCompletionResponse", _broken(CHAT_COMPLETION, ["usage"], "1163 tokens"), "$.usage"),
        (
            "CreateChatCompletionResponse",
            _broken(CHAT_COMPLETION, ["usage", "prompt_tokens"], "9"),
            "prompt_tokens",
        ),
        (
            "CreateChatCompletionResponse",
            _broken(CHAT_COMPLETION, ["choices", 0, "message"], None),
            "message",
        ),
        ("CreateChatCompletionStreamResponse", _broken(CHUNK, ["object"], "chat.completion"), "$.object"),
        ("CreateChatCompletionStreamResponse", _broken(CHUNK, ["usage"], "none"), "$.usage"),
        ("CreateChatCompletionStreamResponse", _broken(CHUNK, ["choices", 0, "delta"], KeyError), "'delta'"),
        ("ErrorResponse", {"message": "flat, not enveloped"}, "'error'"),
        ("ErrorResponse", _broken(ERROR, ["error", "code"], KeyError), "'code'"),
        ("ErrorResponse", _broken(ERROR, ["error", "param"], 3), "$.error.param"),
        ("ListModelsResponse", _broken(MODELS, ["data", 1, "owned_by"], KeyError), "'owned_by'"),
        ("ListModelsResponse", _broken(MODELS, ["object"], "models"), "$.object"),
    ],
)
def test_broken_payloads_are_rejected_with_their_path(name: str, instance: object, where: str) -> None:
    with pytest.raises(AssertionError) as caught:
        validate(name, instance)
    message = str(caught.value)
    assert message.startswith(f"instance is not a valid {name}")
    assert where in message


def test_nullable_conversion_is_what_admits_usage_null() -> None:
    raw = Resource.from_contents(load_spec(), DRAFT202012)
    unconverted = Draft202012Validator(
        {"$ref": f"{BASE_URI}#/components/schemas/CreateChatCompletionStreamResponse"},
        registry=Registry().with_resource(BASE_URI, raw),
    )
    assert not unconverted.is_valid(CHUNK)  # the raw spec's `nullable: true` means nothing to 2020-12
    assert validator("CreateChatCompletionStreamResponse").is_valid(CHUNK)


def _accepts(schema: dict, instance: object) -> bool:
    converted = to_json_schema(schema)
    Draft202012Validator.check_schema(converted)
    return Draft202012Validator(converted).is_valid(instance)


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ({"type": "string", "nullable": True}, "x", 1),
        ({"type": "string", "enum": ["auto"], "nullable": True}, "auto", "manual"),
        ({"anyOf": [{"type": "integer"}, {"type": "string"}], "nullable": True}, 3, 1.5),
        (
            {"allOf": [{"type": "object", "required": ["a"]}, {"nullable": True, "description": "d"}]},
            {"a": 1},
            {},
        ),
    ],
)
def test_nullable_admits_null_and_keeps_other_constraints(schema: dict, good: object, bad: object) -> None:
    assert not Draft202012Validator(schema).is_valid(None)  # unconverted: null is refused
    assert _accepts(schema, None)
    assert _accepts(schema, good)
    assert not _accepts(schema, bad)


def test_nullable_false_still_rejects_null() -> None:
    assert not _accepts({"type": "string", "nullable": False}, None)
    assert _accepts({"type": "string", "nullable": False}, "x")


def test_nullable_ref_is_wrapped_and_keeps_siblings() -> None:
    converted = to_json_schema({"$ref": "#/components/schemas/X", "nullable": True, "description": "d"})
    assert converted == {"anyOf": [{"$ref": "#/components/schemas/X", "description": "d"}, {"type": "null"}]}


def test_boolean_exclusive_minimum_becomes_a_number() -> None:
    schema = {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 2}
    assert to_json_schema(schema) == {"type": "number", "exclusiveMinimum": 0, "maximum": 2}
    assert not _accepts(schema, 0)
    assert _accepts(schema, 0.001)
    assert to_json_schema({"minimum": 1, "exclusiveMinimum": False}) == {"minimum": 1}


def test_recursive_ref_points_at_its_component() -> None:
    compound = schemas()["CompoundFilter"]
    items = compound["properties"]["filters"]["items"]["oneOf"]
    assert {"$ref": "#/components/schemas/CompoundFilter"} in items
    assert "$recursiveAnchor" not in compound
    nested = {"type": "and", "filters": [{"type": "or", "filters": [{"type": "and", "filters": "oops"}]}]}
    assert not validator("CompoundFilter").is_valid(nested)  # the recursion is checked, not ignored


def test_x_keys_and_data_are_left_alone() -> None:
    schema = {"type": "string", "x-oaiMeta": {"nullable": True}, "default": {"nullable": True}, "enum": ["a"]}
    assert to_json_schema(schema) == schema


def test_every_converted_component_is_a_valid_2020_12_schema() -> None:
    metaschema = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    assert [name for name, schema in schemas().items() if not metaschema.is_valid(schema)] == []


def test_no_openapi_3_0_keywords_survive() -> None:
    assert _leftovers(load_spec()["components"]["schemas"], "")  # the check below can find something
    assert _leftovers(schemas(), "") == []


def _leftovers(node: object, path: str) -> list[str]:
    """Paths of `nullable`, boolean `exclusiveMinimum`/`Maximum` and `$recursive*`, outside data and x-*."""
    if isinstance(node, list):
        return [hit for i, v in enumerate(node) for hit in _leftovers(v, f"{path}[{i}]")]
    if not isinstance(node, dict):
        return []
    hits = [f"{path}.{k}" for k, v in node.items() if k in _OPENAPI_30 and (k.startswith("$") or v is True)]
    for k, v in node.items():
        if k not in {"enum", "const", "default", "example", "examples"} and not k.startswith("x-"):
            hits += _leftovers(v, f"{path}.{k}")
    return hits


_OPENAPI_30 = {"nullable", "exclusiveMinimum", "exclusiveMaximum", "$recursiveRef", "$recursiveAnchor"}


def test_unknown_schema_name_names_close_matches() -> None:
    with pytest.raises(KeyError, match="ErrorResponse"):
        validate("ErrorResponses", ERROR)


def test_missing_spec_is_an_error_not_a_skip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    monkeypatch.setenv(SPEC_ENV, str(missing))
    with pytest.raises(FileNotFoundError, match=SPEC_ENV) as caught:
        spec_path()
    assert str(missing) in str(caught.value)
    monkeypatch.delenv(SPEC_ENV)
    assert spec_path().name == "openai-openapi.json"
