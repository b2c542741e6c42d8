"""Azure OpenAI: OpenAI's protocol on deployment URLs, with `api-version` and the `api-key` header.

`POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version={version}`, where the
deployment's `model` in the config is the Azure deployment name, and the key goes in `api-key`
(Azure OpenAI REST reference: https://learn.microsoft.com/en-us/azure/ai-services/openai/reference).
Everything else is the OpenAI pass-through: the body keeps the caller's bytes with `model` rewritten
(Azure ignores it and answers with the deployment's model), errors use OpenAI's envelope, and
`stream_options.include_usage` is accepted (API versions 2024-09-01-preview and later).
"""

from __future__ import annotations

import urllib.parse

from switchyard._core import Inspected
from switchyard.config import ProviderConfig, Timeouts
from switchyard.providers.openai import OpenAICompatible
from switchyard.upstream import Transport, UpstreamRequest

API_VERSION = "2024-10-21"  # the latest GA data-plane inference version


class Azure(OpenAICompatible):
    """An Azure OpenAI resource; one URL per deployment name."""

    def __init__(self, name: str, cfg: ProviderConfig, timeouts: Timeouts, transport: Transport) -> None:
        super().__init__(name, cfg, timeouts, transport)
        assert cfg.base_url, "config validation requires base_url for azure"
        base = cfg.base_url.rstrip("/")
        self.base_url = base if base.endswith("/openai") else base + "/openai"
        self.query = urllib.parse.urlencode({"api-version": cfg.api_version or API_VERSION})
        self._urls: dict[str, str] = {}

    def endpoint_url(self, path: str, model: str) -> str:
        """A deployment's URL for another endpoint; the Responses API is served on the resource's v1 API
        (`{endpoint}/openai/v1/responses`, the deployment named by `model`, no api-version)."""
        if path == "responses":
            return f"{self.base_url}/v1/responses"
        return f"{self.base_url}/deployments/{urllib.parse.quote(model, safe='')}/{path}?{self.query}"

    def build(self, body: bytes, info: Inspected, model: str, want_usage: bool = True) -> tuple[UpstreamRequest, bool]:
        url = self._urls.get(model)
        if url is None:
            url = self.endpoint_url("chat/completions", model)
            if len(self._urls) < 4096:  # `prefix/*` groups make the names open-ended
                self._urls[model] = url
        return self.request_to(url, body, info, model, want_usage)
