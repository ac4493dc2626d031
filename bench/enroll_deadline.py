"""Whether `balanced` enrollment ends within its deadline on an idle and on a slow machine.

``balanced``'s refinement is cut short where it would end the enrollment later than
``voxclone.clone.deadline.ENROLL_DEADLINE_S`` less the work after it (``AFTER_FIT_EVALUATIONS``
of the fit's evaluations). This enrolls clone_quality's first speakers at ``balanced``
as shipped ("deadline") and with no deadline ("fixed": the refinement's 45 s alone),
in alternating order, first as the machine is, then slowed: the process is given the
CPU ``--running`` of the time (stopped and continued every 0.1 s, as a host that lends
its cores to others stops a virtual machine), which slows all of its work alike, as on
the evening when ``balanced``'s ascent took 7 steps in its 45 s rather than ~16. Per
condition and variant: the median and slowest enrollment, the ascent's steps, the
voice's probe cosine to the speaker (``VoiceProfile.score``, paired against "fixed"),
and the work after the fit against what the deadline reserved for it.

    python bench/enroll_deadline.py [--speakers 4] [--running 0.45]   # ~2.5 min a speaker
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd
from prosody_texts import speakers
from voice_runs import shipped_voice

from voxclone.clone import deadline, fit

VARIANTS = ("fixed", "deadline")


def _throttle(pid: int, running: float, period: float) -> None:
    """Stop ``pid`` for all but ``running`` of every ``period`` seconds, until killed."""
    while True:
        time.sleep(running * period)
        os.kill(pid, signal.SIGSTOP)
        time.sleep((1.0 - running) * period)
        os.kill(pid, signal.SIGCONT)


@contextlib.contextmanager
def slowed(running: float, period: float = 0.1) -> Iterator[None]:
    """This process given the CPU ``running`` of the time while the block runs (1: as
    it is): it is stopped and continued every ``period`` seconds, all its threads
    together, as a host that lends its cores to others stops a virtual machine's."""
    if running >= 1.0:
        yield
        return
    throttle = multiprocessing.Process(target=_throttle, args=(os.getpid(), running, period),
                                       daemon=True)
    throttle.start()
    try:
        yield
    finally:
        throttle.kill()
        throttle.join()
        os.kill(os.getpid(), signal.SIGCONT)  # in case it was killed while we were stopped


def enroll_timed(split: sd.Split, variant: str) -> dict[str, Any]:
    """Enroll ``split``'s speaker at ``balanced`` as the variant says; its timings."""
    fitted: dict[str, Any] = {}
    evaluations: list[float] = []
    fit_once, evaluate_once = fit.VoiceFitter.fit, deadline.TimedEvaluator.__call__

    def fit_timed(self: fit.VoiceFitter, *args: Any, **kwargs: Any) -> Any:
        result = fit_once(self, *args, **kwargs)
        fitted.update(steps=result.evaluations, end=time.perf_counter())
        return result

    def evaluate_timed(self: Any, style: Any) -> Any:
        began = time.perf_counter()
        try:
            return evaluate_once(self, style)
        finally:
            evaluations.append(time.perf_counter() - began)

    limits = {} if variant == "deadline" else {"balanced": None}
    with mock.patch.dict(deadline.ENROLL_DEADLINE_S, limits), \
            mock.patch.object(fit.VoiceFitter, "fit", fit_timed), \
            mock.patch.object(deadline.TimedEvaluator, "__call__", evaluate_timed):
        began = time.perf_counter()
        profile = shipped_voice(split, "balanced")
        ended = time.perf_counter()
    # the evaluations before the refinement time the machine (the last is its check)
    timing = evaluations[:-1] or evaluations
    return {"seconds": ended - began, "score": profile.score, "steps": fitted["steps"],
            "after_s": ended - fitted["end"],
            "reserved_s": deadline.AFTER_FIT_EVALUATIONS * statistics.mean(timing)}


def render(meta: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    lines = ["# `balanced` enrollment with and without its deadline", "",
             f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
             f"- {meta['speakers']} speakers; deadline {meta['deadline_s']:.0f} s; the "
             f"variants in alternating order in one process; slowed: the process given "
             f"the CPU {meta['running']:.0%} of the time (stopped and continued every "
             f"0.1 s); wall time {meta['wall_s']:.0f} s", "",
             "| machine | variant | enrollment, median | slowest | ascent steps, median | "
             "probe cosine, paired to fixed | after the fit / reserved, median |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for condition in ("idle", "slowed"):
        here = [r for r in rows if r["condition"] == condition]
        if not here:
            continue
        for variant in VARIANTS:
            runs = [r[variant] for r in here]
            moved = [r[variant]["score"] - r["fixed"]["score"] for r in here]
            ratio = statistics.median(r["after_s"] / r["reserved_s"] for r in runs)
            lines.append(
                f"| {condition} | {variant} | {statistics.median(r['seconds'] for r in runs):.1f}"
                f" s | {max(r['seconds'] for r in runs):.1f} s | "
                f"{statistics.median(r['steps'] for r in runs):g} | "
                f"{statistics.mean(moved):+.3f} (min {min(moved):+.3f}) | {ratio:.2f} |")
    lines += ["", "Steps count the ascent's runtime check. The probe cosine is the "
              "voice's score (the probe sentence spoken as synthesis will, against the "
              "reference's d-vector), not clone_quality's held-out similarity. \"After "
              "the fit\" is the time from the fit's end to the enrollment's; \"reserved\" "
              "is what the deadline left for it and for the ascent's runtime check."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=4,
                               out=Path(__file__).parent / "results" / "enroll_deadline")
    parser.add_argument("--running", type=float, default=0.45,
                        help="the share of the time the slowed condition gives this "
                             "process the CPU (1: the idle condition only)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    splits = speakers(args.speakers, True, args.speech_dir)
    sd.warm_up(splits[0].reference, ["balanced"])
    rows = []
    for condition in ("idle", "slowed")[:2 if args.running < 1.0 else 1]:
        with slowed(args.running if condition == "slowed" else 1.0):
            for index, split in enumerate(splits):
                order = VARIANTS if index % 2 == 0 else VARIANTS[::-1]
                row: dict[str, Any] = {"speaker": split.utterance.speaker,
                                       "condition": condition}
                for variant in order:
                    row[variant] = enroll_timed(split, variant)
                rows.append(row)
                print(f"{condition} {row['speaker']}: " + ", ".join(
                    f"{v} {row[v]['seconds']:.1f} s ({row[v]['steps']} steps, after "
                    f"{row[v]['after_s']:.1f} s of {row[v]['reserved_s']:.1f} s)"
                    for v in VARIANTS), file=sys.stderr, flush=True)
    meta = sd.run_meta(started, speakers=len(splits), running=args.running,
                       deadline_s=deadline.ENROLL_DEADLINE_S["balanced"])
    sd.write_results(args.out, render(meta, rows), {"meta": meta, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
