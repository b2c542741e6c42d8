"""Streams over real HTTP: relayed as they arrive, cancelled upstream when the caller leaves, ended with
an error event when the upstream cuts them, and drained (not cut) on SIGTERM."""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from typing import Any

import httpx
import openai
from conftest import CLIENT_KEY, Gateway, mock_config
from mock_server import MockProvider
from openapi_schema import validate

AUTH = {"authorization": f"Bearer {CLIENT_KEY}"}


def stream_body(**mock: Any) -> dict[str, Any]:
    return {
        "model": "gpt-mock",
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
        "mock": mock,
    }


def events(text: str) -> list[str]:
    return [e.removeprefix("data: ") for e in text.strip().split("\n\n") if e.startswith("data: ")]


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_paced_stream_is_not_buffered(gateway: Gateway) -> None:
    c = openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)
    arrivals = []
    start = time.monotonic()
    for chunk in c.chat.completions.create(
        model="gpt-mock",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        extra_body={"mock": {"chunks": 5, "interval_ms": 300}},
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic() - start)
    assert len(arrivals) == 5
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert all(g > 0.2 for g in gaps), f"chunks arrived bunched together: {arrivals}"
    assert arrivals[0] < arrivals[-1] - 1.0


def test_caller_disconnect_cancels_the_upstream_stream(gateway: Gateway, mock: MockProvider) -> None:
    mock.clear()
    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "POST",
            gateway.base_url + "/chat/completions",
            json=stream_body(chunks=100, interval_ms=100),
            headers=AUTH,
        ) as r,
    ):
        assert r.status_code == 200
        it = r.iter_raw()
        next(it)
        next(it)
    # leaving the block closes the connection mid-stream
    assert wait_for(lambda: mock.stats()["cancelled"] >= 1), mock.stats()
    assert mock.stats()["streams_completed"] == 0


def test_callers_leaving_fast_streams_are_499s_not_internal_errors(gateway: Gateway) -> None:
    for _ in range(30):  # fast chunks: the gateway is often mid-write when the caller goes
        with (
            httpx.Client(timeout=10) as http,
            http.stream(
                "POST",
                gateway.base_url + "/chat/completions",
                json=stream_body(chunks=2000, interval_ms=0),
                headers=AUTH,
            ) as r,
        ):
            next(r.iter_raw())
    time.sleep(0.5)
    assert "internal error" not in gateway.read_log()
    recent = gateway.admin_requests()["recent"][-30:]
    # Streams the socket buffers took whole before the caller left are 200s; the rest are 499s.
    assert all((x["status"], x["error"]) in ((200, None), (499, "client_closed")) for x in recent), recent[-3:]


def test_caller_disconnect_cancels_a_pending_non_streamed_request(gateway: Gateway, mock: MockProvider) -> None:
    mock.clear()
    body = {
        "model": "gpt-mock",
        "messages": [{"role": "user", "content": "hi"}],
        "mock": {"latency_ms": 1500},
    }
    with contextlib.suppress(httpx.ReadTimeout):
        httpx.post(gateway.base_url + "/chat/completions", json=body, headers=AUTH, timeout=0.5)
    assert wait_for(lambda: mock.stats()["cancelled"] >= 1, timeout=3), mock.stats()


def test_stream_cut_by_the_upstream_ends_with_an_error_event(gateway: Gateway) -> None:
    r = httpx.post(
        gateway.base_url + "/chat/completions",
        json=stream_body(chunks=10, drop_after=3),
        headers=AUTH,
        timeout=10,
    )
    assert r.status_code == 200
    got = events(r.text)
    assert "[DONE]" not in got
    last = json.loads(got[-1])
    validate("ErrorResponse", last)
    assert "closed the stream" in last["error"]["message"] or last["error"]["code"].startswith("upstream")
    contents = [json.loads(e)["choices"][0]["delta"].get("content") for e in got[:-1]]
    assert sum(1 for c in contents if c) == 3


def test_stream_idle_timeout_ends_with_an_error_event(gateway: Gateway) -> None:
    r = httpx.post(
        gateway.base_url + "/chat/completions",
        json=stream_body(chunks=3, interval_ms=3500),
        headers=AUTH,
        timeout=15,
    )
    last = json.loads(events(r.text)[-1])
    assert last["error"]["code"] == "upstream_timeout"


def test_sigterm_drains_an_in_flight_stream(mock: MockProvider, start_gateway: Any) -> None:
    gw: Gateway = start_gateway(mock_config(mock.url))
    received: list[str] = []
    started = threading.Event()

    def consume() -> None:
        with httpx.stream(
            "POST",
            gw.base_url + "/chat/completions",
            json=stream_body(chunks=8, interval_ms=250),
            headers=AUTH,
            timeout=20,
        ) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    received.append(line[6:])
                    started.set()

    t = threading.Thread(target=consume)
    t.start()
    assert started.wait(10)
    code = gw.stop(timeout=20)  # SIGTERM while the stream has ~2 s to go
    t.join(20)
    assert received[-1] == "[DONE]", received[-3:]
    assert (
        sum(
            1 for e in received[:-1] if json.loads(e)["choices"] and json.loads(e)["choices"][0]["delta"].get("content")
        )
        == 8
    )
    assert code == 0
