"""Dubbing: how well ``voxclone batch`` fits lines into their time, and what it costs.

Each voice (``fast`` clones of clone_quality.py's speakers, chosen and cut the same
way) speaks the twenty Harvard sentences once as asked (speed 1: each line's natural
length), then again through the batch worker (:func:`voxclone.batch.work.render_line`)
with ``seconds`` set to a share of that natural length (``--shares``, default 0.9,
0.8, 0.7 and 0.6: a dub whose translation runs 10-40 % long). Per share it reports how
many lines fit, how many renderings each took, the speed they were spoken at, how far
under their time they end, and their word errors (pocketsphinx, as intelligibility.py
scores them) against the same lines at their natural pace.

    python bench/dub_fit.py [--speakers 3] [--shares 0.9,0.8,0.7,0.6]

writes ``bench/results/dub_fit.{md,json}``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import voxclone
from voxclone.batch import work
from voxclone.batch.work import LineJob, render_line, speech_seconds

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file
from intelligibility import HARVARD, tally

from voxclone.audio import load_audio

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "dub_fit"


def fitted(job: LineJob) -> tuple[Any, int]:
    """``render_line(job)`` and how many renderings it took."""
    calls = 0
    real = work.render

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    with mock.patch.object(work, "render", counted):
        return render_line(job), calls


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    renders = [r["renders"] for r in rows]
    return {"lines": len(rows), "fit": sum(r["fit"] for r in rows),
            "renders_mean": statistics.fmean(renders), "renders_max": max(renders),
            "speed_median": statistics.median(r["speed"] for r in rows),
            "under_median": statistics.median(r["under"] for r in rows),
            **tally([sd.Transcript(**r["transcript"]) for r in rows])}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--speakers", type=int, default=3)
    parser.add_argument("--shares", default="0.9,0.8,0.7,0.6")
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    shares = [float(x) for x in args.shares.split(",")]
    began = time.perf_counter()
    recognizer = sd.Recognizer()
    utterances = sd.read_index(sd.corpus_dir(args.speech_dir))
    _, heldout = sd.measure_normalisation(utterances, voxclone.embed, print, cache=True)
    rows: dict[str, list[dict[str, Any]]] = {f"{s:g}": [] for s in [1.0, *shares]}
    for utterance in sd.choose_speakers(utterances, set(heldout), args.speakers):
        split = sd.split_utterance(utterance)
        if split is None:
            continue
        voice = voxclone.enroll(f"bench-{utterance.speaker}", split.reference, effort="fast",
                                save=False, force=True, i_am_the_speaker=True)
        for text in HARVARD:
            natural: float | None = None
            for share in [1.0, *shares]:
                seconds = None if natural is None else round(share * natural, 3)
                job = LineJob(id="x", text=text, voice=voice, speed=1.0, format="wav",
                              actor="bench:dub_fit", seconds=seconds)
                result, renders = fitted(job)
                if result.data is None:
                    raise SystemExit(f"{utterance.speaker}: {text!r}: {result.error}")
                audio = load_audio(result.data)
                spoken = speech_seconds(audio)
                natural = natural or spoken
                rows[f"{share:g}"].append({
                    "speaker": utterance.speaker, "text": text, "seconds": seconds,
                    "spoken": spoken, "renders": renders, "speed": result.speed or 1.0,
                    "fit": seconds is None or spoken <= seconds,
                    "under": 0.0 if seconds is None else 1.0 - spoken / seconds,
                    "transcript": sd.score_transcript(recognizer, text, audio).as_dict()})
        print(f"{utterance.speaker}: " + ", ".join(
            f"{k} {summarise(v)['fit']}/{summarise(v)['lines']}" for k, v in rows.items()),
            flush=True)

    table = {share: summarise(share_rows) for share, share_rows in rows.items()}
    meta = sd.run_meta(began, speakers=args.speakers, shares=shares)
    lines = [
        "# Fitting lines into their time (dubbing)", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {args.speakers} `fast` clones x the twenty Harvard sentences; each line's time "
        "is a share of its own natural length (speech start to last sound, speed 1); "
        "`render_line` as `voxclone batch` runs it (at most 4 renderings, speed <= 2.0)",
        f"- wall time {meta['wall_s']:.0f} s", "",
        "| time / natural length | lines | fit | renderings (mean / max) | speed (median) | "
        "ends under its time by (median) | word errors | WER |",
        "|---|---|---|---|---|---|---|---|",
        *(f"| {share} | {t['lines']} | {t['fit']} | {t['renders_mean']:.2f} / "
          f"{t['renders_max']} | {t['speed_median']:.2f} | {t['under_median']:.1%} | "
          f"{t['errors']}/{t['words']} | {t['wer']:.1%} |" for share, t in table.items()),
        "", "Share 1 is the lines as asked (no time), the baseline of the same run.",
    ]
    sd.write_results(args.out, "\n".join(lines) + "\n",
                     {"meta": meta, "table": table, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
