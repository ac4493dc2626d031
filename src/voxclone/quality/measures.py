"""Signal measures of a reference recording: SNR, bandwidth, clipping, loudness, other
sounds, reverberation.

Everything is measured at 16 kHz (the rate the VAD and the speaker encoder use) on a
short-time spectrum (32 ms Hann windows, 16 ms hop). The noise is the per-frequency
median power of the frames the VAD calls non-speech when there are enough of them,
else the per-frequency 10th percentile of all frames (a minimum-statistics floor),
each corrected to a mean for exponentially distributed cell powers.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import signal

from voxclone.audio import VAD_SAMPLE_RATE, Audio
from voxclone.quality.reverb import estimate_reverb

__all__ = [
    "ANALYSIS_RATE",
    "SignalMeasures",
    "Spectrum",
    "istft",
    "measure_signal",
    "spectrum",
    "stft",
]

ANALYSIS_RATE: Final[int] = VAD_SAMPLE_RATE
_NFFT: Final[int] = 512
_HOP: Final[int] = 256
_EPS: Final[float] = 1e-12
#: Non-speech frames needed (about 0.5 s) to take the noise from the pauses.
_MIN_NOISE_FRAMES: Final[int] = 30
#: Fallback noise floor: this percentile of every frame's power, per frequency.
_FLOOR_PERCENTILE: Final[float] = 10.0
#: A band is "carried" when its level is within this many dB of the loudest band.
_BAND_RANGE_DB: Final[float] = 50.0
#: Bands are judged 250 Hz wide.
_BAND_HZ: Final[float] = 250.0
#: A non-speech frame this far above the noise floor holds some other sound.
_OTHER_SOUND_DB: Final[float] = 15.0
#: A sample within this fraction of the clip's peak counts as clipped (flat tops).
_CLIP_RATIO: Final[float] = 0.995
SNR_CEILING_DB: Final[float] = 60.0


@dataclass(frozen=True)
class Spectrum:
    """Short-time power spectrum of a 16 kHz clip.

    Attributes:
        power: float64 array ``(bins, frames)``, ``|STFT|**2``; bins 0..8000 Hz.
        speech: bool array ``(frames,)``, frames the VAD calls speech.
        noise: float64 array ``(bins,)``, the estimated noise power per bin.
        stft: complex128 array ``(bins, frames)``, kept for the denoiser.
        length: samples of the clip the spectrum was taken from.
    """

    power: npt.NDArray[np.float64]
    speech: npt.NDArray[np.bool_]
    noise: npt.NDArray[np.float64]
    stft: npt.NDArray[np.complex128]
    length: int

    @property
    def frequencies(self) -> npt.NDArray[np.float64]:
        """Centre frequency of each bin in Hz, shape ``(bins,)``."""
        return np.linspace(0.0, ANALYSIS_RATE / 2, self.power.shape[0])


def stft(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.complex128]:
    """STFT of 16 kHz samples: ``(257, frames)`` complex, 512-point Hann, hop 256."""
    _, _, z = signal.stft(samples.astype(np.float64), fs=ANALYSIS_RATE, nperseg=_NFFT,
                          noverlap=_NFFT - _HOP, boundary="zeros", padded=True)
    return np.asarray(z, dtype=np.complex128)


def istft(z: npt.NDArray[np.complex128], length: int) -> npt.NDArray[np.float32]:
    """Inverse of :func:`stft`, cut or padded to ``length`` samples (float32)."""
    _, x = signal.istft(z, fs=ANALYSIS_RATE, nperseg=_NFFT, noverlap=_NFFT - _HOP,
                        boundary=True)
    out = np.zeros(length, dtype=np.float32)
    n = min(length, len(x))
    out[:n] = x[:n]
    return out


def spectrum(audio16k: Audio, segments: list[tuple[float, float]]) -> Spectrum:
    """The short-time spectrum of a 16 kHz clip with the VAD's ``segments`` (seconds).

    Raises:
        ValueError: ``audio16k`` is not at 16 kHz (a programming error).
    """
    if audio16k.sample_rate != ANALYSIS_RATE:
        raise ValueError(f"spectrum() needs {ANALYSIS_RATE} Hz audio, got {audio16k.sample_rate}")
    z = stft(audio16k.samples)
    power = np.abs(z) ** 2
    times = np.arange(power.shape[1]) * _HOP / ANALYSIS_RATE
    speech = np.zeros(power.shape[1], dtype=bool)
    for start, end in segments:
        speech |= (times >= start) & (times <= end)
    # The power of noise in one cell is exponentially distributed: its median is ln 2
    # of its mean, its 10th percentile -ln 0.9; divide to estimate the mean.
    if np.count_nonzero(~speech) >= _MIN_NOISE_FRAMES:
        noise = np.median(power[:, ~speech], axis=1) / math.log(2)
    else:
        noise = (np.percentile(power, _FLOOR_PERCENTILE, axis=1)
                 / -math.log(1 - _FLOOR_PERCENTILE / 100))
    return Spectrum(power, speech, noise + _EPS, z, len(audio16k))


@dataclass(frozen=True)
class SignalMeasures:
    """What the signal of one clip measures.

    Attributes:
        snr_db: estimated speech-to-noise ratio in dB (capped at 60).
        bandwidth_hz: highest frequency the recording carries (at most 4000 for a
            phone line; 7000-8000 for a microphone recorded at 16 kHz or more).
        clipped_fraction: fraction of samples on flat tops at the clip's peak.
        loudness_lufs: integrated loudness of the recording as given (BS.1770).
        other_sound_seconds: non-speech time holding sound well above the noise floor
            (music, knocks, a TV...).
        reverb_s: estimated reverberation time (RT60, seconds;
            :func:`voxclone.quality.reverb.estimate_reverb`): ``inf`` for a very
            reverberant room, ``None`` when the clip cannot tell.
    """

    snr_db: float
    bandwidth_hz: float
    clipped_fraction: float
    loudness_lufs: float
    other_sound_seconds: float
    reverb_s: float | None = None


def estimate_snr(spec: Spectrum) -> float:
    """Speech-to-noise ratio in dB: speech-frame power above the noise, over the noise."""
    if not spec.speech.any():
        return -math.inf
    speech_power = spec.power[:, spec.speech].mean(axis=1)
    clean = np.maximum(speech_power - spec.noise, 0.0).sum()
    noise = spec.noise.sum()
    if clean <= 0:
        return -math.inf
    return float(min(SNR_CEILING_DB, 10 * math.log10(clean / noise)))


def estimate_bandwidth(spec: Spectrum) -> float:
    """Highest frequency (Hz) of a 250 Hz band whose speech-frame level is within 50 dB
    of the loudest band's: where the recording carries any signal at all.

    A phone line (8 kHz, 300-3400 Hz) gives at most 4000; noise does not lower it
    (noise fills the band), unlike a speech-over-noise criterion.
    """
    if not spec.speech.any():
        return 0.0
    freqs = spec.frequencies
    speech_power = spec.power[:, spec.speech].mean(axis=1)
    edges = np.arange(0.0, ANALYSIS_RATE / 2 + _BAND_HZ, _BAND_HZ)
    levels = []
    for lo, hi in itertools.pairwise(edges):
        band = speech_power[(freqs >= lo) & (freqs < hi)]
        levels.append((hi, 10 * math.log10(float(band.sum()) + _EPS)))
    top = max(level for _, level in levels)
    carried = [hi for hi, level in levels if level >= top - _BAND_RANGE_DB]
    return float(max(carried)) if carried else 0.0


def clipped_fraction(audio: Audio) -> float:
    """Fraction of samples (any rate) within 0.5 % of the clip's peak: flat, clipped tops.

    Unclipped speech reaches its peak in a handful of samples (about 1e-5 of them);
    a clipped recording sits there for runs of samples.
    """
    if len(audio) == 0:
        return 0.0
    magnitude = np.abs(audio.samples)
    peak = float(magnitude.max())
    if peak == 0.0:
        return 0.0
    return float(np.count_nonzero(magnitude >= _CLIP_RATIO * peak)) / len(audio)


def loudness(audio: Audio) -> float:
    """Integrated loudness in LUFS (pyloudnorm, BS.1770); ``-inf`` for silence or < 0.4 s."""
    import pyloudnorm

    if audio.duration < 0.4:
        return -math.inf
    with np.errstate(divide="ignore"):
        return float(pyloudnorm.Meter(audio.sample_rate).integrated_loudness(
            audio.samples.astype(np.float64)))


def other_sound_seconds(spec: Spectrum) -> float:
    """Seconds of non-speech frames 15 dB or more above the noise floor."""
    quiet = ~spec.speech
    if not quiet.any():
        return 0.0
    frame = spec.power[:, quiet].sum(axis=0)
    loud = frame > spec.noise.sum() * 10 ** (_OTHER_SOUND_DB / 10)
    return float(np.count_nonzero(loud)) * _HOP / ANALYSIS_RATE


def measure_signal(audio: Audio, spec: Spectrum) -> SignalMeasures:
    """All signal measures of one clip.

    Args:
        audio: the recording as given (any rate), for clipping and loudness.
        spec: :func:`spectrum` of the same recording at 16 kHz.
    """
    return SignalMeasures(
        snr_db=estimate_snr(spec),
        bandwidth_hz=estimate_bandwidth(spec),
        clipped_fraction=clipped_fraction(audio),
        loudness_lufs=loudness(audio),
        other_sound_seconds=other_sound_seconds(spec),
        reverb_s=estimate_reverb(audio),
    )
