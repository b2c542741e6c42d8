"""Account: one record per request (tokens from the provider's usage, status, timings), kept in memory.

Building and queueing a record costs well under a microsecond; nothing here waits on a disk. The ring
holds the most recent records for `/admin/requests`; durable logging comes with the audit-log feature.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import msgspec
import orjson

from switchyard.canonical import Usage
from switchyard.providers.usage import openai_usage

__all__ = ["Ledger", "RequestRecord", "Usage", "parse_usage"]


class RequestRecord(msgspec.Struct, frozen=True):
    """What happened to one request."""

    request_id: str
    principal: str | None  # the caller's key name (never the key)
    model: str | None
    deployment: str | None
    status: int
    stream: bool
    usage: Usage | None
    duration_ms: float
    error: str | None = None  # error code, when the request failed
    endpoint: str = "chat"  # the route: chat, messages, responses, embeddings, images, completions, moderations


def parse_usage(raw: Any, service_tier: Any = None) -> Usage | None:
    """An OpenAI `usage` object (dict or raw JSON bytes) to a `Usage`, or None if absent or malformed;
    a `Usage` (from a translating adapter) is returned as it is."""
    if isinstance(raw, Usage):
        return raw
    if isinstance(raw, bytes | bytearray | memoryview):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    return openai_usage(raw, service_tier)


class Ledger:
    """The recent records of this worker and its running totals."""

    __slots__ = ("completion_tokens", "prompt_tokens", "recent", "requests")

    def __init__(self, keep: int = 1000) -> None:
        self.recent: deque[RequestRecord] = deque(maxlen=keep)
        self.requests = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def add(self, record: RequestRecord) -> None:
        self.recent.append(record)
        self.requests += 1
        if record.usage is not None:
            self.prompt_tokens += record.usage.prompt_tokens
            self.completion_tokens += record.usage.completion_tokens
