"""Noise compensation of d-vectors: a learned linear correction, scaled by the SNR.

Background noise and babble in a reference do not scatter its d-vector at random: they
pull it in ways the encoder shares across speakers (hiss, hum or a babble of other
voices sounds alike to it whoever is talking). Left in, that pull is cloned: the engine
faithfully imitates "this speaker in a crowd", and the clone sounds like someone else
(white noise at 10 dB cost 0.25 of normalised similarity; replacing the noisy d-vector
by the clean one gave nearly all of it back).

:class:`NoiseCompensation` predicts the pull from the noisy d-vector itself and takes
it out: ``clean ~ noisy + [noisy, 1] @ W``, a ridge regression learned by
``train/noise_compensation.py`` on the calibration speakers (white, pink and brown
noise and babble at 5-22 dB), in proportion to how noisy the gate measured the clip - fully below
``full_below_db`` of estimated SNR, not at all from ``none_above_db`` up (the SNR the
gate calls good, 25 dB), so a reference with no noise warning is enrolled exactly as
the encoder heard it. The result is kept non-negative, as every GE2E d-vector is.
"""

from __future__ import annotations

import importlib.resources as resources
import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from voxclone.speaker.encoder import EMBEDDING_DIM, GE2EEncoder, SpeakerEncoder

__all__ = ["ENCODER_ID", "NoiseCompensation", "compensate_noise", "load_noise_compensation"]

logger = logging.getLogger(__name__)

#: The encoder the correction was learned for: it means nothing for another one.
ENCODER_ID = "resemblyzer-ge2e-256"

#: The shipped model, in ``voxclone/speaker/data``.
MODEL_FILE = "noise_compensation.npz"


@dataclass(frozen=True)
class NoiseCompensation:
    """A learned correction of noisy d-vectors and how much of it applies at an SNR.

    Attributes:
        weights: float ``(257, 256)``: rows 0-255 map a d-vector to its noise pull
            (negated), row 256 is the constant term.
        full_below_db: estimated SNR (dB) at and below which the full correction applies.
        none_above_db: estimated SNR at and above which the d-vector is left as it is.
    """

    weights: npt.NDArray[np.floating]
    full_below_db: float
    none_above_db: float

    def __post_init__(self) -> None:
        if self.weights.shape != (EMBEDDING_DIM + 1, EMBEDDING_DIM):
            raise ValueError(f"weights must be ({EMBEDDING_DIM + 1}, {EMBEDDING_DIM}), "
                             f"got {self.weights.shape}")
        if not self.none_above_db > self.full_below_db:
            raise ValueError("none_above_db must be above full_below_db")

    def weight(self, snr_db: float) -> float:
        """How much of the correction applies at ``snr_db``: 1 when noisy, 0 when clean
        (and for a non-finite estimate)."""
        if not np.isfinite(snr_db):
            return 0.0
        span = self.none_above_db - self.full_below_db
        return float(np.clip((self.none_above_db - snr_db) / span, 0.0, 1.0))

    def correction(self, embedding: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The full correction ``(256,)`` to add to ``embedding`` (``(256,)``)."""
        vector = np.asarray(embedding, dtype=np.float64).reshape(-1)
        return np.asarray(vector @ self.weights[:-1] + self.weights[-1])

    def apply(self, embedding: npt.ArrayLike, snr_db: float) -> npt.NDArray[np.float32]:
        """``embedding`` (unit, ``(256,)``) with the noise pull taken out; float32, unit
        norm. Returned unchanged (as float32) when ``snr_db`` is at or above
        ``none_above_db``, or when the correction would leave nothing."""
        vector = np.asarray(embedding, dtype=np.float64).reshape(-1)
        weight = self.weight(snr_db)
        if weight == 0.0:
            return vector.astype(np.float32)
        # GE2E d-vectors are non-negative (the encoder ends in a ReLU): keep the result
        # among them.
        corrected = np.maximum(vector + weight * self.correction(vector), 0.0)
        norm = float(np.linalg.norm(corrected))
        if not np.isfinite(norm) or norm == 0.0:
            return vector.astype(np.float32)
        return (corrected / norm).astype(np.float32)


@lru_cache(maxsize=1)
def load_noise_compensation() -> NoiseCompensation | None:
    """The shipped correction, or None (with a warning) when it is missing or damaged."""
    path = resources.files("voxclone.speaker") / "data" / MODEL_FILE
    try:
        with path.open("rb") as handle, np.load(handle) as data:
            if str(data["encoder"]) != ENCODER_ID:
                logger.warning("the noise compensation is for another speaker encoder; "
                               "noisy references are not compensated")
                return None
            return NoiseCompensation(np.asarray(data["weights"], dtype=np.float64),
                                     float(data["full_below_db"]),
                                     float(data["none_above_db"]))
    except (FileNotFoundError, KeyError, ValueError, OSError):
        logger.warning("no usable noise compensation found (%s); noisy references are not "
                       "compensated", MODEL_FILE)
        return None


def compensate_noise(embedding: npt.ArrayLike, snr_db: float,
                     encoder: SpeakerEncoder | None = None) -> npt.NDArray[np.float32]:
    """:meth:`NoiseCompensation.apply` with the shipped model (identity without it).

    Args:
        embedding: unit d-vector of a recording's speech, ``(256,)``.
        snr_db: the quality gate's SNR estimate for that recording (dB).
        encoder: the encoder that made ``embedding`` (default: GE2E's); the correction
            is learned on GE2E d-vectors, so another encoder's are returned unchanged.

    Returns:
        float32 unit vector ``(256,)``.
    """
    compensation = load_noise_compensation()
    if compensation is None or (encoder is not None and not isinstance(encoder, GE2EEncoder)):
        return np.asarray(embedding, dtype=np.float32).reshape(-1)
    return compensation.apply(embedding, snr_db)
