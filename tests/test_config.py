"""switchyard.config: defaults, `${ENV}` expansion, validation messages that start with the key path at
fault, the embedded default, secrets kept out of reprs, and the shipped example."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from switchyard.config import (
    ApiKey,
    Config,
    ConfigError,
    ProviderConfig,
    RateLimits,
    ServerConfig,
    Timeouts,
    default_config,
    load_config,
    parse_config,
)
from switchyard.providers.presets import PRESETS

REPO = Path(__file__).resolve().parent.parent
DEMO = {"providers": {"demo": {"kind": "demo"}}}
DEP = {"provider": "demo", "model": "demo"}


def _chat(*deployments: dict[str, Any]) -> dict[str, Any]:
    return {**DEMO, "models": {"chat": {"deployments": list(deployments)}}}


def _error(tree: Any, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(tree, environ or {})
    return str(caught.value)


def test_empty_tree_gets_every_default() -> None:
    config = parse_config({}, {})
    assert config.server == ServerConfig()
    assert (config.server.host, config.server.port, config.server.workers) == ("127.0.0.1", 4000, 1)
    assert (config.server.max_body_bytes, config.server.body_read_timeout_s) == (8 * 1024 * 1024, 30.0)
    assert config.server.drain_timeout_s == 30
    assert (config.server.api_keys, config.server.admin_api_key) == ([], None)
    assert config.server.timeouts == Timeouts(connect_s=10.0, first_byte_s=300.0, idle_s=120.0, total_s=900.0)
    assert (config.providers, config.models, config.source) == ({}, {}, "<inline>")


def test_deployment_weight_defaults_to_one_and_provider_fields_to_none() -> None:
    config = parse_config(_chat(DEP), {})
    assert config.models["chat"].deployments[0].weight == 1.0
    demo = config.providers["demo"]
    assert (demo.base_url, demo.api_key, demo.timeouts, demo.headers) == (None, None, None, {})


def test_env_expansion_in_nested_strings_and_lists() -> None:
    tree = {
        "server": {"api_keys": ["${A}", "pre-${B:-fallback}-post", "${A}${A}"], "host": "${HOST:-0.0.0.0}"},
        "providers": {"o": {"kind": "openai", "api_key": "${KEY}", "headers": {"x-org": "org-${ORG:-none}"}}},
    }
    config = parse_config(tree, {"A": "a1", "KEY": "sk-1", "ORG": ""})
    assert config.server.api_keys == ["a1", "pre-fallback-post", "a1a1"]
    assert config.server.host == "0.0.0.0"
    assert config.providers["o"].api_key == "sk-1"
    assert config.providers["o"].headers == {"x-org": "org-"}  # set but empty wins over the default


def test_env_values_are_not_expanded_twice_and_non_refs_stay() -> None:
    tree = {"server": {"api_keys": ["${A}", "$A", "${not a ref}"], "host": "${B:-}"}}
    config = parse_config(tree, {"A": "${B}"})
    assert config.server.api_keys == ["${B}", "$A", "${not a ref}"]
    assert config.server.host == ""


@pytest.mark.parametrize(
    ("tree", "path", "var"),
    [
        ({"providers": {"openai": {"kind": "openai", "api_key": "${X}"}}}, "providers.openai.api_key", "X"),
        ({"server": {"api_keys": ["ok", "${SECRET}"]}}, "server.api_keys[1]", "SECRET"),
        ({"server": {"timeouts": {"idle_s": "${IDLE}"}}}, "server.timeouts.idle_s", "IDLE"),
        (_chat(DEP, {**DEP, "model": "${M}"}), "models.chat.deployments[1].model", "M"),
    ],
)
def test_missing_env_var_names_the_key_path(tree: dict, path: str, var: str) -> None:
    assert _error(tree) == f"{path}: environment variable {var} is not set"


@pytest.mark.parametrize(
    ("tree", "prefix", "words"),
    [
        ({"serve": {}}, "serve:", ["unknown top-level key"]),
        ({"server": {"prot": 1}}, "server", ["unknown", "prot"]),
        ({"providers": {"p": {"kind": "openai", "api_key": "k", "colour": "x"}}}, "providers.p", ["colour"]),
        (_chat({**DEP, "wieght": 2}), "models.chat.deployments[0]", ["wieght"]),
        ({**DEMO, "models": {"chat": {"deployments": [DEP], "fallback": 1}}}, "models.chat", ["fallback"]),
        ({"server": {"timeouts": {"read_s": 1}}}, "server.timeouts", ["read_s"]),
    ],
)
def test_unknown_keys_are_rejected_at_their_path(tree: dict, prefix: str, words: list[str]) -> None:
    message = _error(tree)
    assert message.startswith(prefix)
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("tree", "path"),
    [
        ({"server": {"port": "abc"}}, "server.port"),
        ({"server": {"workers": 1.5}}, "server.workers"),
        ({"server": {"api_keys": "sk-single"}}, "server.api_keys"),
        ({"server": {"timeouts": {"idle_s": "soon"}}}, "server.timeouts.idle_s"),
        ({"providers": {"p": {"kind": 3}}}, "providers.p.kind"),
        ({"providers": {"p": {"kind": "ollama", "headers": ["a"]}}}, "providers.p.headers"),
        ({"providers": {"p": {"kind": "ollama", "stream_usage": "yes"}}}, "providers.p.stream_usage"),
        (_chat({**DEP, "weight": "heavy"}), "models.chat.deployments[0].weight"),
        ({**DEMO, "models": {"chat": {"deployments": {"provider": "demo"}}}}, "models.chat.deployments"),
        ({"server": []}, "server"),
        ({"server": "0.0.0.0:4000"}, "server"),
        ({"providers": []}, "providers"),
        ({"models": "chat"}, "models"),
    ],
)
def test_wrong_types_name_the_key_path(tree: dict, path: str) -> None:
    assert _error(tree).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("tree", "path"),
    [
        (_chat({**DEP, "weight": 0}), "models.chat.deployments[0].weight"),
        (_chat(DEP, {**DEP, "weight": -1}), "models.chat.deployments[1].weight"),
        (_chat({**DEP, "model": ""}), "models.chat.deployments[0].model"),
        ({**DEMO, "models": {"chat": {"deployments": []}}}, "models.chat.deployments"),
        ({"server": {"workers": 0}}, "server.workers"),
        ({"server": {"port": 70000}}, "server.port"),
        ({"server": {"port": -1}}, "server.port"),
        ({"server": {"max_body_bytes": 10}}, "server.max_body_bytes"),
        ({"server": {"body_read_timeout_s": 0}}, "server.body_read_timeout_s"),
        ({"server": {"drain_timeout_s": -1}}, "server.drain_timeout_s"),
        ({"server": {"api_keys": ["sk-ok", ""]}}, "server.api_keys[1]"),
        ({"server": {"timeouts": {"connect_s": 0}}}, "server.timeouts.connect_s"),
        ({"server": {"timeouts": {"total_s": -5}}}, "server.timeouts.total_s"),
        ({"providers": {"p": {"kind": "ollama", "timeouts": {"idle_s": 0}}}}, "providers.p.timeouts.idle_s"),
    ],
)
def test_out_of_range_values_name_the_exact_key_path(tree: dict, path: str) -> None:
    assert _error(tree).startswith(f"{path}: ")


def test_numbers_from_env_refs_are_converted() -> None:
    tree = {"server": {"port": "${PORT:-4000}", "body_read_timeout_s": "${T}"}}
    config = parse_config(tree, {"T": "2.5"})
    assert config.server.port == 4000 and config.server.body_read_timeout_s == 2.5
    assert _error({"server": {"port": "${PORT}"}}, {"PORT": "http"}).startswith("server.port: ")


def test_boundary_values_are_accepted() -> None:
    config = parse_config({"server": {"port": 0, "max_body_bytes": 1024, "drain_timeout_s": 0}}, {})
    assert (config.server.port, config.server.max_body_bytes, config.server.drain_timeout_s) == (0, 1024, 0)
    assert parse_config({"server": {"port": 65535}}, {}).server.port == 65535


def test_unknown_provider_kind_lists_the_known_kinds() -> None:
    message = _error({"providers": {"p": {"kind": "opneai"}}})
    assert message.startswith("providers.p.kind: unknown provider kind 'opneai'")
    for kind in [*PRESETS, "demo"]:
        assert kind in message


def test_openai_compatible_needs_an_http_base_url() -> None:
    assert _error({"providers": {"p": {"kind": "openai-compatible"}}}).startswith("providers.p.base_url: ")
    for url in ["ftp://llm.local/v1", "llm.local:8000/v1"]:
        message = _error({"providers": {"p": {"kind": "openai-compatible", "base_url": url}}})
        assert message.startswith("providers.p.base_url: ") and url in message
    for url in ["http://llm.local:8000/v1", "https://llm.example.com/v1"]:
        config = parse_config({"providers": {"p": {"kind": "openai-compatible", "base_url": url}}}, {})
        assert config.providers["p"].base_url == url


def test_an_overridden_preset_base_url_is_checked_too() -> None:
    tree = {"providers": {"p": {"kind": "openai", "api_key": "k", "base_url": "api.openai.com"}}}
    assert _error(tree).startswith("providers.p.base_url: ")


@pytest.mark.parametrize("kind", sorted(k for k, p in PRESETS.items() if p.needs_key))
def test_keyed_presets_require_an_api_key(kind: str) -> None:
    for body in [{"kind": kind}, {"kind": kind, "api_key": ""}]:
        message = _error({"providers": {"p": body}})
        assert message.startswith("providers.p.api_key: required")
        assert PRESETS[kind].key_env in message  # the hint names the variable to use
    url = {} if PRESETS[kind].base_url else {"base_url": "https://res.example"}  # azure: the resource URL
    config = parse_config({"providers": {"p": {"kind": kind, "api_key": "k", **url}}}, {})
    assert config.providers["p"].api_key == "k"


def test_local_and_demo_kinds_need_no_key() -> None:
    tree = {"providers": {"o": {"kind": "ollama"}, "v": {"kind": "vllm"}, "d": {"kind": "demo"}}}
    assert sorted(parse_config(tree, {}).providers) == ["d", "o", "v"]


def test_deployment_must_reference_a_defined_provider() -> None:
    message = _error(_chat(DEP, {"provider": "opneai", "model": "gpt-4o"}))
    assert message.startswith("models.chat.deployments[1].provider: unknown provider 'opneai'")
    assert "demo" in message  # the known providers are listed


def test_star_model_only_under_a_prefix_wildcard() -> None:
    message = _error(_chat({**DEP, "model": "*"}))
    assert message.startswith("models.chat.deployments[0].model: ")
    tree = {**DEMO, "models": {"local/*": {"deployments": [{"provider": "demo", "model": "*"}]}}}
    assert parse_config(tree, {}).models["local/*"].deployments[0].model == "*"


@pytest.mark.parametrize("tree", [[], "server", 3])
def test_top_level_must_be_a_mapping(tree: Any) -> None:
    assert _error(tree).startswith("(top level): ")


def test_load_config_reads_a_file_and_records_its_source(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("server:\n  port: 4100\nproviders:\n  demo: {kind: demo}\n")
    config = load_config(str(path), {})
    assert (config.server.port, config.source, list(config.providers)) == (4100, str(path), ["demo"])
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    assert load_config(str(tmp_path / "empty.yaml"), {}).models == {}


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("server:\n  port: [4000\n")
    with pytest.raises(ConfigError, match="YAML") as caught:
        load_config(str(path), {})
    assert str(caught.value).startswith(f"{path}: ")


@pytest.mark.parametrize("name", ["missing.yaml", "."])
def test_unreadable_file_names_the_file(tmp_path: Path, name: str) -> None:
    path = str(tmp_path / name)
    with pytest.raises(ConfigError, match="cannot read") as caught:
        load_config(path, {})
    assert str(caught.value).startswith(f"{path}: ")


def test_environ_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("server:\n  api_keys: ['${SWITCHYARD_TEST_KEY}']\n")
    monkeypatch.setenv("SWITCHYARD_TEST_KEY", "sk-from-env")
    assert load_config(str(path)).server.api_keys == ["sk-from-env"]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-o")
    assert "openai/*" in load_config(None).models


def test_no_path_means_the_embedded_default() -> None:
    config = load_config(None, {})
    assert config == default_config({})
    assert config.source == "<embedded default>"


def test_embedded_default_without_keys_is_the_demo_model() -> None:
    config = default_config({})
    assert list(config.models) == ["demo"]
    assert config.providers == {"demo": ProviderConfig(kind="demo")}
    assert config.models["demo"].deployments[0].provider == "demo"


def test_embedded_default_adds_a_wildcard_per_vendor_key() -> None:
    environ = {"OPENAI_API_KEY": "sk-o", "GROQ_API_KEY": "gsk-g", "MISTRAL_API_KEY": "", "UNRELATED": "x"}
    config = default_config(environ)
    assert sorted(config.models) == ["demo", "groq/*", "openai/*"]  # an empty key counts as unset
    assert config.providers["openai"] == ProviderConfig(kind="openai", api_key="sk-o")
    assert config.providers["groq"].api_key == "gsk-g"
    (dep,) = config.models["openai/*"].deployments
    assert (dep.provider, dep.model) == ("openai", "*")


def test_embedded_default_covers_every_keyed_preset() -> None:
    # every keyed preset with a default base URL (azure needs its resource URL from a config file)
    keyed = {name: p.key_env for name, p in PRESETS.items() if p.key_env and p.base_url}
    config = default_config({env: f"key-{name}" for name, env in keyed.items()})
    assert sorted(config.models) == sorted(["demo", *(f"{name}/*" for name in keyed)])
    assert all(config.providers[name].api_key == f"key-{name}" for name in keyed)


def test_reprs_never_show_secrets() -> None:
    provider = ProviderConfig(kind="openai", api_key="sk-live-SECRET1", headers={"x-api-key": "SECRET4"})
    server = ServerConfig(api_keys=["sk-gw-SECRET2"], admin_api_key="sk-admin-SECRET3")
    config = default_config({"OPENAI_API_KEY": "sk-live-SECRET1"})
    texts = [repr(provider), str(provider), repr(server), str(server), repr(config), f"{config}"]
    assert all("SECRET" not in text for text in texts), texts
    assert "openai" in repr(provider) and "4000" in repr(server)


def test_example_config_validates_with_keys_set() -> None:
    path = str(REPO / "examples" / "switchyard.yaml")
    config = load_config(path, {"OPENAI_API_KEY": "sk-o", "DEEPSEEK_API_KEY": "sk-d"})
    assert isinstance(config, Config)
    assert sorted(config.models) == ["auto", "chat", "demo", "gpt-4o-mini", "local/*"]
    assert [t.route for t in config.models["auto"].tiers] == ["chat", "chat", "gpt-4o-mini"]
    assert [d.weight for d in config.models["chat"].deployments] == [3.0, 1.0]
    assert config.server.api_keys == ["sk-switchyard-dev"]
    assert config.providers["deepseek"].api_key == "sk-d"


def test_example_config_without_keys_says_which_key_is_missing() -> None:
    path = str(REPO / "examples" / "switchyard.yaml")
    with pytest.raises(ConfigError, match=r"^providers\.openai\.api_key: required .*OPENAI_API_KEY"):
        load_config(path, {"DEEPSEEK_API_KEY": "sk-d"})


def test_keys_with_names_and_limits() -> None:
    tree = {
        "server": {"api_keys": ["sk-plain", {"key": "sk-team", "name": "team", "limits": {"rpm": 60, "tpm": "1000"}}]},
        "limits": {"per_key": {"concurrent": 4}},
        **_chat(DEP),
    }
    tree["models"]["chat"]["limits"] = {"rpm": 10}
    config = parse_config(tree, {})
    plain, team = config.server.api_keys
    assert plain == "sk-plain"
    assert isinstance(team, ApiKey) and team.name == "team"
    assert team.limits == RateLimits(rpm=60, tpm=1000)
    assert config.limits.per_key == RateLimits(concurrent=4)
    assert config.models["chat"].limits == RateLimits(rpm=10)
    assert "sk-team" not in repr(team) and "sk-team" not in repr(config)


@pytest.mark.parametrize(
    ("tree", "path"),
    [
        ({"server": {"api_keys": [{"key": "k", "limits": {"rpm": 0}}]}}, "server.api_keys[0].limits.rpm"),
        ({"server": {"api_keys": [{"key": "k", "limits": {"rpms": 1}}]}}, "server.api_keys[0].limits"),
        ({"server": {"api_keys": [{"name": "no key"}]}}, "server.api_keys[0]"),
        ({"limits": {"per_key": {"tpm": -1}}}, "limits.per_key.tpm"),
        ({"limits": {"max_buckets": 10}}, "limits.max_buckets"),
        ({"limits": {"per_model": {}}}, "limits"),
    ],
)
def test_limit_errors_name_the_key_path(tree: dict, path: str) -> None:
    assert _error(tree).startswith(path), _error(tree)


def test_model_limits_are_checked_at_their_path() -> None:
    tree = _chat(DEP)
    tree["models"]["chat"]["limits"] = {"concurrent": 0}
    assert _error(tree).startswith("models.chat.limits.concurrent")


def test_duplicate_keys_and_names_are_rejected_without_showing_the_key() -> None:
    message = _error({"server": {"api_keys": ["sk-dup-SECRET", {"key": "sk-dup-SECRET", "name": "b"}]}})
    assert message.startswith("server.api_keys[1]: the same key as server.api_keys[0]")
    assert "SECRET" not in message
    message = _error({"server": {"api_keys": [{"key": "a", "name": "x"}, {"key": "b", "name": "x"}]}})
    assert message.startswith("server.api_keys[1].name: 'x'")
