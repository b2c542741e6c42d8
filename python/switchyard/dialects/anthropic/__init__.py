"""The inbound Anthropic dialect: `POST /v1/messages` and `/v1/messages/count_tokens` callers (the official
Anthropic SDK and tools built on it), translated to the canonical form and back.

request.py: an Anthropic Messages request → an OpenAI chat request (bytes); response.py: an OpenAI chat
completion or chunk stream → an Anthropic message or event stream. An Anthropic upstream never goes
through here: its bytes pass through with `model` rewritten (pipeline/dialect.py).
"""
