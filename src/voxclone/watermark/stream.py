"""Marking a stream chunk by chunk as one continuous mark, symbols whole across chunk
edges.

A chunk marked on its own (:func:`~voxclone.watermark.embed.embed_samples` with
``start_sample``) leaves the symbols it cuts at its edges unmarked, a 256 ms symbol
at each edge. In short, choppy speech streamed a sentence (often a single word) at a
time that is a third or more of all symbols, and the joined stream then read back in
MP3, Opus and 3 s excerpts far less often than the same text marked as a whole
(``bench/results/watermark_streams.md``).

:class:`StreamMarker` keeps the marks going across the edges instead. It works on one
continuous STFT grid over the whole stream (the grid the detector reads, starting at
stream sample 0) and keeps, between chunks, the unmarked samples of the symbol under
way and the gains of the frames that reached audio already sent. When a chunk
arrives, the symbol cut by the previous edge is measured whole, its frames already
sent counted as they were sent (their gains are frozen), and only the frames not sent
yet move to put each bit's ratio on its lattice. A symbol cut by a chunk's end is
marked on what there is of it, so a stream that ends there still carries its bits.

Nothing is held back: each chunk comes out whole, as soon as it is marked. The one or
two 32 ms frames that reach past a chunk's end keep their gain at 0 dB: the audio
after the edge is not known yet, and an unchanged frame adds exactly its own
(windowed) samples to the overlap-add whatever follows, so the frame's first half can
be sent now and its second half next time, one seamless overlap-add (chunk edges are
mostly in pauses, where there is little to mark anyway). Detection is unchanged: the
mark is the one :func:`embed_samples` makes, on the same grid, cells, lattice and
codeword.
"""

from __future__ import annotations

import numpy as np

from voxclone.watermark.code import encode
from voxclone.watermark.embed import MAX_CHANGE_DB, MIN_BAND_SNR_DB, apply_gains, band_snr_db
from voxclone.watermark.layout import Layout
from voxclone.watermark.stft import band_energies, frames_of, overlap_add

#: Measure-and-move passes per chunk. Each measures the cells on the resynthesised
#: audio, as the detector will, so the overlap of neighbouring frames is accounted for
#: (the whole-file embedder does 3 passes on spectra, then 2 after resynthesis).
PASSES = 5


class StreamMarker:
    """One stream's watermark, applied as its chunks come (see the module docstring).

    Args:
        layout: the key's layout (:attr:`QimWatermark.layout`).
        sample_rate: the stream's rate in Hz, a multiple of 8000 (voxclone: 24 kHz).
        payload: unsigned 32-bit payload (checked by the caller).

    Feed each chunk to :meth:`push`, which returns it marked; the chunks returned,
    joined, are the stream with one continuous mark.
    """

    def __init__(self, layout: Layout, sample_rate: int, payload: int) -> None:
        cfg = layout.config
        self.layout = layout
        self.sample_rate = sample_rate
        self.frame, self.hop = cfg.scaled(sample_rate)  # 768, 384 at 24 kHz
        self.per_symbol = cfg.frames_per_unit * cfg.units_per_symbol  # frames (hops)
        self.symbol = self.per_symbol * self.hop  # samples
        self._bits = layout.cycle_bits(encode(payload))  # (16 symbols, 12 bits)
        self._sent = 0  # stream samples marked and returned
        # The window kept: stream samples from `_base` (a frame before the symbol under
        # way: that frame and the next complete the overlap-add at its start), unmarked;
        # before the stream's start, zeros.
        self._base = -self.frame
        self._raw = np.zeros(self.frame)
        # Gains (dB, frames x bands) of the window's frames, from `_base` on, that
        # reached audio already sent: they cannot change any more.
        self._frozen = np.zeros((2, cfg.bands))

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Mark the next chunk of the stream.

        Args:
            samples: float mono audio at ``sample_rate``, shape ``(n,)``.

        Returns:
            float32 ``(n,)``: the chunk, marked.
        """
        x = np.asarray(samples, dtype=np.float64)
        if x.ndim != 1:
            raise ValueError("push needs mono samples of shape (n,)")
        if len(x) == 0:
            return np.zeros(0, dtype=np.float32)
        self._raw = np.concatenate([self._raw, x])
        return self._mark(self._sent + len(x))

    def _mark(self, known: int) -> np.ndarray:
        """Mark the window, return stream samples ``[_sent, known)``, slide the window."""
        cfg = self.layout.config
        frame, hop = self.frame, self.hop
        # Zeros after the chunk's end, so that every sample lies under two frames.
        x = np.concatenate([self._raw, np.zeros(frame + hop - len(self._raw) % hop)])
        spectra = frames_of(x, frame, hop)  # frame i starts at stream sample _base + i*hop
        starts = self._base + hop * np.arange(len(spectra))
        frozen = len(self._frozen)  # the frames starting before `_sent`
        gain = np.zeros((len(spectra), cfg.bands))
        gain[:frozen] = self._frozen
        # Frames reaching past the end stay at 0 dB (see the module docstring).
        free = (np.arange(len(spectra)) >= frozen) & (starts + frame <= known)
        first_symbol = (self._base + frame) // self.symbol
        for _ in range(PASSES):
            marked = overlap_add(apply_gains(spectra, gain, cfg), frame, hop, len(x))
            gain[free] += self._change(marked, free, first_symbol)[free]
            np.clip(gain, -MAX_CHANGE_DB, MAX_CHANGE_DB, out=gain)
        marked = overlap_add(apply_gains(spectra, gain, cfg), frame, hop, len(x))
        # The mark stays 20 dB under the speech in its band, as a whole file's does
        # (judged on this chunk; its gains scaled, which scales the mark about as much
        # and leaves the frames already sent as they were).
        begin, end = self._sent - self._base, known - self._base
        snr = band_snr_db(x[begin:end], marked[begin:end] - x[begin:end], self.sample_rate,
                          cfg)
        if snr < MIN_BAND_SNR_DB:
            gain[free] *= 10.0 ** ((snr - MIN_BAND_SNR_DB) / 20.0)
            marked = overlap_add(apply_gains(spectra, gain, cfg), frame, hop, len(x))
        out = marked[begin:end].astype(np.float32)
        # Slide: keep from a frame before the symbol now under way, with the gains of
        # the frames that reached the audio sent.
        base = (known // self.symbol) * self.symbol - frame
        drop = (base - self._base) // hop
        self._frozen = gain[drop: int(np.sum(starts < known))].copy()
        self._raw = self._raw[base - self._base:]
        self._base, self._sent = base, known
        return out

    def _change(self, marked: np.ndarray, free: np.ndarray, first_symbol: int) -> np.ndarray:
        """Gain change (dB, ``(frames, bands)``) that moves each bit of every symbol in
        the window toward its lattice point, spread over the frames that may move.

        A bit's ratio is ``10 log10(EA / EB)`` over its two cell sets; moving the free
        part of A by ``gA`` dB and of B by ``gB`` changes it by about
        ``fA gA - fB gB`` (``fA``: the free share of EA). The cheapest such move (least
        change of energy, ``gA^2 EA_free + gB^2 EB_free``) is ``gA = err / (EA D)``,
        ``gB = -err / (EB D)`` with ``D = EA_free / EA^2 + EB_free / EB^2``: with no
        frame frozen, the whole-file embedder's split (the weaker set moves more).
        """
        cfg, layout = self.layout.config, self.layout
        energy = band_energies(frames_of(marked, self.frame, self.hop), cfg.first_bin,
                               cfg.band_bins, cfg.bands)
        count = len(energy)
        symbols = -(-(count - 2) // self.per_symbol)
        span = symbols * self.per_symbol
        # frames 0 and 1 precede the first symbol (they only complete the overlap-add)
        every = np.zeros((span, cfg.bands))
        every[: count - 2] = energy[2:]
        movable = np.zeros((span, cfg.bands))
        movable[: count - 2] = energy[2:] * free[2:count, None]

        def cells(per_frame: np.ndarray) -> np.ndarray:  # (symbols, cells)
            units = per_frame.reshape(-1, cfg.frames_per_unit, cfg.bands).sum(axis=1)
            return units.reshape(symbols, cfg.cells)

        tiny = 1e-20
        ea, eb = layout.sums(cells(every))
        fa, fb = layout.sums(cells(movable))
        ratio = 10.0 * np.log10((ea + tiny) / (eb + tiny))
        slots = (first_symbol + np.arange(symbols)) % len(self._bits)
        lattice = layout.dither + self._bits[slots] * (cfg.delta_db / 2.0)
        err = lattice + np.round((ratio - lattice) / cfg.delta_db) * cfg.delta_db - ratio
        d = fa / (ea + tiny) ** 2 + fb / (eb + tiny) ** 2
        can = (fa + fb > 1e-12 * (ea + eb + tiny)) & (d > 0)  # some of the bit may move
        safe = np.where(can, d, 1.0)
        g_a = np.where(can, err / ((ea + tiny) * safe), 0.0)
        g_b = np.where(can, -err / ((eb + tiny) * safe), 0.0)
        change = np.zeros((symbols, cfg.cells))
        change[:, layout.set_a] = g_a[:, layout.bit_of_pair]
        change[:, layout.set_b] = g_b[:, layout.bit_of_pair]
        per_frame = np.repeat(change.reshape(symbols, cfg.units_per_symbol, cfg.bands),
                              cfg.frames_per_unit, axis=1).reshape(-1, cfg.bands)
        out = np.zeros((count, cfg.bands))
        out[2:] = per_frame[: count - 2]
        return out
