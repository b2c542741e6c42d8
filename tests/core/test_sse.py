"""`switchyard._core` SSE: the Rust parser against the plain-Python spec reference (sse_reference.py),
chunking independence, and ChatStreamTap's byte-exact relay, with hypothesis-generated streams."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

import pytest
import sse_reference as ref
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from switchyard._core import ChatStreamTap, SseEvent, SseParser

# Local, not a global profile: other test modules keep their own settings.
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ENDINGS = [b"\n", b"\r", b"\r\n"]


# ---------------------------------------------------------------- helpers


def chunked(stream: bytes, cuts: Sequence[int]) -> list[bytes]:
    points = [0, *sorted(min(c, len(stream)) for c in cuts), len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(points)]


def rust_parse(chunks: Sequence[bytes]) -> tuple[list[SseEvent], SseParser]:
    p = SseParser()
    events: list[SseEvent] = []
    for c in chunks:
        events.extend(p.feed(c))
    assert p.finish() == []
    return events, p


def as_ref(e: SseEvent) -> ref.Event:
    return ref.Event(e.event, e.data, e.id, e.retry)


def run_tap(chunks: Sequence[bytes], strip: bool, collect: bool = False) -> tuple[list[bytes], bytes, ChatStreamTap]:
    t = ChatStreamTap(strip, collect_text=collect)
    outs = [t.feed(c) for c in chunks]
    return outs, t.finish(), t


# ---------------------------------------------------------------- strategies

# Values: any text without line breaks (NUL, BOM, astral chars included), sometimes raw non-UTF-8 bytes.
value_text = st.text(st.characters(exclude_characters="\r\n", exclude_categories=["Cs"]), max_size=12)
value_bytes = st.one_of(
    value_text.map(str.encode),
    st.binary(max_size=8).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.sampled_from([b"", b"0", b"123", b"007", b"18446744073709551616", b"1x", b" 5", b"\x00", b"[DONE]"]),
)
NAMES = [b"data"] * 6 + [b"event", b"id", b"retry"] * 2 + [b"Data", b"foo", b"", b"data ", b" data", b"id\x00"]
SEPARATORS = [b":", b": ", b": ", b": ", b":  ", b""]


@st.composite
def line(draw: st.DrawFn) -> bytes:
    """A field line (mostly the known fields), a comment or a blank line; no line ending."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return b":" + draw(value_bytes)
    if kind in (1, 2):
        return b""
    name = draw(st.sampled_from(NAMES)) if kind > 3 else draw(value_text).encode().replace(b":", b"")
    if name == b"retry" and draw(st.booleans()):
        value = str(draw(st.integers(0, 2**65))).encode()
    else:
        value = draw(value_bytes)
    return name + draw(st.sampled_from(SEPARATORS)) + value


@st.composite
def sse_streams(draw: st.DrawFn) -> bytes:
    """Blocks of field and comment lines, each (usually) closed by a blank line, with mixed line endings."""
    out = [draw(st.sampled_from([b"", b"", b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf", b"\xef\xbb"]))]
    for _ in range(draw(st.integers(0, 8))):
        for ln in draw(st.lists(line(), max_size=5)):
            out += [ln, draw(st.sampled_from(ENDINGS))]
        if draw(st.integers(0, 5)):
            out.append(draw(st.sampled_from(ENDINGS)))
    out.append(draw(st.sampled_from([b"", b"", b"data: unterminated", b"data: x\n", b"\r"])))
    return b"".join(out)


# Byte soup from the pieces that matter, to reach the corners the line model does not.
soup = st.lists(
    st.sampled_from(
        [
            b"data",
            b"id",
            b"retry",
            b"event",
            b":",
            b" ",
            b"\r",
            b"\n",
            b"\r\n",
            b"1",
            b"x",
            b"\xef\xbb\xbf",
            b"\xc3",
            b"\xa9",
            b"\xe2\x82",
            b"\xac",
            b"\x00",
            b"[DONE]",
            b"data: ",
            b"data:x\n",
            b"\n\n",
            b"\r\r",
            b"id: 1\n",
            b"retry: 5\r",
            b"event: e\r\n",
        ]
    ),
    max_size=60,
).map(b"".join)

any_stream = st.one_of(sse_streams(), soup)


@st.composite
def stream_and_cuts(draw: st.DrawFn, streams: st.SearchStrategy[bytes]) -> tuple[bytes, list[int]]:
    s = draw(streams)
    # Cut anywhere, and often right after a CR (where a CRLF may be split).
    after_cr = [i + 1 for i, b in enumerate(s) if b == 0x0D]
    cut = st.one_of(st.integers(0, len(s)), st.sampled_from(after_cr)) if after_cr else st.integers(0, len(s))
    return s, draw(st.lists(cut, max_size=10))


# ---------------------------------------------------------------- parser vs reference


@PROPERTY
@given(stream_and_cuts(any_stream))
@example((b"data: a\r", [8]))  # CR ends chunk, no LF follows
@example((b"data: a\r\n\r\n", [8, 9, 10]))  # CRLF split
@example(("\ufeffdata: \u20ac\n\n".encode(), [1, 2, 10]))  # BOM and a char split
def test_parser_matches_reference(sc: tuple[bytes, list[int]]) -> None:
    stream, cuts = sc
    expected = ref.parse(stream)
    events, p = rust_parse(chunked(stream, cuts))
    assert [as_ref(e) for e in events] == expected.events
    assert p.last_event_id == expected.last_event_id
    assert p.retry == expected.retry


@PROPERTY
@given(stream_and_cuts(any_stream))
def test_parse_independent_of_chunking(sc: tuple[bytes, list[int]]) -> None:
    stream, cuts = sc
    whole, _ = rust_parse([stream])
    assert rust_parse(chunked(stream, cuts))[0] == whole
    assert rust_parse([stream[i : i + 1] for i in range(len(stream))])[0] == whole


# ---------------------------------------------------------------- tap vs reference

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    value_text,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(value_text, inner, max_size=3)),
    max_leaves=8,
)
content = st.one_of(value_text, st.sampled_from(['"usage": {"a": 1}', '"error": 1', '{"choices":[]}', "[DONE]"]))
usage_obj = st.one_of(
    st.builds(
        lambda p, c: {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
        st.integers(0, 10**6),
        st.integers(0, 10**6),
    ),
    json_value,
)


@st.composite
def chat_payloads(draw: st.DrawFn) -> object:
    kind = draw(
        st.sampled_from(
            ["delta", "delta", "rich", "rich", "usage_only", "usage_with_choices", "error", "nested", "other"]
        )
    )
    base: dict[str, object] = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4o"}
    delta = [{"index": 0, "delta": {"content": draw(content)}, "finish_reason": None}]
    if kind == "rich":  # what a real stream's deltas carry, text in every place the tap collects it from
        text = st.one_of(st.none(), content)
        calls = st.lists(
            st.fixed_dictionaries(
                {"index": st.integers(0, 3)},
                optional={"function": st.fixed_dictionaries({}, optional={"name": text, "arguments": text})},
            ),
            max_size=2,
        )
        fields = {"content": text, "reasoning_content": text, "refusal": text, "role": st.just("assistant")}
        delta_obj = st.fixed_dictionaries({}, optional={**fields, "tool_calls": calls})
        base["choices"] = draw(
            st.lists(st.fixed_dictionaries({"index": st.integers(0, 2), "delta": delta_obj}), max_size=2)
        )
    elif kind == "delta":
        base["choices"] = delta
        if draw(st.booleans()):
            base["usage"] = None
    elif kind == "usage_only":
        base["choices"] = []
        base["usage"] = draw(usage_obj)
    elif kind == "usage_with_choices":
        base["choices"] = draw(st.sampled_from([delta, {}, None, [[]]]))
        base["usage"] = draw(usage_obj)
    elif kind == "error":
        base = {"error": draw(st.one_of(st.none(), json_value, st.just({"message": "overloaded"})))}
        if draw(st.booleans()):
            base["usage"] = draw(usage_obj)
            base["choices"] = []
    elif kind == "nested":
        base["choices"] = []
        base["x"] = {"usage": draw(usage_obj), "error": 1}
    else:
        return draw(json_value)
    if draw(st.booleans()):  # key order does not matter
        base = dict(reversed(list(base.items())))
    return base


def dump(obj: object, style: int) -> bytes:
    if style == 0:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    if style == 1:
        return json.dumps(obj).encode()
    return json.dumps(obj, indent=1).encode()  # multi-line: one data field per line


@st.composite
def chat_block(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["json"] * 6 + ["done", "comment", "blank", "meta", "text", "empty_data"]))
    end = draw(st.sampled_from(ENDINGS))
    if kind == "comment":
        return b": keep-alive" + end
    if kind == "blank":
        return end
    fields: list[bytes] = []
    if kind == "meta" or draw(st.integers(0, 5)) == 0:
        fields += [b"id: 7", b"event: chunk", b"retry: 100"][: draw(st.integers(1, 3))]
    if kind == "json":
        text = dump(draw(chat_payloads()), draw(st.integers(0, 2)))
        if draw(st.integers(0, 4)) == 0 and len(text) > 1:  # split anywhere into two data lines
            i = draw(st.integers(1, len(text) - 1))
            fields += [b"data: " + text[:i], b"data:" + text[i:]]
        else:
            fields += [b"data: " + ln for ln in text.split(b"\n")]
    elif kind == "done":
        fields.append(b"data: [DONE]")
    elif kind == "text":
        fields.append(b"data: " + draw(value_bytes))
    elif kind == "empty_data":
        fields.append(b"data")
    if draw(st.booleans()):
        fields.insert(draw(st.integers(0, len(fields))), b": c")
    return b"".join(f + draw(st.sampled_from(ENDINGS)) for f in fields) + end


@st.composite
def chat_streams(draw: st.DrawFn) -> bytes:
    blocks = draw(st.lists(chat_block(), max_size=10))
    prefix = draw(st.sampled_from([b"", b"", b"\xef\xbb\xbf"]))
    tail = draw(st.sampled_from([b"", b"", b'data: {"usage":{}', b"data: [DONE]\n", b"\r"]))
    return prefix + b"".join(blocks) + tail


def check_tap(stream: bytes, cuts: Sequence[int], strip: bool, collect: bool = False) -> ref.Tapped:
    chunks = chunked(stream, cuts)
    expected = ref.tap(stream, strip)
    outs, rest, t = run_tap(chunks, strip, collect)
    assert t.text == (expected.text if collect else "")
    # The concatenated output is the input less the stripped events.
    assert b"".join(outs) == expected.output
    assert rest == expected.rest
    assert t.done == expected.done
    assert t.events == expected.events
    assert t.error == expected.error
    if expected.usage is None:
        assert t.usage is None
    else:
        assert t.usage is not None and json.loads(t.usage) == expected.usage
    # Each feed returns exactly the kept blocks that the chunk completes: nothing complete is held back.
    t2 = ChatStreamTap(strip)
    fed = b""
    so_far = b""
    for c in chunks:
        fed += c
        so_far += t2.feed(c)
        prefix = ref.tap(fed, strip)
        assert so_far == prefix.output
        assert t2.pending == len(prefix.rest)
    return expected


@PROPERTY
@given(stream_and_cuts(chat_streams()), st.booleans())
@example((b'data: {"choices":[],"usage":{"a":1}}\r\r\ndata: [DONE]\r\r', [38]), True)
def test_tap_matches_reference(sc: tuple[bytes, list[int]], strip: bool) -> None:
    check_tap(*sc, strip)


@PROPERTY
@given(stream_and_cuts(chat_streams()), st.booleans())
def test_tap_collecting_text_matches_reference(sc: tuple[bytes, list[int]], strip: bool) -> None:
    check_tap(*sc, strip, collect=True)


@PROPERTY
@given(stream_and_cuts(any_stream), st.booleans())
def test_tap_on_arbitrary_streams(sc: tuple[bytes, list[int]], strip: bool) -> None:
    stream, cuts = sc
    expected = check_tap(stream, cuts, strip)
    assert expected.stripped == []  # (nothing here is a usage chunk)


@PROPERTY
@given(chat_streams())
def test_tap_without_strip_is_identity(stream: bytes) -> None:
    outs, rest, _ = run_tap([stream[i : i + 1] for i in range(len(stream))], False)
    assert b"".join(outs) + rest == stream


def is_usage_chunk(data: str) -> bool:
    try:
        obj = json.loads(data)
    except ValueError:
        return False
    return isinstance(obj, dict) and obj.get("usage") is not None and obj.get("choices") == []


@PROPERTY
@given(chat_streams())
def test_stripped_output_parses_to_the_other_events(stream: bytes) -> None:
    outs, rest, _ = run_tap([stream], True)
    kept_events, _ = rust_parse([*outs, rest])
    all_events = ref.parse(stream).events
    # (Only type and data: a stripped block's `id:` would be lost with it; OpenAI's usage chunk has none.)
    expected = [(e.event, e.data) for e in all_events if not is_usage_chunk(e.data)]
    assert [(e.event, e.data) for e in kept_events] == expected


# ---------------------------------------------------------------- examples: a real OpenAI stream


def openai_stream(ending: bytes = b"\n") -> tuple[list[bytes], bytes]:
    """The events of a chat completion streamed with stream_options.include_usage, and the usage JSON."""
    created = 1732000000
    head = {
        "id": "chatcmpl-AbC",
        "object": "chat.completion.chunk",
        "created": created,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_0ba0d124f1",
    }

    def chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**head, "choices": [choice], "usage": None}

    usage = {
        "prompt_tokens": 13,
        "completion_tokens": 7,
        "total_tokens": 20,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    payloads = [chunk({"role": "assistant", "content": "", "refusal": None})]
    payloads += [chunk({"content": w}) for w in ["Hello", "!", " How", " can", " I", " help", "?"]]
    payloads += [chunk({}, "stop"), {**head, "choices": [], "usage": usage}]
    usage_json = json.dumps(usage, separators=(",", ":")).encode()
    events = [b"data: " + json.dumps(p, separators=(",", ":")).encode() + ending * 2 for p in payloads]
    return [*events, b"data: [DONE]" + ending * 2], usage_json


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("strip", [False, True])
def test_openai_stream_event_per_chunk(ending: bytes, strip: bool) -> None:
    events, usage_json = openai_stream(ending)
    t = ChatStreamTap(strip_usage_chunk=strip)
    outs = [t.feed(e) for e in events]
    assert t.finish() == b""
    assert t.usage == usage_json
    assert t.done and t.error is None and t.events == len(events)
    if strip:
        assert outs[-2] == b"" and b"".join(outs) == b"".join(events[:-2] + events[-1:])
    else:
        assert b"".join(outs) == b"".join(events)
    # Whole events come back as the very same object: no copy on the hot path.
    assert all(o is e for o, e in zip(outs, events, strict=True) if o)


@pytest.mark.parametrize("strip", [False, True])
def test_openai_stream_tcp_chunks(strip: bool) -> None:
    events, usage_json = openai_stream()
    stream = b"".join(events)
    for size in (1, 7, 64, 100, 1000):
        outs, rest, t = run_tap([stream[i : i + size] for i in range(0, len(stream), size)], strip)
        assert rest == b""
        expected = stream.replace(events[-2], b"") if strip else stream
        assert b"".join(outs) == expected
        assert t.usage == usage_json and t.done and t.events == len(events)
        parsed, _ = rust_parse(outs)
        kept = [e for e in events if not (strip and e == events[-2])]
        assert [e.data.encode() for e in parsed] == [e.removeprefix(b"data: ").rstrip() for e in kept]


def test_openai_error_event() -> None:
    err = b'{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}'
    t = ChatStreamTap(True)
    assert t.feed(b"data: " + err + b"\n\n") == b"data: " + err + b"\n\n"
    assert t.error == err and not t.done and t.usage is None


# ---------------------------------------------------------------- API details


def test_sse_event_value_semantics() -> None:
    a = SseEvent("x")
    assert (a.event, a.data, a.id, a.retry) == ("message", "x", None, None)
    b = SseEvent(data="x", event="message", id=None, retry=None)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != SseEvent("x", id="")
    assert a != "x"
    assert repr(SseEvent("it's\n", "e", "1", 5)) == "SseEvent(event='e', data=\"it's\\n\", id='1', retry=5)"
    with pytest.raises(AttributeError):
        a.data = "y"  # type: ignore[misc]


def test_parser_api() -> None:
    p = SseParser()
    assert p.last_event_id is None and p.retry is None
    assert p.feed(b"id: 1\nretry: 10\ndata: a") == []
    assert p.feed(b"\n\nid: 2\ndata: b\n") == [SseEvent("a", id="1", retry=10)]
    assert p.last_event_id == "1" and p.retry == 10
    assert p.finish() == []  # the unterminated "b" event is discarded
    assert p.feed(b"\xef\xbb\xbfdata: c\n\n") == [SseEvent("c", id="1")]  # a new stream: BOM again
    with pytest.raises(TypeError):
        p.feed("data: x\n\n")  # type: ignore[arg-type]


def test_tap_api() -> None:
    t = ChatStreamTap(strip_usage_chunk=False)
    assert (t.usage, t.error, t.done, t.events, t.pending) == (None, None, False, 0, 0)
    assert t.feed(b"") == b""
    assert t.feed(b"data: 1\n\ndata: 2") == b"data: 1\n\n"
    assert t.pending == 7
    assert t.finish() == b"data: 2" and t.pending == 0
    with pytest.raises(TypeError):
        t.feed(bytearray(b"x"))  # type: ignore[arg-type]


def test_large_feeds_release_the_gil_and_agree() -> None:
    events, usage_json = openai_stream()
    stream = b"".join(events[:-2]) * 300 + b"".join(events[-2:])
    assert len(stream) > 64 * 1024
    t = ChatStreamTap(True)
    out = t.feed(stream[:-5]) + t.feed(stream[-5:])
    assert out == stream.replace(events[-2], b"") and t.usage == usage_json and t.done
    parsed, _ = rust_parse([stream])
    assert parsed == rust_parse([stream[i : i + 4096] for i in range(0, len(stream), 4096)])[0]
    assert len(parsed) == len(ref.parse(stream).events)


def test_tap_records_the_service_tier_for_the_usage_record() -> None:
    from switchyard.pipeline.account import parse_usage

    chunk = {"id": "c", "object": "chat.completion.chunk", "service_tier": "flex", "choices": [{"delta": {}}]}
    usage = {"id": "c", "service_tier": "flex", "choices": [], "usage": {"prompt_tokens": 3, "total_tokens": 5}}
    stream = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in (chunk, usage)) + b"data: [DONE]\n\n"
    for collect in (False, True):
        t = ChatStreamTap(True, collect_text=collect)
        t.feed(stream)
        assert t.service_tier == "flex"
        u = parse_usage(t.usage, t.service_tier)
        assert u is not None and u.service_tier == "flex" and u.prompt_tokens == 3
    assert ChatStreamTap(False).service_tier is None
