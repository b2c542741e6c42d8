"""The configuration: one YAML file decoded into msgspec Structs, the single source of truth for settings.

Owns: the Structs and their defaults, `${ENV}` expansion for secrets, cross-reference validation, and the
embedded default used when no file is given. Every error names the offending key path
(`models.gpt-4o.deployments[0].provider: ...`). Must not: open sockets, import the server, or log secrets
(the Structs holding keys mask them in their repr).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

import msgspec
import yaml
from msgspec import Meta

from switchyard.providers.presets import ENDPOINTS, PRESETS

DEMO_KIND = "demo"

# Bounds live in the field types so msgspec names the exact field at fault (`server.port: Expected ...`).
Seconds = Annotated[float, Meta(gt=0)]
Count = Annotated[int, Meta(ge=1, le=2**40)]
NonEmpty = Annotated[str, Meta(min_length=1)]


class ConfigError(Exception):
    """The configuration cannot be used; the message starts with the key path at fault."""


class Timeouts(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Upstream timeouts in seconds. A timed-out attempt answers 504 (before the first byte) or ends the
    stream with an error event (after it)."""

    connect_s: Seconds = 10.0
    first_byte_s: Seconds = 300.0  # non-streamed answers arrive whole, so this bounds a whole generation
    idle_s: Seconds = 120.0  # longest silence between two chunks of a stream
    total_s: Seconds = 900.0


Mode = Literal["full", "routing-only"]
Strategy = Literal["weighted", "fallback", "least-latency", "least-busy", "cheapest", "latency-slo"]


class RetryConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How dispatch walks and retries before the first byte reaches the caller (never after)."""

    attempts: Annotated[int, Meta(ge=1, le=20)] = 3  # upstream attempts per request, all deployments together
    on_status: list[Annotated[int, Meta(ge=400, le=599)]] = msgspec.field(
        default_factory=lambda: [429, 500, 502, 503, 504, 529]
    )
    backoff_ms: Annotated[float, Meta(ge=0)] = 100.0  # before re-trying a deployment already tried: full jitter
    backoff_max_ms: Annotated[float, Meta(ge=0)] = 5000.0
    deadline_s: Seconds = 120.0  # no new attempt (nor wait) past this since the request arrived


class HealthConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Circuit breaking: `failures` within `window_s` cools a deployment down for `cooldown_s`, after which
    one probe request at a time is let through (half-open) until one succeeds."""

    failures: Annotated[int, Meta(ge=1)] = 3
    window_s: Seconds = 30.0
    cooldown_s: Seconds = 30.0


class RateLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Requests per minute, tokens per minute (prompt estimate + `max_tokens` at admission, settled to the
    provider's usage afterwards) and requests in flight; each is off when unset. A minute's worth may be
    used at once (the bucket holds `rpm` requests / `tpm` tokens and refills continuously)."""

    rpm: Count | None = None
    tpm: Count | None = None
    concurrent: Count | None = None


class ApiKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A gateway key with a name (what limits, records and errors show; never the key) and its own limits."""

    key: NonEmpty
    name: NonEmpty | None = None
    limits: RateLimits | None = None

    def __repr__(self) -> str:
        return f"ApiKey(name={self.name!r}, key=<hidden>, limits={self.limits!r})"


class LimitsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Gateway-wide limit settings. Per-model limits live under `models.NAME.limits`, per-key ones under
    `server.api_keys[i].limits`."""

    per_key: RateLimits | None = None  # for every key without limits of its own (and for all callers without auth)
    max_buckets: Annotated[int, Meta(ge=1000)] = 100_000  # memory bound of the in-process limiter


class ServerConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Listener, request limits and gateway authentication."""

    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 4000
    workers: Annotated[int, Meta(ge=1)] = 1
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 8 * 1024 * 1024
    # Granian never times out a slow body upload, so the gateway enforces its own deadline.
    body_read_timeout_s: Seconds = 30.0
    # Seconds a SIGTERM waits for in-flight requests (streams included) before workers are killed.
    drain_timeout_s: Annotated[int, Meta(ge=0)] = 30
    # Keys callers present as `Authorization: Bearer ...` (a string, or {key, name, limits}); empty: no auth.
    api_keys: list[NonEmpty | ApiKey] = []
    admin_api_key: str | None = None  # enables /admin/* when set
    timeouts: Timeouts = Timeouts()
    mode: Mode = "full"  # routing-only: no limits, no usage capture, bytes relayed as they come
    retry: RetryConfig = RetryConfig()
    health: HealthConfig = HealthConfig()
    watch_config: bool = False  # reload when the config file changes (SIGHUP and POST /admin/reload always work)

    def __repr__(self) -> str:
        return f"ServerConfig(host={self.host!r}, port={self.port}, api_keys=<{len(self.api_keys)} hidden>)"


class ProviderConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One upstream account. `kind` is a preset name (openai, deepseek, ...), `openai-compatible`, or `demo`."""

    kind: str
    base_url: str | None = None
    api_key: str | None = None
    auth_header: str | None = None
    stream_usage: bool | None = None
    headers: dict[str, str] = {}
    timeouts: Timeouts | None = None
    # Azure: the `api-version` query parameter; Anthropic: the `anthropic-version` header (defaults in
    # providers/azure.py and providers/anthropic.py).
    api_version: str | None = None
    # Anthropic requires `max_tokens`; a request without one gets this.
    default_max_tokens: Annotated[int, Meta(ge=1)] = 4096
    # What it serves beside chat completions (embeddings, images, completions, moderations, responses);
    # unset: what its kind's API offers (providers/presets.py).
    endpoints: list[str] | None = None

    def __repr__(self) -> str:
        return f"ProviderConfig(kind={self.kind!r}, base_url={self.base_url!r}, api_key=<hidden>)"


class DeploymentConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A provider + the upstream model name + a weight. `model: "*"` under a `prefix/*` model name means
    "the part of the caller's model after the prefix"."""

    provider: str
    model: Annotated[str, Meta(min_length=1)]
    weight: Annotated[float, Meta(gt=0, le=1e6)] = 1.0
    input_cost: Annotated[float, Meta(ge=0)] | None = None  # USD per 1M input tokens (for `cheapest`)
    output_cost: Annotated[float, Meta(ge=0)] | None = None  # USD per 1M output tokens
    context_window: Count | None = None  # prompt + max_tokens must fit, else the deployment is skipped
    timeouts: Timeouts | None = None  # overrides the provider's


class TierConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A content-based rule: when every condition given holds (or the caller sent `x-switchyard-tier: NAME`),
    the request goes to model group `route`. Rules are tried in order; one without conditions always matches."""

    name: NonEmpty
    route: NonEmpty
    min_chars: Annotated[int, Meta(ge=0)] | None = None  # total text of the messages, in characters (bytes)
    max_chars: Annotated[int, Meta(ge=0)] | None = None
    min_messages: Annotated[int, Meta(ge=0)] | None = None
    code: bool | None = None  # has a fenced code block
    reasoning: bool | None = None  # has reasoning markers ("step by step", "prove", ...)
    tools: bool | None = None
    images: bool | None = None
    json: bool | None = None  # asks for response_format


class ModelConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The deployments behind one caller-facing model name (a *group*)."""

    deployments: list[DeploymentConfig] = []  # required unless `tiers` route elsewhere
    limits: RateLimits | None = None  # for the whole group, across all keys
    strategy: Strategy = "weighted"
    max_latency_ms: Annotated[float, Meta(gt=0)] | None = None  # latency-slo: p95 time-to-first-byte target
    fallbacks: list[NonEmpty] = []  # other groups to try when every deployment here failed
    context_fallbacks: list[NonEmpty] = []  # groups for a prompt too long here (context_length_exceeded)
    policy_fallbacks: list[NonEmpty] = []  # groups for a content-policy refusal here
    tiers: list[TierConfig] = []  # content-based routing to other groups
    mode: Mode | None = None  # overrides server.mode for this group


class Config(msgspec.Struct, frozen=True):
    """The whole validated configuration."""

    server: ServerConfig
    providers: dict[str, ProviderConfig]
    models: dict[str, ModelConfig]
    source: str  # the file it came from, or "<embedded default>"
    limits: LimitsConfig = LimitsConfig()


_T = TypeVar("_T")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TOP_KEYS = {"server", "providers", "models", "limits"}


def load_config(path: str | None, environ: Mapping[str, str] | None = None) -> Config:
    """Read, expand and validate the config at `path`; with no path, build the embedded default."""
    env = os.environ if environ is None else environ
    if path is None:
        return default_config(env)
    try:
        with open(path, "rb") as f:
            tree = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config file: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    return parse_config(tree if tree is not None else {}, env, source=path)


def parse_config(tree: Any, environ: Mapping[str, str], *, source: str = "<inline>") -> Config:
    """Validate an already-loaded YAML tree (after `${ENV}` expansion) into a `Config`."""
    if not isinstance(tree, dict):
        raise ConfigError("(top level): expected a mapping with server, providers and models")
    unknown = sorted(set(map(str, tree)) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown top-level key (expected one of {sorted(_TOP_KEYS)})")
    tree = _expand(tree, environ, "")
    server = _convert({} if tree.get("server") is None else tree["server"], ServerConfig, "server")
    providers = {
        str(name): _convert(body, ProviderConfig, f"providers.{name}")
        for name, body in _mapping(tree.get("providers"), "providers").items()
    }
    models = {
        str(name): _convert(body, ModelConfig, f"models.{name}")
        for name, body in _mapping(tree.get("models"), "models").items()
    }
    limits = _convert({} if tree.get("limits") is None else tree["limits"], LimitsConfig, "limits")
    config = Config(server=server, providers=providers, models=models, source=source, limits=limits)
    _check_references(config)
    return config


def default_config(environ: Mapping[str, str]) -> Config:
    """The embedded default: the keyless demo model, plus `<vendor>/*` for each vendor whose key is set."""
    providers = {"demo": ProviderConfig(kind=DEMO_KIND)}
    models = {"demo": ModelConfig([DeploymentConfig(provider="demo", model="demo")])}
    for name, preset in PRESETS.items():
        key = environ.get(preset.key_env) if preset.key_env else None
        if key and preset.base_url:  # azure needs its resource URL from a config file
            providers[name] = ProviderConfig(kind=name, api_key=key)
            models[f"{name}/*"] = ModelConfig([DeploymentConfig(provider=name, model="*")])
    config = Config(ServerConfig(), providers, models, source="<embedded default>")
    _check_references(config)
    return config


def _conditions(tier: TierConfig) -> bool:
    return any(getattr(tier, f) is not None for f in TierConfig.__struct_fields__ if f not in ("name", "route"))


def _mapping(value: Any, path: str) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected a mapping of name to settings, got {type(value).__name__}")
    return value


def _convert(value: Any, typ: type[_T], path: str) -> _T:
    try:
        # strict=False: `${PORT:-4000}` expands to a string, and "4000" must still be a valid port.
        return msgspec.convert(value, typ, strict=False)
    except msgspec.ValidationError as e:
        msg, _, where = str(e).rpartition(" - at `")
        if not msg:  # no location in the message: the error is about the value at `path` itself
            raise ConfigError(f"{path}: {e}") from None
        raise ConfigError(f"{path}{where.rstrip('`').removeprefix('$')}: {msg}") from None


def _expand(value: Any, environ: Mapping[str, str], path: str) -> Any:
    """Replace `${NAME}` / `${NAME:-default}` in every string, naming the key path when NAME is unset."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            raise ConfigError(f"{path or '(top level)'}: environment variable {name} is not set")

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, environ, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, environ, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _check_references(config: Config) -> None:
    names: dict[str, int] = {}
    seen: dict[str, int] = {}
    for i, entry in enumerate(config.server.api_keys):
        key = entry.key if isinstance(entry, ApiKey) else entry
        if key in seen:
            raise ConfigError(f"server.api_keys[{i}]: the same key as server.api_keys[{seen[key]}]")
        seen[key] = i
        if isinstance(entry, ApiKey) and entry.name is not None:
            if entry.name in names:
                other = names[entry.name]
                raise ConfigError(f"server.api_keys[{i}].name: {entry.name!r} is already server.api_keys[{other}]'s")
            names[entry.name] = i
    for name, p in config.providers.items():
        path = f"providers.{name}"
        if p.kind == DEMO_KIND:
            continue
        preset = PRESETS.get(p.kind)
        if preset is None:
            kinds = sorted([*PRESETS, DEMO_KIND])
            raise ConfigError(f"{path}.kind: unknown provider kind {p.kind!r} (known: {', '.join(kinds)})")
        if preset.needs_key and not p.api_key:
            hint = f" (e.g. api_key: ${{{preset.key_env}}})" if preset.key_env else ""
            raise ConfigError(f"{path}.api_key: required for kind {p.kind!r}{hint}")
        can = ENDPOINTS if preset.protocol in ("openai", "azure") else preset.endpoints
        for i, e in enumerate(p.endpoints or []):
            if e not in can:
                known = ", ".join(sorted(can)) or "none"
                raise ConfigError(
                    f"{path}.endpoints[{i}]: {e!r} is not an endpoint kind {p.kind!r} can serve ({known})"
                )
        base_url = p.base_url or preset.base_url
        if not base_url:
            raise ConfigError(f"{path}.base_url: required for kind {p.kind!r}")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{path}.base_url: must start with http:// or https://, got {base_url!r}")
    for model, group in config.models.items():
        if not group.deployments and not group.tiers:
            raise ConfigError(f"models.{model}.deployments: at least one deployment (or tiers) is required")
        if group.tiers and not group.deployments and _conditions(group.tiers[-1]):
            raise ConfigError(
                f"models.{model}.tiers[{len(group.tiers) - 1}]: the last tier of a group without deployments "
                "must have no conditions (it catches what the others do not)"
            )
        refs = [("fallbacks", n) for n in group.fallbacks] + [("context_fallbacks", n) for n in group.context_fallbacks]
        refs += [("policy_fallbacks", n) for n in group.policy_fallbacks]
        refs += [(f"tiers[{i}].route", t.route) for i, t in enumerate(group.tiers)]
        for where, target in refs:
            if target not in config.models or target.endswith("/*"):
                raise ConfigError(f"models.{model}.{where}: {target!r} is not a model group of this config")
            if target == model:
                raise ConfigError(f"models.{model}.{where}: a group cannot route to itself")
        if group.strategy == "latency-slo" and group.max_latency_ms is None:
            raise ConfigError(f"models.{model}.max_latency_ms: required by strategy 'latency-slo'")
        for i, dep in enumerate(group.deployments):
            path = f"models.{model}.deployments[{i}]"
            if dep.provider not in config.providers:
                known = ", ".join(sorted(config.providers)) or "none defined"
                raise ConfigError(f"{path}.provider: unknown provider {dep.provider!r} (known: {known})")
            if dep.model == "*" and not model.endswith("/*"):
                raise ConfigError(f"{path}.model: '*' is only allowed under a 'prefix/*' model name")
            kind = config.providers[dep.provider].kind
            protocol = PRESETS[kind].protocol if kind in PRESETS else "openai"
            if (group.mode or config.server.mode) == "routing-only" and protocol not in ("openai", "azure"):
                raise ConfigError(
                    f"{path}.provider: {dep.provider!r} speaks the {protocol} protocol, which needs translation; "
                    "a routing-only group can only hold OpenAI-compatible deployments"
                )
