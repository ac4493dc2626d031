"""An enrollment ends within its effort's time: ``balanced``'s refinement is cut short by
the enrollment's deadline, less the work after it, timed by the fit's own evaluations."""

from __future__ import annotations

import time
from typing import Any
from unittest import mock

import numpy as np
import pytest

import voxclone
from voxclone.audio import Audio
from voxclone.clone import deadline as deadline_module
from voxclone.clone import fit as fit_module
from voxclone.clone import pitch_rate_match
from voxclone.clone.deadline import AFTER_FIT_EVALUATIONS, ENROLL_DEADLINE_S, TimedEvaluator
from voxclone.clone.fit import REFINE_SECONDS, VoiceFitter
from voxclone.clone.search import SearchResult
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.speaker import default_encoder


@pytest.fixture(scope="module")
def fitter() -> VoiceFitter:
    return VoiceFitter(default_engine(), default_encoder(), stock_packs())


def test_the_time_left_sets_aside_the_work_after_the_fit_in_evaluations() -> None:
    def slow(style: np.ndarray) -> np.ndarray:
        time.sleep(0.05)
        return style

    timed = TimedEvaluator(slow)
    np.testing.assert_array_equal(timed(np.ones(3)), np.ones(3))  # passes results through
    timed(np.ones(3))
    deadline = time.monotonic() + 10.0
    left = timed.time_left(deadline)
    assert 10.0 - AFTER_FIT_EVALUATIONS * 0.15 < left <= 10.0 - AFTER_FIT_EVALUATIONS * 0.05
    assert 0.05 * 4 <= timed.seconds_for(4) < 0.15 * 4
    # a slower machine (slower evaluations) is left less
    slower = TimedEvaluator(slow)
    slower._seconds = [0.5]
    assert slower.time_left(deadline) < left


class _Ascent:
    """Stands in for the gradient ascent: records its budget, gains 0.01."""

    def __init__(self) -> None:
        self.budgets: list[tuple[float, float]] = []

    def __call__(self, start: Any, start_score: float, *args: Any, budget_s: float,
                 **kwargs: Any) -> SearchResult:
        self.budgets.append((budget_s, time.monotonic()))
        return SearchResult(start, start_score + 0.01, 1, 0.0)


def test_the_refinement_gets_what_the_deadline_leaves(fitter: VoiceFitter,
                                                      joe_reference: Audio) -> None:
    target = default_encoder().embed(joe_reference)
    ascent = _Ascent()
    with mock.patch.object(fit_module.gradient_fit, "ascend", ascent):
        fitter.fit(target, "balanced")  # no deadline: the effort's time
        far = fitter.fit(target, "balanced", deadline=time.monotonic() + 1000.0)
        deadline = time.monotonic() + 20.0
        near = fitter.fit(target, "balanced", deadline=deadline)
    assert [b for b, _ in ascent.budgets[:2]] == [REFINE_SECONDS["balanced"]] * 2
    assert far.warning is None and near.warning is None
    budget, called = ascent.budgets[2]
    # the time to the deadline, less at least ten evaluations of a probe (~0.5 s each)
    assert 0 < budget < deadline - called - AFTER_FIT_EVALUATIONS * 0.01
    assert budget > deadline - called - AFTER_FIT_EVALUATIONS * 5.0


def test_a_deadline_that_leaves_less_than_a_first_step_keeps_the_start(
        fitter: VoiceFitter, joe_reference: Audio) -> None:
    """The ascent's preparation and first step run whatever its budget: a deadline that
    leaves less than they take does not start it (here ~35 s against 10 000 evaluations)."""
    target = default_encoder().embed(joe_reference)
    ascent = _Ascent()
    with mock.patch.object(fit_module.gradient_fit, "ascend", ascent):
        with mock.patch.object(deadline_module, "FIRST_STEP_EVALUATIONS", 10_000.0):
            kept = fitter.fit(target, "balanced", deadline=time.monotonic() + 40.0)
        cut = fitter.fit(target, "balanced", deadline=time.monotonic() + 40.0)
    assert kept.evaluations == 0 and kept.warning is not None
    assert len(ascent.budgets) == 1 and 0 < ascent.budgets[0][0] < 40.0
    assert cut.warning is None


def test_a_deadline_already_past_keeps_the_quick_fit_and_says_so(
        fitter: VoiceFitter, joe_reference: Audio, caplog: pytest.LogCaptureFixture) -> None:
    target = default_encoder().embed(joe_reference)
    ascent = _Ascent()
    seen: list[tuple[float, float]] = []
    with mock.patch.object(fit_module.gradient_fit, "ascend", ascent), \
            caplog.at_level("WARNING", logger="voxclone.clone.fit"):
        result = fitter.fit(target, "balanced", deadline=time.monotonic(),
                            progress=lambda done, score: seen.append((done, score)))
    assert not ascent.budgets and result.evaluations == 0
    assert seen == [(1.0, result.score)]  # the bar ends on the quick fit's score
    start = result.conditioning.style(fitter.packs, len(fitter.probe_ids))
    assert float(fitter.evaluate(start) @ target) > 0.5
    assert result.warning is not None and result.warning.startswith(
        "no time was left for the balanced refinement by the enrollment's deadline")
    assert result.warning in caplog.text


def test_enrollment_reads_the_tempo_then_fits_by_its_deadline(
        joe_reference: Audio) -> None:
    """``balanced`` gives its fit the deadline counted from the call, and transcribes
    the reference for its tempo before the fit, so the deadline counts that too;
    ``fast`` has no deadline."""
    order: list[str] = []
    deadlines: list[float | None] = []
    real_fit, real_tempo = VoiceFitter.fit, pitch_rate_match.reference_tempo

    def fit(self: VoiceFitter, *args: Any, deadline: float | None = None,
            **kwargs: Any) -> SearchResult:
        order.append("fit")
        deadlines.append(deadline)
        return real_fit(self, *args, deadline=deadline, **kwargs)

    def tempo(reference: Audio, *, quick: bool = False) -> float:
        order.append("tempo")
        return real_tempo(reference, quick=quick)

    # no refinement: the test times the call, not the ascent
    with mock.patch.object(VoiceFitter, "fit", fit), \
            mock.patch.object(pitch_rate_match, "reference_tempo", tempo), \
            mock.patch.dict(REFINE_SECONDS, {"balanced": 0.0}):
        began = time.monotonic()
        voice = voxclone.enroll("ada", joe_reference, effort="balanced", save=False,
                                i_am_the_speaker=True)
        voxclone.enroll("ada", joe_reference, effort="fast", save=False,
                        i_am_the_speaker=True)
    assert order == ["tempo", "fit", "fit"]
    limit = ENROLL_DEADLINE_S["balanced"]
    assert limit is not None and limit < 60.0
    first = deadlines[0]
    assert first is not None and began + limit <= first <= began + limit + 2.0
    assert deadlines[1] is None
    assert voice.effort == "balanced"
