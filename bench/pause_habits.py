"""Can a 6 s reference tell a speaker's pause habits? (issue 3, "pause habits")

For every usable LibriSpeech utterance (``speech_data.split_utterance``: reference = the
first 6 s of speech, held-out = the rest), the Silero VAD (``detect_speech``) finds
the pauses (gaps of at least ``MIN_PAUSE_S`` between speech segments) in each part.
If a reference could tell how a speaker pauses, its pause measures would rank speakers
like their held-out speech does: the table gives Spearman's correlation across speakers
for the median pause length and for pause seconds per second of speech.

Run from the repo root: ``python bench/pause_habits.py``; writes
``bench/results/pause_habits.md`` and ``.json``. VAD only: a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from voxclone.audio.clean import detect_speech

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file

MIN_PAUSE_S = 0.15
DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "pause_habits"


def pauses(segments: Sequence[tuple[float, float]], start: float,
           end: float) -> tuple[list[float], float]:
    """Pause lengths (s) between speech segments inside ``[start, end)``, and the
    seconds of speech there."""
    gaps = [b - a for (_, a), (b, _) in itertools.pairwise(segments)
            if a >= start and b <= end and b - a >= MIN_PAUSE_S]
    speech = sum(min(e, end) - max(s, start) for s, e in segments if e > start and s < end)
    return gaps, speech


def measure(split: sd.Split) -> dict[str, Any]:
    segments = detect_speech(split.audio)
    row: dict[str, Any] = {"speaker": split.utterance.speaker}
    for part, (lo, hi) in (("reference", (0.0, split.cut_s)),
                           ("heldout", (split.cut_s, float("inf")))):
        gaps, speech = pauses(segments, lo, hi)
        row[f"{part}_pauses"] = len(gaps)
        row[f"{part}_median_pause_s"] = float(np.median(gaps)) if gaps else None
        row[f"{part}_pause_per_speech_s"] = sum(gaps) / speech if speech > 0 else None
    return row


def correlation(rows: Sequence[dict[str, Any]], key: str) -> dict[str, Any]:
    pairs = [(r[f"reference_{key}"], r[f"heldout_{key}"]) for r in rows
             if r[f"reference_{key}"] is not None and r[f"heldout_{key}"] is not None]
    result = spearmanr([a for a, _ in pairs], [b for _, b in pairs])
    return {"measure": key, "speakers": len(pairs), "spearman": float(result.statistic),
            "p_value": float(result.pvalue)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--speech-dir", default=None)
    args = parser.parse_args(argv)
    rows = []
    for utterance in sd.read_index(sd.corpus_dir(args.speech_dir)):
        split = sd.split_utterance(utterance)
        if split is not None:
            rows.append(measure(split))
    counts = [r["reference_pauses"] for r in rows]
    summary = {
        "utterances": len(rows),
        "reference_pauses_median": float(np.median(counts)),
        "reference_without_pause": sum(c == 0 for c in counts) / len(rows),
        "correlations": [correlation(rows, "median_pause_s"),
                         correlation(rows, "pause_per_speech_s")],
    }
    lines = [
        "# Pause habits from a 6 s reference",
        "",
        f"- date: {sd.now()}; git: {sd.git_commit()}; {len(rows)} usable LibriSpeech "
        f"utterances; pauses = VAD gaps >= {MIN_PAUSE_S} s",
        f"- pauses in a reference: median {summary['reference_pauses_median']:.0f}; "
        f"{summary['reference_without_pause']:.0%} of references have none",
        "",
        "| measure | speakers with pauses in both parts | Spearman, reference vs held-out | p |",
        "|---|---|---|---|",
    ]
    lines += [f"| {c['measure']} | {c['speakers']} | {c['spearman']:.2f} | {c['p_value']:.3f} |"
              for c in summary["correlations"]]
    text = "\n".join(lines) + "\n"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_name(out.name + ".md").write_text(text)
    out.with_name(out.name + ".json").write_text(
        json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
