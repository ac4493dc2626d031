"""Who is speaking: a second speaker inside one clip, and a clip of another speaker in a set.

Both come from GE2E d-vectors (``voxclone.speaker``):

* inside a clip, the speech is cut into 1.6 s windows (0.8 s hop, the encoder's own
  partial-utterance length) and three things are measured on the window embeddings:
  the split at the point in time where the speech before and after it differ most (a
  *change point*: one speaker after another, or a second voice joining), the split
  into any two groups (2-means on the unit sphere: a voice that comes and goes), and
  how alike the windows are overall (the mean cosine of every two windows that do not
  overlap: a second voice lowers it wherever it is). One speaker gives two parts whose
  centroids still point the same way and windows that agree; two speakers do not. The
  three are weighed by one linear score, learned on calibration speakers
  (``train/two_speaker_score.py``), with a higher threshold for a clip under about
  6 s of speech;
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
    "CONSISTENCY_WEIGHT",
    "COSINE_WEIGHT",
    "MIN_SPLIT_SECONDS",
    "OUTLIER_THRESHOLD",
    "SCATTERED_WEIGHT",
    "SHORT_TWO_SPEAKER_THRESHOLD",
    "SHORT_WINDOWS",
    "TWO_SPEAKER_BIAS",
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

#: The two-speaker score: ``BIAS + COSINE_WEIGHT * change-point cosine +
#: SCATTERED_WEIGHT * 2-means cosine + CONSISTENCY_WEIGHT * window consistency``; a clip
#: holds two speakers when it exceeds ``TWO_SPEAKER_THRESHOLD``. A logistic regression
#: on 105 LibriSpeech calibration speakers' single-speaker clips (whole utterances and
#: 6-9 s pieces) against 400 two-speaker clips, disjoint from the evaluation speakers
#: ``bench/speaker_mix.py`` reports on; the threshold is the lowest with at most 5 %
#: false alarms on the calibration 6-9 s pieces (``train/two_speaker_score.py``,
#: ``bench/results/speaker_mix_calibration.md``).
TWO_SPEAKER_BIAS: Final[float] = 54.665
COSINE_WEIGHT: Final[float] = -23.256
SCATTERED_WEIGHT: Final[float] = -9.499
CONSISTENCY_WEIGHT: Final[float] = -39.413
TWO_SPEAKER_THRESHOLD: Final[float] = 0.046
#: Clips of at most this many windows (under about 6 s of speech) are judged against
#: ``SHORT_TWO_SPEAKER_THRESHOLD``: with so few windows one odd window moves every
#: measure, and one voice reaches the long clips' threshold more often (7.7 % of
#: calibration 4-5.5 s pieces, against 4.8 % of 6-9 s ones). The short threshold is
#: set by the same rule on the calibration 4-5.5 s pieces: at most 5 % false alarms.
SHORT_WINDOWS: Final[int] = 6
SHORT_TWO_SPEAKER_THRESHOLD: Final[float] = 0.848

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
    """How far apart the most different parts of a clip's speech are.

    Attributes:
        windows: number of 1.6 s windows the clip gave.
        cosine: centroid cosine of the windows before and after the change point
            (1.0 when not split: under 4 windows).
        minority_seconds: speech in the smaller part (its windows x 0.8 s).
        change_s: where the change point is (seconds into the trimmed speech), for
            the advice.
        scattered_cosine: centroid cosine of the best 2-means split, whose groups need
            not be contiguous (1.0 when not split).
        scattered_minority_seconds: speech in the smaller 2-means group.
        scattered_start_s: where the smaller 2-means group begins.
        consistency: mean cosine of every two windows two or more hops apart, which
            share no audio (the last, aligned to the end, at most 0.4 s); 1.0 when
            there are none.
    """

    windows: int
    cosine: float
    minority_seconds: float
    change_s: float
    scattered_cosine: float = 1.0
    scattered_minority_seconds: float = 0.0
    scattered_start_s: float = 0.0
    consistency: float = 1.0

    @property
    def checked(self) -> bool:
        """Whether the clip was long enough to look for a second speaker."""
        return self.windows >= MIN_WINDOWS

    @property
    def _scattered(self) -> float:
        # A 2-means group under 1.6 s of speech is one odd window, not a voice.
        return (self.scattered_cosine
                if self.scattered_minority_seconds >= MIN_SPLIT_SECONDS else 1.0)

    @property
    def measures(self) -> tuple[float, float, float]:
        """The score's inputs: the change-point cosine, the 2-means cosine (1.0 when its
        smaller group holds under 1.6 s) and the consistency."""
        return self.cosine, self._scattered, self.consistency

    @property
    def score(self) -> float:
        """The two-speaker score (above ``threshold``: two speakers)."""
        weights = (COSINE_WEIGHT, SCATTERED_WEIGHT, CONSISTENCY_WEIGHT)
        return TWO_SPEAKER_BIAS + sum(w * m for w, m in zip(weights, self.measures,
                                                                strict=True))

    @property
    def short(self) -> bool:
        """At most ``SHORT_WINDOWS`` windows (under about 6 s of speech)."""
        return self.windows <= SHORT_WINDOWS

    @property
    def threshold(self) -> float:
        """The score above which this clip holds two speakers: higher for a short clip."""
        return SHORT_TWO_SPEAKER_THRESHOLD if self.short else TWO_SPEAKER_THRESHOLD

    @property
    def two_speakers(self) -> bool:
        """A second speaker with at least 1.6 s of speech is present."""
        return self.checked and self.score > self.threshold

    @property
    def changes_speaker(self) -> bool:
        """Two speakers, one after the other: the change point separates them at least as
        well as any two groups (else the second voice comes and goes)."""
        # (a tolerance: the same split summed in another order differs in the last digits)
        return (self.two_speakers and self.minority_seconds >= MIN_SPLIT_SECONDS
                and self.cosine <= self._scattered + 1e-9)


def _unit_rows(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-12)


def two_means(e: npt.NDArray[np.float64], iterations: int = 10) -> npt.NDArray[np.bool_]:
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


def _consistency(e: npt.NDArray[np.float64]) -> float:
    """Mean cosine of unit rows ``(n, dim)`` two or more rows apart: windows that share
    no audio, or little (adjacent ones overlap by half and agree by construction)."""
    index = np.arange(len(e))
    apart = np.abs(index[:, None] - index[None, :]) >= 2
    return float((e @ e.T)[apart].mean()) if apart.any() else 1.0


def _groups(labels: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """Seconds of speech in the smaller group of ``labels`` and where it begins."""
    minority = labels if labels.sum() <= (~labels).sum() else ~labels
    return float(minority.sum()) * HOP_S, int(np.argmax(minority)) * HOP_S


def split_speakers(windows: npt.NDArray[np.float32]) -> SpeakerSplit:
    """Split window d-vectors ``(n, dim)`` in two, at the change point and by 2-means,
    and measure how far apart the parts are and how alike the windows are.

    With fewer than 3 windows nothing is split (``checked`` is False).
    """
    n = len(windows)
    if n < MIN_WINDOWS:
        return SpeakerSplit(n, 1.0, 0.0, 0.0)
    e = _unit_rows(windows.astype(np.float64))
    change, cut = _change_point(e)
    minority = min(cut, n - cut) * HOP_S if cut else 0.0
    consistency = _consistency(e)
    labels = two_means(e)
    if labels.all() or not labels.any():
        return SpeakerSplit(n, change, minority, cut * HOP_S, consistency=consistency)
    scattered = cosine(e[labels].mean(axis=0), e[~labels].mean(axis=0))
    return SpeakerSplit(n, change, minority, cut * HOP_S, scattered, *_groups(labels),
                        consistency=consistency)


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
