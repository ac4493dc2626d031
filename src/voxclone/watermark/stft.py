"""The short-time Fourier transform the watermark measures and edits cells with.

A square-root periodic Hann window at 50% overlap for analysis and synthesis: the
pair reconstructs a signal exactly, and the detector measures cells with the same
window, so what the embedder sets is what the detector reads.
"""

from __future__ import annotations

import numpy as np


def sqrt_hann(frame: int) -> np.ndarray:
    return np.sqrt(np.hanning(frame + 1)[:-1])


def frames_of(x: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """Windowed spectra of ``x`` (frames starting at 0, hop, ...), shape ``(n, frame//2+1)``."""
    if len(x) < frame:
        return np.zeros((0, frame // 2 + 1), dtype=np.complex128)
    windows = np.lib.stride_tricks.sliding_window_view(x, frame)[::hop]
    return np.fft.rfft(windows * sqrt_hann(frame), axis=1)


def overlap_add(spectra: np.ndarray, frame: int, hop: int, length: int) -> np.ndarray:
    """Inverse of :func:`frames_of` at 50% overlap; returns ``length`` samples."""
    if hop * 2 != frame:
        raise ValueError("overlap_add needs 50% overlap")
    pieces = np.fft.irfft(spectra, n=frame, axis=1) * sqrt_hann(frame)
    count = len(pieces)
    out = np.zeros((count + 1) * hop)
    view = out.reshape(-1, hop)
    view[:count] += pieces[:, :hop]
    view[1:count + 1] += pieces[:, hop:]
    if len(out) < length:
        out = np.concatenate([out, np.zeros(length - len(out))])
    return out[:length]


def band_energies(spectra: np.ndarray, first_bin: int, band_bins: int,
                  bands: int) -> np.ndarray:
    """Energy per frame and band, shape ``(frames, bands)``."""
    power = np.abs(spectra[:, first_bin: first_bin + band_bins * bands]) ** 2
    return power.reshape(len(spectra), bands, band_bins).sum(axis=2)
