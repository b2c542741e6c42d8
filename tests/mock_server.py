"""Start and drive the Rust mock LLM provider (benches/mock_provider) from tests.

    with MockProvider("--chunks", "4") as mock:
        base_url = mock.url + "/v1"                 # or mock.base_url(status=500)
        ...
        assert mock.stats()["cancelled"] == 0
        assert mock.requests()[-1]["headers"]["authorization"] == "Bearer sk-test"

The binary is `$SWITCHYARD_MOCK_BIN`, else `<repo>/target/release/mock-provider`, built with
`cargo build --release -p mock-provider` when it is missing or older than its sources.
"""

from __future__ import annotations

import json
import os
import pathlib
import selectors
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from typing import Any

REPO = pathlib.Path(__file__).resolve().parents[1]
CRATE = REPO / "benches" / "mock_provider"


def _stale(binary: pathlib.Path) -> bool:
    if not binary.exists():
        return True
    built = binary.stat().st_mtime
    sources = [CRATE / "Cargo.toml", *CRATE.joinpath("src").rglob("*.rs")]
    return any(p.stat().st_mtime > built for p in sources)


def mock_binary() -> pathlib.Path:
    """Path to the mock binary, building it first if needed."""
    env = os.environ.get("SWITCHYARD_MOCK_BIN")
    if env:
        return pathlib.Path(env)
    binary = REPO / "target" / "release" / "mock-provider"
    if _stale(binary):
        subprocess.run(["cargo", "build", "--release", "-p", "mock-provider"], cwd=REPO, check=True)
    return binary


def knob_prefix(**knobs: Any) -> str:
    """`/mock/k=v,k=v` for a base URL (values percent-encoded; booleans as true/false)."""
    parts = []
    for k, v in knobs.items():
        v = ("true" if v else "false") if isinstance(v, bool) else str(v)
        parts.append(f"{k}={urllib.parse.quote(v, safe='')}")
    return "/mock/" + ",".join(parts) if parts else ""


class MockProvider:
    """A running mock provider on 127.0.0.1 and an ephemeral port."""

    def __init__(self, *args: str, start_timeout: float = 10.0) -> None:
        self.args = [str(a) for a in args]
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> MockProvider:
        cmd = [str(mock_binary()), "--host", "127.0.0.1", "--port", "0", *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self._read_line(self.start_timeout)
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"mock-provider did not start: {line!r}")
        addr = line.removeprefix("listening on ").strip()
        self.port = int(addr.rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def _read_line(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise TimeoutError(f"mock-provider printed no 'listening on' line in {timeout} s")
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise RuntimeError(f"mock-provider exited early (code {self.proc.wait()})")
                buf += chunk
        return buf.split(b"\n", 1)[0].decode()

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, wait, SIGKILL on timeout. Returns the exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()
        return proc.returncode

    def __enter__(self) -> MockProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers -----------------------------------------------------------------------------
    def base_url(self, **knobs: Any) -> str:
        """An OpenAI base URL (ending in /v1) whose every request carries these knobs."""
        return f"{self.url}{knob_prefix(**knobs)}/v1"

    def _admin(self, method: str, path: str) -> Any:
        req = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def requests(self) -> list[dict[str, Any]]:
        """Recorded requests, oldest first: {method, path, query, headers, body}."""
        return self._admin("GET", "/_mock/requests")  # type: ignore[no-any-return]

    def stats(self) -> dict[str, int]:
        """{requests, streams_started, streams_completed, cancelled, in_flight}."""
        return self._admin("GET", "/_mock/stats")  # type: ignore[no-any-return]

    def clear(self) -> None:
        """Forget recorded requests and reset the counters."""
        self._admin("DELETE", "/_mock/requests")

    def wait_stats(self, timeout: float = 2.0, **want: int) -> dict[str, int]:
        """Poll stats until every given counter has the wanted value (or time runs out)."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.stats()
            if all(s.get(k) == v for k, v in want.items()) or time.monotonic() > deadline:
                return s
            time.sleep(0.02)
