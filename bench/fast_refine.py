"""How many refinement renderings ``fast`` enrollment should spend (issue 3, on dev speakers).

With the static int8 engine (issue 8) a ``fast`` enrollment takes about 1.3-2 s, under
issue 3's 3 s, so it can afford a few steps of the search that ``balanced`` runs for
45 s. This measures, for each count of refinement renderings (``--counts``), the
clone's GE2E cosine to the speaker's held-out speech (the three sentences of
``clone_quality.py``, joined), and the enrollment time. Speakers: the calibration half
of the corpus (``quality_data.partition``), utterances of at least 12 s, none of the
speakers in ``bench/results/clone_quality.json`` (the benchmark's), half female.

Run from the repo root: ``python bench/fast_refine.py``; writes
``bench/results/fast_refine.{md,json}``. About 10 minutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import voxclone
from voxclone.clone import fit
from voxclone.speaker import cosine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clone_quality as cq
import quality_data as qd
import speech_data as sd


def dev_speakers(count: int, speech_dir: str | None) -> list[sd.Split]:
    """``count`` calibration speakers outside the benchmark, half female, split."""
    pool = [u for u in qd.dev_utterances(speech_dir) if u.seconds >= 12.0]
    pool.sort(key=lambda u: sd._order_key(u.speaker))
    chosen: list[sd.Split] = []
    seen: set[str] = set()
    for gender, want in (("F", count - count // 2), ("M", count // 2)):
        for utterance in pool:
            if sum(s.utterance.gender == gender for s in chosen) >= want:
                break
            if utterance.gender != gender or utterance.speaker in seen:
                continue
            split = sd.split_utterance(utterance)
            if split is not None:
                chosen.append(split)
                seen.add(utterance.speaker)
    return chosen


def clone(split: sd.Split, evaluations: int, heldout: np.ndarray) -> dict[str, Any]:
    with mock.patch.dict(fit.REFINE_SECONDS, {"fast": 30.0 if evaluations else 0.0}), \
            mock.patch.dict(fit.REFINE_EVALUATIONS, {"fast": evaluations}):
        began = time.perf_counter()
        profile = voxclone.enroll("dev", split.reference, effort="fast", save=False,
                                  i_am_the_speaker=True, force=True)
        enroll_s = time.perf_counter() - began
    speech = cq.join([voxclone.synthesize(t, profile) for t in cq.SENTENCES])
    return {"speaker": split.utterance.speaker, "gender": split.utterance.gender,
            "evaluations": evaluations, "cosine": cosine(voxclone.embed(speech), heldout),
            "probe_score": profile.score, "enroll_s": enroll_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--speakers", type=int, default=24)
    parser.add_argument("--counts", default="0,1,2,3,4")
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default=str(sd.REPO_ROOT / "bench" / "results" /
                                             "fast_refine"))
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",")]
    started = time.perf_counter()
    splits = dev_speakers(args.speakers, args.speech_dir)
    rows = []
    for index, split in enumerate(splits, 1):
        heldout = voxclone.embed(split.heldout)
        for count in counts:
            rows.append(clone(split, count, heldout))
            print(f"[{index}/{len(splits)}] {split.utterance.speaker} {count}: cosine "
                  f"{rows[-1]['cosine']:.3f}, enroll {rows[-1]['enroll_s']:.1f} s", flush=True)
    base = {r["speaker"]: r["cosine"] for r in rows if r["evaluations"] == counts[0]}
    table = []
    for count in counts:
        mine = [r for r in rows if r["evaluations"] == count]
        gains = [r["cosine"] - base[r["speaker"]] for r in mine]
        table.append({
            "evaluations": count, "cosine_mean": statistics.mean(r["cosine"] for r in mine),
            "gain_mean": statistics.mean(gains),
            "gain_se": sd.standard_error(gains) if count != counts[0] else 0.0,
            "closer": sum(g > 0 for g in gains),
            "enroll_median_s": statistics.median(r["enroll_s"] for r in mine),
            "enroll_max_s": max(r["enroll_s"] for r in mine)})
    meta = sd.run_meta(started, speakers=len(splits), counts=counts)
    lines = [
        "# fast enrollment with a few refinement renderings (dev speakers)", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- wall time {meta['wall_s']:.0f} s; {len(splits)} calibration speakers outside "
        "the benchmark (half female); raw GE2E cosine of the three clone_quality "
        "sentences to the held-out speech; gain paired by speaker against "
        f"{counts[0]} renderings", "",
        "| refinement renderings | cosine (mean) | gain (mean +- se) | closer | "
        "enrollment (median / max) |", "|---|---|---|---|---|",
        *(f"| {t['evaluations']} | {t['cosine_mean']:.4f} | {t['gain_mean']:+.4f} +- "
          f"{t['gain_se']:.4f} | {t['closer']}/{len(splits)} | {t['enroll_median_s']:.1f} s "
          f"/ {t['enroll_max_s']:.1f} s |" for t in table),
    ]
    sd.write_results(args.out, "\n".join(lines) + "\n", {"meta": meta, "table": table,
                                                         "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
