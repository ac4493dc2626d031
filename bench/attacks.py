"""Signal attacks for the watermark benchmark: what audio goes through in the world.

Each attack takes float64 mono samples at ``rate`` and returns float64 at ``rate``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import lameenc
import numpy as np
import soundfile as sf
import soxr
from scipy import signal

Attack = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def mp3(bitrate: int) -> Attack:
    """Encode to MP3 at ``bitrate`` kbit/s with LAME and decode, delay removed."""
    def attack(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(bitrate)
        encoder.set_in_sample_rate(rate)
        encoder.set_channels(1)
        encoder.set_quality(2)
        pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16).tobytes()
        data = encoder.encode(pcm) + encoder.flush()
        y, got = sf.read(io.BytesIO(bytes(data)), dtype="float64")
        if got != rate:
            y = soxr.resample(y, got, rate)
        return _undelay(y, x)
    return attack


def _undelay(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Remove a codec's start delay (found by cross-correlation, up to 0.25 s)."""
    n = min(len(x), len(y), 4 * 24000)
    corr = signal.correlate(y[:n], x[: n // 2], mode="valid", method="fft")
    lag = int(np.argmax(corr[: min(len(corr), 6000)]))
    return y[lag: lag + len(x)]


def resample_through(mid: int) -> Attack:
    def attack(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(soxr.resample(soxr.resample(x, rate, mid), mid, rate))
    return attack


def white_noise(snr_db: float) -> Attack:
    def attack(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        power = np.mean(x ** 2) / 10 ** (snr_db / 10)
        return x + rng.normal(0.0, np.sqrt(power), len(x))
    return attack


def butterworth(kind: str, cutoff: float, order: int = 6) -> Attack:
    def attack(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        sos = signal.butter(order, cutoff, kind, fs=rate, output="sos")
        return np.asarray(signal.sosfiltfilt(sos, x))
    return attack


def gain(db: float) -> Attack:
    def attack(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        return x * 10 ** (db / 20)  # float audio: no clipping
    return attack


def crop(seconds: float) -> Attack:
    """A random ``seconds``-long excerpt."""
    def attack(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        n = int(seconds * rate)
        if len(x) <= n:
            return x
        start = int(rng.integers(0, len(x) - n))
        return x[start: start + n]
    return attack


def splice(other: Callable[[np.random.Generator, int, int], np.ndarray]) -> Attack:
    """The clip between two stretches (2-5 s) of unmarked speech from ``other``."""
    def attack(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        before = other(rng, rate, int(rng.uniform(2, 5) * rate))
        after = other(rng, rate, int(rng.uniform(2, 5) * rate))
        level = np.sqrt(np.mean(x ** 2) / (np.mean(before ** 2) + 1e-12))
        return np.concatenate([before * level, x, after * level])
    return attack


def speed(factor: float) -> Attack:
    """Play ``factor`` times faster (pitch moves too, as in a resampling speed change)."""
    def attack(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(soxr.resample(x, rate * factor, rate))
    return attack


def echo(delay_s: float = 0.1, level: float = 0.3) -> Attack:
    """One reflection ``delay_s`` later at amplitude ``level``."""
    def attack(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        d = int(delay_s * rate)
        y = x.copy()
        y[d:] += level * x[:-d]
        return y / max(1.0, float(np.max(np.abs(y))))
    return attack
