"""Failover under a flaky deployment: the model's first deployment answers 20 % of its requests with a
500 (the mock's `fail_pct` knob), the second is healthy. Paired with chat-200b/c64 (one healthy
deployment), the report shows what the caller sees: errors (the success rate), added latency and CPU.
The breaker is set not to trip (failures: 1000), so every failure costs a real retry."""

from suite.scenarios.base import Scenario, chat_body, register, switchyard_only

UPSTREAM = {"kind": "openai-compatible", "api_key": "sk-upstream"}
OVERLAY = {
    "server": {"health": {"failures": 1000}},
    "providers": {
        "flaky": {**UPSTREAM, "base_url": "{mock_url}/mock/fail_pct=20/v1"},
        "healthy": {**UPSTREAM, "base_url": "{mock_url}/v1"},
    },
    "models": {
        "gpt-mock": {
            "strategy": "fallback",
            "deployments": [
                {"provider": "flaky", "model": "upstream-model"},
                {"provider": "healthy", "model": "upstream-model"},
            ],
        }
    },
}

register(
    Scenario(
        "failover-20pct/c64",
        "chat-200b",
        chat_body(200),
        connections=64,
        applies_to=switchyard_only,
        overlay=OVERLAY,
        pair="chat-200b/c64",
    )
)
