"""Config reload without restart, against a real gateway (two workers) and the mock: the admin endpoint,
SIGHUP and the file watch; an invalid config is refused with its key path while the old one serves; no
request fails while reloads happen under steady load; deployment health carries over."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from conftest import ADMIN_KEY, CLIENT_KEY, UPSTREAM_KEY, Gateway
from mock_server import MockProvider

AUTH = {"authorization": f"Bearer {CLIENT_KEY}"}
ADMIN = {"authorization": f"Bearer {ADMIN_KEY}"}


def config(mock: MockProvider, models: dict[str, str], **server: Any) -> dict[str, Any]:
    provider = {"kind": "openai-compatible", "base_url": f"{mock.url}/v1", "api_key": UPSTREAM_KEY}
    bad = {"kind": "openai-compatible", "base_url": f"{mock.url}/mock/status=503/v1", "api_key": UPSTREAM_KEY}
    return {
        "server": {"api_keys": [CLIENT_KEY], "admin_api_key": ADMIN_KEY, "workers": 2, **server},
        "providers": {"mock": provider, "bad": bad},
        "models": {
            name: {"strategy": "fallback", "deployments": [{"provider": p, "model": name} for p in ps.split(",")]}
            for name, ps in models.items()
        },
    }


@pytest.fixture
def gw(mock: MockProvider, tmp_path: Path) -> Any:
    g = Gateway(config(mock, {"one": "mock"}), tmp_path)
    g.config_path = next(tmp_path.glob("switchyard-*.yaml"))  # type: ignore[attr-defined]
    yield g
    g.stop()


def write(g: Gateway, tree: dict[str, Any]) -> None:
    """Replace the config file atomically, as an editor or a deploy tool does."""
    path: Path = g.config_path  # type: ignore[attr-defined]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(tree))
    tmp.replace(path)


def status(g: Gateway, model: str) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    return httpx.post(g.base_url + "/chat/completions", json=body, headers=AUTH, timeout=10).status_code


def all_workers_serve(g: Gateway, model: str, want: int, timeout: float = 5.0) -> bool:
    """Two workers answer in turn: `want` for 10 requests in a row (fresh connections) means both do."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(status(g, model) == want for _ in range(10)):
            return True
        time.sleep(0.2)
    return False


def test_admin_reload_applies_to_every_worker(gw: Gateway, mock: MockProvider) -> None:
    assert status(gw, "two") == 404
    write(gw, config(mock, {"one": "mock", "two": "mock"}, workers=2))
    r = httpx.post(gw.url + "/admin/reload", headers=ADMIN)
    assert r.status_code == 200 and r.json()["models"] == 2
    assert all_workers_serve(gw, "two", 200)


def test_invalid_config_is_refused_and_the_old_one_serves(gw: Gateway, mock: MockProvider) -> None:
    tree = config(mock, {"one": "mock", "two": "nope"})
    write(gw, tree)
    r = httpx.post(gw.url + "/admin/reload", headers=ADMIN)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "invalid_config" and "models.two.deployments[0].provider" in err["message"]
    assert all_workers_serve(gw, "one", 200)
    gw.proc.send_signal(signal.SIGHUP)  # refused the same way, and no worker restarts
    time.sleep(1.5)
    assert "config reload refused" in gw.read_log()
    assert all_workers_serve(gw, "one", 200)


def test_sighup_reloads_without_restart(gw: Gateway, mock: MockProvider) -> None:
    write(gw, config(mock, {"renamed": "mock"}))
    gw.proc.send_signal(signal.SIGHUP)
    assert all_workers_serve(gw, "renamed", 200)
    assert all_workers_serve(gw, "one", 404)
    assert gw.proc.poll() is None


def test_file_watch(mock: MockProvider, tmp_path: Path, start_gateway: Any) -> None:
    g = start_gateway(config(mock, {"one": "mock"}, watch_config=True))
    path = next(tmp_path.glob("switchyard-*.yaml"))
    path.write_text(yaml.safe_dump(config(mock, {"one": "mock", "watched": "mock"}, watch_config=True)))
    assert all_workers_serve(g, "watched", 200)


def test_no_request_fails_while_reloading_under_load(gw: Gateway, mock: MockProvider) -> None:
    failures: list[str] = []
    done = threading.Event()
    counts = [0]

    def load() -> None:
        with httpx.Client(base_url=gw.base_url, headers=AUTH, timeout=10) as client:
            while not done.is_set():
                stream = counts[0] % 3 == 0
                body = {"model": "one", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
                r = client.post("/chat/completions", json=body)
                counts[0] += 1
                if r.status_code != 200 or (stream and "[DONE]" not in r.text):
                    failures.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            write(gw, config(mock, {"one": "mock", f"extra{i}": "mock"}))
            r = httpx.post(gw.url + "/admin/reload", headers=ADMIN, timeout=30)
            assert r.status_code == 200, r.text
            time.sleep(0.3)
    finally:
        done.set()
        for t in threads:
            t.join()
    assert not failures, failures[:3]
    assert counts[0] > 50


def test_health_of_unchanged_deployments_carries_over(mock: MockProvider, start_gateway: Any, tmp_path: Path) -> None:
    tree = config(mock, {"cb": "bad,mock"}, workers=1)
    tree["server"]["health"] = {"failures": 1, "cooldown_s": 60}
    g = start_gateway(tree)
    assert status(g, "cb") == 200  # bad fails once: cooling
    tree["models"]["other"] = {"deployments": [{"provider": "mock", "model": "other"}]}
    next(tmp_path.glob("switchyard-*.yaml")).write_text(yaml.safe_dump(tree))
    assert httpx.post(g.url + "/admin/reload", headers=ADMIN).status_code == 200
    health = httpx.get(g.url + "/admin/health", headers=ADMIN).json()["models"]
    assert {d["name"]: d["state"] for d in health["cb"]["deployments"]} == {"bad/cb": "cooling", "mock/cb": "healthy"}
    assert "other" in health
