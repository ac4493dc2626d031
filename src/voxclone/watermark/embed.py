"""Embedding: move each bit's energy ratio onto its lattice, a few passes over the STFT."""

from __future__ import annotations

import numpy as np

from voxclone.watermark.code import encode
from voxclone.watermark.layout import Layout, WatermarkConfig
from voxclone.watermark.stft import band_energies, frames_of, overlap_add

#: Passes on the spectra, then once more after resynthesis (to absorb the mixing of
#: overlapping frames).
_PASSES = (3, 2)
#: No cell is changed by more than this in total (dB of energy).
MAX_CHANGE_DB = 6.0
#: The mark is scaled down where it would leave less than this ratio between the
#: signal's energy in the marked band (750-3250 Hz) and the mark's: a mark that is
#: unusually strong for the speech it sits in. Unclamped, marks lie at 19.4-25.6 dB
#: (median 22) on 85 renderings of stock mixtures and cloned voices, whatever the
#: voice's spectral balance, so this floor rarely acts. (It used to be 30.5 dB of the
#: whole signal's energy; a clone whose tone curve puts 40-50 % of its energy in the
#: marked band then had its mark scaled down 4-6 dB, off the lattice, and lost it in
#: MP3 and even in WAV: ``bench/results/watermark_clones.md``.)
MIN_BAND_SNR_DB = 20.0


def embed_samples(samples: np.ndarray, sample_rate: int, payload: int, layout: Layout, *,
                  start_sample: int = 0) -> np.ndarray:
    """``samples`` with ``payload`` embedded; see :meth:`QimWatermark.embed`.

    Only whole symbols inside ``samples`` are marked (on the grid that starts at
    sample 0 of the stream), so a chunk's first and last fraction of a symbol carry
    nothing.
    """
    cfg = layout.config
    frame, hop = cfg.scaled(sample_rate)
    symbol_len = cfg.symbol_samples * (sample_rate // cfg.analysis_rate)
    lead = start_sample % symbol_len  # samples since the last symbol boundary
    first_symbol = (start_sample - lead) // symbol_len
    n = len(samples)
    # zeros before and after: every real sample lies under two full windows, so the
    # resynthesis is exact up to the very first and last sample
    x = np.concatenate([np.zeros(lead + frame), np.asarray(samples, dtype=np.float64),
                        np.zeros(frame)])
    whole = (lead + n - hop) // symbol_len  # symbols whose last frame fits in the signal
    skip = 1 if lead else 0  # the first symbol is cut by the chunk start
    if whole - skip <= 0:
        return np.asarray(samples, dtype=np.float32).copy()
    bits = layout.cycle_bits(encode(payload))
    slots = (first_symbol + np.arange(skip, whole)) % len(bits)
    target_bits = bits[slots]  # (symbols, bits)

    for passes in _PASSES:
        spectra = frames_of(x, frame, hop)
        gain_db = np.zeros((len(spectra), cfg.bands))
        for _ in range(passes):
            edited = apply_gains(spectra, gain_db, cfg)
            error, share_a = _lattice_error(edited, layout, target_bits, skip, whole)
            change = np.zeros((len(error), cfg.cells))
            change[:, layout.set_a] = (error * share_a)[:, layout.bit_of_pair]
            change[:, layout.set_b] = -(error * (1.0 - share_a))[:, layout.bit_of_pair]
            per_frame = np.repeat(
                change.reshape(len(error), cfg.units_per_symbol, cfg.bands),
                cfg.frames_per_unit, axis=1).reshape(-1, cfg.bands)
            # frame 2 starts at padded sample `frame` = the first grid frame
            begin = 2 + skip * cfg.frames_per_unit * cfg.units_per_symbol
            gain_db[begin: begin + len(per_frame)] += per_frame
            np.clip(gain_db, -MAX_CHANGE_DB, MAX_CHANGE_DB, out=gain_db)
        x = overlap_add(apply_gains(spectra, gain_db, cfg), frame, hop, len(x))
    marked = x[lead + frame: lead + frame + n]
    original = np.asarray(samples, dtype=np.float64)
    mark = marked - original
    snr = band_snr_db(original, mark, sample_rate, cfg)
    if snr < MIN_BAND_SNR_DB:
        marked = original + mark * 10.0 ** ((snr - MIN_BAND_SNR_DB) / 20.0)
    return marked.astype(np.float32)


def band_snr_db(signal: np.ndarray, mark: np.ndarray, sample_rate: int,
                config: WatermarkConfig | None = None) -> float:
    """Ratio (dB) of ``signal``'s energy in the marked band to the energy of ``mark``
    (all of it; it lies in that band): how strong a mark is for the speech it is in.
    ``inf`` for an empty mark."""
    cfg = config or WatermarkConfig()
    frame, hop = cfg.scaled(sample_rate)
    pad = np.zeros(frame)
    mark_power = float(np.sum(np.abs(frames_of(np.concatenate([pad, mark, pad]), frame, hop))
                              ** 2))
    if mark_power <= 0.0:
        return float("inf")
    band = band_energies(frames_of(np.concatenate([pad, signal, pad]), frame, hop),
                         cfg.first_bin, cfg.band_bins, cfg.bands)
    return 10.0 * float(np.log10((float(band.sum()) + 1e-30) / mark_power))


def apply_gains(spectra: np.ndarray, gain_db: np.ndarray, cfg: WatermarkConfig) -> np.ndarray:
    """``spectra`` (complex, frames x bins) with each marked band scaled by its gain
    (``gain_db``: dB, frames x bands); a copy."""
    edited = spectra.copy()
    lo = cfg.first_bin
    hi = lo + cfg.band_bins * cfg.bands
    edited[:, lo:hi] *= np.repeat(10.0 ** (gain_db / 20.0), cfg.band_bins, axis=1)
    return edited


def _lattice_error(spectra: np.ndarray, layout: Layout, target_bits: np.ndarray,
                   skip: int, whole: int) -> tuple[np.ndarray, np.ndarray]:
    """dB by which each marked symbol's bit ratio must move, ``(symbols, bits)``, and
    the share of it set A takes: the weaker set moves more, which costs the least
    energy (the change a*ea^2 + b*eb^2 is smallest at a/b = eb/ea)."""
    cfg = layout.config
    energies = band_energies(spectra[2:], cfg.first_bin, cfg.band_bins, cfg.bands)
    per_symbol = cfg.frames_per_unit * cfg.units_per_symbol
    used = energies[skip * per_symbol: whole * per_symbol]
    units = used.reshape(-1, cfg.frames_per_unit, cfg.bands).sum(axis=1)
    cells = units.reshape(-1, cfg.cells)
    ea, eb = layout.sums(cells)
    tiny = 1e-20
    ratio = 10.0 * np.log10((ea + tiny) / (eb + tiny))
    lattice = layout.dither + target_bits * (cfg.delta_db / 2.0)
    nearest = lattice + np.round((ratio - lattice) / cfg.delta_db) * cfg.delta_db
    return np.asarray(nearest - ratio), (eb + tiny) / (ea + eb + 2 * tiny)
