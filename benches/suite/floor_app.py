"""python-floor: a bare Granian RSGI pass-through, the floor for any Python gateway.

Reads the body, forwards it to $UPSTREAM with the client the gateway uses, relays the answer (whole, or
chunk by chunk when the request asked for a stream). Nothing else: no auth, no parsing, no accounting.
"""

import os

from floor_client import build_client

URL = os.environ["UPSTREAM"] + "/v1/chat/completions"
HDRS = [("content-type", "application/json")]
_client = None


async def app(scope, proto):  # type: ignore[no-untyped-def]
    global _client
    if _client is None:
        _client = build_client()
    body = await proto()
    resp = await _client.send("POST", URL, HDRS, body, 60.0)
    if b'"stream":true' not in body:
        ctype = resp.header("content-type") or "application/json"
        proto.response_bytes(resp.status, [("content-type", ctype)], await resp.read_all(1 << 26))
        return
    out = proto.response_stream(resp.status, [("content-type", "text/event-stream")])
    while (chunk := await resp.read_chunk()) is not None:
        await out.send_bytes(chunk)
