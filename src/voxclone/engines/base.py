"""The engine protocol: phoneme ids + conditioning -> waveform.

An engine is the acoustic model and vocoder together. Text processing happens before
it (``voxclone.text``), speaker conditioning is computed for it (``voxclone.clone``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Engine(Protocol):
    """A text-to-speech engine conditioned on a style vector.

    Attributes:
        name: short identifier stored in voice profiles (e.g. ``"kokoro-82m-int8"``).
        sample_rate: output sample rate in Hz.
        max_tokens: the most phoneme ids one ``render`` call accepts.
        style_dim: length of the conditioning vector.
    """

    name: str
    sample_rate: int
    max_tokens: int
    style_dim: int

    def tokenize(self, phonemes: str) -> list[int]:
        """Map a phoneme string to the engine's ids, dropping unknown symbols."""
        ...

    def render(self, ids: Sequence[int], style: np.ndarray, speed: float = 1.0) -> np.ndarray:
        """Synthesise one chunk.

        Args:
            ids: phoneme ids, ``1 <= len(ids) <= max_tokens``.
            style: float32 conditioning of shape ``(style_dim,)``.
            speed: speaking-rate multiplier, 1.0 is the voice's natural rate.

        Returns:
            float32 mono waveform at ``sample_rate``, shape ``(n_samples,)``.
        """
        ...
