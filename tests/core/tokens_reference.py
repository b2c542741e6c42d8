"""Plain-Python reference for the `tokens` section of `switchyard._core`: the executable spec.

Token counts are the `tiktoken` package's own (`Encoding.encode_ordinary`), built from OpenAI's rank
files as vendored in `rust/tokens/assets/` (xz-compressed, checked against the SHA-256 that
`tiktoken_ext.openai_public` expects, so they are OpenAI's files byte for byte) with the split pattern
and special tokens of the installed `tiktoken_ext.openai_public`: no network, unlike
`tiktoken.get_encoding`, which downloads the files on first use.

Chat counting is the OpenAI cookbook "How to count tokens with tiktoken" (`num_tokens_from_messages`,
section 6, and `num_tokens_for_tools`, section 7), widened to the shapes it does not handle as
`rust/tokens/chat.rs` documents. Image pricing is OpenAI's published formula (`rust/tokens/image.rs`),
with its own header parser here. Where this file and the Rust module docs disagree, one has a bug.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import lzma
import math
import re
import struct
from pathlib import Path
from typing import Any
from unittest import mock

import tiktoken
import tiktoken.model
import tiktoken_ext.openai_public as openai_public

ASSETS = Path(__file__).resolve().parents[2] / "rust" / "tokens" / "assets"
# The hashes `tiktoken_ext.openai_public` checks its downloads against.
SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
ENCODINGS = tuple(SHA256)


def load_ranks(name: str) -> dict[bytes, int]:
    """The mergeable ranks of `name` from the vendored rank file, verified against OpenAI's hash."""
    data = lzma.decompress((ASSETS / f"{name}.tiktoken.xz").read_bytes())
    if hashlib.sha256(data).hexdigest() != SHA256[name]:
        raise ValueError(f"{name}: vendored rank file does not match OpenAI's")
    return {base64.b64decode(tok): int(rank) for tok, rank in (line.split() for line in data.splitlines() if line)}


@functools.cache
def encoding(name: str) -> tiktoken.Encoding:
    """Python tiktoken's encoding `name`, built from the local ranks (the constructor in
    `tiktoken_ext.openai_public` runs with its downloader replaced by `load_ranks`)."""
    with mock.patch.object(openai_public, "load_tiktoken_bpe", lambda *_a, **_k: load_ranks(name)):
        spec = getattr(openai_public, name)()
    return tiktoken.Encoding(**spec)


def count_tokens(text: str, encoding_name: str = "o200k_base") -> int:
    return len(encoding(encoding_name).encode_ordinary(text))


# --- the model table ----------------------------------------------------------------------------------

# Where we widen tiktoken's table (rust/tokens/encoding.rs says why); checked before tiktoken's.
EXTRA_EXACT = {"gpt-4.5": "o200k_base"}
EXTRA_PREFIX = {"ft:gpt-4.1": "o200k_base", "o4-": "o200k_base", "text-embedding-3-": "cl100k_base"}


def encoding_for_model(model: str) -> str | None:
    name = model.rsplit("/", 1)[-1].lower()
    if name in EXTRA_EXACT:
        return EXTRA_EXACT[name]
    if name not in tiktoken.model.MODEL_TO_ENCODING:
        for prefix, enc in EXTRA_PREFIX.items():
            if name.startswith(prefix):
                return enc
    try:
        enc = tiktoken.model.encoding_name_for_model(name)
    except KeyError:
        return None
    if enc == "o200k_harmony":  # o200k_base's ranks and pattern; only special tokens differ
        return "o200k_base"
    return enc if enc in ENCODINGS else None


# --- estimates for other families ---------------------------------------------------------------------

FACTORS = {
    "claude": 1.30,
    "claude47": 1.76,
    "gemini": 1.10,
    "mistral": 1.10,
    "deepseek": 1.10,
    "qwen": 1.10,
}
NEEDLES = [
    ("gemini", "gemini"),
    ("deepseek", "deepseek"),
    ("qwen", "qwen"),
    ("qwq", "qwen"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
    ("codestral", "mistral"),
    ("devstral", "mistral"),
    ("magistral", "mistral"),
    ("pixtral", "mistral"),
]


def claude_version(name: str) -> tuple[int, int]:
    m = re.search(r"(\d+)(?:[-.](\d{1,2})(?!\d))?", name)
    if not m:
        return (0, 0)
    return (int(m.group(1)), int(m.group(2) or 0))


def family(model: str) -> str | None:
    name = model.rsplit("/", 1)[-1].lower()
    if "claude" in name:
        return "claude47" if claude_version(name[name.index("claude") :]) >= (4, 7) else "claude"
    return next((fam for needle, fam in NEEDLES if needle in name), None)


def count_tokens_for_model(text: str, model: str) -> int:
    enc = encoding_for_model(model)
    if enc is not None:
        return count_tokens(text, enc)
    fam = family(model)
    n = count_tokens(text, "o200k_base")
    return n if fam is None else math.ceil(n * FACTORS[fam])


# --- images -------------------------------------------------------------------------------------------

IMAGE_PRICING: list[tuple[str, tuple[str, float, float]]] = [  # first prefix wins
    ("gpt-4o-mini", ("tiles", 2833, 5667)),
    ("gpt-4.1-mini", ("patches", 1.62, 0)),
    ("gpt-4.1-nano", ("patches", 2.46, 0)),
    ("gpt-5-mini", ("patches", 1.62, 0)),
    ("gpt-5-nano", ("patches", 2.46, 0)),
    ("o4-mini", ("patches", 1.72, 0)),
    ("gpt-5", ("tiles", 70, 140)),
    ("o1", ("tiles", 75, 150)),
    ("o3", ("tiles", 75, 150)),
    ("computer-use-preview", ("tiles", 65, 129)),
]


def image_pricing(name: str) -> tuple[str, float, float]:
    return next((p for prefix, p in IMAGE_PRICING if name.startswith(prefix)), ("tiles", 85, 170))


def tiles(w: float, h: float) -> int:
    if w == 0 or h == 0:
        return 0
    if w > 2048 or h > 2048:
        r = 2048 / max(w, h)
        w, h = w * r, h * r
    if min(w, h) > 768:
        r = 768 / min(w, h)
        w, h = w * r, h * r
    return math.ceil(w / 512) * math.ceil(h / 512)


def patches(w: float, h: float) -> int:
    raw = math.ceil(w / 32) * math.ceil(h / 32)
    if raw <= 1536:
        return raw
    r = math.sqrt(32.0 * 32.0 * 1536.0 / (float(w) * float(h)))  # float ops in the order Rust does them
    r = r * min(math.floor(w * r / 32) / (w * r / 32), math.floor(h * r / 32) / (h * r / 32))
    return min(math.floor(w * r / 32) * math.floor(h * r / 32), 1536)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF, WebP or JPEG header."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = data[12:16]
        if kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a" and len(data) >= 30:
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        if kind == b"VP8L" and data[20:21] == b"\x2f" and len(data) >= 25:
            (v,) = struct.unpack("<I", data[21:25])
            return (v & 0x3FFF) + 1, ((v >> 14) & 0x3FFF) + 1
        if kind == b"VP8X" and len(data) >= 30:
            return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
        return None
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker == 0xFF:
                i += 1
                continue
            if 0xD0 <= marker <= 0xD9 or marker == 0x01:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                if i + 9 > len(data):
                    return None
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return w, h
            i += 2 + length
    return None


def data_url_size(url: str) -> tuple[int, int] | None:
    if not url.startswith("data:") or "," not in url:
        return None
    meta, payload = url[5:].split(",", 1)
    if not meta.endswith(";base64"):
        return None
    alphabet = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")
    clean = bytes(c for c in payload.split("=", 1)[0].encode() if c in alphabet)
    clean = clean.replace(b"-", b"+").replace(b"_", b"/")
    clean = clean[: 4 * (64 * 1024 // 3 + 1)]
    if len(clean) % 4 == 1:  # 6 bits make no byte
        clean = clean[:-1]
    data = base64.b64decode(clean + b"=" * (-len(clean) % 4))[: 64 * 1024]
    return image_size(data)


def image_tokens(pricing: tuple[str, float, float], url: str | None, detail: str | None) -> int:
    size = data_url_size(url) if isinstance(url, str) else None
    w, h = size or (1024, 1024)
    kind, a, b = pricing
    if kind == "tiles":
        return int(a) if detail == "low" else int(a + b * tiles(w, h))
    return math.ceil(patches(w, h) * a)


# --- chat ---------------------------------------------------------------------------------------------


def _s(v: Any) -> str:
    return v if isinstance(v, str) else ""


def num_tokens_from_messages(messages: list[Any], enc: str, pricing: tuple[str, float, float]) -> int:
    """The cookbook's function (3 per message, every string value, 1 per name, 3 priming), widened."""
    count = functools.partial(count_tokens, encoding_name=enc)
    n = 3
    for message in messages:
        if not isinstance(message, dict):
            continue
        n += 3
        for key, value in message.items():
            if isinstance(value, str):
                n += count(value)
                if key == "name":
                    n += 1
            elif key == "content" and isinstance(value, list):
                for part in value:
                    n += _part(part, count, pricing)
            elif key == "tool_calls" and isinstance(value, list):
                for call in value:
                    if isinstance(call, dict) and "function" in call:
                        n += _call(call["function"], count)
            elif key == "function_call" and isinstance(value, dict):
                n += _call(value, count)
    return n


def _call(function: Any, count: Any) -> int:
    if not isinstance(function, dict):
        return 0
    return sum(count(function[k]) for k in ("name", "arguments") if isinstance(function.get(k), str))


def _part(part: Any, count: Any, pricing: tuple[str, float, float]) -> int:
    if not isinstance(part, dict):
        return 0
    kind = part.get("type")
    if kind in ("text", "input_text"):
        return count(part["text"]) if isinstance(part.get("text"), str) else 0
    if kind == "refusal":
        return count(part["refusal"]) if isinstance(part.get("refusal"), str) else 0
    if kind in ("image_url", "input_image"):
        img = part.get("image_url")
        if isinstance(img, dict):
            url, detail = img.get("url"), img.get("detail")
        else:
            url, detail = img, part.get("detail")
        return image_tokens(pricing, url if isinstance(url, str) else None, detail if isinstance(detail, str) else None)
    return 0


def num_tokens_for_tools(functions: list[dict[str, Any]], enc: str) -> int:
    """The cookbook's function (func_init 7 on o200k_base, 10 on cl100k_base), without the messages."""
    if not functions:
        return 0
    count = functools.partial(count_tokens, encoding_name=enc)
    func_init, prop_init, prop_key, enum_init, enum_item, func_end = (7 if enc == "o200k_base" else 10), 3, 3, -3, 3, 12
    n = 0
    for function in functions:
        n += func_init
        f_desc = _s(function.get("description")).removesuffix(".")
        n += count(_s(function.get("name")) + ":" + f_desc)
        params = function.get("parameters")
        props = params.get("properties") if isinstance(params, dict) else None
        if isinstance(props, dict) and len(props) > 0:
            n += prop_init
            for key, prop in props.items():
                n += prop_key
                prop = prop if isinstance(prop, dict) else {}
                if "enum" in prop:
                    n += enum_init
                    for item in prop["enum"] if isinstance(prop["enum"], list) else []:
                        n += enum_item + (count(item) if isinstance(item, str) else 0)
                p_desc = _s(prop.get("description")).removesuffix(".")
                n += count(f"{key}:{_s(prop.get('type'))}:{p_desc}")
    return max(n + func_end, 0)


def count_chat(body: bytes, model: str | None = None) -> int:
    req = json.loads(body)
    if not isinstance(req, dict):
        raise ValueError("request body is not a JSON object")
    if model is None and isinstance(req.get("model"), str):
        model = req["model"]
    name = (model or "").rsplit("/", 1)[-1].lower()
    enc = encoding_for_model(name)
    fam = None if enc else family(name)
    pricing = image_pricing(name) if enc else image_pricing("gpt-4o")
    enc = enc or "o200k_base"
    messages = req.get("messages")
    n = num_tokens_from_messages(messages if isinstance(messages, list) else [], enc, pricing)
    defs: list[dict[str, Any]] = []
    if isinstance(req.get("tools"), list):
        defs += [
            t["function"]
            for t in req["tools"]
            if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("function"), dict)
        ]
    if isinstance(req.get("functions"), list):
        defs += [f for f in req["functions"] if isinstance(f, dict)]
    n += num_tokens_for_tools(defs, enc)
    return n if fam is None else math.ceil(n * FACTORS[fam])
