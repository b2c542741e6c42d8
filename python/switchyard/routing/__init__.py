"""Routing: pure policy from a caller's model name to an ordered list of deployments. No I/O, no providers."""
