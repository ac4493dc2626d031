"""Finding and removing one strong echo before reading the watermark again.

A reflection ``y[n] = x[n] + a x[n - d]`` mixes each cell's energy with that of the
cells ``d`` earlier, which carry other bits: in the quiet cells after loud speech the
echo dominates and those bits flip. The echo is easy to see and to undo, though: it
adds a peak of about ``a / 2`` at quefrency ``d`` to the real cepstrum of the whole
clip, far from the quefrencies of the voice's own pitch, and the inverse filter
``x[n] = y[n] - a x[n - d]`` is stable for ``|a| < 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

#: Echo delays looked for, in seconds (shorter ones overlap the voice's pitch).
MIN_DELAY_S = 0.02
MAX_DELAY_S = 0.40
#: A cepstral peak counts as an echo at this robust z-score (median/MAD of the
#: searched quefrencies). Clean speech peaks at 7-17 here, an echo at amplitude 0.3
#: at 66-130 (bench clips); weaker echoes do little harm to the mark.
MIN_ECHO_Z = 30.0
#: Gains estimated beyond this are clipped, keeping the inverse filter stable.
MAX_GAIN = 0.9


@dataclass(frozen=True)
class Echo:
    """One reflection: ``delay`` in samples, ``gain`` (signed), and the peak's ``z``."""

    delay: int
    gain: float
    z: float


def find_echo(x: np.ndarray, sample_rate: int) -> Echo | None:
    """The strongest echo in ``x`` (float mono), or None when no cepstral peak stands
    out enough to be one."""
    low, high = int(MIN_DELAY_S * sample_rate), int(MAX_DELAY_S * sample_rate)
    if len(x) < 2 * high:
        return None
    n = 1 << int(np.ceil(np.log2(len(x))))
    magnitude = np.abs(np.fft.rfft(x, n))
    floor = 1e-9 * float(magnitude.max()) + 1e-20
    cepstrum = np.fft.irfft(np.log(magnitude + floor), n)[low:high]
    size = np.abs(cepstrum)
    peak = int(np.argmax(size))
    median = float(np.median(size))
    spread = 1.4826 * float(np.median(np.abs(size - median))) + 1e-12
    z = (float(size[peak]) - median) / spread
    if z < MIN_ECHO_Z:
        return None
    gain = float(np.clip(2.0 * cepstrum[peak], -MAX_GAIN, MAX_GAIN))
    return Echo(delay=peak + low, gain=gain, z=z)


def remove_echo(x: np.ndarray, echo: Echo) -> np.ndarray:
    """``x`` through the inverse of ``echo`` (float64, same shape)."""
    denominator = np.zeros(echo.delay + 1)
    denominator[0], denominator[echo.delay] = 1.0, echo.gain
    return np.asarray(signal.lfilter([1.0], denominator, x), dtype=np.float64)
