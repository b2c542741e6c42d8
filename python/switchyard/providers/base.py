"""The adapter Protocol every provider module implements, and the construction of adapters from config.

One small Protocol: build an attempt, map an error, and turn a 2xx answer into the canonical (OpenAI)
shape, whole or as a stream. Protocol-specific knowledge lives in the provider's own module (openai.py
for the OpenAI-compatible family and its presets, azure.py, anthropic.py, gemini.py, demo.py for the
keyless demo); this module only picks the module by the preset's `protocol`.
"""

from __future__ import annotations

from typing import Protocol

from switchyard._core import Inspected
from switchyard.canonical import Usage
from switchyard.config import DEMO_KIND, ProviderConfig, Timeouts
from switchyard.errors import GatewayError
from switchyard.providers.presets import PRESETS, endpoints, upstream_headers
from switchyard.upstream import HttpTransport, Transport, UpstreamRequest


class StreamTap(Protocol):
    """What relays a 2xx stream to an OpenAI-dialect caller: `_core.ChatStreamTap` for OpenAI-compatible
    upstreams (bytes as they came), a translator for the other protocols (OpenAI chunks out)."""

    def feed(self, chunk: bytes, /) -> bytes:
        """The caller's bytes for the next upstream chunk (b"" while nothing is complete)."""
        ...

    def finish(self) -> bytes:
        """End of the upstream stream: whatever is left to send."""
        ...

    @property
    def usage(self) -> bytes | Usage | None:
        """The stream's usage: an OpenAI `usage` JSON text, or a translator's `Usage`."""
        ...

    @property
    def error(self) -> bytes | None:
        """The first error the upstream reported in the stream, as an OpenAI error JSON text."""
        ...

    @property
    def done(self) -> bool:
        """Whether the stream ended as its protocol says a finished stream ends."""
        ...

    @property
    def text(self) -> str:
        """The generated text (for counting), when collected."""
        ...

    @property
    def service_tier(self) -> str | None:
        """The tier the provider reported in the stream, where it is not already in a `Usage`."""
        ...


class Adapter(Protocol):
    """One configured provider: builds attempts for its upstream, maps its errors and answers."""

    name: str
    transport: Transport
    stream_usage: bool  # whether streams can be asked for their usage (else the gateway counts it)
    protocol: str  # the wire protocol it speaks (a caller speaking the same one gets the bytes as they are)

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        """The upstream request for the caller's OpenAI-shaped `body` with `model` as the upstream model,
        and whether the caller must not see a usage-only stream chunk (the gateway added the request for
        it, or, for translating adapters, the caller did not ask for one). `want_usage` false: routing-only
        forwards the caller's bytes as they are (OpenAI-compatible adapters only)."""
        ...

    def error(self, status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
        """The gateway error for an upstream's non-2xx answer."""
        ...

    def whole(self, body: bytes) -> tuple[bytes, Usage | None]:
        """A non-streamed 2xx answer as an OpenAI chat completion (the bytes themselves when they are
        one already), and its usage. Raises UpstreamError when the answer is malformed."""
        ...

    def stream_tap(self, strip_usage: bool, collect_text: bool) -> StreamTap:
        """A relay for one streamed 2xx answer, emitting OpenAI chunks."""
        ...


class HttpUpstream:
    """What every HTTP adapter holds: its name, transport and timeouts, its base URL, the headers every
    request carries (`fixed` ones first) and the endpoints it serves beside chat."""

    def __init__(
        self, name: str, cfg: ProviderConfig, timeouts: Timeouts, transport: Transport, *fixed: tuple[str, str]
    ) -> None:
        self.name = name
        self.transport = transport
        self.timeouts = timeouts
        self.base_url = (cfg.base_url or PRESETS[cfg.kind].base_url).rstrip("/")
        self.headers = upstream_headers(cfg, *fixed)
        self.endpoints = endpoints(cfg)


def build_adapter(name: str, cfg: ProviderConfig, defaults: Timeouts, http: HttpTransport) -> Adapter:
    """The adapter for provider `name` (config already validated)."""
    from switchyard.providers import azure, demo, openai

    timeouts = cfg.timeouts or defaults
    if cfg.kind == DEMO_KIND:
        return demo.build(name, timeouts)
    protocol = PRESETS[cfg.kind].protocol
    if protocol == "azure":
        return azure.Azure(name, cfg, timeouts, http)
    if protocol == "anthropic":
        from switchyard.providers.anthropic import Anthropic

        return Anthropic(name, cfg, timeouts, http)
    if protocol == "gemini":
        from switchyard.providers.gemini import Gemini

        return Gemini(name, cfg, timeouts, http)
    return openai.OpenAICompatible(name, cfg, timeouts, http)
