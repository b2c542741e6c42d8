"""Canonical (OpenAI) chat request → Anthropic Messages request, as a parameter table and its converters.

Shapes: https://docs.anthropic.com/en/api/messages (request body), tool use:
https://docs.anthropic.com/en/docs/build-with-claude/tool-use, prompt caching:
https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching.
  - system and developer messages are lifted into `system` (a list of text blocks, so `cache_control`
    on them survives), wherever they stand in the conversation;
  - `max_tokens` is always set: `max_completion_tokens`, else `max_tokens`, else the provider's
    `default_max_tokens`;
  - tool results (`role: tool`) become `tool_result` blocks of one user turn (parallel results together);
  - `response_format: json_schema` (and `json_object`) is a forced tool named `JSON_TOOL` whose input
    schema is the caller's schema; its input comes back as the message content (response.py);
  - `thinking` is passed through; `reasoning_effort` sets a thinking budget (`EFFORT_BUDGETS`);
  - `n` other than 1, `logprobs`, penalties, `seed`, `logit_bias`, audio and the rest have no row:
    a 400 naming the field.
"""

from __future__ import annotations

import orjson

from switchyard.canonical import ChatRequest, ImagePart, JsonObject, Message, TextPart, ToolChoice
from switchyard.errors import InvalidRequest
from switchyard.providers.params import Bounded, Convert, Handled, ParamMap, Rename

JSON_TOOL = "json_output"  # the forced tool that carries `response_format` (answer: its input as JSON text)
EFFORT_BUDGETS = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576}


def _messages(req: ChatRequest, out: JsonObject) -> None:
    system: list[JsonObject] = []
    turns: list[JsonObject] = []
    for i, m in enumerate(req.messages):
        if m.role in ("system", "developer"):
            system.extend(_text_blocks(m, f"messages[{i}]"))
            continue
        if m.role == "tool":
            block: JsonObject = {"type": "tool_result", "tool_use_id": m.tool_call_id or ""}
            if isinstance(m.content, str):
                block["content"] = m.content
            elif m.content:
                block["content"] = [_part(p, f"messages[{i}].content") for p in m.content]
            _append(turns, "user", [block])
            continue
        if m.role == "user":
            _append(turns, "user", _content(m, f"messages[{i}]"))
        elif m.role == "assistant":
            _append(turns, "assistant", _assistant(m, f"messages[{i}]"))
        else:
            raise InvalidRequest(f"unknown role {m.role!r}", param=f"messages[{i}].role", code="invalid_value")
    if system:
        out["system"] = system
    out["messages"] = turns


def _append(turns: list[JsonObject], role: str, blocks: list[JsonObject]) -> None:
    """Consecutive turns of one role are merged (tool results and the user's next words share a turn)."""
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": role, "content": blocks})


def _text_blocks(m: Message, where: str) -> list[JsonObject]:
    blocks = _content(m, where)
    for b in blocks:
        if b["type"] != "text":
            raise InvalidRequest("a system message can only hold text", param=f"{where}.content")
    return blocks


def _content(m: Message, where: str) -> list[JsonObject]:
    if m.content is None:
        return []
    if isinstance(m.content, str):
        blocks: list[JsonObject] = [{"type": "text", "text": m.content}] if m.content else []
    else:
        blocks = [_part(p, f"{where}.content[{j}]") for j, p in enumerate(m.content)]
    if m.cache_control is not None and blocks:
        blocks[-1]["cache_control"] = m.cache_control
    return blocks


def _part(p: TextPart | ImagePart, where: str) -> JsonObject:
    if isinstance(p, TextPart):
        block: JsonObject = {"type": "text", "text": p.text}
    else:
        url = p.image_url.url
        if url.startswith("data:"):
            head, sep, data = url.partition(",")
            media = head[5:].removesuffix(";base64")
            if not sep or not head.endswith(";base64"):
                raise InvalidRequest("an image data URL must be base64 (data:<type>;base64,...)", param=where)
            block = {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}
        else:
            block = {"type": "image", "source": {"type": "url", "url": url}}
    if p.cache_control is not None:
        block["cache_control"] = p.cache_control
    return block


def _assistant(m: Message, where: str) -> list[JsonObject]:
    blocks: list[JsonObject] = [dict(b) for b in m.thinking_blocks or []]  # signed: echoed as they came
    blocks.extend(_content(m, where))
    for j, call in enumerate(m.tool_calls or []):
        try:
            args = orjson.loads(call.function.arguments or "{}")
        except orjson.JSONDecodeError:
            raise InvalidRequest(
                "tool call arguments must be a JSON object", param=f"{where}.tool_calls[{j}].function.arguments"
            ) from None
        blocks.append({"type": "tool_use", "id": call.id, "name": call.function.name, "input": args})
    return blocks


def _max_tokens(req: ChatRequest, out: JsonObject) -> None:
    out["max_tokens"] = req.max_completion_tokens or req.max_tokens


def _stop(req: ChatRequest, out: JsonObject) -> None:
    out["stop_sequences"] = [req.stop] if isinstance(req.stop, str) else req.stop


def _tools(req: ChatRequest, out: JsonObject) -> None:
    tools = []
    for t in req.tools or []:
        tool: JsonObject = {"name": t.function.name, "input_schema": t.function.parameters or {"type": "object"}}
        if t.function.description:
            tool["description"] = t.function.description
        if t.cache_control is not None:
            tool["cache_control"] = t.cache_control
        tools.append(tool)
    out["tools"] = tools


def _tool_choice(req: ChatRequest, out: JsonObject) -> None:
    choice = req.tool_choice
    if isinstance(choice, ToolChoice):
        out["tool_choice"] = {"type": "tool", "name": choice.function.name}
    elif choice in ("auto", "none"):
        out["tool_choice"] = {"type": choice}
    elif choice == "required":
        out["tool_choice"] = {"type": "any"}
    elif choice is not None:
        raise InvalidRequest(f"unknown tool_choice {choice!r}", param="tool_choice", code="invalid_value")


def _parallel(req: ChatRequest, out: JsonObject) -> None:
    if req.parallel_tool_calls is False:
        out.setdefault("tool_choice", {"type": "auto"})["disable_parallel_tool_use"] = True


def _response_format(req: ChatRequest, out: JsonObject) -> None:
    fmt = req.response_format
    assert fmt is not None
    if fmt.type == "text":
        return
    if fmt.type == "json_schema" and fmt.json_schema is not None:
        schema = fmt.json_schema.schema or {"type": "object"}
        desc = fmt.json_schema.description or f"Answer with a {fmt.json_schema.name} object."
    elif fmt.type == "json_object":
        schema, desc = {"type": "object"}, "Answer with a JSON object."
    else:
        raise InvalidRequest(f"unknown response_format type {fmt.type!r}", param="response_format.type")
    if req.tool_choice not in (None, "auto"):
        raise InvalidRequest(
            "response_format cannot be combined with a forced tool_choice on Anthropic models "
            "(it is carried by a forced tool)",
            param="response_format",
        )
    out.setdefault("tools", []).append({"name": JSON_TOOL, "description": desc, "input_schema": schema})
    out["tool_choice"] = {**out.get("tool_choice", {}), "type": "tool", "name": JSON_TOOL}


def _effort(req: ChatRequest, out: JsonObject) -> None:
    budget = EFFORT_BUDGETS.get(req.reasoning_effort or "")
    if budget is None:
        raise InvalidRequest(
            f"reasoning_effort must be one of {', '.join(EFFORT_BUDGETS)}",
            param="reasoning_effort",
            code="invalid_value",
        )
    out.setdefault("thinking", {"type": "enabled", "budget_tokens": budget})


def _n(req: ChatRequest, out: JsonObject) -> None:
    if req.n != 1:
        raise InvalidRequest("Anthropic models return one choice: `n` must be 1", param="n", code="invalid_value")


def _user(req: ChatRequest, out: JsonObject) -> None:
    out["metadata"] = {"user_id": req.user}


def _stream(req: ChatRequest, out: JsonObject) -> None:
    out["stream"] = bool(req.stream)


# Canonical field → Anthropic. Order matters where rows read each other's output: tools before
# tool_choice before parallel_tool_calls and response_format (fields apply in ChatRequest order).
PARAMS: ParamMap = {
    "model": Handled,  # the deployment's model, set by the adapter
    "messages": Convert(_messages),
    "stream": Convert(_stream),
    "stream_options": Handled,  # usage is always in Anthropic's stream; include_usage picks the chunk
    "max_tokens": Convert(_max_tokens),
    "max_completion_tokens": Convert(_max_tokens),
    "temperature": Bounded("temperature", 0.0, 1.0),
    "top_p": Bounded("top_p", 0.0, 1.0),
    "top_k": Rename("top_k"),
    "stop": Convert(_stop),
    "tools": Convert(_tools),
    "tool_choice": Convert(_tool_choice),
    "parallel_tool_calls": Convert(_parallel),
    "response_format": Convert(_response_format),
    "reasoning_effort": Convert(_effort),
    "thinking": Rename("thinking"),
    "service_tier": Rename("service_tier"),
    "user": Convert(_user),
    "n": Convert(_n),
}
