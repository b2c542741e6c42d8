"""Providers speaking their native protocols (Azure, Anthropic, Gemini), all served by the Rust mock;
fault knobs ride on the base URL path (`/mock/status=529`), as in conftest.mock_config."""

from __future__ import annotations

from typing import Any

from conftest import ADMIN_KEY, CLIENT_KEY, UPSTREAM_KEY
from mock_server import knob_prefix

# protocol -> (provider kind, the base-URL suffix its adapter appends its paths to)
PROTOCOLS: dict[str, tuple[str, str]] = {
    "openai": ("openai-compatible", "/v1"),
    "azure": ("azure", ""),
    "anthropic": ("anthropic", "/v1"),
    "gemini": ("gemini", "/v1beta"),
}
FAULTS: dict[str, dict[str, Any]] = {
    "": {},
    "-429": {"status": 429, "retry_after": 7},
    "-500": {"status": 500},
    "-529": {"status": 529},
    "-400": {"status": 400},
    "-401": {"status": 401},
    # Paced, so the fault comes after events the caller already has: a client that reads the whole burst
    # at once would otherwise see the fault before the first event (an ordinary error status, not a cut).
    "-cut": {"drop_after": 2, "chunks": 6, "interval_ms": 20},
    "-errevent": {"error_event_after": 2, "chunks": 6, "interval_ms": 20},
    "-tools2": {"tool_calls": 2},
    "-think": {"thinking": True},
    "-cache": {"cache_read": 5, "cache_write": 7, "cache_write_1h": 3, "reasoning": 4},
    "-refusal": {"finish": "refusal"},
    "-safety": {"finish": "SAFETY"},
    "-503": {"status": 503},
}


def native_config(mock_url: str, protocols: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """A gateway config with model `<protocol><fault>` (e.g. `azure`, `azure-429`) for every protocol and
    fault, each served by provider `<protocol><fault>` on the mock, upstream model `up-<protocol>`."""
    providers: dict[str, Any] = {}
    models: dict[str, Any] = {}
    for proto, (kind, suffix) in (protocols or PROTOCOLS).items():
        for fault, knobs in FAULTS.items():
            name = f"{proto}{fault}"
            providers[name] = {
                "kind": kind,
                "base_url": mock_url + knob_prefix(**knobs) + suffix,
                "api_key": UPSTREAM_KEY,
            }
            if proto == "openai":  # the mock serves every OpenAI endpoint, the Responses API included
                providers[name]["endpoints"] = ["responses", "embeddings", "images", "completions", "moderations"]
            models[name] = {"deployments": [{"provider": name, "model": f"up-{proto}"}]}
    return {
        "server": {
            "api_keys": [CLIENT_KEY],
            "admin_api_key": ADMIN_KEY,
            "timeouts": {"connect_s": 2, "first_byte_s": 5, "idle_s": 3, "total_s": 30},
        },
        "providers": providers,
        "models": models,
    }
