"""How far one clone's measured pitch and tempo move between sets of sentences.

Enrollment measures a clone on two sentences (the probe and
``voxclone.clone.fit.RATE_TEXT``) and sets the pitch shift, range factor and rate
factor there; ``clone_quality.py`` measures it again on its own three sentences. The
same voice reads differently on different sentences, and the pitch tracker and the
syllable detector read a few seconds of speech with an error of their own, so even a
match that is exact on enrollment's sentences lands off on the benchmark's.

For each speaker this enrolls once (``--effort``, as shipped) and speaks three sets of
sentences with the voice, as synthesis does (pitch shift, range and rate factors, tone,
watermark): enrollment's two, the benchmark's three, and
``voxclone.clone.fit.MORE_PROSODY_TEXTS``' four. For each statistic it gives the spread
over speakers of the log ratio between each pair of sets (the same voice, so only the
sentences and the measurement differ), the share within issue 3's band (F0 within 1
st, range within 20 %, rate within 10 %), and each set's own spread, solved from the
three pairs on the assumption that the sets' errors are independent. The share of
"the benchmark's against enrollment's" is the most a match measured on enrollment's
sentences can score on the benchmark's, before the 6 s reference's own offset.

    python bench/sentence_spread.py [--speakers 48] [--effort fast]   # ~15 min at fast
    python bench/sentence_spread.py --render bench/results/sentence_spread.json
"""

from __future__ import annotations

import itertools
import math
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.audio.prosody import ProsodyStats, prosody_stats
from voxclone.clone import fit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clone_quality as cq
import speech_data as sd
from prosody_sources import TARGETS
from voice_runs import rerender, run_voices, shipped_voice, spoken, voice_run_parser

SETS: dict[str, tuple[str, ...]] = {
    "benchmark's": tuple(cq.SENTENCES),
    "enrollment's": (fit.PROBE_TEXT, fit.RATE_TEXT),
    "four more": tuple(fit.MORE_PROSODY_TEXTS),
}



def in_unit(log_ratio: float, unit: str, signed: bool = False) -> str:
    """A log ratio in semitones or per cent."""
    sign = "+" if signed else ""
    return f"{log_ratio * 12 / math.log(2):{sign}.2f} st" if unit == "st" \
        else f"{log_ratio:{sign}.1%}"


def analyse(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per statistic: each pair of sets' spread and share within the band, and each
    set's own spread (NaN where the three pairs do not solve to a positive variance)."""
    out = []
    names = list(SETS)
    for target in TARGETS:
        stat, unit = target.statistic, target.unit
        logs = {n: np.log([r[n][stat] for r in rows]) for n in names}
        pairs = {}
        for a, b in itertools.combinations(names, 2):
            diff = list(logs[a] - logs[b])
            pairs[(a, b)] = diff
            out.append({"statistic": stat, "what": f"{a} against {b}", "speakers": len(diff),
                        "median": in_unit(float(np.median(diff)), unit, signed=True),
                        "spread": in_unit(statistics.stdev(diff), unit),
                        "within": float(np.mean([target.within(math.exp(d))
                                                 for d in diff]))})
        var = {frozenset(k): statistics.variance(v) for k, v in pairs.items()}
        for n in names:
            with_n = [v for k, v in var.items() if n in k]
            without = var[frozenset(m for m in names if m != n)]
            own = (sum(with_n) - without) / 2  # var(a-b) + var(a-c) - var(b-c) = 2 var(a)
            out.append({"statistic": stat, "what": f"{n} sentences' own error",
                        "speakers": len(rows), "median": "",
                        "spread": in_unit(math.sqrt(own), unit) if own > 0 else "~0",
                        "within": float("nan")})
    return out


def render(meta: dict[str, Any], table: list[dict[str, Any]]) -> str:
    lines = [
        "# One clone, three sets of sentences: how far its pitch and tempo move", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {meta['speakers']} speakers of clone_quality's benchmark, enrolled at "
        f"`{meta['effort']}` from their first 6 s of speech; each set spoken as synthesis "
        "speaks (pitch shift, range and rate factors, tone, watermark)",
        "- sets: " + "; ".join(f"{n}: {len(t)} sentences" for n, t in SETS.items()),
        "- spread: standard deviation over speakers of the log ratio (semitones for the "
        "F0 median, per cent otherwise); within: the share inside issue 3's band (1 st, "
        "20 %, 10 %)",
        f"- wall time {meta['wall_s']:.0f} s", "",
        "| statistic | sets compared | speakers | median ratio | spread | within the band |",
        "|---|---|---|---|---|---|",
    ]
    for t in table:
        within = "" if math.isnan(t["within"]) else f"{t['within']:.0%}"
        lines.append(f"| {t['statistic']} | {t['what']} | {t['speakers']} | {t['median']} | "
                     f"{t['spread']} | {within} |")
    return "\n".join(lines) + "\n"


def stats_dict(stats: ProsodyStats) -> dict[str, float]:
    return {t.statistic: float(t.of(stats)) for t in TARGETS}


def voice_row(split: sd.Split, effort: str) -> dict[str, Any]:
    """One speaker's statistics on each set of sentences."""
    profile = shipped_voice(split, effort)
    return {"speaker": split.utterance.speaker, "gender": split.utterance.gender,
            **{name: stats_dict(prosody_stats(spoken(texts, profile)))
               for name, texts in SETS.items()}}


def progress(row: dict[str, Any]) -> str:
    return "; ".join(f"{n} rate {row[n]['rate']:.2f} F0 {row[n]['F0 median']:.0f}"
                     for n in SETS)


def main(argv: list[str] | None = None) -> int:
    parser = voice_run_parser(__doc__, speakers=48,
                              out=sd.REPO_ROOT / "bench" / "results" / "sentence_spread")
    args = parser.parse_args(argv)
    if args.speakers < 2 and not args.render:
        parser.error("--speakers must be at least 2: a spread over speakers needs two")
    if rerender(args, analyse, render):
        return 0
    return run_voices(args, voice_row, progress, analyse, render)


if __name__ == "__main__":
    raise SystemExit(main())
