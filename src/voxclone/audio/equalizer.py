"""Long-term spectrum in bands, and a streaming equaliser that reshapes it.

Used to give a cloned voice its speaker's overall tone (:mod:`voxclone.clone.tone_match`):
the band levels of two recordings are compared, and the difference becomes a smooth
minimum-phase FIR filter applied chunk by chunk, with its state carried over, so a
streamed voice sounds the same as one rendered in one piece.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.signal import lfilter, minimum_phase, spectrogram

from voxclone.audio.types import Audio

#: Edges of the 32 analysis bands, Hz: log-spaced over what 16 kHz speech holds.
BAND_EDGES_HZ = np.geomspace(100.0, 7600.0, 33)
BAND_CENTRES_HZ = np.sqrt(BAND_EDGES_HZ[:-1] * BAND_EDGES_HZ[1:])
ANALYSIS_RATE = 16_000
#: A band's noise floor: this percentile of its 64 ms frames' power.
NOISE_PERCENTILE = 10
#: Taking the noise floor out lowers a band by at most this much, dB.
MAX_NOISE_CUT_DB = 20.0


def _band_frames(audio: Audio) -> np.ndarray:
    """Power per band and 64 ms frame (Hann, half overlap) at 16 kHz, float64
    ``(32, frames)``; NaN rows for bands no frequency bin falls in."""
    samples = audio.resample(ANALYSIS_RATE).samples.astype(np.float64)
    nperseg = min(1024, len(samples))
    freqs, _, power = spectrogram(samples, ANALYSIS_RATE, window="hann", nperseg=nperseg,
                                  noverlap=nperseg // 2, mode="psd")
    bands = np.full((len(BAND_CENTRES_HZ), power.shape[1]), np.nan)
    for k, (low, high) in enumerate(itertools.pairwise(BAND_EDGES_HZ)):
        inside = (freqs >= low) & (freqs < high)
        if inside.any():
            bands[k] = power[inside].mean(axis=0)
    return bands


def _to_db(power: np.ndarray) -> np.ndarray:
    """Band powers in dB; -120 dB for a band that holds no frequency bin."""
    return np.where(np.isnan(power), -120.0, 10.0 * np.log10(np.nan_to_num(power) + 1e-12))


def band_levels(audio: Audio) -> np.ndarray:
    """Mean power per band of a clip (best: speech only), dB, float64 ``(32,)``.

    The clip is analysed at 16 kHz (Welch: the mean of 64 ms Hann frames).
    """
    return _to_db(_band_frames(audio).mean(axis=1))


def speech_band_levels(audio: Audio) -> np.ndarray:
    """:func:`band_levels` with each band's noise floor taken out, dB, float64 ``(32,)``.

    The floor is a band's quiet frames' power (its 10th percentile over 64 ms frames:
    in speech trimmed to its voice, those are the closures and breaths a steady noise
    fills); its power is subtracted from the band's mean, by at most 20 dB. Hiss or a
    babble of voices under a reference otherwise counts as the speaker's tone.
    """
    frames = _band_frames(audio)
    mean = frames.mean(axis=1)
    floor = np.percentile(frames, NOISE_PERCENTILE, axis=1)
    return _to_db(np.maximum(mean - floor, mean * 10.0 ** (-MAX_NOISE_CUT_DB / 10.0)))


def gain_curve(gains_db: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Linear gain at ``freqs`` (Hz) for band gains ``(32,)`` in dB, interpolated on a
    log-frequency axis; below the first band and above the last the end gains hold."""
    log_f = np.log(np.maximum(freqs, 1.0))
    db = np.interp(log_f, np.log(BAND_CENTRES_HZ), np.asarray(gains_db, dtype=np.float64))
    return np.asarray(10.0 ** (db / 20.0))


def design_fir(gains_db: np.ndarray, sample_rate: int, taps: int = 255) -> np.ndarray:
    """Minimum-phase FIR ``(taps // 2 + 1,)`` whose response follows ``gains_db``.

    Minimum phase keeps the filter's delay to a few samples, so speech onsets are not
    smeared and a stream needs no look-ahead.
    """
    n_fft = 4 * (taps + 1)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    # A linear-phase prototype with the squared response (minimum_phase halves it).
    magnitude = gain_curve(gains_db, freqs) ** 2
    prototype = np.fft.irfft(magnitude, n_fft)
    prototype = np.roll(prototype, taps // 2)[:taps] * np.hanning(taps)
    return np.asarray(minimum_phase(prototype, method="homomorphic"), dtype=np.float64)


class Equalizer:
    """Applies :func:`design_fir` to consecutive chunks of one stream.

    One instance per stream: it holds the filter's memory between chunks.
    """

    def __init__(self, gains_db: np.ndarray, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.fir = design_fir(gains_db, sample_rate)
        self._state = np.zeros(len(self.fir) - 1)

    def process(self, samples: np.ndarray) -> np.ndarray:
        """The next chunk, filtered: float32, same length as ``samples``."""
        if len(samples) == 0:  # lfilter refuses an empty block; the state carries on
            return np.zeros(0, dtype=np.float32)
        out, self._state = lfilter(self.fir, [1.0], samples.astype(np.float64),
                                   zi=self._state)
        return np.asarray(out, dtype=np.float32)

    def apply(self, audio: Audio) -> Audio:
        """A whole clip at this equaliser's rate, filtered (continues the stream)."""
        if audio.sample_rate != self.sample_rate:
            raise ValueError(f"equaliser runs at {self.sample_rate} Hz, "
                             f"audio is {audio.sample_rate} Hz")
        return Audio(self.process(audio.samples), audio.sample_rate)
