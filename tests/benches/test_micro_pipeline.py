"""benches/micro_pipeline.py runs every route in process and answers 200 on each (a smoke run, not a timing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_route_runs_in_process() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "benches" / "micro_pipeline.py"), "--n", "50"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert set(rows) == {
        "floor",
        "chat-full",
        "chat-routing-only",
        "embeddings",
        "responses-translated",
        "messages-translated",
    }
    assert all(float(cells[0]) > 0 for cells in rows.values())
