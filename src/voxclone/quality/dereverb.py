"""Take a room's echo out of a reference: weighted prediction error (WPE).

WPE (Nakatani et al., 2010; the ``nara_wpe`` implementation) predicts each STFT frame's
late reverberation from the frames a few hops before it and subtracts the prediction,
weighting frames by the speech's own power; it needs no model and no noise estimate,
and leaves the direct sound and early reflections. On one microphone it removes part
of the echo, not all: on 40 calibration speakers' references in synthetic rooms it
gave back 0.07-0.17 of the reference's normalised d-vector similarity (RT60 0.2-0.5 s)
and cost a dry reference 0.03 (``bench/results/reverb.md``), so it runs only where the
gate hears a room; for the clones see ``bench/results/robustness_rooms.md``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from scipy import signal

from voxclone.audio import Audio

__all__ = ["dereverberate", "echoing"]

_RATE: Final[int] = 16_000
_WINDOW: Final[int] = 512  # 32 ms
_HOP: Final[int] = 128  # 8 ms
#: Frames of the past the prediction uses (30 x 8 ms: a room's first quarter second)...
_TAPS: Final[int] = 30
#: ... starting this many frames back, so that the speech itself is not predicted away.
_DELAY: Final[int] = 2
_ITERATIONS: Final[int] = 3


def echoing(reverb_s: float | None, from_s: float | None) -> bool:
    """Whether a clip whose estimated reverberation time is ``reverb_s`` (seconds;
    ``None``: can't tell) is dereverberated from ``from_s`` (``None``: never). One rule
    for a reference and a consent recording, so their d-vectors are made alike."""
    return reverb_s is not None and from_s is not None and reverb_s >= from_s


def dereverberate(audio: Audio) -> Audio:
    """``audio`` (any rate) with its late reverberation removed, 16 kHz float32, same
    length in time."""
    # wpe_v8 loops over the frequencies: memory for one at a time (the batched default
    # held ~4 GB for a 2 min clip)
    from nara_wpe.wpe import wpe_v8 as wpe  # a core dependency, imported when needed

    samples = audio.resample(_RATE).samples.astype(np.float64)
    _, _, z = signal.stft(samples, fs=_RATE, nperseg=_WINDOW, noverlap=_WINDOW - _HOP)
    # nara_wpe takes (frequencies, channels, frames)
    cleaned = wpe(z[:, None, :], taps=_TAPS, delay=_DELAY, iterations=_ITERATIONS,
                  statistics_mode="full")[:, 0, :]
    _, out = signal.istft(cleaned, fs=_RATE, nperseg=_WINDOW, noverlap=_WINDOW - _HOP)
    fitted = np.zeros(len(samples), dtype=np.float32)
    fitted[: min(len(out), len(samples))] = out[: len(samples)]
    return Audio(fitted, _RATE)
