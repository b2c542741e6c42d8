"""Auth: the caller's gateway key, from `Authorization: Bearer <key>` or `x-api-key`, to a principal.

Keys are held only as SHA-256 digests and compared in constant time; a presented key never reaches a
log or an error message. A principal is the key's name (given in the config, else `key-` and the first
8 hex digits of the key's SHA-256) and its limits: what limits, records and errors show.
"""

from __future__ import annotations

import hashlib
import hmac
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

    __slots__ = ("_digests", "_principals")

    def __init__(self, entries: list[str | ApiKey]) -> None:
        pairs = [principal_for(e) for e in entries]
        self._digests = [hashlib.sha256(k.encode()).digest() for k, _ in pairs]
        self._principals = [p for _, p in pairs]

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
        digest = hashlib.sha256(key.strip().encode()).digest()
        found = -1
        for i, d in enumerate(self._digests):  # no early exit: the time taken does not depend on which matched
            if hmac.compare_digest(d, digest):
                found = i
        if found < 0:
            raise Unauthenticated("Incorrect API key provided.")
        return self._principals[found]


class NoAuth:
    """No gateway keys configured: every caller is admitted as the anonymous principal."""

    __slots__ = ()

    def check(self, headers: Any) -> Principal:
        return ANONYMOUS


def build_auth(keys: list[str | ApiKey]) -> KeyAuth | NoAuth:
    """Build once from config; the request path calls `.check` without testing whether auth is on."""
    return KeyAuth(keys) if keys else NoAuth()
