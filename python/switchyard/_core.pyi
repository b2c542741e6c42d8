"""Type stub for the Rust extension `switchyard._core` (the contract; checked by mypy.stubtest in CI)."""

# --- sse (rust/sse.rs) ---

# --- inspect (rust/inspect.rs) ---
