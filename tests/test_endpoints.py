"""Embeddings, image generation, legacy completions and moderations end to end: the official openai SDK ->
the gateway -> the mock speaking OpenAI (pass-through), Azure, or Gemini (embeddings translated).
Answers are validated against OpenAI's published schemas; what each upstream received is asserted."""

from __future__ import annotations

import base64
import json
import struct
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import ADMIN_KEY, CLIENT_KEY, UPSTREAM_KEY, Gateway
from mock_server import MockProvider, knob_prefix
from openapi_schema import validate


def endpoints_config(mock_url: str) -> dict[str, Any]:
    def provider(kind: str, suffix: str, **knobs: Any) -> dict[str, Any]:
        return {"kind": kind, "base_url": mock_url + knob_prefix(**knobs) + suffix, "api_key": UPSTREAM_KEY}

    def group(*deps: tuple[str, str]) -> dict[str, Any]:
        return {"deployments": [{"provider": p, "model": m} for p, m in deps]}

    return {
        "server": {
            "api_keys": [CLIENT_KEY],
            "admin_api_key": ADMIN_KEY,
            "timeouts": {"connect_s": 2, "first_byte_s": 5, "idle_s": 3, "total_s": 30},
            "retry": {"backoff_ms": 1},
        },
        "providers": {
            "oa": provider("openai-compatible", "/v1"),
            "oa500": provider("openai-compatible", "/v1", status=500),
            "oa-nousage": {**provider("openai-compatible", "/v1"), "stream_usage": False},
            "az": provider("azure", ""),
            "gem": provider("gemini", "/v1beta"),
            "anth": provider("anthropic", "/v1"),
            "deepseek": {**provider("deepseek", "/v1"), "endpoints": ["completions"]},
        },
        "models": {
            "emb": group(("oa", "text-embedding-3-small")),
            "emb-azure": group(("az", "emb-deployment")),
            "emb-gemini": group(("gem", "gemini-embedding-001")),
            "emb-anthropic": group(("anth", "claude-x")),
            "emb-mixed": group(("anth", "claude-x"), ("oa", "text-embedding-3-small")),
            "emb-failover": {
                "deployments": [
                    {"provider": "oa500", "model": "bad", "weight": 1000},
                    {"provider": "oa", "model": "text-embedding-3-small", "weight": 0.001},
                ]
            },
            "img": group(("oa", "gpt-image-1")),
            "dalle": group(("oa", "dall-e-3")),
            "img-azure": group(("az", "image-deployment")),
            "cmpl": group(("oa", "gpt-3.5-turbo-instruct")),
            "cmpl-nousage": group(("oa-nousage", "gpt-3.5-turbo-instruct")),
            "fim": group(("deepseek", "deepseek-chat")),
            "omni-moderation-latest": group(("oa", "omni-moderation-2024-09-26")),
        },
    }


@pytest.fixture(scope="module")
def gw(mock: MockProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    g = Gateway(endpoints_config(mock.url), tmp_path_factory.mktemp("endpoints"))
    yield g
    g.stop()


@pytest.fixture(scope="module")
def client(gw: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0, timeout=20)


def sent(mock: MockProvider) -> tuple[dict[str, Any], dict[str, Any]]:
    rec = mock.requests()[-1]
    return rec, json.loads(rec["body"])


def direct(mock: MockProvider, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """What the mock answers when asked directly (the reference the gateway's answer is compared with)."""
    req = urllib.request.Request(
        mock.url + path, json.dumps(body).encode(), {"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        answer: dict[str, Any] = json.loads(resp.read())
    return answer


def last_record(gw: Gateway) -> dict[str, Any]:
    record: dict[str, Any] = gw.admin_requests()["recent"][-1]
    return record


def raw_post(gw: Gateway, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(
        gw.url + path,
        data,
        {"content-type": "application/json", "authorization": f"Bearer {CLIENT_KEY}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


# -- embeddings --


@pytest.mark.parametrize("encoding", ["float", None])  # None: the SDK asks for base64 and decodes it
def test_embeddings_pass_through_single(gw: Gateway, client: openai.OpenAI, mock: MockProvider, encoding: Any) -> None:
    extra = {} if encoding is None else {"encoding_format": encoding}
    raw = client.embeddings.with_raw_response.create(model="emb", input="hello world", **extra)
    got = raw.parse()
    rec, body = sent(mock)
    assert rec["path"].endswith("/v1/embeddings")
    assert body["model"] == "text-embedding-3-small" and body["input"] == "hello world"
    want = direct(mock, "/v1/embeddings", {"model": "text-embedding-3-small", "input": "hello world"})
    if encoding == "float":  # the schema describes float vectors only
        validate("CreateEmbeddingResponse", json.loads(raw.http_response.content))
    assert len(got.data) == 1 and got.data[0].embedding == pytest.approx(want["data"][0]["embedding"])
    assert got.usage.prompt_tokens == want["usage"]["prompt_tokens"]
    record = last_record(gw)
    assert record["endpoint"] == "embeddings" and record["status"] == 200 and record["model"] == "emb"
    assert record["usage"]["prompt_tokens"] == want["usage"]["prompt_tokens"] and not record["usage"]["counted"]


def test_embeddings_batched_keep_order(client: openai.OpenAI, mock: MockProvider) -> None:
    texts = ["first", "second input", "third one here"]
    got = client.embeddings.create(model="emb", input=texts, encoding_format="float")
    want = direct(mock, "/v1/embeddings", {"model": "text-embedding-3-small", "input": texts})
    assert [d.index for d in got.data] == [0, 1, 2]
    assert [d.embedding for d in got.data] == [pytest.approx(w["embedding"]) for w in want["data"]]
    assert got.data[0].embedding != pytest.approx(got.data[1].embedding)
    token_ids = client.embeddings.create(model="emb", input=[[1, 2, 3], [4, 5]], encoding_format="float")
    assert len(token_ids.data) == 2


def test_embeddings_azure_deployment_url(client: openai.OpenAI, mock: MockProvider) -> None:
    got = client.embeddings.create(model="emb-azure", input=["a", "b"], encoding_format="float")
    rec, _ = sent(mock)
    assert rec["path"].endswith("/openai/deployments/emb-deployment/embeddings") and "api-version=" in rec["query"]
    assert rec["headers"]["api-key"] == UPSTREAM_KEY and len(got.data) == 2


def gemini_vectors(mock: MockProvider, texts: list[str], dims: int | None = None) -> list[list[float]]:
    extra = {} if dims is None else {"outputDimensionality": dims}
    reqs = [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": t}]}, **extra} for t in texts]
    answer = direct(mock, "/v1beta/models/gemini-embedding-001:batchEmbedContents", {"requests": reqs})
    return [e["values"] for e in answer["embeddings"]]


def test_embeddings_gemini_single(gw: Gateway, client: openai.OpenAI, mock: MockProvider) -> None:
    raw = client.embeddings.with_raw_response.create(model="emb-gemini", input="hello gemini", encoding_format="float")
    got = raw.parse()
    rec, body = sent(mock)
    assert rec["path"].endswith("/v1beta/models/gemini-embedding-001:embedContent")
    assert body == {"content": {"parts": [{"text": "hello gemini"}]}}
    assert rec["headers"]["x-goog-api-key"] == UPSTREAM_KEY
    validate("CreateEmbeddingResponse", json.loads(raw.http_response.content))
    assert got.data[0].embedding == pytest.approx(gemini_vectors(mock, ["hello gemini"])[0])
    assert got.model == "gemini-embedding-001"
    record = last_record(gw)
    assert record["usage"]["counted"] and record["usage"]["prompt_tokens"] == got.usage.prompt_tokens > 0


def test_embeddings_gemini_batched_dimensions_base64(gw: Gateway, client: openai.OpenAI, mock: MockProvider) -> None:
    texts = ["one", "two", "three", "four"]
    got = client.embeddings.create(model="emb-gemini", input=texts, dimensions=5)  # the SDK asks for base64
    rec, body = sent(mock)
    assert rec["path"].endswith(":batchEmbedContents")
    assert [r["content"]["parts"][0]["text"] for r in body["requests"]] == texts
    assert all(r["outputDimensionality"] == 5 and r["model"] == "models/gemini-embedding-001" for r in body["requests"])
    want = gemini_vectors(mock, texts, 5)
    assert [d.embedding for d in got.data] == [pytest.approx(w, rel=1e-6) for w in want]
    # the base64 the gateway built is OpenAI's: little-endian float32
    status, answer = raw_post(
        gw, "/v1/embeddings", {"model": "emb-gemini", "input": ["one"], "encoding_format": "base64"}
    )
    assert status == 200
    packed = base64.b64decode(answer["data"][0]["embedding"])
    assert list(struct.unpack(f"<{len(packed) // 4}f", packed)) == pytest.approx(gemini_vectors(mock, ["one"])[0])


def test_embeddings_gemini_refuses_token_ids(gw: Gateway) -> None:
    status, err = raw_post(gw, "/v1/embeddings", {"model": "emb-gemini", "input": [[1, 2, 3]]})
    assert status == 400 and err["error"]["code"] == "unsupported_input" and err["error"]["param"] == "input"


def test_embeddings_unsupported_provider_is_left_out(gw: Gateway, client: openai.OpenAI, mock: MockProvider) -> None:
    status, err = raw_post(gw, "/v1/embeddings", {"model": "emb-anthropic", "input": "x"})
    assert status == 400 and err["error"]["code"] == "unsupported_endpoint"
    assert "'anth'" in err["error"]["message"] and "/v1/embeddings" in err["error"]["message"]
    got = client.embeddings.with_raw_response.create(model="emb-mixed", input="x", encoding_format="float")
    assert "deployment=oa/text-embedding-3-small" in got.headers["x-switchyard-route"]


def test_embeddings_fail_over(client: openai.OpenAI) -> None:
    raw = client.embeddings.with_raw_response.create(model="emb-failover", input="x", encoding_format="float")
    assert raw.parse().data and raw.headers["x-switchyard-route"].endswith("attempts=2")


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": "emb"}, "input", "missing_required_parameter"),
        ({"model": "emb", "input": ""}, "input", None),
        ({"model": "emb", "input": []}, "input", "invalid_type"),
        ({"model": "emb", "input": [{"a": 1}]}, "input[0]", "invalid_type"),
        ({"model": "emb", "input": "x", "stream": True}, "stream", None),
        ({"model": "emb", "input": "x", "encoding_format": "int8"}, "encoding_format", None),
        ({"model": "emb", "input": "x", "dimensions": 0}, "dimensions", None),
        ({"input": "x"}, "model", "missing_required_parameter"),
        ({"model": "nope", "input": "x"}, "model", "model_not_found"),
    ],
)
def test_embeddings_bad_input(gw: Gateway, body: dict[str, Any], param: str, code: str | None) -> None:
    status, err = raw_post(gw, "/v1/embeddings", body)
    assert status in (400, 404) and err["error"]["param"] == param and err["error"]["code"] == code
    assert set(err["error"]) == {"message", "type", "param", "code"}


# -- images --


@pytest.mark.parametrize("fmt", ["url", "b64_json"])
def test_images(gw: Gateway, client: openai.OpenAI, mock: MockProvider, fmt: Any) -> None:
    raw = client.images.with_raw_response.generate(model="dalle", prompt="a red fox", n=2, response_format=fmt)
    got = raw.parse()
    validate("ImagesResponse", json.loads(raw.http_response.content))
    assert got.data is not None and len(got.data) == 2
    if fmt == "url":
        assert all(d.url and d.url.startswith("http") for d in got.data)
    else:
        assert all(base64.b64decode(d.b64_json or "").startswith(b"\x89PNG") for d in got.data)
    rec, body = sent(mock)
    assert rec["path"].endswith("/v1/images/generations") and body["model"] == "dall-e-3" and body["n"] == 2
    assert last_record(gw)["endpoint"] == "images"


def test_images_usage_and_azure(gw: Gateway, client: openai.OpenAI, mock: MockProvider) -> None:
    got = client.images.generate(model="img", prompt="a lighthouse")
    assert got.usage is not None
    record = last_record(gw)["usage"]
    assert record["input_tokens"] == got.usage.input_tokens and record["output_tokens"] == got.usage.output_tokens
    client.images.generate(model="img-azure", prompt="a lighthouse")
    rec = mock.requests()[-1]
    assert rec["path"].endswith("/openai/deployments/image-deployment/images/generations")
    assert "api-version=" in rec["query"]


# -- legacy completions --


def test_completions_whole(gw: Gateway, client: openai.OpenAI, mock: MockProvider) -> None:
    raw = client.completions.with_raw_response.create(model="cmpl", prompt="Say this is a test", max_tokens=7)
    got = raw.parse()
    validate("CreateCompletionResponse", json.loads(raw.http_response.content))
    assert got.choices[0].text and got.usage is not None
    rec, body = sent(mock)
    assert rec["path"].endswith("/v1/completions") and body["model"] == "gpt-3.5-turbo-instruct"
    record = last_record(gw)
    assert record["endpoint"] == "completions" and record["usage"]["completion_tokens"] == got.usage.completion_tokens


def test_completions_stream_usage_asked_and_stripped(gw: Gateway, client: openai.OpenAI, mock: MockProvider) -> None:
    chunks = list(client.completions.create(model="cmpl", prompt="hi", stream=True))
    _, body = sent(mock)
    assert body["stream_options"] == {"include_usage": True}  # asked for on the caller's behalf ...
    assert all(c.usage is None and c.choices for c in chunks)  # ... and its chunk not relayed
    text = "".join(c.choices[0].text for c in chunks)
    record = last_record(gw)
    assert text and record["stream"] and record["usage"]["completion_tokens"] > 0


def test_completions_stream_without_upstream_usage_is_counted(gw: Gateway, client: openai.OpenAI) -> None:
    from switchyard._core import count_tokens, count_tokens_for_model

    prompt = "Say this is a test please"
    chunks = list(client.completions.create(model="cmpl-nousage", prompt=prompt, stream=True))
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    usage = last_record(gw)["usage"]
    assert usage["counted"] and usage["completion_tokens"] == count_tokens(text, "cl100k_base") > 0
    assert usage["prompt_tokens"] == count_tokens_for_model(prompt, "cmpl-nousage")  # as admission estimated it


def test_completions_fim_to_deepseek(client: openai.OpenAI, mock: MockProvider) -> None:
    client.completions.create(model="fim", prompt="def fib(a):", suffix="    return fib(a-1) + fib(a-2)", max_tokens=8)
    rec, body = sent(mock)
    assert rec["path"].endswith("/v1/completions") and body["suffix"].startswith("    return")


# -- moderations --


def test_moderations_default_model(gw: Gateway, client: openai.OpenAI, mock: MockProvider) -> None:
    raw = client.moderations.with_raw_response.create(input=["I will kill the process", "hello"])
    got = raw.parse()
    validate("CreateModerationResponse", json.loads(raw.http_response.content))
    assert [r.flagged for r in got.results] == [True, False]
    rec, body = sent(mock)
    assert rec["path"].endswith("/v1/moderations") and body["model"] == "omni-moderation-2024-09-26"
    record = last_record(gw)
    assert record["endpoint"] == "moderations" and record["model"] == "omni-moderation-latest"


def test_unserved_endpoints_are_refused_by_kind(tmp_path: Path, mock: MockProvider) -> None:
    from switchyard.config import ConfigError, parse_config

    cfg = endpoints_config(mock.url)
    cfg["providers"]["gem"]["endpoints"] = ["images"]
    with pytest.raises(ConfigError, match=r"providers\.gem\.endpoints\[0\]: 'images' is not an endpoint"):
        parse_config(cfg, {})
