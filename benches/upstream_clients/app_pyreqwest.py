"""Bare Granian RSGI pass-through: POST the body to the mock with pyreqwest (Rust reqwest)."""

import os

from pyreqwest.client import ClientBuilder

URL = os.environ["UPSTREAM"] + "/v1/chat/completions"
HDRS = {"content-type": "application/json"}
# PYREQWEST_READ_AHEAD=0: hand over each chunk as it arrives, as the gateway did for streams
# (pyreqwest's default reads up to 64 KiB ahead before returning, bunching a paced stream).
READ_AHEAD = os.environ.get("PYREQWEST_READ_AHEAD")
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
    if READ_AHEAD is not None:
        req = req.streamed_read_buffer_limit(int(READ_AHEAD))
    async with req.build_streamed() as resp:
        ctype = resp.get_header("content-type") or "text/event-stream"
        out = proto.response_stream(resp.status, [("content-type", ctype)])
        reader = resp.body_reader
        while (chunk := await reader.read_chunk()) is not None:
            await out.send_bytes(bytes(chunk))
