"""How soon ``voxclone say NAME - --follow`` speaks text piped in as it arrives.

A ``fast`` clone of one LibriSpeech speaker is enrolled in a temporary home, then
``voxclone say NAME - --follow -o - --format pcm`` runs as a separate process, fed
through a pipe the way another program would feed it:

* ``lines``: eight sentences, one line each, each written once the audio of the one
  before has been heard (a chat: its audio played in real time from its first byte).
  Latency: from a line's newline to its first audio byte; the first line separately
  (the process loads its models then).
* ``model``: a paragraph written word by word at ``--words-per-s`` (a language model's
  reply), one newline at its end: its first audio byte, from its first word and from
  the word that shows its first sentence has ended (where
  :func:`voxclone.text.chunk.blocks_as_they_arrive` first cuts those pieces: the next
  sentence's first word), and its last audio byte from its last word.
* baseline, ``say NAME -`` without ``--follow`` on the same paragraph: its first audio
  byte comes only after the input ends; measured from the last word.

Run from the repo root: ``python bench/follow_latency.py``; writes
``bench/results/follow_latency.{md,json}``. About 2 minutes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import voxclone
from voxclone.text.chunk import blocks_as_they_arrive

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd
from watermark_clips import SENTENCES

LINES = list(SENTENCES[:8])
PARAGRAPH = (
    "Of course I can help with that. The quickest way to get to the station from here "
    "is to walk down the hill and take the second street on the left. It should take "
    "you about ten minutes. If it rains, the number four bus stops right outside and "
    "runs every quarter of an hour. Have a good trip, and let me know if you need "
    "anything else.")
IDLE_S = 0.8  # no audio for this long: a block's audio has ended
BYTES_PER_S = 2 * 24_000  # 16-bit mono 24 kHz


class Speaker:
    """``voxclone say`` as a child process, its audio read on a thread with times."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=env)
        self.arrivals: list[tuple[float, int]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while data := self.process.stdout.read1(65536):  # type: ignore[attr-defined]
            self.arrivals.append((time.perf_counter(), len(data)))

    def write(self, text: str) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()
        return time.perf_counter()

    def first_audio_after(self, moment: float, timeout: float = 60.0) -> float:
        """Seconds from ``moment`` to the first audio byte after it."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            later = [t for t, _ in list(self.arrivals) if t >= moment]
            if later:
                return later[0] - moment
            time.sleep(0.005)
        raise RuntimeError("no audio came")

    def wait_quiet(self) -> None:
        while True:
            last = self.arrivals[-1][0] if self.arrivals else 0.0
            if self.arrivals and time.perf_counter() - last > IDLE_S:
                return
            time.sleep(0.05)

    def wait_heard(self) -> None:
        """Until the audio so far would have been heard, played in real time from its
        first byte (a listener who answers once the voice has finished)."""
        self.wait_quiet()
        played_out = self.arrivals[0][0] + sum(n for _, n in self.arrivals) / BYTES_PER_S
        time.sleep(max(0.0, played_out - time.perf_counter()))

    def close(self) -> str:
        assert self.process.stdin is not None and self.process.stderr is not None
        self.process.stdin.close()
        self.reader.join()
        self.process.wait()
        if self.process.returncode:
            raise RuntimeError(self.process.stderr.read().decode())
        return self.process.stderr.read().decode().strip()


def run_lines(command: list[str], env: dict[str, str]) -> list[float]:
    speaker = Speaker(command, env)
    latencies = []
    for line in LINES:
        latencies.append(speaker.first_audio_after(speaker.write(line + "\n")))
        speaker.wait_heard()
    speaker.close()
    return latencies


def first_cut(pieces: list[str]) -> int:
    """The index of the piece after which :func:`blocks_as_they_arrive` yields its
    first block."""
    fed = 0

    def feed() -> Iterator[str]:
        nonlocal fed
        for piece in pieces:
            fed += 1
            yield piece

    next(blocks_as_they_arrive(feed()))
    return fed - 1


def run_model(command: list[str], env: dict[str, str], words_per_s: float,
              follow: bool) -> dict[str, Any]:
    words = PARAGRAPH.split()
    pieces = [w + (" " if i < len(words) - 1 else "\n") for i, w in enumerate(words)]
    first_block = first_cut(pieces)
    speaker = Speaker(command, env)
    written = []
    for piece in pieces:
        written.append(speaker.write(piece))
        time.sleep(1.0 / words_per_s)
    out = speaker.close()
    first = [t for t, _ in speaker.arrivals]
    return {"blocks": len(list(blocks_as_they_arrive(iter(pieces)))) if follow else 1,
            "summary": out, "first_block_words": first_block + 1,
            "first_audio_after_first_word_s": first[0] - written[0],
            "first_audio_after_first_block_s": first[0] - written[first_block],
            "first_audio_after_last_word_s": first[0] - written[-1],
            "last_audio_after_last_word_s": first[-1] - written[-1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--speaker", default="1069")
    parser.add_argument("--words-per-s", type=float, default=8.0)
    parser.add_argument("--out", default=str(sd.REPO_ROOT / "bench" / "results"
                                             / "follow_latency"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    home = tempfile.mkdtemp(prefix="voxclone-follow-")
    os.environ["VOXCLONE_HOME"] = os.environ["HOME"] = home
    utterance = next(u for u in sd.read_index(sd.corpus_dir(None))
                     if u.speaker == args.speaker)
    split = sd.split_utterance(utterance)
    if split is None:
        raise SystemExit(f"speaker {args.speaker}'s utterance is too short")
    voxclone.enroll("follow", split.reference, effort="fast", i_am_the_speaker=True,
                    force=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    say = [sys.executable, "-m", "voxclone", "say", "follow", "-", "-o", "-",
           "--format", "pcm", "--stream"]
    lines = run_lines([*say, "--follow"], env)
    model = run_model([*say, "--follow"], env, args.words_per_s, follow=True)
    whole = run_model(say, env, args.words_per_s, follow=False)
    meta = sd.run_meta(started, speaker=args.speaker, words_per_s=args.words_per_s)
    rows = {"lines": lines, "model": model, "whole": whole}
    text = "\n".join([
        "# `say - --follow`: first audio of text piped in as it arrives", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- a `fast` clone of LibriSpeech speaker {args.speaker}; `voxclone say` as its own "
        f"process, fed through a pipe; wall time {meta['wall_s']:.0f} s", "",
        "| input | blocks spoken as they ended | first audio | later |",
        "|---|---|---|---|",
        f"| {len(LINES)} lines, each once the last one's audio was heard (`--follow`) | "
        f"{len(LINES)} | {lines[0]:.2f} s after its newline (models load) | "
        f"{statistics.median(lines[1:]):.2f} s, {max(lines[1:]):.2f} s after each newline |",
        f"| a paragraph of {len(PARAGRAPH.split())} words, {args.words_per_s:g} words/s "
        f"(`--follow`) | {model['blocks']} | "
        f"{model['first_audio_after_first_word_s']:.2f} s after its first word "
        f"({model['first_audio_after_first_block_s']:.2f} s after word "
        f"{model['first_block_words']}, which ends its first block) | last audio "
        f"{model['last_audio_after_last_word_s']:.2f} s after the last word |",
        f"| the same paragraph, without `--follow` (baseline) | 1 | "
        f"{whole['first_audio_after_first_word_s']:.2f} s after its first word "
        f"({whole['first_audio_after_last_word_s']:.2f} s after its last) | last audio "
        f"{whole['last_audio_after_last_word_s']:.2f} s after the last word |",
    ]) + "\n"
    sd.write_results(args.out, text, {"meta": meta, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
