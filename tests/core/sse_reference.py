"""A plain-Python reference for `text/event-stream`, written straight from the WHATWG spec
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation), plus a
reference for what `ChatStreamTap` must do. Slow and simple on purpose: it takes the whole stream at once.

Choices the spec leaves open, made the same way as the Rust code:
- `retry` needs at least one digit, and a value above 2**64 - 1 is ignored.
- An event's `id` is None until some `id` field is accepted (the spec's default is "").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

BOM = b"\xef\xbb\xbf"
U64_MAX = 2**64 - 1
DIGITS = frozenset("0123456789")
# "\r\n" first, so a CR followed by an LF is one line ending.
_LINE_END_TEXT = re.compile(r"\r\n|\r|\n")
_LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class Event:
    event: str
    data: str
    id: str | None
    retry: int | None


@dataclass
class Parsed:
    events: list[Event]
    last_event_id: str | None
    retry: int | None


def parse(stream: bytes) -> Parsed:
    """All events of a complete stream, as the spec's parser dispatches them."""
    # "Streams must be decoded using the UTF-8 decode algorithm": invalid bytes become U+FFFD and one
    # leading BOM is stripped.
    text = stream.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    # "The stream must then be parsed by reading everything line by line". What follows the last line
    # ending is not a line: "once the end of the file is reached, any pending data must be discarded".
    lines: list[str] = []
    pos = 0
    for m in _LINE_END_TEXT.finditer(text):
        lines.append(text[pos : m.start()])
        pos = m.end()

    events: list[Event] = []
    data = ""
    event_type = ""
    id_buffer: str | None = None
    last_event_id: str | None = None
    block_retry: int | None = None
    retry: int | None = None
    for line in lines:
        if line == "":
            # Dispatch the event.
            last_event_id = id_buffer
            this_retry, block_retry = block_retry, None
            if data == "":
                data = event_type = ""
                continue
            if data.endswith("\n"):
                data = data[:-1]
            events.append(Event(event_type or "message", data, id_buffer, this_retry))
            data = event_type = ""
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        if name == "event":
            event_type = value
        elif name == "data":
            data += value + "\n"
        elif name == "id":
            if "\0" not in value:
                id_buffer = value
        elif name == "retry" and value and set(value) <= DIGITS and int(value) <= U64_MAX:
            block_retry = retry = int(value)
    return Parsed(events, last_event_id, retry)


@dataclass
class Tapped:
    """What `ChatStreamTap` must return and record for a stream fed in full."""

    output: bytes  # the kept complete blocks, concatenated
    rest: bytes  # the incomplete trailing block (what finish() returns)
    usage: Any = None  # the last non-null top-level usage, parsed
    error: bytes | None = None
    done: bool = False
    events: int = 0
    stripped: list[bytes] = field(default_factory=list)
    text: str = ""  # what `collect_text` gathers


_TEXT_FIELDS = ("content", "reasoning_content", "refusal")


def _strings(obj: dict[str, Any], names: tuple[str, ...]) -> list[str] | None:
    values = [obj.get(n) for n in names]
    if any(v is not None and not isinstance(v, str) for v in values):
        return None
    return [v or "" for v in values]


def chunk_text(obj: dict[str, Any]) -> str:
    """The generated text of one chunk, all or nothing as the Rust struct reading takes it: every
    choice's `text` (legacy completions), delta content / reasoning_content / refusal and tool-call function name / arguments; ""
    when any of them is not a string or null where a string is read (the whole chunk is then unread)."""
    choices = obj.get("choices")
    if not isinstance(choices, list):
        return ""
    parts: list[str] = []
    for choice in choices:
        if isinstance(choice, list) and not choice:
            continue  # serde reads [] as a choice with every field defaulted
        if not isinstance(choice, dict):
            return ""
        completion = choice.get("text")  # legacy completions
        if completion is not None and not isinstance(completion, str):
            return ""
        parts.append(completion or "")
        delta = choice.get("delta")
        if delta is None:
            continue
        if not isinstance(delta, dict):
            return ""
        texts = _strings(delta, _TEXT_FIELDS)
        calls = delta.get("tool_calls")
        if texts is None or not isinstance(calls, list | None):
            return ""
        parts += texts
        for call in calls or []:
            if not isinstance(call, dict) or not isinstance(call.get("function"), dict | None):
                return ""
            fn = _strings(call.get("function") or {}, ("name", "arguments"))
            if fn is None:
                return ""
            parts += fn
    return "".join(parts)


def split_blocks(stream: bytes) -> tuple[list[tuple[bytes, bytes | None]], bytes]:
    """The complete blocks of a stream (raw bytes through the ending of the blank line that closes them)
    with the data each dispatches (None when it has no `data` field), and the incomplete rest."""
    blocks: list[tuple[bytes, bytes | None]] = []
    start = pos = 0
    data: list[bytes] = []
    first = True
    for m in _LINE_END_BYTES.finditer(stream):
        line = stream[pos : m.start()]
        pos = m.end()
        if first and line.startswith(BOM):
            line = line[len(BOM) :]
        first = False
        if line == b"":
            blocks.append((stream[start:pos], b"\n".join(data) if data else None))
            start = pos
            data = []
        elif not line.startswith(b":"):
            name, _, value = line.partition(b":")
            if name == b"data":
                data.append(value[1:] if value.startswith(b" ") else value)
    return blocks, stream[start:]


def tap(stream: bytes, strip_usage_chunk: bool) -> Tapped:
    blocks, rest = split_blocks(stream)
    out = Tapped(b"", rest)
    kept: list[bytes] = []
    for raw, data in blocks:
        keep = True
        if data is not None:
            out.events += 1
            if data.startswith(b"[DONE]"):
                out.done = True
            else:
                try:
                    obj = json.loads(data.decode("utf-8"))
                except ValueError:  # (UnicodeDecodeError is a ValueError)
                    obj = None
                if isinstance(obj, dict):
                    out.text += chunk_text(obj)
                    if obj.get("error") is not None and out.error is None:
                        out.error = data
                    if obj.get("usage") is not None:
                        out.usage = obj["usage"]
                        if strip_usage_chunk and obj.get("choices") == []:
                            keep = False
        if keep:
            kept.append(raw)
        else:
            out.stripped.append(raw)
    out.output = b"".join(kept)
    return out
