"""The benchmark's split of a clone's pitch and tempo errors: its reference's own
offset from the speaker, or the match's error against the reference."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from prosody_sources import sources

from voxclone.audio.prosody import ProsodyStats

SEMITONE = 2 ** (1 / 12)


def stats(f0: float, rate: float = 4.0) -> ProsodyStats:
    """Stats with a 12-semitone range (an octave around ``f0``) and ``rate``."""
    return ProsodyStats(f0_median=f0, f0_p5=f0 / 2 ** 0.5, f0_p95=f0 * 2 ** 0.5,
                        syllable_rate=rate, voiced_fraction=0.5)


def row(speaker: str, clone_f0: float, whole: ProsodyStats, *, range_ratio: float = 1.0,
        rate_ratio: float = 1.0) -> dict[str, Any]:
    return {"speaker": speaker, "effort": "fast", "f0_median_hz": clone_f0,
            "speaker_f0_median_hz": whole.f0_median, "f0_range_ratio": range_ratio,
            "rate_ratio": rate_ratio}


def test_each_miss_is_put_down_to_the_reference_or_the_match() -> None:
    whole = stats(100.0)
    truth = {
        # the reference sits 2 st above the speaker, and the clone copies it
        "ref-off": (stats(100.0 * SEMITONE ** 2), whole),
        # the reference is right, the clone 2 st off it
        "match-off": (stats(100.0), whole),
        # the reference 2 st up, the clone 2 st down from it: on the speaker, by luck
        "cancel": (stats(100.0 * SEMITONE ** 2), whole),
        # both right
        "good": (stats(100.0), whole),
    }
    rows = [row("ref-off", 100.0 * SEMITONE ** 2, whole),
            row("match-off", 100.0 / SEMITONE ** 2, whole),
            row("cancel", 100.0, whole),
            row("good", 100.0 * SEMITONE ** 0.5, whole, rate_ratio=1.5)]
    summary = {s["target"]: s for s in sources(rows, truth)}

    f0 = summary["F0 median within 1 st"]
    assert f0["speakers"] == 4
    assert f0["clone_within"] == 0.5  # cancel and good
    assert f0["reference_within"] == 0.5  # match-off and good
    assert f0["clone_within_of_reference"] == 0.5  # ref-off and good
    assert f0["misses"] == {"reference": ["ref-off"], "match": ["match-off"], "both": [],
                            "neither": []}
    # the clone against its reference: 0, -2, -2 and +0.5 st
    assert abs(f0["match_error_median"] - (-1.0)) < 1e-9

    rate = summary["rate within 10 %"]
    assert rate["clone_within"] == 0.75
    # the references' rates equal the speaker's, so the fast clone is the match's miss
    assert rate["misses"]["match"] == ["good"]


def test_a_reference_off_the_speaker_moves_what_the_match_is_judged_against() -> None:
    whole = stats(100.0, rate=4.0)
    truth = {"slow-ref": (stats(100.0, rate=3.0), whole)}
    # the clone speaks at the speaker's rate: 4/3 of its reference's
    summary = {s["target"]: s for s in sources([row("slow-ref", 100.0, whole)], truth)}
    rate = summary["rate within 10 %"]
    assert rate["clone_within"] == 1.0
    assert rate["reference_within"] == 0.0
    assert rate["clone_within_of_reference"] == 0.0
    assert abs(rate["match_error_median"] - (4.0 / 3.0 - 1.0)) < 1e-9
