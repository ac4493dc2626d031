"""What the six sentences for the rate cost `balanced`'s enrollment time.

Since stop 75, ``balanced`` and ``best`` read the rate from the words on enrollment's
two sentences and four more (``voxclone.clone.fit.TEMPO_TEXTS``). This enrolls each of
clone_quality's first speakers at ``balanced`` twice, as shipped ("six") and with the
four left out ("two"), in alternating order, in one process, and gives each variant's
median and slowest enrollment and the paired difference. ``balanced``'s ascent stops
at a time budget, so what the variants differ by is the measuring after it.

    python bench/tempo_texts_time.py [--speakers 4] [--rounds 1]   # ~2 min a speaker and round
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd
from prosody_texts import speakers
from voice_runs import shipped_voice

from voxclone.clone import fit

VARIANTS = ("two", "six")


def enroll_time(split: sd.Split, variant: str) -> float:
    """Seconds to enroll ``split``'s speaker at ``balanced`` as shipped, with the
    variant's sentences."""
    texts = {} if variant == "six" else {"balanced": ()}
    with mock.patch.dict(fit.TEMPO_TEXTS, texts):
        began = time.perf_counter()
        shipped_voice(split, "balanced")
        return time.perf_counter() - began


def render(meta: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    lines = ["# `balanced` enrollment with the rate on two or six sentences", "",
             f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
             f"- {meta['speakers']} speakers x {meta['rounds']} rounds, the variants in "
             "alternating order in one process; wall time "
             f"{meta['wall_s']:.0f} s", "",
             "| variant | enrollment, median | slowest |", "| --- | --- | --- |"]
    for variant in VARIANTS:
        times = [r[variant] for r in rows]
        lines.append(f"| {variant} sentences | {statistics.median(times):.1f} s | "
                     f"{max(times):.1f} s |")
    extra = [r["six"] - r["two"] for r in rows]
    lines += ["", f"Six over two, paired: median +{statistics.median(extra):.2f} s "
              f"(from {min(extra):+.2f} to {max(extra):+.2f} s)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=4,
                               out=Path(__file__).parent / "results" / "tempo_texts_time")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    splits = speakers(args.speakers, True, args.speech_dir)
    sd.warm_up(splits[0].reference, ["balanced"])
    rows = []
    for round_ in range(args.rounds):
        for index, split in enumerate(splits):
            order = VARIANTS if (index + round_) % 2 == 0 else VARIANTS[::-1]
            row: dict[str, Any] = {"speaker": split.utterance.speaker, "round": round_}
            for variant in order:
                row[variant] = enroll_time(split, variant)
            rows.append(row)
            print(f"{row['speaker']}: two {row['two']:.1f} s, six {row['six']:.1f} s",
                  file=sys.stderr, flush=True)
    meta = sd.run_meta(started, speakers=len(splits), rounds=args.rounds)
    sd.write_results(args.out, render(meta, rows), {"meta": meta, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
