"""Formant match: give a clone its speaker's vocal-tract length.

Kokoro's style vector moves timbre only as far as its stock voices reach, and its one
male voice leaves many clones with formants a few percent off their speaker's (a
longer or shorter vocal tract). After the fit and the pitch match, enrollment tries
moving the clone's formants by a few ratios (PSOLA after playing the speech faster or
slower, :func:`voxclone.audio.pitch_shift.shift_pitch`, pitch and timing kept) and
keeps the ratio whose renderings' d-vectors come closest to the speaker's - only if
that beats the unmoved voice, and every ratio nearer 1, by :data:`MIN_GAIN`.

Three ratios are rendered (1 and 1 +- :data:`STEP`), a parabola in log ratio through
their cosines gives the peak (within :data:`RATIO_BOUNDS`), and the peak is tried too:
four resyntheses, so it fits in ``fast``'s time. Chosen on 24 calibration speakers
outside the benchmark (``fast``): held-out similarity +0.024 +- 0.008, closer for 8,
further for none; a grid of 15 ratios on the same renderings would have given +0.021
(docs/fidelity.md, "Formant match").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from voxclone.audio.types import Audio

logger = logging.getLogger(__name__)

#: The ratios tried first are 1 and 1 +- this.
STEP = 0.04
#: The ratio is kept within these (beyond them PSOLA's artefacts grow and the voice
#: stops sounding like the engine's speaker at all).
RATIO_BOUNDS = (0.9, 1.1)
#: A ratio other than 1 is kept only if it raises the mean cosine by this much.
MIN_GAIN = 0.01


@dataclass(frozen=True)
class FormantMatch:
    """The chosen formant ratio (1: none) and the cosines it was chosen by.

    Attributes:
        ratio: the factor on the clone's formants.
        score_before, score_after: mean cosine of the renderings to the speaker at
            ratio 1 and at ``ratio``.
        tried: every ratio tried, with its mean cosine.
    """

    ratio: float
    score_before: float
    score_after: float
    tried: tuple[tuple[float, float], ...]


def parabola_peak(ratios: Sequence[float], scores: Sequence[float]) -> float:
    """Where a parabola through three ``(ratio, score)`` points (in log ratio) peaks,
    within :data:`RATIO_BOUNDS`; the better end where it has no maximum."""
    x = np.log(np.asarray(ratios, dtype=np.float64))
    curve, slope, _ = np.polyfit(x, np.asarray(scores, dtype=np.float64), 2)
    low, high = RATIO_BOUNDS
    if curve >= 0:  # no maximum between: the better side's bound
        return high if scores[-1] > scores[0] else low
    return float(np.clip(np.exp(-slope / (2 * curve)), low, high))


def match_formants(renders: Sequence[Audio], target: np.ndarray,
                   move: Callable[[Audio, float], Audio],
                   embed: Callable[[Sequence[Audio]], np.ndarray]) -> FormantMatch:
    """Choose the formant ratio for a clone.

    Args:
        renders: the clone's speech as the engine renders it (the probe and a second
            sentence), before any resynthesis.
        target: the speaker's unit d-vector ``(256,)``.
        move: ``(render, ratio) -> audio`` as synthesis will speak it (with the voice's
            pitch shift, formants times ``ratio``).
        embed: the speaker encoder on a batch: clips -> unit d-vectors ``(clips, 256)``.
    Returns:
        The match; ratio 1 when no ratio gains :data:`MIN_GAIN` (the nearest ratio
        to 1 among those that each gain it over every nearer one otherwise).
    """
    if not renders:
        raise ValueError("match_formants needs at least one rendering")
    tried: dict[float, float] = {}

    def score(ratios: Sequence[float]) -> None:
        clips = [move(render, ratio) for ratio in ratios for render in renders]
        cosines = (embed(clips) @ target).reshape(len(ratios), len(renders)).mean(axis=1)
        tried.update(zip(ratios, cosines.tolist(), strict=True))

    first = (round(1.0 - STEP, 4), 1.0, round(1.0 + STEP, 4))
    score(first)
    peak = round(parabola_peak(first, [tried[r] for r in first]), 3)
    if min(abs(peak - r) for r in first) > STEP / 4:
        score([peak])
    before = tried[1.0]
    # The smallest move that pays: a ratio further from 1 must beat the best nearer one
    # by MIN_GAIN too, so a near-tie does not send the voice to the bound (on one
    # calibration speaker 1.1 scored 0.004 above 1.04 and held-out speech 0.14 below).
    best = 1.0
    for ratio in sorted(tried, key=lambda r: abs(np.log(r))):
        if tried[ratio] >= tried[best] + MIN_GAIN:
            best = ratio
    logger.debug("formant match: %s -> %.3f", {r: round(s, 3) for r, s in tried.items()},
                 best)
    return FormantMatch(best, before, tried[best], tuple(sorted(tried.items())))
