"""What the public API accepts as a recording, checked at the door.

A recording comes as a path, encoded bytes, a binary file object or an :class:`Audio`.
Files are checked as they are decoded (:func:`voxclone.audio.load_audio`: readable,
finite, not too long); an ``Audio`` made in Python skips that. Both are checked here:
finite samples within a thousand times full scale (one NaN, or one sample of 1e20 in a
float WAV, silently defeated the watermark detector and crashed the consent check), a
plausible sample rate and a length limit.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from voxclone.audio.decoding import load_audio
from voxclone.audio.types import RATE_BOUNDS, Audio
from voxclone.errors import AudioError, AudioFormatError

__all__ = ["MAX_MAGNITUDE", "RATE_BOUNDS", "as_audio"]

#: Samples beyond this magnitude are not audio (full scale is 1.0).
MAX_MAGNITUDE = 1e3
#: Reference and consent recordings longer than this are refused by enrollment and
#: ``check`` (s; trim them first).
MAX_CLIP_SECONDS = 600.0


def as_audio(source: Any, *, max_seconds: float, name: str = "the recording") -> Audio:
    """``source`` (a path, ``"-"``, bytes, a binary file object or ``Audio``) as a
    checked ``Audio``.

    Raises:
        TypeError: ``source`` is none of those (a NumPy array, a list, None...).
        AudioError: longer than ``max_seconds``, or an implausible sample rate.
        AudioFormatError: unreadable, or samples that are not finite or far beyond
            full scale.
    """
    if isinstance(source, Audio):
        return _checked(source, max_seconds, name)
    if isinstance(source, np.ndarray):
        raise TypeError(f"{name} is a NumPy array; wrap it with its sample rate: "
                        "voxclone.Audio(samples, sample_rate)")
    if not isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)) \
            and not hasattr(source, "read"):
        raise TypeError(f"{name} must be a file path, encoded bytes, a binary file or "
                        f"voxclone.Audio, not {type(source).__name__}")
    # (a decoded file is checked too: a float WAV may hold a sample of 1e20)
    return _checked(load_audio(source, max_seconds=max_seconds), max_seconds, name)


def _checked(audio: Audio, max_seconds: float, name: str) -> Audio:
    low, high = RATE_BOUNDS
    if not low <= audio.sample_rate <= high:
        raise AudioError(f"{name} claims {audio.sample_rate} samples per second; a "
                         f"recording has {low}-{high} (check the rate given to Audio)")
    if audio.duration > max_seconds:
        raise AudioError(f"{name} is {audio.duration:.0f} s long, over the "
                         f"{max_seconds:.0f} s limit; trim it")
    samples = audio.samples
    if not np.isfinite(samples).all():
        raise AudioFormatError(f"{name} contains invalid samples (NaN or infinity); "
                               "fix or re-export the recording")
    if samples.size and float(np.max(np.abs(samples))) > MAX_MAGNITUDE:
        raise AudioFormatError(f"{name} has samples over {MAX_MAGNITUDE:g} times full "
                               "scale; scale it to [-1, 1] first")
    return audio
