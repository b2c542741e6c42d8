"""`_core.HttpClient` (rust/http/) against the real mock provider on 127.0.0.1, and small asyncio
servers where a test must script the socket (connection counting, a full accept queue).

The mock counts a response as `cancelled` when the client goes away before it finished, which is
what these tests hold the client to: a cancelled await, a closed or dropped response, a timeout all
close the upstream connection at once.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import re
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvloop
from mock_server import MockProvider
from switchyard._core import (
    ConnectError,
    ConnectTimeout,
    HttpClient,
    HttpError,
    ReadTimeout,
    RequestTimeout,
    Response,
)

JSON = [("content-type", "application/json")]
WORD = re.compile(rb'"content":" ?word')  # a content delta of the mock ("word0", " word1", ...)


@pytest.fixture(scope="module")
def client() -> HttpClient:
    return HttpClient(connect_timeout_s=1.0)


def chat(**mock: Any) -> bytes:
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    if mock.pop("stream", False):
        body["stream"] = True
    if mock:
        body["mock"] = mock
    return json.dumps(body).encode()


def url(mock: MockProvider) -> str:
    return mock.url + "/v1/chat/completions"


async def until(predicate: Callable[[], bool], within: float = 2.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return predicate()


async def read_stream(resp: Response) -> list[tuple[float, bytes]]:
    t0 = time.monotonic()
    out = []
    while (chunk := await resp.read_chunk()) is not None:
        out.append((time.monotonic() - t0, chunk))
    return out


async def test_non_streamed_answer(client: HttpClient, mock: MockProvider) -> None:
    mock.clear()
    resp = await client.send("POST", url(mock), [*JSON, ("Authorization", "Bearer sk-x")], chat(), 10.0)
    assert resp.status == 200
    assert resp.header("Content-Type") == "application/json"
    assert resp.header("x-missing") is None
    assert ("content-type", "application/json") in resp.headers()
    answer = json.loads(await resp.read_all(1 << 20))
    assert answer["object"] == "chat.completion"
    assert await resp.read_all(1 << 20) == b""  # already at the end
    assert await resp.read_chunk() is None
    seen = mock.requests()[-1]
    assert seen["headers"]["authorization"] == "Bearer sk-x"
    assert json.loads(seen["body"]) == json.loads(chat())


async def test_error_status_is_an_answer_not_an_exception(client: HttpClient, mock: MockProvider) -> None:
    resp = await client.send("POST", url(mock), JSON, chat(status=429, retry_after=7), 10.0)
    assert resp.status == 429
    assert resp.header("retry-after") == "7"
    assert json.loads(await resp.read_all(1 << 20))["error"]["code"] == "rate_limit_exceeded"


async def test_paced_stream_arrives_event_by_event(client: HttpClient, mock: MockProvider) -> None:
    resp = await client.send("POST", url(mock), JSON, chat(stream=True, chunks=3, interval_ms=150), 10.0)
    assert resp.header("content-type") == "text/event-stream"
    got = await read_stream(resp)
    text = b"".join(c for _, c in got)
    assert text.endswith(b"data: [DONE]\n\n")
    contents = [
        json.loads(e[6:])["choices"][0]["delta"].get("content")
        for e in text.decode().split("\n\n")
        if e.startswith("data: {")
    ]
    assert "".join(c for c in contents if c) == "word0 word1 word2"
    # each content event is its own delivery, ~150 ms after the one before
    deliveries = [t for t, c in got if WORD.search(c)]
    assert len(deliveries) == 3, got
    assert all(b - a > 0.05 for a, b in itertools.pairwise(deliveries)), deliveries


async def test_cancel_while_waiting_for_headers_closes_the_connection(client: HttpClient, mock: MockProvider) -> None:
    mock.clear()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await client.send("POST", url(mock), JSON, chat(latency_ms=3000), 10.0)
    assert await until(lambda: mock.stats()["cancelled"] == 1, 3.0), mock.stats()
    assert mock.stats()["in_flight"] == 0


async def test_cancel_a_task_waiting_for_headers(client: HttpClient, mock: MockProvider) -> None:
    mock.clear()
    task = asyncio.ensure_future(client.send("POST", url(mock), JSON, chat(hang=True), 10.0))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await until(lambda: mock.stats()["cancelled"] == 1, 3.0), mock.stats()


async def test_cancel_mid_body_closes_the_connection(client: HttpClient, mock: MockProvider) -> None:
    mock.clear()
    resp = await client.send("POST", url(mock), JSON, chat(stream=True, chunks=5, interval_ms=1000), 10.0)
    got = b""
    while not WORD.search(got):  # the role delta and word0 come at once, then one word a second
        got += await resp.read_chunk() or b""
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await resp.read_chunk()
    assert await until(lambda: mock.stats()["cancelled"] == 1, 3.0), mock.stats()
    with pytest.raises(HttpError, match="cancelled"):
        await resp.read_chunk()


@pytest.mark.parametrize("how", ["close", "drop"])
async def test_closing_or_dropping_a_response_mid_body_closes_the_connection(
    how: str, client: HttpClient, mock: MockProvider
) -> None:
    mock.clear()
    resp = await client.send("POST", url(mock), JSON, chat(stream=True, chunks=5, interval_ms=500), 10.0)
    assert await resp.read_chunk()
    if how == "close":
        resp.close()
        with pytest.raises(HttpError, match="closed"):
            await resp.read_chunk()
    else:
        del resp
        gc.collect()
    assert await until(lambda: mock.stats()["cancelled"] == 1, 3.0), mock.stats()


async def test_dropping_an_unawaited_send_cancels_it(client: HttpClient, mock: MockProvider) -> None:
    mock.clear()
    pending = client.send("POST", url(mock), JSON, chat(hang=True), 10.0)
    await until(lambda: mock.stats()["in_flight"] == 1, 3.0)
    del pending
    assert await until(lambda: mock.stats()["cancelled"] == 1, 3.0), mock.stats()


async def test_connection_refused_is_a_connect_error(client: HttpClient) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ConnectError) as e:
        await client.send("GET", f"http://127.0.0.1:{port}/", [], b"", 5.0)
    assert "127.0.0.1" not in str(e.value)


async def test_connect_timeout() -> None:
    # A listener whose accept queue is full (backlog 0, one connection waiting, never accepted): the
    # kernel drops further SYNs, so a connect hangs until the client's connect timeout.
    with socket.socket() as lsn, socket.socket() as filler:
        lsn.bind(("127.0.0.1", 0))
        lsn.listen(0)
        filler.connect(lsn.getsockname())
        c = HttpClient(connect_timeout_s=0.3)
        t0 = time.monotonic()
        with pytest.raises((ConnectTimeout, RequestTimeout)) as e:
            await c.send("GET", f"http://127.0.0.1:{lsn.getsockname()[1]}/", [], b"", 2.0)
        assert e.type is ConnectTimeout
        assert 0.25 < time.monotonic() - t0 < 3.0


async def test_tls_is_spoken_on_https(client: HttpClient, mock: MockProvider) -> None:
    # the mock speaks plain HTTP: the TLS handshake fails, so the request is never sent in clear
    with pytest.raises(ConnectError):
        await client.send("POST", url(mock).replace("http://", "https://"), JSON, chat(), 5.0)


async def test_first_byte_timeout(client: HttpClient, mock: MockProvider) -> None:
    mock.clear()
    with pytest.raises(ReadTimeout):
        await client.send("POST", url(mock), JSON, chat(latency_ms=2000), 10.0, first_byte_timeout_s=0.2)
    assert await until(lambda: mock.stats()["cancelled"] == 1, 3.0), mock.stats()


async def test_idle_timeout_between_chunks(client: HttpClient, mock: MockProvider) -> None:
    mock.clear()
    resp = await client.send(
        "POST", url(mock), JSON, chat(stream=True, chunks=3, interval_ms=2000), 10.0, idle_timeout_s=0.3
    )
    first = await resp.read_chunk()
    assert first
    with pytest.raises(ReadTimeout):
        while True:  # the first content event comes 2 s after the role delta
            assert await resp.read_chunk() is not None
    assert await until(lambda: mock.stats()["cancelled"] == 1, 3.0), mock.stats()
    with pytest.raises(ReadTimeout):  # the failure sticks
        await resp.read_chunk()


async def test_total_timeout_covers_headers_and_body(client: HttpClient, mock: MockProvider) -> None:
    with pytest.raises(RequestTimeout):
        await client.send("POST", url(mock), JSON, chat(latency_ms=2000), 0.3)
    resp = await client.send("POST", url(mock), JSON, chat(stream=True, chunks=3, interval_ms=400), 0.5)
    with pytest.raises(RequestTimeout):
        await read_stream(resp)


async def test_huge_timeouts_mean_no_timeout(client: HttpClient, mock: MockProvider) -> None:
    resp = await client.send("POST", url(mock), JSON, chat(stream=True), 1e19, 1e19, 1e19)
    assert (await read_stream(resp))[-1][1].endswith(b"data: [DONE]\n\n")


async def test_cut_stream_is_an_error_after_the_data(client: HttpClient, mock: MockProvider) -> None:
    resp = await client.send("POST", url(mock), JSON, chat(stream=True, chunks=6, drop_after=2), 10.0)
    got = b""
    with pytest.raises(HttpError) as e:
        while (chunk := await resp.read_chunk()) is not None:
            got += chunk
    assert type(e.value) is HttpError
    assert len(WORD.findall(got)) == 2


async def test_large_bodies_both_ways(client: HttpClient, mock: MockProvider) -> None:
    mock.clear()
    big = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * 4_000_000}]}).encode()
    resp = await client.send("POST", url(mock), JSON, big, 30.0)
    answer = json.loads(await resp.read_all(1 << 20))
    assert answer["usage"]["prompt_tokens"] == -(-len(big) // 4)  # the mock saw every byte
    text = "y" * 3_000_000
    resp = await client.send("POST", url(mock), JSON, chat(content=text, chunks=1), 30.0)
    body = await resp.read_all(64 << 20)
    assert json.loads(body)["choices"][0]["message"]["content"] == text
    # a limit below the size: reading stops past the limit, and the caller sees it is too large
    resp = await client.send("POST", url(mock), JSON, chat(content=text, chunks=1), 30.0)
    part = await resp.read_all(100_000)
    assert 100_000 < len(part) < len(body)
    resp.close()


async def test_many_concurrent_requests(client: HttpClient, mock: MockProvider) -> None:
    async def one(i: int) -> int:
        resp = await client.send("POST", url(mock), JSON, chat(stream=i % 2 == 0, latency_ms=i % 5), 10.0)
        body = await resp.read_all(1 << 20)
        return resp.status if body else 0

    statuses = await asyncio.gather(*(one(i) for i in range(500)))
    assert statuses == [200] * 500


async def test_connections_are_pooled_and_kept_alive(client: HttpClient) -> None:
    conns = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal conns
        conns += 1
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        for _ in range(10):
            resp = await client.send("GET", f"http://127.0.0.1:{port}/", [], b"", 5.0)
            assert await resp.read_all(10) == b"ok"
            await asyncio.sleep(0.01)  # the connection goes back to the pool when its task next runs
        assert conns == 1
    finally:
        server.close()


def test_bad_requests_raise_value_error_at_once(client: HttpClient) -> None:
    for args in [
        ("GET", "ftp://127.0.0.1/", []),
        ("GET", "http://127.0.0.1/", [("bad name", "v")]),
        ("GET", "http://127.0.0.1/", [("x", "a\nb")]),
        ("NOT A METHOD", "http://127.0.0.1/", []),
    ]:
        with pytest.raises(ValueError):
            client.send(*args, b"", 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.send("GET", "http://127.0.0.1/", [], b"", -1.0)


async def test_a_pending_is_awaited_once(client: HttpClient, mock: MockProvider) -> None:
    pending = client.send("POST", url(mock), JSON, chat(), 10.0)
    resp = await pending
    await resp.read_all(1 << 20)
    with pytest.raises(RuntimeError, match="already awaited"):
        await pending


def test_works_under_uvloop_and_on_several_loops(mock: MockProvider) -> None:
    client = HttpClient()

    async def main() -> list[bytes]:
        async def one() -> bytes:
            resp = await client.send("POST", url(mock), JSON, chat(stream=True), 10.0)
            return b"".join([c for _, c in await read_stream(resp)])

        return await asyncio.gather(*(one() for _ in range(50)))

    runners: list[Callable[[Awaitable[list[bytes]]], list[bytes]]] = [uvloop.run, asyncio.run, uvloop.run]
    for run in runners:
        assert all(s.endswith(b"data: [DONE]\n\n") for s in run(main()))


def test_a_client_built_before_fork_refuses_to_send_in_the_child(mock: MockProvider) -> None:
    parent = HttpClient()
    pid = os.fork()
    if pid == 0:  # child: report through the exit code, never return into pytest
        code = 1
        try:
            try:
                parent.send("GET", mock.url + "/health", [], b"", 5.0)
            except RuntimeError:
                code = 2

            async def fresh() -> int:
                resp = await HttpClient().send("GET", mock.url + "/health", [], b"", 5.0)
                return resp.status

            if code == 2 and asyncio.run(fresh()) == 200:
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
