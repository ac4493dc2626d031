"""Who is speaking: a second speaker inside one clip, and a clip of another speaker in a set.

Both come from GE2E d-vectors (``voxclone.speaker``):

* inside a clip, the speech is cut into 1.6 s windows (0.8 s hop, the encoder's own
  partial-utterance length); the window embeddings are split into two groups (2-means
  on the unit sphere); one speaker gives two groups whose centroids still point the
  same way, two speakers give two groups that do not;
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
from voxclone.speaker.encoder import SpeakerEncoder
from voxclone.speaker.verify import SAME_SPEAKER_THRESHOLD

__all__ = [
    "MIN_SPLIT_SECONDS",
    "OUTLIER_THRESHOLD",
    "TWO_SPEAKER_THRESHOLD",
    "SetAgreement",
    "SpeakerSplit",
    "find_outliers",
    "split_speakers",
    "window_embeddings",
]

logger = logging.getLogger(__name__)

WINDOW_S: Final[float] = 1.6
HOP_S: Final[float] = 0.8
#: Fewer windows than this (about 3.2 s of speech): the clip is too short to split.
MIN_WINDOWS: Final[int] = 3
#: The smaller group must hold this much speech (its windows x hop) to count.
MIN_SPLIT_SECONDS: Final[float] = 1.6

#: Centroid cosine of the two window groups below which a clip holds two speakers.
#: Chosen by ``bench/speaker_mix.py --split calibration`` (105 LibriSpeech calibration
#: speakers, disjoint from the evaluation speakers it reports on): single-speaker
#: clips 1st percentile 0.850; at 0.84, 1 % false alarms and 97.5 % of 200 mixed
#: clips detected (bench/results/speaker_mix_calibration.md).
TWO_SPEAKER_THRESHOLD: Final[float] = 0.84

#: A clip whose cosine to the other clips' combined embedding is below this is taken
#: to be another speaker: the same-speaker threshold consent verification uses
#: (0.78). On the calibration speakers another speaker's clip scored at most 0.73
#: (99th percentile) and a genuine clip at least 0.855 (1st percentile).
OUTLIER_THRESHOLD: Final[float] = SAME_SPEAKER_THRESHOLD


def window_embeddings(encoder: SpeakerEncoder, speech: Audio) -> npt.NDArray[np.float32]:
    """d-vectors of 1.6 s windows of ``speech`` (trimmed to speech, any rate), 0.8 s apart.

    Returns float32 ``(windows, dim)``; no rows when ``speech`` is under 1.6 s. The last
    window is aligned to the end so the tail is not lost.
    """
    rate = speech.sample_rate
    size, hop = round(WINDOW_S * rate), round(HOP_S * rate)
    n = len(speech)
    if n < size:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    starts = list(range(0, n - size + 1, hop))
    if starts[-1] + size < n - hop // 2:
        starts.append(n - size)
    rows = [encoder.embed(Audio(speech.samples[s:s + size], rate)) for s in starts]
    return np.stack(rows).astype(np.float32)


@dataclass(frozen=True)
class SpeakerSplit:
    """The best two-group split of a clip's windows.

    Attributes:
        windows: number of 1.6 s windows the clip gave.
        cosine: cosine of the two groups' centroids (1.0 when not split: too short).
        minority_seconds: speech in the smaller group (its windows x 0.8 s).
        minority_start_s: where (seconds into the trimmed speech) the smaller group
            begins, for the advice.
    """

    windows: int
    cosine: float
    minority_seconds: float
    minority_start_s: float

    @property
    def checked(self) -> bool:
        """Whether the clip was long enough to look for a second speaker."""
        return self.windows >= MIN_WINDOWS

    @property
    def two_speakers(self) -> bool:
        """A second speaker with at least 1.6 s of speech is present."""
        return (self.checked and self.cosine < TWO_SPEAKER_THRESHOLD
                and self.minority_seconds >= MIN_SPLIT_SECONDS)


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


def split_speakers(windows: npt.NDArray[np.float32]) -> SpeakerSplit:
    """Split window d-vectors ``(n, dim)`` into two groups and measure how far apart they are.

    With fewer than 3 windows nothing is split (``checked`` is False).
    """
    n = len(windows)
    if n < MIN_WINDOWS:
        return SpeakerSplit(n, 1.0, 0.0, 0.0)
    e = _unit_rows(windows.astype(np.float64))
    labels = _two_means(e)
    if labels.all() or not labels.any():
        return SpeakerSplit(n, 1.0, 0.0, 0.0)
    minority = labels if labels.sum() <= (~labels).sum() else ~labels
    score = cosine(e[labels].mean(axis=0), e[~labels].mean(axis=0))
    first = int(np.argmax(minority))
    return SpeakerSplit(n, score, float(minority.sum()) * HOP_S, first * HOP_S)


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
