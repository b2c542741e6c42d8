"""Count: token counts the gateway makes itself, for admission estimates and for streams without usage.

Counting is Rust (`_core.count_chat`, `_core.count_tokens_for_model`); inputs over `OFF_LOOP_BYTES`
are counted in a worker thread (the Rust side releases the GIL) so a huge prompt never stalls the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from switchyard._core import count_chat, count_tokens_for_model
from switchyard.pipeline.account import Usage

OFF_LOOP_BYTES = 32 * 1024


async def run_counter(fn: Callable[..., int], arg: bytes | str, *more: str) -> int:
    """`fn(arg, *more)`: here for small inputs, in a worker thread for large ones."""
    if len(arg) < OFF_LOOP_BYTES:
        return fn(arg, *more)
    return await asyncio.get_running_loop().run_in_executor(None, fn, arg, *more)


async def prompt_tokens(body: bytes) -> int:
    """Prompt tokens of a chat body as OpenAI bills them (the body's model picks the encoding)."""
    try:
        return await run_counter(count_chat, body)
    except ValueError:  # nested past the counter's depth limit: the crude bytes/4 rule
        return len(body) // 4


async def count_usage(prompt: int, completion: str, model: str) -> Usage:
    """Usage for an answer whose upstream reported none: the `prompt` tokens the gateway counted from the
    request, the completion from the streamed text in `model`'s encoding (exact for OpenAI models, an
    estimate else)."""
    out = await run_counter(count_tokens_for_model, completion, model)
    return Usage.of(input=prompt, output=out, counted=True)
