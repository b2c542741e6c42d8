"""Micro-benchmark: `switchyard._core.SseParser.feed` and `ChatStreamTap.feed` against the plain-Python
reference (`tests/core/sse_reference.py`) and against the OpenAI SDK's own decoder, on a typical OpenAI
chat-completion stream of 50 events (role chunk, 46 content deltas, stop chunk, usage chunk, `[DONE]`;
~15 KB), fed two ways: one event per chunk (what an upstream HTTP client usually hands over) and the
whole stream as one chunk.

- Rust: one `SseParser()` / `ChatStreamTap(True)` per stream, `feed` per chunk, `finish` at the end.
- Python reference: `sse_reference.parse(chunk)` / `sse_reference.tap(chunk, True)` per chunk. It is a
  whole-stream parser; fed one complete event at a time it gives the same events but keeps no state
  between chunks, so it is a lower bound on what a correct incremental pure-Python parser costs.
- OpenAI SDK: `openai._streaming.SSEDecoder().iter_bytes(chunks)` (the decoder the `openai` package runs
  on every stream); for the tap row, plus `json.loads` of each event's data to find `usage`, which is
  the least a Python relay must do for what `ChatStreamTap` does. Skipped if `openai` is not installed.

Method: each callable processes the whole stream in a timed loop sized to >= 0.2 s; the callables of a
row are timed in 7 interleaved rounds and the best round counts; "per feed" is that time divided by
the number of chunks. Ratios are other / Rust (above 1: Rust is faster). Usage: python3 benches/micro_sse.py [--quick]
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import switchyard._core as core
from microbench import cpu_model
from switchyard._core import ChatStreamTap, SseParser


def _load_reference() -> Any:
    """tests/core/sse_reference.py, imported by path (tests/ is not a package)."""
    path = Path(__file__).resolve().parent.parent / "tests" / "core" / "sse_reference.py"
    spec = importlib.util.spec_from_file_location("sse_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


ref = _load_reference()


def _sdk_decoder() -> Callable[[], Any] | None:
    """The OpenAI SDK's SSE decoder class, if `openai` is installed (an optional comparison)."""
    try:
        from openai._streaming import SSEDecoder
    except ImportError:
        return None
    return SSEDecoder


SSEDecoder = _sdk_decoder()

ANSWER = (
    "Sure! Here is a short answer: the loop copies the list on every iteration, so the total work is "
    "quadratic in its length; appending in place keeps it linear and is about as fast as it gets"
)
WORDS = ANSWER.split(" ")


def chunk_obj(delta: dict[str, object], finish: str | None = None, usage: object = None, choices: bool = True) -> str:
    obj: dict[str, object] = {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion.chunk",
        "created": 1741570283,
        "model": "gpt-4o-2024-08-06",
        "service_tier": "default",
        "system_fingerprint": "fp_f9f4fb6dbf",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}] if choices else [],
        "usage": usage,
    }
    return json.dumps(obj, separators=(",", ":"))


def stream_events() -> list[bytes]:
    """50 events, each one SSE block (`data: ...\\n\\n`), as OpenAI sends them with include_usage."""
    data = [chunk_obj({"role": "assistant", "content": "", "refusal": None})]
    data += [chunk_obj({"content": (" " if i else "") + WORDS[i % len(WORDS)]}) for i in range(46)]
    data.append(chunk_obj({}, "stop"))
    usage = {
        "prompt_tokens": 412,
        "completion_tokens": 46,
        "total_tokens": 458,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }
    data.append(chunk_obj({}, usage=usage, choices=False))
    data.append("[DONE]")
    assert len(data) == 50
    return [f"data: {d}\n\n".encode() for d in data]


def rust_parse(chunks: list[bytes]) -> int:
    p = SseParser()
    n = 0
    for c in chunks:
        n += len(p.feed(c))
    p.finish()
    return n


def ref_parse(chunks: list[bytes]) -> int:
    return sum(len(ref.parse(c).events) for c in chunks)


def sdk_parse(chunks: list[bytes]) -> int:
    assert SSEDecoder is not None
    return sum(1 for _ in SSEDecoder().iter_bytes(iter(chunks)))


def rust_tap(chunks: list[bytes]) -> int:
    t = ChatStreamTap(True)
    n = 0
    for c in chunks:
        n += len(t.feed(c))
    n += len(t.finish())
    assert t.usage is not None
    return n


def ref_tap(chunks: list[bytes]) -> int:
    n = 0
    for c in chunks:
        r = ref.tap(c, True)
        n += len(r.output) + len(r.rest)
    return n


def sdk_tap(chunks: list[bytes]) -> int:
    assert SSEDecoder is not None
    usage = None
    for ev in SSEDecoder().iter_bytes(iter(chunks)):
        if ev.data.startswith("[DONE]"):
            continue
        obj = json.loads(ev.data)
        if obj.get("usage") is not None:
            usage = obj["usage"]
    assert usage is not None
    return 0


def check(events: list[bytes], stream: bytes) -> None:
    """The three agree on what they are timed on."""
    want = ref.parse(stream)
    got = [e for c in events for e in SseParser().feed(c)]
    assert [ref.Event(e.event, e.data, e.id, e.retry) for e in got] == want.events
    for chunks in (events, [stream]):
        t = ChatStreamTap(True)
        out = b"".join(t.feed(c) for c in chunks) + t.finish()
        assert out == ref.tap(stream, True).output
        assert out == b"".join(events[:-2] + events[-1:])  # the usage-only chunk is stripped
    if SSEDecoder is not None:
        sdk = list(SSEDecoder().iter_bytes(iter(events)))
        assert [e.data for e in sdk] == [e.data for e in want.events]


def per_call_us(fs: Sequence[Callable[[], object]], quick: bool) -> list[float]:
    """Microseconds per call of each callable: loops sized to >= 0.2 s, timed in interleaved rounds
    (so a burst of load from a neighbour hits one round of each, not every round of one), best round."""
    timers = [timeit.Timer(f) for f in fs]
    loops = [max(1, t.autorange()[0] // (10 if quick else 1)) for t in timers]
    best = [float("inf")] * len(fs)
    for _ in range(3 if quick else 7):
        for i, (t, n) in enumerate(zip(timers, loops, strict=True)):
            best[i] = min(best[i], t.timeit(number=n) / n)
    return [b * 1e6 for b in best]


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def main() -> None:
    quick = "--quick" in sys.argv
    events = stream_events()
    stream = b"".join(events)
    check(events, stream)
    sdk = SSEDecoder is not None
    print(
        f"Python {platform.python_version()}, switchyard {version('switchyard')} "
        f"({Path(core.__file__).name}), openai {version('openai')}, {cpu_model()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}"
    )
    print(
        f"Stream: {len(events)} events, {len(stream):,} bytes. Per feed call (per whole stream in brackets), "
        "best of 7 interleaved timed loops of >= 0.2 s; ratio = other / Rust.\n"
    )
    head = "| operation | chunking | Rust µs/feed | Python ref µs/feed | ref / Rust |"
    rule = "| --- | --- | ---: | ---: | ---: |"
    if sdk:
        head += " openai SSEDecoder µs/feed | SDK / Rust |"
        rule += " ---: | ---: |"
    print(head)
    print(rule)
    rows = [
        ("SseParser.feed", rust_parse, ref_parse, sdk_parse),
        ("ChatStreamTap.feed (strip on)", rust_tap, ref_tap, sdk_tap),
    ]
    for name, rust, py, alt in rows:
        for label, chunks in (("1 event per chunk", events), ("whole stream, 1 chunk", [stream])):
            n = len(chunks)
            fs = [functools.partial(f, chunks) for f in (rust, py, alt)[: 3 if sdk else 2]]
            r, p, *a = per_call_us(fs, quick)
            line = f"| {name} | {label} | {r / n:.2f} ({r:.1f}) | {p / n:.1f} ({p:.0f}) | {p / r:.0f}x |"
            if a:
                line += f" {a[0] / n:.1f} ({a[0]:.0f}) | {a[0] / r:.0f}x |"
            print(line)
    if sdk:
        print("\nSDK column of the tap row: SSEDecoder plus json.loads of each event to find `usage`.")


if __name__ == "__main__":
    main()
