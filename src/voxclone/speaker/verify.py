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

#: Estimated SNR (dB) from which a recording counts as clean.
CLEAN_SNR_DB = 25.0

#: How much the threshold rises per dB that either recording's estimated SNR lies
#: below ``CLEAN_SNR_DB``; both d-vectors are noise-compensated first
#: (:mod:`voxclone.speaker.noise_compensation`). Noise pulls d-vectors together and
#: the compensation, which predicts a clean d-vector, pulls them toward the average
#: voice: either way strangers come closer, the more the noisier, and most when both
#: recordings are noisy (``BOTH_NOISY_RISE_PER_DB``). Chosen on the 97 calibration
#: speakers (white noise 25-5 dB, babble 20-10 dB, every pairing of reference and
#: consent conditions): the least false rejects with false accepts <= 0.8 % in every
#: pairing with both at 10 dB or more (the plain threshold against uncompensated
#: d-vectors refused 39 % of genuine speakers there on average; 61 % with a clean
#: reference and a consent reading at white noise 20 dB). ``bench/consent_noise.py``
#: measures it on the evaluation speakers.
THRESHOLD_RISE_PER_DB = 0.003

#: The further rise per dB that the *less* noisy recording lies below ``CLEAN_SNR_DB``.
BOTH_NOISY_RISE_PER_DB = 0.002

#: No threshold rises above this: beyond it, genuine pairs rarely match either.
MAX_THRESHOLD = 0.92


@dataclass(frozen=True)
class SpeakerDecision:
    """A same-speaker decision: the cosine, the threshold, and whether it passed."""

    cosine: float
    threshold: float

    @property
    def same(self) -> bool:
        """Whether the two recordings are taken to be the same speaker."""
        return self.cosine >= self.threshold


def noisy_threshold(reference_snr_db: float, consent_snr_db: float,
                    threshold: float = SAME_SPEAKER_THRESHOLD) -> float:
    """The same-speaker threshold for two noise-compensated d-vectors whose recordings
    have estimated SNRs ``reference_snr_db`` and ``consent_snr_db`` (dB).

    ``threshold`` when both are clean (``CLEAN_SNR_DB`` or more), rising by
    ``THRESHOLD_RISE_PER_DB`` per dB that each lies below it and by
    ``BOTH_NOISY_RISE_PER_DB`` per dB that the cleaner one does, to at most
    ``MAX_THRESHOLD`` (also for an estimate that failed: NaN or ``-inf``); never below
    ``threshold``. ``+inf`` counts as clean (``ConsentVerifier.verify``'s default).
    """
    if any(np.isnan(snr) or snr == -np.inf for snr in (reference_snr_db, consent_snr_db)):
        return max(threshold, MAX_THRESHOLD)
    below = [max(0.0, CLEAN_SNR_DB - snr) for snr in (reference_snr_db, consent_snr_db)]
    rise = THRESHOLD_RISE_PER_DB * sum(below) + BOTH_NOISY_RISE_PER_DB * min(below)
    return max(threshold, min(threshold + rise, MAX_THRESHOLD))


def same_speaker(a: np.ndarray, b: np.ndarray,
                 threshold: float = SAME_SPEAKER_THRESHOLD) -> SpeakerDecision:
    """Decide whether embeddings ``a`` and ``b`` (unit d-vectors) are the same speaker."""
    return SpeakerDecision(cosine(a, b), threshold)
