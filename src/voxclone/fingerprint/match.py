"""Finding a clip among the fingerprints of every synthesis: which one it was cut from,
where, and how sure that is.

Every query frame whose 16 bits equal a stored frame's, or differ in one bit, votes for
the alignment that puts them together; the alignments with the most votes are checked
bit by bit. A true match differs in 5-25 % of its bits (a clean copy to a 12 kbit/s
voice message, `bench/results/fingerprint.md`); unrelated speech in about half, with a
spread that shrinks with the bits compared. The score is that agreement as a z-score
over the bits compared, divided by how much wider than independent bits chance
agreements spread (``NULL_SPREAD``: neighbouring frames overlap), and the
false-positive probability a union bound of its normal tail over every stored frame,
sub-hop shift and window tried.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from voxclone.fingerprint.extract import (
    DEFAULT_CONFIG,
    Fingerprint,
    FingerprintConfig,
    shifted_fingerprints,
)

#: Sub-hop offsets at which a query is fingerprinted (4 ms apart).
SHIFTS = 4
#: Playback speeds a clip is searched at, in turn, until one matches: a fingerprint holds
#: within about 1 % (``bench/results/fingerprint.md``), so these cover 0.95-1.05.
SPEEDS = (1.0, 1.02, 0.98, 1.04, 0.96)
#: Alignments checked bit by bit per shift (the most voted).
CHECKED = 8
#: A window of this many frames (2 s) is scored on its own too, every half window: a
#: clip that joins a synthesis to other audio matches in part.
WINDOW_FRAMES = 125
#: A clip longer than this many frames (16 s) is searched in segments.
SEGMENT = 1000
#: The part of a window that matched: where, over this many frames (0.15 s), under
#: this share of bits differ (true matches 5-25 %, chance 50 %).
TRIM_FRAMES = 9
TRIM_SHARE = 0.35
#: Fewer active frames than this in common (0.4 s of speech) is no match.
MIN_FRAMES = 24
#: How much wider than independent bits the agreement of unrelated audio spreads (its
#: z-score's standard deviation: 1.5-1.7 measured on LibriSpeech and on voxclone speech
#: in the same voices as the stored syntheses; 2.0 for the heavier tail).
NULL_SPREAD = 2.0
#: A match is reported when its false-positive probability is at most this.
MAX_FALSE_POSITIVE = 1e-6
#: The words a frame's 16 bits can make.
WORDS = 1 << 16


@lru_cache(maxsize=1)
def popcount_table() -> np.ndarray:
    """The number of set bits of every 16-bit word, int64 ``(65536,)`` (made on first
    use: nothing is computed at import)."""
    return np.array([bin(value).count("1") for value in range(WORDS)], dtype=np.int64)


#: A frame's word, and it with each one bit flipped: the stored words that vote.
_ONE_BIT = np.array([0] + [1 << b for b in range(16)], dtype=np.uint16)


@dataclass(frozen=True)
class Match:
    """A clip found in a stored synthesis's fingerprint.

    Attributes:
        synthesis_id: the synthesis (its watermark payload).
        score: the agreement's z-score over chance (see the module's docstring).
        false_positive_probability: the union bound on a chance match this good.
        start_s, end_s: the part of the clip that matched (seconds, as played).
        offset_s: where in the synthesis that part starts (seconds).
        bit_errors: the share of compared bits that differ.
        speed: the playback speed it was found at (1.0: as made).
    """

    synthesis_id: int
    score: float
    false_positive_probability: float
    start_s: float
    end_s: float
    offset_s: float
    bit_errors: float
    speed: float = 1.0


class FingerprintIndex:
    """The stored fingerprints, joined and indexed by their frames' bits.

    Args:
        items: ``(synthesis_id, fingerprint)`` pairs, all cut with ``config``.
    """

    def __init__(self, items: list[tuple[int, Fingerprint]],
                 config: FingerprintConfig = DEFAULT_CONFIG) -> None:
        self.config = config
        self.ids = np.array([sid for sid, _ in items], dtype=np.int64)
        lengths = np.array([len(fp) for _, fp in items], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.words = np.concatenate([fp.words for _, fp in items]) if items else \
            np.zeros(0, dtype=np.uint16)
        self.active = np.concatenate([fp.active for _, fp in items]) if items else \
            np.zeros(0, dtype=bool)
        usable = np.flatnonzero(self.active)
        used = self.words[usable]
        self._order = usable[np.argsort(used, kind="stable")].astype(_positions(self.frames))
        # where each word's frames begin in _order (and end, at the next word's): a
        # lookup is two reads, not a binary search of every stored frame
        self._bucket = np.concatenate([[0], np.cumsum(np.bincount(
            used, minlength=WORDS))]).astype(np.int64)

    @property
    def frames(self) -> int:
        """Frames stored in all."""
        return len(self.words)

    def extended(self, items: list[tuple[int, Fingerprint]]) -> FingerprintIndex:
        """This index with ``items`` added after its own: the same arrays as an index
        built from all of them in that order, made by merging the new frames into the
        sorted ones instead of sorting everything again. ``self`` is left as it was."""
        if not items:
            return self
        added = FingerprintIndex(items, self.config)
        merged = copy.copy(self)
        merged.ids = np.concatenate([self.ids, added.ids])
        merged.starts = np.concatenate([self.starts, added.starts[1:] + self.frames])
        merged.words = np.concatenate([self.words, added.words])
        merged.active = np.concatenate([self.active, added.active])
        # after the equal words already held, as a stable sort of the whole puts them
        at = self._bucket[added.words[added._order].astype(np.int64) + 1]
        merged._bucket = self._bucket + added._bucket
        kind = _positions(merged.frames)
        merged._order = np.insert(self._order.astype(kind, copy=False), at,
                                  (added._order.astype(np.int64) + self.frames).astype(kind))
        return merged

    def search(self, queries: list[Fingerprint], *,
               max_false_positive: float = MAX_FALSE_POSITIVE, searches: int = 1) -> Match | None:
        """The best match of a clip fingerprinted at several sub-hop shifts (see
        :func:`voxclone.fingerprint.extract.shifted_fingerprints`), if its false-positive
        probability is at most ``max_false_positive`` (1.0: the best alignment found,
        however poor; None only when there was nothing to compare). ``searches``: how
        many such searches of the clip were made in all (at other speeds), for the
        union bound."""
        best: tuple[float, int, int, int, int, float] | None = None  # z, shift, k, a, b, errors
        windows = 0
        for shift, query in enumerate(queries):
            # a long clip is searched in overlapping segments: the votes of a whole hour
            # would take gigabytes, and a segment holds any one window whole
            starts = range(0, max(1, len(query) - WINDOW_FRAMES), SEGMENT - WINDOW_FRAMES)
            windows = max(windows, len(starts) + _window_count(len(query)))
            for start in starts:
                part = Fingerprint(query.words[start:start + SEGMENT],
                                   query.active[start:start + SEGMENT])
                for k in self._voted(part):
                    scored = self._score(part, k)
                    if scored is not None and (best is None or scored[0] > best[0]):
                        best = (scored[0], shift, k - start, start + scored[1],
                                start + scored[2], scored[3])
        if best is None:
            return None
        z, shift, k, first, last, errors = best
        trials = max(1, self.frames) * len(queries) * windows * searches
        fpp = min(1.0, trials * 0.5 * math.erfc(z / math.sqrt(2.0)))
        if fpp > max_false_positive:
            return None
        synthesis = int(np.searchsorted(self.starts, k + first, side="right")) - 1
        step = self.config.frame_seconds
        lead = shift * step / len(queries)
        return Match(int(self.ids[synthesis]), round(z, 2), fpp,
                     round(lead + first * step, 3), round(lead + last * step, 3),
                     round((k + first - int(self.starts[synthesis])) * step, 3),
                     round(errors, 3))

    def _voted(self, query: Fingerprint) -> list[int]:
        """The alignments (stored position of the query's frame 0) with the most votes."""
        frames = np.flatnonzero(query.active)
        if len(frames) < MIN_FRAMES or len(self._order) == 0:
            return []
        probes = (query.words[frames][:, None] ^ _ONE_BIT[None, :]).reshape(-1) \
            .astype(np.int64)
        owner = np.repeat(frames, len(_ONE_BIT))
        lo = self._bucket[probes]
        counts = self._bucket[probes + 1] - lo
        total = int(counts.sum())
        if total == 0:
            return []
        begins = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        positions = self._order[np.arange(total) + begins]
        # 32-bit alignments sort in half the time (a query is at most SEGMENT frames)
        kind = np.int32 if self.frames < 2**31 - SEGMENT else np.int64
        alignments = np.sort(positions.astype(kind) - np.repeat(owner.astype(kind), counts))
        firsts = np.flatnonzero(np.concatenate([[True], alignments[1:] != alignments[:-1]]))
        votes = np.diff(np.concatenate([firsts, [total]]))
        values = alignments[firsts]
        # nearly every alignment has one vote: when eight have more, the top are among them
        several = np.flatnonzero(votes > 1)
        if len(several) >= CHECKED:
            values, votes = values[several], votes[several]
        top = np.argsort(-votes, kind="stable")[:CHECKED]
        return [int(v) for v in values[top]]

    def _score(self, query: Fingerprint, k: int) -> tuple[float, int, int, float] | None:
        """The best z-score of the query aligned at ``k`` (whole, or one window), the
        query frames [first, last) it covers and its share of differing bits."""
        n = len(query)
        # only the synthesis that the alignment's middle frame falls in
        middle = min(max(k + n // 2, 0), self.frames - 1)
        synthesis = int(np.searchsorted(self.starts, middle, side="right")) - 1
        lo = max(0, int(self.starts[synthesis]) - k)
        hi = min(n, int(self.starts[synthesis + 1]) - k)
        if hi - lo < MIN_FRAMES:
            return None
        stored = slice(k + lo, k + hi)
        both = query.active[lo:hi] & self.active[stored]
        errors = np.where(both, popcount_table()[query.words[lo:hi] ^ self.words[stored]],
                          0)
        bits = self.config.bands - 1
        spans = [(0, hi - lo)] + [(a, a + WINDOW_FRAMES)
                                  for a in range(0, hi - lo - WINDOW_FRAMES + 1,
                                                 WINDOW_FRAMES // 2)]
        best: tuple[float, int, int, float] | None = None
        for a, b in spans:
            compared = int(both[a:b].sum())
            if compared < MIN_FRAMES:
                continue
            share = float(errors[a:b].sum()) / (compared * bits)
            z = (0.5 - share) * 2.0 * math.sqrt(compared * bits) / NULL_SPREAD
            if best is None or z > best[0]:
                best = (z, a, b, share)
        if best is None:
            return None
        z, a, b, share = best
        a, b = _agreeing(errors[a:b], both[a:b], bits, a)
        return z, lo + a, lo + b, share


def search_clip(index: FingerprintIndex, samples: np.ndarray, sample_rate: int, *,
                shifts: int = SHIFTS, speeds: tuple[float, ...] = SPEEDS) -> Match | None:
    """Look float mono ``samples`` up in ``index``: at its own speed, then (if nothing
    was found) each of ``speeds`` after the first in turn, each later search counted in
    the match's false-positive bound."""
    for tried, speed in enumerate(speeds, 1):
        # played `speed` times faster: its samples as made come at sample_rate / speed
        queries = shifted_fingerprints(samples, sample_rate / speed, shifts, index.config)
        found = index.search(queries, searches=tried)
        if found is not None:
            scale = 1.0 / speed
            return replace(found, speed=speed, start_s=round(found.start_s * scale, 3),
                           end_s=round(found.end_s * scale, 3))
    return None


def _agreeing(errors: np.ndarray, both: np.ndarray, bits: int, first: int) -> tuple[int, int]:
    """The frames [a, b) of a matched window (its frames' bit ``errors`` where ``both``
    are active, from frame ``first``) from the first to the last where the match holds:
    the window may reach past a spliced piece into other audio."""
    smooth = np.ones(TRIM_FRAMES)
    differ = np.convolve(errors, smooth, mode="same")
    compared = np.convolve(both.astype(np.float64), smooth, mode="same") * bits
    # a frame of its own compared (pauses next to a piece belong to neither side), among
    # enough others that chance agreement is rare (3.6 standard deviations at 0.35)
    enough = compared >= (TRIM_FRAMES // 2 + 1) * bits
    holds = np.flatnonzero(both & enough & (differ < TRIM_SHARE * np.maximum(compared, 1)))
    if len(holds) == 0:
        return first, first + len(errors)
    return first + int(holds[0]), first + int(holds[-1]) + 1


def _positions(frames: int) -> type[np.unsignedinteger] | type[np.signedinteger]:
    """The integer type of positions among ``frames`` stored frames: 32 bits while they
    fit (19,000 hours of speech), which halves the largest of the index's arrays."""
    return np.uint32 if frames < 2**32 else np.int64


def _window_count(frames: int) -> int:
    return max(0, (frames - WINDOW_FRAMES) // (WINDOW_FRAMES // 2) + 1)
