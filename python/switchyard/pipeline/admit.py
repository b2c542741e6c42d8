"""Admit: the per-key and per-model rate limits (requests/min, tokens/min, in flight) of the config.

Built once from the config; with no limits configured the gateway holds `NoLimits`, which admits
everything without looking. Buckets are the Rust GCRA limiter's (`_core.Limiter`): every check of a
request is taken all or nothing, so a denied request consumes no quota anywhere. Tokens are admitted on
an estimate (prompt tokens counted in Rust + `max_tokens`; large bodies off the loop, see count.py) and
settled to the provider's usage once the answer is in. Headers follow
OpenAI's naming: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, and `Retry-After` on a 429.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

from switchyard._core import Concurrency, Decision, Limit, Limiter, LimitState, Permit
from switchyard.config import Config, RateLimits
from switchyard.errors import RateLimited
from switchyard.pipeline.auth import Principal
from switchyard.pipeline.count import prompt_tokens

MINUTE = 60.0
Counter = Callable[[bytes], Awaitable[int]]  # a request's input tokens


class Rules:
    """The Limit objects for one `RateLimits` entry, built once."""

    __slots__ = ("concurrent", "requests", "tokens")

    def __init__(self, cfg: RateLimits) -> None:
        self.requests = Limit("requests", cfg.rpm, MINUTE) if cfg.rpm else None
        self.tokens = Limit("tokens", cfg.tpm, MINUTE) if cfg.tpm else None
        self.concurrent = cfg.concurrent


class Admission:
    """What a request was granted: its slots, its token checks, and the headers to answer with."""

    __slots__ = ("estimate", "headers", "permits", "prompt", "token_keys")

    def __init__(
        self,
        permits: list[Permit],
        token_keys: list[tuple[str, Limit]],
        estimate: int,
        headers: list[tuple[str, str]],
        prompt: int | None = None,
    ) -> None:
        self.permits = permits
        self.token_keys = token_keys
        self.estimate = estimate
        self.headers = headers
        self.prompt = prompt  # the prompt's tokens, when they were counted for the estimate


class Limits:
    """The configured limits of one worker (an in-process store; a shared one comes behind the same calls)."""

    def __init__(self, config: Config) -> None:
        default = config.limits.per_key
        self._default_key = Rules(default) if default else None
        self._keys: dict[str, Rules] = {}
        self._models = {name: Rules(m.limits) for name, m in config.models.items() if m.limits}
        self.limiter = Limiter(config.limits.max_buckets)
        self.slots = Concurrency()
        self.counts_tokens = bool(
            (default and default.tpm)
            or any(r.tokens for r in self._models.values())
            or any(not isinstance(k, str) and k.limits and k.limits.tpm for k in config.server.api_keys)
        )

    def _rules(self, principal: Principal) -> Rules | None:
        if principal.limits is None:
            return self._default_key
        rules = self._keys.get(principal.name)
        if rules is None:
            rules = self._keys[principal.name] = Rules(principal.limits)
        return rules

    async def admit(
        self,
        principal: Principal,
        group: str,
        body: bytes,
        max_tokens: int | None,
        count: Counter = prompt_tokens,
        prompt: int | None = None,
    ) -> Admission:
        """Take the request's share of every limit that applies, or raise `RateLimited` (429). Tokens are
        estimated as the prompt's (`prompt` when the caller already counted it, else `count(body)`: a chat
        body's prompt tokens by default) + `max_tokens`."""
        scopes = [(f"key:{principal.name}", f"key {principal.name}", self._rules(principal))]
        scopes.append((f"model:{group}", f"model {group}", self._models.get(group)))
        permits: list[Permit] = []
        for key, label, rules in scopes:
            if rules is not None and rules.concurrent is not None:
                permit = self.slots.try_acquire(key, rules.concurrent)
                if permit is None:
                    for p in permits:
                        p.release()
                    raise RateLimited(
                        f"Too many requests in flight for {label}: the limit is {rules.concurrent} at once.",
                        code="concurrency_limit_exceeded",
                        headers=[("retry-after", "1")],
                    )
                permits.append(permit)
        estimate = 0
        if any(rules is not None and rules.tokens is not None for _, _, rules in scopes):
            if prompt is None:
                prompt = await count(body)
            estimate = prompt + (max_tokens or 0)
        checks: list[tuple[str, Limit, int]] = []
        token_keys: list[tuple[str, Limit]] = []
        for key, _, rules in scopes:
            if rules is None:
                continue
            if rules.requests is not None:
                checks.append((key, rules.requests, 1))
            if rules.tokens is not None:
                checks.append((key, rules.tokens, estimate))
                token_keys.append((key, rules.tokens))
        decision = self.limiter.admit(checks, time.monotonic())
        if not decision:
            for p in permits:
                p.release()
            raise denied(decision, scopes, estimate)
        return Admission(permits, token_keys, estimate, rate_headers(decision), prompt)

    def settle(self, admission: Admission, actual_tokens: int | None) -> None:
        """Give back the in-flight slots; correct the token estimate to `actual_tokens` (None: keep it)."""
        for p in admission.permits:
            p.release()
        if actual_tokens is None or not admission.token_keys:
            return
        delta = actual_tokens - admission.estimate
        if delta:
            now = time.monotonic()
            for key, limit in admission.token_keys:
                self.limiter.settle(key, limit, delta, now)


class NoLimits:
    """No limits configured: nothing is checked, counted or settled."""

    counts_tokens = False
    _NONE = Admission([], [], 0, [])

    async def admit(
        self,
        principal: Principal,
        group: str,
        body: bytes,
        max_tokens: int | None,
        count: Counter = prompt_tokens,
        prompt: int | None = None,
    ) -> Admission:
        return self._NONE

    def settle(self, admission: Admission, actual_tokens: int | None) -> None:
        return None


def build_limits(config: Config, previous: Limits | NoLimits | None = None) -> Limits | NoLimits:
    """Limits if any are configured, else the no-op stage. A reload keeps the previous limiter's buckets
    and in-flight slots (a bucket is keyed by its Limit's value, so a changed limit starts fresh)."""
    on = (
        config.limits.per_key is not None
        or any(m.limits for m in config.models.values())
        or any(not isinstance(k, str) and k.limits for k in config.server.api_keys)
    )
    if not on:
        return NoLimits()
    limits = Limits(config)
    if isinstance(previous, Limits):
        limits.limiter, limits.slots = previous.limiter, previous.slots
    return limits


def rate_headers(decision: Decision) -> list[tuple[str, str]]:
    """OpenAI's `x-ratelimit-*` headers from the tightest requests and tokens limits of a decision."""
    out: list[tuple[str, str]] = []
    for kind in ("requests", "tokens"):
        state = decision.tightest(kind)
        if state is not None:
            out.append((f"x-ratelimit-limit-{kind}", str(state.limit.burst)))
            out.append((f"x-ratelimit-remaining-{kind}", str(state.remaining)))
            out.append((f"x-ratelimit-reset-{kind}", duration(state.reset_s)))
    return out


def denied(decision: Decision, scopes: list[tuple[str, str, Rules | None]], estimate: int) -> RateLimited:
    """The 429 for a denied decision, naming the limit and when to retry."""
    state: LimitState | None = decision.denied_by
    assert state is not None
    label = next(label for key, label, _ in scopes if key == state.key)
    kind = state.limit.name
    unit = "requests per minute (RPM)" if kind == "requests" else "tokens per minute (TPM)"
    headers = rate_headers(decision)
    wait = decision.retry_after_s
    if wait is None:
        return RateLimited(
            f"Request too large for {label} on {unit}: limit {state.limit.burst}, requested {estimate} "
            "(estimated prompt tokens + max_tokens). Send a shorter request or a smaller max_tokens.",
            code="request_too_large",
            headers=headers,
        )
    headers.append(("retry-after", str(max(1, math.ceil(wait)))))
    return RateLimited(
        f"Rate limit reached for {label} on {unit}: limit {state.limit.burst}, remaining {state.remaining}. "
        f"Please try again in {duration(wait)}.",
        headers=headers,
    )


def duration(seconds: float) -> str:
    """A duration the way OpenAI's reset headers write it: `20ms`, `1.5s`, `6m0s`."""
    if seconds < 1:
        return f"{math.ceil(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60.0)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text
