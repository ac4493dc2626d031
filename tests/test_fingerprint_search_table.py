"""The fingerprint search bench's tables: found at four shifts against one per length and
channel, false matches, and each search's median time against the baseline's."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from fingerprint_search import CHANNELS, LENGTHS, TIMED, render


def _timing(frames: int, seconds: float) -> dict[str, Any]:
    return {"frames": frames, "skew": 2.1,
            **{name: {"seconds": seconds, "found": True} for name in TIMED}}


def test_the_tables_compare_shifts_and_sources() -> None:
    traced = []
    for seconds in LENGTHS:
        for channel in CHANNELS:
            # at 1 s through the first channel, one shift misses one clip of two
            missed = seconds == 1.0 and channel == CHANNELS[0]
            traced += [{"seconds": seconds, "channel": channel, "found_4": True, "z_4": 10.0,
                        "found_1": True, "z_1": 8.0},
                       {"seconds": seconds, "channel": channel, "found_4": True, "z_4": 12.0,
                        "found_1": not missed, "z_1": None if missed else 9.0}]
    strangers = [{"seconds": 1.0, "false_4": True, "false_1": False}] + \
        [{"seconds": 2.0, "false_4": False, "false_1": False}] * 4
    hour = 225_000  # frames
    timings = {"this tree": {10.0: [_timing(10 * hour, 0.05), _timing(10 * hour, 0.07)]},
               "baseline": {10.0: [_timing(10 * hour, 0.30), _timing(10 * hour, 0.40)]}}
    text = render({"date": "d", "machine": "m", "git_commit": "g", "wall_s": 9.0,
                   "command": "c", "clips": 2, "utterances": 4}, traced, strangers, timings,
                  {"this tree": "new", "baseline": "old"})
    cells = next(line for line in text.splitlines() if line.startswith(f"| {CHANNELS[0]} |"))
    assert cells.split(" | ")[1] == "1.00 / 0.50 (11.0 / 8.0)"  # 1 s
    assert cells.split(" | ")[2] == "1.00 / 1.00 (11.0 / 8.5)"  # 1.5 s
    assert "5 excerpts (1, 2, 4, 6 s and whole) of 1 other utterances: 1 false matches " \
           "at four shifts, 0 at one" in text
    assert "| this tree (new) | baseline (old) | baseline / this tree |" in text
    assert f"| 10 h | 2.1 | {TIMED[0]} | 60 ms | 350 ms | 5.8x |" in text
