"""The instant conditioning: a learned map from what a speaker sounds like to a style.

``train/style_map.py`` renders the probe sentence with thousands of random styles,
measures each rendering's GE2E d-vector and pitch/rate, and fits the inverse: a
ridge regression from those measures back to the style. Real speakers' d-vectors sit
apart from Kokoro's own, so the training script also calibrates, on LibriSpeech
speakers that the benchmark never clones, a shift of the inputs toward the synthetic
ones and a gain on the predicted offset.

Enrollment predicts a style from the speaker's d-vector and pitch statistics with
one matrix product, renders it once, and keeps it if it beats the stock-pack
mixture; the refinement at ``balanced``/``best`` starts from there.

``fast`` has no refinement, so its prediction also takes the step that a short
gradient ascent from the map takes on average for real speakers
(``train/style_drift.py``, on the same calibration speakers): the part of the domain
gap that is common to real voices, which the synthetic training data cannot show.
``balanced`` ascends from that drifted style too
(:data:`voxclone.clone.fit.DRIFT_EFFORTS`).
"""

from __future__ import annotations

import hashlib
import importlib.resources as resources
import logging
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from voxclone.audio.prosody import ProsodyStats

logger = logging.getLogger(__name__)

#: d-vector size plus log F0 median, log F0 range (semitones), log syllable rate.
FEATURES = 256 + 3


@dataclass(frozen=True)
class StyleMap:
    """Learned inverse of the probe rendering (``train/style_map.py``).

    Attributes:
        weights: ridge coefficients, ``(259, 256)``, standardised features -> style
            offset in ``style_scale`` units.
        input_mean, input_scale: standardisation of the features, ``(259,)`` each.
        style_mean, style_scale: the style is ``style_mean + offset * style_scale``,
            ``(256,)`` each.
        domain_shift: added to a real speaker's features before mapping, ``(259,)``.
        gain: multiplies the predicted offset (calibrated on real speakers).
        fast_drift: added to the style at ``fast`` and ``balanced``
            (``predict(..., drift=True)``; measured from ``fast``'s start, hence the name):
            the mean step of a short gradient ascent from the map's style for real
            speakers, times its calibrated gain, ``(256,)`` (zeros if not trained).
    """

    weights: np.ndarray
    input_mean: np.ndarray
    input_scale: np.ndarray
    style_mean: np.ndarray
    style_scale: np.ndarray
    domain_shift: np.ndarray
    gain: float
    fast_drift: np.ndarray = field(default_factory=lambda: np.zeros(256))

    def without_drift(self) -> StyleMap:
        """This map with no ``fast_drift`` (for benchmarks and its training script)."""
        return replace(self, fast_drift=np.zeros_like(self.fast_drift))

    def predict(self, embedding: np.ndarray, prosody: ProsodyStats | None = None,
                *, max_offset: float = 1.5, drift: bool = False) -> np.ndarray:
        """The probe's style for a speaker, float32 ``(256,)``.

        Args:
            embedding: the speaker's unit d-vector, ``(256,)``.
            prosody: the speaker's pitch and rate; without it (or with unmeasurable
                pitch) the training average stands in.
            max_offset: RMS per-dimension bound of the offset, in ``style_scale`` units.
            drift: add ``fast_drift`` (after the bound: it is a step from the bounded
                style, as the ascent took it).
        """
        features = features_of(embedding, prosody, fallback=self.input_mean)
        x = (features + self.domain_shift - self.input_mean) / self.input_scale
        offset = self.gain * (x @ self.weights)
        bound = max_offset * np.sqrt(offset.size)
        norm = float(np.linalg.norm(offset))
        if norm > bound:
            offset *= bound / norm
        style = self.style_mean + offset * self.style_scale
        if drift:
            style = style + self.fast_drift
        return np.asarray(style, dtype=np.float32)


def features_of(embedding: np.ndarray, prosody: ProsodyStats | None,
                fallback: np.ndarray) -> np.ndarray:
    """Map inputs ``(259,)``: the d-vector, then the log pitch/rate measures (the
    ``fallback``'s where ``prosody`` is missing or unmeasurable)."""
    logs = np.asarray(fallback[256:], dtype=np.float64).copy()
    if prosody is not None and prosody.f0_median > 0 and prosody.f0_p95 > prosody.f0_p5 \
            and prosody.syllable_rate > 0:
        logs = np.log([prosody.f0_median, prosody.f0_range_semitones, prosody.syllable_rate])
    return np.concatenate([np.asarray(embedding, dtype=np.float64).reshape(-1), logs])


@lru_cache(maxsize=1)
def load_style_map(probe_text: str) -> StyleMap | None:
    """The shipped :class:`StyleMap` for ``probe_text``, or None (with a warning) when
    it is missing or was trained for another probe sentence."""
    path = resources.files("voxclone.clone") / "data" / "style_map.npz"
    try:
        with path.open("rb") as handle, np.load(handle) as data:
            if str(data["probe_sha256"]) != hashlib.sha256(probe_text.encode()).hexdigest():
                logger.warning("the learned style map is for another probe sentence; "
                               "enrollment falls back to the pack mixture")
                return None
            arrays = {k: np.asarray(data[k], dtype=np.float64) for k in (
                "weights", "input_mean", "input_scale", "style_mean", "style_scale",
                "domain_shift")}
            gain = float(data["gain"])
            drift = np.asarray(data["fast_drift"], dtype=np.float64) \
                if "fast_drift" in data.files else np.zeros(256)
    except (FileNotFoundError, KeyError, ValueError, OSError):
        logger.warning("no learned style map found; enrollment falls back to the pack mixture")
        return None
    if arrays["weights"].shape != (FEATURES, 256) or drift.shape != (256,):
        logger.warning("the learned style map has the wrong shape; ignoring it")
        return None
    return StyleMap(gain=gain, fast_drift=drift, **arrays)
