"""The benchmark of a clone's similarity against 1 % changes of its rate steps by 1 %
and reads each speaker's spread and largest step."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from rate_jitter import STEPS, analyse, render


def test_the_steps_are_one_per_cent_around_the_factor() -> None:
    assert STEPS[0] == 0.97 and STEPS[-1] == 1.03 and 1.0 in STEPS
    assert all(b - a == pytest.approx(0.01) for a, b in itertools.pairwise(STEPS))


def test_each_speakers_spread_and_largest_step_are_read() -> None:
    rows = [{"speaker": "1", "rate": 1.0, "similarity": [0.5] * 7},
            {"speaker": "2", "rate": 1.1,
             "similarity": [0.50, 0.52, 0.50, 0.58, 0.57, 0.57, 0.55]}]
    table = analyse(rows)
    assert table[0]["spread"] == 0.0 and table[0]["largest_step"] == 0.0
    assert table[1]["largest_step"] == pytest.approx(0.08)
    assert table[1]["spread"] == pytest.approx(0.0344, abs=1e-3)
    assert (table[1]["low"], table[1]["high"]) == (0.50, 0.58)
    text = render({"date": "d", "machine": "m", "git_commit": "g", "effort": "fast",
                   "speakers": 2}, table)
    assert "| 2 | 1.100 | 0.500 - 0.580 | 0.034 | 0.080 |" in text
    assert "| median | | | 0.017 | 0.040 |" in text
