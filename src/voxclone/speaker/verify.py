"""The calibrated same-speaker decision: are two recordings the same person?

GE2E cosine between the d-vectors of the two recordings, compared with a threshold
chosen on real speech (LibriSpeech, ``bench/consent.py``) for a false-accept rate of
at most 1 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxclone.speaker.encoder import cosine

#: GE2E cosine at or above which two recordings are taken to be the same speaker.
#: Calibrated by ``bench/consent.py`` on ../shared/speech (LibriSpeech; 212 speakers with
#: 2 x 3 s of speech): the two halves of each utterance (genuine) against halves of
#: different speakers (44,732 impostor pairs). FAR <= 1 % needs >= 0.765; 0.78 gives
#: FAR 0.54 % and FRR 0 % there (genuine pairs: minimum 0.835), leaving margin for the
#: lower cosines of a different session (about 0.87 mean, DESIGN.md). Figures in
#: bench/results/consent.md.
SAME_SPEAKER_THRESHOLD = 0.78


@dataclass(frozen=True)
class SpeakerDecision:
    """A same-speaker decision: the cosine, the threshold, and whether it passed."""

    cosine: float
    threshold: float

    @property
    def same(self) -> bool:
        """Whether the two recordings are taken to be the same speaker."""
        return self.cosine >= self.threshold


def same_speaker(a: np.ndarray, b: np.ndarray,
                 threshold: float = SAME_SPEAKER_THRESHOLD) -> SpeakerDecision:
    """Decide whether embeddings ``a`` and ``b`` (unit d-vectors) are the same speaker."""
    return SpeakerDecision(cosine(a, b), threshold)
