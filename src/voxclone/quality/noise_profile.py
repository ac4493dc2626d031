"""A noisy reference's noise, kept so that a clone can be heard through it.

The noise compensation of d-vectors (:mod:`voxclone.speaker.noise_compensation`)
estimates the speaker's clean d-vector from a noisy one; what it gets wrong, the
identity fit copies. A second, independent view of the speaker needs no estimate: a
clone with the *same* noise added should sound to the encoder like the reference as
recorded. :class:`NoiseProfile` keeps what that takes - the reference's d-vector as
heard, the noise's spectrum and its level under the speech - and makes such noise for
any clone (:meth:`NoiseProfile.noise_for`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voxclone.audio import VAD_SAMPLE_RATE, Audio, detect_speech
from voxclone.quality.measures import Spectrum, istft, spectrum, stft

__all__ = ["NoiseProfile", "noise_profile"]

_HOP = 256  # measures.stft's hop, samples at 16 kHz


@dataclass(frozen=True)
class NoiseProfile:
    """A reference clip's background noise, and its d-vector as the encoder heard it.

    Attributes:
        heard: the clip's d-vector with the noise in it (not compensated), float32
            ``(256,)``, unit norm.
        power: the noise power per frequency bin, float64 ``(257,)`` (the 16 kHz
            512-point STFT of :func:`voxclone.quality.measures.stft`).
        to_speech: the noise's power over the speech's (linear; 0.1 at 10 dB SNR).
    """

    heard: npt.NDArray[np.float32]
    power: npt.NDArray[np.float64]
    to_speech: float

    def noise_for(self, speech: Audio, rng: np.random.Generator) -> npt.NDArray[np.float32]:
        """Noise shaped like this one, as loud under ``speech`` as it was under the
        reference's speech: float32 ``(len(speech),)`` at ``speech``'s sample rate (only
        the band under 8 kHz, which the speaker encoder hears). The level is set by
        ``speech``'s speech frames (all its frames if the VAD finds none).
        """
        speech16k = speech.resample(VAD_SAMPLE_RATE)
        heard = spectrum(speech16k, detect_speech(speech16k))
        voiced = heard.power[:, heard.speech] if heard.speech.any() else heard.power
        speech_power = float(np.mean(voiced.sum(axis=0)))
        n = round(speech.duration * VAD_SAMPLE_RATE)
        shape = (len(self.power), n // _HOP + 3)
        cells = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        noise = istft(cells * np.sqrt(self.power / 2)[:, None], n)
        # Level by measurement, not by formula: the STFT round trip rescales power.
        made_power = float(np.mean((np.abs(stft(noise)) ** 2).sum(axis=0)))
        gain = np.sqrt(self.to_speech * speech_power / made_power)
        out = Audio((noise * gain).astype(np.float32), VAD_SAMPLE_RATE)
        samples = out.resample(speech.sample_rate).samples
        return np.resize(samples, len(speech)).astype(np.float32)


def noise_profile(spec: Spectrum, heard: npt.ArrayLike, snr_db: float) -> NoiseProfile:
    """The profile of a clip from its spectrum (with its noise estimate), its d-vector
    as heard (``(256,)``) and its estimated SNR in dB
    (:func:`~voxclone.quality.measures.estimate_snr`, finite), which sets the noise's
    level under the speech."""
    return NoiseProfile(np.asarray(heard, dtype=np.float32), spec.noise.copy(),
                        10 ** (-snr_db / 10))
