"""An enrollment's deadline: how long its refinement may take on this machine, now.

The refinement (:mod:`voxclone.clone.gradient_fit`, :mod:`voxclone.clone.search`) is
bounded by time, and the work around it is not: on a slow or busy machine the matches
after the fit take longer, and a fixed refinement time would carry the enrollment past
what its effort promises. So the refinement gets what is left before the enrollment's
deadline, less the work still to come, counted in the fit's own evaluations (a
rendering of the probe and its d-vector), which time the machine as it runs.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from voxclone.clone.search import Evaluator

logger = logging.getLogger(__name__)

#: Seconds from the start of an enrollment by which it should be done, per effort (None:
#: no deadline): a margin under the ~1 min and ~5 min that ``balanced`` and ``best``
#: promise. On a machine at its usual speed their refinement's own time
#: (:data:`voxclone.clone.fit.REFINE_SECONDS`) ends first; on a machine 2.2x slower,
#: ``balanced`` took 49.9 s (the slowest 52.9 s) with it and 60.8 s (68.3 s) without,
#: about one ascent step fewer (``bench/results/enroll_deadline.md``, 6 speakers).
ENROLL_DEADLINE_S: dict[str, float | None] = {"stock": None, "fast": None,
                                              "balanced": 57.0, "best": 295.0}

#: The work after the refinement (its runtime check, the pitch and rate match's
#: renderings, the formant and tone matches, storing), in evaluations: it took 5.0-8.9
#: of them (a median 6.8-7.5) at ``balanced`` on 6 speakers, on the machine as it was
#: and 2.2x slower (``bench/results/enroll_deadline.md``).
AFTER_FIT_EVALUATIONS = 10.0

#: The refinement's own start, which runs whatever its budget (the ascent's
#: preparation and first step: ~4 and ~6 evaluations at ``balanced``), in evaluations:
#: a deadline that leaves less keeps the fit's start.
FIRST_STEP_EVALUATIONS = 10.0

#: An evaluation's time when the fit made none to time (no map and no mixture).
_UNTIMED_EVALUATION_S = 0.6


class TimedEvaluator:
    """An evaluator that times its calls: how fast the machine renders and embeds now."""

    def __init__(self, evaluate: Evaluator) -> None:
        self._evaluate = evaluate
        self._seconds: list[float] = []

    def __call__(self, style: np.ndarray) -> np.ndarray:
        began = time.monotonic()
        try:
            return self._evaluate(style)
        finally:
            self._seconds.append(time.monotonic() - began)

    def seconds_for(self, evaluations: float) -> float:
        """The time of that many evaluations at the mean of those so far."""
        each = float(np.mean(self._seconds)) if self._seconds else _UNTIMED_EVALUATION_S
        return evaluations * each

    def time_left(self, deadline: float) -> float:
        """Seconds from now to ``deadline`` (monotonic) less the work after the fit,
        :data:`AFTER_FIT_EVALUATIONS` evaluations."""
        return deadline - time.monotonic() - self.seconds_for(AFTER_FIT_EVALUATIONS)


def refinement_budget(budget: float, deadline: float, timed: TimedEvaluator,
                      effort: str) -> float:
    """The refinement's time in seconds: ``budget``, cut to what ``deadline``
    (monotonic) leaves after the work that follows the fit; 0 when that is less than
    the refinement's first step (:data:`FIRST_STEP_EVALUATIONS`)."""
    left = timed.time_left(deadline)
    if left >= budget:
        return budget
    logger.info("the %s refinement is cut to %.1f s (of %.0f s) to end the enrollment by "
                "its deadline", effort, max(left, 0.0), budget)
    return left if left >= timed.seconds_for(FIRST_STEP_EVALUATIONS) else 0.0
