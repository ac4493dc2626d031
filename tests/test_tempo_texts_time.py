"""The timing bench of the rate's six sentences reports each variant and the paired cost."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from tempo_texts_time import render


def test_the_table_gives_medians_slowest_and_the_paired_cost() -> None:
    rows = [{"speaker": "1", "round": 0, "two": 47.0, "six": 50.0},
            {"speaker": "2", "round": 0, "two": 48.0, "six": 52.0},
            {"speaker": "3", "round": 0, "two": 46.0, "six": 47.5}]
    text = render({"date": "d", "machine": "m", "git_commit": "g", "speakers": 3,
                   "rounds": 1, "wall_s": 300.0}, rows)
    assert "| two sentences | 47.0 s | 48.0 s |" in text
    assert "| six sentences | 50.0 s | 52.0 s |" in text
    assert "median +3.00 s (from +1.50 to +4.00 s)" in text
