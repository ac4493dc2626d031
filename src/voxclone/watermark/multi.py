"""Every mark in a file that joins several marked audios (two clones in a podcast, two
takes of one line): :func:`detect_all_samples`.

The search is the single-mark one (:func:`voxclone.watermark.detect.search`), which
already decodes every window of a codeword and a symbol (2.3 s, half overlapping) at
the speed where it first finds a mark; here the windows are kept rather than only the
best one. Windows in a row with the same payload make one mark, reported from the
first window's start to the last one's end. A stretch no window read that is long
enough to hold a mark (the boundary between two marks, a mark too weak for windows,
one at another speed) is searched again on its own, the same way, and so on inside it.
A mark the whole run decoded but no window did (a weak mark spread over the whole
audio) is reported over the whole run, as :func:`detect_samples` reports it.

Two marks of one payload with no other mark between them are one mark when the
stretch between them is what a pause inside one synthesis leaves: the pause (at most
``MERGE_GAP_S``, the longest a synthesis puts between sentences) and, at its edges,
audio no window read (a window holding too much of the pause does not decode, so the
windows that read a mark stop up to a hop short of it on either side: ``UNREAD_HOPS``),
with at most ``UNREAD_SOUND_SYMBOLS`` of sound in all. Sound is told from silence by
energy in the mark's band (:mod:`voxclone.watermark.sound`, no model). Other speech
between two plays of one synthesis is sound the windows read as no mark, so the plays
stay two marks (3 s of it leaves at least 1.7 s of sound between them once the marks'
windows reach into it); plays with only silence between them are one mark, as a pause.

False positives: a mark is reported at all only when the single-mark search finds one,
so unmarked audio is flagged exactly as often as by :func:`detect_samples`. Once one is
found, every window searched (in the first search and in those of the stretches around
it) could add a chance decode; each mark's ``false_positive_probability`` is therefore
the union bound over all of them (:func:`false_positive_probability` with every search's
(span, offset) pairs), so the sum of the reported probabilities bounds the chance that
any one of them is spurious. Joining two marks into one adds no mark and no search.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from voxclone.watermark.base import Detection
from voxclone.watermark.detect import Candidate, Look, candidate_fpp, search, seconds_of
from voxclone.watermark.layout import Layout
from voxclone.watermark.sound import Sound

#: The longest pause (s) inside one synthesis that its marks are joined across: a
#: synthesis puts at most 3 s between sentences (``sentence_pause``; longer silences are
#: no speaking habit, :data:`voxclone.audio.pauses.MAX_PAUSE_S`). The stretch between
#: two marks may be longer by the audio no window read at its edges (``UNREAD_HOPS``),
#: so a silence of ~5 s is joined too (edited in, say): it holds no other audio that
#: the mark would then claim.
MERGE_GAP_S = 3.0
#: Hops of the windows (4 symbols, 1.02 s each) that may go unread around a pause, one
#: on either side: a window wholly in the synthesis's sound decodes as a rule, so the
#: last one read before a pause ends less than a hop before it (as under white noise at
#: 20-30 dB, where those straddling the pause no longer decode), the first after alike.
UNREAD_HOPS = 2
#: The sound (in symbols: one hop, 1.02 s) that may lie between two marks joined into
#: one, in all. Less than the hops: the windows that straddle a pause's edge with most
#: of their symbols in sound decode too (12 keys, pauses of 1-5 s: at most 0.54 s of
#: sound left unread, 0.98 s under white noise at 30 dB), while 3 s of other speech
#: between two plays of one synthesis leaves at least 1.7 s once their windows reach in.
UNREAD_SOUND_SYMBOLS = 4
#: A stretch that no found mark covers is searched again only if it is at least this
#: many codeword periods (plus a symbol) long: a shorter one cannot hold a whole mark.
MIN_PART_PERIODS = 1
#: At most this many searches per call (each one a stretch between marks, at every speed).
MAX_SEARCHES = 64


@dataclass(frozen=True)
class _Mark:
    payload: int
    start_s: float
    end_s: float
    sync: float  # the best lattice z-score of its windows
    speed: float


@dataclass
class _Budget:
    searches: int = 0
    trials: int = 0


def detect_all_samples(samples: np.ndarray, sample_rate: int, layout: Layout, *,
                       speeds: bool = True) -> list[Detection]:
    """Every mark in float mono ``samples`` (shape ``(n,)``, any rate >= 8 kHz), in time
    order; an empty list when there is none. See the module's description.

    Raises:
        ValueError: ``samples`` is not one-dimensional.
    """
    x = np.asarray(samples)
    if x.ndim != 1:
        raise ValueError("detect needs mono samples")
    budget = _Budget()
    cfg = layout.config
    hop_s = (cfg.symbols + 1) // 2 * cfg.symbol_seconds  # the windows' (detect._spans)
    joins = _Joins(Sound.of(x, sample_rate, layout), MERGE_GAP_S + UNREAD_HOPS * hop_s,
                   UNREAD_SOUND_SYMBOLS * cfg.symbol_seconds)
    marks = joins.merged(_scan(x, sample_rate, layout, 0.0, budget, joins, speeds=speeds))
    return [Detection(found=True, payload=m.payload, start_s=m.start_s, end_s=m.end_s,
                      speed=m.speed,
                      false_positive_probability=candidate_fpp(m.sync, budget.trials, layout,
                                                                budget.searches))
            for m in marks]


def _scan(x: np.ndarray, rate: int, layout: Layout, t0: float, budget: _Budget,
          joins: _Joins, *, speeds: bool) -> list[_Mark]:
    """The marks in ``x`` (which starts ``t0`` s into the audio), unsorted."""
    budget.searches += 1
    look, trials = search(x, rate, layout, speeds=speeds)
    budget.trials += trials
    if look is None:
        return []
    duration = len(x) / rate
    marks = joins.merged(_window_marks(look, layout, t0, t0 + duration))
    if not marks:  # only the whole run decoded: one mark over all of it
        return [_mark(look.best, look, layout, t0, t0 + duration)]
    found = list(marks)
    min_part = (MIN_PART_PERIODS * layout.config.symbols + 1) * layout.config.symbol_seconds
    for a, b in _uncovered(marks, t0, t0 + duration):
        if b - a >= min_part and budget.searches < MAX_SEARCHES:
            part = x[round((a - t0) * rate): round((b - t0) * rate)]
            found += _scan(part, rate, layout, a, budget, joins, speeds=speeds)
    if look.best.payload not in {m.payload for m in found}:
        found.append(_mark(look.best, look, layout, t0, t0 + duration))
    return found


def _window_marks(look: Look, layout: Layout, t0: float, t1: float) -> list[_Mark]:
    """The windows' candidates (all but the whole run's), one mark each."""
    return [_mark(c, look, layout, t0, t1) for c in look.candidates if not _is_whole(c, look)]


def _is_whole(candidate: Candidate, look: Look) -> bool:
    """Whether the candidate is the whole run's (the search's first span)."""
    return candidate.first == 0 and candidate.last == look.symbols


def _mark(candidate: Candidate, look: Look, layout: Layout, t0: float, t1: float) -> _Mark:
    start, end = seconds_of(candidate, look.speed, layout)
    return _Mark(candidate.payload, round(min(t0 + start, t1), 3), round(min(t0 + end, t1), 3),
                 candidate.sync, look.speed)


def _uncovered(marks: list[_Mark], t0: float, t1: float) -> list[tuple[float, float]]:
    """The stretches of [t0, t1] that no mark covers."""
    parts: list[tuple[float, float]] = []
    at = t0
    for mark in sorted(marks, key=lambda m: m.start_s):
        if mark.start_s > at:
            parts.append((at, mark.start_s))
        at = max(at, mark.end_s)
    if t1 > at:
        parts.append((at, t1))
    return parts


@dataclass(frozen=True)
class _Joins:
    """Which marks of one payload are one mark (see the module's description)."""

    sound: Sound
    max_gap_s: float  # MERGE_GAP_S and UNREAD_HOPS of the windows
    unread_s: float  # UNREAD_SOUND_SYMBOLS in seconds

    def merged(self, marks: list[_Mark]) -> list[_Mark]:
        """In time order, with marks of one payload that follow each other (no other
        mark between them) joined where what lies between is a pause."""
        out: list[_Mark] = []
        for mark in sorted(marks, key=lambda m: (m.start_s, m.end_s)):
            last = out[-1] if out else None
            if last is not None and last.payload == mark.payload and self._pause(last, mark):
                out[-1] = replace(last, end_s=max(last.end_s, mark.end_s),
                                  sync=max(last.sync, mark.sync),
                                  speed=last.speed if last.sync >= mark.sync else mark.speed)
            else:
                out.append(mark)
        return out

    def _pause(self, first: _Mark, then: _Mark) -> bool:
        """Whether the stretch between two marks is a pause inside one synthesis: at
        most ``max_gap_s`` long, with at most ``unread_s`` of sound."""
        gap = then.start_s - first.end_s
        if gap <= 0:  # overlapping windows, or windows in a row
            return True
        if gap > self.max_gap_s:
            return False
        level = self.sound.level([(first.start_s, first.end_s), (then.start_s, then.end_s)])
        return self.sound.seconds(first.end_s, then.start_s, level) <= self.unread_s
