"""How the F0 range match should clamp its factor, and whether a noisy reference may widen
the clone's melody (issue 3: F0 range within 20 % of the speaker's).

Enrollment scales each piece of the clone's melody by the speaker's 5-95 % F0 range over
the clone's (``voxclone.clone.pitch_rate_match``). The factor is clamped to 0.67-1.5,
and a reference the gate calls noisy (under 25 dB) may only narrow the melody, since
other voices' pitch widens a babbled reference's measured range. Each speaker is
enrolled at ``--effort`` with each of four settings, all else as shipped:

* ``shipped``: clamp 0.67-1.5, a noisy reference only narrowing;
* ``clamp 0.5-2``: a wider clamp alone;
* ``noisy widens``: a noisy reference's range matched like any;
* ``both``.

Each clone speaks clone_quality's three sentences, scored as there against the speaker's
whole utterance (F0 within 1 st, range within 20 %, rate within 10 %), by its
normalised similarity to the held-out part and by pocketsphinx's word errors; every
setting is paired with ``shipped`` on the same speaker. (Run on 7 Dec with the wider
settings as the defaults, under the labels "until 7 Dec" and "shipped" for ``shipped``
and ``both``; they were not kept, and the committed results were relabelled.)

Speakers: calibration speakers outside every benchmark (``fast_refine.dev_speakers``).

Run from the repo root: ``python bench/range_match.py [--speakers 48]``; writes
``bench/results/range_match.{md,json}``. About 25 s a speaker at ``fast``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import voxclone
from voxclone.audio.prosody import prosody_stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clone_quality as cq
import speech_data as sd
from clone_quality_report import prosody_shares
from clone_variants import WIDE_RANGE_SETTINGS
from fast_refine import dev_speakers

SETTINGS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "clamp 0.5-2": {"range_bounds": WIDE_RANGE_SETTINGS["range_bounds"]},
    "noisy widens": {"widen_for_noisy": True},
    "both": WIDE_RANGE_SETTINGS,
}
BASELINE = "shipped"


def cloned(truth: cq.Truth, effort: str, norm: sd.Normalisation, recognizer: sd.Recognizer,
           settings: dict[str, Any]) -> dict[str, Any]:
    with sd.pitch_rate_settings(**settings):
        row = cq.clone_row(truth, effort, norm, recognizer)
    row.pop("transcripts", None)
    return row


def table(rows: list[dict[str, Any]], own: list[dict[str, Any]]) -> list[str]:
    base = {r["speaker"]: r for r in rows if r["setting"] == BASELINE}
    lines = ["| setting | range within 20 % | range ratio (log mean, sd) | moved in / out "
             "of the band | similarity | vs shipped | word errors | F0 within 1 st | "
             "rate within 10 % |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    inside = lambda r: abs(r["f0_range_ratio"] - 1) <= 0.2  # noqa: E731
    for name in SETTINGS:
        mine = [r for r in rows if r["setting"] == name]
        shares = prosody_shares(mine)
        logs = np.log([r["f0_range_ratio"] for r in mine])
        gains = [r["similarity"] - base[r["speaker"]]["similarity"] for r in mine]
        moved_in = sum(inside(r) and not inside(base[r["speaker"]]) for r in mine)
        moved_out = sum(inside(base[r["speaker"]]) and not inside(r) for r in mine)
        paired = "" if name == BASELINE else sd.mean_se(gains)
        lines.append(
            f"| {name} | {shares['f0_range_within_20pct']:.0%} | "
            f"{logs.mean():+.3f}, {logs.std():.3f} | {moved_in} / {moved_out} | "
            f"{statistics.mean(r['similarity'] for r in mine):.3f} | {paired} | "
            f"{sum(r['asr_errors'] for r in mine)}/{sum(r['asr_words'] for r in mine)} | "
            f"{shares['f0_within_1st']:.0%} | {shares['rate_within_10pct']:.0%} |")
    refs = prosody_shares(own)
    lines.append(f"| the speaker's own 6 s reference | {refs['f0_range_within_20pct']:.0%} | "
                 f"{np.mean(np.log([r['f0_range_ratio'] for r in own])):+.3f}, "
                 f"{np.std(np.log([r['f0_range_ratio'] for r in own])):.3f} | | | | | "
                 f"{refs['f0_within_1st']:.0%} | {refs['rate_within_10pct']:.0%} |")
    return lines


def report(meta: dict[str, Any], rows: list[dict[str, Any]],
           own: list[dict[str, Any]]) -> str:
    """The markdown of a run (``meta`` from :func:`sd.run_meta`)."""
    speakers = {r["speaker"]: r["gender"] for r in rows}
    return "\n".join([
        "# The F0 range match: its clamp, and noisy references", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- wall time: {meta['wall_s']:.0f} s; command: `{meta['command']}`",
        *([f"- {meta['note']}"] if meta.get("note") else []),
        f"- {len(speakers)} calibration speakers outside the benchmarks "
        f"({sum(g == 'F' for g in speakers.values())} female), effort `{meta['effort']}`; "
        "clone_quality's three sentences and targets; similarity normalised as there; "
        "paired differences +- their standard error", "",
        *table(rows, own), ""])


def main(argv: list[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=48,
                               out=sd.REPO_ROOT / "bench" / "results" / "range_match")
    parser.add_argument("--effort", default="fast", choices=("fast", "balanced", "best"))
    parser.add_argument("--render", metavar="JSON", default=None,
                        help="only write the tables of an earlier run's json to --out")
    args = parser.parse_args(argv)
    if args.render:
        data = json.loads(Path(args.render).read_text(encoding="utf-8"))
        sd.write_results(args.out, report(data["meta"], data["rows"], data["references"]),
                         data)
        return 0
    started = time.perf_counter()
    utterances = sd.read_index(sd.corpus_dir(args.speech_dir))
    norm, _ = sd.measure_normalisation(utterances, voxclone.embed, print, cache=True)
    recognizer = sd.Recognizer()
    rows: list[dict[str, Any]] = []
    own: list[dict[str, Any]] = []
    splits = dev_speakers(args.speakers, args.speech_dir)
    for index, split in enumerate(splits, 1):
        truth = cq.Truth(split, voxclone.embed(split.heldout), prosody_stats(split.audio))
        own.append(cq.reference_row(truth))
        for name, settings in SETTINGS.items():
            row = {**cloned(truth, args.effort, norm, recognizer, settings), "setting": name}
            rows.append(row)
            print(f"[{index}/{len(splits)}] {row['speaker']} {name}: range "
                  f"x{row['f0_range_ratio']:.2f} (factor {row['pitch_range_factor']:.2f}), "
                  f"sim {row['similarity']:.3f}", flush=True)
    meta = sd.run_meta(started, command="python bench/range_match.py " + " ".join(sys.argv[1:]),
                       effort=args.effort, speakers=[s.utterance.speaker for s in splits])
    sd.write_results(args.out, report(meta, rows, own),
                     {"meta": meta, "rows": rows, "references": own})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
