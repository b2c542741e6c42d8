"""Azure OpenAI end to end: the openai SDK -> the gateway -> the mock answering on Azure's deployment URL.

Shape from the Azure OpenAI REST reference (https://learn.microsoft.com/en-us/azure/ai-services/openai/reference):
`POST {endpoint}/openai/deployments/{deployment-id}/chat/completions?api-version=...`, key in `api-key`.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from conftest import CLIENT_KEY, UPSTREAM_KEY, Gateway
from mock_server import MockProvider

MESSAGES: Any = [{"role": "user", "content": "Say hello"}]


def client(gw: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0, timeout=20)


def test_whole_answer_uses_the_deployment_url_api_version_and_api_key(
    native_gateway: Gateway, mock: MockProvider
) -> None:
    answer = client(native_gateway).chat.completions.create(model="azure", messages=MESSAGES, temperature=0.5)
    assert answer.choices[0].message.content == "word0 word1 word2 word3 word4 word5 word6 word7"
    assert answer.usage is not None and answer.usage.total_tokens > 0
    sent = mock.requests()[-1]
    assert sent["path"] == "/openai/deployments/up-azure/chat/completions"
    assert sent["query"] == "api-version=2024-10-21"
    assert sent["headers"]["api-key"] == UPSTREAM_KEY
    assert "authorization" not in sent["headers"]
    body = json.loads(sent["body"])
    assert body == {"model": "up-azure", "messages": MESSAGES, "temperature": 0.5}


def test_stream_asks_for_usage_and_strips_it(native_gateway: Gateway, mock: MockProvider) -> None:
    chunks = list(client(native_gateway).chat.completions.create(model="azure", messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith("word0 word1")
    assert all(c.choices for c in chunks)
    body = json.loads(mock.requests()[-1]["body"])
    assert body["stream_options"] == {"include_usage": True}
    record = native_gateway.admin_requests()["recent"][-1]
    assert record["deployment"] == "azure/up-azure" and record["usage"]["completion_tokens"] == 8


@pytest.mark.parametrize(
    ("model", "exc", "status"),
    [
        ("azure-429", openai.RateLimitError, 429),
        ("azure-500", openai.APIStatusError, 502),
        ("azure-401", openai.APIStatusError, 502),
    ],
)
def test_errors_keep_the_openai_mapping(native_gateway: Gateway, model: str, exc: type[Exception], status: int) -> None:
    with pytest.raises(exc) as info:
        client(native_gateway).chat.completions.create(model=model, messages=MESSAGES)
    assert getattr(info.value, "status_code", None) == status
    assert "mock error" in str(info.value)


def test_api_version_is_configurable(start_gateway: Any, mock: MockProvider) -> None:
    cfg = {
        "providers": {
            "az": {
                "kind": "azure",
                "base_url": mock.url + "/openai",
                "api_key": "k",
                "api_version": "2025-01-01-preview",
            }
        },
        "models": {"m": {"deployments": [{"provider": "az", "model": "my deployment"}]}},
    }
    gw = start_gateway(cfg)
    openai.OpenAI(base_url=gw.base_url, api_key="x", max_retries=0).chat.completions.create(
        model="m", messages=MESSAGES
    )
    sent = mock.requests()[-1]
    assert (sent["path"], sent["query"]) == (
        "/openai/deployments/my%20deployment/chat/completions",
        "api-version=2025-01-01-preview",
    )
