"""Non-streaming chat completions with ~200 B, 10 KB and 50 KB request bodies.

For each size: latency at one connection (one CPU, then split), closed-loop throughput at 32 and 64
connections (split), and for 200 B open-loop latency at fixed offered rates (h2load).
"""

from suite.scenarios.base import Scenario, chat_body, register

SIZES = {"200b": 200, "10kb": 10_000, "50kb": 50_000}

for size, nbytes in SIZES.items():
    body = chat_body(nbytes)
    g = f"chat-{size}"
    register(
        Scenario(f"{g}/c1-one-cpu", g, body, connections=1, layout="one-cpu", quick=size == "200b", tags=("lat1",)),
        Scenario(f"{g}/c1-split", g, body, connections=1, layout="split", quick=size == "200b"),
        Scenario(f"{g}/c32", g, body, connections=32, quick=False),
        Scenario(f"{g}/c64", g, body, connections=64, tags=("cpu", "tput64")),
    )

for rate in (500, 2000):
    register(
        Scenario(
            f"chat-200b/open-{rate}rps",
            "chat-200b",
            chat_body(200),
            load="h2load",
            connections=32,
            rate=rate,
            quick=rate == 500,
        )
    )
