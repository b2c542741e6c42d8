"""Plain-Python reference for `switchyard._core.inspect_request` and `rewrite_model`: the executable spec.

Straightforward on purpose: `json.loads` the body, walk the dict. Slow, obviously right, and what the
hypothesis tests in `test_inspect.py` hold the Rust scanner to, field by field and byte by byte. It owns
no behaviour of its own: where it and the Rust module docs disagree, one of them has a bug.

Byte offsets are the one thing it does not reproduce (the dict forgets where values were; `json`
reports character positions), so `RefError.offset` is None; the Rust unit tests pin offsets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MARKERS = ("step by step", "prove", "derive", "reason", "analyze", "analyse", "think")
_MARKER_RE = re.compile("|".join(re.escape(m) for m in MARKERS), re.IGNORECASE | re.ASCII)
_I64 = range(-(2**63), 2**63)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_WS = " \t\n\r"


class RefError(ValueError):
    """What the reference rejects; mirrors `InspectError` (kind, param, message) without the offset."""

    def __init__(self, kind: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.kind, self.param, self.message = kind, param, message


@dataclass(frozen=True)
class Inspected:
    model: str | None = None
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    n: int | None = None
    messages: int | None = None
    text_len: int = 0
    has_tools: bool = False
    has_images: bool = False
    has_response_format: bool = False
    code_blocks: int = 0
    reasoning_markers: int = 0
    last_user_len: int = 0
    user: str | None = None


def type_name(v: Any) -> str:
    """OpenAI's name for a JSON value's type, as the error messages use it."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a decimal"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load(body: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity (which `json.loads` would otherwise accept)."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise RefError("invalid_json", f"Request body is not valid JSON: {e}") from None


def _wrong(param: str, expected: str, v: Any) -> RefError:
    message = f"Invalid type for '{param}': expected {expected}, but got {type_name(v)} instead."
    return RefError("invalid_type", message, param)


def _is_int(v: Any) -> bool:
    return type(v) is int


def _check_int(name: str, v: Any) -> int | None:
    if v is None:
        return None
    if not _is_int(v):
        raise _wrong(name, "an integer", v)
    if v not in _I64:
        raise RefError("invalid_value", f"Invalid value for '{name}': integer out of 64-bit range.", name)
    return int(v)


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            p["text"]
            for p in content
            if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
        ]
    return []


def _images(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(p, dict) and p.get("type") in ("image_url", "input_image") for p in content
    )


def _check_message(i: int, m: Any) -> None:
    if not isinstance(m, dict):
        raise _wrong(f"messages[{i}]", "an object", m)
    for key, v in m.items():  # document order, so the first problem is the one reported
        if key == "role" and not isinstance(v, str):
            raise _wrong(f"messages[{i}].role", "a string", v)
        if key == "content":
            if isinstance(v, list):
                for j, part in enumerate(v):
                    if not isinstance(part, dict):
                        raise _wrong(f"messages[{i}].content[{j}]", "an object", part)
            elif v is not None and not isinstance(v, str):
                raise _wrong(f"messages[{i}].content", "one of a string or array of objects", v)
    if "role" not in m:
        param = f"messages[{i}].role"
        raise RefError("missing_param", f"Missing required parameter: '{param}'.", param)


def _check(d: dict[str, Any]) -> None:
    for key, v in d.items():
        if key == "model" and not isinstance(v, str):
            raise _wrong("model", "a string", v)
        elif key == "messages":
            if not isinstance(v, list):
                raise _wrong("messages", "an array", v)
            for i, m in enumerate(v):
                _check_message(i, m)
        elif key == "stream" and v is not None and not isinstance(v, bool):
            raise _wrong("stream", "a boolean", v)
        elif key in ("max_tokens", "max_completion_tokens", "n"):
            _check_int(key, v)
        elif key == "stream_options" and v is not None and not isinstance(v, dict):
            raise _wrong("stream_options", "an object", v)
        elif key == "tools" and v is not None and not isinstance(v, list):
            raise _wrong("tools", "an array", v)
        elif key == "user" and v is not None and not isinstance(v, str):
            raise _wrong("user", "a string", v)


def inspect(body: bytes) -> Inspected:
    """What `inspect_request` must return for `body`, or the `RefError` it must raise."""
    d = load(body)
    if not isinstance(d, dict):
        raise RefError("not_object", f"Request body must be a JSON object, but got {type_name(d)} instead.")
    _check(d)
    messages = d.get("messages")
    texts: list[str] = []
    last_user: list[str] = []
    images = False
    for m in messages or ():
        content = m.get("content")
        texts += _texts(content)
        images |= _images(content)
        if m.get("role") == "user":
            last_user = _texts(content)
    model = d.get("model")
    options = d.get("stream_options")
    mct = d.get("max_completion_tokens")
    return Inspected(
        model=None if model is None else _LONE_SURROGATE.sub("\ufffd", model),
        stream=d.get("stream") is True,
        include_usage=isinstance(options, dict) and options.get("include_usage") is True,
        max_tokens=mct if mct is not None else d.get("max_tokens"),
        n=d.get("n"),
        messages=None if messages is None else len(messages),
        text_len=sum(len(t) for t in texts),
        has_tools=any(isinstance(d.get(k), list) and len(d[k]) > 0 for k in ("tools", "functions")),
        has_images=images,
        has_response_format=d.get("response_format") is not None,
        code_blocks=sum(t.count("```") for t in texts) // 2,
        reasoning_markers=sum(len(_MARKER_RE.findall(t)) for t in texts),
        last_user_len=sum(len(t) for t in last_user),
        user=None if d.get("user") is None else _LONE_SURROGATE.sub("\ufffd", d["user"]),
    )


# --- rewrite -----------------------------------------------------------------------------------------

_DECODER = json.JSONDecoder()


def _ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in _WS:
        i += 1
    return i


def _members(s: str, i: int) -> Any:
    """Yield (key, value, value_start, value_end) for the object whose `{` is at s[i]; positions index s."""
    i = _ws(s, i + 1)
    if s[i] == "}":
        return
    while True:
        key, i = _DECODER.raw_decode(s, i)
        i = _ws(s, _ws(s, i) + 1)  # the colon
        value, end = _DECODER.raw_decode(s, i)
        yield key, value, i, end
        i = _ws(s, end)
        if s[i] != ",":
            return
        i = _ws(s, i + 1)


def rewrite(body: bytes, model: str, include_usage: bool = False) -> bytes:
    """What `rewrite_model` must return: the documented edits applied to the original text."""
    d = load(body)
    if not isinstance(d, dict):
        raise RefError("not_object", f"Request body must be a JSON object, but got {type_name(d)} instead.")
    s = body.decode("utf-8")
    model_json = json.dumps(model, ensure_ascii=False)
    start = _ws(s, 0)
    edits: list[tuple[int, int, str]] = []
    have_model = have_options = False
    non_empty = False
    for key, value, v0, v1 in _members(s, start):
        non_empty = True
        if key == "model":
            have_model = True
            edits.append((v0, v1, model_json))
        elif key == "stream_options" and include_usage:
            have_options = True
            if value is None:
                edits.append((v0, v1, '{"include_usage":true}'))
            elif isinstance(value, dict):
                found = False
                for k, v, w0, w1 in _members(s, v0):
                    if k == "include_usage":
                        found = True
                        if v is not True:
                            edits.append((w0, w1, "true"))
                if not found:
                    edits.append((v0 + 1, v0 + 1, '"include_usage":true' + ("," if value else "")))
            else:
                raise _wrong("stream_options", "an object", value)
    new = []
    if not have_model:
        new.append('"model":' + model_json)
    if include_usage and not have_options:
        new.append('"stream_options":{"include_usage":true}')
    if new:
        edits.append((start + 1, start + 1, ",".join(new) + ("," if non_empty else "")))
    out, at = [], 0
    for a, b, text in sorted(edits, key=lambda e: e[0]):
        out += [s[at:a], text]
        at = b
    out.append(s[at:])
    return "".join(out).encode("utf-8")


def rewritten_value(original: Any, model: str, include_usage: bool) -> Any:
    """What `json.loads` of the rewritten body must equal (an independent check of the edits' meaning)."""
    d = dict(original)
    d["model"] = model
    if include_usage:
        options = d.get("stream_options")
        d["stream_options"] = {**(options or {}), "include_usage": True}
    return d
