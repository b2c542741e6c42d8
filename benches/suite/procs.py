"""Every process the suite starts, and what /proc says about them.

Owns: starting processes in their own session (so a whole tree is one process group), stopping them,
and cleaning up on exit or on SIGINT/SIGTERM so nothing is left behind; CPU time (schedstat), RSS,
CPU pinning and steal time. Must not: know what a target or a scenario is.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence

_live: list[subprocess.Popen[bytes]] = []
CLK_TCK = os.sysconf("SC_CLK_TCK")


def install_cleanup() -> None:
    """Stop everything we started at exit, and turn SIGINT/SIGTERM into a clean exit."""
    atexit.register(stop_all)

    def on_signal(signum: int, _frame: object) -> None:
        signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the cleanup
        print(f"\nbenches: signal {signum}, stopping everything", file=sys.stderr, flush=True)
        stop_all()
        os._exit(128 + signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def start(
    cmd: Sequence[str],
    log: pathlib.Path | None,
    cpus: str | None = None,
    env: dict[str, str] | None = None,
    cwd: pathlib.Path | None = None,
    stdout_pipe: bool = False,
) -> subprocess.Popen[bytes]:
    """Start `cmd` in a new session (its own process group), optionally pinned with taskset."""
    argv = ["taskset", "-c", cpus, *cmd] if cpus else list(cmd)
    logf = log.open("ab") if log else subprocess.DEVNULL
    p = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE if stdout_pipe else logf,
        stderr=logf if stdout_pipe or not log else subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        start_new_session=True,
    )
    _live.append(p)
    return p


def run(cmd: Sequence[str], timeout: float, cpus: str | None = None, cwd: pathlib.Path | None = None) -> str:
    """Run a load generator to completion (own process group, so an interrupt stops it too); its stdout."""
    p = start(cmd, None, cpus, cwd=cwd, stdout_pipe=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    finally:
        stop(p)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited with {p.returncode}: {out.decode(errors='replace')[-800:]}")
    return out.decode(errors="replace")


def stop(p: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL after `grace` seconds; then make sure the group is empty."""
    if p.poll() is None:
        _signal_group(p.pid, signal.SIGTERM)
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            _signal_group(p.pid, signal.SIGKILL)
            p.wait()
    # Children that outlived their leader (a worker still draining) are still in the group.
    deadline = time.monotonic() + grace
    while group_alive(p.pid):
        if time.monotonic() > deadline:
            _signal_group(p.pid, signal.SIGKILL)
        time.sleep(0.05)
    if p in _live:
        _live.remove(p)
    for f in (p.stdout, p.stderr):
        if f:
            f.close()


def stop_all() -> None:
    """Stop every process we started, newest first."""
    for p in reversed(list(_live)):
        with contextlib.suppress(OSError):
            stop(p, grace=5.0)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for d in pathlib.Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _tasks(pids: Iterable[int]) -> list[pathlib.Path]:
    tasks: list[pathlib.Path] = []
    for pid in pids:
        try:
            tasks.extend(pathlib.Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
    return tasks


def cpu_ns(pids: Iterable[int]) -> int:
    """On-CPU time of every thread of `pids`, in ns (first field of /proc/<pid>/task/*/schedstat)."""
    total = 0
    for t in _tasks(pids):
        try:
            total += int((t / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def rss_mib(pids: Iterable[int]) -> float:
    """Resident set size of `pids`, summed, in MiB."""
    kib = 0
    for pid in pids:
        try:
            for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    kib += int(line.split()[1])
        except OSError:
            continue
    return kib / 1024


def pin(pids: Iterable[int], cpus: set[int]) -> None:
    """Move every thread of `pids` onto `cpus`."""
    for t in _tasks(pids):
        try:
            os.sched_setaffinity(int(t.name), cpus)
        except OSError:
            continue


def cpu_stat() -> tuple[float, float]:
    """(busy, steal) seconds of the whole machine from /proc/stat: task time of all CPUs, and steal."""
    f = pathlib.Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(x) for x in f[:8])
    return (user + nice + system) / CLK_TCK, steal / CLK_TCK
