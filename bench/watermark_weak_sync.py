"""How often unmarked audio decodes to a close codeword: the evidence behind the
detector's weak tier (``detect.WEAK_SYNC``, ``WEAK_SCORE``, ``WEAK_SCORE_TAIL``).

The detector decodes a run of symbols when its lattice z-score reaches ``MIN_SYNC``
(3.5), or, for the whole audio at its own speed, ``WEAK_SYNC`` (2.0); a decode is a
mark when its codeword passes the CRC-16 and scores ``MIN_SCORE`` (6.5), or
``WEAK_SCORE`` (7.0) under ``MIN_SYNC``. The CRC passes a chance codeword 1 time in
65,536 whatever its score, so the chance of a false mark is that times the share of
decodes whose best codeword reaches the score. This counts that share:

* Material: the unmarked windows of ``watermark.py`` (LibriSpeech 3 s and 6 s windows,
  unmarked renderings in 3 s windows and whole, noise and silence, marks of another key),
  over the first ``--files`` LibriSpeech files and ``--clips`` renderings.
* Each window is searched as the detector searches it (every speed it would try, every
  span and offset), but every run whose z-score reaches ``WEAK_SYNC`` is decoded at each
  of its positions in the codeword cycle, and the score of each decode's best codeword
  is kept, CRC or not.
* Reported: decodes in the weak tier (the whole run at speed 1.0, z-score in
  [WEAK_SYNC, MIN_SYNC)) and in all, and the share whose score reaches 6.0-7.5.

Run from the repo root (about 15 minutes on one core)::

    python bench/watermark_weak_sync.py [--files 200] [--clips 200]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd
import watermark as wb
import watermark_clips as wc

from voxclone.watermark import QimWatermark
from voxclone.watermark import detect as dm

OUT = sd.REPO_ROOT / "bench" / "results" / "watermark_weak_sync"
THRESHOLDS = (6.0, 6.5, 7.0, 7.25, 7.5)


class Recorder:
    """Stands in for the detector's span search: decodes every run at or above
    ``WEAK_SYNC`` and keeps (z-score, speed, whole run?, scores of each position)."""

    def __init__(self) -> None:
        self.speed = 1.0
        self.decodes: list[tuple[float, float, bool, np.ndarray]] = []
        self._look = dm._look

    def look(self, x8: np.ndarray, layout: Any, speed: float, trials: int) -> Any:
        self.speed = speed
        return self._look(x8, layout, speed, trials)

    def search(self, grid: Any, layout: Any, *, weak: bool) -> tuple[list[Any], int]:
        spans = dm._spans(grid.sync.shape[1], layout)
        for first, last in spans:
            for offset, sync in dm._top_offsets(grid, first, last):
                if sync < dm.WEAK_SYNC:
                    break
                words = dm._words(grid.soft[offset, first:last], layout)
                scores = np.empty(len(words))
                for i, (word, info) in enumerate(zip(words, dm.viterbi(words), strict=True)):
                    signs = 1.0 - 2.0 * dm.encode(dm.bits_to_int(info[:dm.PAYLOAD_BITS_CODED]))
                    scores[i] = float(word @ signs) / (float(np.linalg.norm(word)) + 1e-12)
                self.decodes.append((sync, self.speed, (first, last) == spans[0], scores))
        return [], len(spans) * grid.sync.shape[0]  # nothing found: every speed is tried


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200, help="LibriSpeech files")
    parser.add_argument("--clips", type=int, default=200, help="unmarked renderings")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(7)
    wm, stranger = QimWatermark(rng.bytes(32)), QimWatermark(rng.bytes(32))
    clips = [sf.read(p, dtype="float64")[0] for p in wc.synthesis_clips(args.clips)]
    marked = [wm.embed(c, wb.RATE, int(rng.integers(0, 1 << 32))).astype(np.float64)
              for c in clips]
    recorder = Recorder()
    windows = 0
    with mock.patch.object(dm, "_search", recorder.search), \
            mock.patch.object(dm, "_look", recorder.look):
        for source, x in wb.unmarked_windows(wb.speech_files(args.files), clips, marked, rng):
            (stranger if source.startswith("marked") else wm).detect(x, wb.RATE)
            windows += 1
            if windows % 1000 == 0:
                print(f"  {windows} windows", file=sys.stderr)
    weak = [s for z, speed, whole, s in recorder.decodes
            if speed == 1.0 and whole and z < dm.MIN_SYNC]
    groups = {"weak tier (whole run, speed 1.0, z in [2.0, 3.5))": weak,
              "every decode at z >= 2.0": [s for *_, s in recorder.decodes]}
    lines = [f"# Codeword scores of unmarked audio ({windows} windows)", "",
             "Decodes of unmarked windows and the share whose best codeword reaches each "
             "score, CRC aside (a chance codeword passes the CRC 1 time in 65,536); "
             "`python bench/watermark_weak_sync.py`.", "",
             "| decodes | runs decoded | codewords scored | "
             + " | ".join(f">= {t}" for t in THRESHOLDS) + " | highest |",
             "|" + " --- |" * (4 + len(THRESHOLDS))]
    summary: dict[str, Any] = {}
    for name, runs in groups.items():
        scores = np.concatenate(runs) if runs else np.zeros(0)
        shares = {t: float(np.mean(scores >= t)) if len(scores) else 0.0 for t in THRESHOLDS}
        counts = {t: int(np.sum(scores >= t)) for t in THRESHOLDS}
        summary[name] = {"runs": len(runs), "codewords": len(scores),
                         "at_least": {str(t): counts[t] for t in THRESHOLDS},
                         "highest": float(scores.max()) if len(scores) else None}
        lines.append(f"| {name} | {len(runs)} | {len(scores)} | " + " | ".join(
            f"{counts[t]} ({shares[t]:.1e})" for t in THRESHOLDS)
            + f" | {scores.max():.2f} |")
    n_weak = sum(len(s) for s in weak)
    lines += ["", f"Weak-tier runs per window: {len(weak) / max(windows, 1):.2f}. "
              f"`WEAK_SCORE` = {dm.WEAK_SCORE}; `WEAK_SCORE_TAIL` = {dm.WEAK_SCORE_TAIL:g} "
              f"(with none of {n_weak} weak-tier codewords at `WEAK_SCORE`, the 95 % upper "
              f"bound on their share is {3.0 / max(n_weak, 1):.1e})."]
    sd.write_results(args.out, "\n".join(lines),
                     {"meta": sd.run_meta(started, source_tree=sd.source_tree(),
                                          windows=windows, files=args.files,
                                          clips=args.clips),
                      "groups": summary, "weak_runs_per_window": len(weak) / max(windows, 1)})


if __name__ == "__main__":
    main()
