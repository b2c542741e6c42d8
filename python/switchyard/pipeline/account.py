"""Account: one record per request (tokens from the provider's usage, status, timings), kept in memory.

Building and queueing a record costs well under a microsecond; nothing here waits on a disk. The ring
holds the most recent records for `/admin/requests`; durable logging comes with the audit-log feature.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import msgspec
import orjson


class Usage(msgspec.Struct, frozen=True):
    """Token counts as the provider reported them (OpenAI shape)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    counted: bool = False  # True: the upstream reported none, the gateway counted (prompt + streamed text)

    @property
    def billed(self) -> int:
        """Tokens a tokens-per-minute limit is charged: the total, or prompt + completion without one."""
        return self.total_tokens or self.prompt_tokens + self.completion_tokens


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


def parse_usage(raw: Any) -> Usage | None:
    """An OpenAI `usage` object (dict or raw JSON bytes) to a `Usage`, or None if absent or malformed."""
    if isinstance(raw, bytes | bytearray | memoryview):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(raw, dict):
        return None
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion_details = raw.get("completion_tokens_details") or {}
    try:
        return Usage(
            prompt_tokens=int(raw.get("prompt_tokens") or 0),
            completion_tokens=int(raw.get("completion_tokens") or 0),
            total_tokens=int(raw.get("total_tokens") or 0),
            cached_tokens=int(prompt_details.get("cached_tokens") or 0),
            reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
        )
    except (TypeError, ValueError, AttributeError):
        return None


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
