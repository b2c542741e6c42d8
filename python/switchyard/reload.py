"""Config reload without restart: validate the new config first, then swap the worker's gateway.

Three triggers, one mechanism. Each worker polls (every `POLL_S`) a small generation file that the
`switchyard serve` process bumps on SIGHUP after validating the config, and that a worker bumps after an
accepted `POST /admin/reload`, so every worker follows; with `server.watch_config` a worker also reloads
when the config file itself changes. An invalid config is refused (its error names the key path) and the
old one keeps serving. Requests in flight finish on the gateway they started with; health, limit buckets,
the request ledger and the connection pool carry over (`pipeline.gateway.Shared`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

from switchyard.config import Config, ConfigError, load_config

CONFIG_ENV = "SWITCHYARD_CONFIG"
GENERATION_ENV = "SWITCHYARD_RELOAD_FILE"
POLL_S = 0.5
log = logging.getLogger("switchyard")


def bump_generation(path: str | None = None) -> None:
    """Tell every worker to reload (the serve process on SIGHUP, a worker after an admin reload)."""
    path = path or os.environ.get(GENERATION_ENV)
    if not path:
        return
    try:
        with open(path) as f:
            n = int(f.read().strip() or 0)
    except (OSError, ValueError):
        n = 0
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(str(n + 1))
    os.replace(tmp, path)  # atomic: a reader sees the old number or the new one


def _stamp(path: str | None) -> tuple[int, int, int] | None:
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class Reloader:
    """Watches the triggers of one worker and applies a reload through `apply(new_config)`."""

    def __init__(self, apply: Callable[[Config], None], watch_config: bool) -> None:
        self.apply = apply
        self.watch_config = watch_config
        self.config_path = os.environ.get(CONFIG_ENV) or None
        self.generation_path = os.environ.get(GENERATION_ENV) or None
        self._seen = (_stamp(self.generation_path), self._config_stamp())

    def _config_stamp(self) -> tuple[int, int, int] | None:
        return _stamp(self.config_path) if self.watch_config else None

    def reload(self) -> Config:
        """Load and validate the config, then swap it in. Raises ConfigError (old config kept): also for
        a config without models, which is what a file caught half-written (truncated) reads as."""
        config = load_config(self.config_path)
        if not config.models:
            raise ConfigError(f"{config.source}: no models (a reload never empties the gateway)")
        self.apply(config)
        self.watch_config = config.server.watch_config
        self._seen = (_stamp(self.generation_path), self._config_stamp())
        log.info("config reloaded from %s: %d models", config.source, len(config.models))
        return config

    def reload_all(self) -> Config:
        """Reload here, then have every other worker follow."""
        config = self.reload()
        bump_generation(self.generation_path)
        self._seen = (_stamp(self.generation_path), self._seen[1])
        return config

    async def watch(self) -> None:
        """Poll the triggers for ever (cancelled when the worker stops). A changed config file is read
        once it has stayed the same for one poll, so a file being written is not read half-way."""
        pending: tuple[int, int, int] | None = None
        while True:
            await asyncio.sleep(POLL_S)
            generation, file = _stamp(self.generation_path), self._config_stamp()
            if generation == self._seen[0]:
                if file == self._seen[1]:
                    continue
                if file != pending:  # changed since the last poll: wait for it to settle
                    pending = file
                    continue
            pending = None
            self._seen = (generation, file)
            try:
                self.reload()
            except ConfigError as e:
                log.error("config reload refused, the previous config keeps serving: %s", e)
            except Exception:
                log.exception("config reload failed, the previous config keeps serving")
