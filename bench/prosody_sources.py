"""Where a clone's pitch and tempo errors come from: its 6 s reference, or the match.

``clone_quality.py`` scores a clone's F0 median, F0 range and speaking rate against the
speaker's *whole* utterance, but a clone is made from the utterance's first 6 s of
speech only. So each error is two errors in one:

* the **reference's own offset**: the reference's statistic against the whole
  utterance's. No clone of the reference can do better than a copy of it; this is the
  "reference itself" line of ``clone_quality.py``'s table;
* the **match's error**: the clone's statistic against its reference's. This is what
  enrollment controls: how it measures the reference (a noisy one's pitch on its loud
  frames only, say), the conditioning, and the pitch shift, range and rate factors.

This script re-splits each speaker of one or more ``clone_quality.py`` result files
exactly as the run did, measures the reference and the whole utterance with the same
:func:`voxclone.audio.prosody.prosody_stats` (no re-synthesis: the clone's statistics
come from the result rows), and gives for each row and target the share of speakers
within it against the speaker, against their own reference, and of the reference
itself, and which of the two errors put each voice outside the target.

    python bench/prosody_sources.py --results bench/results/clone_quality_X.json
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxclone.audio.prosody import ProsodyStats, prosody_stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file
from bench_parts import read_run
from clone_quality_report import semitones

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "prosody_sources"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Target:
    """One of issue 3's prosody targets: a statistic, and the band its ratio to the
    speaker's must fall in (as ``clone_quality_report.prosody_shares`` counts it)."""

    name: str
    statistic: str  # its short name
    row_key: str  # the clone's ratio to the whole utterance, in a clone_quality row
    bound: float  # on |error|, in the error's unit
    unit: str
    of: Callable[[ProsodyStats], float]  # the statistic
    error: Callable[[float], float]  # a ratio of the statistic -> signed error

    def within(self, ratio: float) -> bool:
        return abs(self.error(ratio)) <= self.bound


TARGETS = (
    Target("F0 median within 1 st", "F0 median", "f0_median_hz", 1.0, "st",
           lambda s: s.f0_median, semitones),
    Target("F0 range within 20 %", "F0 range", "f0_range_ratio", 0.2, "",
           lambda s: s.f0_range_semitones, lambda r: r - 1.0),
    Target("rate within 10 %", "rate", "rate_ratio", 0.1, "",
           lambda s: s.syllable_rate, lambda r: r - 1.0),
)
BY_NAME = {t.name: t for t in TARGETS}


def clone_ratio(target: Target, row: dict[str, Any], whole: ProsodyStats) -> float:
    """The clone's statistic over the whole utterance's, from a result row."""
    value = float(row[target.row_key])
    return value / target.of(whole) if target.row_key == "f0_median_hz" else value


def sources(rows: Sequence[dict[str, Any]], truth: dict[str, tuple[ProsodyStats, ProsodyStats]],
            ) -> list[dict[str, Any]]:
    """Per effort and target: the shares and the causes of the misses."""
    out = []
    efforts = list(dict.fromkeys(r["effort"] for r in rows))
    for effort in efforts:
        mine = [r for r in rows if r["effort"] == effort and r["speaker"] in truth]
        for target in TARGETS:
            clone_in = ref_in = match_in = 0
            causes: dict[str, list[str]] = {"reference": [], "match": [], "both": [],
                                            "neither": []}
            match_errors: list[float] = []
            for row in mine:
                reference, whole = truth[row["speaker"]]
                to_whole = clone_ratio(target, row, whole)
                own = target.of(reference) / target.of(whole)
                to_reference = to_whole / own
                match_errors.append(target.error(to_reference))
                clone_in += target.within(to_whole)
                ref_in += target.within(own)
                match_in += target.within(to_reference)
                if not target.within(to_whole):
                    cause = {(False, True): "reference", (True, False): "match",
                             (False, False): "both", (True, True): "neither"}[
                        (target.within(own), target.within(to_reference))]
                    causes[cause].append(row["speaker"])
            n = len(mine)
            out.append({"effort": effort, "target": target.name, "speakers": n,
                        "clone_within": clone_in / n, "reference_within": ref_in / n,
                        "clone_within_of_reference": match_in / n,
                        "match_error_median": statistics.median(match_errors),
                        "match_error_abs_median": statistics.median(
                            abs(e) for e in match_errors),
                        "misses": causes})
    return out


def render(meta: dict[str, Any], summary: Sequence[dict[str, Any]]) -> str:
    lines = [
        "# Where the pitch and tempo errors come from", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- clones from {', '.join(meta['results'])} (run on "
        f"{', '.join(sorted(set(meta['source_trees'])))})",
        "- the speaker: the whole utterance; the reference: its first "
        f"{sd.REFERENCE_SPEECH_S:.0f} s of speech, the clone's only input; the same "
        "`prosody_stats` for both",
        f"- wall time {meta['wall_s']:.0f} s", "",
        "| effort | target | speakers | clone within, of the speaker (the benchmark's) | "
        "the reference itself | clone within, of its reference (the match) | "
        "match error, median (signed / abs) | missed: reference's offset / match / both "
        "/ neither alone |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        unit = " st" if BY_NAME[s["target"]].unit == "st" else ""
        fmt = "{:+.2f}" if unit else "{:+.3f}"
        counts = " / ".join(str(len(s["misses"][k]))
                            for k in ("reference", "match", "both", "neither"))
        lines.append(
            f"| {s['effort']} | {s['target']} | {s['speakers']} | {s['clone_within']:.0%} | "
            f"{s['reference_within']:.0%} | {s['clone_within_of_reference']:.0%} | "
            f"{fmt.format(s['match_error_median'])} / "
            f"{fmt.format(s['match_error_abs_median'])[1:]}{unit} | {counts} |")
    lines += ["", "Voices outside each target, by cause (speaker ids):", ""]
    for s in summary:
        named = "; ".join(f"{k}: {', '.join(v)}" for k, v in s["misses"].items() if v)
        lines.append(f"- {s['effort']}, {s['target']}: {named or 'none'}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--results", type=Path, nargs="+", required=True,
                        help="clone_quality.py .json files")
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    runs = [read_run(p) for p in args.results]
    rows = [r for run in runs for r in run["rows"] if "error" not in r]
    trees = [str(run["meta"].get("git_commit", "?")) for run in runs]
    utterances = {u.speaker: u for u in sd.read_index(sd.corpus_dir(args.speech_dir))}
    truth: dict[str, tuple[ProsodyStats, ProsodyStats]] = {}
    for speaker in dict.fromkeys(r["speaker"] for r in rows):
        split = sd.split_utterance(utterances[speaker])
        if split is None:
            raise SystemExit(f"speaker {speaker}'s utterance no longer splits as the run "
                             "did; is --speech-dir the run's?")
        whole = prosody_stats(split.audio)
        stored = next(r["speaker_f0_median_hz"] for r in rows if r["speaker"] == speaker)
        if not math.isclose(whole.f0_median, stored, rel_tol=1e-3):
            raise SystemExit(f"speaker {speaker}: the utterance's F0 median measures "
                             f"{whole.f0_median:.1f} Hz here, {stored:.1f} Hz in the run; "
                             "the pitch tracker or the data changed since")
        truth[speaker] = (prosody_stats(split.reference), whole)
    log(f"measured {len(truth)} speakers")
    summary = sources(rows, truth)
    meta = sd.run_meta(started, results=[str(p) for p in args.results], source_trees=trees)
    sd.write_results(args.out, render(meta, summary), {"meta": meta, "summary": summary})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
