"""Bare Granian RSGI pass-through: POST the body to the mock with aiohttp."""

import os

import aiohttp

URL = os.environ["UPSTREAM"] + "/v1/chat/completions"
HDRS = {"content-type": "application/json"}
_session = None


async def app(scope, proto):
    global _session
    if _session is None:  # built inside the worker's running loop
        _session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1024, limit_per_host=1024))
    body = await proto()
    async with _session.post(URL, data=body, headers=HDRS) as resp:
        ctype = resp.headers.get("content-type", "application/json")
        if not ctype.startswith("text/event-stream"):
            proto.response_bytes(resp.status, [("content-type", ctype)], await resp.read())
            return
        out = proto.response_stream(resp.status, [("content-type", ctype)])
        async for chunk in resp.content.iter_any():
            await out.send_bytes(chunk)
