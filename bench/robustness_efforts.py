"""Compare two efforts' losses to degraded references, speaker by speaker.

Reads a ``robustness.py --efforts A,B`` run (or its ``--merge``) and, for each degraded
condition, pairs each speaker's drop (clean clone minus degraded clone, at the same
effort) across the two efforts. It also asks whether effort B from the degraded
reference still beats effort A from the clean one, and how closely each effort's drop
follows the loss of the d-vector that enrollment used (after noise compensation):
an effort whose clone climbs toward that d-vector inherits its error. No synthesis.

    python bench/robustness_efforts.py bench/results/robustness_balanced.json \
        --out bench/results/robustness_balanced_efforts
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bench_parts
import numpy as np
import speech_data as sd


def compare(rows: Sequence[dict[str, Any]], low: str, high: str) -> list[dict[str, Any]]:
    """One line per degraded condition with both efforts, in the rows' order.

    Each figure is a mean over the speakers measured at both efforts under that
    condition and clean, with its standard error where it has one.
    """
    by = {(r["speaker"], r.get("effort", "fast"), r["condition"]): r for r in rows}
    table = []
    for name in dict.fromkeys(r["condition"] for r in rows if r["condition"] != "clean"):
        speakers = [s for s in dict.fromkeys(r["speaker"] for r in rows)
                    if all((s, e, c) in by for e in (low, high) for c in ("clean", name))]
        if len(speakers) < 2:
            continue
        drop = {e: np.array([by[s, e, "clean"]["clone"] - by[s, e, name]["clone"]
                             for s in speakers]) for e in (low, high)}
        lost = np.array([by[s, low, "clean"]["enrolled"] - by[s, low, name]["enrolled"]
                         for s in speakers])
        gain = [by[s, high, name]["clone"] - by[s, low, "clean"]["clone"] for s in speakers]
        line: dict[str, Any] = {"condition": name, "n": len(speakers),
                                "dvector_loss": float(lost.mean())}
        for e in (low, high):
            line[f"drop_{e}"] = float(drop[e].mean())
            line[f"drop_{e}_se"] = sd.standard_error(list(drop[e]))
            # Slope and correlation of the drop on the d-vector's loss, per speaker.
            line[f"r_{e}"] = float(np.corrcoef(lost, drop[e])[0, 1])
            line[f"slope_{e}"] = float(np.polyfit(lost, drop[e], 1)[0])
            for sex in ("F", "M"):
                pick = [i for i, s in enumerate(speakers) if by[s, e, "clean"]["gender"] == sex]
                if pick:
                    line[f"drop_{e}_{sex}"] = float(drop[e][pick].mean())
        less = [float(x) for x in drop[low] - drop[high]]
        line.update(less=statistics.fmean(less), less_se=sd.standard_error(less),
                    high_smaller=int(sum(x > 0 for x in less)),
                    gain=statistics.fmean(gain), gain_se=sd.standard_error(gain))
        table.append(line)
    return table


def render(meta: dict[str, Any], low: str, high: str, table: Sequence[dict[str, Any]]) -> str:
    """The comparison as a markdown page."""
    lines = [
        f"# Robustness: `{low}` against `{high}`, paired by speaker", "",
        f"- from {meta.get('out', 'a robustness run')}: {meta.get('speakers')} speakers, "
        f"src {str(meta.get('source_tree', '?'))[:7]}, git {meta.get('git_commit')}",
        f"- drop: clean clone minus degraded clone at the same effort, mean +- its "
        f"standard error; `{low}` - `{high}`: how much less `{high}` loses; "
        f"`{high}` degraded - `{low}` clean: whether `{high}` from the degraded reference "
        f"still beats `{low}` from the clean one",
        "- r / slope: per speaker, the drop against the loss of the enrolled "
        "(noise-compensated) d-vector's similarity", "",
        f"| reference | n | `{low}` drop | `{high}` drop | `{low}` - `{high}` | "
        f"`{high}` smaller | `{high}` degraded - `{low}` clean | d-vector loss | "
        f"r / slope `{low}` | r / slope `{high}` | women / men `{low}` | "
        f"women / men `{high}` |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in table:
        cells = [
            t["condition"], str(t["n"]),
            f"{t[f'drop_{low}']:.3f} +- {t[f'drop_{low}_se']:.3f}",
            f"{t[f'drop_{high}']:.3f} +- {t[f'drop_{high}_se']:.3f}",
            f"{t['less']:+.3f} +- {t['less_se']:.3f}", f"{t['high_smaller']} of {t['n']}",
            f"{t['gain']:+.3f} +- {t['gain_se']:.3f}", f"{t['dvector_loss']:.3f}",
            *(f"{t[f'r_{e}']:.2f} / {t[f'slope_{e}']:.2f}" for e in (low, high)),
            *(f"{t.get(f'drop_{e}_F', float('nan')):.3f} / "
              f"{t.get(f'drop_{e}_M', float('nan')):.3f}" for e in (low, high)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a robustness.py .json with two efforts")
    parser.add_argument("--efforts", default="fast,balanced",
                        help="LOW,HIGH: the efforts to pair (default fast,balanced)")
    parser.add_argument("--out", default=None, help="write OUT.md and OUT.json too")
    args = parser.parse_args(argv)
    run = bench_parts.read_run(args.run)
    low, _, high = args.efforts.partition(",")
    have = {r.get("effort", "fast") for r in run["rows"]}
    if not high or not {low, high} <= have:
        parser.error(f"--efforts needs two of the run's efforts ({', '.join(sorted(have))})")
    table = compare(run["rows"], low, high)
    if not table:
        parser.error("the run has no degraded condition measured at both efforts")
    meta = {**run["meta"], "out": Path(args.run).name}
    text = render(meta, low, high, table)
    print(text)
    if args.out:
        Path(f"{args.out}.md").write_text(text, encoding="utf-8")
        Path(f"{args.out}.json").write_text(json.dumps(
            {"meta": meta, "efforts": [low, high], "table": table}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
