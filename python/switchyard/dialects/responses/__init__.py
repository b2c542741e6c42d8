"""The inbound OpenAI Responses dialect: `POST /v1/responses` callers (the openai SDK's `client.responses`,
Codex and agents built on it) in the stateless use (`store: false`, the whole `input` each turn),
translated to the canonical form and back.

request.py: a Responses request → an OpenAI chat request (bytes) and the request fields the answer echoes;
response.py: an OpenAI chat completion or chunk stream → a Responses `response` object or event stream;
native.py: for upstreams that speak the Responses API themselves (OpenAI, Azure), the caller's bytes go
as they are and only usage, errors and the end are read from the answer.
"""
