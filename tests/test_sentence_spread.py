"""The benchmark that splits a clone's sentence-to-sentence spread among its sets of
sentences recovers each set's own error."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from sentence_spread import SETS, analyse


def test_each_sets_own_spread_is_solved_from_the_three_pairs() -> None:
    rng = np.random.default_rng(0)
    own = {"benchmark's": 0.06, "enrollment's": 0.03, "four more": 0.01}
    rows = [{name: {"F0 median": 150.0, "F0 range": 10.0,
                    "rate": 4.0 * float(np.exp(rng.normal(0.0, own[name])))}
             for name in SETS} for _ in range(400)]
    table = {t["what"]: t for t in analyse(rows) if t["statistic"] == "rate"}
    for name, spread in own.items():
        solved = float(table[f"{name} sentences' own error"]["spread"].rstrip("%")) / 100
        assert abs(solved - spread) < 0.006, name
    pair = table["benchmark's against enrollment's"]
    # 6.7 % of spread: about 86 % of voices within 10 %
    assert 0.8 < pair["within"] < 0.92
    # pitch did not move between the sets: every voice within a semitone
    f0 = [t for t in analyse(rows)
          if t["statistic"] == "F0 median" and not math.isnan(t["within"])]
    assert all(t["within"] == 1.0 for t in f0)
