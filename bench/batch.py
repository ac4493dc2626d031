"""Batch rendering benchmark: lines per minute for one script on 1 process, on every core
(local worker processes) and on a local Ray instance, one after the other in one run.

A fresh voxclone home gets the voice joe (Piper's voice, ``effort=stock``); a JSONL
script of ``--lines`` short lines (20 sentences of 2-3.5 s, repeated) is rendered to WAV
with ``voxclone.batch.render_script`` three times, into fresh output directories:

- ``1 process``: in the calling process, ONNX Runtime on every core;
- ``N processes``: a pool of N = cores worker processes, 1 ONNX thread each;
- ``Ray (local)``: a private Ray instance on this machine, N actors of 1 thread each.

Each configuration runs in a fresh Python process, so each pays for starting its
workers and loading the models; "lines/min" is over the whole wall time (what a user
waits for), "steady" over the time between the first and the last finished line (from
the manifest's timestamps). The system load average is recorded before and after each
configuration, since the machine may be shared. Afterwards every file of the first
configuration is checked for its watermark (``voxclone.detect``, payload equal to the
manifest's), grouped by duration, and for a ``synthesis`` entry in the audit log.

Usage::

    python bench/batch.py                    # 200 lines; writes bench/results/batch.{md,json}
    python bench/batch.py --lines 20 --out /tmp/batch
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speech_data import git_commit, machine, now, write_results

OUT = Path(__file__).resolve().parent / "results" / "batch"
SENTENCES = [
    "The ferry leaves at seven.",
    "Please close the window before you go.",
    "Our meeting moves to Thursday afternoon.",
    "She painted the fence a bright blue.",
    "Turn left after the bakery.",
    "Your order has been shipped today.",
    "The library opens at nine in the morning.",
    "We ran out of coffee again.",
    "Can you hear the rain on the roof?",
    "The last train has already left the station.",
    "I will call you back in ten minutes.",
    "Keep the receipt, just in case.",
    "The garden needs watering every evening.",
    "He forgot his umbrella at the office.",
    "Dinner will be ready in half an hour.",
    "The bridge is closed for repairs this week.",
    "Nobody knew where the old map had gone.",
    "Bring a warm coat, it is cold outside.",
    "The children laughed at the little dog.",
    "Thank you, that was very kind of you.",
]
DURATION_BINS = ((0.0, 2.0), (2.0, 3.0), (3.0, 99.0))


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def prepare(home: Path, lines: int) -> Path:
    """Enroll joe in ``home`` and write a script of ``lines`` lines; return its path."""
    os.environ["VOXCLONE_HOME"] = str(home)
    import voxclone
    from voxclone.demo import load_person, speak_person

    reference = speak_person(load_person(), " ".join(SENTENCES[:4]))
    voxclone.enroll("joe", reference, effort="stock", i_am_the_speaker=True)
    script = home / "script.jsonl"
    rows = [{"id": f"line-{i:04d}", "voice": "joe", "text": SENTENCES[i % len(SENTENCES)]}
            for i in range(lines)]
    script.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return script


def executor_for(config: str) -> Any:
    """The executor of configuration ``config`` (``inline``, ``pool`` or ``ray``)."""
    from voxclone.batch import InlineExecutor, ProcessPoolLineExecutor
    from voxclone.batch.executors import cores

    if config == "inline":
        return InlineExecutor()
    if config == "pool":
        return ProcessPoolLineExecutor(cores())
    from voxclone.batch.ray_executor import RayExecutor

    return RayExecutor("local", workers=cores())


def steady_rate(outdir: Path) -> float:
    """Lines per minute between the first and the last finished line."""
    from datetime import datetime

    from voxclone.batch import Manifest

    times = sorted(datetime.fromisoformat(e.created).timestamp()
                   for e in Manifest(outdir).read().values() if e.ok)
    if len(times) < 2 or times[-1] <= times[0]:
        return 0.0
    return round(60.0 * (len(times) - 1) / (times[-1] - times[0]), 1)


def run_config(config: str, script: Path, outdir: Path) -> dict[str, Any]:
    """Run one configuration in this (fresh) process and return its figures."""
    from voxclone.batch import render_script

    before = loadavg()
    started = time.monotonic()
    report = render_script(script, outdir, executor=executor_for(config))
    seconds = time.monotonic() - started
    return {
        "executor": report.executor, "lines": len(report.entries),
        "rendered": report.rendered, "failed": len(report.failed),
        "seconds": round(seconds, 1),
        "lines_per_minute": round(60.0 * report.rendered / seconds, 1),
        "steady_lines_per_minute": steady_rate(outdir),
        "audio_seconds": round(report.audio_seconds, 1),
        "line_seconds": [min(e.duration or 0.0 for e in report.entries),
                         max(e.duration or 0.0 for e in report.entries)],
        "realtime_factor": round(report.audio_seconds / seconds, 2),
        "load_before": before, "load_after": loadavg(),
    }


def run(name: str, config: str, home: Path, script: Path, outdir: Path) -> dict[str, Any]:
    """Run configuration ``config`` in a child process (fresh models, fresh workers)."""
    command = [sys.executable, __file__, "--child", config, "--home", str(home),
               "--script", str(script), "--outdir", str(outdir)]
    child = subprocess.run(command, check=True, capture_output=True, text=True)
    result = {"config": name, **json.loads(child.stdout.strip().splitlines()[-1])}
    print(f"{name}: {result['lines_per_minute']} lines/min, steady "
          f"{result['steady_lines_per_minute']} ({result['seconds']:.0f} s, load "
          f"{result['load_before']} -> {result['load_after']})", flush=True)
    return result


def check_watermarks(outdir: Path) -> dict[str, Any]:
    """Detection of each file's payload, by duration bin; audit entries per payload."""
    import voxclone
    from voxclone.batch import Manifest

    bins = {f"{lo:g}-{hi:g} s" if hi < 99 else f">= {lo:g} s": [0, 0]
            for lo, hi in DURATION_BINS}
    wrong = 0
    missing_audit = 0
    for entry in Manifest(outdir).read().values():
        if not entry.ok:
            continue
        found = voxclone.detect(outdir / str(entry.file))
        hit = found.found and found.payload is not None and f"{found.payload:08x}" == entry.payload
        wrong += found.found and not hit
        duration = entry.duration or 0.0
        for (lo, hi), key in zip(DURATION_BINS, bins, strict=True):
            if lo <= duration < hi:
                bins[key][0] += hit
                bins[key][1] += 1
        if voxclone.find_synthesis(int(str(entry.payload), 16)) is None:
            missing_audit += 1
    return {"detected_by_duration": {k: {"detected": v[0], "files": v[1]}
                                     for k, v in bins.items()},
            "wrong_payloads": wrong, "missing_audit_entries": missing_audit}


def markdown(results: list[dict[str, Any]], marks: dict[str, Any], meta: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {r['config']} | {r['executor']} | {r['lines_per_minute']} | "
        f"{r['steady_lines_per_minute']} | {r['seconds']} | "
        f"{r['realtime_factor']}x | {r['failed']} | {r['load_before']} -> {r['load_after']} |"
        for r in results)
    detected = "\n".join(f"| {k} | {v['detected']} / {v['files']} |"
                         for k, v in marks["detected_by_duration"].items())
    shortest, longest = results[0]["line_seconds"]
    return f"""# Batch rendering

`python bench/batch.py` - {meta['lines']} short lines ({shortest:.1f}-{longest:.1f} s of audio
each, 20 sentences repeated) in one voice (joe, `effort=stock`), WAV, rendered
{len(results)} times in one run. Times include starting the workers and loading the models (each
configuration in a fresh process); "steady" leaves that out. {meta['machine']},
commit {meta['commit']}, {meta['date']}; the machine was shared (1-minute load
average before -> after each configuration shown; the benchmark ran under
`nice -n 19`).

| configuration | workers | lines/min | steady lines/min | wall s | audio / wall | failed | load |
| --- | --- | --- | --- | --- | --- | --- | --- |
{rows}

Watermark read back from the files of the first configuration (payload equal to the
manifest's; {marks['wrong_payloads']} wrong payloads, {marks['missing_audit_entries']}
payloads without an audit-log synthesis entry):

| line duration | detected |
| --- | --- |
{detected}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--out", type=Path, default=OUT, help="results path (no suffix)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray configuration")
    parser.add_argument("--child", choices=("inline", "pool", "ray"), help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--script", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--outdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        os.environ["VOXCLONE_HOME"] = str(args.home)
        print(json.dumps(run_config(args.child, args.script, args.outdir)))
        return

    from voxclone.batch.executors import cores

    n = cores()
    with tempfile.TemporaryDirectory(prefix="voxclone-batch-bench-") as tmp:
        home = Path(tmp)
        script = prepare(home, args.lines)
        configs = [("1 process", "inline"), (f"{n} processes", "pool")]
        if not args.no_ray:
            configs.append(("Ray (local)", "ray"))
        results = [run(name, config, home, script, home / f"out-{i}")
                   for i, (name, config) in enumerate(configs)]
        marks = check_watermarks(home / "out-0")
    meta = {"lines": args.lines, "machine": machine(), "commit": git_commit(), "date": now(),
            "cores": n}
    write_results(args.out, markdown(results, marks, meta),
                  {"meta": meta, "results": results, "watermark": marks})


if __name__ == "__main__":
    main()
