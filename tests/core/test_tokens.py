"""The `tokens` section of `switchyard._core` against the plain-Python reference (`tokens_reference.py`):
Python `tiktoken` for the counts, the OpenAI cookbook for chat requests.

Texts are generated from fragments chosen to hit each branch of the two split patterns (contractions,
case runs, digit runs, punctuation with trailing newlines and slashes, whitespace runs before and
after text, marks, emoji sequences, CJK) mixed with arbitrary unicode. Chat requests are generated with
every message and part shape `rust/tokens/chat.rs` names, tools with nested schemas, and images as
data URLs of real headers. The cookbook's own examples carry the prompt token counts the OpenAI API
reported for them.
"""

from __future__ import annotations

import base64
import json
import random
import struct
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from switchyard._core import count_chat, count_tokens, count_tokens_for_model, encoding_for_model, preload_encodings

sys.path.insert(0, str(Path(__file__).parent))  # the reference sits beside this file
import tokens_reference as ref

PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENCODINGS = ("o200k_base", "cl100k_base")

FRAGMENTS = [
    # contractions and case runs (o200k splits upper/lower runs; cl100k's contraction rule is (?i:...))
    "'s", "'S", "'t", "'re", "'VE", "'m", "'ll", "'LL", "'d", "n't", "don't", "DON'T", "I'm",
    "HTTPServer", "iPhone", "McDonald", "ǅemal", "ʰello", "ΑΒΓαβγ", "Straße", "ÉCOLE", "naïve", "e\u0301",
    # digits: runs of 1-3
    "1", "12", "123", "1234567", "3.14159", "1,000,000", "٣٤٥", "²³",
    # punctuation, with the newline/slash tails of the patterns
    "!", "...", "?!", "—", " ->", " => ", ".\n/", "!\n\n/", ")\r\n", "};\n", "//", " /* */", "<|endoftext|>",
    "<|fim_prefix|>", "<|endofprompt|>", "@@", "#", "$", "`", "```python\n",
    # whitespace runs, before text and at the end
    " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n ", "\u00a0", "\u3000", "\u2028", "\u200b",
    "\x0b", "\x0c", "    return x\n",
    # scripts and emoji
    "東京の天気", "我们明天", "서울의 날씨", "Привет", "مرحبا", "नमस्ते", "ภาษาไทย", "שלום",
    "😀", "👍🏽", "👩‍💻", "🇯🇵", "❤️", "🏳️‍🌈", "\ufeff", "\ufffd", "\U0010ffff", "\x00",
    # code and JSON
    "def f(x):\n    return x * 2\n", 'printf("%d\\n", n);', '{"a": [1, 2, {"b": null}]}', "SELECT * FROM t;",
]  # fmt: skip
TEXT = st.one_of(
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=40).map("".join),
    st.text(),
)


# --- count_tokens -------------------------------------------------------------------------------------


@PROPERTY
@given(text=TEXT)
@example(text="")
@example(text="hello world")
@example(text=" \n\n   x   ")
@example(text="a" * 10_000)
def test_count_tokens_equals_tiktoken(text: str) -> None:
    for enc in ENCODINGS:
        assert count_tokens(text, enc) == ref.count_tokens(text, enc), enc


# Long enough to be counted in several chunks (rust/tokens/encoding.rs cuts after 256 bytes).
LONG_TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), min_size=100, max_size=600).map(
    "".join
)


@PROPERTY
@given(text=LONG_TEXT)
def test_chunked_counts_equal_tiktoken(text: str) -> None:
    for enc in ENCODINGS:
        assert count_tokens(text, enc) == ref.count_tokens(text, enc), enc


@pytest.mark.parametrize("unit", ["\xa0.", " \u3000.", "\u3000\u3000。", "a\xa01\r", " 1\n\xa0"])
def test_no_break_spaces_count_in_linear_time(unit: str) -> None:
    # Unchunked, the tiktoken crate took ~100 ms for 16 KB of "\xa0." and 4x that for twice as much.
    preload_encodings()
    text = unit * (300_000 // len(unit))
    for enc in ENCODINGS:
        start = time.perf_counter()
        got = count_tokens(text, enc)
        assert time.perf_counter() - start < 1.0
        assert got == ref.count_tokens(text, enc)


def test_default_encoding_is_o200k() -> None:
    text = "The quick brown fox 🦊 jumps over the lazy dog."
    assert count_tokens(text) == ref.count_tokens(text, "o200k_base")


def test_lone_surrogates_count_as_replacement_characters() -> None:
    # Python tiktoken re-encodes a str it cannot UTF-8 encode with U+FFFD for each lone surrogate.
    for text in ("a\ud800b", "\udfff", "x\ud83d"):
        for enc in ENCODINGS:
            assert count_tokens(text, enc) == ref.count_tokens(text, enc)


def test_long_texts_equal_tiktoken() -> None:
    rng = random.Random(7)
    for _ in range(3):
        text = "".join(rng.choice(FRAGMENTS) + rng.choice(["", " ", "\n"]) for _ in range(20_000))
        for enc in ENCODINGS:
            assert count_tokens(text, enc) == ref.count_tokens(text, enc)


def test_unknown_encoding() -> None:
    with pytest.raises(ValueError, match="unknown encoding"):
        count_tokens("x", "p50k_base")


def test_counts_release_the_gil() -> None:
    preload_encodings()
    rng = random.Random(5)
    text = "".join(rng.choice(FRAGMENTS) for _ in range(200_000))  # ~2 MB: tens of milliseconds
    stamps: list[float] = []
    running, done = threading.Event(), threading.Event()

    def ticker() -> None:
        running.set()
        while not done.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0)

    t = threading.Thread(target=ticker)
    t.start()
    running.wait()
    try:
        start = time.perf_counter()
        got = count_tokens(text)
        end = time.perf_counter()
    finally:
        done.set()
        t.join()
    assert got == ref.count_tokens(text)
    # Holding the GIL, the count would leave the ticker no moment to run between start and end.
    assert sum(start < s < end for s in stamps) > 20


# --- the model table ----------------------------------------------------------------------------------

MODEL_CASES = {
    "gpt-4o": "o200k_base",
    "gpt-4o-mini": "o200k_base",
    "gpt-4o-2024-08-06": "o200k_base",
    "chatgpt-4o-latest": "o200k_base",
    "gpt-4.1": "o200k_base",
    "gpt-4.1-nano": "o200k_base",
    "gpt-4.5-preview": "o200k_base",
    "gpt-4.5": "o200k_base",
    "gpt-5": "o200k_base",
    "gpt-5-mini": "o200k_base",
    "gpt-5.2-pro": "o200k_base",
    "o1": "o200k_base",
    "o1-mini": "o200k_base",
    "o3": "o200k_base",
    "o3-pro": "o200k_base",
    "o4-mini": "o200k_base",
    "o4-mini-deep-research": "o200k_base",
    "gpt-oss-20b": "o200k_base",
    "ft:gpt-4o-mini-2024-07-18:org::abc": "o200k_base",
    "ft:gpt-4.1-mini:org::abc": "o200k_base",
    "openai/gpt-4o": "o200k_base",
    "azure/openai/GPT-4O-MINI": "o200k_base",
    "gpt-4": "cl100k_base",
    "gpt-4-0613": "cl100k_base",
    "gpt-4-turbo": "cl100k_base",
    "gpt-4-32k": "cl100k_base",
    "gpt-3.5-turbo": "cl100k_base",
    "gpt-3.5-turbo-0125": "cl100k_base",
    "azure/gpt-35-turbo": "cl100k_base",
    "text-embedding-3-small": "cl100k_base",
    "text-embedding-3-large": "cl100k_base",
    "text-embedding-ada-002": "cl100k_base",
    "ft:gpt-3.5-turbo:org::abc": "cl100k_base",
    "davinci-002": "cl100k_base",
}
UNKNOWN_MODELS = ["text-davinci-003", "davinci", "gpt2", "claude-3-5-sonnet", "gemini-2.5-pro", "llama-3", "", "/"]


@pytest.mark.parametrize("model", [*MODEL_CASES, *UNKNOWN_MODELS])
def test_encoding_for_model_table(model: str) -> None:
    assert encoding_for_model(model) == MODEL_CASES.get(model)
    assert encoding_for_model(model) == ref.encoding_for_model(model)


def test_encoding_for_model_agrees_with_tiktoken() -> None:
    import tiktoken.model as tm

    names = [*tm.MODEL_TO_ENCODING, *(p + "x" for p in tm.MODEL_PREFIX_TO_ENCODING)]
    for name in names:
        want = {"o200k_harmony": "o200k_base"}.get(tm.encoding_name_for_model(name), tm.encoding_name_for_model(name))
        assert encoding_for_model(name) == (want if want in ENCODINGS else None), name


@PROPERTY
@given(model=st.one_of(st.text(max_size=30), st.sampled_from(list(MODEL_CASES)).map(lambda m: m + "-x")))
def test_encoding_for_model_matches_reference(model: str) -> None:
    assert encoding_for_model(model) == ref.encoding_for_model(model)


@PROPERTY
@given(
    text=TEXT,
    model=st.sampled_from(
        [
            "gpt-4o",
            "gpt-4",
            "claude-3-5-sonnet-20241022",
            "anthropic/claude-opus-4-7",
            "claude-sonnet-4-5",
            "gemini-2.5-flash",
            "mistral-large-latest",
            "deepseek-chat",
            "qwen3-coder",
            "llama-3.3-70b",
        ]
    ),
)
def test_count_tokens_for_model_matches_reference(text: str, model: str) -> None:
    assert count_tokens_for_model(text, model) == ref.count_tokens_for_model(text, model)


# --- count_chat: recorded API counts ------------------------------------------------------------------

# The OpenAI cookbook, "How to count tokens with tiktoken", sections 6 and 7: these requests and the
# prompt_tokens the OpenAI API reported for them (gpt-4o/gpt-4o-mini 124, gpt-4 129; with the tool
# 101 and 105).
COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English.",
    },
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]
COOKBOOK_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                    "unit": {
                        "type": "string",
                        "description": "The unit of temperature to return",
                        "enum": ["celsius", "fahrenheit"],
                    },
                },
                "required": ["location"],
            },
        },
    }
]
COOKBOOK_TOOL_MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant that can answer to questions about the weather."},
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]


@pytest.mark.parametrize(
    ("model", "api_count"), [("gpt-4o", 124), ("gpt-4o-mini", 124), ("gpt-4", 129), ("gpt-3.5-turbo", 129)]
)
def test_cookbook_messages_match_the_api(model: str, api_count: int) -> None:
    body = json.dumps({"model": model, "messages": COOKBOOK_MESSAGES}).encode()
    assert count_chat(body) == api_count == ref.count_chat(body)


@pytest.mark.parametrize(
    ("model", "api_count"), [("gpt-4o", 101), ("gpt-4o-mini", 101), ("gpt-4", 105), ("gpt-3.5-turbo", 105)]
)
def test_cookbook_tools_match_the_api(model: str, api_count: int) -> None:
    body = json.dumps({"messages": COOKBOOK_TOOL_MESSAGES, "tools": COOKBOOK_TOOLS}).encode()
    assert count_chat(body, model) == api_count == ref.count_chat(body, model)


# --- count_chat: images -------------------------------------------------------------------------------


def png(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\0\0\0\0IEND\xaeB`\x82"


def jpeg(w: int, h: int, pad: int = 0) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    exif = b"\xff\xe1" + struct.pack(">H", pad + 2) + b"\0" * pad if pad else b""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, h, w, 3) + b"\x01\x22\0\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + exif + sof + b"\xff\xd9"


def gif(w: int, h: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", w, h) + b"\0\0\0;"


def webp(w: int, h: int) -> bytes:
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0" + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


def data_url(kind: str, data: bytes) -> str:
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


SIZE = st.tuples(st.integers(1, 5000), st.integers(1, 5000))
IMAGE_URL = st.one_of(
    st.just("https://example.com/cat.png"),
    st.builds(lambda s: data_url("png", png(*s)), SIZE),
    st.builds(lambda s, pad: data_url("jpeg", jpeg(*s, pad)), SIZE, st.sampled_from([0, 100, 30_000])),
    st.builds(lambda s: data_url("gif", gif(min(s[0], 65535), min(s[1], 65535))), SIZE),
    st.builds(lambda s: data_url("webp", webp(*s)), SIZE),
    st.just("data:image/png;base64,bm90IGFuIGltYWdl"),  # "not an image"
)


@pytest.mark.parametrize(
    ("image", "detail", "model", "want"),
    [
        (png(1024, 1024), "high", "gpt-4o", 765),  # the guide's worked example
        (jpeg(2048, 4096), "high", "gpt-4o", 1105),  # ... and its second one
        (gif(4096, 8192), "low", "gpt-4o", 85),
        (webp(800, 600), "auto", "gpt-4.1", 85 + 170 * 4),
        (png(1024, 1024), "low", "gpt-4o-mini", 2833),
        (png(1024, 1024), "high", "gpt-4.1-mini", 1659),  # 1024 patches * 1.62
    ],
)
def test_image_parts_are_priced_like_openai(image: bytes, detail: str, model: str, want: int) -> None:
    part = {"type": "image_url", "image_url": {"url": data_url("png", image), "detail": detail}}
    body = json.dumps({"messages": [{"role": "user", "content": [part]}]}).encode()
    base = count_chat(json.dumps({"messages": [{"role": "user", "content": []}]}).encode(), model)
    assert count_chat(body, model) - base == want
    assert count_chat(body, model) == ref.count_chat(body, model)


MAGIC = [
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    b"GIF89a",
    b"RIFF\0\0\0\0WEBPVP8 ",
    b"RIFF\0\0\0\0WEBPVP8L",
    b"RIFF\0\0\0\0WEBPVP8X",
    b"\xff\xd8",
]


@PROPERTY
@given(magic=st.sampled_from(MAGIC), tail=st.binary(max_size=40), model=st.sampled_from(["gpt-4o", "gpt-4.1-mini"]))
def test_arbitrary_image_headers_match_reference(magic: bytes, tail: bytes, model: str) -> None:
    part = {"type": "image_url", "image_url": {"url": data_url("x", magic + tail)}}
    body = json.dumps({"messages": [{"role": "user", "content": [part]}]}).encode()
    assert count_chat(body, model) == ref.count_chat(body, model)


# --- count_chat: generated requests -------------------------------------------------------------------

SAFE_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=60) | st.sampled_from(FRAGMENTS)
PART = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": SAFE_TEXT}),
    st.fixed_dictionaries({"type": st.just("refusal"), "refusal": SAFE_TEXT}),
    st.fixed_dictionaries(
        {
            "type": st.just("image_url"),
            "image_url": st.fixed_dictionaries(
                {"url": IMAGE_URL}, optional={"detail": st.sampled_from(["low", "high", "auto"])}
            ),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.just("input_image"), "image_url": IMAGE_URL}, optional={"detail": st.sampled_from(["low", "high"])}
    ),
    st.fixed_dictionaries({"type": st.just("input_audio"), "input_audio": st.just({"data": "AAAA", "format": "wav"})}),
    st.just({"text": "no type"}),
)
CALL = st.fixed_dictionaries(
    {
        "id": st.text(max_size=8),
        "type": st.just("function"),
        "function": st.fixed_dictionaries({"name": SAFE_TEXT, "arguments": SAFE_TEXT.map(json.dumps)}),
    }
)
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "developer", "user", "assistant", "tool"])},
    optional={
        "content": st.one_of(SAFE_TEXT, st.none(), st.lists(PART, max_size=4)),
        "name": SAFE_TEXT,
        "tool_call_id": st.text(max_size=10),
        "tool_calls": st.lists(CALL, max_size=3),
        "function_call": st.fixed_dictionaries({"name": SAFE_TEXT, "arguments": SAFE_TEXT}),
        "refusal": st.one_of(st.none(), SAFE_TEXT),
        "weight": st.integers(0, 1),
    },
)
SCHEMA = st.recursive(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "integer", "number", "boolean"])},
        optional={"description": SAFE_TEXT, "enum": st.lists(st.one_of(SAFE_TEXT, st.integers()), max_size=4)},
    ),
    lambda inner: st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("object"), "properties": st.dictionaries(st.text(max_size=10), inner, max_size=3)}
        ),
        st.fixed_dictionaries({"type": st.just("array"), "items": inner}, optional={"description": SAFE_TEXT}),
        st.fixed_dictionaries({"type": st.just(["string", "null"])}),
    ),
    max_leaves=6,
)
FUNCTION = st.fixed_dictionaries(
    {"name": st.from_regex(r"[a-z_]{1,20}", fullmatch=True)},
    optional={
        "description": SAFE_TEXT.map(lambda s: s + ".") | SAFE_TEXT,
        "parameters": st.fixed_dictionaries(
            {"type": st.just("object")},
            optional={"properties": st.dictionaries(st.text(max_size=10), SCHEMA, max_size=4), "required": st.just([])},
        ),
        "strict": st.booleans(),
    },
)
TOOL = st.one_of(
    st.fixed_dictionaries({"type": st.just("function"), "function": FUNCTION}), st.just({"type": "web_search"})
)
MODELS = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4",
    "gpt-4.1-mini",
    "gpt-5",
    "o3",
    "o4-mini",
    "claude-3-5-sonnet",
    "gemini-2.0-flash",
    "qwen-max",
    "no-such-model",
]
REQUEST = st.fixed_dictionaries(
    {"messages": st.lists(MESSAGE, max_size=6)},
    optional={
        "model": st.sampled_from(MODELS),
        "tools": st.lists(TOOL, max_size=3),
        "functions": st.lists(FUNCTION, max_size=2),
        "temperature": st.floats(0, 2),
        "stream": st.booleans(),
    },
)


@PROPERTY
@given(req=REQUEST, model=st.one_of(st.none(), st.sampled_from(MODELS)))
def test_count_chat_matches_reference(req: dict[str, Any], model: str | None) -> None:
    body = json.dumps(req, ensure_ascii=random.random() < 0.5).encode()
    assert count_chat(body, model) == ref.count_chat(body, model)


def test_hand_written_requests() -> None:
    """A few requests as clients send them, with tools, tool results and images."""
    bodies = [
        {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "developer", "content": "Answer in one sentence."},
                {"role": "user", "content": [{"type": "text", "text": "What is in this image?"}, {"type": "image_url", "image_url": {"url": data_url("png", png(640, 480))}}]},
            ],
        },
        {
            "model": "gpt-4.1",
            "messages": [
                {"role": "user", "content": "Weather in Paris and Tokyo?"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_current_weather", "arguments": '{"location": "Paris"}'}},
                    {"id": "call_2", "type": "function", "function": {"name": "get_current_weather", "arguments": '{"location": "Tokyo", "unit": "celsius"}'}},
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 18, "sky": "cloudy"}'},
                {"role": "tool", "tool_call_id": "call_2", "content": '{"temp": 24, "sky": "clear"}'},
            ],
            "tools": COOKBOOK_TOOLS,
            "tool_choice": "auto",
        },
        {
            "model": "gpt-4-turbo",
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.jpg", "detail": "low"}}, {"type": "text", "text": "Describe."}]}],
            "functions": [{"name": "describe", "parameters": {"type": "object", "properties": {"style": {"type": "string", "enum": ["short", "long"]}}}}],
        },
    ]  # fmt: skip
    for req in bodies:
        body = json.dumps(req).encode()
        assert count_chat(body) == ref.count_chat(body)


def test_count_chat_rejects_what_is_not_an_object() -> None:
    for body in (b"", b"{", b"[]", b'"x"', b"\xff"):
        with pytest.raises(ValueError):
            count_chat(body)


def test_count_chat_of_a_large_body() -> None:
    rng = random.Random(3)
    msgs = [
        {"role": rng.choice(["user", "assistant"]), "content": " ".join(rng.choice(FRAGMENTS) for _ in range(2000))}
        for _ in range(20)
    ]
    body = json.dumps({"model": "gpt-4o", "messages": msgs}).encode()
    assert len(body) > 100_000
    assert count_chat(body) == ref.count_chat(body)
