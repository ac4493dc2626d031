"""Noise compensation of d-vectors: a learned linear correction, scaled by the SNR.

Background noise and babble in a reference do not scatter its d-vector at random: they
pull it in ways the encoder shares across speakers (hiss, hum or a babble of other
voices sounds alike to it whoever is talking). Left in, that pull is cloned: the engine
faithfully imitates "this speaker in a crowd", and the clone sounds like someone else
(white noise at 10 dB cost 0.25 of normalised similarity; replacing the noisy d-vector
by the clean one gave nearly all of it back).

:class:`NoiseCompensation` predicts the pull from a starting d-vector, and from where
the gate's Wiener denoiser moves it, and takes it out:
``clean ~ start + [start, denoised - start, 1] @ W``, a ridge regression learned by
``train/noise_compensation.py`` on the calibration speakers (white, pink and brown
noise and babble at 5-22 dB), in proportion to how noisy the gate measured the clip - fully below
``full_below_db`` of estimated SNR, not at all from ``none_above_db`` up (the SNR the
gate calls good, 25 dB), so a reference with no noise warning is enrolled exactly as
the encoder heard it. The result is kept non-negative, as every GE2E d-vector is.

Two models ship. The default starts from the d-vector of the clip run through
DeepFilterNet3 (:mod:`voxclone.quality.deep_filter`), which removes most of the noise
before the correction has to; the other starts from the noisy d-vector itself and is
used where DeepFilterNet's runtime is not available (or fails on a clip), and above
:data:`FILTERED_BELOW_DB` (a benchmarks' setting; as shipped it is where the correction
ends, so never).
"""

from __future__ import annotations

import importlib.resources as resources
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from voxclone.errors import VoxcloneError
from voxclone.speaker.encoder import EMBEDDING_DIM, GE2EEncoder, SpeakerEncoder

__all__ = ["ENCODER_ID", "FILTERED", "FILTERED_BELOW_DB", "HEARD", "Embedding",
           "NoiseCompensation", "compensate_noise", "features", "load_noise_compensation",
           "uses_filtered"]

#: Gives a d-vector ``(256,)`` when asked (computed only when a correction needs it).
Embedding = Callable[[], npt.ArrayLike]

logger = logging.getLogger(__name__)

#: The encoder the correction was learned for: it means nothing for another one.
ENCODER_ID = "resemblyzer-ge2e-256"

#: The shipped models, in ``voxclone/speaker/data``: from the noisy d-vector, and from
#: the DeepFilterNet3-filtered one.
MODEL_FILE = "noise_compensation.npz"
FILTERED_MODEL_FILE = "noise_compensation_deep_filter.npz"
#: What a correction starts from: the d-vector as heard, or as DeepFilterNet filtered it.
HEARD, FILTERED = "heard", "deep_filtered"
#: Estimated SNR (dB) under which the correction starts from DeepFilterNet's d-vector;
#: as shipped, the whole of the correction's ramp (the gate's noise warning, 25 dB). Its
#: noise floor (15 dB) was tried on 7 Dec and not kept: on the calibration speakers'
#: clones at 15-25 dB, DeepFilterNet's start gained +0.03 to +0.07 with noise or babble
#: added and lost -0.013 +- 0.015 on their real recordings
#: (``bench/results/deep_filter_start.md``).
FILTERED_BELOW_DB = 25.0


def features(noisy: npt.ArrayLike, denoised: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The regression's inputs: ``[noisy, denoised - noisy, 1]``, ``(n, 513)`` for d-vectors
    ``(n, 256)`` (or ``(513,)`` for one); ``noisy`` is the starting d-vector (the clip's
    as heard or as filtered)."""
    a = np.asarray(noisy, dtype=np.float64)
    b = np.asarray(denoised, dtype=np.float64)
    return np.concatenate([a, b - a, np.ones((*a.shape[:-1], 1))], axis=-1)


@dataclass(frozen=True)
class NoiseCompensation:
    """A learned correction of noisy d-vectors and how much of it applies at an SNR.

    Attributes:
        weights: float ``(513, 256)``: rows 0-255 map a d-vector, rows 256-511 the
            difference its denoised clip makes, to its noise pull (negated); row 512 is
            the constant term. ``(257, 256)`` (the first version: no denoised rows) is
            still read.
        full_below_db: estimated SNR (dB) at and below which the full correction applies.
        none_above_db: estimated SNR at and above which the d-vector is left as it is.
        start: which d-vector the correction starts from: ``HEARD`` (the clip's) or
            ``FILTERED`` (the clip's through DeepFilterNet3).
    """

    weights: npt.NDArray[np.floating]
    full_below_db: float
    none_above_db: float
    start: str = HEARD

    def __post_init__(self) -> None:
        if self.weights.shape not in ((2 * EMBEDDING_DIM + 1, EMBEDDING_DIM),
                                      (EMBEDDING_DIM + 1, EMBEDDING_DIM)):
            raise ValueError(f"weights must be ({2 * EMBEDDING_DIM + 1}, {EMBEDDING_DIM}) or "
                             f"({EMBEDDING_DIM + 1}, {EMBEDDING_DIM}), got {self.weights.shape}")
        if not self.none_above_db > self.full_below_db:
            raise ValueError("none_above_db must be above full_below_db")
        if self.start not in (HEARD, FILTERED):
            raise ValueError(f"start must be {HEARD!r} or {FILTERED!r}, got {self.start!r}")
        if self.start == FILTERED and not self.uses_denoised:
            raise ValueError("a correction from the filtered d-vector needs the denoised rows")

    def weight(self, snr_db: float) -> float:
        """How much of the correction applies at ``snr_db``: 1 when noisy, 0 when clean
        (and for a non-finite estimate)."""
        if not np.isfinite(snr_db):
            return 0.0
        span = self.none_above_db - self.full_below_db
        return float(np.clip((self.none_above_db - snr_db) / span, 0.0, 1.0))

    @property
    def uses_denoised(self) -> bool:
        """Whether the correction needs the denoised clip's d-vector."""
        return bool(self.weights.shape[0] == 2 * EMBEDDING_DIM + 1)

    def correction(self, embedding: npt.ArrayLike,
                   denoised: npt.ArrayLike | None = None) -> npt.NDArray[np.float64]:
        """The full correction ``(256,)`` to add to ``embedding`` (``(256,)``), given the
        d-vector of the same clip denoised (``(256,)``; needed when
        :attr:`uses_denoised`).

        Raises:
            ValueError: ``denoised`` is needed and missing.
        """
        vector = np.asarray(embedding, dtype=np.float64).reshape(-1)
        if not self.uses_denoised:
            return np.asarray(vector @ self.weights[:-1] + self.weights[-1])
        if denoised is None:
            raise ValueError("this noise compensation needs the denoised clip's d-vector")
        return np.asarray(features(vector, np.asarray(denoised).reshape(-1)) @ self.weights)

    def apply(self, embedding: npt.ArrayLike, snr_db: float,
              denoised: npt.ArrayLike | None = None,
              filtered: npt.ArrayLike | None = None) -> npt.NDArray[np.float32]:
        """``embedding`` (unit, ``(256,)``) with the noise pull taken out; float32, unit
        norm: ``(1 - w) * embedding + w * (start + correction(start))``, ``w`` of
        :meth:`weight`. Returned unchanged (as float32) when ``snr_db`` is at or above
        ``none_above_db``, or when the correction would leave nothing. ``denoised`` as
        in :meth:`correction`; ``filtered``: the clip's d-vector through DeepFilterNet3
        ``(256,)``, the start of a ``FILTERED`` correction.

        Raises:
            ValueError: ``denoised``, or for a ``FILTERED`` correction ``filtered``, is
                needed and missing.
        """
        vector = np.asarray(embedding, dtype=np.float64).reshape(-1)
        weight = self.weight(snr_db)
        if weight == 0.0:
            return vector.astype(np.float32)
        if self.start == FILTERED and filtered is None:
            raise ValueError("this noise compensation needs the filtered clip's d-vector")
        if self.start == HEARD:
            moved = vector + weight * self.correction(vector, denoised)
        else:
            start = np.asarray(filtered, dtype=np.float64).reshape(-1)
            moved = (1.0 - weight) * vector + weight * (start + self.correction(start,
                                                                               denoised))
        # GE2E d-vectors are non-negative (the encoder ends in a ReLU): keep the result
        # among them.
        corrected = np.maximum(moved, 0.0)
        norm = float(np.linalg.norm(corrected))
        if not np.isfinite(norm) or norm == 0.0:
            return vector.astype(np.float32)
        return (corrected / norm).astype(np.float32)


@lru_cache(maxsize=2)
def load_noise_compensation(start: str = HEARD) -> NoiseCompensation | None:
    """The shipped correction from the ``start`` d-vector (``HEARD`` or ``FILTERED``),
    or None (with a warning) when it is missing or damaged."""
    name = MODEL_FILE if start == HEARD else FILTERED_MODEL_FILE
    path = resources.files("voxclone.speaker") / "data" / name
    try:
        with path.open("rb") as handle, np.load(handle) as data:
            if str(data["encoder"]) != ENCODER_ID:
                logger.warning("the noise compensation is for another speaker encoder; "
                               "noisy references are not compensated")
                return None
            stored = str(data["start"]) if "start" in data.files else HEARD
            if stored != start:
                raise ValueError(f"{name} starts from {stored}, not {start}")
            return NoiseCompensation(np.asarray(data["weights"], dtype=np.float64),
                                     float(data["full_below_db"]),
                                     float(data["none_above_db"]), stored)
    except (FileNotFoundError, KeyError, ValueError, OSError):
        logger.warning("no usable noise compensation found (%s); noisy references are "
                       "compensated less well, or not at all", name)
        return None


def uses_filtered(snr_db: float, encoder: SpeakerEncoder | None = None) -> bool:
    """Whether :func:`compensate_noise` asks a clip at ``snr_db`` for its DeepFilterNet
    d-vector: the encoder's is GE2E's (or None), the shipped ``FILTERED`` model loads,
    and the clip is noisy enough to be corrected (its pitch level is measured on the
    filtered audio even where :data:`FILTERED_BELOW_DB` leaves its d-vector unused).
    The analysis starts the filter early on such a clip
    (:func:`voxclone.quality.deep_filter.start_deep_filter`)."""
    return _filtered_model(snr_db, encoder) is not None


def _filtered_model(snr_db: float,
                    encoder: SpeakerEncoder | None = None) -> NoiseCompensation | None:
    if encoder is not None and not isinstance(encoder, GE2EEncoder):
        return None
    compensation = load_noise_compensation(FILTERED)
    return compensation if compensation is not None and compensation.weight(snr_db) > 0.0 \
        else None


def compensate_noise(embedding: npt.ArrayLike, snr_db: float,
                     encoder: SpeakerEncoder | None = None, *,
                     denoised: Embedding,
                     filtered: Embedding | None = None) -> npt.NDArray[np.float32]:
    """:meth:`NoiseCompensation.apply` with the shipped model (identity without it).

    Args:
        embedding: unit d-vector of a recording's speech, ``(256,)``.
        snr_db: the quality gate's SNR estimate for that recording (dB).
        encoder: the encoder that made ``embedding`` (default: GE2E's); the correction
            is learned on GE2E d-vectors, so another encoder's are returned unchanged.
        denoised: gives the d-vector of the whole recording through the gate's Wiener
            denoiser (:func:`voxclone.quality.denoise.denoised_embedding`); called only
            when the recording is noisy enough to be corrected.
        filtered: gives the d-vector of the recording through DeepFilterNet3
            (:func:`voxclone.quality.deep_filter.deep_filtered_embedding`), the start of
            the correction under :data:`FILTERED_BELOW_DB`; called only there. None
            (DeepFilterNet unavailable), or a call that raises a
            :class:`~voxclone.errors.VoxcloneError`, falls back to the correction from
            the noisy d-vector.

    Returns:
        float32 unit vector ``(256,)``.
    """
    if encoder is not None and not isinstance(encoder, GE2EEncoder):
        return np.asarray(embedding, dtype=np.float32).reshape(-1)
    from_filtered = (_filtered_model(snr_db)
                     if filtered is not None and snr_db < FILTERED_BELOW_DB else None)
    if from_filtered is not None and filtered is not None:
        try:
            start = filtered()
        except VoxcloneError as exc:
            logger.info("no DeepFilterNet d-vector for a noisy clip (%s); it is "
                        "compensated from its noisy d-vector", exc)
        else:
            return from_filtered.apply(embedding, snr_db, denoised(), start)
    compensation = load_noise_compensation(HEARD)
    if compensation is None or compensation.weight(snr_db) == 0.0:
        return np.asarray(embedding, dtype=np.float32).reshape(-1)
    return compensation.apply(embedding, snr_db,
                              denoised() if compensation.uses_denoised else None)
