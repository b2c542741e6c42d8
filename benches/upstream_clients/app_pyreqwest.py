"""Bare Granian RSGI pass-through: POST the body to the mock with pyreqwest (Rust reqwest)."""

import os

from pyreqwest.client import ClientBuilder

URL = os.environ["UPSTREAM"] + "/v1/chat/completions"
HDRS = {"content-type": "application/json"}
_client = None


async def app(scope, proto):
    global _client
    if _client is None:  # built inside the worker's running loop
        _client = ClientBuilder().max_connections(1024).tcp_nodelay(True).build()
    body = await proto()
    req = _client.post(URL).headers(HDRS).body_bytes(body)
    if b'"stream":true' not in body:
        resp = await req.build().send()
        ctype = resp.get_header("content-type") or "application/json"
        proto.response_bytes(resp.status, [("content-type", ctype)], bytes(await resp.bytes()))
        return
    async with req.build_streamed() as resp:
        ctype = resp.get_header("content-type") or "text/event-stream"
        out = proto.response_stream(resp.status, [("content-type", ctype)])
        reader = resp.body_reader
        while (chunk := await reader.read_chunk()) is not None:
            await out.send_bytes(bytes(chunk))
