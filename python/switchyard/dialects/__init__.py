"""What callers speak, translated to and from the canonical (OpenAI) form: `anthropic` (the Messages API).

The OpenAI dialect is the canonical form itself and needs no module. Dialects never import providers or
the pipeline (design.md's arrows).
"""
