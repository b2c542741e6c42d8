"""What the suite needs beyond the project: Debian tools, our Rust binaries, LiteLLM and plotting venvs.

Baselines live under benches/.baselines/ (git-ignored): `litellm/` (LiteLLM's proxy, its own venv) and
`tools/` (matplotlib for the plot, py-spy for profiles), so neither becomes a project dependency.
Each step is skipped when its result is already there. Must not: start servers.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
BASELINES = REPO / "benches" / ".baselines"
TOOLS = BASELINES / "tools"
APT = {"wrk": "wrk", "h2load": "nghttp2-client", "nginx": "nginx", "taskset": "util-linux"}


def log(msg: str) -> None:
    print(f"benches: {msg}", file=sys.stderr, flush=True)


def debian_tools() -> list[str]:
    """apt-get install what is missing (as root); the names still missing afterwards."""
    missing = [cmd for cmd in APT if not _have(cmd)]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        pkgs = sorted({APT[c] for c in missing})
        log(f"installing {' '.join(pkgs)} (apt-get)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        # policy-rc.d 101: the package's own nginx service must not start (and be left behind).
        policy = pathlib.Path("/usr/sbin/policy-rc.d")
        had_policy = policy.exists()
        if not had_policy:
            policy.write_text("#!/bin/sh\nexit 101\n")
            policy.chmod(0o755)
        try:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, stdout=subprocess.DEVNULL)
            subprocess.run(["apt-get", "install", "-y", "-qq", *pkgs], env=env, check=False, stdout=subprocess.DEVNULL)
        finally:
            if not had_policy:
                policy.unlink()
    return [cmd for cmd in APT if not _have(cmd)]


def _have(cmd: str) -> bool:
    return shutil.which(cmd) is not None or os.path.exists(f"/usr/sbin/{cmd}")


def rust_binaries() -> None:
    """The mock provider and the streaming load generator, release builds."""
    cmd = ["cargo", "build", "--release", "--quiet", "-p", "mock-provider", "-p", "stream-loadgen"]
    log("building mock-provider and stream-loadgen (cargo, release)")
    subprocess.run(cmd, cwd=REPO, check=True)


def venv(path: pathlib.Path, packages: list[str], marker: str) -> str | None:
    """A venv at `path` with `packages`; None (and the reason logged) if pip fails."""
    python = path / "bin" / "python"
    if (path / "bin" / marker).exists() or (python.exists() and _imports(python, marker)):
        return None
    logf = BASELINES / f"{path.name}-install.log"
    BASELINES.mkdir(parents=True, exist_ok=True)
    log(f"installing {' '.join(packages)} into {path.relative_to(REPO)} (log: {logf.relative_to(REPO)})")
    with logf.open("w") as f:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, stdout=f, stderr=f)
        r = subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], stdout=f, stderr=f)
    if r.returncode != 0:
        tail = logf.read_text(errors="replace").strip().splitlines()[-1:]
        return f"pip install failed: {' '.join(tail)[:200]}"
    return None


def _imports(python: pathlib.Path, module: str) -> bool:
    return subprocess.run([str(python), "-c", f"import {module}"], capture_output=True).returncode == 0


def litellm() -> str | None:
    """LiteLLM's proxy in its own venv; the reason it is unavailable, or None."""
    return venv(BASELINES / "litellm", ["litellm[proxy]"], "litellm")


def tools() -> str | None:
    """matplotlib (plot) and py-spy (profiles) in benches/.baselines/tools."""
    return venv(TOOLS, ["matplotlib", "py-spy"], "matplotlib")


def versions() -> dict[str, str]:
    """Versions of everything measured, for the report."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {"python": sys.version.split()[0]}
    for pkg in ("switchyard", "granian", "uvloop"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    import switchyard

    out["switchyard"] += f" ({pathlib.Path(switchyard.__file__).parent})"
    lite = BASELINES / "litellm" / "bin" / "python"
    if lite.exists():
        r = subprocess.run(
            [str(lite), "-c", "from importlib.metadata import version; print(version('litellm'))"],
            capture_output=True,
            text=True,
        )
        out["litellm"] = r.stdout.strip() or "not installed"
    for cmd, args in (("nginx", ["-v"]), ("wrk", ["-v"]), ("h2load", ["--version"])):
        path = shutil.which(cmd) or f"/usr/sbin/{cmd}"
        try:
            r = subprocess.run([path, *args], capture_output=True, text=True, timeout=5)
            out[cmd] = (r.stdout + r.stderr).strip().splitlines()[0][:60]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            out[cmd] = "not installed"
    return out


def machine() -> dict[str, str]:
    """CPU model, count, memory, kernel."""
    import platform

    cpuinfo = pathlib.Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "unknown")
    meminfo = pathlib.Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next(int(ln.split()[1]) for ln in meminfo if ln.startswith("MemTotal"))
    return {
        "cpu": cpu,
        "cpus": str(os.cpu_count()),
        "memory": f"{mem_kib / 1024 / 1024:.0f} GiB",
        "kernel": platform.release(),
        "virtualisation": _virt(),
    }


def _virt() -> str:
    try:
        return subprocess.run(["systemd-detect-virt"], capture_output=True, text=True).stdout.strip() or "none"
    except OSError:
        cpuinfo = pathlib.Path("/proc/cpuinfo").read_text().splitlines()
        flags = next((ln for ln in cpuinfo if ln.startswith("flags")), "")
        return "vm (hypervisor flag)" if " hypervisor" in flags else "unknown"
