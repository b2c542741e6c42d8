"""Anthropic Messages request → canonical (OpenAI chat) request.

Shapes: https://docs.anthropic.com/en/api/messages. Mapping (the reverse of providers/anthropic/request.py):
  - `system` (string or text blocks, `cache_control` kept) → a leading system message;
  - user `text` / `image` (base64 → data URL, url → URL) blocks → content parts; `tool_result` blocks →
    `role: tool` messages, placed before the rest of that user turn;
  - assistant `text` → content, `tool_use` → `tool_calls`, signed `thinking` / `redacted_thinking` →
    `thinking_blocks` (unsigned thinking cannot be verified by any upstream and is not resent);
  - `max_tokens` → `max_tokens`; `stop_sequences` → `stop`; `temperature`, `top_p`, `top_k` kept;
  - `tools` → function tools (`input_schema` → `parameters`); `tool_choice` auto / any / tool / none →
    auto / required / named / none, `disable_parallel_tool_use` → `parallel_tool_calls: false`;
  - `thinking` → `reasoning_effort` by its budget (`effort_for`; an Anthropic upstream gets the caller's
    own bytes, `thinking` included);
  - `output_config.format` json_schema → `response_format` json_schema; `output_config.effort` and
    `thinking: adaptive` → `reasoning_effort`; top-level `cache_control` (automatic caching) has nothing
    to ask of upstreams that cache on their own (OpenAI, Gemini);
  - `metadata.user_id` → `user`; `service_tier` kept; `stream` → `stream` + `stream_options.include_usage`.
A field or block type with no mapping (documents, server tools, `container`, `mcp_servers`, …) is a 400
naming it, for translated upstreams only: an Anthropic upstream takes the caller's bytes as they are.
"""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.canonical import JsonObject
from switchyard.errors import InvalidRequest

TOP_LEVEL = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "stop_sequences",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "thinking",
        "metadata",
        "service_tier",
        "stream",
        "output_config",
        "cache_control",
    }
)
EFFORTS = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}


def _bad(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param)


def effort_for(budget: int) -> str:
    """The OpenAI `reasoning_effort` nearest a thinking budget (for upstreams without budgets)."""
    return "low" if budget <= 2048 else "medium" if budget <= 8192 else "high"


def to_openai(body: bytes, *, counting: bool = False) -> tuple[bytes, JsonObject]:
    """The canonical request for an Anthropic request body, and the decoded original (for pass-through).
    `counting`: a `/v1/messages/count_tokens` body (no `max_tokens`, no `stream`)."""
    try:
        req = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InvalidRequest(f"malformed JSON: {e}", code="invalid_json") from None
    if not isinstance(req, dict):
        raise InvalidRequest("the request body must be a JSON object", code="not_object")
    for key in req:
        if key not in TOP_LEVEL:
            raise _bad(f"{key}: Extra inputs are not permitted (not supported by this gateway)", key)
    for key in ("model", "messages") if counting else ("model", "messages", "max_tokens"):
        if key not in req:
            raise InvalidRequest(f"{key}: Field required", param=key, code="missing_required_parameter")
    out: JsonObject = {"model": req["model"], "messages": _messages(req)}
    if "max_tokens" in req:
        out["max_tokens"] = req["max_tokens"]
    for key in ("temperature", "top_p", "top_k", "service_tier"):
        if key in req:
            out[key] = req[key]
    if "stop_sequences" in req:
        out["stop"] = req["stop_sequences"]
    if "tools" in req:
        out["tools"] = [_tool(t, f"tools[{i}]") for i, t in enumerate(req["tools"] or [])]
    if "tool_choice" in req:
        _tool_choice(req["tool_choice"], out)
    thinking = req.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        out["reasoning_effort"] = effort_for(int(thinking.get("budget_tokens") or 0))
    elif isinstance(thinking, dict) and thinking.get("type") == "adaptive":
        out["reasoning_effort"] = "medium"
    _output_config(req.get("output_config"), out)
    user = (req.get("metadata") or {}).get("user_id") if isinstance(req.get("metadata"), dict) else None
    if user:
        out["user"] = user
    if req.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return orjson.dumps(out), req


def _output_config(cfg: Any, out: JsonObject) -> None:
    if cfg is None:
        return
    if not isinstance(cfg, dict):
        raise _bad("output_config: Input should be an object", "output_config")
    fmt = cfg.get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        out["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": fmt.get("schema")}}
    elif fmt is not None:
        raise _bad("output_config.format: only json_schema is supported", "output_config.format")
    if cfg.get("effort") is not None:
        out["reasoning_effort"] = EFFORTS.get(str(cfg["effort"]), "medium")


def without_hints(canonical: bytes, *, keep_thinking: bool) -> bytes:
    """The canonical request without Anthropic-only hints, for upstreams that would reject them: every
    `cache_control` (OpenAI and Gemini cache on their own), and signed `thinking_blocks` unless kept (only
    Gemini reads them back, as thought signatures)."""
    req = orjson.loads(canonical)
    for m in req["messages"]:
        m.pop("cache_control", None)
        if not keep_thinking:
            m.pop("thinking_blocks", None)
        if isinstance(m.get("content"), list):
            for part in m["content"]:
                part.pop("cache_control", None)
    for t in req.get("tools") or []:
        t.pop("cache_control", None)
    return orjson.dumps(req)


def minimal(body: bytes) -> bytes:
    """A canonical stand-in carrying only what routing and admission read (model, stream, max_tokens), for
    a request that only an Anthropic upstream can take as it is."""
    req = orjson.loads(body)
    out = {key: req[key] for key in ("model", "max_tokens") if key in req}
    out["messages"] = [{"role": "user", "content": ""}]
    if req.get("stream"):
        out["stream"] = True
    return orjson.dumps(out)


def _messages(req: JsonObject) -> list[JsonObject]:
    out: list[JsonObject] = []
    system = req.get("system")
    if isinstance(system, str) and system:
        out.append({"role": "system", "content": system})
    elif isinstance(system, list):
        out.append({"role": "system", "content": [_text(b, f"system[{i}]") for i, b in enumerate(system)]})
    msgs = req.get("messages")
    if not isinstance(msgs, list):
        raise _bad("messages: Input should be a valid list", "messages")
    for i, m in enumerate(msgs):
        where = f"messages[{i}]"
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            raise _bad(f"{where}.role: Input should be 'user' or 'assistant'", f"{where}.role")
        content = m.get("content")
        blocks: list[Any] = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
        if m["role"] == "user":
            out.extend(_user(blocks, where))
        else:
            out.append(_assistant(blocks, where))
    return out


def _text(b: Any, where: str) -> JsonObject:
    if not isinstance(b, dict) or b.get("type") != "text":
        raise _bad(f"{where}: only text blocks are supported here", where)
    part: JsonObject = {"type": "text", "text": b.get("text", "")}
    if "cache_control" in b:
        part["cache_control"] = b["cache_control"]
    return part


def _image(b: JsonObject, where: str) -> JsonObject:
    src = b.get("source") or {}
    if src.get("type") == "base64":
        url = f"data:{src.get('media_type')};base64,{src.get('data')}"
    elif src.get("type") == "url":
        url = str(src.get("url"))
    else:
        raise _bad(f"{where}.source.type: {src.get('type')!r} images are not supported by this gateway", where)
    part: JsonObject = {"type": "image_url", "image_url": {"url": url}}
    if "cache_control" in b:
        part["cache_control"] = b["cache_control"]
    return part


def _user(blocks: list[Any], where: str) -> list[JsonObject]:
    results: list[JsonObject] = []
    parts: list[JsonObject] = []
    for j, b in enumerate(blocks):
        at = f"{where}.content[{j}]"
        kind = b.get("type") if isinstance(b, dict) else None
        if kind == "text":
            parts.append(_text(b, at))
        elif kind == "image":
            parts.append(_image(b, at))
        elif kind == "tool_result":
            results.append(_tool_result(b, at))
        else:
            raise _bad(f"{at}.type: {kind!r} blocks are not supported by this gateway", f"{at}.type")
    if parts:
        results.append({"role": "user", "content": parts})
    return results


def _tool_result(b: JsonObject, where: str) -> JsonObject:
    content = b.get("content", "")
    if isinstance(content, list):
        texts = [_text(c, f"{where}.content[{k}]")["text"] for k, c in enumerate(content)]
        content = "".join(texts)
    if b.get("is_error"):
        content = f"Error: {content}"
    return {"role": "tool", "tool_call_id": b.get("tool_use_id", ""), "content": content}


def _assistant(blocks: list[Any], where: str) -> JsonObject:
    text: list[str] = []
    calls: list[JsonObject] = []
    signed: list[JsonObject] = []
    for j, b in enumerate(blocks):
        at = f"{where}.content[{j}]"
        kind = b.get("type") if isinstance(b, dict) else None
        if kind == "text":
            text.append(str(b.get("text", "")))
        elif kind == "tool_use":
            args = orjson.dumps(b.get("input") or {}).decode()
            calls.append(
                {"id": b.get("id"), "type": "function", "function": {"name": b.get("name"), "arguments": args}}
            )
        elif kind == "thinking" and b.get("signature"):
            signed.append({"type": "thinking", "thinking": b.get("thinking", ""), "signature": b["signature"]})
        elif kind == "redacted_thinking":
            signed.append({"type": "redacted_thinking", "data": b.get("data", "")})
        elif kind != "thinking":
            raise _bad(f"{at}.type: {kind!r} blocks are not supported by this gateway", f"{at}.type")
    msg: JsonObject = {"role": "assistant", "content": "".join(text) if text else None}
    if calls:
        msg["tool_calls"] = calls
    if signed:
        msg["thinking_blocks"] = signed
    return msg


def _tool(t: Any, where: str) -> JsonObject:
    if not isinstance(t, dict) or t.get("type", "custom") != "custom" or "name" not in t:
        kind = t.get("type") if isinstance(t, dict) else None
        raise _bad(f"{where}: server tools ({kind}) are not supported by this gateway", where)
    fn: JsonObject = {"name": t["name"], "parameters": t.get("input_schema") or {"type": "object"}}
    if t.get("description"):
        fn["description"] = t["description"]
    tool: JsonObject = {"type": "function", "function": fn}
    if "cache_control" in t:
        tool["cache_control"] = t["cache_control"]
    return tool


def _tool_choice(choice: Any, out: JsonObject) -> None:
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind == "auto":
        out["tool_choice"] = "auto"
    elif kind == "any":
        out["tool_choice"] = "required"
    elif kind == "none":
        out["tool_choice"] = "none"
    elif kind == "tool":
        out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    else:
        raise _bad(f"tool_choice.type: unknown {kind!r}", "tool_choice")
    if choice.get("disable_parallel_tool_use"):
        out["parallel_tool_calls"] = False
