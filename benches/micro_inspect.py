"""Micro-benchmark: `switchyard._core.inspect_request` / `rewrite_model` against the Python reference
(`tests/core/inspect_reference.py`) and against orjson, on chat bodies of ~200 B, 10 KB and 50 KB.

The orjson rows are the cheapest way a Python gateway could do the same job, and they do less: for
inspect, `orjson.loads` + reading model / stream / max_tokens / message count (no validation, no text
features); for rewrite, `orjson.loads` + set model + `orjson.dumps` (which re-spells the whole body).

Method: each callable runs in a timed loop sized to ~0.2 s, best of 5 repeats, reported per call.
Usage: python benches/micro_inspect.py [--quick]
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import orjson
from switchyard._core import inspect_request, rewrite_model

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "core"))
import inspect_reference as ref
from microbench import cpu_model, per_call_us

PROSE = (
    "Could you analyze this function and explain, step by step, why it is slow? I think the loop is "
    "the problem but I'm not sure. Here is the code:\n```python\ndef f(xs):\n    out = []\n"
    "    for x in xs:\n        out = out + [x * 2]\n    return out\n```\n"
    "Thanks! Prices are in € and the café's menu says 5 €.\n"
)


def body(size: int) -> bytes:
    """A chat request of about `size` bytes: system prompt, alternating turns, tools when large."""
    req: dict[str, object] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "You are a helpful assistant."}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_completion_tokens": 512,
        "temperature": 0.7,
    }
    if size <= 300:
        req["messages"] = [{"role": "user", "content": "Think step by step: what is 17 * 23?"}]
        return json.dumps(req).encode()
    req["tools"] = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    msgs = req["messages"]
    assert isinstance(msgs, list)
    turn = 0
    while len(json.dumps(req)) < size:
        if turn % 2:
            msgs.append({"role": "assistant", "content": PROSE[::-1]})
        else:
            msgs.append({"role": "user", "content": [{"type": "text", "text": PROSE}]})
        turn += 1
    return json.dumps(req).encode()


def orjson_inspect(b: bytes) -> tuple[object, ...]:
    d = orjson.loads(b)
    mct = d.get("max_completion_tokens")
    return (
        d.get("model"),
        d.get("stream") is True,
        mct if mct is not None else d.get("max_tokens"),
        len(d.get("messages") or ()),
    )


def orjson_rewrite(b: bytes) -> bytes:
    d = orjson.loads(b)
    d["model"] = "gpt-4o"
    return orjson.dumps(d)


def main() -> None:
    quick = "--quick" in sys.argv
    print(
        f"Python {platform.python_version()}, orjson {orjson.__version__}, {cpu_model()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}"
    )
    print("Per call, best of 5 timed loops of ~0.2 s each; ratio = other / Rust (above 1: Rust is faster).\n")
    print("| body | operation | Rust µs | Python ref µs | ref / Rust | orjson µs | orjson / Rust |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for size in (200, 10_000, 50_000):
        b = body(size)
        assert orjson.loads(b)  # the bodies are valid
        assert inspect_request(b).model == ref.inspect(b).model
        assert rewrite_model(b, "gpt-4o") == ref.rewrite(b, "gpt-4o")
        rows = [
            (
                "inspect",
                lambda b=b: inspect_request(b),
                lambda b=b: ref.inspect(b),
                lambda b=b: orjson_inspect(b),
            ),
            (
                "rewrite model",
                lambda b=b: rewrite_model(b, "gpt-4o"),
                lambda b=b: ref.rewrite(b, "gpt-4o"),
                lambda b=b: orjson_rewrite(b),
            ),
        ]
        for name, rust, py, oj in rows:
            r, p, o = (per_call_us(f, quick) for f in (rust, py, oj))
            print(f"| {len(b):,} B | {name} | {r:.2f} | {p:.1f} | {p / r:.0f}x | {o:.2f} | {o / r:.1f}x |")


if __name__ == "__main__":
    main()
