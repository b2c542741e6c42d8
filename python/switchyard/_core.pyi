"""Type stub for the Rust extension `switchyard._core` (the contract; checked by mypy.stubtest in CI)."""

# --- sse (rust/sse.rs) ---
# (rust/sse/: mod.rs is the pyo3 skin; lines.rs, parser.rs, tap.rs are the pure-Rust cores)

from typing import final

@final
class SseEvent:
    """One server-sent event, as an `EventSource` would dispatch it. Frozen; compares and hashes by value."""

    def __new__(
        cls, data: str, event: str = "message", id: str | None = None, retry: int | None = None
    ) -> SseEvent: ...
    @property
    def event(self) -> str:
        """The event type: the last `event` field of the event's block, or "message"."""
    @property
    def data(self) -> str:
        """The `data` fields of the block joined with "\n" (invalid UTF-8 decoded as U+FFFD)."""
    @property
    def id(self) -> str | None:
        """The last event ID in effect when the event was dispatched (it persists across events); None if no
        `id` field was ever accepted, "" after an empty `id:`."""
    @property
    def retry(self) -> int | None:
        """The last valid `retry` (ASCII digits only, fits in 64 bits) of this event's block, else None."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SseParser:
    """Incremental `text/event-stream` parser, exact to the WHATWG event-stream interpretation rules: lines
    end in CRLF, LF or CR (also when a CRLF is split across chunks), one leading BOM is stripped, events may
    be split across chunks anywhere (also inside a UTF-8 character)."""

    def __new__(cls) -> SseParser: ...
    def feed(self, chunk: bytes, /) -> list[SseEvent]:
        """Parse the next chunk; return the events it completes. Releases the GIL for chunks of 64 KiB+."""
    def finish(self) -> list[SseEvent]:
        """End the stream. Always returns []: per the spec an unterminated event is discarded. The parser is
        then ready for a new stream (e.g. after a reconnect); `last_event_id` and `retry` are kept."""
    @property
    def last_event_id(self) -> str | None:
        """The last event ID string: the ID in effect at the last blank line; None if never set."""
    @property
    def retry(self) -> int | None:
        """The reconnection time (ms) from the last valid `retry` field read in any block, else None."""

@final
class ChatStreamTap:
    """Hot-path relay tap for an OpenAI chat-completion stream: call `feed` once per upstream chunk and write
    what it returns to the caller. The output is upstream's bytes exactly, a block at a time (a block runs
    through the blank line that ends an event, comments and stray blank lines included); only an incomplete
    trailing block is held back. With `strip_usage_chunk`, an event whose data is a JSON object with a
    non-null top-level `usage` and `"choices": []` (the usage-only chunk the gateway asked for on the caller's
    behalf) is left out of the output."""

    def __new__(cls, strip_usage_chunk: bool) -> ChatStreamTap: ...
    def feed(self, chunk: bytes, /) -> bytes:
        """Take the next upstream chunk; return the bytes of the blocks it completes (the chunk object itself
        when that is all of it). Releases the GIL for chunks of 64 KiB+."""
    def finish(self) -> bytes:
        """End of stream: return the held-back bytes of an incomplete block unchanged (not counted or
        inspected: a client discards an unterminated event) and get ready for a new stream."""
    @property
    def usage(self) -> bytes | None:
        """The raw JSON text of the last non-null top-level `usage` in any event (stripped or not)."""
    @property
    def error(self) -> bytes | None:
        """The raw data of the first event whose JSON object has a non-null top-level `error`."""
    @property
    def done(self) -> bool:
        """Whether an event whose data starts with "[DONE]" was seen (as the OpenAI SDKs test it)."""
    @property
    def events(self) -> int:
        """The number of events dispatched (blocks with data), `[DONE]` and stripped ones included."""
    @property
    def pending(self) -> int:
        """The number of bytes held back (the incomplete trailing block so far)."""

# --- inspect (rust/inspect.rs) ---
