"""Caller dialects other than OpenAI: the request turned canonical, and a per-request view of the adapters
that answers in the caller's dialect.

For an Anthropic-dialect caller (`POST /v1/messages`):
  - an Anthropic upstream gets the caller's own bytes with `model` rewritten and answers byte for byte
    (no canonical form on the way: the same-dialect pass-through);
  - any other upstream gets the canonical request through its adapter as an OpenAI caller's would, and
    its answer, already translated to OpenAI's shape by the adapter, is translated on to Anthropic's
    (dialects/anthropic/response.py), whole or as a stream (the two taps stacked).
The OpenAI dialect needs none of this: `Gateway.chat` without a dialect is the unchanged fast path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from switchyard._core import Inspected
from switchyard.canonical import JsonObject, Usage
from switchyard.dialects.anthropic import request as anthropic_request
from switchyard.dialects.anthropic import response as anthropic_response
from switchyard.errors import GatewayError, InvalidRequest, anthropic_sse_error_event
from switchyard.pipeline.account import parse_usage
from switchyard.pipeline.count import prompt_tokens
from switchyard.pipeline.inspect import inspect_chat
from switchyard.providers.anthropic import Anthropic
from switchyard.providers.base import Adapter, StreamTap
from switchyard.upstream import UpstreamRequest

FATAL = ("invalid_json", "not_object", "missing_required_parameter")  # no upstream can take these


class DialectCaller:
    """A caller speaking another dialect of chat: its request in canonical form, or, when only an upstream
    speaking its own protocol can take it, a stand-in to route on and the reason (`problem`); scanned and
    counted as chat."""

    name = ""
    counts_input = False

    def __init__(
        self, raw: bytes, translate: Callable[[bytes], tuple[bytes, JsonObject]], stand_in: Callable[[bytes], bytes]
    ) -> None:
        self.raw = raw
        self.problem: InvalidRequest | None = None  # what keeps this request from being translated
        self.echo: JsonObject = {}  # the request's fields, as translate read them
        try:
            self.body, self.echo = translate(raw)
        except InvalidRequest as e:
            if e.code in FATAL:
                raise
            self.problem = e  # only the dialect's own upstream can take it: route on a stand-in
            self.body = stand_in(raw)

    def inspect(self) -> tuple[Inspected, str]:
        return inspect_chat(self.body)

    async def count(self, body: bytes) -> int:
        return await prompt_tokens(body)


class AnthropicCaller(DialectCaller):
    """One Anthropic-dialect request: its canonical body and the adapters as it sees them."""

    name = "messages"
    error_event: Callable[[GatewayError], bytes] = staticmethod(anthropic_sse_error_event)

    def __init__(self, raw: bytes) -> None:
        super().__init__(raw, anthropic_request.to_openai, anthropic_request.minimal)

    def view(self, adapters: Mapping[str, Adapter]) -> dict[str, Adapter]:
        """The adapters, each answering in Anthropic's dialect for this request."""
        out: dict[str, Adapter] = {}
        bodies: dict[str, bytes] = {}
        for name, a in adapters.items():
            if isinstance(a, Anthropic):
                out[name] = _Native(a, self.raw)
                continue
            if self.problem is None and a.protocol not in bodies:
                bodies[a.protocol] = anthropic_request.without_hints(self.body, keep_thinking=a.protocol == "gemini")
            out[name] = _Translated(a, self.problem, bodies.get(a.protocol, self.body))
        return out


class _Native:
    """An Anthropic upstream for an Anthropic caller: bytes in and out, usage read on the way."""

    protocol = "anthropic"

    def __init__(self, adapter: Anthropic, raw: bytes) -> None:
        self.adapter = adapter
        self.raw = raw
        self.name = adapter.name
        self.transport = adapter.transport
        self.stream_usage = True

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        return self.adapter.build_native(self.raw, info.stream, model), False

    def error(self, status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
        return self.adapter.error(status, body, retry_after, deployment)

    def whole(self, body: bytes) -> tuple[bytes, Usage | None]:
        return self.adapter.whole_native(body)

    def stream_tap(self, strip_usage: bool, collect_text: bool) -> StreamTap:
        return self.adapter.stream_tap_native()


class TranslatedView:
    """An upstream that does not speak the caller's dialect: the canonical request through its adapter
    (a subclass translates the adapter's OpenAI-shaped answer on to the dialect)."""

    protocol = "openai"

    def __init__(self, adapter: Adapter, problem: InvalidRequest | None, body: bytes) -> None:
        self.adapter = adapter
        self.problem = problem  # what keeps the request from being translated (raised if this is tried)
        self.body = body  # the canonical request as this upstream may take it
        self.name = adapter.name
        self.transport = adapter.transport
        self.stream_usage = adapter.stream_usage

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        if self.problem is not None:
            raise self.problem
        return self.adapter.build(self.body, info, model)

    def error(self, status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
        return self.adapter.error(status, body, retry_after, deployment)


class _Translated(TranslatedView):
    """Any other upstream: its adapter's OpenAI-shaped answer, translated on to Anthropic's."""

    def whole(self, body: bytes) -> tuple[bytes, Usage | None]:
        openai_body, usage = self.adapter.whole(body)
        return anthropic_response.whole(openai_body, usage), usage

    def stream_tap(self, strip_usage: bool, collect_text: bool) -> StreamTap:
        first = self.adapter.stream_tap(strip_usage, collect_text)
        return Stacked(first, anthropic_response.StreamTranslator(lambda: parse_usage(first.usage)))


class Translator(Protocol):
    """A dialect's stream translator: OpenAI chunks in, the caller's events out."""

    def feed(self, chunk: bytes, /) -> bytes: ...
    def finish(self) -> bytes: ...

    @property
    def error(self) -> bytes | None: ...

    @property
    def done(self) -> bool: ...


class Stacked:
    """The adapter's tap (upstream → OpenAI chunks) followed by the dialect's (OpenAI → its events)."""

    def __init__(self, first: StreamTap, second: Translator) -> None:
        self.first = first
        self.second = second

    def feed(self, chunk: bytes, /) -> bytes:
        return self.second.feed(self.first.feed(chunk))

    def finish(self) -> bytes:
        return self.second.feed(self.first.finish()) + self.second.finish()

    @property
    def usage(self) -> Usage | None:
        return parse_usage(self.first.usage, self.first.service_tier)

    @property
    def error(self) -> bytes | None:
        return self.second.error

    @property
    def done(self) -> bool:
        return self.second.done

    @property
    def text(self) -> str:
        return self.first.text

    @property
    def service_tier(self) -> str | None:
        return self.first.service_tier
