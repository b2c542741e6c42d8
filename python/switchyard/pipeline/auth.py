"""Auth: the caller's gateway key, from `Authorization: Bearer <key>` or `x-api-key`.

Keys are held only as SHA-256 digests and compared in constant time; a presented key never reaches a
log or an error message.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from switchyard.errors import Unauthenticated


class KeyAuth:
    """Checks a presented key against the configured gateway keys."""

    __slots__ = ("_digests",)

    def __init__(self, keys: list[str]) -> None:
        self._digests = [hashlib.sha256(k.encode()).digest() for k in keys]

    def check(self, headers: Any) -> None:
        """Raise `Unauthenticated` unless the headers carry one of the keys."""
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
        ok = False
        for d in self._digests:  # no early exit: the time taken does not depend on which key matched
            ok |= hmac.compare_digest(d, digest)
        if not ok:
            raise Unauthenticated("Incorrect API key provided.")


class NoAuth:
    """No gateway keys configured: every caller is admitted."""

    __slots__ = ()

    def check(self, headers: Any) -> None:
        return None


def build_auth(keys: list[str]) -> KeyAuth | NoAuth:
    """Build once from config; the request path calls `.check` without testing whether auth is on."""
    return KeyAuth(keys) if keys else NoAuth()
