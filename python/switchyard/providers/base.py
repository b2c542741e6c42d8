"""The adapter Protocol every provider module implements, and the construction of adapters from config.

One small Protocol: build an attempt, map an error. Protocol-specific knowledge lives in the provider's
own module (openai.py for the OpenAI-compatible family and its presets, demo.py for the keyless demo);
this module only picks the module by `kind`.
"""

from __future__ import annotations

from typing import Protocol

from switchyard._core import Inspected
from switchyard.config import DEMO_KIND, ProviderConfig, Timeouts
from switchyard.errors import GatewayError
from switchyard.upstream import HttpTransport, Transport, UpstreamRequest


class Adapter(Protocol):
    """One configured provider: builds attempts for its upstream and maps its errors."""

    name: str
    transport: Transport
    stream_usage: bool  # whether streams can be asked for their usage (else the gateway counts it)

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        """The upstream request for the caller's `body` with `model` as the upstream model, and whether
        the gateway added a usage-only stream chunk that must be stripped before the caller sees it
        (never when `want_usage` is false: routing-only forwards the caller's bytes as they are)."""
        ...

    def error(self, status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
        """The gateway error for an upstream's non-2xx answer."""
        ...


def build_adapter(name: str, cfg: ProviderConfig, defaults: Timeouts, http: HttpTransport) -> Adapter:
    """The adapter for provider `name` (config already validated)."""
    from switchyard.providers import demo, openai

    timeouts = cfg.timeouts or defaults
    if cfg.kind == DEMO_KIND:
        return demo.build(name, timeouts)
    return openai.OpenAICompatible(name, cfg, timeouts, http)
