"""A degraded reference's pitch and speaking rate, as enrollment measures them, vs clean.

On LibriSpeech *evaluation* speakers (``quality_data.partition``), half female, half
male: the reference is the first 6 s of speech of the utterance (as in
``clone_quality.py``), degraded as in ``robustness.py`` - white noise and babble (4
other evaluation speakers at once) at 20, 10 and 5 dB SNR, and a phone line. Each
version goes through the quality gate's cleaning (``gate.analyse``), and its prosody
is measured the way enrollment does (``prosody_stats(above_noise=True)``) and, the
baseline in the same run, with the syllable rate counted within 25 dB of the loudest
frame only and the pitch on every voiced frame (``prosody_stats``, the measure before
the noise floor and the loud-frame pitch of a noisy clip). Both are scored
against the speaker's own statistics from the whole clean utterance (what
``clone_quality.py`` scores a clone against): median F0 error in semitones, F0
range ratio, and syllable-rate ratio, with the share of speakers within issue 3's
targets (1 semitone, +-20 %, +-10 %). A clone's pitch and rate follow its profile's, so
these are the errors every clone of that reference starts from.

Run from the repo root: ``python bench/noisy_prosody.py``; writes
``bench/results/noisy_prosody.{md,json}``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.audio.prosody import ProsodyStats, prosody_stats
from voxclone.quality import gate

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality_data as qd
import robustness
import speech_data as sd

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "noisy_prosody"
MEASURES = {"above noise": True, "within 25 dB (before)": False}


def errors(stats: ProsodyStats, truth: ProsodyStats) -> dict[str, float]:
    """The reference's F0 error (semitones), F0 range ratio and rate ratio vs ``truth``."""
    return {"f0_error_st": float(12 * np.log2(stats.f0_median / truth.f0_median)),
            "range_ratio": stats.f0_range_semitones / truth.f0_range_semitones,
            "rate_ratio": stats.syllable_rate / truth.syllable_rate}


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    table = []
    for condition in dict.fromkeys(r["condition"] for r in rows):
        for measure in MEASURES:
            sub = [r for r in rows if r["condition"] == condition and r["measure"] == measure]
            f0 = [abs(r["f0_error_st"]) for r in sub]
            ranges = [r["range_ratio"] for r in sub]
            rates = [r["rate_ratio"] for r in sub]
            table.append({
                "condition": condition, "measure": measure, "speakers": len(sub),
                "f0_error_st_median": statistics.median(f0),
                "f0_within_1st": float(np.mean([e <= 1.0 for e in f0])),
                "range_ratio_median": statistics.median(ranges),
                "range_within_20pct": float(np.mean([abs(x - 1) <= 0.2 for x in ranges])),
                "rate_ratio_median": statistics.median(rates),
                "rate_within_10pct": float(np.mean([abs(x - 1) <= 0.1 for x in rates])),
            })
    return table


def render(meta: dict[str, Any], table: Sequence[dict[str, Any]]) -> str:
    lines = [
        "# A degraded reference's prosody, as enrollment measures it",
        "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {meta['speakers']} LibriSpeech evaluation speakers; reference: first 6 s of "
        "speech, through the gate's cleaning; scored against the whole clean utterance",
        "- measure: `above noise` is enrollment's (syllable nuclei and speech time 3 dB "
        "above the clip's 5th percentile of intensity; in a clip whose loudest frame is "
        "< 32 dB above that, pitch on voiced frames within 20 dB of the loudest only); "
        "`within 25 dB (before)` is the baseline, the same run (every voiced frame's "
        "pitch).",
        f"- wall time {meta['wall_s']:.0f} s",
        "",
        "| reference | rate measure | F0 error st (median) | F0 within 1 st "
        "| F0 range ratio (median) | range within 20% | rate ratio (median) "
        "| rate within 10% |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['condition']} | {r['measure']} | {r['f0_error_st_median']:.2f} "
            f"| {r['f0_within_1st']:.0%} | {r['range_ratio_median']:.2f} "
            f"| {r['range_within_20pct']:.0%} | {r['rate_ratio_median']:.2f} "
            f"| {r['rate_within_10pct']:.0%} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=40, out=DEFAULT_OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rng = np.random.default_rng(20261202)
    _, _, chosen, bank = robustness.evaluation_speakers(args.speakers, args.speech_dir)
    rows: list[dict[str, Any]] = []
    for index, utterance in enumerate(chosen, 1):
        split = sd.split_utterance(utterance)
        assert split is not None  # chosen among usable utterances
        truth = prosody_stats(split.audio)
        noise = qd.babble(qd.babble_voices(bank, utterance.speaker, rng),
                          split.audio.sample_rate, rng)
        for name, audio in robustness.degradations(split.reference, noise, rng).items():
            cleaned = gate.analyse([audio], ["reference"])[0].clean
            for measure, above_noise in MEASURES.items():
                stats = prosody_stats(cleaned, above_noise=above_noise)
                rows.append({"speaker": utterance.speaker, "gender": utterance.gender,
                             "condition": name, "measure": measure,
                             **errors(stats, truth)})
        robustness.log(f"[{index}/{len(chosen)}] {utterance.speaker}")
    table = summarise(rows)
    meta = sd.run_meta(started, speakers=len(chosen),
                       speaker_ids=[u.speaker for u in chosen])
    sd.write_results(args.out, render(meta, table),
                     {"meta": meta, "summary": table, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
