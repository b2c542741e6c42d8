"""The Responses API caller (`POST /v1/responses`): its request turned canonical, and a per-request view
of the adapters that answers in the Responses dialect.

  - an upstream that serves the Responses API itself (`responses` in the provider's endpoints: OpenAI,
    Azure) gets the caller's own bytes with `model` rewritten and answers byte for byte, server-side
    state (`previous_response_id`, `store`) included;
  - any other upstream gets the stateless use (full `input` each turn) translated through the canonical
    chat form by its adapter, and its answer, already in OpenAI chat shape, translated on to a
    `response` object or the Responses event stream (dialects/responses/).
A request only a native upstream can take (`previous_response_id`, built-in tools, ...) is routed on a
stand-in body, and a translated upstream reached for it refuses with the 400 naming the limitation.
"""

from __future__ import annotations

from collections.abc import Mapping

from switchyard._core import Inspected
from switchyard.canonical import Usage
from switchyard.dialects.responses import native
from switchyard.dialects.responses import request as responses_request
from switchyard.dialects.responses import response as responses_response
from switchyard.errors import GatewayError
from switchyard.pipeline.account import parse_usage
from switchyard.pipeline.dialect import DialectCaller, Stacked, TranslatedView
from switchyard.providers.base import Adapter, StreamTap
from switchyard.providers.openai import OpenAICompatible
from switchyard.upstream import UpstreamRequest


class ResponsesCaller(DialectCaller):
    """One Responses API request: its canonical body, what the answer echoes, and the adapters as it
    sees them."""

    name = "responses"

    def __init__(self, raw: bytes) -> None:
        super().__init__(raw, responses_request.to_openai, responses_request.minimal)
        self.tap: responses_response.StreamTranslator | native.PassthroughTap | None = None  # the stream's

    def error_event(self, err: GatewayError) -> bytes:
        """The `error` event ending a stream that fails after its start, numbered after the last one sent."""
        tap = self.tap or native.PassthroughTap()
        return tap.error_event(err)

    def view(self, adapters: Mapping[str, Adapter]) -> dict[str, Adapter]:
        """The adapters, each answering in the Responses dialect for this request."""
        out: dict[str, Adapter] = {}
        for name, a in adapters.items():
            if "responses" in getattr(a, "endpoints", ()) and isinstance(a, OpenAICompatible):
                out[name] = _Native(a, self)
            else:
                out[name] = _Translated(a, self)
        return out


class _Native:
    """An upstream serving the Responses API: bytes in and out, usage read on the way."""

    protocol = "openai-responses"
    stream_usage = True

    def __init__(self, adapter: OpenAICompatible, caller: ResponsesCaller) -> None:
        self.adapter = adapter
        self.caller = caller
        self.name = adapter.name
        self.transport = adapter.transport

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        a = self.adapter  # the caller's own bytes: nothing to add
        return a.request_to(a.endpoint_url("responses", model), self.caller.raw, info, model, False)

    def error(self, status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
        return self.adapter.error(status, body, retry_after, deployment)

    def whole(self, body: bytes) -> tuple[bytes, Usage | None]:
        return body, native.whole_usage(body)

    def stream_tap(self, strip_usage: bool, collect_text: bool) -> StreamTap:
        tap = self.caller.tap = native.PassthroughTap()
        return tap


class _Translated(TranslatedView):
    """Any other upstream: its adapter's OpenAI-shaped answer, translated on to the Responses dialect."""

    def __init__(self, adapter: Adapter, caller: ResponsesCaller) -> None:
        super().__init__(adapter, caller.problem, caller.body)
        self.caller = caller

    def whole(self, body: bytes) -> tuple[bytes, Usage | None]:
        openai_body, usage = self.adapter.whole(body)
        return responses_response.whole(openai_body, usage, self.caller.echo), usage

    def stream_tap(self, strip_usage: bool, collect_text: bool) -> StreamTap:
        first = self.adapter.stream_tap(strip_usage, collect_text)
        second = responses_response.StreamTranslator(lambda: parse_usage(first.usage), self.caller.echo)
        self.caller.tap = second
        return Stacked(first, second)
