"""How much a clone's similarity moves when only its speaking rate moves by 1 %.

Kokoro turns the speed input into whole frames per phoneme, so a small change of a
voice's rate factor re-times the sentences, and GE2E, which hears ~10 s of speech,
scores the clone again. That is noise for every comparison whose rows speak at slightly
different rates (a rate factor read another way, a rounded profile). For each of
clone_quality's speakers this enrolls once (``--effort``, as shipped), speaks the
benchmark's three sentences with the voice's rate factor times 0.97, 0.98, ... 1.03, and
scores each like clone_quality (normalised GE2E similarity against the held-out rest of
the utterance). The table gives, per speaker, the spread (standard deviation) over the
seven and the largest move between neighbouring 1 % steps, then their medians.

    python bench/rate_jitter.py [--speakers 8] [--effort fast]   # ~25 s a speaker at fast
    python bench/rate_jitter.py --render bench/results/rate_jitter.json
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clone_quality as cq
import speech_data as sd
from voice_runs import rerender, run_voices, shipped_voice, spoken, voice_run_parser

import voxclone
from voxclone.consent.voice_seal import seal_voice

#: The rate factor's multipliers tried, in 1 % steps.
STEPS = tuple(round(0.97 + 0.01 * i, 2) for i in range(7))


def analyse(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per speaker: the spread and the largest neighbouring move of the similarity."""
    table = []
    for row in rows:
        sims = row["similarity"]
        table.append({"speaker": row["speaker"], "rate": row["rate"],
                      "spread": float(np.std(sims, ddof=1)),
                      "largest_step": float(np.max(np.abs(np.diff(sims)))),
                      "low": min(sims), "high": max(sims)})
    return table


def render(meta: dict[str, Any], table: list[dict[str, Any]]) -> str:
    lines = ["# Similarity against a 1 % change of the rate", "",
             f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
             f"- effort {meta['effort']}, {meta['speakers']} speakers; the rate factor "
             f"times {', '.join(f'{s:.2f}' for s in STEPS)}; the benchmark's three "
             "sentences, scored as clone_quality scores them", "",
             "| speaker | rate factor | similarity, lowest - highest | spread (sd) "
             "| largest move between 1 % steps |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['speaker']} | {r['rate']:.3f} | {r['low']:.3f} - {r['high']:.3f} | "
              f"{r['spread']:.3f} | {r['largest_step']:.3f} |" for r in table]
    if table:
        lines.append(f"| median | | | {statistics.median(r['spread'] for r in table):.3f} | "
                     f"{statistics.median(r['largest_step'] for r in table):.3f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = voice_run_parser(__doc__, speakers=8,
                              out=Path(__file__).parent / "results" / "rate_jitter")
    args = parser.parse_args(argv)
    if rerender(args, analyse, render):
        return 0
    utterances = sd.read_index(sd.corpus_dir(args.speech_dir))
    norm, heldout = sd.measure_normalisation(
        utterances, voxclone.embed, lambda message: print(message, file=sys.stderr),
        cache=True)

    def voice_row(split: sd.Split, effort: str) -> dict[str, Any]:
        voice = shipped_voice(split, effort)
        sims = []
        for step in STEPS:
            moved = seal_voice(dataclasses.replace(voice, rate=round(voice.rate * step, 4)))
            raw = cq.cosine(voxclone.embed(spoken(cq.SENTENCES, moved)),
                            heldout[split.utterance.speaker])
            sims.append(norm.normalise(raw))
        return {"speaker": split.utterance.speaker, "rate": voice.rate, "similarity": sims}

    return run_voices(args, voice_row,
                      lambda row: " ".join(f"{s:.3f}" for s in row["similarity"]),
                      analyse, render, steps=list(STEPS))


if __name__ == "__main__":
    raise SystemExit(main())
