"""pipeline.admit in-process: header formats, all-or-nothing admission, settling, and the no-limits stage."""

from __future__ import annotations

import asyncio

import pytest
from switchyard.config import parse_config
from switchyard.errors import RateLimited
from switchyard.pipeline.admit import Limits, NoLimits, build_limits, duration
from switchyard.pipeline.auth import ANONYMOUS, Principal

BODY = b'{"model":"m","messages":[{"role":"user","content":"hello there"}]}'


def limits(tree: dict) -> Limits | NoLimits:
    base = {
        "providers": {"demo": {"kind": "demo"}},
        "models": {"m": {"deployments": [{"provider": "demo", "model": "demo"}]}},
    }
    return build_limits(parse_config({**base, **tree}, {}))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0, "0ms"), (0.0201, "21ms"), (1.0, "1s"), (1.5, "1.5s"), (360.0, "6m0s"), (90.25, "1m30.25s")],
)
def test_duration_is_written_like_openai(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_no_limits_configured_is_the_no_op_stage() -> None:
    stage = limits({})
    assert isinstance(stage, NoLimits) and not stage.counts_tokens
    admission = asyncio.run(stage.admit(ANONYMOUS, "m", BODY, None))
    assert admission.headers == [] and admission.permits == []


def test_a_denial_consumes_nothing_anywhere() -> None:
    stage = limits({"limits": {"per_key": {"rpm": 5, "tpm": 100}}})
    assert isinstance(stage, Limits) and stage.counts_tokens
    who = Principal("p")

    async def run() -> None:
        ok = await stage.admit(who, "m", BODY, 10)
        assert dict(ok.headers)["x-ratelimit-remaining-requests"] == "4"
        stage.settle(ok, 20)
        with pytest.raises(RateLimited) as denied:
            await stage.admit(who, "m", BODY, 85)  # tokens deny; the request limit must not be charged
        assert denied.value.code == "rate_limit_exceeded"
        assert int(dict(denied.value.headers)["retry-after"]) >= 1
        ok = await stage.admit(who, "m", BODY, 1)
        assert dict(ok.headers)["x-ratelimit-remaining-requests"] == "3"
        stage.settle(ok, None)

    asyncio.run(run())


def test_concurrency_slots_come_back_on_settle() -> None:
    stage = limits({"limits": {"per_key": {"concurrent": 1}}})
    assert isinstance(stage, Limits)

    async def run() -> None:
        first = await stage.admit(ANONYMOUS, "m", BODY, None)
        with pytest.raises(RateLimited) as denied:
            await stage.admit(ANONYMOUS, "m", BODY, None)
        assert denied.value.code == "concurrency_limit_exceeded"
        stage.settle(first, None)
        stage.settle(await stage.admit(ANONYMOUS, "m", BODY, None), None)

    asyncio.run(run())


def test_large_bodies_are_counted_off_the_loop() -> None:
    stage = limits({"limits": {"per_key": {"tpm": 10_000_000}}})
    big = b'{"model":"gpt-4o","messages":[{"role":"user","content":"' + b"word " * 40_000 + b'"}]}'

    async def run() -> int:
        loop = asyncio.get_running_loop()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        ticker = loop.create_task(tick())
        admission = await stage.admit(ANONYMOUS, "m", big, None)
        ticker.cancel()
        assert admission.estimate > 40_000
        return ticks

    assert asyncio.run(run()) > 1  # the loop kept running while the count was made
