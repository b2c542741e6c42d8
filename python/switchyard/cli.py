"""The `switchyard` command: argument parsing only; the work is done by config, app and Granian."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from typing import Any

from switchyard import __version__
from switchyard.config import Config, ConfigError, load_config
from switchyard.reload import GENERATION_ENV, bump_generation
from switchyard.store.cooldowns import SHARED_ENV
from switchyard.store.cooldowns import create as create_shared

DESCRIPTION = """\
Switchyard: a self-hosted AI API gateway with an OpenAI-compatible front door.
Point an OpenAI SDK at http://HOST:PORT/v1 and Switchyard routes each request to the
deployments configured for its model."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `switchyard` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    result: int = args.func(args)
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchyard", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"switchyard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the gateway",
        description="Run the gateway on Granian (RSGI, uvloop). Without --config it starts on the embedded "
        "default: a keyless 'demo' model, plus '<vendor>/*' models for every vendor whose standard key "
        "variable (OPENAI_API_KEY, DEEPSEEK_API_KEY, ...) is set. SIGTERM drains in-flight requests. SIGHUP "
        "reloads the config without a restart (validated first; an invalid one is refused and the old one "
        "keeps serving); so does POST /admin/reload.",
    )
    serve.add_argument("--config", metavar="PATH", help="YAML config file (default: the embedded default)")
    serve.add_argument("--host", help="address to listen on (default: server.host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: server.port, 4000)")
    serve.add_argument("--workers", type=int, help="worker processes (default: server.workers, 1)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=_serve)

    check = sub.add_parser(
        "check-config",
        help="validate a config file without serving",
        description="Validate a config file (YAML syntax, types, ${ENV} references, provider and model "
        "cross-references) and print a summary, or the first error with its key path.",
    )
    check.add_argument("path", metavar="PATH", help="YAML config file")
    check.set_defaults(func=_check_config)
    return parser


def _load(path: str | None) -> Config | None:
    try:
        return load_config(path)
    except ConfigError as e:
        print(f"switchyard: invalid config: {e}", file=sys.stderr)
        return None


def _check_config(args: argparse.Namespace) -> int:
    config = _load(args.path)
    if config is None:
        return 1
    print(
        f"{args.path}: ok ({len(config.providers)} providers, {len(config.models)} models: "
        f"{', '.join(sorted(config.models))})"
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    config = _load(args.config)  # fail fast here, before any worker starts
    if config is None:
        return 1
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    if args.config:
        os.environ["SWITCHYARD_CONFIG"] = os.path.abspath(args.config)
    else:
        os.environ.pop("SWITCHYARD_CONFIG", None)
    server = config.server
    host = args.host or server.host
    port = server.port if args.port is None else args.port
    workers = args.workers or server.workers
    print(f"switchyard {__version__}: {config.source}, {len(config.models)} models, http://{host}:{port}/v1")
    state = tempfile.mkdtemp(prefix="switchyard-")
    generation = os.path.join(state, "generation")
    with open(generation, "w") as f:
        f.write("0")
    os.environ[GENERATION_ENV] = generation
    shared = os.path.join(state, "cooldowns")
    create_shared(shared)
    os.environ[SHARED_ENV] = shared

    def on_sighup(*_: Any) -> None:  # instead of Granian's worker respawn, which would lose worker state
        new = _load(args.config)
        if new is None:
            print("switchyard: config reload refused; the previous config keeps serving", file=sys.stderr, flush=True)
            return
        bump_generation(generation)
        print(f"switchyard: config reload: {new.source}, {len(new.models)} models", flush=True)

    granian = Granian(
        "switchyard.app:app",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        loop=Loops.uvloop,
        workers=workers,
        workers_kill_timeout=server.drain_timeout_s or None,
        log_level=LogLevels(args.log_level),
        log_access=False,
    )
    granian.signal_handler_reload = on_sighup  # type: ignore[method-assign]
    try:
        granian.serve()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
