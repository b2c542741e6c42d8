"""The upstream client python-floor uses: the same one as the gateway (python/switchyard/upstream.py),
`switchyard._core.HttpClient` (rust/http/). The one place to change when the gateway changes client."""

from switchyard._core import HttpClient


def build_client() -> HttpClient:
    """A pooled keep-alive client with TCP_NODELAY, built inside the worker (its runtime starts with it)."""
    return HttpClient()
