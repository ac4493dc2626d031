"""The acoustic fingerprint of an audio: 16 bits per 16 ms frame, from how the energies
of 17 bands (300-3400 Hz, the telephone band that every speech codec keeps) change
across frequency and time.

Each bit is the sign of the change, from one frame to the next, of the log-energy
difference between two adjacent bands: what a codec, a resampler, noise or a gain
change leave mostly in place, where the watermark's fine energy ratios are lost. Frames
far below the audio's loudest (pauses) carry no bits worth comparing and are marked
inactive.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import soxr


@dataclass(frozen=True)
class FingerprintConfig:
    """How fingerprints are cut (model config; a fingerprint is compared only with one
    cut the same way).

    Attributes:
        rate: the analysis rate (Hz).
        frame: samples per frame at ``rate`` (128 ms: long frames keep the bits stable
            through codecs).
        hop: samples between frames (16 ms).
        bands: log-spaced bands; ``bands - 1`` bits a frame (at most 16).
        low_hz, high_hz: the bands' range.
        floor_db: frames this far under the loudest frame are inactive.
    """

    rate: int = 8000
    frame: int = 1024
    hop: int = 128
    bands: int = 17
    low_hz: float = 300.0
    high_hz: float = 3400.0
    floor_db: float = 35.0

    def __post_init__(self) -> None:
        if not 2 <= self.bands <= 17:
            raise ValueError("a fingerprint frame holds 1-16 bits (2-17 bands)")
        if not 0 < self.low_hz < self.high_hz <= self.rate / 2:
            raise ValueError("the bands must lie between 0 Hz and half the analysis rate")
        if not 0 < self.hop <= self.frame:
            raise ValueError("the hop must be positive and at most a frame")

    @property
    def frame_seconds(self) -> float:
        """Seconds between frames."""
        return self.hop / self.rate


DEFAULT_CONFIG = FingerprintConfig()
#: Frames transformed at once.
BLOCK = 2048
#: Seconds of audio a whole file is fingerprinted by at a time.
CHUNK_SECONDS = 30


@dataclass(frozen=True)
class Fingerprint:
    """A fingerprint: ``words`` uint16 ``(n,)``, one frame's bits each (bit b: bands b
    and b+1), and ``active`` bool ``(n,)``, whether the frame is loud enough to compare.
    Frame i starts ``i * config.hop`` samples (at ``config.rate``) after the audio's
    first frame."""

    words: np.ndarray
    active: np.ndarray

    def __len__(self) -> int:
        return len(self.words)


class Fingerprinter:
    """Fingerprints audio that comes in chunks (a stream), or whole.

    ``push`` mono float chunks at ``sample_rate``; :meth:`result` gives the fingerprint
    of all of them joined. Only band energies are kept (17 floats per 16 ms), not the
    audio.
    """

    def __init__(self, sample_rate: int, config: FingerprintConfig = DEFAULT_CONFIG) -> None:
        if sample_rate < 8000:
            raise ValueError(f"fingerprints need audio at 8 kHz or more, got {sample_rate} Hz")
        self.config = config
        self._resampler = soxr.ResampleStream(sample_rate, config.rate, 1, dtype="float64")
        self._pending = np.zeros(0)
        self._energies: list[np.ndarray] = []
        self._weights = _band_weights(config)
        self._window = np.hanning(config.frame)

    def push(self, samples: np.ndarray) -> None:
        """Add the next chunk (float mono ``(n,)``)."""
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        self._take(self._resampler.resample_chunk(x))

    def result(self) -> Fingerprint:
        """The fingerprint of everything pushed (the stream ends here)."""
        self._take(self._resampler.resample_chunk(np.zeros(0), last=True))
        energies = np.concatenate(self._energies) if self._energies else \
            np.zeros((0, self.config.bands))
        return fingerprint_of_energies(energies, self.config)

    def _take(self, x8: np.ndarray) -> None:
        pending = np.concatenate([self._pending, x8])
        energies = band_energies(pending, self._window, self._weights, self.config)
        if len(energies):
            self._energies.append(energies)
        self._pending = pending[len(energies) * self.config.hop:]


def fingerprint(samples: np.ndarray, sample_rate: int,
                config: FingerprintConfig = DEFAULT_CONFIG) -> Fingerprint:
    """The fingerprint of float mono ``samples`` at ``sample_rate`` (>= 8 kHz)."""
    maker = Fingerprinter(sample_rate, config)
    step = CHUNK_SECONDS * sample_rate  # (an hour at once would be resampled whole)
    for first in range(0, len(samples), step):
        maker.push(samples[first:first + step])
    return maker.result()


def shifted_fingerprints(samples: np.ndarray, sample_rate: float, shifts: int,
                         config: FingerprintConfig = DEFAULT_CONFIG) -> list[Fingerprint]:
    """Fingerprints of ``samples`` with their frames started ``shifts`` evenly spaced
    sub-hop offsets apart (a clip cut anywhere lines up with one of them).
    ``sample_rate`` may be fractional: a clip played at another speed is read at its
    rate over that speed."""
    x8 = np.asarray(soxr.resample(np.asarray(samples, dtype=np.float64).reshape(-1),
                                  sample_rate, config.rate), dtype=np.float64)
    weights, window = _band_weights(config), np.hanning(config.frame)
    out = []
    for shift in range(shifts):
        energies = band_energies(x8[shift * config.hop // shifts:], window, weights, config)
        out.append(fingerprint_of_energies(energies, config))
    return out


def band_energies(x8: np.ndarray, window: np.ndarray, weights: np.ndarray,
                  config: FingerprintConfig) -> np.ndarray:
    """The band energies ``(count, bands)`` of every whole frame of ``x8`` (at the
    analysis rate) from its start (``count`` may be 0), ``BLOCK`` frames at a time (an
    hour's frames at once would take gigabytes)."""
    count = max(0, (len(x8) - config.frame) // config.hop + 1)
    out = np.zeros((count, config.bands))
    for first in range(0, count, BLOCK):
        frames = min(BLOCK, count - first)
        index = np.arange(config.frame)[None, :] + config.hop * (
            first + np.arange(frames))[:, None]
        power = np.abs(np.fft.rfft(x8[index] * window, axis=1)) ** 2
        out[first:first + frames] = power @ weights
    return out


def fingerprint_of_energies(energies: np.ndarray, config: FingerprintConfig) -> Fingerprint:
    """Bits and activity from band energies ``(n, bands)``: ``n - 1`` frames."""
    if len(energies) < 2:
        return Fingerprint(np.zeros(0, dtype=np.uint16), np.zeros(0, dtype=bool))
    level = np.log(energies + 1e-12)
    across = level[:, :-1] - level[:, 1:]
    bits = (across[1:] - across[:-1]) > 0
    words = (bits.astype(np.uint32) << np.arange(bits.shape[1], dtype=np.uint32)).sum(axis=1)
    loudness = 10.0 * np.log10(energies.sum(axis=1) + 1e-12)
    # (digital silence has no loudest frame to be under: -90 dB of full scale at least)
    loud = (loudness > loudness.max() - config.floor_db) & (loudness > -90.0 + _full_scale(config))
    return Fingerprint(words.astype(np.uint16), loud[1:] & loud[:-1])


def _full_scale(config: FingerprintConfig) -> float:
    """The band energy (dB) of a full-scale sine in the bands, roughly."""
    return float(10.0 * np.log10((config.frame / 4.0) ** 2))


def _band_weights(config: FingerprintConfig) -> np.ndarray:
    """``(frame // 2 + 1, bands)``: which FFT bins each band sums."""
    freqs = np.fft.rfftfreq(config.frame, 1.0 / config.rate)
    edges = np.geomspace(config.low_hz, config.high_hz, config.bands + 1)
    return np.stack([(freqs >= lo) & (freqs < hi) for lo, hi in itertools.pairwise(edges)],
                    axis=1).astype(np.float64)
