"""The `switchyard` command, run as `python -m switchyard` in a subprocess: help texts, exit codes, and
`check-config` on good and bad files. Nothing here starts a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import switchyard
from switchyard import __version__

REPO = Path(__file__).resolve().parent.parent
PACKAGE_ROOT = Path(switchyard.__file__).resolve().parent.parent  # the copy under test: <repo>/python
VALID = """\
providers:
  demo: {kind: demo}
  local: {kind: ollama}
models:
  demo:
    deployments: [{provider: demo, model: demo}]
  "local/*":
    deployments: [{provider: local, model: "*"}]
"""


def run(*args: str, env: dict[str, str] | None = None, unset: str = "") -> subprocess.CompletedProcess[str]:
    """`python -m switchyard ARGS` with the package on PYTHONPATH, `env` added and `unset` removed."""
    python_path = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))
    environ = {k: v for k, v in os.environ.items() if k != unset}
    return subprocess.run(
        [sys.executable, "-m", "switchyard", *args],
        env={**environ, **(env or {}), "PYTHONPATH": python_path},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _words(text: str) -> str:
    return " ".join(text.split())  # argparse wraps to the terminal width


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "switchyard.yaml"
    path.write_text(text)
    return str(path)


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: switchyard")
    for word in ["serve", "check-config", "--version", "OpenAI", "gateway"]:
        assert word in _words(result.stdout)


def test_serve_help_explains_options_and_the_default() -> None:
    result = run("serve", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: switchyard serve")
    for word in [
        "--config",
        "--host",
        "--port",
        "--workers",
        "--log-level",
        "demo",
        "OPENAI_API_KEY",
        "SIGTERM",
    ]:
        assert word in _words(result.stdout)


def test_check_config_help_explains_itself() -> None:
    result = run("check-config", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: switchyard check-config")
    for word in ["PATH", "Validate", "key path"]:
        assert word in _words(result.stdout)


def test_no_command_prints_help_and_exits_2() -> None:
    result = run()
    assert result.returncode == 2
    assert result.stdout.startswith("usage: switchyard")
    assert "check-config" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run("launch")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_check_config_needs_a_path() -> None:
    result = run("check-config")
    assert result.returncode == 2
    assert "PATH" in result.stderr


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"switchyard {__version__}"


def test_check_config_ok_prints_the_models(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    result = run("check-config", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{path}: ok (2 providers, 2 models: demo, local/*)"
    assert result.stderr == ""


def test_check_config_expands_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "server:\n  api_keys: ['${SWITCHYARD_TEST_KEY}']\n")
    assert run("check-config", path, env={"SWITCHYARD_TEST_KEY": "sk-test"}).returncode == 0
    result = run("check-config", path, unset="SWITCHYARD_TEST_KEY")
    assert result.returncode == 1
    assert "server.api_keys[0]: environment variable SWITCHYARD_TEST_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (VALID.replace("model: demo}", "model: demo, weight: 0}"), "models.demo.deployments[0]"),
        (VALID.replace("provider: demo,", "provider: dmeo,"), "models.demo.deployments[0].provider: "),
        (VALID.replace("kind: ollama", "kind: olama"), "providers.local.kind: "),
        (VALID + "servre: {}\n", "servre: unknown top-level key"),
        ("server:\n  port: [4000\n", "not valid YAML"),
    ],
)
def test_check_config_invalid_exits_1_with_the_key_path(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    result = run("check-config", path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("switchyard: invalid config: ")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_missing_file_names_it(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.yaml")
    result = run("check-config", path)
    assert result.returncode == 1
    assert f"{path}: cannot read config file" in result.stderr


def test_serve_with_a_bad_config_fails_before_starting(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("kind: ollama", "kind: olama"))
    result = run("serve", "--config", path)
    assert result.returncode == 1
    assert "providers.local.kind: " in result.stderr
