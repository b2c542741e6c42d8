"""The targets: how each server is configured, started on 127.0.0.1 and checked before it is measured.

Every target talks to the same mock provider. A target that cannot run here (not installed, config
rejected) raises `Unavailable` with the reason, and the table says so instead of showing numbers.
Must not: generate load or compute figures.
"""

from __future__ import annotations

import copy
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from suite import procs

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
BASELINES = REPO / "benches" / ".baselines"
LITELLM = BASELINES / "litellm" / "bin" / "litellm"
KEY = "sk-bench-key"  # every target gets it; the ones with auth check it
CHAT = "/v1/chat/completions"
ORDER = ["direct", "nginx", "python-floor", "litellm", "switchyard-full", "switchyard-routing-only"]


class Unavailable(Exception):
    """The target cannot be measured here; the message says why."""


@dataclass
class Context:
    mock_url: str
    mock_pid: int
    workdir: pathlib.Path
    workers: int


@dataclass
class Running:
    name: str
    url: str
    proc: subprocess.Popen[bytes] | None  # None: the target is the mock itself
    root_pid: int

    def pids(self) -> list[int]:
        return procs.tree(self.root_pid)

    def stop(self) -> None:
        if self.proc is not None:
            procs.stop(self.proc, grace=20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: bytes, timeout: float = 10) -> bytes:
    req = urllib.request.Request(
        url, data=body, headers={"content-type": "application/json", "authorization": f"Bearer {KEY}"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def _log_tail(log: pathlib.Path, n: int = 3) -> str:
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    return " | ".join(lines[-n:])[-400:]


def wait_ready(proc: subprocess.Popen[bytes], url: str, log: pathlib.Path, timeout: float) -> None:
    """Until a real completion and a whole stream come back through the target, or it dies / times out."""
    plain = b'{"model":"gpt-mock","messages":[{"role":"user","content":"ready?"}]}'
    stream = plain[:-1] + b',"stream":true}'
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise Unavailable(f"exited with {proc.returncode}: {_log_tail(log)}")
        try:
            if b'"chat.completion"' in _post(url, plain) and _post(url, stream).rstrip().endswith(b"[DONE]"):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            raise Unavailable(f"not ready within {timeout:g} s: {_log_tail(log)}")
        time.sleep(0.2)


def _started(name: str, cmd: list[str], ctx: Context, port: int, timeout: float, **kw: Any) -> Running:
    log = ctx.workdir / f"{name}.log"
    proc = procs.start(cmd, log, **kw)
    url = f"http://127.0.0.1:{port}{CHAT}"
    try:
        wait_ready(proc, url, log, timeout)
    except Unavailable:
        procs.stop(proc)
        raise
    return Running(name, url, proc, proc.pid)


def start_direct(ctx: Context, _overlay: Mapping[str, Any] | None) -> Running:
    return Running("direct", ctx.mock_url + CHAT, None, ctx.mock_pid)


NGINX_CONF = """\
{user}worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
  client_max_body_size 8m;
  client_body_buffer_size 1m;  # 10 KB / 50 KB bodies stay in memory
  tcp_nodelay on;
  keepalive_requests 1000000;
  upstream mock {{ server {upstream}; keepalive 256; keepalive_requests 1000000; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;  # streams relayed as they come
      proxy_request_buffering on;
    }}
  }}
}}
"""


def start_nginx(ctx: Context, _overlay: Mapping[str, Any] | None) -> Running:
    binary = next((p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if os.path.exists(p)), None)
    if binary is None:
        raise Unavailable("nginx is not installed (apt-get install nginx)")
    port, d = free_port(), ctx.workdir / "nginx"
    d.mkdir(exist_ok=True)
    conf = d / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    upstream = ctx.mock_url.removeprefix("http://")
    conf.write_text(NGINX_CONF.format(user=user, workers=ctx.workers, dir=d, upstream=upstream, port=port))
    cmd = [binary, "-p", str(d), "-c", str(conf), "-g", "daemon off;"]
    return _started("nginx", cmd, ctx, port, 20)


def start_floor(ctx: Context, _overlay: Mapping[str, Any] | None) -> Running:
    port = free_port()
    cmd = [sys.executable, "-m", "granian", "--interface", "rsgi", "--loop", "uvloop", "--workers", str(ctx.workers)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log", "floor_app:app"]
    return _started("python-floor", cmd, ctx, port, 30, cwd=HERE, env={"UPSTREAM": ctx.mock_url})


def start_litellm(ctx: Context, _overlay: Mapping[str, Any] | None) -> Running:
    if not LITELLM.exists():
        why = (BASELINES / "litellm-install.log").read_text(errors="replace")[-300:] if BASELINES.exists() else ""
        raise Unavailable(f"LiteLLM is not installed ({why.strip() or 'benches/run installs it'})")
    port = free_port()
    config = {
        "model_list": [
            {
                "model_name": "gpt-mock",
                "litellm_params": {"model": "openai/upstream-model", "api_base": ctx.mock_url + "/v1", "api_key": "x"},
            }
        ],
        "general_settings": {"master_key": KEY},  # auth on, no database
    }
    import yaml

    path = ctx.workdir / "litellm.yaml"
    path.write_text(yaml.safe_dump(config))
    cmd = [str(LITELLM), "--config", str(path), "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--num_workers", str(ctx.workers)]
    env = {"LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False", "NO_DOCS": "True", "DISABLE_ADMIN_UI": "True"}
    return _started("litellm", cmd, ctx, port, 120, env=env)


def switchyard_config(mock_url: str, routing_only: bool, overlay: Mapping[str, Any] | None) -> dict[str, Any]:
    """The gateway's config: auth on, the model routed to the mock, the pipeline as it is on main."""
    config: dict[str, Any] = {
        "server": {"api_keys": [KEY], "max_body_bytes": 8 * 1024 * 1024},
        "providers": {"mock": {"kind": "openai-compatible", "base_url": mock_url + "/v1", "api_key": "sk-upstream"}},
        "models": {"gpt-mock": {"deployments": [{"provider": "mock", "model": "upstream-model"}]}},
    }
    if routing_only:
        config["server"]["mode"] = "routing-only"
    return merge(config, _with_mock_url(overlay or {}, mock_url))


def _with_mock_url(value: Any, mock_url: str) -> Any:
    """An overlay with every "{mock_url}" in its strings replaced (a scenario cannot know the port)."""
    if isinstance(value, str):
        return value.replace("{mock_url}", mock_url)
    if isinstance(value, Mapping):
        return {k: _with_mock_url(v, mock_url) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_mock_url(v, mock_url) for v in value]
    return value


def merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """`overlay` merged into a copy of `base`, mappings recursively."""
    out = copy.deepcopy(base)
    for k, v in overlay.items():
        out[k] = merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def _switchyard(name: str, routing_only: bool) -> Callable[[Context, Mapping[str, Any] | None], Running]:
    def start(ctx: Context, overlay: Mapping[str, Any] | None) -> Running:
        import yaml

        port = free_port()
        path = ctx.workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(switchyard_config(ctx.mock_url, routing_only, overlay)))
        check = subprocess.run(
            [sys.executable, "-m", "switchyard", "check-config", str(path)], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise Unavailable((check.stderr or check.stdout).strip().removeprefix("switchyard: "))
        cmd = [sys.executable, "-m", "switchyard", "serve", "--config", str(path), "--port", str(port)]
        cmd += ["--workers", str(ctx.workers), "--log-level", "warning"]
        return _started(name, cmd, ctx, port, 30)

    return start


STARTERS: dict[str, Callable[[Context, Mapping[str, Any] | None], Running]] = {
    "direct": start_direct,
    "nginx": start_nginx,
    "python-floor": start_floor,
    "litellm": start_litellm,
    "switchyard-full": _switchyard("switchyard-full", routing_only=False),
    "switchyard-routing-only": _switchyard("switchyard-routing-only", routing_only=True),
}
