"""Type stub for the Rust extension `switchyard._core` (the contract; checked by mypy.stubtest in CI)."""

from collections.abc import Generator, Iterable
from types import TracebackType
from typing import Any, Final, Generic, Literal, TypeVar, final

_T = TypeVar("_T")

__all__ = [
    "REASONING_MARKERS",
    "ChatStreamTap",
    "Concurrency",
    "ConnectError",
    "ConnectTimeout",
    "Decision",
    "HttpClient",
    "HttpError",
    "InspectError",
    "Inspected",
    "Limit",
    "LimitState",
    "Limiter",
    "Pending",
    "Permit",
    "ReadTimeout",
    "RequestTimeout",
    "Response",
    "SseEvent",
    "SseParser",
    "count_chat",
    "count_tokens",
    "count_tokens_for_model",
    "encoding_for_model",
    "inspect_request",
    "preload_encodings",
    "rewrite_model",
]

# --- sse (rust/sse/) ---
# (rust/sse/: mod.rs is the pyo3 skin; lines.rs, parser.rs, tap.rs are the pure-Rust cores)

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
    behalf) is left out of the output. With `collect_text`, every event is parsed and the completion's
    text is kept in `text` (for counting completion tokens when the upstream reports no usage)."""

    def __new__(cls, strip_usage_chunk: bool, *, collect_text: bool = False) -> ChatStreamTap: ...
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
    @property
    def service_tier(self) -> str | None:
        """The first string top-level `service_tier` any event carried (the tier the provider served on)."""
    @property
    def text(self) -> str:
        """The generated text so far: every choice's delta `content`, `reasoning_content`, `refusal`, and
        tool-call function names and arguments, in arrival order; "" unless `collect_text`."""

# --- inspect (rust/inspect.rs) ---
# Request bodies are read without building Python objects for them. Semantics in full: the module docs of
# rust/inspect/request.rs and rust/inspect/rewrite.rs; the executable spec: tests/core/inspect_reference.py.

REASONING_MARKERS: Final[tuple[str, ...]]
"""The keywords `Inspected.reasoning_markers` counts, lowercase, in alternation order:
("step by step", "prove", "derive", "reason", "analyze", "analyse", "think")."""

class InspectError(ValueError):
    """A request body the gateway cannot accept. `str(err)` is the caller-facing message (OpenAI's wording,
    e.g. "Invalid type for 'messages[1].role': expected a string, but got an integer instead.").

    The details are plain attributes set on each raised instance (read them as `err.kind`, `err.param`,
    `err.offset`; they are not constructor arguments, and an `InspectError` built in Python lacks them):
    """

    kind: Literal["invalid_json", "not_object", "invalid_type", "invalid_value", "missing_param"]
    """`invalid_json`: not JSON (or not UTF-8); `not_object`: valid JSON but not an object;
    `invalid_type`: a field the gateway reads has the wrong type; `invalid_value`: an integer outside
    64 bits; `missing_param`: a message without `role`. Invalid JSON anywhere wins over the others."""
    param: str | None
    """The offending parameter as OpenAI names it (`model`, `messages[2].content[0]`); None for
    `invalid_json` and `not_object`."""
    offset: int
    """Byte offset in the body: where the scanner found invalid JSON (the body's length if it ended
    early), or where the offending value (a message, for `missing_param`) starts."""

@final
class Inspected:
    """What `inspect_request` found. Frozen. Top-level keys only (a `model` inside a message is not the
    model); a duplicated key counts with its last value, as `json.loads` reads it."""

    @property
    def model(self) -> str | None:
        """The `model` string, or None if absent (a lone surrogate escape in it reads as U+FFFD)."""
    @property
    def stream(self) -> bool:
        """`stream` is true (false if absent or null)."""
    @property
    def include_usage(self) -> bool:
        """`stream_options.include_usage` is true."""
    @property
    def max_tokens(self) -> int | None:
        """`max_completion_tokens` unless absent or null, else `max_tokens`; None if neither."""
    @property
    def n(self) -> int | None:
        """`n`, or None if absent or null."""
    @property
    def messages(self) -> int | None:
        """How many messages; None if the `messages` key is absent (an empty array gives 0)."""
    @property
    def text_len(self) -> int:
        """Code points of all message text: string `content` and the `text` of `{"type": "text"}` parts
        (other parts are ignored). A surrogate-pair escape counts as one code point."""
    @property
    def has_tools(self) -> bool:
        """`tools` or legacy `functions` is a non-empty array."""
    @property
    def has_images(self) -> bool:
        """Some content part has type `image_url` or `input_image`."""
    @property
    def has_response_format(self) -> bool:
        """`response_format` is present and not null."""
    @property
    def code_blocks(self) -> int:
        """Fences (```` ``` ````, non-overlapping, counted per text) over all messages, halved, floored."""
    @property
    def reasoning_markers(self) -> int:
        """Matches of `REASONING_MARKERS` in message text, per text, ASCII-case-insensitive,
        non-overlapping, leftmost-first: `len(re.findall("|".join(REASONING_MARKERS), text, re.I | re.A))`
        summed over texts."""
    @property
    def user(self) -> str | None:
        """The top-level `user` (the caller's end-user id), None if absent or null; any other type is an
        `invalid_type` error with param "user"."""
    @property
    def last_user_len(self) -> int:
        """Code points of the text of the last message whose role is "user" (0 if none)."""

def inspect_request(body: bytes, /) -> Inspected:
    """Scan a JSON chat-completions request body in one pass, building no Python objects for it.

    Checks what the gateway relies on (OpenAI answers 400 for these): the body is a JSON object; `model` a
    string; `messages` an array of objects, each with a string `role` and a `content` that is a string,
    null or an array of objects; `stream` a boolean or null; `max_tokens`, `max_completion_tokens` and
    `n` integers (within 64 bits) or null; `stream_options` an object or null; `tools` an array or null.
    Every occurrence of a duplicated key is checked. The GIL is released for bodies over 64 KiB.

    Raises:
        InspectError: with the first problem in the body (invalid JSON anywhere wins over a type error).
    """

def rewrite_model(body: bytes, model: str, /, *, include_usage: bool = False) -> bytes:
    """Return `body` with its top-level `model` value replaced by `model`, every other byte untouched.

    `model` is written as `json.dumps(model, ensure_ascii=False)` writes it. Every top-level `model`
    member is replaced (an upstream that keeps the first duplicate sees the same model as one that keeps
    the last); with none, `"model":…` is inserted right after the opening `{` (followed by `,` if the
    object has members).

    With `include_usage`, also make `stream_options.include_usage` true by the smallest edit: a null
    `stream_options` becomes `{"include_usage":true}`; in an object, an `include_usage` that is not `true`
    gets `true`, and a missing one is inserted as `"include_usage":true` right after its `{`; with no
    `stream_options`, `"stream_options":{"include_usage":true}` is inserted after the opening `{` (after
    an inserted `model`). A body that already has it true is left as it is there.

    The body is validated as JSON in the same single scan; the GIL is released for bodies over 64 KiB.

    Raises:
        InspectError: invalid JSON, not an object, or (with `include_usage`) a `stream_options` that is
            neither an object nor null (`invalid_type`, param `stream_options`).
    """

# --- tokens (rust/tokens/) ---
# Exact counts for OpenAI's o200k_base and cl100k_base (vocabularies inside the build; no network), and
# documented estimates for other families. Semantics in full: the module docs of rust/tokens/*.rs; the
# executable spec: tests/core/tokens_reference.py (Python tiktoken and the OpenAI cookbook's counting).
# Each call releases the GIL for inputs over 16 KB and while a vocabulary is first decoded (50-85 ms); a
# caller on an event loop should still send large inputs to a thread (about 8 ms per MB of text).

def count_tokens(text: str, /, encoding: str = "o200k_base") -> int:
    """The number of tokens of `text` in `encoding` ("o200k_base" or "cl100k_base"), exactly as Python
    tiktoken's `Encoding.encode_ordinary` counts them: special-token text such as "<|endoftext|>" is
    ordinary text, and lone surrogates count as U+FFFD.

    Raises:
        ValueError: an unknown encoding.
    """

def encoding_for_model(model: str, /) -> str | None:
    """The encoding of an OpenAI model: "o200k_base" for the gpt-4o, gpt-4.1, gpt-4.5, gpt-5 families,
    chatgpt-4o, gpt-oss and the o1/o3/o4 series; "cl100k_base" for gpt-4, gpt-3.5-turbo and the
    embeddings models (text-embedding-3-*, ada-002); None for anything else. Matched like tiktoken's
    MODEL_TO_ENCODING then MODEL_PREFIX_TO_ENCODING, ASCII-case-insensitively, after dropping a routing
    prefix up to the last "/" ("openai/gpt-4o", "azure/gpt-35-turbo"); fine-tuned "ft:" names too."""

def count_tokens_for_model(text: str, /, model: str) -> int:
    """Tokens of `text` for `model` (a routing prefix up to the last "/" is dropped): exact for an OpenAI
    model (`encoding_for_model`), an estimate for the families below, the o200k_base count otherwise.

    An estimate is ceil(o200k_base count * factor). Where the family's tokenizer ships in a package,
    the factor is measured (`benches/micro_tokens.py --ratios`: its tokens / o200k_base tokens on
    English prose, Python code, a small multilingual sample) and rounded up past the largest ratio, so
    it errs high; elsewhere it comes from published figures and is unverified here:

    - Mistral (mistral, mixtral, codestral, devstral, magistral, pixtral): x1.10. Tekken measured
      1.030 / 1.038 / 1.088 (prose / code / multilingual): 1-7 % high.
    - DeepSeek: x1.10. V4 tokenizer measured 1.035 / 1.051 / 1.080: 2-6 % high.
    - Qwen (qwen, qwq): x1.10. Qwen 2-3 vocabulary 1.002 / 0.997 / 1.049, Qwen 3.5/3.6 vocabulary
      1.050 / 1.069 / 0.934: 3-18 % high.
    - Claude 3 to Opus 4.6 (`claude` in the name): x1.30. Not public; published: Claude 3.5 Sonnet makes
      1.16x (English) / 1.21x (math) / 1.30x (Python) GPT-4o's tokens (VentureBeat, 2025): 0-12 % high.
    - Claude Opus 4.7 and later (version >= 4.7): x1.76 = 1.30 * 1.35, the top of Anthropic's "1.0-1.35x
      more tokens" for its new tokenizer; up to ~50 % high where that tokenizer adds nothing.
    - Gemini: x1.10, from Google's "about 4 characters per token" and o200k_base's 4.33 characters per
      token on English prose; no open Gemini tokenizer to measure, so code and CJK may be further off.
    """

def count_chat(body: bytes, /, model: str | None = None) -> int:
    """Prompt tokens of a chat-completions request body as OpenAI bills them (the OpenAI cookbook's
    "How to count tokens with tiktoken"; exact against the API on the cookbook's examples):
    3 per message + the tokens of each of its string values (role, content, name, ...) + 1 per `name`,
    + 3 priming the reply; content parts: text (and refusal) parts by their text, images by OpenAI's
    published image pricing (the size read from a base64 data: URL's PNG/GIF/WebP/JPEG header, else
    charged as 1024x1024: 765 tokens on gpt-4o; detail "low" → the base, 85 on gpt-4o), other parts 0;
    an assistant's tool calls by their function names and arguments; tool definitions (`tools`,
    legacy `functions`) by the cookbook's `num_tokens_for_tools` approximation, which reads only the
    top level of each schema's properties (nested schemas are undercounted).

    `model` (else the body's `model`) picks the encoding via `encoding_for_model`; a model of a family
    `count_tokens_for_model` estimates gets the o200k_base count scaled by that family's factor; any
    other model is counted as o200k_base. The GIL is released for bodies over 16 KB.

    Raises:
        ValueError: the body is not JSON, not a JSON object, or nested deeper than 128 levels.
    """

def preload_encodings() -> None:
    """Decode both embedded vocabularies now (~130 ms together, +30 MB resident; GIL released) instead
    of on first use; call once at startup so no request pays for it."""

# --- limits (rust/limits/) ---
# In-process rate limits (GCRA, exact integer arithmetic) and concurrency permits. Semantics in full: the
# module docs of rust/limits/gcra.rs and rust/limits/slots.rs; the executable spec:
# tests/core/limits_reference.py. Times are seconds as floats (`time.monotonic()`), read as
# `int(now * 1e9)` ns; every count is an int.

@final
class Limit:
    """A rate limit: `rate` units per `period_s`, at most `burst` at once (a bucket of `burst` units that
    refills continuously at `rate / period_s`). Frozen; compares and hashes by value, and a bucket is
    keyed by (key, Limit value): two equal Limits share buckets, a changed one starts fresh ones.

    `name` is the kind for headers ("requests", "tokens", or your own). `rate` and `burst` are ints in
    1..=2**40 (`burst` defaults to `rate`); `period_s` is read as `int(period_s * 1e9)` ns, 1 ns to
    1e7 s. Raises ValueError outside those ranges."""

    def __new__(cls, name: str, rate: int, period_s: float = 60.0, burst: int | None = None) -> Limit: ...
    @property
    def name(self) -> str: ...
    @property
    def rate(self) -> int: ...
    @property
    def period_s(self) -> float: ...
    @property
    def burst(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class LimitState:
    """One (key, Limit) bucket as of a call: enough for OpenAI's `x-ratelimit-{limit,remaining,reset}-*`
    headers (`limit.burst`, `remaining`, `reset_s`). Frozen."""

    @property
    def key(self) -> str: ...
    @property
    def limit(self) -> Limit: ...
    @property
    def remaining(self) -> int:
        """Whole units that would pass now (0 when empty or in debt)."""
    @property
    def reset_s(self) -> float:
        """Seconds until the bucket is full again (0.0 if it is), rounded up to the ns."""

@final
class Decision:
    """The answer of `Limiter.admit`. Truthy iff allowed. Frozen."""

    @property
    def allowed(self) -> bool: ...
    def __bool__(self) -> bool: ...
    @property
    def retry_after_s(self) -> float | None:
        """0.0 if allowed. If denied: the exact time until this same call would be admitted, absent other
        traffic (the longest wait among the denying checks, rounded up to the ns; one ns earlier it is
        still denied); None if it never can (a cost over a limit's `burst`)."""
    @property
    def denied_by(self) -> LimitState | None:
        """The check that denied (the first that can never pass, else the first with the longest wait),
        None if allowed."""
    @property
    def states(self) -> list[LimitState]:
        """One per check, in order: after consumption if allowed; as they were (nothing consumed) if not."""
    def tightest(self, name: str, /) -> LimitState | None:
        """The most constraining state among the checks whose limit is named `name` (least remaining,
        then longest reset, then first); None if there is none. What the headers of that kind report."""

@final
class Limiter:
    """GCRA rate limiter over (key, Limit) buckets, all-or-nothing across the checks of one call.

    Memory: holds at most `max_buckets` buckets (more only while one call brings more new checks than
    that). A full bucket is the same as no bucket, so full ones are swept (invisibly) when the table has
    doubled since the last sweep or reaches the cap; if the table is still above 7/8 of the cap, the
    buckets nearest to full are dropped (ties included), which admits their keys a little early, never
    late. A sweep is O(buckets), memory-bound: ~0.6 ms per 100k buckets on a 2-CPU VM; with the table
    at the cap and every bucket live, one call per `max_buckets/8` new buckets pays ~2-4 ms at 100k.

    Thread-safe (an uncontended lock per call); nothing here blocks or does I/O."""

    def __new__(cls, max_buckets: int = 100_000) -> Limiter: ...
    @property
    def max_buckets(self) -> int: ...
    def __len__(self) -> int:
        """Buckets held now (including full ones not yet swept)."""
    def admit(self, checks: Iterable[tuple[str, Limit, int]], now: float, /) -> Decision:
        """Check-and-consume `cost` units of each (key, limit, cost), all or nothing: admitted only if every
        bucket has room (the bucket would be at most `burst` units behind after it), and then all are
        consumed; if any denies, none is. The same bucket twice in one call is consumed in order. A cost
        of 0 passes unless the bucket is in debt. Costs are ints in 0..=2**53.

        Raises:
            TypeError: a check that is not a (str, Limit, int) tuple.
            ValueError: a cost or `now` out of range.
        """
    def settle(self, key: str, limit: Limit, delta: int, now: float, /) -> None:
        """Correct an admitted estimate by `delta = actual - estimated` units (|delta| <= 2**53).

        A positive delta consumes more, even past empty: the bucket goes into debt and every check on it
        (cost 0 included) waits until the debt is paid back at `rate` (capped, as an overflow guard only,
        at 2**62 ns ahead). A negative delta refunds, but never past full: a refund does not bank credit
        for later. No bucket is created for a delta that leaves it full."""
    def peek(self, key: str, limit: Limit, now: float, /) -> LimitState:
        """The bucket's state now; consumes nothing and creates nothing."""

@final
class Permit:
    """One in-flight slot of a `Concurrency` key. It is given back exactly once: by `release()`, on
    leaving a `with` block, or when the object is garbage collected (CPython frees it as soon as the last
    reference goes, e.g. a request task that dies with an exception). Only a reference kept alive for
    ever holds the slot for ever; `Concurrency.in_flight` shows it."""

    @property
    def key(self) -> str: ...
    @property
    def released(self) -> bool: ...
    def release(self) -> bool:
        """Give the slot back; True the first time, False (and nothing happens) after."""
    def __enter__(self) -> Permit: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None, /
    ) -> None: ...

@final
class Concurrency:
    """In-flight request counts per key. A key's entry exists only while it has permits out, so memory is
    bounded by the requests in flight. Thread-safe."""

    def __new__(cls) -> Concurrency: ...
    def try_acquire(self, key: str, max_in_flight: int, /) -> Permit | None:
        """A permit if fewer than `max_in_flight` (>= 0) slots of `key` are out, else None."""
    def in_flight(self, key: str, /) -> int:
        """Slots of `key` out now."""
    def __len__(self) -> int:
        """Keys with at least one slot out."""

# --- http (rust/http/: client.rs and runtime.rs the pure-Rust core, bridge.rs the asyncio bridge, py.rs the skin) ---

class HttpError(Exception):
    """An upstream HTTP exchange failed: connection reset, malformed response, body cut short, response
    closed. `str(err)` says what happened (never the URL). The subclasses below are the cases the gateway
    maps differently."""

class ConnectError(HttpError):
    """The upstream could not be connected to (refused, unreachable, DNS or TLS failure)."""

class ConnectTimeout(HttpError):
    """No connection within the client's `connect_timeout_s`."""

class RequestTimeout(HttpError):
    """The request's `total_timeout_s` passed (waiting for headers or reading the body)."""

class ReadTimeout(HttpError):
    """Nothing arrived within `first_byte_timeout_s` (before the headers) or `idle_timeout_s` (between
    body chunks)."""

@final
class Pending(Generic[_T]):
    """The awaitable of one upstream operation; await it once, from a task of a running asyncio loop.

    Cancelling the await (task cancelled, `asyncio.timeout`, the caller gone) aborts the Rust task doing
    the work: a request waiting for its headers closes its connection, and so does a cancelled body read
    (the response is then unusable). Dropping an un-awaited `Pending` does the same."""

    def __await__(self) -> Generator[Any, None, _T]: ...
    def __next__(self) -> Any: ...
    def send(self, value: object, /) -> Any: ...
    def throw(self, typ: Any, val: Any = None, tb: Any = None, /) -> Any: ...
    def close(self) -> None: ...

@final
class HttpClient:
    """A pooled upstream client: HTTP/1.1 keep-alive, and h2 where TLS ALPN offers it (rustls, bundled
    webpki roots); TCP_NODELAY; no redirects, no decompression, no proxy from the environment.

    Runs on the extension's tokio runtime, one thread per process started by the first client: build
    clients in the process that uses them (a Granian worker), not before a fork (`send` raises
    RuntimeError in a forked child). Thread-safe."""

    def __new__(cls, connect_timeout_s: float = 10.0, pool_idle_timeout_s: float = 90.0) -> HttpClient: ...
    def send(
        self,
        method: str,
        url: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        total_timeout_s: float,
        first_byte_timeout_s: float | None = None,
        idle_timeout_s: float | None = None,
    ) -> Pending[Response]:
        """Send a request; the awaitable resolves once the response headers are in (any status).

        Raises ValueError at once for a bad method, URL (http/https only) or header; the awaitable raises
        ConnectError, ConnectTimeout, ReadTimeout (no headers within `first_byte_timeout_s`),
        RequestTimeout (`total_timeout_s`, which also bounds every read of the body) or HttpError.
        `idle_timeout_s` bounds each later body read."""

@final
class Response:
    """A response whose headers are in and whose body is unread. Read it by `read_chunk()` or
    `read_all()`, one read at a time. A completely read body gives its connection back to the pool;
    `close()`, or dropping the response, before the end closes the connection."""

    @property
    def status(self) -> int: ...
    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), or None."""
    def headers(self) -> list[tuple[str, str]]:
        """Every header as (lowercase name, value), in the order received."""
    def read_chunk(self) -> Pending[bytes | None]:
        """The next part of the body, or None at the end. Never waits for more than the first bytes:
        what the connection already holds is joined into the chunk (at most ~64 KiB), so a paced stream
        arrives event by event and a burst in one piece. Raises HttpError (cut), ReadTimeout (idle) or
        RequestTimeout; RuntimeError if another read is in progress."""
    def read_all(self, limit: int) -> Pending[bytes]:
        """The rest of the body. Stops reading once it holds more than `limit` bytes and returns what it
        has: a result longer than `limit` means too large (the connection is then not reused)."""
    def close(self) -> None:
        """Release the response now; an unfinished body (or a read in progress) closes the connection."""
