"""switchyard.store.cooldowns: two mappings of one file (as two workers have) see each other's cooldowns;
slot collisions do not mix deployments up; Health adopts and clears a cooldown another worker set."""

from __future__ import annotations

from pathlib import Path

from switchyard.config import HealthConfig
from switchyard.routing.health import Health
from switchyard.store.cooldowns import SLOTS, SharedCooldowns, create


def test_two_mappings_share_cooldowns(tmp_path: Path) -> None:
    path = str(tmp_path / "cooldowns")
    create(path)
    a, b = SharedCooldowns(path), SharedCooldowns(path)
    names = [f"provider/model-{i}" for i in range(SLOTS // 2)]  # dense enough to collide
    for i, n in enumerate(names):
        a.set(n, 1000.0 + i)
    assert [b.until(n) for n in names] == [1000.0 + i for i in range(len(names))]
    b.set(names[3], 0.0)
    assert a.until(names[3]) == 0.0 and a.until("never/set") == 0.0


def test_health_follows_another_workers_breaker(tmp_path: Path) -> None:
    path = str(tmp_path / "cooldowns")
    create(path)
    cfg = HealthConfig(failures=1, window_s=10, cooldown_s=30)
    one, two = Health(cfg, SharedCooldowns(path)), Health(cfg, SharedCooldowns(path))
    one.started("d")
    one.failed("d", 100.0)
    assert two.state("d", 101.0) == "cooling"  # opened by the other worker
    assert two.state("d", 131.0) == "half-open"
    assert two.try_probe("d", 131.0)
    two.started("d")
    two.succeeded("d", 10.0)
    assert one.state("d", 131.5) == "healthy"  # closed by the other worker's probe
    assert Health(cfg).state("d", 101.0) == "healthy"  # without the shared file: its own view only


def test_latency_is_shared_across_workers(tmp_path: Path) -> None:
    path = str(tmp_path / "cooldowns")
    create(path)
    cfg = HealthConfig(failures=1)
    one, two = Health(cfg, SharedCooldowns(path)), Health(cfg, SharedCooldowns(path))
    assert two.ewma_ms("d") is None and two.p95_ms("d") is None
    for ms in range(1, 33):  # every 16th sample also publishes the worker's p95
        one.started("d")
        one.succeeded("d", float(ms))
    ewma = two.ewma_ms("d")
    assert ewma is not None and 25 < ewma < 32  # seen by the other worker
    assert two.p95_ms("d") == 31.0
    two.started("d")
    two.succeeded("d", 1000.0)  # the other worker's sample moves the same EWMA
    after = one.ewma_ms("d")
    assert after is not None and after > ewma + 150
    one.started("d")
    one.failed("d", 1.0)
    assert two.state("d", 2.0) == "cooling"
    assert two.ewma_ms("d") == after  # a cooldown write keeps the latency figures
