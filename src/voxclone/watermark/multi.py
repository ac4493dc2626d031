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

False positives: a mark is reported at all only when the single-mark search finds one,
so unmarked audio is flagged exactly as often as by :func:`detect_samples`. Once one is
found, every window searched (in the first search and in those of the stretches around
it) could add a chance decode; each mark's ``false_positive_probability`` is therefore
the union bound over all of them (:func:`false_positive_probability` with every search's
(span, offset) pairs), so the sum of the reported probabilities bounds the chance that
any one of them is spurious.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from voxclone.watermark.base import Detection
from voxclone.watermark.detect import Candidate, Look, candidate_fpp, search, seconds_of
from voxclone.watermark.layout import Layout

#: Marks with the same payload less than this far apart (s) are one mark: the windows
#: between them did not decode (a pause, a boundary), and a pause between sentences
#: is at most 3 s.
MERGE_GAP_S = 3.0
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
    marks = _merged(_scan(x, sample_rate, layout, 0.0, budget, speeds=speeds))
    return [Detection(found=True, payload=m.payload, start_s=m.start_s, end_s=m.end_s,
                      speed=m.speed,
                      false_positive_probability=candidate_fpp(m.sync, budget.trials, layout))
            for m in marks]


def _scan(x: np.ndarray, rate: int, layout: Layout, t0: float, budget: _Budget, *,
          speeds: bool) -> list[_Mark]:
    """The marks in ``x`` (which starts ``t0`` s into the audio), unsorted."""
    budget.searches += 1
    look, trials = search(x, rate, layout, speeds=speeds)
    budget.trials += trials
    if look is None:
        return []
    duration = len(x) / rate
    marks = _window_marks(look, layout, t0, t0 + duration)
    if not marks:  # only the whole run decoded: one mark over all of it
        return [_mark(look.best, look, layout, t0, t0 + duration)]
    found = list(marks)
    min_part = (MIN_PART_PERIODS * layout.config.symbols + 1) * layout.config.symbol_seconds
    for a, b in _uncovered(marks, t0, t0 + duration):
        if b - a >= min_part and budget.searches < MAX_SEARCHES:
            part = x[round((a - t0) * rate): round((b - t0) * rate)]
            found += _scan(part, rate, layout, a, budget, speeds=speeds)
    if look.best.payload not in {m.payload for m in found}:
        found.append(_mark(look.best, look, layout, t0, t0 + duration))
    return found


def _window_marks(look: Look, layout: Layout, t0: float, t1: float) -> list[_Mark]:
    """The windows' candidates (all but the whole run's), joined into marks where
    windows in a row carry the same payload (windows come in time order)."""
    return _merged([_mark(c, look, layout, t0, t1) for c in look.candidates
                    if not _is_whole(c, look)])


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


def _merged(marks: list[_Mark]) -> list[_Mark]:
    """In time order, with marks of one payload that follow each other closely joined."""
    out: list[_Mark] = []
    for mark in sorted(marks, key=lambda m: (m.start_s, m.end_s)):
        last = out[-1] if out else None
        if last is not None and last.payload == mark.payload \
                and mark.start_s - last.end_s <= MERGE_GAP_S:
            out[-1] = replace(last, end_s=max(last.end_s, mark.end_s),
                              sync=max(last.sync, mark.sync),
                              speed=last.speed if last.sync >= mark.sync else mark.speed)
        else:
            out.append(mark)
    return out
