"""Bare Granian RSGI pass-through: POST the body to the mock with httpx (default transport).

HTTPX_LIMITS=default keeps httpx's default pool (100 connections, 20 kept alive); otherwise the pool
is raised to 1024/1024 like the other clients.
"""

import os

import httpx

URL = os.environ["UPSTREAM"] + "/v1/chat/completions"
HDRS = {"content-type": "application/json"}
_client = None


async def app(scope, proto):
    global _client
    if _client is None:  # built inside the worker's running loop
        default = os.environ.get("HTTPX_LIMITS") == "default"
        limits = httpx.Limits(max_connections=1024, max_keepalive_connections=1024)
        _client = httpx.AsyncClient() if default else httpx.AsyncClient(limits=limits)
    body = await proto()
    async with _client.stream("POST", URL, content=body, headers=HDRS) as resp:
        ctype = resp.headers.get("content-type", "application/json")
        if not ctype.startswith("text/event-stream"):
            proto.response_bytes(resp.status_code, [("content-type", ctype)], await resp.aread())
            return
        out = proto.response_stream(resp.status_code, [("content-type", ctype)])
        async for chunk in resp.aiter_raw():
            await out.send_bytes(chunk)
