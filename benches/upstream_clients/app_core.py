"""Bare Granian RSGI pass-through: POST the body to the mock with switchyard._core.HttpClient (rust/http/)."""

import os

from switchyard._core import HttpClient

URL = os.environ["UPSTREAM"] + "/v1/chat/completions"
HDRS = [("content-type", "application/json")]
_client = None


async def app(scope, proto):
    global _client
    if _client is None:  # built inside the worker (the runtime thread starts with the first client)
        _client = HttpClient()
    body = await proto()
    resp = await _client.send("POST", URL, HDRS, body, 60.0)
    if b'"stream":true' not in body:
        ctype = resp.header("content-type") or "application/json"
        proto.response_bytes(resp.status, [("content-type", ctype)], await resp.read_all(1 << 26))
        return
    ctype = resp.header("content-type") or "text/event-stream"
    out = proto.response_stream(resp.status, [("content-type", ctype)])
    while (chunk := await resp.read_chunk()) is not None:
        await out.send_bytes(chunk)
