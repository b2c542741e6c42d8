"""Switchyard's end-to-end benchmark suite: targets, scenarios, load generators, reports (`benches/run`)."""
