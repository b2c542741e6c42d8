"""Deployment cooldowns and latency shared by the workers of one `switchyard serve`, through a
memory-mapped file.

The serve process creates the file (`SWITCHYARD_SHARED_FILE`); each worker maps it. A slot is 32 bytes:
the deployment name's 64-bit hash, the monotonic time its cooldown ends (CLOCK_MONOTONIC is the same
clock in every process of the machine), and the time-to-first-byte EWMA and p95 (ms, 0: none yet) as
the last worker to measure one left them: every worker folds its samples into the shared EWMA and
publishes its own p95, so routing in each worker sees the traffic of all. Slots are found by open
addressing over `SLOTS` entries. Writes are plain stores, not atomic: a reader that catches a torn slot
sees a hash that does not match and treats the deployment as not cooling and unmeasured, so the worst
case is one extra attempt or one misordered pick, never a stuck breaker.
Reads cost a dict lookup and one `struct.unpack_from` (~0.3 µs); nothing blocks.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct

SHARED_ENV = "SWITCHYARD_SHARED_FILE"
SLOTS = 1024
SLOT = struct.Struct("<Qddd")
SIZE = SLOTS * SLOT.size


def create(path: str) -> None:
    """Make the zeroed file workers will map (the serve process, before workers start)."""
    with open(path, "wb") as f:
        f.truncate(SIZE)


class SharedCooldowns:
    """The workers' common view of which deployments are cooling and until when."""

    def __init__(self, path: str) -> None:
        fd = os.open(path, os.O_RDWR)
        try:
            self._map = mmap.mmap(fd, SIZE)
        finally:
            os.close(fd)
        self._slots: dict[str, tuple[int, int]] = {}  # name -> (hash, offset)

    @classmethod
    def from_env(cls) -> SharedCooldowns | None:
        path = os.environ.get(SHARED_ENV)
        return cls(path) if path and os.path.exists(path) else None

    def _slot(self, name: str) -> tuple[int, int]:
        found = self._slots.get(name)
        if found is not None:
            return found
        h = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little") or 1
        i = h % SLOTS
        for _ in range(SLOTS):  # open addressing: the first slot that is ours or empty
            owner = SLOT.unpack_from(self._map, i * SLOT.size)[0]
            if owner in (h, 0):
                break
            i = (i + 1) % SLOTS
        found = self._slots[name] = (h, i * SLOT.size)
        return found

    def _read(self, name: str) -> tuple[int, float, float, float] | None:
        h, off = self._slot(name)
        owner, until, ewma, p95 = SLOT.unpack_from(self._map, off)
        return (off, until, ewma, p95) if owner == h else None

    def until(self, name: str) -> float:
        """When `name`'s shared cooldown ends (0.0: not cooling, as far as any worker said)."""
        slot = self._read(name)
        return 0.0 if slot is None else slot[1]

    def set(self, name: str, until: float) -> None:
        """Publish `name`'s cooldown end (0.0 clears it), keeping its latency figures."""
        slot = self._read(name)
        h, off = self._slot(name)
        SLOT.pack_into(self._map, off, h, until, *(slot[2:] if slot else (0.0, 0.0)))

    def latency(self, name: str) -> tuple[float | None, float | None]:
        """The shared (EWMA, p95) time to first byte of `name`, in ms; None where no worker measured."""
        slot = self._read(name)
        if slot is None:
            return None, None
        return (slot[2] or None), (slot[3] or None)

    def add_sample(self, name: str, ttfb_ms: float, alpha: float, p95_ms: float | None) -> None:
        """Fold one sample into the shared EWMA and publish this worker's p95."""
        slot = self._read(name)
        h, off = self._slot(name)
        until, ewma, p95 = slot[1:] if slot else (0.0, 0.0, 0.0)
        ewma = ttfb_ms if not ewma else ewma + alpha * (ttfb_ms - ewma)
        SLOT.pack_into(self._map, off, h, until, ewma, p95_ms or p95)
