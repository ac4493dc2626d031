"""The evidence behind the detector's weak tier (``detect.WEAK_SYNC``, ``WEAK_SCORE``,
``WEAK_MARGIN``, ``WEAK_CHANCE``): how often it reads a mark, a wrong one, or one in
unmarked audio.

The detector decodes a run of symbols when its lattice z-score reaches ``MIN_SYNC``
(3.5), or, for the whole audio at its own speed, ``WEAK_SYNC`` (2.0). Each decode reads
the run at every position it may hold in the codeword cycle (24) and keeps the best
codeword whose CRC-16 holds; in the weak tier it must also score ``WEAK_SCORE`` and
outscore every other position's codeword (CRC or not) by ``WEAK_MARGIN``. So only the
best position can count there, and it counts when its CRC holds, which a chance
codeword does 1 time in 65,536: the chance of a false or wrong mark per weak decode is
1/65,536 times the share of decodes whose best position is not the mark and reaches
the score and the margin. This measures those shares:

* Unmarked: the unmarked windows of ``watermark.py`` (LibriSpeech 3 s and 6 s windows,
  unmarked renderings in 3 s windows and whole, noise and silence, another key's marks)
  over the first ``--files`` LibriSpeech files and ``--clips`` renderings, each searched
  as the detector searches it (every speed it would try); every weak-tier run (the
  whole run at speed 1.0, z-score in [WEAK_SYNC, MIN_SYNC)) is decoded at its top
  offsets and the score of each position's codeword kept.
* Marked: the same renderings marked with a random payload and read through LAME at 32
  kbit/s, Opus at libsndfile's default quality, and 3 s crops of it and of Vorbis at its
  default, where weak tier reads happen; for each weak-tier run, whether its best
  position reads the right payload, and the scores.

Run from the repo root (about 12 minutes on one core)::

    python bench/watermark_weak_sync.py [--files 100] [--clips 100]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import soundfile as sf
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent))
import attacks as atk
import speech_data as sd
import watermark as wb
import watermark_clips as wc

from voxclone.audio import load_audio
from voxclone.watermark import QimWatermark
from voxclone.watermark import detect as dm
from voxclone.watermark.code import PAYLOAD_BITS_CODED, bits_to_int, convolve, viterbi

OUT = sd.REPO_ROOT / "bench" / "results" / "watermark_weak_sync"
SCORES = (6.5, 7.0, 7.5)
MARGINS = (0.25, 0.5, 0.75)  # with none, any position at the score could count
RATE = wb.RATE


def positions(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each position's codeword score (CRC aside) and payload."""
    scores, payloads = np.empty(len(words)), np.zeros(len(words), dtype=np.int64)
    for i, (word, info) in enumerate(zip(words, viterbi(words), strict=True)):
        signs = 1.0 - 2.0 * convolve(info)  # the decoded codeword, its CRC valid or not
        scores[i] = float(word @ signs) / (float(np.linalg.norm(word)) + 1e-12)
        payloads[i] = bits_to_int(info[:PAYLOAD_BITS_CODED])
    return scores, payloads


def weak_runs(x: np.ndarray, layout: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """The weak-tier decodes of ``x`` (float, 24 kHz) at speed 1.0, as heard."""
    x8 = np.asarray(soxr.resample(x, RATE, layout.config.analysis_rate, quality="MQ"))
    grid = dm._grid(x8, layout)
    if grid is None:
        return []
    n = grid.sync.shape[1]
    return [positions(dm._words(grid.soft[offset, :n], layout))
            for offset, sync in dm._top_offsets(grid, 0, n)
            if dm.WEAK_SYNC <= sync < dm.MIN_SYNC]


class Recorder:
    """Stands in for the detector's span search, finding nothing (so every speed is
    tried, as on unmarked audio), and keeps the weak-tier runs' position scores."""

    def __init__(self) -> None:
        self.speed = 1.0
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._look = dm._look

    def look(self, x8: np.ndarray, layout: Any, speed: float, trials: int) -> Any:
        self.speed = speed
        return self._look(x8, layout, speed, trials)

    def search(self, grid: Any, layout: Any, *, own_speed: bool) -> tuple[list[Any], int]:
        spans = dm._spans(grid.sync.shape[1], layout)
        if own_speed:
            n = grid.sync.shape[1]
            self.runs += [positions(dm._words(grid.soft[offset, :n], layout))
                          for offset, sync in dm._top_offsets(grid, 0, n)
                          if dm.WEAK_SYNC <= sync < dm.MIN_SYNC]
        return [], len(spans) * grid.sync.shape[0]


def stands_out(read: tuple[np.ndarray, np.ndarray], score: float, margin: float) -> bool:
    """Whether the best position of a read (scores, payloads) reaches ``score`` and
    outscores every position decoded to another payload by ``margin``."""
    scores, payloads = read
    best = int(np.argmax(scores))
    rest = scores[payloads != payloads[best]]
    return bool(scores[best] >= score
                and scores[best] - float(np.max(rest, initial=-np.inf)) >= margin)


def codec(subtype: str) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    def through(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        buffer = io.BytesIO()
        sf.write(buffer, x.astype(np.float32), RATE, format="OGG", subtype=subtype)
        return load_audio(buffer.getvalue()).resample(RATE).samples.astype(np.float64)
    return through


CHANNELS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "lame 32 kbit/s": lambda x, rng: atk.mp3(32)(x, RATE, rng),
    "opus, libsndfile default": codec("OPUS"),
    "opus, libsndfile default, 3 s crop": lambda x, rng: atk.crop(3.0)(
        codec("OPUS")(x, rng), RATE, rng),
    "ogg, libsndfile default, 3 s crop": lambda x, rng: atk.crop(3.0)(
        codec("VORBIS")(x, rng), RATE, rng),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100, help="LibriSpeech files")
    parser.add_argument("--clips", type=int, default=100, help="renderings")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(7)
    wm, stranger = QimWatermark(rng.bytes(32)), QimWatermark(rng.bytes(32))
    clips = [sf.read(p, dtype="float64")[0] for p in wc.synthesis_clips(args.clips)]
    payloads = [int(rng.integers(0, 1 << 32)) for _ in clips]
    marked = [wm.embed(c, RATE, p).astype(np.float64) for c, p in zip(clips, payloads,
                                                                        strict=True)]
    recorder, windows = Recorder(), 0
    with mock.patch.object(dm, "_search", recorder.search), \
            mock.patch.object(dm, "_look", recorder.look):
        for source, x in wb.unmarked_windows(wb.speech_files(args.files), clips, marked, rng):
            (stranger if source.startswith("marked") else wm).detect(x, RATE)
            windows += 1
            if windows % 1000 == 0:
                print(f"  {windows} unmarked windows", file=sys.stderr)
    # marked: (scores, whether each position reads the right payload) per weak run
    heard: list[tuple[tuple[np.ndarray, np.ndarray], bool]] = []  # (read, right?)
    for x, payload in zip(marked, payloads, strict=True):
        for through in CHANNELS.values():
            heard += [(read, bool(read[1][np.argmax(read[0])] == payload))
                      for read in weak_runs(through(x, rng), wm.layout)]
    print(f"  {len(heard)} weak runs of marked audio", file=sys.stderr)

    rows, summary = [], []
    for score in SCORES:
        for margin in MARGINS:
            false = sum(stands_out(s, score, margin) for s in recorder.runs)
            right = sum(stands_out(read, score, margin) and ok for read, ok in heard)
            wrong = sum(stands_out(read, score, margin) and not ok for read, ok in heard)
            shipped = (score, margin) == (dm.WEAK_SCORE, dm.WEAK_MARGIN)
            summary.append({"score": score, "margin": margin, "shipped": shipped,
                            "unmarked_stand_out": false, "right": right,
                            "wrong_stand_out": wrong})
            unmarked_share = false / max(len(recorder.runs), 1)
            wrong_share = wrong / max(len(heard), 1)
            rows.append(
                f"| {score} | {margin}{' (shipped)' if shipped else ''} | "
                f"{right / max(len(heard), 1):.3f} | {false} ({unmarked_share:.1e}) | "
                f"{unmarked_share / 65536:.1e} | {wrong} ({wrong_share:.1e}) | "
                f"{wrong_share / 65536:.1e} |")
    weak_per_window = len(recorder.runs) / max(windows, 1)
    lines = [f"# The detector's weak tier: {len(heard)} weak reads of marked audio, "
             f"{len(recorder.runs)} of unmarked audio ({windows} windows)", "",
             "A weak-tier read counts when its best position's codeword reaches the score, "
             "outscores every other position by the margin, and passes the CRC (a chance "
             "codeword: 1 in 65,536). Marked: renderings through LAME 32 kbit/s, Opus at "
             "libsndfile's default, and 3 s crops of it and of Vorbis at its default; "
             "`python bench/watermark_weak_sync.py`.", "",
             "| score | margin | marked: right payload read | unmarked: best position "
             "stands out | false mark per weak read | marked: a wrong position stands "
             "out | wrong payload per weak read |",
             "| --- | --- | --- | --- | --- | --- | --- |", *rows, "",
             f"Weak-tier reads per unmarked window: {weak_per_window:.2f} (at most "
             f"{2 * dm.DECODE_OFFSETS} per search: its top offsets, as heard and with an "
             "echo undone). `WEAK_CHANCE` (the share standing out, bounded above) is "
             f"{dm.WEAK_CHANCE:g}."]
    sd.write_results(args.out, "\n".join(lines),
                     {"meta": sd.run_meta(started, source_tree=sd.source_tree(),
                                          windows=windows, files=args.files,
                                          clips=args.clips),
                      "unmarked_weak_reads": len(recorder.runs),
                      "marked_weak_reads": len(heard),
                      "weak_reads_per_window": weak_per_window, "grid": summary})


if __name__ == "__main__":
    main()
