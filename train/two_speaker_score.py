"""Learn the two-speaker score (``voxclone.quality.speakers``) from the calibration cases.

``bench/speaker_mix.py --split calibration`` analyses single-speaker clips (105
calibration speakers' whole utterances and two 6-9 s pieces of each) and 400 clips of
two speakers (concatenated, or the second talking over the first) as enrollment does,
and keeps each clip's three measures: the change-point cosine, the 2-means cosine
(1.0 when its smaller group holds under 1.6 s) and the windows' consistency. This
script fits a logistic regression (L2 strength 1 on standardised measures) of "two
speakers" on them, then sets the threshold as the lowest score with at most 5 % false
alarms on the calibration 6-9 s pieces: a reference is usually that long, and one
voice splits apart more easily over 6-9 s than over a whole utterance. Clips of at
most ``SHORT_WINDOWS`` windows (under about 6 s of speech) get their own threshold by
the same rule on the calibration 4-5.5 s pieces. The evaluation speakers are never
read.

    python bench/speaker_mix.py --split calibration   # about 15 min
    python train/two_speaker_score.py                  # prints the constants

Clips under 3 windows (not judged), the noisy and interrupted clips and the short
pieces and short two-speaker clips are left out of the fit (the short pieces set only
the short threshold).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voxclone.quality.speakers import SHORT_WINDOWS, SpeakerSplit

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "bench" / "results" / "speaker_mix_calibration.json"
SINGLE = ("single", "single, 6-9 s piece")
SHORT_PIECE = "single, 4-5.5 s piece"
TWO = ("concatenated", "overlapped")
MAX_PIECE_FALSE_ALARMS = 0.05


def split_of(row: dict[str, Any]) -> SpeakerSplit:
    """One of the bench's rows as the ``SpeakerSplit`` it was measured from."""
    return SpeakerSplit(row["windows"], row["cosine"], row["minority_s"], 0.0,
                        row["scattered"], row["scattered_s"],
                        consistency=row["consistency"])


def fit_logistic(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64],
                 strength: float = 1.0) -> tuple[npt.NDArray[np.float64], float]:
    """Weights ``(d,)`` and bias of an L2-penalised logistic regression (Newton steps on
    standardised inputs; the bias is not penalised), in the inputs' own units."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    z = np.column_stack([np.ones(len(x)), (x - mean) / std])
    penalty = strength * np.diag([0.0] + [1.0] * x.shape[1])
    w = np.zeros(z.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        step = np.linalg.solve((z * (p * (1 - p))[:, None]).T @ z + penalty,
                               z.T @ (p - y) + penalty @ w)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    weights = w[1:] / std
    return weights, float(w[0] - np.sum(weights * mean))


@dataclass(frozen=True)
class Learned:
    """The score's weights (change-point cosine, 2-means cosine, consistency), bias and
    thresholds (long and short clips), with what they give together on the clips they
    were learned from."""

    weights: tuple[float, float, float]
    bias: float
    threshold: float
    false_alarms: float
    piece_false_alarms: tuple[int, int]
    found: float
    short_threshold: float
    short_false_alarms: tuple[int, int]


def lowest_threshold(scores: npt.NDArray[np.float64]) -> float:
    """The lowest threshold that flags at most 5 % of ``scores`` (single-speaker clips;
    flagged when above it)."""
    ranked = np.sort(scores)[::-1]
    return float(ranked[math.floor(MAX_PIECE_FALSE_ALARMS * len(ranked))])


def learn(rows: list[dict[str, Any]]) -> Learned:
    """Fit the score to ``bench/speaker_mix.py``'s calibration rows."""
    cases = [(r["kind"], split_of(r)) for r in rows]
    short = [split for kind, split in cases
             if kind == SHORT_PIECE and split.checked and split.short]
    fitted = [(kind, split) for kind, split in cases if kind in SINGLE + TWO and split.checked]
    x = np.array([split.measures for _, split in fitted])
    y = np.array([kind in TWO for kind, _ in fitted], dtype=np.float64)
    weights, bias = fit_logistic(x, y)
    scores = x @ weights + bias
    is_piece = np.array([kind == "single, 6-9 s piece" for kind, _ in fitted])
    threshold = lowest_threshold(scores[is_piece])
    short_scores = np.array([split.measures for split in short]) @ weights + bias
    short_threshold = lowest_threshold(short_scores)
    # What the two thresholds give together on the clips of the fit.
    is_short = np.array([split.short for _, split in fitted])
    flagged = scores > np.where(is_short, short_threshold, threshold)
    two = y.astype(bool)
    w = tuple(float(v) for v in weights)
    return Learned((w[0], w[1], w[2]), bias, threshold, float(flagged[~two].mean()),
                   (int(np.sum(flagged[is_piece])), int(np.sum(is_piece))),
                   float(flagged[two].mean()), short_threshold,
                   (int(np.sum(short_scores > short_threshold)), len(short_scores)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=Path, default=CASES,
                        help="speaker_mix_calibration.json from bench/speaker_mix.py")
    args = parser.parse_args(argv)
    data = json.loads(args.cases.read_text())
    if data["meta"]["split"] != "calibration":
        raise SystemExit(f"{args.cases} holds {data['meta']['split']} speakers; the score "
                         "is learned on the calibration split only")
    got = learn(data["rows"])
    print(f"from {args.cases.name}: {got.piece_false_alarms[1]} calibration 6-9 s pieces")
    print(f"TWO_SPEAKER_BIAS: Final[float] = {got.bias:.3f}")
    for name, w in zip(("COSINE_WEIGHT", "SCATTERED_WEIGHT", "CONSISTENCY_WEIGHT"),
                       got.weights, strict=True):
        print(f"{name}: Final[float] = {w:.3f}")
    print(f"TWO_SPEAKER_THRESHOLD: Final[float] = {got.threshold:.3f}")
    print(f"SHORT_TWO_SPEAKER_THRESHOLD: Final[float] = {got.short_threshold:.3f}")
    print(f"calibration: false alarms {got.false_alarms:.1%} (6-9 s pieces "
          f"{got.piece_false_alarms[0]}/{got.piece_false_alarms[1]}), two speakers found "
          f"{got.found:.1%}; short pieces (<= {SHORT_WINDOWS} windows) "
          f"{got.short_false_alarms[0]}/{got.short_false_alarms[1]} at the short threshold")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
