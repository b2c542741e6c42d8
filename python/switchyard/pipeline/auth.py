"""Auth: the caller's gateway key, from `Authorization: Bearer <key>` or `x-api-key`, to a principal.

Keys are held only as SHA-256 digests and found by the digest of the presented key (never compared as
text, so the time taken does not depend on how much of a key was right); a presented key never reaches a
log or an error message. A principal is the key's name (given in the config, else `key-` and the first
8 hex digits of the key's SHA-256) and its limits: what limits, records and errors show.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from switchyard.config import ApiKey, RateLimits
from switchyard.errors import Unauthenticated


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: a name safe to show, and the limits that apply to it (None: the default ones)."""

    name: str
    limits: RateLimits | None = None


ANONYMOUS = Principal("anonymous")


def principal_for(entry: str | ApiKey) -> tuple[str, Principal]:
    """A configured key entry as (key, principal)."""
    key = entry.key if isinstance(entry, ApiKey) else entry
    name = (
        entry.name
        if isinstance(entry, ApiKey) and entry.name
        else "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]
    )
    return key, Principal(name, entry.limits if isinstance(entry, ApiKey) else None)


class KeyAuth:
    """Checks a presented key against the configured gateway keys."""

    __slots__ = ("_by_digest",)

    def __init__(self, entries: list[str | ApiKey]) -> None:
        # Looked up by the SHA-256 of the presented key: the lookup's timing depends on the digest, which
        # an attacker cannot steer towards a stored one, never on the key itself (measured: one dict hit
        # instead of a compare_digest per configured key was ~8 % of a routing-only request's CPU).
        self._by_digest = {hashlib.sha256(k.encode()).digest(): p for k, p in map(principal_for, entries)}

    def check(self, headers: Any) -> Principal:
        """The principal of the key the headers carry; raise `Unauthenticated` unless it is configured."""
        auth = headers.get("authorization")
        if auth is not None:
            scheme, _, key = auth.partition(" ")
            if scheme.lower() != "bearer":
                raise Unauthenticated("Authorization header must be 'Bearer <key>'")
        else:
            key = headers.get("x-api-key")
            if key is None:
                raise Unauthenticated(
                    "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
                    code="missing_api_key",
                )
        principal = self._by_digest.get(hashlib.sha256(key.strip().encode()).digest())
        if principal is None:
            raise Unauthenticated("Incorrect API key provided.")
        return principal


class NoAuth:
    """No gateway keys configured: every caller is admitted as the anonymous principal."""

    __slots__ = ()

    def check(self, headers: Any) -> Principal:
        return ANONYMOUS


def build_auth(keys: list[str | ApiKey]) -> KeyAuth | NoAuth:
    """Build once from config; the request path calls `.check` without testing whether auth is on."""
    return KeyAuth(keys) if keys else NoAuth()
