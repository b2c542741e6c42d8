"""The canonical form: where caller dialects and provider protocols meet (the OpenAI chat shape).

Owns: the msgspec Structs for a chat request (decoded only when a request must be translated; the
same-dialect pass-through never builds them), and the one usage record every adapter maps into.
Must not: know any provider or dialect; translation lives in `providers/` and `dialects/`.

A chat request is decoded strictly: a field this module does not know is a 400 naming it, so nothing a
caller sent is dropped on the way to a provider that would not understand it. Two fields are extensions
to OpenAI's shape, named as LiteLLM names them so existing clients work: `thinking` (Anthropic extended
thinking, passed through) and, on assistant messages, `thinking_blocks` (signed thinking blocks echoed
back on the next turn); `cache_control` on content parts, tools and messages is Anthropic prompt caching.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from switchyard.errors import InvalidRequest

JsonObject = dict[str, Any]


def json_object(data: str | bytes) -> JsonObject | None:
    """An event's data (or any JSON text) as a JSON object; None if it is not JSON or not an object."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def events_end(buf: bytes) -> int:
    """Where the last complete SSE event in `buf` ends (0: none yet), whichever blank line ends it."""
    ends = (buf.rfind(blank) + len(blank) if blank in buf else 0 for blank in (b"\n\n", b"\r\n\r\n", b"\r\r"))
    return max(ends)


class Usage(msgspec.Struct, frozen=True):
    """One request's tokens in non-overlapping classes, plus the OpenAI-shaped totals derived from them.

    Classes: `input_tokens` (uncached input), `cache_read_tokens`, `cache_write_5m_tokens`,
    `cache_write_1h_tokens`, `output_tokens` (visible output), `reasoning_tokens`. Every class is billed at
    its own price and no token is in two of them. `prompt_tokens` / `completion_tokens` / `total_tokens`
    are the OpenAI totals (prompt = all four input classes, completion = output + reasoning), kept as
    fields so records read like OpenAI usage; build with `Usage.of(...)` so they always agree.
    The per-provider mapping into these classes is the table in `providers/usage.py`.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    counted: bool = False  # True: the upstream reported none, the gateway counted (prompt + streamed text)
    service_tier: str | None = None  # the tier the provider says it served the request on

    @classmethod
    def of(
        cls,
        *,
        input: int = 0,
        cache_read: int = 0,
        cache_write_5m: int = 0,
        cache_write_1h: int = 0,
        output: int = 0,
        reasoning: int = 0,
        counted: bool = False,
        service_tier: str | None = None,
    ) -> Usage:
        """A usage record from its non-overlapping classes (negative counts, from a provider's
        inconsistent report, are floored at 0)."""
        input, cache_read, output, reasoning = (max(0, v) for v in (input, cache_read, output, reasoning))
        prompt = input + cache_read + cache_write_5m + cache_write_1h
        completion = output + reasoning
        return cls(
            prompt,
            completion,
            prompt + completion,
            input,
            cache_read,
            cache_write_5m,
            cache_write_1h,
            output,
            reasoning,
            counted,
            service_tier,
        )

    @property
    def cached_tokens(self) -> int:
        """OpenAI's `prompt_tokens_details.cached_tokens`: the cache reads."""
        return self.cache_read_tokens

    @property
    def cache_write_tokens(self) -> int:
        """Both cache-write classes (Anthropic's `cache_creation_input_tokens`)."""
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def billed(self) -> int:
        """Tokens a tokens-per-minute limit is charged: the total, or prompt + completion without one."""
        return self.total_tokens or self.prompt_tokens + self.completion_tokens

    def openai(self) -> JsonObject:
        """This usage as an OpenAI `usage` object."""
        out: JsonObject = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cache_read_tokens},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
        }
        if self.cache_write_tokens:  # the openai SDK's `prompt_tokens_details.cache_write_tokens`
            out["prompt_tokens_details"]["cache_write_tokens"] = self.cache_write_tokens
        return out


# -- the request (OpenAI chat shape) --------------------------------------------------------------------


class ImageUrl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: str
    detail: str | None = None


class TextPart(msgspec.Struct, frozen=True, tag="text", tag_field="type", forbid_unknown_fields=True):
    text: str
    cache_control: JsonObject | None = None


class ImagePart(msgspec.Struct, frozen=True, tag="image_url", tag_field="type", forbid_unknown_fields=True):
    image_url: ImageUrl
    cache_control: JsonObject | None = None


Part = TextPart | ImagePart


class FunctionCall(msgspec.Struct, frozen=True):
    name: str
    arguments: str


class ToolCall(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    function: FunctionCall
    type: str = "function"


class Message(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: str
    content: str | list[Part] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    reasoning_content: str | None = None  # DeepSeek/Qwen; ignored on input by providers without it
    thinking_blocks: list[JsonObject] | None = None  # signed Anthropic thinking, round-tripped
    refusal: str | None = None
    cache_control: JsonObject | None = None


class FunctionDef(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    description: str | None = None
    parameters: JsonObject | None = None
    strict: bool | None = None


class Tool(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    function: FunctionDef
    type: str = "function"
    cache_control: JsonObject | None = None


class NamedFunction(msgspec.Struct, frozen=True):
    name: str


class ToolChoice(msgspec.Struct, frozen=True):
    function: NamedFunction
    type: str = "function"


class JsonSchemaFormat(msgspec.Struct, frozen=True):
    name: str
    schema: JsonObject | None = None
    description: str | None = None
    strict: bool | None = None


class ResponseFormat(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    type: str  # text | json_object | json_schema
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(msgspec.Struct, frozen=True):
    include_usage: bool | None = None


class ChatRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An OpenAI chat-completions request. A field left at None was not sent (or sent as null)."""

    model: str
    messages: list[Message]
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None  # not OpenAI's; Anthropic and Gemini take it
    stop: str | list[str] | None = None
    tools: list[Tool] | None = None
    tool_choice: str | ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: str | None = None
    thinking: JsonObject | None = None
    service_tier: str | None = None
    user: str | None = None
    n: int | None = None
    seed: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    logit_bias: dict[str, float] | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    modalities: list[str] | None = None
    prediction: JsonObject | None = None
    audio: JsonObject | None = None
    web_search_options: JsonObject | None = None
    verbosity: str | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None

    @property
    def wants_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


REQUEST_FIELDS: frozenset[str] = frozenset(ChatRequest.__struct_fields__)
_decoder = msgspec.json.Decoder(ChatRequest)


def decode_request(body: bytes) -> ChatRequest:
    """Decode a chat request for translation; a field outside the canonical form is a 400 naming it."""
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as e:
        msg, _, where = str(e).rpartition(" - at `")
        param = where.rstrip("`").removeprefix("$").lstrip(".") or None
        raise InvalidRequest(f"{msg or e} (at {param})" if param else str(e), param=param) from None
    except msgspec.DecodeError as e:
        raise InvalidRequest(f"malformed JSON: {e}", code="invalid_json") from None


def text_of(content: str | list[Part] | None) -> str:
    """The text of a message's content (parts joined); images are not text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(p.text for p in content if isinstance(p, TextPart))
