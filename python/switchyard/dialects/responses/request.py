"""Responses request → canonical (OpenAI chat) request, plus the request fields the answer echoes.

Shapes: https://platform.openai.com/docs/api-reference/responses/create (schemas `CreateResponse`,
`InputItem`, `FunctionTool` of OpenAI's OpenAPI description). Mapping (a null field counts as absent):
  - `instructions` → a leading system message; `input` as a string → one user message;
  - `input` items in order: `message` (the `type` may be left out; role user / assistant / system /
    developer, developer → system): `input_text` / `output_text` / `refusal` parts → text, `input_image`
    with `image_url` → an `image_url` part (`detail` auto / low / high kept); `function_call` items →
    `tool_calls` on ONE assistant message (consecutive calls, and the assistant text right before them);
    `function_call_output` → a `role: tool` message (`call_id` → `tool_call_id`, text parts joined);
  - `tools`: `function` tools → chat function tools (`strict` only when sent: Responses defaults it to
    true on OpenAI, which other upstreams would not honour); `tool_choice` none / auto / required /
    {type: function, name} → chat's; `text.format` json_schema / json_object → `response_format` (text:
    nothing); `text.verbosity` → `verbosity`;
  - `reasoning.effort` → `reasoning_effort` unchanged: chat takes the same values (`ReasoningEffort`), and
    each adapter refuses, naming the field, what its upstream cannot do (no silent minimal → low);
    `reasoning.summary` is a display choice: reasoning comes back as a summary whenever there is some;
  - `max_output_tokens` → `max_completion_tokens`; `temperature`, `top_p`, `parallel_tool_calls`,
    `metadata`, `service_tier`, `user`, `safety_identifier`, `prompt_cache_key` kept; `stream` → `stream`
    + `stream_options.include_usage`; `max_tool_calls` limits built-in tools only: echoed, nothing to send.
Stateless only: `previous_response_id`, `conversation`, `prompt` (a stored template), `background` and
`item_reference` items need OpenAI's server-side state: a 400 with code `unsupported_parameter` saying to
send the whole input with `store: false`. `store` is answered as false whatever was asked (nothing is
kept). `include: ["reasoning.encrypted_content"]` (what stateless clients send) is accepted and yields
nothing: no translated upstream has encrypted reasoning to give.
`reasoning` input items are dropped: chat has no field every upstream takes for past reasoning
(DeepSeek's `reasoning_content` is refused by others), `encrypted_content` only OpenAI can read (and an
OpenAI upstream takes the caller's own bytes, native.py), and a chat upstream reasons afresh each turn.
Built-in tools, `input_file`, `file_id` images and any other field, item or part with no mapping are a 400
naming it: only an upstream speaking the Responses API can take them.
"""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.canonical import JsonObject
from switchyard.errors import InvalidRequest

TOP_LEVEL = frozenset(
    {
        "model",
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "text",
        "reasoning",
        "temperature",
        "top_p",
        "max_output_tokens",
        "max_tool_calls",
        "parallel_tool_calls",
        "metadata",
        "store",
        "user",
        "safety_identifier",
        "prompt_cache_key",
        "service_tier",
        "stream",
        "stream_options",
        "include",
        "truncation",
        "background",
    }
)
STATEFUL = ("previous_response_id", "conversation", "prompt")
KEPT = ("temperature", "top_p", "parallel_tool_calls", "metadata", "service_tier", "user", "safety_identifier")
ECHOED = ("user", "safety_identifier", "prompt_cache_key", "service_tier")
IMAGE_DETAIL = frozenset({"auto", "low", "high"})
TEXT_PARTS = frozenset({"input_text", "output_text"})
NEEDS_OPENAI = "needs an upstream that speaks the Responses API (OpenAI, Azure OpenAI)"


def _bad(message: str, param: str, code: str | None = None) -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)


def _stateful(param: str) -> InvalidRequest:
    return _bad(
        f"{param}: this upstream keeps no server-side response state; send the whole conversation as `input` "
        f"with `store: false` (or route the request to an OpenAI deployment)",
        param,
        "unsupported_parameter",
    )


def _load(raw: bytes) -> JsonObject:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise InvalidRequest(f"malformed JSON: {e}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object", code="not_object")
    for key in ("model", "input"):
        if body.get(key) is None:
            raise InvalidRequest(f"{key}: Field required", param=key, code="missing_required_parameter")
    return {k: v for k, v in body.items() if v is not None}


def to_openai(raw: bytes) -> tuple[bytes, JsonObject]:
    """The canonical request for a Responses request body, and the fields the `response` object echoes
    (with the defaults OpenAI answers with)."""
    req = _load(raw)
    for key in STATEFUL:
        if key in req:
            raise _stateful(key)
    if req.get("background"):
        raise _stateful("background")
    for key in req:
        if key not in TOP_LEVEL:
            raise _bad(f"{key}: not supported by this gateway for this upstream; it {NEEDS_OPENAI}", key)
    if req.get("truncation", "disabled") != "disabled":
        raise _bad("truncation: only 'disabled' is supported by this gateway", "truncation", "unsupported_value")
    _include(req.get("include"))
    out: JsonObject = {"model": req["model"], "messages": _messages(req)}
    for key in KEPT:
        if key in req:
            out[key] = req[key]
    if "max_output_tokens" in req:
        out["max_completion_tokens"] = req["max_output_tokens"]
    if "prompt_cache_key" in req:
        out["prompt_cache_key"] = req["prompt_cache_key"]
    tools = [_tool(t, f"tools[{i}]") for i, t in enumerate(_list(req.get("tools", []), "tools"))]
    if tools:
        out["tools"] = [{"type": "function", "function": _function(t)} for t in tools]
    if "tool_choice" in req:
        out["tool_choice"] = _tool_choice(req["tool_choice"])
    text = _text(req.get("text", {}), out)
    reasoning = req.get("reasoning")
    if reasoning is not None:
        _reasoning(reasoning, out)
    if req.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    echo: JsonObject = {
        "model": req["model"],
        "instructions": req.get("instructions"),
        "tools": tools,
        "tool_choice": req.get("tool_choice", "auto"),
        "text": text,
        "reasoning": reasoning,
        "temperature": req.get("temperature", 1.0),
        "top_p": req.get("top_p", 1.0),
        "max_output_tokens": req.get("max_output_tokens"),
        "max_tool_calls": req.get("max_tool_calls"),
        "parallel_tool_calls": req.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "background": False,
        "store": False,
        "truncation": "disabled",
        "metadata": req.get("metadata", {}),
    }
    echo.update((key, req[key]) for key in ECHOED if key in req)
    return orjson.dumps(out), echo


def minimal(raw: bytes) -> bytes:
    """A canonical stand-in carrying only what routing and admission read (model, stream, the output cap),
    for a request that only an upstream speaking the Responses API can take as it is."""
    req = orjson.loads(raw)
    out: JsonObject = {"model": req["model"], "messages": [{"role": "user", "content": ""}]}
    if isinstance(req.get("max_output_tokens"), int):
        out["max_completion_tokens"] = req["max_output_tokens"]
    if req.get("stream"):
        out["stream"] = True
    return orjson.dumps(out)


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(f"{where}: Input should be a valid list", where)
    return value


def _include(include: Any) -> None:
    for i, value in enumerate(_list(include or [], "include")):
        if value != "reasoning.encrypted_content":
            raise _bad(f"include[{i}]: {value!r} is not supported by this gateway; it {NEEDS_OPENAI}", "include")


def _messages(req: JsonObject) -> list[JsonObject]:
    out: list[JsonObject] = []
    instructions = req.get("instructions", "")
    if not isinstance(instructions, str):
        raise _bad("instructions: Input should be a valid string", "instructions")
    if instructions:
        out.append({"role": "system", "content": instructions})
    items = req["input"]
    if isinstance(items, str):
        out.append({"role": "user", "content": items})
        return out
    for i, item in enumerate(_list(items, "input")):
        where = f"input[{i}]"
        kind = item.get("type", "message") if isinstance(item, dict) else None
        if kind == "message":
            out.append(_message(item, where))
        elif kind == "function_call":
            _function_call(item, where, out)
        elif kind == "function_call_output":
            out.append(_function_output(item, where))
        elif kind == "item_reference":
            raise _stateful(where)
        elif kind != "reasoning":
            raise _bad(f"{where}.type: {kind!r} items are not supported by this gateway; they {NEEDS_OPENAI}", where)
    return out


def _message(item: JsonObject, where: str) -> JsonObject:
    role = item.get("role")
    if role not in ("user", "assistant", "system", "developer"):
        raise _bad(f"{where}.role: Input should be 'user', 'assistant', 'system' or 'developer'", f"{where}.role")
    content = item.get("content")
    if isinstance(content, str):
        return {"role": "system" if role == "developer" else role, "content": content}
    parts = [_part(p, f"{where}.content[{j}]") for j, p in enumerate(_list(content, f"{where}.content"))]
    if role == "user":
        return {"role": "user", "content": parts}
    if any(p["type"] != "text" for p in parts):
        raise _bad(f"{where}.content: images are only supported in user messages", f"{where}.content")
    return {"role": "assistant" if role == "assistant" else "system", "content": "".join(p["text"] for p in parts)}


def _part(p: Any, where: str) -> JsonObject:
    kind = p.get("type") if isinstance(p, dict) else None
    if kind in TEXT_PARTS:
        return {"type": "text", "text": str(p.get("text", ""))}
    if kind == "refusal":
        return {"type": "text", "text": str(p.get("refusal", ""))}
    if kind == "input_image" and p.get("image_url"):
        image: JsonObject = {"url": p["image_url"]}
        if p.get("detail") in IMAGE_DETAIL:
            image["detail"] = p["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_image" and p.get("file_id"):
        raise _bad(f"{where}.file_id: images by file_id need OpenAI's file store; send image_url", f"{where}.file_id")
    raise _bad(f"{where}.type: {kind!r} content is not supported by this gateway; it {NEEDS_OPENAI}", f"{where}.type")


def _function_call(item: JsonObject, where: str, out: list[JsonObject]) -> None:
    if not item.get("call_id") or not item.get("name"):
        raise _bad(f"{where}: a function_call needs call_id and name", where)
    call = {
        "id": item["call_id"],
        "type": "function",
        "function": {"name": item["name"], "arguments": str(item.get("arguments") or "{}")},
    }
    last = out[-1] if out else None
    if last is not None and last["role"] == "assistant":
        last.setdefault("tool_calls", []).append(call)  # the calls (and text) of one turn: one message
    else:
        out.append({"role": "assistant", "content": None, "tool_calls": [call]})


def _function_output(item: JsonObject, where: str) -> JsonObject:
    output = item.get("output", "")
    if isinstance(output, list):
        parts = [_part(p, f"{where}.output[{j}]") for j, p in enumerate(output)]
        if any(p["type"] != "text" for p in parts):
            raise _bad(f"{where}.output: only text is supported in function_call_output", f"{where}.output")
        output = "".join(p["text"] for p in parts)
    elif not isinstance(output, str):
        raise _bad(f"{where}.output: Input should be a string or a list of content parts", f"{where}.output")
    return {"role": "tool", "tool_call_id": item.get("call_id") or "", "content": output}


def _tool(t: Any, where: str) -> JsonObject:
    kind = t.get("type") if isinstance(t, dict) else None
    if kind != "function":
        raise _bad(f"{where}: {kind!r} tools are built into OpenAI's Responses API; they {NEEDS_OPENAI}", where)
    if not t.get("name"):
        raise _bad(f"{where}.name: Field required", f"{where}.name", "missing_required_parameter")
    return {
        "type": "function",
        "name": t["name"],
        "description": t.get("description"),
        "parameters": t.get("parameters"),
        "strict": t.get("strict"),
    }


def _function(t: JsonObject) -> JsonObject:
    fn: JsonObject = {"name": t["name"], "parameters": t["parameters"] or {"type": "object", "properties": {}}}
    if t["description"]:
        fn["description"] = t["description"]
    if t["strict"] is not None:
        fn["strict"] = t["strict"]
    return fn


def _tool_choice(choice: Any) -> Any:
    if choice in ("none", "auto", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and choice.get("name"):
        return {"type": "function", "function": {"name": choice["name"]}}
    kind = choice.get("type") if isinstance(choice, dict) else choice
    raise _bad(f"tool_choice: {kind!r} is not supported by this gateway; it {NEEDS_OPENAI}", "tool_choice")


def _text(text: Any, out: JsonObject) -> JsonObject:
    if not isinstance(text, dict):
        raise _bad("text: Input should be an object", "text")
    fmt = text.get("format") or {"type": "text"}
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_schema":
        schema: JsonObject = {"name": fmt.get("name") or "output", "schema": fmt.get("schema")}
        schema.update((key, fmt[key]) for key in ("description", "strict") if fmt.get(key) is not None)
        out["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif kind == "json_object":
        out["response_format"] = {"type": "json_object"}
    elif kind != "text":
        raise _bad(f"text.format.type: {kind!r} is not supported by this gateway", "text.format")
    for key in text:
        if key not in ("format", "verbosity"):
            raise _bad(f"text.{key}: not supported by this gateway", f"text.{key}")
    echo: JsonObject = {"format": fmt}
    if text.get("verbosity") is not None:
        out["verbosity"] = echo["verbosity"] = text["verbosity"]
    return echo


def _reasoning(reasoning: Any, out: JsonObject) -> None:
    if not isinstance(reasoning, dict):
        raise _bad("reasoning: Input should be an object", "reasoning")
    for key in reasoning:
        if key not in ("effort", "summary", "generate_summary"):
            raise _bad(f"reasoning.{key}: not supported by this gateway", f"reasoning.{key}")
    if reasoning.get("effort") is not None:
        out["reasoning_effort"] = reasoning["effort"]
