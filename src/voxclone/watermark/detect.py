"""Detection: measure the cells on every alignment of the grid, find the one where the
bit ratios sit on the lattice, decode the codeword, check its CRC and strength.

The search covers grid offsets (every 4 ms), the codeword's cyclic position, and
playback speeds from -5% to +5% (tried only when the untouched speed finds nothing);
when the clip has one strong echo, the echo is undone and the untouched speed searched
that way first (``echo``).
A long file is also searched window by window, which finds a mark spliced into
other audio and tolerates small speed errors. The whole audio at its own speed is
decoded on weaker evidence of the lattice too (``WEAK_SYNC``), where its codeword must
stand out from the run's other readings (``WEAK_SCORE``, ``WEAK_MARGIN``): low-bitrate
codecs blur the lattice more than the code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import soxr

from voxclone.watermark.base import Detection
from voxclone.watermark.code import PAYLOAD_BITS_CODED, bits_to_int, convolve, crc_ok, viterbi
from voxclone.watermark.echo import find_echo, remove_echo
from voxclone.watermark.layout import Layout
from voxclone.watermark.stft import band_energies, frames_of

#: Grid offsets are searched in steps of this many samples at 8 kHz (4 ms).
OFFSET_STEP = 32
#: Speeds tried after 1.0 finds nothing (resampling-style speed changes).
SPEEDS = tuple(1.0 + sign * step / 100 for step in range(1, 6) for sign in (1, -1))
#: At speeds other than 1.0 a coarse grid (whole hops only) screens first; the full
#: grid is searched only where the coarse one reaches this z-score.
SCREEN_SYNC = 2.5
#: Noise floor: this percentile of each band's energy over time is subtracted.
NOISE_PERCENTILE = 10.0
#: Energy (relative to a loud bit) below which a bit counts as silent.
SILENCE = 1e-5
#: A bit whose weaker set holds this many times the noise floor counts half
#: (tuned on noisy and MP3-coded renderings).
NOISE_WEIGHT = 10.0
#: A run of symbols is decoded only when, at its best grid offset, the bit ratios sit
#: on the lattice with at least this z-score (on unmarked audio the z-score is
#: standard normal at any one offset); a mark is reported when the decoded codeword
#: then passes its CRC-16.
MIN_SYNC = 3.5
#: A run is decoded at up to this many of its best-synchronised offsets (a short or
#: quiet run can rank a near miss first).
DECODE_OFFSETS = 3
#: A CRC-valid codeword counts only when the received word correlates with it at least
#: this much (dot product over the word's norm; at most sqrt(96) = 9.8). Decodes of
#: unmarked speech (Piper reading consent statements) score a median 5.2 and a 99th
#: percentile 6.1, and pass 6.5 about 1 in 300 times; true marks scored at least 6.8
#: on 40 of the watermark benchmark's clips under each of its attacks (white noise at
#: 20 dB the lowest). Without this check, Piper consent readings gave a false mark in
#: about 1 of 3000 detections (score 6.1; bench/results/watermark.md).
MIN_SCORE = 6.5
#: The whole audio searched, at its own speed (no window, no other speed), is also
#: decoded at its best offsets down to this z-score: a lossy codec at a low bitrate
#: (LAME at 32 kbit/s, Opus at libsndfile's default quality) blurs the lattice more
#: than the codeword, so a mark whose sync is under ``MIN_SYNC`` often still decodes
#: (``bench/results/watermark_clones.md``). Only those few decodes take the weaker
#: sync: on every window and speed it would mean thousands of decodes of a long file,
#: and as many chances of a false mark.
WEAK_SYNC = 2.0
#: What such a read's codeword must score (``MIN_SCORE`` above ``MIN_SYNC``)...
WEAK_SCORE = 7.0
#: ...and by how much it must outscore the codewords read at the run's other
#: positions in the cycle (to other payloads, CRC or not). In such reads chance
#: codewords score 6.5-7.8 in marked and unmarked audio alike, so the score alone
#: tells little; a mark stands out from its own run's other positions. Without the
#: margin about 1 in 25,000 weak reads of marked audio gave a wrong payload (one did,
#: in a 3 s crop of Opus);
#: with it none of 666 did, and 5 of 5,659 reads of unmarked audio stood out, each a
#: false mark only if its CRC held by chance (``bench/results/watermark_weak_sync.md``).
WEAK_MARGIN = 0.5
#: The share of weak reads of unmarked audio whose best position reaches
#: ``WEAK_SCORE`` and ``WEAK_MARGIN``, bounded above (5 of 5,659 measured, 8.8e-4; the
#: 95 % upper bound 2e-3): such a read is a false mark when that position's CRC holds
#: by chance.
WEAK_CHANCE = 0.01
#: At the speeds tried after the audio's own, every decode must stand out by this
#: much, as a weak read must: the ten speeds' windows give chance codewords many
#: tries, and some passed. Piper consent readings read with fresh keys were flagged in
#: 5 of 24,000 detections (the logged ones found at 2 % and 5 %), and a clip sped up
#: 5 % was read as another payload at 2 %; without those, a true mark stands out there
#: (all 422 clips at +-5 % kept). At the audio's own speed the margin would cost marks
#: (3 s MP3 crops 416 -> 342 of 422), so it is not held to it.
OFF_SPEED_MARGIN = 0.5


@dataclass(frozen=True)
class _Grid:
    """Soft values of every symbol at every grid offset for one speed."""

    soft: np.ndarray   # (offsets, symbols, bits) weighted cos of the bit phase
    sync: np.ndarray   # (offsets, symbols) lattice closeness, independent of bits
    power: np.ndarray  # (offsets, symbols) sum of squared weights


def _grid(x8: np.ndarray, layout: Layout, *, shifts: int | None = None) -> _Grid | None:
    """Soft values at every offset; ``shifts`` limits the sub-hop offsets tried."""
    cfg = layout.config
    per_symbol = cfg.frames_per_unit * cfg.units_per_symbol
    stride = cfg.hop // OFFSET_STEP if shifts is None else min(shifts, cfg.hop // OFFSET_STEP)
    # One STFT every hop/stride samples; the grid at sub-hop shift s uses every
    # `stride`-th frame starting at frame s.
    fine = band_energies(frames_of(x8, cfg.frame, cfg.hop // stride),
                         cfg.first_bin, cfg.band_bins, cfg.bands)
    frames = len(fine) // stride
    symbols_n = frames // per_symbol
    if symbols_n < 1:
        return None
    phases = np.arange(per_symbol)
    # a late phase fits one symbol fewer: that symbol gets weight 0
    whole = (phases[:, None] + per_symbol * (np.arange(symbols_n)[None, :] + 1)) <= frames
    units_at = np.minimum(phases[:, None] + cfg.frames_per_unit * np.arange(
        symbols_n * cfg.units_per_symbol)[None, :], frames - cfg.frames_per_unit)
    soft = np.zeros((stride, per_symbol, symbols_n, cfg.bits_per_symbol))
    sync = np.zeros((stride, per_symbol, symbols_n))
    power = np.zeros((stride, per_symbol, symbols_n))
    for shift in range(stride):
        energies = fine[shift::stride]
        floor = np.percentile(energies, NOISE_PERCENTILE, axis=0)
        energies = np.maximum(energies - floor, 1e-3 * floor + 1e-20)
        # noise energy expected in each bit's weaker set, for weighting by its SNR
        noise_a, noise_b = layout.sums(np.tile(floor * cfg.frames_per_unit,
                                               cfg.units_per_symbol))
        quiet = NOISE_WEIGHT * np.maximum(noise_a, noise_b)
        # a loud bit: its cells (pairs per bit x frames per cell) all in a loud band
        pairs_per_bit = cfg.cells / (2 * cfg.bits_per_symbol)
        reference = pairs_per_bit * cfg.frames_per_unit * float(
            np.percentile(energies, 90)) + 1e-20
        quiet = quiet + SILENCE * reference  # nothing from (near-)digital silence
        csum = np.concatenate([np.zeros((1, cfg.bands)), np.cumsum(energies, axis=0)])
        units = csum[units_at + cfg.frames_per_unit] - csum[units_at]
        cells = units.reshape(per_symbol, symbols_n, cfg.cells)
        ratio, weakest = layout.ratios(cells)
        # the spread of a ratio in dB grows like noise/signal: weight ~ 1/spread^2
        weight = weakest ** 2 / (weakest ** 2 + quiet ** 2) * whole[..., None]
        turns = (ratio - layout.dither) / cfg.delta_db
        soft[shift] = weight * np.cos(2 * np.pi * turns)
        sync[shift] = (weight * np.cos(4 * np.pi * turns)).sum(axis=2)
        power[shift] = (weight ** 2).sum(axis=2)
    offsets = stride * per_symbol
    return _Grid(soft.reshape(offsets, symbols_n, -1), sync.reshape(offsets, symbols_n),
                 power.reshape(offsets, symbols_n))


@dataclass(frozen=True)
class Candidate:
    """A CRC-valid codeword read in one span of symbols at one grid offset."""

    payload: int
    score: float
    sync: float  # z-score of the lattice closeness at the chosen offset
    first: int  # symbols [first, last) carried it
    last: int
    offset: int  # index into the grid's offsets


def _offset_samples(index: int, layout: Layout) -> int:
    cfg = layout.config
    per_symbol = cfg.frames_per_unit * cfg.units_per_symbol
    shift, phase = divmod(index, per_symbol)
    return shift * OFFSET_STEP + phase * cfg.hop


def _words(soft: np.ndarray, layout: Layout) -> np.ndarray:
    """The received 96-bit words of one run of symbols ``(symbols, bits)``, one per
    position the run may start at: ``2 * symbols`` positions in the two-period cycle,
    then ``symbols`` positions of marks made before the cycle existed (every period
    interleaved as the even one). Shape ``(3 * symbols, 96)``."""
    cfg = layout.config
    n, period = len(soft), cfg.symbols
    slot, bit = layout.slot_of_coded, layout.bit_of_coded
    words = np.zeros((3 * period, slot.shape[1]))
    for rotation in range(2 * period):
        acc = np.zeros((2 * period, cfg.bits_per_symbol))
        np.add.at(acc, (np.arange(n) + rotation) % (2 * period), soft)
        words[rotation] = acc[slot[0], bit[0]] + acc[period + slot[1], bit[1]]
        if rotation < period:  # the older, single-interleaving layout
            words[2 * period + rotation] = (acc[:period] + acc[period:])[slot[0], bit[0]]
    return words


#: Decodes tried per run of symbols (see :func:`_words`), for the false-positive bound.
ROTATIONS_PER_SYMBOL = 3


def best_codeword(words: np.ndarray, min_score: float | None = None,
                  margin: float = 0.0) -> tuple[int, float] | None:
    """Decode received soft words ``(n, 96)`` (positive = a 0 bit); return the best
    (payload, score) whose CRC holds and whose score reaches ``min_score`` (default
    ``MIN_SCORE``) and, with ``margin``, exceeds by that much the score of every word
    decoded to another payload (its CRC aside); or None."""
    floor = MIN_SCORE if min_score is None else min_score
    scores = np.full(len(words), -np.inf)
    payloads = np.zeros(len(words), dtype=np.int64)
    valid: list[tuple[float, int]] = []  # (score, word)
    for index, (word, info) in enumerate(zip(words, viterbi(words), strict=True)):
        ok = crc_ok(info)
        if not ok and margin <= 0:
            continue
        norm = math.sqrt(float(np.sum(word ** 2))) + 1e-12
        scores[index] = float(np.dot(word, 1.0 - 2.0 * convolve(info))) / norm
        payloads[index] = bits_to_int(info[:PAYLOAD_BITS_CODED])
        # a codeword this far from what was received is chance
        if ok and scores[index] >= floor:
            valid.append((scores[index], index))
    if not valid:
        return None
    score, index = max(valid)
    payload = int(payloads[index])
    if margin > 0 and score - float(np.max(scores[payloads != payload], initial=-np.inf)) \
            < margin:
        return None  # another codeword reads about as well: no telling which is the mark
    return payload, float(score)


def _spans(symbols: int, layout: Layout) -> list[tuple[int, int]]:
    """The whole run, and windows a little longer than one codeword, half overlapping."""
    window = layout.config.symbols + 1
    spans = [(0, symbols)]
    if symbols > window + 2:
        spans += [(a, a + window) for a in range(0, symbols - window + 1, window // 2)]
    return spans


def _sync_z(grid: _Grid, first: int, last: int) -> tuple[int, float]:
    """Best offset for symbols [first, last) and its lattice z-score."""
    offset = int(np.argmax(grid.sync[:, first:last].sum(axis=1)))
    spread = math.sqrt(float(grid.power[offset, first:last].sum()) / 2.0) + 1e-12
    return offset, float(grid.sync[offset, first:last].sum()) / spread


def _best_sync(grid: _Grid, layout: Layout) -> float:
    return max(_sync_z(grid, a, b)[1] for a, b in _spans(grid.sync.shape[1], layout))


def _search(grid: _Grid, layout: Layout, *, own_speed: bool
            ) -> tuple[list[Candidate], int]:
    """The candidate of every span (the whole run, then the windows) where one decodes,
    in span order; also the number of (span, offset) pairs searched, for the
    false-positive bound. ``own_speed``: the audio as played (the whole run is decoded
    down to ``WEAK_SYNC``); else one of the speeds tried after it, where every decode
    must stand out by ``OFF_SPEED_MARGIN``."""
    spans = _spans(grid.sync.shape[1], layout)
    found: list[Candidate] = []
    for first, last in spans:
        floor = WEAK_SYNC if own_speed and first == 0 and last == spans[0][1] else MIN_SYNC
        for offset, sync in _top_offsets(grid, first, last):
            if sync < floor:
                break  # not on the lattice: no need to decode
            # the run decoded at every position it may hold in the cycle
            words = _words(grid.soft[offset, first:last], layout)
            if sync < MIN_SYNC:
                word = best_codeword(words, WEAK_SCORE, WEAK_MARGIN)
            else:
                word = best_codeword(words, margin=0.0 if own_speed else OFF_SPEED_MARGIN)
            if word is None:
                continue
            found.append(Candidate(word[0], word[1], sync, first, last, offset))
            break
    return found, len(spans) * grid.sync.shape[0]


def _top_offsets(grid: _Grid, first: int, last: int) -> list[tuple[int, float]]:
    """The ``DECODE_OFFSETS`` offsets with the highest lattice z-scores, best first."""
    spread = np.sqrt(grid.power[:, first:last].sum(axis=1) / 2.0) + 1e-12
    z = grid.sync[:, first:last].sum(axis=1) / spread
    order = np.argsort(-z)[:DECODE_OFFSETS]
    return [(int(o), float(z[o])) for o in order]


def false_positive_probability(sync: float, trials: int, rotations: int) -> float:
    """Bound on the chance that unmarked audio yields a CRC-valid codeword at a grid
    offset whose z-score reaches ``sync``: a union bound over the ``trials`` offsets
    searched of the normal tail, times ``rotations`` decodes, times the CRC's 2^-16."""
    tail = 0.5 * math.erfc(sync / math.sqrt(2.0))
    return float(min(1.0, trials * tail * rotations / 65536.0))


@dataclass(frozen=True)
class Look:
    """What a search found where it first found anything: every span's candidate (in
    span order: the whole run, then the windows), at ``speed``, the run's length in
    ``symbols``, and the (span, offset) pairs searched up to then (``trials``, for the
    false-positive bound)."""

    candidates: tuple[Candidate, ...]
    speed: float
    symbols: int
    trials: int

    @property
    def best(self) -> Candidate:
        """The candidate at the best-synchronised offset (the first of equals)."""
        return max(self.candidates, key=lambda c: c.sync)


def search(samples: np.ndarray, sample_rate: int, layout: Layout, *,
           speeds: bool = True) -> tuple[Look | None, int]:
    """Search float mono ``samples`` (shape ``(n,)``, any rate >= 8 kHz) as
    :func:`detect_samples` does; the look that found a mark (None if none did) and the
    (span, offset) pairs searched in all.

    Raises:
        ValueError: ``samples`` is not one-dimensional.
    """
    cfg = layout.config
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("detect needs mono samples")
    trials = 0
    for speed in (1.0, *(SPEEDS if speeds else ())):
        x8 = np.asarray(soxr.resample(x, sample_rate / speed, cfg.analysis_rate, quality="MQ"),
                        dtype=np.float64)
        if speed == 1.0:
            # A strong echo is undone first: read through it, a run of symbols can
            # still sit on the lattice and decode to a wrong codeword that passes the
            # CRC (seen once in ~50 clips under a 150 ms echo at 0.6).
            echo = find_echo(x8, cfg.analysis_rate)
            if echo is not None:
                found, trials = _look(remove_echo(x8, echo), layout, 1.0, trials)
                if found is not None:
                    return found, trials
        else:
            coarse = _grid(x8, layout, shifts=1)
            if coarse is None or _best_sync(coarse, layout) < SCREEN_SYNC:
                continue
        found, trials = _look(x8, layout, speed, trials)
        if found is not None:
            return found, trials
    return None, trials


def detect_samples(samples: np.ndarray, sample_rate: int, layout: Layout, *,
                   speeds: bool = True) -> Detection:
    """See :meth:`QimWatermark.detect`."""
    found, _ = search(samples, sample_rate, layout, speeds=speeds)
    if found is None:
        return Detection(found=False)
    best = found.best
    start_s, end_s = seconds_of(best, found.speed, layout)
    return Detection(
        found=True, payload=best.payload,
        false_positive_probability=candidate_fpp(best.sync, found.trials, layout),
        start_s=start_s, end_s=end_s, speed=found.speed)


def seconds_of(candidate: Candidate, speed: float, layout: Layout) -> tuple[float, float]:
    """Where (s, rounded to ms) in the audio searched the candidate's symbols lie."""
    cfg = layout.config
    offset = _offset_samples(candidate.offset, layout)
    scale = 1.0 / (cfg.analysis_rate * speed)
    return (round((offset + candidate.first * cfg.symbol_samples) * scale, 3),
            round((offset + candidate.last * cfg.symbol_samples) * scale, 3))


def candidate_fpp(sync: float, trials: int, layout: Layout, searches: int = 1) -> float:
    """:func:`false_positive_probability` of a candidate at ``sync`` among ``trials``
    (span, offset) pairs, each decoded at every position and up to ``DECODE_OFFSETS``
    offsets. A candidate under ``MIN_SYNC`` (the whole run's, ``WEAK_SYNC`` and
    ``WEAK_SCORE``, ``WEAK_MARGIN``) adds to the bound at ``MIN_SYNC`` the chance that
    a weak read of ``searches`` searches (``DECODE_OFFSETS`` offsets in two looks at
    speed 1.0 each: as heard, and with an echo undone) stands out and passes the CRC."""
    rotations = ROTATIONS_PER_SYMBOL * layout.config.symbols * DECODE_OFFSETS
    if sync >= MIN_SYNC:
        return false_positive_probability(sync, trials, rotations)
    weak = 2 * searches * DECODE_OFFSETS * WEAK_CHANCE / 65536.0
    return float(min(1.0, false_positive_probability(MIN_SYNC, trials, rotations) + weak))


def _look(x8: np.ndarray, layout: Layout, speed: float,
          trials: int) -> tuple[Look | None, int]:
    """Search ``x8`` (at the analysis rate, played at ``speed``); what it found if it
    found a mark, and the trial count with this search's offsets added."""
    grid = _grid(x8, layout)
    if grid is None:
        return None, trials
    candidates, tried = _search(grid, layout, own_speed=speed == 1.0)
    trials += tried
    if not candidates:
        return None, trials
    return Look(tuple(candidates), speed, grid.sync.shape[1], trials), trials
