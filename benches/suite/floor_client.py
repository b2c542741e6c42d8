"""The upstream client python-floor uses: the same one as the gateway (python/switchyard/upstream.py).

The one place to change when the gateway changes client (e.g. to `switchyard._core`'s own).
"""

from pyreqwest.client import ClientBuilder


def build_client():  # type: ignore[no-untyped-def]
    """A pooled keep-alive client with TCP_NODELAY, built inside the worker's running loop."""
    return ClientBuilder().max_connections(1024).tcp_nodelay(True).build()
