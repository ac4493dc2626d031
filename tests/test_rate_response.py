"""The benchmark of how far the syllable-rate reading follows a clone's tempo recovers
a reading's response from its per-speed values."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from rate_response import READINGS, SETS, SPEEDS, analyse, render


def rows_with(exponents: dict[str, float], count: int = 40) -> list[dict]:
    """Voices whose syllable rate goes as speed**exponent (per set), with a little
    noise, and whose speech time follows the speed exactly."""
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(count):
        row: dict = {"speeds": list(SPEEDS)}
        for name in SETS:
            syllables = [4.0 * s ** exponents[name] * float(np.exp(rng.normal(0, 0.005)))
                         for s in SPEEDS]
            row[name] = {"syllable rate": syllables, "1 / speech time": [0.4 * s for s in SPEEDS]}
        rows.append(row)
    return rows


def test_slopes_and_the_ten_percent_step_are_recovered() -> None:
    table = analyse(rows_with({"benchmark's": 0.4, "enrollment's": 0.9}))
    got = {(t["set"], t["reading"]): t for t in table}
    assert len(got) == len(SETS) * len(READINGS)
    assert abs(got["benchmark's", "syllable rate"]["slope"] - 0.4) < 0.03
    assert abs(got["enrollment's", "syllable rate"]["slope"] - 0.9) < 0.03
    assert abs(got["benchmark's", "1 / speech time"]["slope"] - 1.0) < 1e-6
    # a 10 % quicker voice: 1.1**0.4 - 1 = 3.9 % quicker on the benchmark's sentences
    assert abs(got["benchmark's", "syllable rate"]["step_10pct"] - 0.039) < 0.01
    assert got["enrollment's", "1 / speech time"]["rising"] == 1.0


def test_a_reading_that_falls_at_one_step_is_not_rising() -> None:
    rows = rows_with({"benchmark's": 1.0, "enrollment's": 1.0}, count=4)
    rows[0]["benchmark's"]["syllable rate"][3] = 0.1  # reads slower at 1.1 than at 1
    table = {(t["set"], t["reading"]): t for t in analyse(rows)}
    assert table["benchmark's", "syllable rate"]["rising"] == 0.75
    assert table["enrollment's", "syllable rate"]["rising"] == 1.0
    meta = {"date": "d", "machine": "m", "git_commit": "g", "speakers": 4,
            "effort": "fast", "speeds": list(SPEEDS), "wall_s": 1.0}
    assert "| benchmark's | syllable rate | 4 |" in render(meta, analyse(rows))
