"""A fresh process's first ``balanced`` enrollment against its second (issue 3).

``balanced`` refines a voice by gradient ascent for 45 s. Each step replays Kokoro's
decoder in torch and keeps its tensors for the backward pass; a fresh process pays for
that memory in page faults on its first passes, and if those are slow the first
enrollment gets fewer steps than the next - the one the CLI, a script and a server's
first request all get. For each speaker this starts a new Python process that loads
the models (not timed), enrolls the speaker's reference at ``balanced`` twice, and
reports for each the ascent's steps, its probe score and the time, with the process's
peak resident memory and minor page faults.

``--baseline-src DIR`` runs the same in processes importing voxclone from ``DIR``
(another checkout's ``src/``; a ``git worktree`` of an older commit), in the same run.
Speakers: the calibration half of the corpus (``quality_data.dev_utterances``), outside
every benchmark, half female.

Run from the repo root: ``python bench/cold_start.py --baseline-src /tmp/old/src``;
writes ``bench/results/cold_start.{md,json}``. About 2 minutes per speaker and source.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd
from fast_refine import dev_speakers

_STEPS = re.compile(r"gradient ascent: (\d+) steps")


class _Steps(logging.Handler):
    """Collects the step counts the ascent logs at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.steps: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = _STEPS.search(record.getMessage())
        if found:
            self.steps.append(int(found.group(1)))


def worker(speaker: str, count: int, speech_dir: str | None) -> dict[str, Any]:
    """In a fresh process: load the models, then enroll ``speaker`` twice."""
    import voxclone
    from voxclone.engines.kokoro import default_engine
    from voxclone.speaker import default_encoder

    split = next(s for s in dev_speakers(count, speech_dir) if s.utterance.speaker == speaker)
    default_engine(), default_encoder()
    handler = _Steps()
    log = logging.getLogger("voxclone.clone.gradient_fit")
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    runs = []
    for _ in range(2):
        before = resource.getrusage(resource.RUSAGE_SELF)
        began = time.perf_counter()
        profile = voxclone.enroll("cold", split.reference, effort="balanced", save=False,
                                  i_am_the_speaker=True, force=True)
        after = resource.getrusage(resource.RUSAGE_SELF)
        runs.append({"seconds": time.perf_counter() - began, "score": profile.score,
                     "steps": handler.steps[-1] if handler.steps else 0,
                     "faults": after.ru_minflt - before.ru_minflt,
                     "system_s": after.ru_stime - before.ru_stime})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"speaker": speaker, "cold": runs[0], "warm": runs[1], "peak_bytes": peak}


def _spawn(source: str, speaker: str, count: int, speech_dir: str | None) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [source, str(Path(__file__).resolve().parent)]))
    command = [sys.executable, __file__, "--worker", speaker, "--speakers", str(count)]
    if speech_dir:
        command += ["--speech-dir", speech_dir]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"the worker for {speaker} with {source} failed:\n"
                         f"{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _median(rows: list[dict[str, Any]], run: str, key: str) -> float:
    return statistics.median(float(r[run][key]) for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=4,
                               out=sd.REPO_ROOT / "bench" / "results" / "cold_start")
    parser.add_argument("--baseline-src", default=None,
                        help="another checkout's src/ to measure in the same run")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.speakers, args.speech_dir)), flush=True)
        return 0
    started = time.perf_counter()
    speakers = [s.utterance.speaker for s in dev_speakers(args.speakers, args.speech_dir)]
    sources = {"this tree": str(sd.REPO_ROOT / "src")}
    if args.baseline_src:
        sources["baseline"] = str(Path(args.baseline_src).resolve())
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    # Interleaved, so that the machine's drift over the run falls on both alike.
    for speaker in speakers:
        for name, source in sources.items():
            row = _spawn(source, speaker, args.speakers, args.speech_dir)
            rows[name].append(row)
            print(f"{name} {speaker}: cold {row['cold']['steps']} steps "
                  f"{row['cold']['score']:.3f}, warm {row['warm']['steps']} steps "
                  f"{row['warm']['score']:.3f}, peak {row['peak_bytes'] / 1e9:.1f} GB",
                  flush=True)
    commits = {name: subprocess.run(["git", "-C", source, "rev-parse", "--short", "HEAD"],
                                    capture_output=True, text=True, check=False).stdout.strip()
               for name, source in sources.items()}
    meta = sd.run_meta(started, speakers=speakers, sources=sources, commits=commits)
    lines = [
        "# A fresh process's first balanced enrollment against its second", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        "- sources: " + "; ".join(f"{n} {commits[n] or '?'} ({s})" for n, s in sources.items()),
        f"- wall time {meta['wall_s']:.0f} s; {len(speakers)} calibration speakers "
        "outside every benchmark (half female), each in a new process per source "
        "(models loaded first, not timed); medians over speakers", "",
        "| source | first: steps | first: probe score | first: faults | second: steps "
        "| second: probe score | enrollment s (first / second) | peak memory |",
        "|---|---|---|---|---|---|---|---|",
        *(f"| {name} | {_median(r, 'cold', 'steps'):.0f} | {_median(r, 'cold', 'score'):.3f} "
          f"| {_median(r, 'cold', 'faults') / 1e6:.2f} M | {_median(r, 'warm', 'steps'):.0f} "
          f"| {_median(r, 'warm', 'score'):.3f} | {_median(r, 'cold', 'seconds'):.1f} / "
          f"{_median(r, 'warm', 'seconds'):.1f} "
          f"| {statistics.median(x['peak_bytes'] for x in r) / 1e9:.1f} GB |"
          for name, r in rows.items()),
    ]
    sd.write_results(args.out, "\n".join(lines) + "\n", {"meta": meta, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
