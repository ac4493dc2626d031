"""Can a 6 s reference tell a speaker's pause habits? (issue 3, "pause habits")

For every LibriSpeech utterance of ``../shared/speech``, the pauses voxclone measures
(:func:`voxclone.audio.pauses.pauses_between`: gaps between the Silero VAD's speech
segments, its padding added back, none over 3 s). Usable utterances
(``speech_data.split_utterance``) are cut into the reference (the first 6 s of speech,
what enrollment sees) and the held-out rest; the VAD runs on each part alone.

It reports:
- the population's pause: the median, over the speakers outside the clone benchmarks'
  48, of each one's median pause in the whole utterance (``POPULATION_PAUSE_S``);
- Spearman's correlation across speakers between the reference's and the held-out
  part's median pause and pause share (seconds of pause per second of speech);
- how well each estimate of a speaker's pause predicts their held-out median pause:
  the population's, the reference's median, and the reference's median drawn toward
  the population's with the weight of k pauses (:func:`speaker_pause`, k =
  ``PRIOR_PAUSES``), k fitted on the usable speakers outside the 48 and checked on
  the 48.

Run from the repo root: ``python bench/pause_habits.py``; writes
``bench/results/pause_habits.md`` and ``.json``. VAD only: a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr

import voxclone
from voxclone.audio import Audio, detect_speech, load_audio
from voxclone.audio.pauses import (
    POPULATION_PAUSE_S,
    PRIOR_PAUSES,
    pauses_between,
    speaker_pause,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "pause_habits"
PRIORS = (1, 2, 3, 4, 6, 8, 16)
#: The clone benchmarks' speakers (bench/clone_quality.py's default).
BENCH_SPEAKERS = 48

Estimate = Callable[[Sequence[float]], float]


def measure(audio: Audio) -> dict[str, Any]:
    segments = detect_speech(audio)
    pauses = pauses_between(segments)
    speech = sum(end - start for start, end in segments)
    return {"pauses": list(pauses),
            "median": statistics.median(pauses) if pauses else None,
            "share": sum(pauses) / speech if speech > 0 else None}


def shrunk(prior: float) -> Estimate:
    """voxclone's estimate (:func:`speaker_pause`) with the weight of ``prior`` pauses;
    the population's when there are none."""
    return lambda pauses: speaker_pause(pauses, prior) or POPULATION_PAUSE_S


def errors(rows: Sequence[dict[str, Any]], estimate: Estimate) -> dict[str, float]:
    """|log2(estimate / held-out median pause)| over rows with a held-out pause."""
    errs = [abs(math.log2(estimate(r["reference"]["pauses"]) / r["heldout"]["median"]))
            for r in rows if r["heldout"]["median"] is not None]
    return {"speakers": len(errs), "mean_abs_log2": statistics.fmean(errs),
            "median_abs_log2": statistics.median(errs),
            "within_25pct": sum(e <= math.log2(1.25) for e in errs) / len(errs)}


def correlation(rows: Sequence[dict[str, Any]], key: str) -> dict[str, Any]:
    pairs = [(r["reference"][key], r["heldout"][key]) for r in rows
             if r["reference"][key] is not None and r["heldout"][key] is not None]
    result = spearmanr([a for a, _ in pairs], [b for _, b in pairs])
    return {"measure": key, "speakers": len(pairs), "spearman": float(result.statistic),
            "p_value": float(result.pvalue)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--speech-dir", default=None)
    args = parser.parse_args(argv)
    utterances = sd.read_index(sd.corpus_dir(args.speech_dir))
    _, usable = sd.measure_normalisation(utterances, voxclone.embed, print, cache=True)
    bench = {u.speaker for u in sd.choose_speakers(utterances, set(usable), BENCH_SPEAKERS)}
    rows, others = [], []
    for utterance in utterances:
        split = sd.split_utterance(utterance)
        if split is None:
            others.append(measure(load_audio(str(utterance.path)))["median"])
            continue
        rows.append({"speaker": utterance.speaker, "bench": utterance.speaker in bench,
                     "whole": measure(split.audio), "reference": measure(split.reference),
                     "heldout": measure(split.heldout)})
    population = [m for m in others if m is not None] + [
        r["whole"]["median"] for r in rows if not r["bench"] and r["whole"]["median"]]
    fit = [r for r in rows if not r["bench"]]
    check = [r for r in rows if r["bench"]]
    estimates: dict[str, Estimate] = {
        "the population's": lambda pauses: POPULATION_PAUSE_S,
        "the reference's median": lambda p: statistics.median(p) if p else POPULATION_PAUSE_S,
        **{f"drawn toward the population's, k = {k}": shrunk(k) for k in PRIORS},
    }
    table = {name: {"fit": errors(fit, e), "check": errors(check, e)}
             for name, e in estimates.items()}
    counts = [len(r["reference"]["pauses"]) for r in rows]
    summary = {
        "utterances": len(rows) + len(others), "usable": len(rows),
        "population_pause_s": statistics.median(population),
        "population_speakers": len(population),
        "reference_pauses_median": statistics.median(counts),
        "reference_without_pause": sum(c == 0 for c in counts) / len(rows),
        "correlations": [correlation(rows, "median"), correlation(rows, "share")],
        "estimates": table, "prior_pauses": PRIOR_PAUSES,
    }
    lines = [
        "# Pause habits from a 6 s reference", "",
        f"- date: {sd.now()}; git: {sd.git_commit()}; {summary['utterances']} LibriSpeech "
        f"utterances, {len(rows)} usable (6 s reference + held-out rest); pauses = VAD "
        "gaps + 0.06 s of padding, none over 3 s",
        f"- population pause: {summary['population_pause_s']:.3f} s, the median of "
        f"{len(population)} speakers' median pauses (all but the clone benchmarks' "
        f"{BENCH_SPEAKERS}); voxclone uses {POPULATION_PAUSE_S} s",
        f"- pauses in a reference: median {summary['reference_pauses_median']:.0f}; "
        f"{summary['reference_without_pause']:.0%} of references have none", "",
        "| measure | speakers with pauses in both parts | Spearman, reference vs held-out | p |",
        "|---|---|---|---|",
    ]
    lines += [f"| {c['measure']} pause | {c['speakers']} | {c['spearman']:.2f} | "
              f"{c['p_value']:.3f} |" for c in summary["correlations"]]
    lines += [
        "", f"Predicting a speaker's held-out median pause; k fitted on the {len(fit)} usable "
        f"speakers outside the {BENCH_SPEAKERS}, checked on the {BENCH_SPEAKERS} (each "
        f"scored where the held-out part has a pause); voxclone uses k = {PRIOR_PAUSES}:", "",
        "| estimate | fit: speakers | fit: mean abs log2 error | fit: within 25 % | "
        "check: speakers | check: mean abs log2 error | check: within 25 % |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, result in table.items():
        f, c = result["fit"], result["check"]
        lines.append(f"| {name} | {f['speakers']} | {f['mean_abs_log2']:.3f} | "
                     f"{f['within_25pct']:.0%} | {c['speakers']} | {c['mean_abs_log2']:.3f} | "
                     f"{c['within_25pct']:.0%} |")
    text = "\n".join(lines) + "\n"
    sd.write_results(args.out, text, {"summary": summary, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
