"""Canonical (OpenAI chat) answers → Responses answers, whole and streamed.

Shapes: https://platform.openai.com/docs/api-reference/responses/object (the `response` object) and
https://platform.openai.com/docs/api-reference/responses-streaming (events: response.created,
response.in_progress, then per output item response.output_item.added … response.output_item.done, then
response.completed or response.incomplete with the whole object; every event has a `sequence_number`
from 0; a failure is an `error` event).
  - `reasoning_content` → a `reasoning` item whose text is one `summary_text` (what clients built for
    OpenAI's reasoning models display; streamed as reasoning_summary_part / reasoning_summary_text
    events); signed thinking (`thinking_blocks`) has no place in it and is not returned;
  - `content` → a `message` item with one `output_text` part (annotations and logprobs []), `refusal` → a
    `refusal` part; `tool_calls` → one `function_call` item each (`fc_` id, `call_id` = the call's id),
    streamed arguments → function_call_arguments delta / done (calls may interleave by output_index);
  - `finish_reason` length / content_filter → status `incomplete` with `incomplete_details.reason`
    max_output_tokens / content_filter, and the last item's status `incomplete`; else `completed`;
  - usage (`usage_of`): `input_tokens` = every input class (cache reads in `input_tokens_details`),
    `output_tokens` = output + reasoning (reasoning in `output_tokens_details`); `service_tier` the tier
    the upstream reported serving on, else the one asked for;
  - ids: `resp_`, `msg_`, `rs_` + the completion id (without `chatcmpl-`), `fc_` + the call id (without
    `call_`); the request fields come from request.py's echo (`store` always false).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from switchyard.canonical import JsonObject, Usage
from switchyard.dialects.stream import ChunkTranslator
from switchyard.errors import GatewayError, UpstreamError

INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}
TIERS = frozenset({"auto", "default", "flex", "scale", "priority", "fast", "ultrafast"})  # `ServiceTierResponses`


def usage_of(u: Usage | None) -> JsonObject:
    """A usage record as a Responses `usage` object (zeros when there is none)."""
    u = u or Usage()
    return {
        "input_tokens": u.prompt_tokens,
        "input_tokens_details": {"cached_tokens": u.cache_read_tokens, "cache_write_tokens": u.cache_write_tokens},
        "output_tokens": u.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": u.total_tokens,
    }


def _base(raw: Any) -> str:
    text = str(raw or "").removeprefix("chatcmpl-")
    return text or uuid.uuid4().hex


def _call_id(call_id: str) -> str:
    return "fc_" + call_id.removeprefix("call_")


def _text_part(text: str) -> JsonObject:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _reasoning(item_id: str, text: str) -> JsonObject:
    return {"id": item_id, "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]}


def _message(item_id: str, parts: list[JsonObject], status: str = "completed") -> JsonObject:
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": parts}


def _call(call_id: str, name: str, args: str, status: str = "completed") -> JsonObject:
    item = {"id": _call_id(call_id), "type": "function_call", "status": status}
    return item | {"call_id": call_id, "name": name, "arguments": args}


def _finished(response: JsonObject, usage: Usage | None) -> JsonObject:
    """A finished response with its usage, and the tier it was served on where the upstream said so."""
    response["usage"] = usage_of(usage)
    if usage is not None and usage.service_tier in TIERS:
        response["service_tier"] = usage.service_tier
    return response


def _response(
    base: str, created: Any, model: Any, echo: JsonObject, output: list[JsonObject], finish: str | None = None
) -> JsonObject:
    """The `response` object; `finish` None: still in progress (no usage, no end time)."""
    reason = INCOMPLETE.get(finish or "")
    if reason and output and "status" in output[-1]:
        output[-1]["status"] = "incomplete"
    status = "in_progress" if finish is None else "incomplete" if reason else "completed"
    return {
        "id": f"resp_{base}",
        "object": "response",
        "created_at": created if isinstance(created, int) else int(time.time()),
        "status": status,
        "completed_at": None if finish is None else int(time.time()),
        "error": None,
        "incomplete_details": {"reason": reason} if reason else None,
        **echo,
        "model": model or echo.get("model"),
        "output": output,
    }


def whole(body: bytes, usage: Usage | None, echo: JsonObject) -> bytes:
    """An OpenAI chat completion as a Responses `response` object; `echo` from request.to_openai."""
    try:
        answer = orjson.loads(body)
        choice = answer["choices"][0]
        msg = choice["message"]
        calls = [(c["id"], c["function"]) for c in msg.get("tool_calls") or []]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError):
        raise UpstreamError("upstream answered 200 with a body that is not a chat completion") from None
    base = _base(answer.get("id"))
    output: list[JsonObject] = []
    if msg.get("reasoning_content"):
        output.append(_reasoning(f"rs_{base}", str(msg["reasoning_content"])))
    parts = [_text_part(str(msg["content"]))] if msg.get("content") else []
    if msg.get("refusal"):
        parts.append({"type": "refusal", "refusal": str(msg["refusal"])})
    if parts:
        output.append(_message(f"msg_{base}", parts))
    for call_id, fn in calls:
        output.append(_call(str(call_id), str(fn.get("name")), str(fn.get("arguments") or "")))
    finish = choice.get("finish_reason") or "stop"
    return orjson.dumps(
        _finished(_response(base, answer.get("created"), answer.get("model"), echo, output, finish), usage)
    )


class StreamTranslator(ChunkTranslator):
    """OpenAI chunks in, Responses events out (the `StreamTap` surface, stacked after the adapter's)."""

    def __init__(self, usage: Callable[[], Usage | None], echo: JsonObject) -> None:
        """`usage`: the stream's usage so far, as the adapter's tap below this one parsed it; `echo`: the
        request fields (request.to_openai)."""
        self._usage = usage
        self._echo = echo
        super().__init__()
        self._seq = 0
        self._base = ""
        self._created: Any = None
        self._model: Any = None
        self._output: list[JsonObject] = []  # the items as the final response will hold them
        self._ids: dict[str, int] = {}  # items made per id prefix
        self._block: int | None = None  # the open reasoning or message item (output index)
        self._part: str | None = None  # its open part's kind: summary_text, output_text, refusal
        self._text: list[str] = []  # that part's text so far
        self._tools: dict[int, int] = {}  # chat tool-call index → output index (open until the end)
        self._args: dict[int, list[str]] = {}  # output index → the call's arguments so far
        self._finish: str | None = None
        self.error: bytes | None = None

    @property
    def usage(self) -> Usage | None:
        return self._usage()

    def error_event(self, err: GatewayError) -> bytes:
        """An `error` event: how a stream that fails after its start ends."""
        out: list[bytes] = []
        self._emit(out, "error", code=err.code, message=err.message, param=err.param)
        return out[0]

    def _emit(self, out: list[bytes], kind: str, **fields: Any) -> None:
        data = {"type": kind, **fields, "sequence_number": self._seq}
        self._seq += 1
        out.append(b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n")

    def _chunk(self, data: JsonObject, out: list[bytes]) -> None:
        if isinstance(data.get("error"), dict):
            err = data["error"]
            code = None if err.get("code") is None else str(err["code"])
            param = None if err.get("param") is None else str(err["param"])
            message = str(err.get("message"))
            envelope = {"message": message, "type": "upstream_error", "param": param, "code": code}
            self.error = orjson.dumps({"error": envelope})
            self._emit(out, "error", code=code, message=message, param=param)
            return
        if not self._base:
            self._start(data, out)
        for choice in data.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("reasoning_content"):
                self._delta("summary_text", str(delta["reasoning_content"]), out)
            if delta.get("content"):
                self._delta("output_text", str(delta["content"]), out)
            if delta.get("refusal"):
                self._delta("refusal", str(delta["refusal"]), out)
            for call in delta.get("tool_calls") or []:
                self._tool(call, out)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]

    def _start(self, data: JsonObject, out: list[bytes]) -> None:
        self._base = _base(data.get("id"))
        self._created, self._model = data.get("created"), data.get("model")
        response = _response(self._base, self._created, self._model, self._echo, [])
        self._created = response["created_at"]
        self._emit(out, "response.created", response=response)
        self._emit(out, "response.in_progress", response=response)

    def _new_id(self, prefix: str) -> str:
        n = self._ids[prefix] = self._ids.get(prefix, -1) + 1
        return f"{prefix}_{self._base}" if n == 0 else f"{prefix}_{self._base}_{n}"

    def _new_item(self, kind: str) -> JsonObject:
        if kind == "summary_text":
            return {"id": self._new_id("rs"), "type": "reasoning", "summary": []}
        return _message(self._new_id("msg"), [], "in_progress")

    def _add(self, item: JsonObject, out: list[bytes]) -> int:
        self._output.append(item)
        self._emit(out, "response.output_item.added", output_index=len(self._output) - 1, item=item)
        return len(self._output) - 1

    def _delta(self, kind: str, text: str, out: list[bytes]) -> None:
        if self._part != kind:
            if kind == "summary_text" or self._block is None or self._part == "summary_text":
                self._close_block(out)
                self._block = self._add(self._new_item(kind), out)
            else:
                self._close_part(out)  # text and refusal: parts of one message
            self._open_part(kind, out)
        self._text.append(text)
        at = self._at()
        if kind == "summary_text":
            self._emit(out, "response.reasoning_summary_text.delta", **at, summary_index=0, delta=text)
        elif kind == "output_text":
            self._emit(out, "response.output_text.delta", **at, content_index=self._index(), delta=text, logprobs=[])
        else:
            self._emit(out, "response.refusal.delta", **at, content_index=self._index(), delta=text)

    def _at(self, index: int | None = None) -> JsonObject:
        index = self._block if index is None else index
        assert index is not None
        return {"item_id": self._output[index]["id"], "output_index": index}

    def _index(self) -> int:
        return len(self._output[self._block or 0]["content"])

    def _open_part(self, kind: str, out: list[bytes]) -> None:
        self._part, self._text = kind, []
        if kind == "summary_text":
            part = {"type": "summary_text", "text": ""}
            self._emit(out, "response.reasoning_summary_part.added", **self._at(), summary_index=0, part=part)
        else:
            part = _text_part("") if kind == "output_text" else {"type": "refusal", "refusal": ""}
            self._emit(out, "response.content_part.added", **self._at(), content_index=self._index(), part=part)

    def _close_part(self, out: list[bytes]) -> None:
        if self._part is None or self._block is None:
            return
        text, at = "".join(self._text), self._at()
        if self._part == "summary_text":
            part = {"type": "summary_text", "text": text}
            self._emit(out, "response.reasoning_summary_text.done", **at, summary_index=0, text=text)
            self._emit(out, "response.reasoning_summary_part.done", **at, summary_index=0, part=part)
            self._output[self._block]["summary"] = [part]
        else:
            n = self._index()
            if self._part == "output_text":
                part = _text_part(text)
                self._emit(out, "response.output_text.done", **at, content_index=n, text=text, logprobs=[])
            else:
                part = {"type": "refusal", "refusal": text}
                self._emit(out, "response.refusal.done", **at, content_index=n, refusal=text)
            self._emit(out, "response.content_part.done", **at, content_index=n, part=part)
            self._output[self._block]["content"].append(part)
        self._part = None

    def _close_block(self, out: list[bytes]) -> None:
        self._close_part(out)
        if self._block is not None:
            item = self._output[self._block]
            if "status" in item and item["status"] == "in_progress":
                item["status"] = "completed"
            self._emit(out, "response.output_item.done", output_index=self._block, item=item)
            self._block = None

    def _tool(self, call: JsonObject, out: list[bytes]) -> None:
        n = int(call.get("index", 0))
        fn = call.get("function") or {}
        if n not in self._tools:
            self._close_block(out)
            call_id = str(call.get("id") or f"call_{self._base}_{n}")
            self._tools[n] = self._add(_call(call_id, str(fn.get("name") or ""), "", "in_progress"), out)
            self._args[self._tools[n]] = []
        index = self._tools[n]
        if fn.get("arguments"):
            self._args[index].append(fn["arguments"])
            self._emit(out, "response.function_call_arguments.delta", **self._at(index), delta=fn["arguments"])

    def _end(self, out: list[bytes]) -> None:
        if not self._base:
            self._start({}, out)
        finish = self._finish or "stop"
        if INCOMPLETE.get(finish) and self._output and "status" in self._output[-1]:
            self._output[-1]["status"] = "incomplete"  # the item the cut fell in: still open here
        self._close_block(out)
        for index in sorted(self._args):
            item = self._output[index]
            item["arguments"] = "".join(self._args[index])
            if item["status"] == "in_progress":
                item["status"] = "completed"
            args = {"name": item["name"], "arguments": item["arguments"]}
            self._emit(out, "response.function_call_arguments.done", **self._at(index), **args)
            self._emit(out, "response.output_item.done", output_index=index, item=item)
        response = _response(self._base, self._created, self._model, self._echo, self._output, finish)
        _finished(response, self._usage())
        kind = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
        self._emit(out, kind, response=response)
        self.done = True
