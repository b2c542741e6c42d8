"""What the dialects' stream translators share: OpenAI chat chunks in (SSE), the caller's events out."""

from __future__ import annotations

from switchyard._core import SseParser
from switchyard.canonical import JsonObject, json_object


class ChunkTranslator:
    """Feeds each OpenAI chunk to `_chunk` and the end of the stream (`[DONE]`) to `_end`; a subclass
    appends its events to `out` and sets `done` once its terminal event is out (nothing follows it)."""

    def __init__(self) -> None:
        self._sse = SseParser()
        self.done = False

    def feed(self, chunk: bytes) -> bytes:
        """The caller's events for the next upstream bytes (b"" while no chunk is complete)."""
        out: list[bytes] = []
        for ev in self._sse.feed(chunk):
            if self.done:
                break
            if ev.data.startswith("[DONE]"):
                self._end(out)
                continue
            data = json_object(ev.data)
            if data is not None:
                self._chunk(data, out)
        return b"".join(out)

    def finish(self) -> bytes:
        """End of the upstream bytes: nothing is held back (a stream without `[DONE]` is not done)."""
        self._sse.finish()
        return b""

    def _chunk(self, data: JsonObject, out: list[bytes]) -> None:
        raise NotImplementedError

    def _end(self, out: list[bytes]) -> None:
        raise NotImplementedError
