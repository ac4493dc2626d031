"""Does the `balanced` search gain from a bound that covers its start? (issue 3)

The search's offset bound (``SearchSettings.max_offset``, 1.5 RMS per dimension) is
measured from the stock-pack mixture, while the style map's start is bounded around
the map's own centre, so it can lie further out. Until 4 Dec every candidate was then
projected back onto the bound, far from the start (a shrink of up to a quarter, twice
the exploration radius), and the search could not look around where it began. The
bound now reaches at least as far as the start (``bound_covers_start``).

For every speaker this measures how far the map's start lies from the mixture, and for
those beyond the bound (the others search the same either way) enrolls `balanced`
with the bound as before and as now, each with the same fixed number of refinement
renderings (``--evaluations``, about what 45 s buy on this machine) instead of a time
budget, so the two searches differ only by the bound and not by the machine's speed.
Each clone speaks ``clone_quality.py``'s three sentences and is scored against the
speaker's held-out speech, normalised as there.

Speakers: ``--from benchmark`` takes ``clone_quality.py``'s (all utterances, the same
choice and normalisation); ``--from dev`` the calibration speakers outside them
(``fast_refine.dev_speakers``), on which the change was chosen.

Run from the repo root: ``python bench/search_bound.py``; writes
``bench/results/search_bound[_dev].{md,json}``. About 30 minutes for 48 speakers.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import voxclone
from voxclone.clone import fit
from voxclone.clone.search import SearchResult, SearchSettings
from voxclone.speaker import cosine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clone_quality as cq
import fast_refine
import speech_data as sd

RESULTS = sd.REPO_ROOT / "bench" / "results"
BOUND = SearchSettings().max_offset


def start_offset(reference: voxclone.Audio) -> float:
    """RMS per dimension (search units) of the map's start from the mixture, as a
    `balanced` enrollment of ``reference`` begins its search (0: the start is a pack)."""
    seen: list[float] = []

    def record(target: np.ndarray, start: Any, start_embedding: np.ndarray,
               base: np.ndarray, scale: np.ndarray, evaluate: Any,
               **_: Any) -> SearchResult:
        z = start.delta / scale
        seen.append(float(np.linalg.norm(z) / np.sqrt(z.size)))
        return SearchResult(start, float(start_embedding @ target), 0, 0.0)

    with mock.patch.object(fit, "refine", record):
        voxclone.enroll("bench-bound", reference, effort="balanced", save=False,
                        i_am_the_speaker=True, force=True)
    return seen[0] if seen else 0.0


def clone(split: sd.Split, held: np.ndarray, norm: sd.Normalisation, evaluations: int,
          covers_start: bool) -> dict[str, Any]:
    """A `balanced` clone searched for ``evaluations`` renderings, scored."""
    real = fit.refine

    def fixed(*args: Any, **kwargs: Any) -> SearchResult:
        kwargs.update(budget_s=1e6, max_evaluations=evaluations,
                      settings=SearchSettings(bound_covers_start=covers_start))
        return real(*args, **kwargs)

    began = time.perf_counter()
    with mock.patch.object(fit, "refine", fixed):
        profile = voxclone.enroll("bench-bound", split.reference, effort="balanced",
                                  save=False, i_am_the_speaker=True, force=True)
    enroll_s = time.perf_counter() - began
    audio = cq.join([voxclone.synthesize(text, profile) for text in cq.SENTENCES])
    return {"similarity": norm.normalise(cosine(voxclone.embed(audio), held)),
            "score": profile.score, "enroll_s": enroll_s}


def speakers(source: str, count: int, speech_dir: str | None) -> tuple[
        list[sd.Split], sd.Normalisation, dict[str, np.ndarray]]:
    utterances = sd.read_index(sd.corpus_dir(speech_dir))
    cq.log(f"normalisation over {len(utterances)} utterances ...")
    norm, heldout = sd.measure_normalisation(utterances, voxclone.embed, cq.log, cache=True)
    if source == "dev":
        return fast_refine.dev_speakers(count, speech_dir), norm, heldout
    splits = [sd.split_utterance(u) for u in sd.choose_speakers(utterances, set(heldout),
                                                                   count)]
    return [s for s in splits if s is not None], norm, heldout


def render(meta: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    beyond = [r for r in rows if "before" in r]
    lines = [
        "# `balanced` search: a bound that covers the map's start", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {meta['speakers']} speakers ({meta['source']}); {meta['evaluations']} "
        "refinement renderings per search (fixed, not timed); bound "
        f"{BOUND} RMS per dimension from the mixture; wall time {meta['wall_s']:.0f} s",
        f"- the map's start beyond the bound for {len(beyond)} of {len(rows)} speakers "
        f"(median start {statistics.median(r['start'] for r in rows):.2f}); the others "
        "search the same either way", "",
    ]
    if not beyond:
        return "\n".join(lines) + "\n"
    diffs = [r["after"]["similarity"] - r["before"]["similarity"] for r in beyond]
    se = sd.standard_error(diffs)
    lines += [
        "| bound | similarity (speakers beyond it) | enrollment score | enroll s (median) |",
        "|---|---|---|---|",
    ]
    for key, name in (("before", "`max_offset` alone (before)"),
                      ("after", "at least the start (now)")):
        lines.append(
            f"| {name} | {statistics.fmean(r[key]['similarity'] for r in beyond):.3f} | "
            f"{statistics.fmean(r[key]['score'] for r in beyond):.3f} | "
            f"{statistics.median(r[key]['enroll_s'] for r in beyond):.1f} |")
    lines += [
        "", f"Paired by speaker: **{statistics.fmean(diffs):+.3f} +- {se:.3f}** (standard "
        f"error), closer for {sum(d > 0 for d in diffs)} of {len(diffs)}; over all "
        f"{len(rows)} speakers {sum(diffs) / len(rows):+.3f}.", "",
        "| speaker | gender | start (RMS) | before | now |", "|---|---|---|---|---|",
    ]
    lines += [f"| {r['speaker']} | {r['gender']} | {r['start']:.2f} | "
              f"{r['before']['similarity']:.3f} | {r['after']['similarity']:.3f} |"
              for r in beyond]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=48, out="")
    parser.add_argument("--from", dest="source", choices=("benchmark", "dev"),
                        default="benchmark")
    parser.add_argument("--evaluations", type=int, default=22)
    args = parser.parse_args(argv)
    out = args.out or str(RESULTS / ("search_bound" + ("_dev" if args.source == "dev"
                                                         else "")))
    started = time.perf_counter()
    splits, norm, heldout = speakers(args.source, args.speakers, args.speech_dir)
    rows: list[dict[str, Any]] = []
    for index, split in enumerate(splits, 1):
        u = split.utterance
        row: dict[str, Any] = {"speaker": u.speaker, "gender": u.gender,
                               "start": start_offset(split.reference)}
        if row["start"] > BOUND:
            for key, covers in (("before", False), ("after", True)):
                row[key] = clone(split, heldout[u.speaker], norm, args.evaluations, covers)
            cq.log(f"[{index}/{len(splits)}] {u.speaker}: start {row['start']:.2f}, "
                f"before {row['before']['similarity']:.3f}, now "
                f"{row['after']['similarity']:.3f}")
        else:
            cq.log(f"[{index}/{len(splits)}] {u.speaker}: start {row['start']:.2f} (inside)")
        rows.append(row)
    meta = sd.run_meta(started, speakers=len(rows), source=args.source,
                       evaluations=args.evaluations)
    sd.write_results(out, render(meta, rows), {"meta": meta, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
