"""State shared beyond one worker: cooldowns across the workers of one `switchyard serve` (memory-mapped)."""
