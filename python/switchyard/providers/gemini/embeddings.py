"""OpenAI embeddings requests to Gemini: `models/{model}:embedContent` for one input,
`:batchEmbedContents` for several, and the answer back in OpenAI's shape.

Shapes: https://ai.google.dev/api/embeddings. Mapping:
  - `input` string → `{"content": {"parts": [{"text": ...}]}}`; a list of strings → one request per
    string under `requests` (each naming `models/{model}`), answered in the same order;
  - `dimensions` → `outputDimensionality`;
  - token-id inputs cannot be sent (Gemini takes text): a 400 naming the input;
  - `encoding_format: base64` is honoured here: each vector is packed as little-endian float32 and
    base64-encoded, as OpenAI returns it;
  - usage: `usageMetadata.promptTokenCount` when Gemini reports it, else the gateway's count of the
    input (made before dispatch; the record is marked `counted`).
`user` has no Gemini counterpart and is not sent.
"""

from __future__ import annotations

import base64
import struct
import urllib.parse
from typing import TYPE_CHECKING, Any

import orjson

from switchyard._core import Inspected
from switchyard.canonical import Usage
from switchyard.errors import GatewayError, InvalidRequest, UpstreamError
from switchyard.upstream import UpstreamRequest

if TYPE_CHECKING:
    from switchyard.pipeline.surfaces import EndpointCall
    from switchyard.providers.gemini import Gemini


class GeminiEmbeddings:
    """A Gemini provider as the embeddings endpoint sees it, for one request."""

    protocol = "gemini"
    stream_usage = False
    needs_input_count = True  # Gemini reports no tokens here: the gateway counts the input before dispatch

    def __init__(self, adapter: Gemini, call: EndpointCall) -> None:
        req = call.request
        self.adapter = adapter
        self.name = adapter.name
        self.transport = adapter.transport
        self.call = call
        self.texts = call.texts
        self.dims = req.get("dimensions")
        self.base64 = req.get("encoding_format") == "base64"
        self.model = ""

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        a = self.adapter
        if self.call.token_ids:
            raise InvalidRequest(
                f"provider {a.name!r} (Gemini) embeds text only; token-id inputs cannot be sent to it",
                param="input",
                code="unsupported_input",
            )
        self.model = model
        name = urllib.parse.quote(model, safe="")
        extra = {} if self.dims is None else {"outputDimensionality": self.dims}
        if len(self.texts) == 1:
            url = f"{a.base_url}/models/{name}:embedContent"
            out: dict[str, Any] = {"content": {"parts": [{"text": self.texts[0]}]}, **extra}
        else:
            url = f"{a.base_url}/models/{name}:batchEmbedContents"
            full = f"models/{model}"
            out = {"requests": [{"model": full, "content": {"parts": [{"text": t}]}, **extra} for t in self.texts]}
        req = UpstreamRequest(url, a.headers, orjson.dumps(out), a.timeouts, f"{a.name}/{model}", False)
        return req, False

    def error(self, status: int, body: bytes, retry_after: str | None, deployment: str) -> GatewayError:
        return self.adapter.error(status, body, retry_after, deployment)

    def whole(self, body: bytes) -> tuple[bytes, Usage | None]:
        try:
            answer = orjson.loads(body)
            if "embedding" in answer:
                vectors = [answer["embedding"]["values"]]
            else:
                vectors = [e["values"] for e in answer["embeddings"]]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise UpstreamError("Gemini answered 200 with a body that is not an embeddings response") from None
        if len(vectors) != len(self.texts):
            raise UpstreamError(f"Gemini returned {len(vectors)} embeddings for {len(self.texts)} inputs")
        meta = answer.get("usageMetadata")
        prompt = meta.get("promptTokenCount") if isinstance(meta, dict) else None
        if isinstance(prompt, int):
            usage = Usage.of(input=prompt)
        else:
            usage = Usage.of(input=self.call.counted or 0, counted=True)
        data = [{"object": "embedding", "index": i, "embedding": self._encode(v)} for i, v in enumerate(vectors)]
        n = usage.prompt_tokens
        out = {"object": "list", "data": data, "model": self.model, "usage": {"prompt_tokens": n, "total_tokens": n}}
        return orjson.dumps(out), usage

    def _encode(self, values: list[float]) -> list[float] | str:
        if not self.base64:
            return values
        return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()

    def stream_tap(self, strip_usage: bool, collect_text: bool) -> Any:
        raise InvalidRequest("embeddings do not stream", param="stream")
