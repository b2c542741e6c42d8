"""python-floor: a bare Granian RSGI pass-through, the floor for any Python gateway.

Reads the body, forwards it to $UPSTREAM with the client the gateway uses, relays the answer (whole, or
chunk by chunk when the request asked for a stream). Nothing else: no auth, no parsing, no accounting.
"""

import os

from floor_client import build_client

URL = os.environ["UPSTREAM"] + "/v1/chat/completions"
HDRS = {"content-type": "application/json"}
_client = None


async def app(scope, proto):  # type: ignore[no-untyped-def]
    global _client
    if _client is None:
        _client = build_client()
    body = await proto()
    req = _client.post(URL).headers(HDRS).body_bytes(body)
    if b'"stream":true' not in body:
        resp = await req.build().send()
        ctype = resp.get_header("content-type") or "application/json"
        proto.response_bytes(resp.status, [("content-type", ctype)], bytes(await resp.bytes()))
        return
    async with req.streamed_read_buffer_limit(0).build_streamed() as resp:
        out = proto.response_stream(resp.status, [("content-type", "text/event-stream")])
        reader = resp.body_reader
        while (chunk := await reader.read_chunk()) is not None:
            await out.send_bytes(bytes(chunk))
