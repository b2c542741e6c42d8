"""Canonical (OpenAI) chat request → Gemini `generateContent` request, as a parameter table and converters.

Shapes: https://ai.google.dev/api/generate-content (request body, GenerationConfig), function calling:
https://ai.google.dev/gemini-api/docs/function-calling, images: https://ai.google.dev/gemini-api/docs/vision.
  - roles: user → `user`, assistant → `model`; system and developer messages → `systemInstruction`;
  - images: base64 data URLs → `inlineData`; a remote URL is a 400 (Gemini reads only inline data or
    its own file URIs: fetch it and send a data URL);
  - assistant `tool_calls` → `functionCall` parts; `role: tool` messages → `functionResponse` parts (the
    function's name found from the call id; consecutive results in one turn);
  - tools → `functionDeclarations` with `parameters` in Gemini's schema subset (schema.py);
  - `tool_choice` auto / none / required / named → `functionCallingConfig.mode` AUTO / NONE / ANY /
    ANY + `allowedFunctionNames`;
  - `response_format` json_schema / json_object → `responseMimeType: application/json` (+ `responseSchema`);
  - `reasoning_effort` → `thinkingConfig.thinkingBudget` (+ `includeThoughts`); assistant
    `thinking_blocks` → `thought` parts with their `thoughtSignature`;
  - `cache_control`, `parallel_tool_calls: false`, `user`, `service_tier`, `logit_bias`, … have no Gemini
    equivalent: a 400 naming the field.
"""

from __future__ import annotations

import orjson

from switchyard.canonical import ChatRequest, ImagePart, JsonObject, Message, TextPart, ToolChoice
from switchyard.errors import InvalidRequest
from switchyard.providers.gemini.schema import to_gemini
from switchyard.providers.params import Bounded, Convert, Handled, ParamMap, Rename

EFFORT_BUDGETS = {"minimal": 0, "low": 1024, "medium": 8192, "high": 24576}


def _messages(req: ChatRequest, out: JsonObject) -> None:
    system: list[JsonObject] = []
    contents: list[JsonObject] = []
    names: dict[str, str] = {}  # tool call id → function name
    for i, m in enumerate(req.messages):
        where = f"messages[{i}]"
        if m.role in ("system", "developer"):
            system.extend(_parts(m, where))
        elif m.role == "user":
            _append(contents, "user", _parts(m, where))
        elif m.role == "assistant":
            parts = [
                {"text": b.get("thinking", ""), "thought": True, "thoughtSignature": b["signature"]}
                for b in m.thinking_blocks or []
                if b.get("signature")
            ]
            parts.extend(_parts(m, where))
            for j, call in enumerate(m.tool_calls or []):
                names[call.id] = call.function.name
                try:
                    args = orjson.loads(call.function.arguments or "{}")
                except orjson.JSONDecodeError:
                    raise InvalidRequest(
                        "tool call arguments must be JSON", param=f"{where}.tool_calls[{j}].function.arguments"
                    ) from None
                parts.append({"functionCall": {"name": call.function.name, "args": args}})
            _append(contents, "model", parts)
        elif m.role == "tool":
            name = names.get(m.tool_call_id or "") or m.name
            if name is None:
                raise InvalidRequest(
                    "a tool result must answer a tool call of an earlier assistant message",
                    param=f"{where}.tool_call_id",
                )
            text = (
                m.content
                if isinstance(m.content, str)
                else "".join(p.text for p in m.content or [] if isinstance(p, TextPart))
            )
            _append(contents, "user", [{"functionResponse": {"name": name, "response": {"content": text}}}])
        else:
            raise InvalidRequest(f"unknown role {m.role!r}", param=f"{where}.role", code="invalid_value")
    if system:
        out["systemInstruction"] = {"parts": system}
    out["contents"] = contents


def _append(contents: list[JsonObject], role: str, parts: list[JsonObject]) -> None:
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def _parts(m: Message, where: str) -> list[JsonObject]:
    if m.cache_control is not None:
        raise InvalidRequest(
            "`cache_control` is not supported by Gemini (it caches implicitly)", param=f"{where}.cache_control"
        )
    if m.content is None:
        return []
    if isinstance(m.content, str):
        return [{"text": m.content}] if m.content else []
    return [_part(p, f"{where}.content[{j}]") for j, p in enumerate(m.content)]


def _part(p: TextPart | ImagePart, where: str) -> JsonObject:
    if p.cache_control is not None:
        raise InvalidRequest(
            "`cache_control` is not supported by Gemini (it caches implicitly)", param=f"{where}.cache_control"
        )
    if isinstance(p, TextPart):
        return {"text": p.text}
    url = p.image_url.url
    head, sep, data = url.partition(",")
    if not (url.startswith("data:") and sep and head.endswith(";base64")):
        raise InvalidRequest("Gemini takes images inline: send a base64 data URL (data:<type>;base64,...)", param=where)
    return {"inlineData": {"mimeType": head[5:].removesuffix(";base64"), "data": data}}


def _max_tokens(req: ChatRequest, out: JsonObject) -> None:
    out.setdefault("generationConfig", {})["maxOutputTokens"] = req.max_completion_tokens or req.max_tokens


def _stop(req: ChatRequest, out: JsonObject) -> None:
    out.setdefault("generationConfig", {})["stopSequences"] = [req.stop] if isinstance(req.stop, str) else req.stop


def _tools(req: ChatRequest, out: JsonObject) -> None:
    decls = []
    for i, t in enumerate(req.tools or []):
        if t.cache_control is not None:
            raise InvalidRequest("`cache_control` is not supported by Gemini", param=f"tools[{i}].cache_control")
        decl: JsonObject = {"name": t.function.name}
        if t.function.description:
            decl["description"] = t.function.description
        if t.function.parameters:
            decl["parameters"] = to_gemini(t.function.parameters, f"tools[{i}].function.parameters")
        decls.append(decl)
    out["tools"] = [{"functionDeclarations": decls}]


def _tool_choice(req: ChatRequest, out: JsonObject) -> None:
    choice = req.tool_choice
    if isinstance(choice, ToolChoice):
        cfg: JsonObject = {"mode": "ANY", "allowedFunctionNames": [choice.function.name]}
    elif choice in ("auto", "none", "required"):
        cfg = {"mode": {"auto": "AUTO", "none": "NONE", "required": "ANY"}[str(choice)]}
    else:
        raise InvalidRequest(f"unknown tool_choice {choice!r}", param="tool_choice", code="invalid_value")
    out["toolConfig"] = {"functionCallingConfig": cfg}


def _parallel(req: ChatRequest, out: JsonObject) -> None:
    if req.parallel_tool_calls is False:
        raise InvalidRequest("Gemini cannot turn off parallel function calls", param="parallel_tool_calls")


def _response_format(req: ChatRequest, out: JsonObject) -> None:
    fmt = req.response_format
    assert fmt is not None
    cfg = out.setdefault("generationConfig", {})
    if fmt.type == "json_object":
        cfg["responseMimeType"] = "application/json"
    elif fmt.type == "json_schema" and fmt.json_schema is not None:
        cfg["responseMimeType"] = "application/json"
        if fmt.json_schema.schema:
            cfg["responseSchema"] = to_gemini(fmt.json_schema.schema, "response_format.json_schema.schema")
    elif fmt.type != "text":
        raise InvalidRequest(f"unknown response_format type {fmt.type!r}", param="response_format.type")


def _effort(req: ChatRequest, out: JsonObject) -> None:
    budget = EFFORT_BUDGETS.get(req.reasoning_effort or "")
    if budget is None:
        raise InvalidRequest(
            f"reasoning_effort must be one of {', '.join(EFFORT_BUDGETS)}",
            param="reasoning_effort",
            code="invalid_value",
        )
    out.setdefault("generationConfig", {})["thinkingConfig"] = {"thinkingBudget": budget, "includeThoughts": budget > 0}


def _n(req: ChatRequest, out: JsonObject) -> None:
    if req.n != 1:
        raise InvalidRequest(
            "the gateway translates one Gemini candidate: `n` must be 1", param="n", code="invalid_value"
        )


PARAMS: ParamMap = {
    "model": Handled,  # in the URL
    "messages": Convert(_messages),
    "stream": Handled,  # the method: streamGenerateContent?alt=sse
    "stream_options": Handled,  # usage is on every stream chunk; include_usage picks the usage chunk
    "max_tokens": Convert(_max_tokens),
    "max_completion_tokens": Convert(_max_tokens),
    "temperature": Bounded("generationConfig.temperature", 0.0, 2.0),
    "top_p": Bounded("generationConfig.topP", 0.0, 1.0),
    "top_k": Rename("generationConfig.topK"),
    "stop": Convert(_stop),
    "tools": Convert(_tools),
    "tool_choice": Convert(_tool_choice),
    "parallel_tool_calls": Convert(_parallel),
    "response_format": Convert(_response_format),
    "reasoning_effort": Convert(_effort),
    "n": Convert(_n),
    "seed": Rename("generationConfig.seed"),
    "presence_penalty": Rename("generationConfig.presencePenalty"),
    "frequency_penalty": Rename("generationConfig.frequencyPenalty"),
}
