"""Config rules for the native protocols: translating providers cannot serve routing-only groups."""

from __future__ import annotations

import pytest
from switchyard.config import ConfigError, parse_config


@pytest.mark.parametrize(("kind", "ok"), [("anthropic", False), ("gemini", False), ("azure", True), ("openai", True)])
def test_routing_only_groups_hold_only_openai_protocol_deployments(kind: str, ok: bool) -> None:
    tree = {
        "providers": {"p": {"kind": kind, "api_key": "k", "base_url": "https://x.example"}},
        "models": {"m": {"mode": "routing-only", "deployments": [{"provider": "p", "model": "x"}]}},
    }
    if ok:
        parse_config(tree, {})
    else:
        with pytest.raises(ConfigError, match=r"models\.m\.deployments\[0\]\.provider: .*routing-only"):
            parse_config(tree, {})
