"""How far the syllable-rate reading follows a clone's actual tempo.

Issue 3 asks for a clone's speaking rate within 10 % of its speaker's, and
``clone_quality.py`` reads the rate as syllable nuclei per second of speech
(``voxclone.audio.prosody.syllable_rate``: voiced intensity peaks, de Jong & Wempe).
Enrollment's rate match reads the clone the same way and sets the voice's rate factor,
which synthesis passes to the engine as its speed (Kokoro divides its durations by it).

For each speaker this enrolls once (``--effort``, as shipped), then speaks two sets of
sentences, as synthesis does, with the voice's rate factor replaced by each of
``SPEEDS``: the benchmark's three and enrollment's two (the probe and
``voxclone.clone.fit.RATE_TEXT``). On each it reads the syllable rate and the speech
time (the frames the syllable rate divides by). Per voice and set, it fits the log of
each reading against the log of the speed: a slope of 1 means the reading follows the
tempo; the speech time's slope (as a rate, one over it) shows how far the tempo moved.
Text-independent tempo moves every reading of the same words alike, so a slope well
under 1 for the syllable rate means its peaks merge as speech gets quicker (and split
as it slows), and a 10 % change of tempo reads as less.

    python bench/rate_response.py [--speakers 16] [--effort fast]   # ~40 s a speaker
    python bench/rate_response.py --render bench/results/rate_response.json
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.audio.prosody import prosody_stats, speech_seconds
from voxclone.clone import fit
from voxclone.consent.voice_seal import seal_voice

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clone_quality as cq
import speech_data as sd
from voice_runs import rerender, run_voices, shipped_voice, spoken, voice_run_parser

SETS: dict[str, tuple[str, ...]] = {
    "benchmark's": tuple(cq.SENTENCES),
    "enrollment's": (fit.PROBE_TEXT, fit.RATE_TEXT),
}
#: Engine speeds the voice speaks at (the rate factor's clamp is 0.75-1.33).
SPEEDS = (0.8, 0.9, 1.0, 1.1, 1.25)
#: The readings, each a rate (per second), so that a slope of 1 follows the tempo.
READINGS = ("syllable rate", "1 / speech time")


def slope(speeds: list[float], readings: list[float]) -> float:
    """Least-squares slope of log reading on log speed."""
    return float(np.polyfit(np.log(speeds), np.log(readings), 1)[0])


def analyse(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per set and reading: the median slope over voices, its 10th and 90th
    percentiles, how much a 10 % quicker voice (speed 1 -> 1.1) reads quicker (median),
    and the share of voices whose reading rises at every step of ``SPEEDS``."""
    out = []
    for name in SETS:
        for reading in READINGS:
            slopes, steps, rising = [], [], []
            for row in rows:
                speeds = [float(s) for s in row["speeds"]]
                values = [row[name][reading][i] for i in range(len(speeds))]
                slopes.append(slope(speeds, values))
                at = {s: v for s, v in zip(speeds, values, strict=True)}
                if 1.0 in at and 1.1 in at:
                    steps.append(at[1.1] / at[1.0] - 1.0)
                rising.append(all(b > a for a, b in itertools.pairwise(values)))
            out.append({"set": name, "reading": reading, "speakers": len(rows),
                        "slope": float(np.median(slopes)),
                        "slope_p10": float(np.percentile(slopes, 10)),
                        "slope_p90": float(np.percentile(slopes, 90)),
                        "step_10pct": float(np.median(steps)) if steps else math.nan,
                        "rising": float(np.mean(rising))})
    return out


def render(meta: dict[str, Any], table: list[dict[str, Any]]) -> str:
    lines = [
        "# How far the syllable-rate reading follows a clone's tempo", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {meta['speakers']} speakers of clone_quality's benchmark, enrolled at "
        f"`{meta['effort']}` from their first 6 s of speech; each set spoken as synthesis "
        f"speaks it, the voice's rate factor replaced by engine speeds "
        f"{', '.join(str(s) for s in meta['speeds'])}",
        "- sets: " + "; ".join(f"{n}: {len(t)} sentences" for n, t in SETS.items()),
        "- slope: of log reading on log speed, per voice (1: the reading follows the "
        "tempo); speed 1 -> 1.1: the median change of the reading when the voice speaks "
        "10 % quicker; rising: voices whose reading rises at every step",
        f"- wall time {meta['wall_s']:.0f} s", "",
        "| sentences | reading | speakers | slope (median) | slope 10-90 % | "
        "speed 1 -> 1.1 | rising |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in table:
        lines.append(f"| {t['set']} | {t['reading']} | {t['speakers']} | {t['slope']:.2f} | "
                     f"{t['slope_p10']:.2f} to {t['slope_p90']:.2f} | "
                     f"{t['step_10pct']:+.1%} | {t['rising']:.0%} |")
    return "\n".join(lines) + "\n"


def voice_row(split: sd.Split, effort: str) -> dict[str, Any]:
    """One speaker's readings: per set, per reading, one value per ``SPEEDS``."""
    profile = shipped_voice(split, effort)
    row: dict[str, Any] = {"speaker": split.utterance.speaker,
                           "gender": split.utterance.gender, "rate_factor": profile.rate,
                           "speeds": list(SPEEDS)}
    for name in SETS:
        row[name] = {reading: [] for reading in READINGS}
    for speed in SPEEDS:
        # the same voice at another speed: sealed here to speak (consent.voice_seal)
        voice = seal_voice(dataclasses.replace(profile, rate=speed))
        for name, texts in SETS.items():
            said = spoken(texts, voice)
            row[name]["syllable rate"].append(prosody_stats(said).syllable_rate)
            row[name]["1 / speech time"].append(1.0 / speech_seconds(said))
    return row


def progress(row: dict[str, Any]) -> str:
    return "syllable rate on the benchmark's " + " ".join(
        f"{v:.2f}" for v in row["benchmark's"]["syllable rate"])


def main(argv: list[str] | None = None) -> int:
    parser = voice_run_parser(__doc__, speakers=16,
                              out=sd.REPO_ROOT / "bench" / "results" / "rate_response")
    args = parser.parse_args(argv)
    if args.speakers < 1 and not args.render:
        parser.error("--speakers must be at least 1")
    if rerender(args, analyse, render):
        return 0
    return run_voices(args, voice_row, progress, analyse, render, speeds=list(SPEEDS))


if __name__ == "__main__":
    raise SystemExit(main())
