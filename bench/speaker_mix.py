"""Second-speaker and few-shot outlier detection on real speech (LibriSpeech).

Cases, from the speakers of one split (``quality_data.partition``; thresholds are
chosen with ``--split calibration``, figures reported with ``--split evaluation``):

* single: each speaker's whole utterance, as recorded and with white noise at 20 dB
  SNR, two random 6-9 s pieces of it (the length of a typical reference, where a
  single voice splits apart more easily than over 10-17 s) and two of 4-5.5 s (a
  short reference: a few windows decide) - a second speaker found is a false alarm;
* concatenated: 4-8 s of speaker A's speech, 0.3 s of silence, then 2-4 s of speaker
  B (B first in half the cases);
* overlapped: 5-8 s of A with 2.5-4 s of B talking over the end of it at the same
  level (crosstalk);
* interrupted: 3-5 s of A, 2-3 s of B, 3-5 s of A (0.3 s of silence between), a
  voice that comes and goes (reported apart from the two kinds above);
* short two-speaker clips, as long as a short reference (reported apart): 2.4-3.6 s
  of A, 0.3 s of silence, 1.8-2.4 s of B (B first in half the cases), or 4-5.5 s of A
  with 1.8-2.4 s of B over the end;
* few-shot outlier: A's speech cut into two clips (>= 3 s each) plus a 3-5 s clip of
  B: detected when exactly B's clip is left out; and three clips of A alone: a clip
  left out (or the set refused) is a false exclusion.

Each mixed clip goes through the gate's own analysis (``analyse_clip``: VAD, clean-up,
1.6 s speech windows, change-point and 2-means splits, window consistency, the
two-speaker score). Run from the repo root:
``python bench/speaker_mix.py [--split calibration] [--cases 200]``; writes
``bench/results/speaker_mix[_calibration].{md,json}``.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.audio import Audio, load_audio, prepare_reference
from voxclone.quality.analyse import analyse_clip
from voxclone.quality.speakers import (
    MIN_SPLIT_SECONDS,
    MIN_WINDOWS,
    OUTLIER_THRESHOLD,
    SHORT_TWO_SPEAKER_THRESHOLD,
    SHORT_WINDOWS,
    TWO_SPEAKER_THRESHOLD,
    SpeakerSplit,
    find_outliers,
)
from voxclone.speaker import default_encoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality_data as qd
import speech_data as sd

RATE = 16_000
RESULTS = sd.REPO_ROOT / "bench" / "results"


def log(message: str) -> None:
    print(message, flush=True)


def piece(audio: Audio, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """``seconds`` of ``audio``'s (trimmed) speech from a random offset."""
    n = min(len(audio), round(seconds * RATE))
    start = int(rng.integers(0, len(audio) - n + 1))
    return audio.samples[start:start + n]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) + 1e-12


def concatenated(a: Audio, b: Audio, rng: np.random.Generator, a_s: tuple[float, float] = (4, 8),
                 b_s: tuple[float, float] = (2, 4)) -> tuple[Audio, float]:
    """``a_s`` seconds (uniform in the range) of A, 0.3 s of silence, ``b_s`` of B, B
    first in half the cases; returns the clip and B's seconds."""
    pa, pb = piece(a, rng.uniform(*a_s), rng), piece(b, rng.uniform(*b_s), rng)
    pb = pb * (rms(pa) / rms(pb))
    gap = np.zeros(round(0.3 * RATE), dtype=np.float32)
    parts: list[np.ndarray] = [pa, gap, pb] if rng.random() < 0.5 else [pb, gap, pa]
    return Audio(np.concatenate(parts).astype(np.float32), RATE), len(pb) / RATE


def overlapped(a: Audio, b: Audio, rng: np.random.Generator, a_s: tuple[float, float] = (5, 8),
               b_s: tuple[float, float] = (2.5, 4)) -> tuple[Audio, float]:
    """``a_s`` seconds of A with ``b_s`` of B over its end at the same level."""
    pa, pb = piece(a, rng.uniform(*a_s), rng).copy(), piece(b, rng.uniform(*b_s), rng)
    pb = pb * (rms(pa) / rms(pb))
    n = min(len(pb), len(pa))
    pa[-n:] += pb[:n]
    pa *= 0.9 / max(1e-9, float(np.max(np.abs(pa))))
    return Audio(pa.astype(np.float32), RATE), n / RATE


#: Two speakers in a clip as long as a short reference (about 4-6 s of speech).
short_concatenated = functools.partial(concatenated, a_s=(2.4, 3.6), b_s=(1.8, 2.4))
short_overlapped = functools.partial(overlapped, a_s=(4, 5.5), b_s=(1.8, 2.4))


def interrupted(a: Audio, b: Audio, rng: np.random.Generator) -> tuple[Audio, float]:
    pa, pb = piece(a, rng.uniform(6, 10), rng), piece(b, rng.uniform(2, 3), rng)
    pb = pb * (rms(pa) / rms(pb))
    cut = int(rng.integers(round(0.35 * len(pa)), round(0.65 * len(pa))))
    gap = np.zeros(round(0.3 * RATE), dtype=np.float32)
    joined = np.concatenate([pa[:cut], gap, pb, gap, pa[cut:]])
    return Audio(joined.astype(np.float32), RATE), len(pb) / RATE


def split_row(kind: str, split: SpeakerSplit | None, **extra: Any) -> dict[str, Any]:
    """One case's row: both split cosines, the smaller parts, the windows' consistency,
    the score and the verdict."""
    assert split is not None
    return {"kind": kind, **extra, "windows": split.windows, "cosine": split.cosine,
            "minority_s": split.minority_seconds, "scattered": split.scattered_cosine,
            "scattered_s": split.scattered_minority_seconds,
            "consistency": split.consistency, "score": split.score,
            "threshold": split.threshold,
            "found": split.two_speakers}


def flagged_before(r: dict[str, Any]) -> bool:
    """Whether the detector before the short clips' threshold (the same score with
    ``TWO_SPEAKER_THRESHOLD`` at every length) flagged ``r``."""
    return bool(r["windows"] >= MIN_WINDOWS and r["score"] > TWO_SPEAKER_THRESHOLD)


def flagged(r: dict[str, Any], offset: float) -> bool:
    """Whether ``r`` is flagged with the score's thresholds moved by ``offset``."""
    return bool(r["windows"] >= MIN_WINDOWS and r["score"] > r["threshold"] + offset)


def rate(hits: int, n: int) -> str:
    """``hits/n (p %, 95 % Wilson interval)``."""
    if n == 0:
        return "n/a"
    p, z = hits / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return f"{hits}/{n} = {p:.1%} ({max(0, centre - half):.1%}-{min(1, centre + half):.1%})"


def percentiles(values: Sequence[float]) -> str:
    q = list(np.percentile(values, [1, 5, 50, 95, 99])) if values else []
    return " / ".join(f"{v:.3f}" for v in q)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--split", choices=qd.SPLITS, default="evaluation")
    parser.add_argument("--cases", type=int, default=200, help="cases of each mixed kind")
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rng = np.random.default_rng(7 if args.split == "evaluation" else 11)
    pool = qd.speakers_of(args.split, args.speech_dir)
    encoder = default_encoder()
    speech: dict[str, Audio] = {}
    raw: dict[str, Audio] = {}
    for u in pool:
        audio = load_audio(str(u.path))
        clean, report = prepare_reference(audio)
        if report.speech_seconds >= 6.0:
            speech[u.speaker], raw[u.speaker] = clean, audio
    names = sorted(speech)
    log(f"speaker_mix ({args.split}): {len(names)} speakers with >= 6 s of speech")

    rows: list[dict[str, Any]] = []
    for k in names:
        for kind, clip in (("single", raw[k]),
                           ("single, white noise 20 dB",
                            qd.add_noise(raw[k], qd.white(len(raw[k]), rng), 20, rng))):
            rows.append(split_row(kind, analyse_clip(clip, k).split, a=k))
    log(f"  single: {sum(r['found'] for r in rows)}/{len(rows)} false alarms")
    for kind, make in (("concatenated", concatenated), ("overlapped", overlapped)):
        for i in range(args.cases):
            a, b = rng.choice(names, 2, replace=False)
            clip, b_seconds = make(speech[a], speech[b], rng)
            rows.append(split_row(kind, analyse_clip(clip, f"{a}+{b}").split, a=a, b=b,
                                  b_seconds=b_seconds))
            if (i + 1) % 50 == 0:
                found = sum(r["found"] for r in rows if r["kind"] == kind)
                log(f"  {kind}: {i + 1}/{args.cases}, detected {found}")

    outlier_rows: list[dict[str, Any]] = []
    long_enough = [k for k in names if speech[k].duration >= 9.0]
    for k in long_enough:  # genuine sets: three clips of one speaker
        third = len(speech[k]) // 3
        parts = [Audio(speech[k].samples[i * third:(i + 1) * third], RATE) for i in range(3)]
        found = find_outliers([encoder.embed(p) for p in parts], [p.duration for p in parts])
        outlier_rows.append({"kind": "genuine", "a": k, "cosines": found.cosines,
                             "excluded": bool(found.outliers) or found.ambiguous})
    for _ in range(args.cases):  # two clips of A and one of B
        a, b = rng.choice(names, 2, replace=False)
        half = len(speech[a]) // 2
        parts = [Audio(speech[a].samples[:half], RATE), Audio(speech[a].samples[half:], RATE),
                 Audio(piece(speech[b], rng.uniform(3, 5), rng), RATE)]
        found = find_outliers([encoder.embed(p) for p in parts], [p.duration for p in parts])
        outlier_rows.append({"kind": "outlier", "a": a, "b": b, "cosines": found.cosines,
                             "detected": found.outliers == (2,) and not found.ambiguous})

    # Added after the cases above, with their own generator, so those stay the same.
    more = np.random.default_rng(107 if args.split == "evaluation" else 111)
    for k in names:
        for _ in range(2):
            clip = Audio(piece(raw[k], more.uniform(6, 9), more), RATE)
            rows.append(split_row("single, 6-9 s piece", analyse_clip(clip, k).split, a=k))
    for _ in range(args.cases // 2):
        a, b = more.choice(names, 2, replace=False)
        clip, b_seconds = interrupted(speech[a], speech[b], more)
        rows.append(split_row("interrupted", analyse_clip(clip, f"{a}+{b}+{a}").split,
                              a=a, b=b, b_seconds=b_seconds))
    # Short references (added later, with their own generator): 4-5.5 s pieces, about
    # 3-5 windows of speech, where a few windows decide.
    short = np.random.default_rng(1007 if args.split == "evaluation" else 1011)
    for k in names:
        for _ in range(2):
            clip = Audio(piece(raw[k], short.uniform(4, 5.5), short), RATE)
            analysis = analyse_clip(clip, k)
            if analysis.split is not None:  # else mostly a pause: no speech to judge
                rows.append(split_row("single, 4-5.5 s piece", analysis.split, a=k))
    # Two speakers in a short clip (added later, with their own generator).
    brief = np.random.default_rng(2007 if args.split == "evaluation" else 2011)
    for kind, make in (("concatenated, 4-6 s", short_concatenated),
                       ("overlapped, 4-6 s", short_overlapped)):
        for _ in range(args.cases // 2):
            a, b = brief.choice(names, 2, replace=False)
            clip, b_seconds = make(speech[a], speech[b], brief)
            rows.append(split_row(kind, analyse_clip(clip, f"{a}+{b}").split, a=a, b=b,
                                  b_seconds=b_seconds))
    log(f"  pieces, interruptions and short clips: {len(rows)} rows")

    single = [r for r in rows if r["kind"] == "single"]
    pieces = [r for r in rows if r["kind"] == "single, 6-9 s piece"]
    short_pieces = [r for r in rows if r["kind"] == "single, 4-5.5 s piece"]
    interruptions = [r for r in rows if r["kind"] == "interrupted"]
    noisy_single = [r for r in rows if r["kind"] == "single, white noise 20 dB"]
    mixed = [r for r in rows if r["kind"] in ("concatenated", "overlapped")]
    by_kind = {k: [r for r in rows if r["kind"] == k] for k in (
        "concatenated", "overlapped", "concatenated, 4-6 s", "overlapped, 4-6 s")}
    short_mixed = by_kind["concatenated, 4-6 s"] + by_kind["overlapped, 4-6 s"]
    genuine = [r for r in outlier_rows if r["kind"] == "genuine"]
    outliers = [r for r in outlier_rows if r["kind"] == "outlier"]
    # Threshold sweep: both of the score's thresholds moved by the same offset.
    sweep = []
    for offset in np.arange(-3.0, 3.01, 0.5):
        def share(cases: list[dict[str, Any]], t: float = float(offset)) -> float:
            return sum(flagged(r, t) for r in cases) / len(cases)
        sweep.append({"offset": round(float(offset), 2), "false_alarms": share(single),
                      "false_alarms_pieces": share(pieces), "detected": share(mixed),
                      "interrupted": share(interruptions),
                      "false_alarms_short_pieces": share(short_pieces),
                      "detected_short": share(short_mixed)})
    genuine_min = [min(r["cosines"]) for r in genuine]
    impostor = [r["cosines"][2] for r in outliers]
    def shares(found: Callable[[dict[str, Any]], bool]) -> dict[str, str]:
        def count(cases: list[dict[str, Any]]) -> str:
            return rate(sum(found(r) for r in cases), len(cases))
        return {
            "second_speaker_detected": count(mixed),
            "concatenated_detected": count(by_kind["concatenated"]),
            "overlapped_detected": count(by_kind["overlapped"]),
            "interrupted_detected (A, B, A)": count(interruptions),
            "short_clips_detected (4-6 s, concatenated + overlapped)": count(short_mixed),
            "short_concatenated_detected": count(by_kind["concatenated, 4-6 s"]),
            "short_overlapped_detected": count(by_kind["overlapped, 4-6 s"]),
            "false_alarms": count(single + pieces),
            "false_alarms_whole_utterances": count(single),
            "false_alarms_6-9_s_pieces": count(pieces),
            "false_alarms_4-5.5_s_pieces (short references)": count(short_pieces),
            "false_alarms_white_noise_20_dB": count(noisy_single),
        }

    summary = shares(lambda r: bool(r["found"]))
    # The detector before the score, from the same cases.
    previous = shares(flagged_before)
    summary.update({
        "outlier_detected": rate(sum(r["detected"] for r in outliers), len(outliers)),
        "genuine_sets_with_a_clip_excluded": rate(sum(r["excluded"] for r in genuine),
                                                  len(genuine)),
    })
    meta = {"date": sd.now(), "machine": sd.machine(), "git_commit": sd.git_commit(),
            "split": args.split, "speakers": len(names), "cases": args.cases,
            "two_speaker_threshold": TWO_SPEAKER_THRESHOLD,
            "short_two_speaker_threshold": SHORT_TWO_SPEAKER_THRESHOLD,
            "short_windows": SHORT_WINDOWS,
            "min_split_seconds": MIN_SPLIT_SECONDS, "outlier_threshold": OUTLIER_THRESHOLD,
            "wall_s": time.perf_counter() - started}
    lines = [
        f"# Second speaker and few-shot outliers ({args.split} speakers)", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {len(names)} LibriSpeech {args.split} speakers (>= 6 s of speech); "
        f"two speakers: score (change-point cosine, 2-means cosine, window consistency; "
        f"`voxclone.quality.speakers`) > {TWO_SPEAKER_THRESHOLD}, or > "
        f"{SHORT_TWO_SPEAKER_THRESHOLD} for a clip of at most {SHORT_WINDOWS} windows; "
        f"outlier cosine < {OUTLIER_THRESHOLD}",
        f"- wall time {meta['wall_s']:.0f} s", "",
        f"| measure | result (95 % interval) | previous detector: score > "
        f"{TWO_SPEAKER_THRESHOLD} at every length |", "|---|---|---|",
        *(f"| {k.replace('_', ' ')} | {v} | {previous.get(k, '')} |"
          for k, v in summary.items()), "",
        "Change-point cosine percentiles (1 / 5 / 50 / 95 / 99):", "",
        f"- single speaker: {percentiles([r['cosine'] for r in single])}",
        f"- single speaker, white noise 20 dB: "
        f"{percentiles([r['cosine'] for r in noisy_single])}",
        f"- single speaker, 6-9 s pieces: {percentiles([r['cosine'] for r in pieces])}",
        f"- concatenated: {percentiles([r['cosine'] for r in by_kind['concatenated']])}",
        f"- overlapped: {percentiles([r['cosine'] for r in by_kind['overlapped']])}",
        f"- interrupted: {percentiles([r['cosine'] for r in interruptions])}",
        "", "2-means cosine percentiles:", "",
        f"- single speaker, 6-9 s pieces: {percentiles([r['scattered'] for r in pieces])}",
        f"- interrupted: {percentiles([r['scattered'] for r in interruptions])}",
        f"- few-shot, genuine clip vs the rest (lowest of 3): {percentiles(genuine_min)}",
        f"- few-shot, other speaker's clip vs the rest: {percentiles(impostor)}", "",
        "Window consistency percentiles:", "",
        *(f"- {name}: {percentiles([r['consistency'] for r in cases])}"
          for name, cases in (("single speaker, 6-9 s pieces", pieces),
                              ("single speaker, 4-5.5 s pieces", short_pieces),
                              ("two speakers, 4-6 s", short_mixed),
                              ("concatenated", by_kind["concatenated"]),
                              ("overlapped", by_kind["overlapped"]),
                              ("interrupted", interruptions))), "",
        "Threshold sweep (both of the score's thresholds moved by the offset):", "",
        "| offset | false alarms, whole | false alarms, 6-9 s pieces | detected "
        "(concatenated + overlapped) | interrupted | false alarms, 4-5.5 s pieces | "
        "detected, 4-6 s clips |", "|---|---|---|---|---|---|---|",
        *(f"| {s['offset']:+.2f} | {s['false_alarms']:.1%} | "
          f"{s['false_alarms_pieces']:.1%} | {s['detected']:.1%} | {s['interrupted']:.1%} | "
          f"{s['false_alarms_short_pieces']:.1%} | {s['detected_short']:.1%} |"
          for s in sweep),
    ]
    text = "\n".join(lines) + "\n"
    out = Path(args.out) if args.out else RESULTS / (
        "speaker_mix" + ("_calibration" if args.split == "calibration" else ""))
    sd.write_results(out, text, {"meta": meta, "summary": summary, "previous": previous,
                                 "sweep": sweep, "rows": rows, "outlier_rows": outlier_rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
