"""Vendors as data rows: wire protocol, base URL, key variable, auth header and stream-usage quirk.

Adding an OpenAI-compatible vendor is one row here, never a new module; `protocol` names the adapter
module for the rest (`anthropic`, `gemini`, and `azure`, OpenAI's protocol on deployment URLs).
Each row's facts come from the vendor's API reference; `stream_usage` says whether the vendor accepts
`stream_options.include_usage`:
  - True: the gateway asks for it when the caller did not, then strips the extra usage-only chunk.
  - False: the vendor rejects the field or always reports usage in its final chunk anyway (Mistral sends
    `usage` on the last chunk unasked), so the body is forwarded as the caller sent it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:  # config imports this module
    from switchyard.config import ProviderConfig


class Preset(msgspec.Struct, frozen=True):
    """Defaults for one OpenAI-compatible vendor; any field can be overridden per provider in the config."""

    base_url: str
    key_env: str | None  # standard environment variable holding the key; None: no key needed
    auth_header: str = "authorization"  # "authorization" sends `Bearer <key>`; anything else sends the raw key
    stream_usage: bool = True
    needs_key: bool = True
    protocol: str = "openai"  # the adapter: openai (pass-through), azure, anthropic, gemini
    endpoints: frozenset[str] = frozenset()  # what it serves beside chat (ENDPOINTS), from its API reference


ENDPOINTS = frozenset({"embeddings", "images", "completions", "moderations", "responses"})
"""Endpoints an upstream may serve beside chat completions. `responses` means the Responses API itself;
without it a Responses request is translated through chat completions (every provider can take that)."""
_ALL = ENDPOINTS
_LOCAL = frozenset({"embeddings", "completions"})

PRESETS: dict[str, Preset] = {
    "openai": Preset("https://api.openai.com/v1", "OPENAI_API_KEY", endpoints=_ALL),
    # FIM (`/completions`) is served under https://api.deepseek.com/beta: set base_url to it for FIM.
    "deepseek": Preset("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", endpoints=frozenset({"completions"})),
    "mistral": Preset(
        "https://api.mistral.ai/v1", "MISTRAL_API_KEY", stream_usage=False, endpoints=frozenset({"embeddings"})
    ),
    # DashScope's OpenAI-compatible mode (international endpoint; mainland China uses dashscope.aliyuncs.com).
    "qwen": Preset(
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        "DASHSCOPE_API_KEY",
        endpoints=frozenset({"embeddings"}),
    ),
    "groq": Preset("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    # Together reports stream usage only when asked (include_usage), so asking matters for cost tracking.
    "together": Preset(
        "https://api.together.xyz/v1", "TOGETHER_API_KEY", endpoints=frozenset({"embeddings", "images", "completions"})
    ),
    "xai": Preset("https://api.x.ai/v1", "XAI_API_KEY", endpoints=frozenset({"images", "responses"})),
    "fireworks": Preset("https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY", endpoints=_LOCAL),
    "openrouter": Preset("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", endpoints=frozenset({"completions"})),
    # Local servers: no key by default (a key can still be configured for a secured deployment).
    "ollama": Preset("http://127.0.0.1:11434/v1", None, needs_key=False, endpoints=_LOCAL),
    "vllm": Preset("http://127.0.0.1:8000/v1", None, needs_key=False, endpoints=_LOCAL),
    # Native protocols (translated from and to the canonical OpenAI shape; see their modules).
    "anthropic": Preset("https://api.anthropic.com/v1", "ANTHROPIC_API_KEY", "x-api-key", protocol="anthropic"),
    "gemini": Preset(
        "https://generativelanguage.googleapis.com/v1beta",
        "GEMINI_API_KEY",
        "x-goog-api-key",
        protocol="gemini",
        endpoints=frozenset({"embeddings"}),
    ),
    # Azure OpenAI: base_url is the resource endpoint (https://NAME.openai.azure.com); the deployment's
    # `model` is the Azure deployment name.
    "azure": Preset("", "AZURE_OPENAI_API_KEY", "api-key", protocol="azure", endpoints=_ALL - {"moderations"}),
    # Any other OpenAI-compatible server: base_url must be given in the config.
    "openai-compatible": Preset("", None, needs_key=False, endpoints=_ALL - {"responses"}),
}


def endpoints(cfg: ProviderConfig) -> frozenset[str]:
    """What a configured provider serves beside chat: the config's `endpoints`, else its preset's."""
    return frozenset(cfg.endpoints) if cfg.endpoints is not None else PRESETS[cfg.kind].endpoints


def upstream_headers(cfg: ProviderConfig, *fixed: tuple[str, str]) -> list[tuple[str, str]]:
    """The headers every request to a provider carries: `fixed` ones, its key in the preset's (or the
    config's) auth header (`Bearer` for `authorization`), then the config's extra headers."""
    headers = [("content-type", "application/json"), *fixed]
    if cfg.api_key:
        auth = (cfg.auth_header or PRESETS[cfg.kind].auth_header).lower()
        headers.append((auth, f"Bearer {cfg.api_key}" if auth == "authorization" else cfg.api_key))
    headers.extend((k.lower(), v) for k, v in cfg.headers.items())
    return headers
