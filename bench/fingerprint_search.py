"""What a fingerprint search costs as the store grows, and what searching a longer clip at
one sub-hop shift instead of four loses.

Enrollment checks every reference (6 s or more) and the consent recording against the
fingerprints of every stored synthesis, so that voxclone's own output cannot be cloned
(``voxclone.detection.is_voxclone_output``); ``detect`` searches the stretches of a file
without a readable mark the same way. A clip that matches nothing, the usual case, is
searched at every speed, and its cost grows with the store.

Run from the repo root (about 8 minutes on 2 cores)::

    python bench/fingerprint_search.py [--baseline-src /tmp/old/src]
        [--out bench/results/fingerprint_search]

* **Shifts.** Stored: ``--utterances`` LibriSpeech utterances, among ten hours of their
  copies with a quarter of each copy's bits flipped (as ``fingerprint.py``). Each of
  ``--clips`` of them is traced as an excerpt of each length through each channel, at
  four sub-hop shifts and at one (every speed both ways): found (the right utterance),
  and the z-score. Not stored: excerpts of the corpus's other utterances, searched both
  ways: any match is a false one.
* **Time.** The search that enrollment makes of a reference that matches nothing (6 s
  and 12 s of an unstored utterance), and ``detect``'s of a stored 1 s clip, against 10
  and 100 hours stored (medians of 5). This store's copies have only 5 % of their bits
  flipped, so that its frames keep speech's uneven spread over the 16-bit words, which
  copies with a quarter flipped even out: the table gives how many stored frames a
  query's word finds against an even spread. ``--baseline-src DIR``
  times the same in processes importing voxclone from ``DIR`` (another checkout's
  ``src/``), interleaved with this tree's, in the same run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fingerprint as fpb
import speech_data as sd

from voxclone.audio import Audio, load_audio
from voxclone.fingerprint import FingerprintIndex, fingerprint, search_clip

RATE = fpb.RATE
LENGTHS = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
CHANNELS = ("wav", "Opus 16 kHz, 13 kbit/s", "white noise 10 dB", "telephone (8 kHz)",
            "speed -3 %", "speed +4 %")
#: The share of bits flipped in the timed stores' copies.
TIMING_FLIP = 0.05
#: What is timed: the searches of enrollment's check and of ``detect``.
TIMED = ("reference 6 s, not stored", "reference 12 s, not stored", "1 s clip, stored")
#: Ids of the stored originals, after their copies'.
ORIGINAL = 10**6


def utterances(speech_dir: str | None, count: int) -> list[np.ndarray]:
    """The corpus's first ``count`` utterances, float32 at :data:`RATE`."""
    found = sd.read_index(sd.corpus_dir(speech_dir))[:count]
    return [load_audio(u.path).resample(RATE).samples.astype(np.float32) for u in found]


def word_skew(index: FingerprintIndex, queries: list[np.ndarray]) -> float:
    """Stored frames a query word (or it with one bit flipped) finds, over what an even
    spread of the stored words would give."""
    from voxclone.fingerprint.match import _ONE_BIT, WORDS

    counts = np.diff(index._bucket)  # the stored active frames of each word
    words = np.concatenate([f.words[f.active] for f in (fingerprint(q, RATE) for q in queries)])
    probes = (words[:, None] ^ _ONE_BIT[None, :]).reshape(-1)
    return float(counts[probes].mean() / (counts.sum() / WORDS))


def shift_rows(audios: list[np.ndarray], stored_count: int, clips: int,
               rng: np.random.Generator) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Traced and not-stored lookups, each at four shifts and at one."""
    stored = [(i, fingerprint(a, RATE)) for i, a in enumerate(audios[:stored_count])]
    index = FingerprintIndex(fpb.repeated(stored, 10.0, rng) +
                             [(ORIGINAL + i, fp) for i, fp in stored])
    traced = []
    for seconds in LENGTHS:
        for channel in CHANNELS:
            for number in range(clips):
                which = number * stored_count // clips
                clip = fpb.excerpt(fpb.through(channel, audios[which], rng), seconds, rng)
                row: dict[str, Any] = {"seconds": seconds, "channel": channel}
                for shifts in (4, 1):
                    match = search_clip(index, clip, RATE, shifts=shifts)
                    found = match is not None and match.synthesis_id == ORIGINAL + which
                    row[f"found_{shifts}"] = found
                    row[f"z_{shifts}"] = match.score if found and match else None
                traced.append(row)
        print(f"traced {seconds:g} s", flush=True)
    strangers = []
    for audio in audios[stored_count:]:
        for seconds in (1.0, 2.0, 4.0, 6.0, None):
            clip = fpb.excerpt(audio.astype(np.float64), seconds, rng)
            strangers.append({"seconds": seconds, **{
                f"false_{shifts}": search_clip(index, clip, RATE, shifts=shifts) is not None
                for shifts in (4, 1)}})
    return traced, strangers


def timing_worker(speech_dir: str | None, stored_count: int, hours: float) -> dict[str, Any]:
    """In a fresh process (this tree's voxclone or the baseline's): the searches of
    :func:`detection._stretch_match` timed against ``hours`` stored."""
    from voxclone.detection import _stretch_match

    audios = utterances(speech_dir, stored_count + 3)
    stored = [(i, fingerprint(a, RATE)) for i, a in enumerate(audios[:stored_count])]
    index = FingerprintIndex(fpb.repeated(stored, hours, np.random.default_rng(7),
                                          flip=TIMING_FLIP))
    stranger = np.concatenate(audios[stored_count:])
    clips = dict(zip(TIMED, (stranger[:6 * RATE], stranger[:12 * RATE],
                             audios[0][RATE:2 * RATE]), strict=True))
    out: dict[str, Any] = {"frames": index.frames,
                           "skew": word_skew(index, audios[stored_count:])}
    for name, clip in clips.items():
        audio = Audio(clip, RATE)
        times = []
        for _ in range(5):
            began = time.perf_counter()
            found = _stretch_match(index, audio, 0.0, audio.duration)
            times.append(time.perf_counter() - began)
        out[name] = {"seconds": statistics.median(times), "found": found is not None}
    return out


def spawn(source: str, args: argparse.Namespace, hours: float) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [source, str(Path(__file__).resolve().parent)]))
    command = [sys.executable, __file__, "--worker", str(hours),
               "--utterances", str(args.utterances)]
    if args.speech_dir:
        command += ["--speech-dir", args.speech_dir]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"the timing worker with {source} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def render(meta: dict[str, Any], traced: list[dict[str, Any]],
           strangers: list[dict[str, Any]], timings: dict[str, dict[float, list[Any]]],
           commits: dict[str, str]) -> str:
    lines = [
        "# Fingerprint search: one sub-hop shift or four, and its cost as the store grows",
        "", f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- wall time: {meta['wall_s']:.0f} s; command: `{meta['command']}`",
        f"- traced: {meta['clips']} of {meta['utterances']} stored LibriSpeech utterances "
        "(among 10 h of their copies, a quarter of each copy's bits flipped), an excerpt "
        "of each length through each channel, searched at every speed; each cell: found "
        "at four shifts / at one (median z-score of those found, four / one)", "",
        "| channel | " + " | ".join(f"{s:g} s" for s in LENGTHS) + " |",
        "| --- |" + " --- |" * len(LENGTHS)]

    def cell(rows: list[dict[str, Any]]) -> str:
        share = [np.mean([r[f"found_{k}"] for r in rows]) for k in (4, 1)]
        z = [statistics.median([r[f"z_{k}"] for r in rows if r[f"z_{k}"] is not None] or [0])
             for k in (4, 1)]
        return f"{share[0]:.2f} / {share[1]:.2f} ({z[0]:.1f} / {z[1]:.1f})"

    for channel in CHANNELS:
        lines.append(f"| {channel} | " + " | ".join(
            cell([r for r in traced if r["channel"] == channel and r["seconds"] == s])
            for s in LENGTHS) + " |")
    lines.append("| all | " + " | ".join(
        cell([r for r in traced if r["seconds"] == s]) for s in LENGTHS) + " |")
    false = {k: sum(r[f"false_{k}"] for r in strangers) for k in (4, 1)}
    lines += ["", f"Not stored: {len(strangers)} excerpts (1, 2, 4, 6 s and whole) of "
              f"{len(strangers) // 5} other utterances: {false[4]} false matches at four "
              f"shifts, {false[1]} at one.", "",
              "Time of one search as `voxclone.detection` makes it (enrollment's check of "
              "a reference; `detect`'s of a clip), median of 5; store copies with 5 % of "
              "their bits flipped:", ""]
    sources = list(timings)
    head = "| stored | query word finds (x even) | search | " + " | ".join(
        f"{s} ({commits[s]})" for s in sources)
    lines += [head + (" | baseline / this tree |" if len(sources) > 1 else " |"),
              "| --- | --- | --- |" + " --- |" * (len(sources) + (len(sources) > 1))]
    for hours in timings[sources[0]]:
        runs = {s: timings[s][hours] for s in sources}
        first = runs[sources[0]][0]
        for name in TIMED:
            medians = {s: statistics.median(r[name]["seconds"] for r in runs[s])
                       for s in sources}
            row = (f"| {first['frames'] * 0.016 / 3600:.0f} h | {first['skew']:.1f} | {name} | "
                   + " | ".join(f"{medians[s] * 1000:.0f} ms" for s in sources))
            if len(sources) > 1:
                row += f" | {medians[sources[1]] / medians[sources[0]]:.1f}x"
            lines.append(row + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--out", default="bench/results/fingerprint_search")
    parser.add_argument("--utterances", type=int, default=120)
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--baseline-src", default=None,
                        help="another checkout's src/ to time in the same run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--hours", default="10,100", help="store sizes timed")
    parser.add_argument("--worker", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(timing_worker(args.speech_dir, args.utterances, args.worker)))
        return
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    traced, strangers = shift_rows(utterances(args.speech_dir, 10**6), args.utterances,
                                   args.clips, rng)
    sources = {"this tree": str(sd.REPO_ROOT / "src")}
    if args.baseline_src:
        sources["baseline"] = str(Path(args.baseline_src).resolve())
    sizes = [float(h) for h in args.hours.split(",")]
    timings: dict[str, dict[float, list[Any]]] = {s: {h: [] for h in sizes} for s in sources}
    for hours in sizes:
        for turn in range(args.rounds):
            # alternated, so that the machine's drift falls on both alike
            for name in (list(sources) if turn % 2 == 0 else list(sources)[::-1]):
                timings[name][hours].append(spawn(sources[name], args, hours))
                print(f"{name} {hours:g} h: {timings[name][hours][-1]}", flush=True)
    commits = {name: subprocess.run(["git", "-C", source, "rev-parse", "--short", "HEAD"],
                                    capture_output=True, text=True, check=False).stdout.strip()
               or "?" for name, source in sources.items()}
    meta = sd.run_meta(started, command="python bench/fingerprint_search.py " +
                       " ".join(sys.argv[1:]), utterances=args.utterances, clips=args.clips,
                       commits=commits)
    data = {"meta": meta, "traced": traced, "strangers": strangers,
            "timings": {s: {str(h): v for h, v in t.items()} for s, t in timings.items()}}
    sd.write_results(args.out, render(meta, traced, strangers, timings, commits), data)


if __name__ == "__main__":
    main()
