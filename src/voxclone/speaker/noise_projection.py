"""Noise compensation of d-vectors by nuisance-attribute projection (NAP).

Background noise and babble in a reference do not scatter its d-vector at random: they
pull it along a few directions shared by every speaker (the encoder hears a babble of
other voices, or hiss, much the same whoever is talking). Left in, that pull is
cloned: the engine faithfully imitates "this speaker in a crowd", and the clone sounds
like someone else (babble at 10 dB cost 0.2 of normalised similarity; replacing the
noisy d-vector by the clean one gave it all back).

:class:`NoiseProjection` removes it: along each learned direction the d-vector's
component is brought back to the clean population's mean (along the first, the mean
shift, only an excess is removed), in proportion to how noisy the gate measured the
clip - fully below ``full_below_db`` of estimated SNR, not at all from
``none_above_db`` up (the SNR the gate calls good, 25 dB), so a reference with no noise
warning is enrolled exactly as the encoder heard it - and the result is kept
non-negative, as every GE2E d-vector is. The directions are
learned by ``train/noise_directions.py`` on calibration speakers.
"""

from __future__ import annotations

import importlib.resources as resources
import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from voxclone.speaker.encoder import EMBEDDING_DIM

__all__ = ["ENCODER_ID", "NoiseProjection", "compensate_noise", "load_noise_projection"]

logger = logging.getLogger(__name__)

#: The encoder the directions were learned for: they mean nothing for another one.
ENCODER_ID = "resemblyzer-ge2e-256"


@dataclass(frozen=True)
class NoiseProjection:
    """Learned noise directions and how much to remove at a given SNR.

    Attributes:
        basis: orthonormal noise directions, float ``(k, 256)``; the first is the mean
            shift noise causes.
        clean_mean: the clean references' mean component along each, ``(k,)``.
        full_below_db: estimated SNR (dB) at and below which the full correction applies.
        none_above_db: estimated SNR at and above which the d-vector is left as it is.
    """

    basis: npt.NDArray[np.floating]
    clean_mean: npt.NDArray[np.floating]
    full_below_db: float
    none_above_db: float

    def weight(self, snr_db: float) -> float:
        """How much of the correction applies at ``snr_db``: 1 when noisy, 0 when clean."""
        if not np.isfinite(snr_db):
            return 0.0
        span = self.none_above_db - self.full_below_db
        return float(np.clip((self.none_above_db - snr_db) / span, 0.0, 1.0))

    def apply(self, embedding: npt.ArrayLike, snr_db: float) -> npt.NDArray[np.float32]:
        """``embedding`` (unit, ``(256,)``) with the noise pull removed; float32, unit norm.

        Returned unchanged (as float32) when ``snr_db`` is at or above ``none_above_db``.
        """
        vector = np.asarray(embedding, dtype=np.float64).reshape(-1)
        weight = self.weight(snr_db)
        if weight == 0.0:
            return vector.astype(np.float32)
        excess = self.basis @ vector - self.clean_mean
        # Along the mean-shift direction a clip that already leans less than clean
        # speech does is not pushed further: only the noise's pull is undone.
        excess[0] = max(excess[0], 0.0)
        corrected = vector - weight * (excess @ self.basis)
        # GE2E d-vectors are non-negative (the encoder ends in a ReLU): keep the result
        # among them (on the calibration speakers this also brings it closer).
        corrected = np.maximum(corrected, 0.0)
        norm = float(np.linalg.norm(corrected))
        if not np.isfinite(norm) or norm == 0.0:
            return vector.astype(np.float32)
        return (corrected / norm).astype(np.float32)


@lru_cache(maxsize=1)
def load_noise_projection() -> NoiseProjection | None:
    """The shipped projection, or None (with a warning) when it is missing or damaged."""
    path = resources.files("voxclone.speaker") / "data" / "noise_directions.npz"
    try:
        with path.open("rb") as handle, np.load(handle) as data:
            if str(data["encoder"]) != ENCODER_ID:
                logger.warning("the noise directions are for another speaker encoder; "
                               "noisy references are not compensated")
                return None
            basis = np.asarray(data["basis"], dtype=np.float64)
            clean_mean = np.asarray(data["clean_mean"], dtype=np.float64)
            full, none = float(data["full_below_db"]), float(data["none_above_db"])
    except (FileNotFoundError, KeyError, ValueError, OSError):
        logger.warning("no noise directions found; noisy references are not compensated")
        return None
    if basis.ndim != 2 or basis.shape[1] != EMBEDDING_DIM or clean_mean.shape != basis.shape[:1] \
            or not none > full:
        logger.warning("the noise directions are malformed; noisy references are not "
                       "compensated")
        return None
    return NoiseProjection(basis, clean_mean, full, none)


def compensate_noise(embedding: npt.ArrayLike, snr_db: float) -> npt.NDArray[np.float32]:
    """:meth:`NoiseProjection.apply` with the shipped directions (identity without them).

    Args:
        embedding: unit d-vector of a reference's speech, ``(256,)``.
        snr_db: the quality gate's SNR estimate for that reference (dB).

    Returns:
        float32 unit vector ``(256,)``.
    """
    projection = load_noise_projection()
    if projection is None:
        return np.asarray(embedding, dtype=np.float32).reshape(-1)
    return projection.apply(embedding, snr_db)
