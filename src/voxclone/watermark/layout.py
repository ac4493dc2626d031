"""The watermark's time-frequency grid and its keyed layout.

The mark lives in the energies of *cells*: 64 ms x 156 Hz tiles between 750 and
3250 Hz, a band that survives telephone filtering, 8 kHz resampling and low-bitrate
MP3. Four cell columns make a *symbol* (256 ms) carrying 12 coded bits; 8 symbols
(2.05 s, a *period*) carry one 96-bit codeword, repeated for as long as the audio
lasts, so any 3 s hold the whole payload at least once. Even and odd periods
interleave the codeword differently, so when a pause in a short excerpt silences some
symbols, the symbols heard in the other period fill in other coded bits.

Each bit is the log ratio of the summed energies of two keyed sets of cells, paired
in the same column and adjacent bands; the embedder moves that ratio onto a keyed,
dithered quantisation lattice (dither modulation). Pairing adjacent bands in the
same instant makes the ratio insensitive to gain, to the filter curve of a channel,
and (mostly) to echo; summing energies before the log lets loud cells dominate, so
noise in quiet cells does little harm.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from voxclone.watermark.code import CODED_BITS


@dataclass(frozen=True)
class WatermarkConfig:
    """Grid and strength of the watermark (the detector must use the same)."""

    analysis_rate: int = 8000
    frame: int = 256           # samples at analysis_rate: 32 ms
    hop: int = 128             # 16 ms
    first_bin: int = 24        # 750 Hz
    band_bins: int = 5         # 156.25 Hz
    bands: int = 16            # up to 3250 Hz
    frames_per_unit: int = 4   # one cell column = 64 ms
    units_per_symbol: int = 4  # one symbol = 256 ms
    bits_per_symbol: int = 12
    delta_db: float = 5.0      # lattice step of the log energy ratio

    @property
    def symbols(self) -> int:
        """Symbols per codeword period."""
        return CODED_BITS // self.bits_per_symbol

    @property
    def cells(self) -> int:
        return self.units_per_symbol * self.bands

    @property
    def symbol_samples(self) -> int:
        """Symbol length in samples at ``analysis_rate``."""
        return self.hop * self.frames_per_unit * self.units_per_symbol

    @property
    def symbol_seconds(self) -> float:
        return self.symbol_samples / self.analysis_rate

    def scaled(self, sample_rate: int) -> tuple[int, int]:
        """(frame, hop) in samples at ``sample_rate`` (a multiple of analysis_rate)."""
        if sample_rate % self.analysis_rate:
            raise ValueError(
                f"the watermark is embedded at multiples of {self.analysis_rate} Hz; "
                f"got {sample_rate} Hz - resample first"
            )
        factor = sample_rate // self.analysis_rate
        return self.frame * factor, self.hop * factor


def _rng(key: bytes, tag: bytes) -> np.random.Generator:
    seed = int.from_bytes(hashlib.sha256(key + b"/" + tag).digest()[:8], "little")
    return np.random.default_rng(seed)


@dataclass(frozen=True)
class Layout:
    """Which cells form each bit, and the lattice dither, for one key.

    Attributes (cells are numbered ``unit * bands + band`` within a symbol):
        set_a, set_b: int arrays ``(pairs,)``: the two cells of each pair.
        bit_of_pair: int array ``(pairs,)``: which of the symbol's bits a pair serves.
        dither: float array ``(bits_per_symbol,)``: lattice offset per bit, dB.
        slot_of_coded, bit_of_coded: where each of the 96 coded bits is sent, in even
            and in odd codeword periods (two interleavings of the same codeword).
    """

    config: WatermarkConfig
    key: bytes

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cfg = self.config
        rng = _rng(self.key, b"pairs")
        a: list[int] = []
        b: list[int] = []
        for unit in range(cfg.units_per_symbol):
            for half in rng.permutation(cfg.bands // 2):
                low, high = unit * cfg.bands + 2 * half, unit * cfg.bands + 2 * half + 1
                first, second = (low, high) if rng.random() < 0.5 else (high, low)
                a.append(first)
                b.append(second)
        order = rng.permutation(len(a))
        set_a, set_b = np.array(a)[order], np.array(b)[order]
        return set_a, set_b, np.arange(len(a)) % cfg.bits_per_symbol

    @property
    def set_a(self) -> np.ndarray:
        return self._pairs[0]

    @property
    def set_b(self) -> np.ndarray:
        return self._pairs[1]

    @property
    def bit_of_pair(self) -> np.ndarray:
        return self._pairs[2]

    @cached_property
    def dither(self) -> np.ndarray:
        cfg = self.config
        return _rng(self.key, b"dither").uniform(0.0, cfg.delta_db, cfg.bits_per_symbol)

    @cached_property
    def _interleave(self) -> np.ndarray:
        """``(2, 96)``: where each coded bit goes in even and in odd codeword periods."""
        return np.stack([_rng(self.key, b"interleave").permutation(CODED_BITS),
                         _rng(self.key, b"interleave-odd").permutation(CODED_BITS)])

    @property
    def slot_of_coded(self) -> np.ndarray:
        """``(2, 96)``: the symbol of its period each coded bit is sent in."""
        return self._interleave // self.config.bits_per_symbol

    @property
    def bit_of_coded(self) -> np.ndarray:
        """``(2, 96)``: the bit of that symbol."""
        return self._interleave % self.config.bits_per_symbol

    def symbol_bits(self, coded: np.ndarray, period: int = 0) -> np.ndarray:
        """Arrange the 96 coded bits as ``(symbols, bits_per_symbol)`` for an even
        (``period`` 0) or odd (1) codeword period."""
        grid = np.zeros((self.config.symbols, self.config.bits_per_symbol), dtype=np.uint8)
        grid[self.slot_of_coded[period], self.bit_of_coded[period]] = coded
        return grid

    def cycle_bits(self, coded: np.ndarray) -> np.ndarray:
        """The bits of a whole cycle of two periods, ``(2 * symbols, bits_per_symbol)``.

        The two periods carry the same codeword, interleaved differently: where a pause
        silences some symbols of one period, the same symbols of the next carry other
        coded bits, so a short excerpt with a pause still holds most of the codeword.
        """
        return np.concatenate([self.symbol_bits(coded, 0), self.symbol_bits(coded, 1)])

    def sums(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Summed energies of each bit's two cell sets, each ``(..., bits_per_symbol)``.

        Args:
            cells: float array ``(..., cells)`` of cell energies of whole symbols.
        """
        return cells[..., self.set_a] @ self._onehot, cells[..., self.set_b] @ self._onehot

    @cached_property
    def _onehot(self) -> np.ndarray:
        """``(pairs, bits)``: 1 where a pair serves a bit."""
        return np.eye(self.config.bits_per_symbol)[self.bit_of_pair]

    def ratios(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-bit log energy ratios (dB) and the smaller summed energy of each bit,
        each of shape ``(..., bits_per_symbol)``."""
        ea, eb = self.sums(cells)
        tiny = 1e-20
        return 10.0 * np.log10((ea + tiny) / (eb + tiny)), np.minimum(ea, eb)
