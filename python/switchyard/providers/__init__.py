"""Provider adapters: what upstreams speak. Each adapter turns a caller request into an upstream attempt
and an upstream failure into a gateway error; none imports the pipeline, the dialects or the server."""
