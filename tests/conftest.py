"""Shared fixtures: the real mock provider binary and real gateway processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from mock_server import MockProvider

REPO = Path(__file__).resolve().parent.parent
CLIENT_KEY = "sk-test-caller"
ADMIN_KEY = "sk-test-admin"
UPSTREAM_KEY = "sk-upstream-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gateway:
    """A `switchyard serve` subprocess on a free port; stopped with SIGTERM."""

    def __init__(self, config: dict[str, Any] | None, tmp: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = self.url + "/v1"
        cmd = [sys.executable, "-m", "switchyard", "serve", "--port", str(self.port)]
        self.source = "<embedded default>"
        if config is not None:
            path = tmp / f"switchyard-{self.port}.yaml"
            path.write_text(yaml.safe_dump(config))
            cmd += ["--config", str(path)]
            self.source = os.path.abspath(path)
        self.log = open(tmp / f"gateway-{self.port}.log", "wb")  # noqa: SIM115
        full_env = {**os.environ, **(env or {})}
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=full_env, cwd=tmp)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}: {self.read_log()}")
            try:
                with urllib.request.urlopen(self.url + "/ready", timeout=1) as r:
                    # Ours, not another process that took the port between free_port() and the bind.
                    if r.status == 200 and json.loads(r.read()).get("config") == self.source:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gateway not ready within {timeout} s: {self.read_log()}")

    def read_log(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def admin_requests(self) -> dict[str, Any]:
        req = urllib.request.Request(self.url + "/admin/requests", headers={"authorization": f"Bearer {ADMIN_KEY}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            result: dict[str, Any] = json.loads(r.read())
            return result

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def mock_config(mock_url: str, **server: Any) -> dict[str, Any]:
    """A config whose providers are the mock; fault knobs ride on the base URL path."""
    dead_port = free_port()  # nothing listens there

    def provider(prefix: str = "") -> dict[str, Any]:
        return {"kind": "openai-compatible", "base_url": f"{mock_url}{prefix}/v1", "api_key": UPSTREAM_KEY}

    def model(*deps: tuple[str, str, float]) -> dict[str, Any]:
        return {"deployments": [{"provider": p, "model": m, "weight": w} for p, m, w in deps]}

    return {
        "server": {
            "api_keys": [CLIENT_KEY],
            "admin_api_key": ADMIN_KEY,
            "max_body_bytes": 64 * 1024,
            "body_read_timeout_s": 2,
            "drain_timeout_s": 15,
            "timeouts": {"connect_s": 2, "first_byte_s": 2, "idle_s": 2, "total_s": 30},
            **server,
        },
        "providers": {
            "mock": provider(),
            "mock500": provider("/mock/status=500"),
            "mock429": provider("/mock/status=429,retry_after=7"),
            "dead": {"kind": "openai-compatible", "base_url": f"http://127.0.0.1:{dead_port}/v1"},
            "demo": {"kind": "demo"},
        },
        "models": {
            "gpt-mock": model(("mock", "upstream-model", 1)),
            "failing": model(("mock500", "upstream-model", 1)),
            "limited": model(("mock429", "upstream-model", 1)),
            "unreachable": model(("dead", "upstream-model", 1)),
            "flaky": model(("mock500", "bad-upstream", 1000), ("mock", "good-upstream", 0.001)),
            "mock/*": model(("mock", "*", 1)),
            "demo": model(("demo", "demo", 1)),
        },
    }


@pytest.fixture(scope="session")
def mock() -> Iterator[MockProvider]:
    with MockProvider() as m:
        yield m


@pytest.fixture(scope="session")
def gateway(mock: MockProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One gateway for the session, configured against the mock provider."""
    gw = Gateway(mock_config(mock.url), tmp_path_factory.mktemp("gateway"))
    yield gw
    gw.stop()


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[Any]:
    """Start extra gateways (own config or the embedded default); all stopped after the test."""
    started: list[Gateway] = []

    def start(config: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Gateway:
        gw = Gateway(config, tmp_path, env)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


@pytest.fixture(scope="session")
def native_gateway(mock: MockProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One gateway for the session with every native protocol and fault as a model (tests/native_config.py)."""
    from native_config import native_config

    gw = Gateway(native_config(mock.url), tmp_path_factory.mktemp("native"))
    yield gw
    gw.stop()
