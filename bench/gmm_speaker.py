"""An MFCC GMM-UBM speaker model: a second judge of clone identity that the fit never saw.

voxclone fits its clones by maximising GE2E cosine and the clone benchmarks score them
with GE2E too, so a fit could learn the encoder's blind spots rather than the speaker
(``../shared/DESIGN.md`` measured one search lift GE2E 0.19 -> 0.72 while an MFCC
GMM-UBM moved -0.02 -> 0.18). This module is that independent model, in the classic
form (Reynolds et al. 2000): 19 MFCCs and their deltas from 16 kHz speech frames,
mean and variance normalised per clip (so a channel's constant colour drops out), a
diagonal-covariance universal background model trained on speakers the benchmark never
scores, speaker models MAP-adapted from it (means only), and a test clip's score the
mean per-frame log-likelihood ratio of speaker model over background.

Nothing here is part of voxclone; it judges, it is never optimised against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import librosa
import numpy as np
from sklearn.mixture import GaussianMixture

from voxclone.audio import Audio, detect_speech

SAMPLE_RATE = 16_000
#: 25 ms windows every 10 ms.
WINDOW, HOP = 400, 160
#: MFCCs 1-19 (c0, the loudness, is left out) plus their deltas.
N_MFCC = 20
#: Components of the background model, and MAP adaptation's relevance factor.
COMPONENTS = 64
RELEVANCE = 16.0


def features(audio: Audio) -> np.ndarray:
    """Frames of speech as ``(frames, 38)`` float64: MFCC 1-19 and deltas, each column
    normalised to zero mean and unit variance over the clip.

    Only frames inside Silero VAD's speech segments are kept, so pauses and the
    engine's silences do not count.

    Raises:
        ValueError: the clip holds under 0.5 s of speech.
    """
    clip = audio.resample(SAMPLE_RATE)
    samples = clip.samples.astype(np.float32)
    mfcc = librosa.feature.mfcc(y=samples, sr=SAMPLE_RATE, n_mfcc=N_MFCC, n_fft=512,
                                win_length=WINDOW, hop_length=HOP, n_mels=40)[1:]
    frames = np.vstack([mfcc, librosa.feature.delta(mfcc, width=9)]).T
    times = np.arange(len(frames)) * HOP / SAMPLE_RATE
    keep = np.zeros(len(frames), dtype=bool)
    for start, end in detect_speech(clip):
        keep |= (times >= start) & (times < end)
    frames = frames[keep]
    if len(frames) < 50:
        raise ValueError(f"{len(frames) / 100:.2f} s of speech; the GMM judge needs 0.5 s")
    return (frames - frames.mean(axis=0)) / (frames.std(axis=0) + 1e-8)


@dataclass(frozen=True)
class Background:
    """The universal background model: ``weights (C,)``, ``means (C, D)``,
    ``variances (C, D)`` of a diagonal GMM."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    @classmethod
    def train(cls, clips: Sequence[np.ndarray], components: int = COMPONENTS,
              seed: int = 0) -> Background:
        """EM on the frames of ``clips`` (each from :func:`features`)."""
        gmm = GaussianMixture(components, covariance_type="diag", max_iter=200,
                              reg_covar=1e-3, random_state=seed)
        gmm.fit(np.vstack(clips))
        return cls(gmm.weights_, gmm.means_, gmm.covariances_)

    def _component_loglik(self, frames: np.ndarray, means: np.ndarray) -> np.ndarray:
        """``(frames, C)``: log w_c + log N(x | mu_c, var_c)."""
        precision = 1.0 / self.variances
        const = (np.log(self.weights) - 0.5 * np.sum(np.log(2 * np.pi * self.variances),
                                                     axis=1))
        quad = ((frames ** 2) @ precision.T - 2 * frames @ (means * precision).T
                + np.sum(means ** 2 * precision, axis=1))
        return const - 0.5 * quad

    def adapt(self, frames: np.ndarray, relevance: float = RELEVANCE) -> np.ndarray:
        """A speaker's means, MAP-adapted from the background's on ``frames``
        (``(C, D)``; weights and variances stay the background's)."""
        loglik = self._component_loglik(frames, self.means)
        post = np.exp(loglik - np.logaddexp.reduce(loglik, axis=1, keepdims=True))
        counts = post.sum(axis=0)
        first = post.T @ frames / np.maximum(counts, 1e-10)[:, None]
        alpha = (counts / (counts + relevance))[:, None]
        return np.asarray(alpha * first + (1 - alpha) * self.means)

    def score(self, speaker_means: np.ndarray, frames: np.ndarray) -> float:
        """Mean per-frame log-likelihood ratio of ``frames`` under the speaker's model
        against the background."""
        speaker = np.logaddexp.reduce(self._component_loglik(frames, speaker_means), axis=1)
        background = np.logaddexp.reduce(self._component_loglik(frames, self.means), axis=1)
        return float(np.mean(speaker - background))
