"""Type stub for the Rust extension `switchyard._core` (the contract; checked by mypy.stubtest in CI)."""

# --- sse (rust/sse.rs) ---

# --- inspect (rust/inspect.rs) ---
# Request bodies are read without building Python objects for them. Semantics in full: the module docs of
# rust/inspect/request.rs and rust/inspect/rewrite.rs; the executable spec: tests/core/inspect_reference.py.

from typing import Final, Literal, final

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
