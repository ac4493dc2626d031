"""The deadline bench's table: per machine and variant, the times, steps, the paired
probe cosine and how the work after the fit compared with what was reserved for it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from enroll_deadline import render


def _run(seconds: float, score: float, steps: int, after: float) -> dict[str, Any]:
    return {"seconds": seconds, "score": score, "steps": steps, "after_s": after,
            "reserved_s": 5.0}


def test_the_table_pairs_each_variant_with_fixed_on_the_same_machine() -> None:
    rows = [{"speaker": "1", "condition": "slowed", "fixed": _run(62.0, 0.80, 6, 8.0),
             "deadline": _run(56.0, 0.78, 5, 4.0)},
            {"speaker": "2", "condition": "slowed", "fixed": _run(64.0, 0.70, 6, 9.0),
             "deadline": _run(57.0, 0.71, 5, 5.0)}]
    text = render({"date": "d", "machine": "m", "git_commit": "g", "speakers": 2,
                   "running": 0.45, "deadline_s": 57.0, "wall_s": 500.0}, rows)
    assert "| slowed | fixed | 63.0 s | 64.0 s | 6 | +0.000 (min +0.000) | 1.70 |" in text
    assert "| slowed | deadline | 56.5 s | 57.0 s | 5 | -0.005 (min -0.020) | 0.90 |" in text
    assert "| idle |" not in text  # no idle rows were run
