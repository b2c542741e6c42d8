"""Switchyard: a self-hosted AI API gateway with an OpenAI-compatible front door."""

__version__ = "0.1.0"
