"""A Wiener denoiser for stationary background noise (scipy only, no model).

The gain per time-frequency cell is the Wiener gain ``xi / (1 + xi)`` with the a-priori
SNR ``xi`` from the decision-directed rule (Ephraim & Malah, 1984), the noise power
being :class:`~voxclone.quality.measures.Spectrum`'s per-frequency estimate. A gain
floor keeps the residual noise natural rather than "musical".
"""

from __future__ import annotations

from typing import Final

import numpy as np

from voxclone.audio import Audio
from voxclone.quality.measures import ANALYSIS_RATE, Spectrum, istft
from voxclone.speaker.encoder import SpeakerEncoder

__all__ = ["denoised_embedding", "wiener_denoise"]

_SMOOTHING: Final[float] = 0.98  # decision-directed weight of the previous frame
_GAIN_FLOOR: Final[float] = 0.1  # -20 dB at most of attenuation
#: The noise estimate is scaled by this: a gentle filter. On the calibration speakers
#: x0.3 beat x1 (20 dB white noise: drop 0.08 vs 0.22; clean: 0.03 vs 0.05).
GENTLE: Final[float] = 0.3


def wiener_denoise(spec: Spectrum, noise_scale: float = GENTLE) -> Audio:
    """The clip of ``spec`` with its stationary noise attenuated.

    Args:
        spec: the clip's spectrum and noise estimate.
        noise_scale: multiplies the noise estimate (below 1: gentler, less distortion).

    Returns:
        16 kHz mono float32 ``Audio`` of the same length as the analysed clip.
    """
    noise = spec.noise * noise_scale
    gains = np.empty_like(spec.power)
    previous = np.zeros_like(noise)
    for t in range(spec.power.shape[1]):
        posterior = spec.power[:, t] / noise
        prior = _SMOOTHING * previous + (1 - _SMOOTHING) * np.maximum(posterior - 1.0, 0.0)
        gain = np.maximum(prior / (1.0 + prior), _GAIN_FLOOR)
        gains[:, t] = gain
        previous = gain**2 * posterior
    return Audio(istft(spec.stft * gains, spec.length), ANALYSIS_RATE)


def denoised_embedding(spec: Spectrum, encoder: SpeakerEncoder) -> np.ndarray:
    """The unit d-vector ``(256,)`` of the whole clip of ``spec`` through
    :func:`wiener_denoise`: what the noise compensation of d-vectors reads
    (:mod:`voxclone.speaker.noise_compensation`).

    Raises:
        NoSpeechError: the clip is too short to embed.
    """
    return encoder.embed(wiener_denoise(spec))
