"""The mock provider (benches/mock_provider) against its real binary: shapes, knobs, recording."""

from __future__ import annotations

import http.client
import itertools
import json
import math
import pathlib
import re
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from mock_server import MockProvider, knob_prefix

CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def mock() -> Iterator[MockProvider]:
    with MockProvider() as m:
        yield m


@pytest.fixture(autouse=True)
def _clean(mock: MockProvider) -> None:
    mock.clear()


def post(mock: MockProvider, body: dict[str, Any] | bytes, path: str = CHAT, **headers: str):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
    conn.request("POST", path, raw, {"Content-Type": "application/json", **headers})
    return conn.getresponse()


def chat(m: MockProvider, path: str = CHAT, /, **fields: Any) -> tuple[int, Any, Any]:
    resp = post(m, {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], **fields}, path)
    return resp.status, resp.headers, json.loads(resp.read())


def sse(resp: http.client.HTTPResponse) -> Iterator[tuple[float, str]]:
    """(arrival time, data) per SSE event, read incrementally."""
    buf = b""
    while True:
        chunk = resp.read1(65536)
        if not chunk:
            break
        buf += chunk
        while b"\n\n" in buf:
            event, buf = buf.split(b"\n\n", 1)
            assert event.startswith(b"data: "), event
            yield time.monotonic(), event[6:].decode()
    assert buf == b"", f"trailing bytes: {buf!r}"


def raw_request(mock: MockProvider, body: dict[str, Any], path: str = CHAT) -> socket.socket:
    raw = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", mock.port), timeout=5)
    s.sendall(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(raw)}\r\n\r\n".encode()
        + raw
    )
    return s


def read_to_eof(s: socket.socket) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


# -- shapes ----------------------------------------------------------------------------------


def test_non_stream_shape_is_openai(mock: MockProvider) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}]}
    raw = json.dumps(body).encode()
    resp = post(mock, raw)
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/json"
    out = json.loads(resp.read())
    assert re.fullmatch(r"chatcmpl-mock-\d+", out["id"])
    assert isinstance(out["created"], int) and abs(out["created"] - time.time()) < 5
    p = math.ceil(len(raw) / 4)
    assert out == {
        "id": out["id"],
        "object": "chat.completion",
        "created": out["created"],
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "word0 word1 word2 word3 word4 word5 word6 word7",
                    "refusal": None,
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": p,
            "completion_tokens": 8,
            "total_tokens": p + 8,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
        "system_fingerprint": "fp_mock",
    }


def test_ids_differ(mock: MockProvider) -> None:
    ids = {chat(mock)[2]["id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize("include_usage", [True, False])
def test_stream_shape(mock: MockProvider, include_usage: bool) -> None:
    req: dict[str, Any] = {"model": "m-1", "messages": [], "stream": True, "mock": {"chunks": 3}}
    if include_usage:
        req["stream_options"] = {"include_usage": True}
    raw = json.dumps(req).encode()
    resp = post(mock, raw)
    assert resp.status == 200
    assert resp.headers["content-type"] == "text/event-stream"
    assert resp.headers["transfer-encoding"] == "chunked"
    events = [data for _, data in sse(resp)]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert len(chunks) == 1 + 3 + 1 + (1 if include_usage else 0)
    for c in chunks:
        assert c["object"] == "chat.completion.chunk"
        assert c["model"] == "m-1"
        assert c["id"] == chunks[0]["id"]
        assert c["system_fingerprint"] == "fp_mock"
    body_chunks = chunks[:5]
    for c in body_chunks:
        assert len(c["choices"]) == 1 and c["choices"][0]["index"] == 0
        assert c["choices"][0]["logprobs"] is None
        if include_usage:
            assert "usage" in c and c["usage"] is None
        else:
            assert "usage" not in c
    deltas = [c["choices"][0]["delta"] for c in body_chunks]
    finishes = [c["choices"][0]["finish_reason"] for c in body_chunks]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "word0"},
        {"content": " word1"},
        {"content": " word2"},
        {},
    ]
    assert finishes == [None, None, None, None, "stop"]
    if include_usage:
        last = chunks[-1]
        p = math.ceil(len(raw) / 4)
        assert last["choices"] == []
        assert last["usage"] == {
            "prompt_tokens": p,
            "completion_tokens": 3,
            "total_tokens": p + 3,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        }
    assert mock.stats()["streams_completed"] == 1


def test_content_knob_split_into_chunks(mock: MockProvider) -> None:
    text = "The quick brown fox jumps"
    status, _, out = chat(mock, mock={"content": text, "chunks": 4})
    assert status == 200
    assert out["choices"][0]["message"]["content"] == text
    assert out["usage"]["completion_tokens"] == 4
    resp = post(mock, {"model": "m", "stream": True, "mock": {"content": text, "chunks": 4}})
    deltas = [json.loads(d)["choices"][0]["delta"].get("content") for _, d in sse(resp) if d != "[DONE]"]
    pieces = deltas[1:-1]
    assert len(pieces) == 4 and "".join(pieces) == text


def test_models_and_health(mock: MockProvider) -> None:
    with urllib.request.urlopen(mock.url + "/v1/models") as r:
        models = json.loads(r.read())
    assert models["object"] == "list" and models["data"][0]["object"] == "model"
    with urllib.request.urlopen(mock.url + "/health") as r:
        assert json.loads(r.read()) == {"status": "ok"}


def test_keep_alive_reuses_connection(mock: MockProvider) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    ports = set()
    for _ in range(3):
        conn.request("POST", CHAT, json.dumps({"model": "m"}), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200
        resp.read()
        ports.add(conn.sock.getsockname()[1])
    conn.close()
    assert len(ports) == 1


def test_bad_requests_are_openai_errors(mock: MockProvider) -> None:
    for body, path, status in [
        (b"{not json", CHAT, 400),
        (b'{"messages":[]}', CHAT, 400),
        (b'{"model":"m","mock":{"no_such_knob":1}}', CHAT, 400),
        (b'{"model":"m"}', "/mock/bogus=1/v1/chat/completions", 400),
        (b'{"model":"m"}', "/v1/nothing", 404),
    ]:
        resp = post(mock, body, path)
        assert resp.status == status, (body, path)
        err = json.loads(resp.read())["error"]
        assert set(err) == {"message", "type", "param", "code"}
        assert err["type"] == "invalid_request_error"


# -- knobs -----------------------------------------------------------------------------------


def test_paced_stream_events_arrive_spaced(mock: MockProvider) -> None:
    t0 = time.monotonic()
    resp = post(mock, {"model": "m", "stream": True, "mock": {"ttft_ms": 300, "interval_ms": 100, "chunks": 4}})
    t_headers = time.monotonic() - t0
    assert resp.status == 200
    times = [t - t0 for t, _ in sse(resp)]
    assert t_headers < 0.2, "ttft must not delay the headers"
    assert len(times) == 1 + 4 + 1 + 1
    assert 0.29 <= times[0] < 0.6, times
    content = times[1:5]
    gaps = [b - a for a, b in itertools.pairwise(content)]
    assert all(0.08 <= g < 0.3 for g in gaps), gaps
    assert times[-1] >= 0.59


def test_stamp_knob_carries_each_chunks_send_time(mock: MockProvider) -> None:
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": True}}
    resp = post(mock, {**body, "mock": {"chunks": 3, "interval_ms": 50, "stamp": True}})
    sent, arrived = [], []
    for _, data in sse(resp):
        if data != "[DONE]":
            sent.append(int(json.loads(data)["mock_sent_us"]) / 1e6)
            arrived.append(time.time())
    assert len(sent) == 1 + 3 + 1 + 1  # role, content, finish, usage: every chunk stamped
    assert all(0 <= a - s < 0.05 for s, a in zip(sent, arrived, strict=True)), (sent, arrived)
    assert 0.04 <= sent[2] - sent[1] < 0.2  # stamped at send time, not when the stream was planned
    _, _, plain = chat(mock, stream=False, mock={"stamp": True})
    assert "mock_sent_us" not in plain  # streams only


def test_latency_delays_headers(mock: MockProvider) -> None:
    t0 = time.monotonic()
    status, _, _ = chat(mock, mock={"latency_ms": 300})
    assert status == 200 and time.monotonic() - t0 >= 0.29
    t0 = time.monotonic()
    resp = post(mock, {"model": "m", "stream": True, "mock": {"latency_ms": 300}})
    assert time.monotonic() - t0 >= 0.29
    resp.read()


@pytest.mark.parametrize(
    ("status", "etype", "code"),
    [
        (429, "requests", "rate_limit_exceeded"),
        (503, "server_error", None),
        (400, "invalid_request_error", None),
    ],
)
def test_status_and_retry_after(mock: MockProvider, status: int, etype: str, code: str | None) -> None:
    got, headers, out = chat(mock, mock={"status": status, "retry_after": 7})
    assert got == status
    assert headers["retry-after"] == "7"
    assert headers["content-type"] == "application/json"
    assert out == {"error": {"message": "mock error", "type": etype, "param": None, "code": code}}
    # streams fail before the headers, like a real provider
    got, headers, _ = chat(mock, stream=True, mock={"status": status})
    assert got == status and headers["retry-after"] is None


def test_error_code_knob(mock: MockProvider) -> None:
    got, _, out = chat(mock, mock={"status": 400, "error_code": "context_length_exceeded"})
    assert got == 400 and out["error"]["code"] == "context_length_exceeded"


def test_fail_pct_fails_that_share_evenly(mock: MockProvider) -> None:
    statuses = [chat(mock, mock={"fail_pct": 20})[0] for _ in range(50)]
    assert statuses.count(500) == 10
    assert all(statuses[i : i + 5].count(500) == 1 for i in range(0, 50, 5))  # one in every five


def test_drop_after_closes_mid_stream(mock: MockProvider) -> None:
    s = raw_request(mock, {"model": "m", "stream": True, "mock": {"drop_after": 2, "chunks": 5}})
    data = read_to_eof(s)  # returns only because the server closed the socket
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"200 OK" in head and b"transfer-encoding: chunked" in head.lower()
    assert b'"content":"word0"' in body and b'"content":" word1"' in body
    assert b"word2" not in body
    assert b"[DONE]" not in body and b'"finish_reason":"stop"' not in body
    assert not body.endswith(b"0\r\n\r\n"), "must not end the chunked body cleanly"
    # and a real client sees a broken body
    resp = post(mock, {"model": "m", "stream": True, "mock": {"drop_after": 1}})
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    s = mock.wait_stats(streams_started=2, in_flight=0)
    assert (s["streams_started"], s["streams_completed"], s["cancelled"]) == (2, 0, 0)


def test_drop_after_non_stream_truncates_body(mock: MockProvider) -> None:
    resp = post(mock, {"model": "m", "mock": {"drop_after": 0}})
    assert resp.status == 200
    length = int(resp.headers["content-length"])
    with pytest.raises(http.client.IncompleteRead) as exc:
        resp.read()
    assert 0 < len(exc.value.partial) < length


def test_error_event_after(mock: MockProvider) -> None:
    resp = post(mock, {"model": "m", "stream": True, "mock": {"error_event_after": 2}})
    events = [d for _, d in sse(resp)]
    assert len(events) == 4
    assert [json.loads(e)["choices"][0]["delta"] for e in events[:3]] == [
        {"role": "assistant", "content": ""},
        {"content": "word0"},
        {"content": " word1"},
    ]
    assert json.loads(events[3]) == {"error": {"message": "mock stream error", "type": "server_error", "code": "mock"}}


def test_path_prefix_knobs(mock: MockProvider) -> None:
    base = mock.base_url(status=500)
    assert base.endswith("/mock/status=500/v1")
    status, _, out = chat(mock, base.removeprefix(mock.url) + "/chat/completions")
    assert status == 500 and out["error"]["type"] == "server_error"
    status, _, _ = chat(mock, knob_prefix(status=500) + "/chat/completions")  # no /v1
    assert status == 500
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(base + "/models")
    assert exc.value.code == 500
    # commas and spaces survive percent-encoding; body knobs override path knobs
    path = knob_prefix(status=503, chunks=2, content="a, b") + CHAT
    status, _, _ = chat(mock, path)
    assert status == 503
    status, _, out = chat(mock, path, mock={"status": 200})
    assert status == 200
    assert out["choices"][0]["message"]["content"] == "a, b"
    assert out["usage"]["completion_tokens"] == 2


def test_cli_defaults_apply() -> None:
    with MockProvider("--chunks", "3", "--latency-ms", "150") as m:
        t0 = time.monotonic()
        status, _, out = chat(m)
        assert status == 200 and time.monotonic() - t0 >= 0.14
        assert out["usage"]["completion_tokens"] == 3
        status, _, out = chat(m, mock={"chunks": 1, "latency_ms": 0})
        assert out["usage"]["completion_tokens"] == 1


# -- cancellation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "knobs",
    [
        {"hang": True},
        {"hang": True, "stream": True},
        {"latency_ms": 10_000},
        {"ttft_ms": 10_000, "stream": True},
    ],
    ids=["hang", "hang-stream", "latency", "ttft"],
)
def test_client_disconnect_while_waiting_is_cancelled(mock: MockProvider, knobs: dict[str, Any]) -> None:
    stream = knobs.pop("stream", False)
    s = raw_request(mock, {"model": "m", "stream": stream, "mock": knobs})
    assert mock.wait_stats(in_flight=1)["in_flight"] == 1
    time.sleep(0.2)
    assert mock.stats()["cancelled"] == 0
    s.close()
    t0 = time.monotonic()
    st = mock.wait_stats(timeout=1.0, cancelled=1, in_flight=0)
    assert (st["cancelled"], st["in_flight"]) == (1, 0), st
    assert time.monotonic() - t0 < 1.0


def test_client_disconnect_mid_stream_is_cancelled(mock: MockProvider) -> None:
    resp = post(mock, {"model": "m", "stream": True, "mock": {"chunks": 50, "interval_ms": 100}})
    events = sse(resp)
    next(events), next(events)
    resp.close()  # closes the socket
    st = mock.wait_stats(timeout=1.0, cancelled=1, in_flight=0)
    assert st["cancelled"] == 1 and st["in_flight"] == 0
    assert st["streams_started"] == 1 and st["streams_completed"] == 0


def test_finished_responses_are_not_cancelled(mock: MockProvider) -> None:
    chat(mock, mock={"latency_ms": 50})
    resp = post(mock, {"model": "m", "stream": True, "mock": {"interval_ms": 10}})
    list(sse(resp))
    chat(mock, mock={"status": 500})
    st = mock.wait_stats(in_flight=0)
    assert (st["requests"], st["cancelled"], st["streams_completed"]) == (3, 0, 1)


# -- recording -------------------------------------------------------------------------------


def test_recording(mock: MockProvider) -> None:
    body = {"model": "rec", "messages": [{"role": "user", "content": "é"}], "extra_field": [1]}
    resp = post(mock, body, "/mock/chunks=1/v1/chat/completions?x=1", **{"X-Custom-Thing": "Yes"})
    resp.read()
    urllib.request.urlopen(mock.url + "/v1/models").read()
    mock.stats()  # /_mock/* is not recorded
    recs = mock.requests()
    assert [r["method"] for r in recs] == ["POST", "GET"]
    r = recs[0]
    assert r["path"] == "/mock/chunks=1/v1/chat/completions" and r["query"] == "x=1"
    assert r["headers"]["x-custom-thing"] == "Yes"
    assert r["headers"]["content-type"] == "application/json"
    assert json.loads(r["body"]) == body
    assert recs[1]["path"] == "/v1/models" and recs[1]["body"] == ""
    assert mock.stats()["requests"] == 2
    mock.clear()
    assert mock.requests() == []
    assert mock.stats() == {
        "requests": 0,
        "streams_started": 0,
        "streams_completed": 0,
        "cancelled": 0,
        "in_flight": 0,
    }


def test_recording_keeps_last_1000(mock: MockProvider) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    for i in range(1005):
        conn.request("POST", CHAT, json.dumps({"model": f"m{i}"}), {"Content-Type": "application/json"})
        conn.getresponse().read()
    conn.close()
    recs = mock.requests()
    assert len(recs) == 1000
    assert json.loads(recs[0]["body"])["model"] == "m5"
    assert json.loads(recs[-1]["body"])["model"] == "m1004"
    assert mock.stats()["requests"] == 1005


# -- process ---------------------------------------------------------------------------------


def test_sigterm_exits_cleanly_with_requests_in_flight() -> None:
    m = MockProvider().start()
    s = raw_request(m, {"model": "m", "mock": {"hang": True}})
    m.wait_stats(in_flight=1)
    t0 = time.monotonic()
    assert m.stop() == 0
    assert time.monotonic() - t0 < 2
    s.settimeout(2)
    assert read_to_eof(s) == b""
    s.close()
