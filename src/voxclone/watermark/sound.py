"""Where an audio is sound and where it is silent, in the watermark's band: what tells a
pause inside one synthesis from other audio between two of its marks
(:func:`voxclone.watermark.multi.detect_all_samples`).

No model: the energy of each frame of the detector's own STFT (32 ms, 16 ms hop at
8 kHz) in the band the mark lives in (750-3250 Hz). A frame is sound when it stands
clear of the audio's noise floor (so a pause in a noisy recording is silent) and is
not far below the marks' own loud frames (so a pause of near-digital silence is
silent too); other speech between two marks is sound by both, even at a lower level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import soxr

from voxclone.watermark.detect import NOISE_PERCENTILE
from voxclone.watermark.layout import Layout
from voxclone.watermark.stft import band_energies, frames_of

#: A frame is sound only at least this many dB above the noise floor (the
#: ``NOISE_PERCENTILE`` of the frames' energies, as the detector's floor; a frame of
#: steady noise strays from its mean by about 1 dB).
ABOVE_NOISE_DB = 6.0
#: ... and at most this many dB below the marks' level (the 90th percentile of the
#: frames inside them): a word's quiet ends still count, a faded tail does not.
BELOW_MARKS_DB = 35.0
#: The marks' level is this percentile of the frames inside them.
LEVEL_PERCENTILE = 90.0


@dataclass(frozen=True)
class Sound:
    """The energy of every frame of an audio in the watermark's band."""

    energy: np.ndarray  # (frames,) band energy of the frame starting at i * hop_s
    hop_s: float
    noise: float  # the noise floor (an energy)

    @classmethod
    def of(cls, samples: np.ndarray, sample_rate: int, layout: Layout) -> Sound:
        """The frames of float mono ``samples`` (shape ``(n,)``, any rate >= 8 kHz)."""
        cfg = layout.config
        x8 = np.asarray(soxr.resample(np.asarray(samples, dtype=np.float64), sample_rate,
                                      cfg.analysis_rate, quality="MQ"), dtype=np.float64)
        energy = band_energies(frames_of(x8, cfg.frame, cfg.hop), cfg.first_bin,
                               cfg.band_bins, cfg.bands).sum(axis=1)
        noise = float(np.percentile(energy, NOISE_PERCENTILE)) if len(energy) else 0.0
        return cls(energy, cfg.hop / cfg.analysis_rate, noise)

    def _frames(self, start_s: float, end_s: float) -> np.ndarray:
        """The energies of the frames that start in [start_s, end_s)."""
        return self.energy[max(0, round(start_s / self.hop_s)): max(0, round(end_s / self.hop_s))]

    def level(self, spans: Iterable[tuple[float, float]]) -> float:
        """The loud frames' energy (``LEVEL_PERCENTILE``) over ``spans`` (s)."""
        inside = [self._frames(a, b) for a, b in spans]
        frames = np.concatenate(inside) if inside else np.zeros(0)
        return float(np.percentile(frames, LEVEL_PERCENTILE)) if len(frames) else 0.0

    def seconds(self, start_s: float, end_s: float, level: float) -> float:
        """How many seconds of [start_s, end_s) are sound, against marks at ``level``
        (see :meth:`level`)."""
        floor = max(self.noise * 10 ** (ABOVE_NOISE_DB / 10),
                    level * 10 ** (-BELOW_MARKS_DB / 10), 1e-20)
        return float(np.count_nonzero(self._frames(start_s, end_s) > floor)) * self.hop_s
