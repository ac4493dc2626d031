"""Blind estimate of a recording's reverberation from how its syllables end.

A syllable that stops in a dry room falls away within a few tens of milliseconds; in a
reverberant room its sound dies away at the room's rate, 60 dB per reverberation time
(RT60). Each band's energy envelope (5 bands, 250 Hz-7 kHz, 4 ms hop) is scanned for
peaks well above the clip's floor; for each, the time its energy takes to fall from
10 dB to 25 dB below the peak (before the next syllable starts) is a free decay of 15
dB, so four times its median estimates RT60. Where the echo keeps the sound from ever
falling 25 dB between syllables, few decays complete and the room is called very
reverberant (``math.inf``) - if the clip had syllables enough to tell.

It needs speech well above the noise: a noisy clip's floor hides the decays, and the
estimate is ``None`` ("can't tell") there, as it is for a clip with too few syllables.
Validated on LibriSpeech speech convolved with synthetic room responses
(``bench/reverb.py``, ``bench/results/reverb.md``).
"""

from __future__ import annotations

import itertools
import math
from typing import Final

import numpy as np
from scipy import signal
from scipy.ndimage import maximum_filter1d

from voxclone.audio import Audio

__all__ = ["estimate_reverb"]

_RATE: Final[int] = 16_000
_WINDOW: Final[int] = 256  # 16 ms
_HOP: Final[int] = 64  # 4 ms
_BANDS_HZ: Final[tuple[float, ...]] = (250.0, 500.0, 1000.0, 2000.0, 4000.0, 7000.0)
#: The band's floor: this percentile of its frames' levels (dB).
_FLOOR_PERCENTILE: Final[float] = 5.0
#: A peak must stand this far above the floor, so that a 25 dB fall stays above it.
_PEAK_ABOVE_FLOOR_DB: Final[float] = 35.0
#: A peak is the loudest frame within this many seconds either side.
_PEAK_HALF_WIDTH_S: Final[float] = 0.04
#: The free decay measured: from this many dB below the peak ...
_DECAY_FROM_DB: Final[float] = 10.0
#: ... to this many (the early fall holds the direct sound, so it is skipped).
_DECAY_TO_DB: Final[float] = 25.0
#: A rise of this much above the lowest level since the peak is the next syllable.
_ONSET_RISE_DB: Final[float] = 3.0
#: Decays longer than this are not followed.
_MAX_DECAY_S: Final[float] = 0.5
#: Fewer peaks than this: the clip cannot tell (too short, or too noisy).
MIN_PEAKS: Final[int] = 40
#: The median needs this many completed decays ...
MIN_DECAYS: Final[int] = 10
#: ... and with fewer, under this share of the peaks completing one is a very
#: reverberant room (dry speech completes about half; RT60 0.8 s almost none).
MIN_DECAY_SHARE: Final[float] = 0.08


def _band_levels(audio: Audio) -> np.ndarray:
    """Energy envelopes in dB, ``(bands, frames)`` at a 4 ms hop."""
    samples = audio.resample(_RATE).samples.astype(np.float64)
    freqs, _, z = signal.stft(samples, fs=_RATE, nperseg=_WINDOW, noverlap=_WINDOW - _HOP)
    power = np.abs(z) ** 2
    return np.stack([10 * np.log10(power[(freqs >= lo) & (freqs < hi)].sum(axis=0) + 1e-12)
                     for lo, hi in itertools.pairwise(_BANDS_HZ)])


def _decays(levels: np.ndarray) -> tuple[int, list[float]]:
    """(peaks seen, seconds of each completed 10-to-25 dB fall) over all bands."""
    hop_s = _HOP / _RATE
    half = round(_PEAK_HALF_WIDTH_S / hop_s)
    longest = round(_MAX_DECAY_S / hop_s)
    peaks = 0
    times: list[float] = []
    for band in levels:
        floor = float(np.percentile(band, _FLOOR_PERCENTILE))
        local_max = maximum_filter1d(band, size=2 * half + 1, mode="nearest")
        candidates = np.flatnonzero((band >= local_max)
                                    & (band >= floor + _PEAK_ABOVE_FLOOR_DB)).tolist()
        level: list[float] = band.tolist()  # plain floats: the loop below is scalar
        last = -half
        for i in candidates:
            if i - last <= half:  # one peak per plateau
                continue
            last = i
            peaks += 1
            peak = level[i]
            lowest, start = peak, None
            for m in range(i + 1, min(len(level), i + longest)):
                if level[m] > lowest + _ONSET_RISE_DB:
                    break
                lowest = min(lowest, level[m])
                if start is None and level[m] <= peak - _DECAY_FROM_DB:
                    start = m
                if level[m] <= peak - _DECAY_TO_DB:
                    times.append((m - (start if start is not None else m)) * hop_s)
                    break
    return peaks, times


def estimate_reverb(audio: Audio) -> float | None:
    """Estimated reverberation time (RT60) of a speech recording, in seconds.

    Args:
        audio: the recording, any sample rate (resampled to 16 kHz here).

    Returns:
        Seconds (dry speech reads about 0.1 s: even a dry syllable takes time to end);
        ``math.inf`` when the echo leaves almost no syllable end free (very
        reverberant); ``None`` when the clip cannot tell (too few syllables well above
        its noise: short or noisy).
    """
    if audio.duration < 0.5:
        return None
    peaks, times = _decays(_band_levels(audio))
    if peaks < MIN_PEAKS:
        return None
    if len(times) < MIN_DECAYS:
        return math.inf if len(times) < MIN_DECAY_SHARE * peaks else None
    rt60_per_db = 60.0 / (_DECAY_TO_DB - _DECAY_FROM_DB)
    return float(np.median(times) * rt60_per_db)
