"""What `Gateway.chat` asks of a request that is not an OpenAI chat completion.

Chat completions take the unchanged fast path (no caller object at all). Every other route hands the
gateway a `Caller` built from the raw body: another dialect of chat (Anthropic Messages, the Responses
API: pipeline/dialect.py) or another endpoint (embeddings, images, completions, moderations:
pipeline/surfaces.py). The gateway runs the same stages for all of them (auth, limits, routing,
failover, relay, the request log); the caller only says how its body is read, counted, sent to each
provider and answered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from switchyard._core import Inspected
from switchyard.errors import GatewayError
from switchyard.providers.base import Adapter


class Caller(Protocol):
    """One request to a route other than chat completions."""

    name: str  # the endpoint, as the request log names it ("messages", "responses", "embeddings", ...)
    body: bytes  # what routing and limits read: the canonical chat body, or the caller's own bytes
    counts_input: bool  # an answer without usage is billed the counted input (embeddings)

    def error_event(self, err: GatewayError, /) -> bytes:
        """How a stream that fails after its start ends, in the route's dialect."""
        ...

    def inspect(self) -> tuple[Inspected, str]:
        """The scan of `body` and its model; 400 for a body the route cannot take."""
        ...

    async def count(self, body: bytes) -> int:
        """The request's input tokens, for limits and context windows."""
        ...

    def view(self, adapters: Mapping[str, Adapter]) -> dict[str, Adapter]:
        """The providers as this request sees them (an `Unsupported` one is left out of the plan)."""
        ...


CallerFactory = Callable[[bytes], Caller]
