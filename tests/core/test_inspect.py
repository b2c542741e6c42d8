"""`switchyard._core.inspect_request` / `rewrite_model` against the plain-Python reference.

Bodies are generated as chat requests (random messages, content parts, tools, unicode, unknown fields,
wrong types now and then) and serialized by hand with random whitespace, key order and string escapes,
so the scanner sees what real clients send and what no sane client would. Offsets are pinned by the Rust
unit tests (`rust/inspect/tests.rs`); here they are checked where the reference can know them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from switchyard._core import REASONING_MARKERS, Inspected, InspectError, inspect_request, rewrite_model

sys.path.insert(0, str(Path(__file__).parent))  # the reference sits beside this file
import inspect_reference as ref

FIELDS = [f.name for f in dataclasses.fields(ref.Inspected)]
# INSPECT_EXAMPLES=5000 for a soak run; 400 keeps the suite near 25 s.
EXAMPLES = int(os.environ.get("INSPECT_EXAMPLES", "400"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- generating bodies --------------------------------------------------------------------------------


class Obj(list):  # type: ignore[type-arg]
    """A JSON object as an ordered list of (key, value) pairs, so key order is part of the example."""


class Num(str):
    """A JSON number spelled exactly as given."""


NUMBER = st.from_regex(r"-?(0|[1-9][0-9]{0,6})(\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?", fullmatch=True).map(Num)
FRAGMENTS = [
    "think",
    "Think",
    "THINK",
    "step by step",
    "Step By Step",
    "STEP BY STEPROVE",
    "prove",
    "Derive",
    "reason",
    "analyse",
    "AnAlYzE",
    "thin\u212a",
    "```",
    "``",
    "`",
    " ",
    "\n",
    "\t",
    "é",
    "😀",
    "世界",
    "\u2028",
    "\x00",
    "\x1f",
    "\x7f",
    "\\",
    '"',
    "/",
    "\ufeff",
    "```py\nx = 1\n```",
]
TEXT = st.one_of(
    st.text(max_size=20),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=12).map("".join),
)
KEY = st.sampled_from(["model", "role", "content", "type", "text", "stream", "x"]) | st.text(max_size=8)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), NUMBER, TEXT)
ANY_JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEY, inner, max_size=4).map(lambda d: Obj(d.items())),
    max_leaves=12,
)


# Formatting choices come from a seeded `random.Random`: hypothesis' own `randoms()` routes every call
# through its engine and made generation ~2.5x slower.
SEED = st.integers(0, 2**32)


def obj(draw: st.DrawFn, fields: dict[str, object]) -> Obj:
    """An object with the fields in a random order."""
    items = list(fields.items())
    random.Random(draw(SEED)).shuffle(items)
    return Obj(items)


# Strategies are built once here, not inside the composites: hypothesis validates each new strategy
# object, and rebuilding them per draw made generation ~3x slower.
PART_KIND = st.sampled_from(["text", "text", "image_url", "input_image", "input_audio", "odd", "junk"])
ODD_TYPE = st.sampled_from(["text", 1, None])
EXTRAS = st.dictionaries(KEY, ANY_JSON, max_size=2)


@st.composite
def parts(draw: st.DrawFn) -> object:
    kind = draw(PART_KIND)
    if kind == "text":
        fields: dict[str, object] = {"type": "text", "text": draw(TEXT)}
    elif kind in ("image_url", "input_image"):
        fields = {"type": kind, kind: obj(draw, {"url": draw(TEXT)})}
    elif kind == "input_audio":
        fields = {"type": "input_audio", "text": draw(TEXT)}
    elif kind == "odd":  # a text part whose text is not a string, or a type that is not a string
        fields = {"type": draw(ODD_TYPE), "text": draw(ANY_JSON)}
    else:
        return draw(ANY_JSON)  # usually not an object: a type error
    fields.update(draw(EXTRAS))
    return obj(draw, fields)


ROLE = st.sampled_from(["user", "assistant", "system", "tool", "developer"]) | TEXT
CONTENT = st.one_of(TEXT, st.none(), st.lists(parts(), max_size=4))
MESSAGE_EXTRAS = st.lists(st.sampled_from(["name", "model", "tool_calls", "tool_call_id"]), max_size=2)
WRONG_MESSAGE_FIELD = st.sampled_from(["role", "content"])


@st.composite
def messages(draw: st.DrawFn, wrong: bool) -> object:
    fields: dict[str, object] = {}
    if not wrong or draw(st.integers(0, 9)):
        fields["role"] = draw(ROLE)
    content = draw(CONTENT)
    if draw(st.booleans()):
        fields["content"] = content
    for extra in draw(MESSAGE_EXTRAS):
        fields[extra] = draw(ANY_JSON)
    if wrong and not draw(st.integers(0, 4)):
        fields[draw(WRONG_MESSAGE_FIELD)] = draw(ANY_JSON)
    return obj(draw, fields)


MESSAGES = {w: st.lists(messages(w), max_size=6) for w in (False, True)}
OPTIONAL = {
    "stream": st.booleans() | st.none(),
    "stream_options": st.none()
    | st.just(Obj([("include_usage", True)]))
    | st.dictionaries(
        st.sampled_from(["include_usage", "include_usage", "x"]),
        st.sampled_from([True, True, False, None, "true", 1]) | SCALAR,
    ).map(lambda d: Obj(d.items())),
    "max_tokens": st.integers(0, 2**31) | st.none(),
    "max_completion_tokens": st.integers(0, 2**31) | st.none(),
    "n": st.integers(1, 8) | st.none(),
    "tools": st.lists(ANY_JSON, max_size=3) | st.none(),
    "functions": ANY_JSON,
    "response_format": ANY_JSON,
    "temperature": NUMBER,
    "metadata": ANY_JSON,
    "user": TEXT | st.none(),
}
UNKNOWN = st.dictionaries(KEY, ANY_JSON, max_size=3)
WRONG_FIELDS = st.lists(st.sampled_from([*OPTIONAL, "model", "messages"]), max_size=2)
WRONG_VALUE = ANY_JSON | st.integers(2**63 - 2, 2**64)


@st.composite
def requests(draw: st.DrawFn, wrong: bool = False) -> Obj:
    """A chat request; with `wrong`, some fields may carry any JSON value instead."""
    f: dict[str, object] = {}
    if draw(st.integers(0, 9)):
        f["model"] = draw(TEXT)
    if draw(st.integers(0, 9)):
        f["messages"] = draw(MESSAGES[wrong])
    for name, strategy in OPTIONAL.items():
        if draw(st.booleans()):
            f[name] = draw(strategy)
    for key, value in draw(UNKNOWN).items():
        f.setdefault(key, value)
    if wrong:
        for name in draw(WRONG_FIELDS):
            f[name] = draw(WRONG_VALUE)
    return obj(draw, f)


WHITESPACE = ["", "", "", "", " ", "  ", "\n", "\t", "\r\n", " \n\t "]
SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def u_escape(c: str, rnd: random.Random) -> str:
    code = ord(c)
    spell = "\\u{:04x}" if rnd.random() < 0.5 else "\\u{:04X}"
    if code < 0x10000:
        return spell.format(code)
    code -= 0x10000
    return spell.format(0xD800 + (code >> 10)) + spell.format(0xDC00 + (code & 0x3FF))


def dump_str(s: str, rnd: random.Random) -> str:
    out = []
    for c in s:
        r = rnd.random()
        if c in SHORT or c < " ":
            out.append(SHORT[c] if c in SHORT and r < 0.7 else u_escape(c, rnd))
        elif r < 0.08:
            out.append(u_escape(c, rnd))
        elif c == "/" and r < 0.5:
            out.append("\\/")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def dump(v: object, rnd: random.Random) -> str:
    """Serialize with random whitespace and escapes (`json.dumps` would always write the same bytes)."""

    def ws() -> str:
        return rnd.choice(WHITESPACE)

    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return dump_str(v, rnd)
    if isinstance(v, Obj):
        members = [ws() + dump_str(k, rnd) + ws() + ":" + ws() + dump(x, rnd) + ws() for k, x in v]
        return "{" + (",".join(members) or ws()) + "}"
    assert isinstance(v, list)
    return "[" + (",".join(ws() + dump(x, rnd) + ws() for x in v) or ws()) + "]"


@st.composite
def bodies(draw: st.DrawFn, wrong: bool = False) -> bytes:
    rnd = random.Random(draw(SEED))
    text = rnd.choice(WHITESPACE) + dump(draw(requests(wrong)), rnd) + rnd.choice(WHITESPACE)
    return text.encode("utf-8", "surrogatepass")


# --- comparing --------------------------------------------------------------------------------------


def rust_or_error(f: Callable[..., object], *args: object, **kw: bool) -> object:
    try:
        return f(*args, **kw)
    except InspectError as e:
        return e


def assert_same_outcome(got: object, want: object, body: bytes) -> None:
    """Same fields, or the same error (kind, param, and message unless it quotes a JSON parser)."""
    if isinstance(want, ref.RefError):
        assert isinstance(got, InspectError), f"reference raised {want!r}, Rust returned {got!r}"
        assert (got.kind, got.param) == (want.kind, want.param), (str(got), str(want))
        if want.kind != "invalid_json":
            assert str(got) == want.message
        assert 0 <= got.offset <= len(body)
        return
    assert not isinstance(got, InspectError), f"Rust raised {got!r} ({got.kind}, {got.param})"
    if isinstance(want, bytes):
        assert got == want
        return
    assert isinstance(got, Inspected) and isinstance(want, ref.Inspected)
    assert {f: getattr(got, f) for f in FIELDS} == dataclasses.asdict(want)


def reference(f: Callable[..., object], *args: object) -> object:
    try:
        return f(*args)
    except ref.RefError as e:
        return e


# --- properties ---------------------------------------------------------------------------------------


@PROPERTY
@given(bodies())
def test_inspect_matches_reference(body: bytes) -> None:
    assert_same_outcome(rust_or_error(inspect_request, body), reference(ref.inspect, body), body)


@PROPERTY
@given(bodies(wrong=True))
def test_inspect_matches_reference_on_wrong_types(body: bytes) -> None:
    assert_same_outcome(rust_or_error(inspect_request, body), reference(ref.inspect, body), body)


@PROPERTY
@given(bodies(wrong=True), TEXT, st.booleans())
def test_rewrite_matches_reference(body: bytes, model: str, include_usage: bool) -> None:
    got = rust_or_error(rewrite_model, body, model, include_usage=include_usage)
    want = reference(ref.rewrite, body, model, include_usage)
    assert_same_outcome(got, want, body)
    if isinstance(got, bytes):
        # Independent of how the reference edits: the meaning changed exactly as asked.
        assert json.loads(got) == ref.rewritten_value(json.loads(body), model, include_usage)
        if include_usage:
            assert rewrite_model(got, model, include_usage=True) == got  # nothing left to do


@PROPERTY
@given(bodies(), st.data())
def test_truncated_body_is_invalid_json_at_its_end(body: bytes, data: st.DataObject) -> None:
    whole = body.rstrip(b" \t\r\n")
    cut = data.draw(st.integers(0, len(whole) - 1))
    for f, args in ((inspect_request, ()), (rewrite_model, ("m",))):
        e = rust_or_error(f, whole[:cut], *args)
        assert isinstance(e, InspectError)
        assert (e.kind, e.param, e.offset) == ("invalid_json", None, cut)
        assert str(e) == f"Request body is not valid JSON: unexpected end of input at byte {cut}"


MUTATIONS = b' \t\n"\\{}[]:,-+.0123456789eEtrufalsn/\x00\x80\xc3\xa9\xff'


@PROPERTY
@given(bodies(), st.data())
def test_corrupted_body_agrees_with_reference(body: bytes, data: st.DataObject) -> None:
    b = bytearray(body)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(b)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = data.draw(st.sampled_from(MUTATIONS))
        if op == "insert":
            b[at:at] = bytes([byte])
        elif at < len(b):
            b[at : at + 1] = b"" if op == "delete" else bytes([byte])
    mutated = bytes(b)
    assert_same_outcome(rust_or_error(inspect_request, mutated), reference(ref.inspect, mutated), mutated)
    got = rust_or_error(rewrite_model, mutated, "m", include_usage=True)
    assert_same_outcome(got, reference(ref.rewrite, mutated, "m", True), mutated)


@PROPERTY
@given(ANY_JSON.filter(lambda v: not isinstance(v, Obj)), SEED)
def test_non_object_body(value: object, seed: int) -> None:
    rnd = random.Random(seed)
    body = (rnd.choice(WHITESPACE) + dump(value, rnd)).encode("utf-8", "surrogatepass")
    e = rust_or_error(inspect_request, body)
    assert isinstance(e, InspectError) and e.kind == "not_object"
    assert e.offset == len(body) - len(body.lstrip(b" \t\r\n"))
    assert_same_outcome(e, reference(ref.inspect, body), body)


# --- examples -----------------------------------------------------------------------------------------


def test_fields_of_a_typical_request() -> None:
    body = json.dumps(
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Think step by step: ```x```"},
                        {"type": "image_url", "image_url": {"url": "data:"}},
                    ],
                },
            ],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_completion_tokens": 64,
            "tools": [{"type": "function", "function": {"name": "f"}}],
        }
    ).encode()
    i = inspect_request(body)
    assert (i.model, i.stream, i.include_usage) == ("gpt-4o", True, True)
    assert (i.max_tokens, i.n, i.messages) == (64, None, 2)
    assert (i.text_len, i.last_user_len, i.code_blocks, i.reasoning_markers) == (41, 27, 1, 2)
    assert i.has_tools and i.has_images and not i.has_response_format
    assert repr(i).startswith("Inspected(model='gpt-4o', stream=True")


def test_error_attributes_and_messages() -> None:
    with pytest.raises(InspectError) as info:
        inspect_request(b'{"messages":[{"role":"user"},{"role":1}]}')
    e = info.value
    assert isinstance(e, ValueError)
    assert (e.kind, e.param, e.offset) == ("invalid_type", "messages[1].role", 37)
    assert str(e) == "Invalid type for 'messages[1].role': expected a string, but got an integer instead."
    with pytest.raises(InspectError) as info:
        inspect_request(b'{"model": "gpt-4o",\n "stream": tru}')
    assert (info.value.kind, info.value.param, info.value.offset) == ("invalid_json", None, 31)
    assert str(info.value) == "Request body is not valid JSON: expected value at byte 31"
    with pytest.raises(InspectError) as info:
        rewrite_model(b"[]", "m")
    assert (info.value.kind, info.value.offset) == ("not_object", 0)
    with pytest.raises(InspectError) as info:
        inspect_request(b'{"messages":[{"content":"hi"}]}')
    assert (info.value.kind, info.value.param, info.value.offset) == ("missing_param", "messages[0].role", 13)
    with pytest.raises(InspectError) as info:
        inspect_request(b'{"n":99999999999999999999}')
    assert (info.value.kind, info.value.param) == ("invalid_value", "n")


def test_signatures() -> None:
    with pytest.raises(TypeError):
        inspect_request(body=b"{}")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        rewrite_model(b"{}", "m", True)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        inspect_request(bytearray(b"{}"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        inspect_request("{}")  # type: ignore[arg-type]
    assert rewrite_model(b"{}", "m", include_usage=False) == b'{"model":"m"}'
    assert REASONING_MARKERS == ref.MARKERS


def test_inspected_is_frozen() -> None:
    i = inspect_request(b"{}")
    with pytest.raises(AttributeError):
        i.model = "x"  # type: ignore[misc]


@example(n=70_000)
@settings(max_examples=3, deadline=None)
@given(st.integers(65_000, 300_000))
def test_large_bodies_release_the_gil_and_still_agree(n: int) -> None:
    text = ("Think step by step. ```code``` é😀 " * (n // 36 + 1))[:n]
    request = {"model": "m", "messages": [{"role": "user", "content": text}], "stream": True}
    body = json.dumps(request).encode()
    assert len(body) > 64 * 1024
    want = ref.inspect(body)
    results: list[tuple[object, object]] = []

    def work() -> None:  # threads interleave: the scans run with the GIL released
        results.append((inspect_request(body), rewrite_model(body, "x", include_usage=True)))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for inspected, rewritten in results:
        assert_same_outcome(inspected, want, body)
        assert rewritten == ref.rewrite(body, "x", True)
