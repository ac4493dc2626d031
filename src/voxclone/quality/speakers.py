"""Who is speaking: a second speaker inside one clip, and a clip of another speaker in a set.

Both come from GE2E d-vectors (``voxclone.speaker``):

* inside a clip, the speech is cut into 1.6 s windows (0.8 s hop, the encoder's own
  partial-utterance length) and the window embeddings are split in two: at the point in
  time where the speech before and after it differ most (a *change point*: one
  speaker after another, or a second voice joining), and into any two groups (2-means
  on the unit sphere: a voice that comes and goes). One speaker gives two parts whose
  centroids still point the same way; two speakers give two that do not. The change
  point is the main test: it tries only ``n - 3`` splits, so a single speaker's windows
  rarely fall apart by chance, where 2-means picks the worst of many and needs a
  stricter threshold;
* across clips, each clip's embedding is compared with the combined embedding of the
  other clips; the clip least like the rest is set aside while it is below the
  threshold and the rest still form a majority.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from voxclone.audio import Audio
from voxclone.speaker import combine_embeddings, cosine
from voxclone.speaker.verify import SAME_SPEAKER_THRESHOLD

__all__ = [
    "MIN_SPLIT_SECONDS",
    "OUTLIER_THRESHOLD",
    "TWO_SPEAKER_THRESHOLD",
    "SetAgreement",
    "SpeakerSplit",
    "find_outliers",
    "speech_windows",
    "split_speakers",
]

logger = logging.getLogger(__name__)

WINDOW_S: Final[float] = 1.6
HOP_S: Final[float] = 0.8
#: Fewer windows than this (about 3.2 s of speech): the clip is too short to split.
MIN_WINDOWS: Final[int] = 3
#: The smaller group must hold this much speech (its windows x hop) to count.
MIN_SPLIT_SECONDS: Final[float] = 1.6

#: Centroid cosine of the speech before and after the change point below which a clip
#: holds two speakers. Chosen by ``bench/speaker_mix.py --split calibration`` (105
#: LibriSpeech calibration speakers, disjoint from the evaluation speakers it reports
#: on) as the highest with at most 5 % false alarms on 6-9 s single-speaker pieces
#: (3.8 %; 1.9 % on whole utterances), detecting 96.8 % of 400 two-speaker clips
#: (bench/results/speaker_mix_calibration.md).
TWO_SPEAKER_THRESHOLD: Final[float] = 0.81
#: The same for the best 2-means split (a voice that comes and goes), stricter since
#: 2-means finds the most different groups of a single speaker's windows: the highest
#: that added no false alarm on the calibration speakers (it then finds 99 of 100
#: interruptions).
SCATTERED_THRESHOLD: Final[float] = 0.78

#: A clip whose cosine to the other clips' combined embedding is below this is taken
#: to be another speaker: the same-speaker threshold consent verification uses
#: (0.78). On the calibration speakers another speaker's clip scored at most 0.73
#: (99th percentile) and a genuine clip at least 0.855 (1st percentile).
OUTLIER_THRESHOLD: Final[float] = SAME_SPEAKER_THRESHOLD


def speech_windows(speech: Audio) -> list[Audio]:
    """1.6 s windows of ``speech`` (trimmed to speech, any rate), 0.8 s apart; none when
    ``speech`` is under 1.6 s. The last window is aligned to the end so the tail is not
    lost."""
    rate = speech.sample_rate
    size, hop = round(WINDOW_S * rate), round(HOP_S * rate)
    n = len(speech)
    if n < size:
        return []
    starts = list(range(0, n - size + 1, hop))
    if starts[-1] + size < n - hop // 2:
        starts.append(n - size)
    return [Audio(speech.samples[s:s + size], rate) for s in starts]


@dataclass(frozen=True)
class SpeakerSplit:
    """How far apart the two most different parts of a clip's speech are.

    Attributes:
        windows: number of 1.6 s windows the clip gave.
        cosine: centroid cosine of the windows before and after the change point
            (1.0 when not split: too short).
        minority_seconds: speech in the smaller part (its windows x 0.8 s).
        change_s: where the change point is (seconds into the trimmed speech), for
            the advice.
        scattered_cosine: centroid cosine of the best 2-means split, whose groups need
            not be contiguous (1.0 when not split).
        scattered_minority_seconds: speech in the smaller 2-means group.
        scattered_start_s: where the smaller 2-means group begins.
    """

    windows: int
    cosine: float
    minority_seconds: float
    change_s: float
    scattered_cosine: float = 1.0
    scattered_minority_seconds: float = 0.0
    scattered_start_s: float = 0.0

    @property
    def checked(self) -> bool:
        """Whether the clip was long enough to look for a second speaker."""
        return self.windows >= MIN_WINDOWS

    @property
    def changes_speaker(self) -> bool:
        """The speech before and after the change point are two voices."""
        return (self.checked and self.cosine < TWO_SPEAKER_THRESHOLD
                and self.minority_seconds >= MIN_SPLIT_SECONDS)

    @property
    def two_speakers(self) -> bool:
        """A second speaker with at least 1.6 s of speech is present."""
        return self.changes_speaker or (
            self.checked and self.scattered_cosine < SCATTERED_THRESHOLD
            and self.scattered_minority_seconds >= MIN_SPLIT_SECONDS)


def _unit_rows(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-12)


def _two_means(e: npt.NDArray[np.float64], iterations: int = 10) -> npt.NDArray[np.bool_]:
    """Spherical 2-means of unit rows, seeded with the two least similar rows."""
    sims = e @ e.T
    i, j = np.unravel_index(int(np.argmin(sims)), sims.shape)
    centres = e[[i, j]]
    labels = np.zeros(len(e), dtype=bool)
    for _ in range(iterations):
        new = (e @ centres[1]) > (e @ centres[0])
        if new.all() or not new.any():
            break
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        centres = _unit_rows(np.stack([e[~labels].mean(axis=0), e[labels].mean(axis=0)]))
    return labels


def _change_point(e: npt.NDArray[np.float64]) -> tuple[float, int]:
    """The split of unit rows ``(n, dim)`` into before/after (each at least
    ``MIN_SPLIT_SECONDS`` of windows) with the lowest centroid cosine: (cosine, index
    of the first row after it). ``(1.0, 0)`` when no such split exists."""
    side = max(1, round(MIN_SPLIT_SECONDS / HOP_S))
    n = len(e)
    if n < 2 * side:
        return 1.0, 0
    before = np.cumsum(e, axis=0)
    total = before[-1]
    cuts = np.arange(side, n - side + 1)
    heads, tails = before[cuts - 1], total - before[cuts - 1]
    cosines = np.sum(heads * tails, axis=1) / (
        np.linalg.norm(heads, axis=1) * np.linalg.norm(tails, axis=1) + 1e-12)
    best = int(np.argmin(cosines))
    return float(cosines[best]), int(cuts[best])


def _groups(labels: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """Seconds of speech in the smaller group of ``labels`` and where it begins."""
    minority = labels if labels.sum() <= (~labels).sum() else ~labels
    return float(minority.sum()) * HOP_S, int(np.argmax(minority)) * HOP_S


def split_speakers(windows: npt.NDArray[np.float32]) -> SpeakerSplit:
    """Split window d-vectors ``(n, dim)`` in two, at the change point and by 2-means,
    and measure how far apart the parts are.

    With fewer than 3 windows nothing is split (``checked`` is False).
    """
    n = len(windows)
    if n < MIN_WINDOWS:
        return SpeakerSplit(n, 1.0, 0.0, 0.0)
    e = _unit_rows(windows.astype(np.float64))
    change, cut = _change_point(e)
    minority = min(cut, n - cut) * HOP_S if cut else 0.0
    labels = _two_means(e)
    if labels.all() or not labels.any():
        return SpeakerSplit(n, change, minority, cut * HOP_S)
    scattered = cosine(e[labels].mean(axis=0), e[~labels].mean(axis=0))
    return SpeakerSplit(n, change, minority, cut * HOP_S, scattered, *_groups(labels))


@dataclass(frozen=True)
class SetAgreement:
    """Do a few-shot set's clips share one speaker?

    Attributes:
        cosines: each clip's cosine to the combined embedding of the others (in the
            order given; ``nan`` for a single clip).
        outliers: indices of clips set aside as another speaker.
        ambiguous: the clips disagree but no majority speaker can be told (two clips
            that differ, or as many outliers as agreeing clips); ``outliers`` is then
            empty, since which clips are the speaker's cannot be told.
    """

    cosines: tuple[float, ...]
    outliers: tuple[int, ...]
    ambiguous: bool


def _leave_one_out(embeddings: Sequence[np.ndarray], weights: Sequence[float],
                   keep: list[int]) -> dict[int, float]:
    scores = {}
    for i in keep:
        rest = [k for k in keep if k != i]
        others = combine_embeddings([embeddings[k] for k in rest], [weights[k] for k in rest])
        scores[i] = cosine(embeddings[i], others)
    return scores


def find_outliers(embeddings: Sequence[np.ndarray], weights: Sequence[float],
                  threshold: float = OUTLIER_THRESHOLD) -> SetAgreement:
    """Find clips of another speaker among clip d-vectors (unit ``(dim,)`` each).

    ``weights`` are the clips' seconds of speech. The clip least like the rest is set
    aside while its cosine to them is under ``threshold`` and, without it, the
    remaining clips are still more than those set aside.
    """
    n = len(embeddings)
    if n < 2:
        return SetAgreement((float("nan"),) * n, (), False)
    keep = list(range(n))
    first = _leave_one_out(embeddings, weights, keep)
    outliers: list[int] = []
    while len(keep) >= 2:
        scores = _leave_one_out(embeddings, weights, keep)
        worst = min(scores, key=lambda k: scores[k])
        if scores[worst] >= threshold:
            break
        if len(keep) - 1 <= len(outliers) + 1 or len(keep) == 2:
            return SetAgreement(tuple(first[i] for i in range(n)), (), True)
        keep.remove(worst)
        outliers.append(worst)
    return SetAgreement(tuple(first[i] for i in range(n)), tuple(sorted(outliers)), False)
