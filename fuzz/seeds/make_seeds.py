"""Regenerate the committed seed corpora under fuzz/seeds/ (python3 fuzz/seeds/make_seeds.py).

sse/*   inputs of the sse_parser and sse_tap targets: a header byte h, h & 7 chunk-length bytes, then
        the stream (see fuzz/fuzz_targets/common/mod.rs). Realistic OpenAI chat-completion streams.
json/*  inputs of the inspect and rewrite targets: realistic chat-completions request bodies.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def chunk(i: int, delta: dict, finish: str | None = None, usage: object = None, choices: bool = True) -> dict:
    c: dict = {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion.chunk",
        "created": 1741570283,
        "model": "gpt-4o-2024-08-06",
        "service_tier": "default",
        "system_fingerprint": "fp_f9f4fb6dbf",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}] if choices else [],
    }
    c["usage"] = usage
    return c


USAGE = {
    "prompt_tokens": 19,
    "completion_tokens": 10,
    "total_tokens": 29,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}


def events(objs: list[object], sep: str = "\n") -> bytes:
    out = []
    for o in objs:
        data = o if isinstance(o, str) else json.dumps(o, separators=(",", ":"), ensure_ascii=False)
        out.append(f"data: {data}{sep}{sep}")
    return "".join(out).encode()


def text_stream(words: list[str], usage: bool = True) -> list[object]:
    objs: list[object] = [chunk(0, {"role": "assistant", "content": "", "refusal": None})]
    objs += [chunk(i, {"content": w}) for i, w in enumerate(words)]
    objs.append(chunk(0, {}, "stop"))
    if usage:
        objs.append(chunk(0, {}, usage=USAGE, choices=False))
    objs.append("[DONE]")
    return objs


WORDS = ["Hello", "!", " How", " can", " I", " help", " you", " today", "?"]
UNICODE = ["Ça", " coûte", " 5", " €", " —", " 日本語", " 🙂", "\n```py\nx = 1\n```"]

TOOL = [
    chunk(
        0,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ],
        },
    ),
    chunk(0, {"tool_calls": [{"index": 0, "function": {"arguments": '{"'}}]}),
    chunk(0, {"tool_calls": [{"index": 0, "function": {"arguments": "location"}}]}),
    chunk(0, {"tool_calls": [{"index": 0, "function": {"arguments": '":"Paris"}'}}]}),
    chunk(0, {}, "tool_calls"),
    chunk(0, {}, usage=USAGE, choices=False),
    "[DONE]",
]

ERROR = {
    "error": {
        "message": "The server had an error while processing your request.",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}

SSE: dict[str, tuple[bytes, bytes]] = {
    # name: (header + chunk lengths, stream)
    "text_lf_whole": (b"\x00", events(text_stream(WORDS))),
    "text_lf_7": (b"\x01\x07", events(text_stream(WORDS))),
    "text_crlf_mixed": (b"\x03\x01\x0d\x40", events(text_stream(WORDS), "\r\n")),
    "text_cr": (b"\x02\x00\x05", events(text_stream(WORDS[:4]), "\r")),
    "no_usage": (b"\x01\xff", events(text_stream(WORDS[:3], usage=False))),
    "unicode": (b"\x01\x03", events(text_stream(UNICODE))),
    "tool_calls": (b"\x02\x20\x90", events(TOOL)),
    "error_mid_stream": (
        b"\x01\x11",
        events(text_stream(WORDS[:2], usage=False)[:2]) + b"event: error\n" + events([ERROR]),
    ),
    "fields_comments_bom": (
        b"\x04\x01\x02\x03\x04",
        b"\xef\xbb\xbf: OPENROUTER PROCESSING\n\nretry: 3000\nid: 1\nevent: message\n"
        + events([chunk(0, {"content": "a"})])
        + b': keepalive\r\nid\ndata: {"choices":[],\n'
        + b'data: "usage":{"total_tokens":3}}\n\n'
        + b"data: [DONE]\n\ndata: partial",
    ),
    # Regression (found by sse_tap, see the comment on `comparable` there): invalid UTF-8 in a member
    # the tap does not read; it records this usage and strips the chunk, sse_reference.py sees no JSON.
    "regress_tap_invalid_utf8": (
        b"\x01\x05",
        b'data: {"x":"\xff","choices":[],"usage":{}}\r\rdata: {"i":"\xff","usage":{}}\r\r',
    ),
    "usage_with_choices": (
        b"\x01\x40",
        events([chunk(0, {"content": "x"}, "stop", usage=USAGE), "[DONE]"]),
    ),
}

BASE = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say this is a test."}]}

JSON: dict[str, object] = {
    "minimal": BASE,
    "stream_usage": {**BASE, "stream": True, "stream_options": {"include_usage": True}, "max_tokens": 256},
    "multi_turn": {
        "model": "gpt-4.1",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant. Think step by step."},
            {"role": "user", "content": "Can you derive the formula and prove it?"},
            {"role": "assistant", "content": "Sure:\n```latex\na^2+b^2=c^2\n```\n", "refusal": None},
            {"role": "user", "content": "Now analyse the reasoning. Think again, Step By Step."},
        ],
        "temperature": 0.2,
        "top_p": 1,
        "n": 2,
        "max_completion_tokens": 4096,
        "seed": -7,
        "stop": ["\n\n"],
        "user": "user-1234",
        "logit_bias": {"50256": -100},
    },
    "tools": {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "What's the weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21.5}'},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Get weather",
                    "parameters": {
                        "type": "object",
                        "properties": {"location": {"type": "string"}},
                        "required": ["location"],
                        "additionalProperties": False,
                    },
                    "strict": True,
                },
            }
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
    },
    "images": {
        "model": "gpt-4o",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What's in this image?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
                    {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="},
                ],
            }
        ],
        "max_tokens": 300,
    },
    "response_format": {
        **BASE,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "r",
                "strict": True,
                "schema": {"type": "object", "properties": {"answer": {"type": "number"}}, "required": ["answer"]},
            },
        },
        "stream_options": None,
        "functions": [{"name": "f", "parameters": {}}],
    },
    "reasoning": {
        "model": "o3-mini",
        "reasoning_effort": "high",
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "Reason carefully."}]},
            {"role": "user", "content": "Prove that √2 is irrational, step by step."},
        ],
        "max_completion_tokens": 25000,
        "max_tokens": None,
    },
    "no_model_stream_options_obj": {"messages": [], "stream": False, "stream_options": {"x": 1}},
}

# Hand-written bodies that json.dumps would not produce.
RAW_JSON: dict[str, bytes] = {
    "escapes": b'{ "model" : "gpt-4o\\u002dmini", "messages":[{"role":"us\\u0065r","content":'
    b'"caf\\u00e9 \\ud83d\\ude00 \\"quoted\\" \\\\ \\/ \\b\\f\\n\\r\\t ```\\n```"}],\n\t"n":1e0}',
    "duplicate_keys": b'{"model":"a","model":"b","messages":[{"role":"user","content":"x"}],'
    b'"stream_options":{"include_usage":false},"stream_options":{}}',
    "lone_surrogate": b'{"model":"m","messages":[{"role":"user","content":"\\ud800 think"}]}',
    "numbers": b'{"model":"m","max_tokens":-0,"n":9223372036854775807,"temperature":1.5E-3,"top_p":1e400}',
    "deep": b'{"model":"m","metadata":' + b"[" * 140 + b"]" * 140 + b"}",
    "truncated": b'{"model":"gpt-4o","messages":[{"role":"user","content":"Hel',
    "not_object": b'[{"model":"gpt-4o"}]',
    "wrong_types": b'{"model":4,"messages":{"role":"user"},"stream":"yes","tools":{}}',
}


def main() -> None:
    for d in ("sse", "json"):
        (HERE / d).mkdir(exist_ok=True)
        for old in (HERE / d).iterdir():
            old.unlink()
    for name, (head, stream) in SSE.items():
        assert (head[0] & 7) == len(head) - 1, name
        (HERE / "sse" / name).write_bytes(head + stream)
    for name, obj in JSON.items():
        body = json.dumps(obj, ensure_ascii=False, indent=None if len(name) % 2 else 1).encode()
        (HERE / "json" / name).write_bytes(body)
    for name, body in RAW_JSON.items():
        (HERE / "json" / name).write_bytes(body)


if __name__ == "__main__":
    main()
