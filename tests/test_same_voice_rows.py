"""clone_quality's same-voice rows: a row that keeps an earlier row's voice and measures
only its rate factor again, so that a pair differs in that factor alone."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voxclone.clone import pitch_rate_match
from voxclone.clone.pitch_rate_match import PitchRateMatch
from voxclone.consent.voice_seal import seal_holds, seal_voice

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import clone_quality as cq
import clone_variants as cv
from same_voice import MatchCall, SameVoiceError, rerated

from tests.test_profile import make_profile


class FakeFitter:
    """Answers the match as a fitter would, with the rate factor the settings choose."""

    def __init__(self, shift: float = 1.5, widen: float = 1.2) -> None:
        self.shift, self.widen = shift, widen
        self.seen: list[tuple[Any, ...]] = []

    def match_pitch_rate(self, *args: Any, **kwargs: Any) -> PitchRateMatch:
        self.seen.append((args, kwargs))
        # read as the match reads it, at call time: the row's settings patch the class
        rate = 1.2 if pitch_rate_match.PitchRateSettings().rate_from_words else 0.9
        return PitchRateMatch(self.shift, rate, 0.0, self.widen)


def enrolled_voice(shift: float = 1.5, widen: float = 1.2):  # type: ignore[no-untyped-def]
    return seal_voice(dataclasses.replace(make_profile(), rate=0.9, pitch_shift=shift,
                                          pitch_range=widen))


def test_the_row_keeps_the_voice_and_takes_the_rate_its_settings_read() -> None:
    fitter = FakeFitter()
    call = MatchCall(fitter, ("conditioning", "prosody"), {"effort": "balanced"})  # type: ignore[arg-type]
    voice = enrolled_voice()
    words = cv.parse_effort("balanced+wordrate+samevoice")
    kept, _seconds = rerated(voice, [call], lambda: cv.matching(words))
    assert kept.rate == pytest.approx(1.2)
    assert kept.conditioning.weights == voice.conditioning.weights
    np.testing.assert_array_equal(kept.conditioning.delta, voice.conditioning.delta)
    assert (kept.pitch_shift, kept.pitch_range, kept.formant_ratio) == (
        voice.pitch_shift, voice.pitch_range, voice.formant_ratio)
    assert seal_holds(kept)  # it can be spoken
    assert fitter.seen == [(("conditioning", "prosody"), {"effort": "balanced"})]
    # with +peakrate the row reads the peaks again (the earlier row's factor, here); as
    # shipped (no rate suffix) it reads the words, the default since stop 74
    peaks = cv.parse_effort("balanced+peakrate+samevoice")
    again, _ = rerated(voice, [call], lambda: cv.matching(peaks))
    assert again.rate == pytest.approx(voice.rate)
    shipped = cv.parse_effort("balanced+samevoice")
    assert rerated(voice, [call], lambda: cv.matching(shipped))[0].rate == pytest.approx(1.2)


def test_a_tempo_texts_row_measures_the_rate_on_more_sentences() -> None:
    """``+tempotexts`` gives the effort ``fit.MORE_PROSODY_TEXTS`` for the rate alone,
    while the row's match runs, and leaves the shipped sentences after it."""
    from voxclone.clone import fit

    seen: list[tuple[str, ...]] = []

    class Reading(FakeFitter):
        def match_pitch_rate(self, *args: Any, **kwargs: Any) -> PitchRateMatch:
            seen.append(fit.TEMPO_TEXTS[kwargs["effort"]])
            return super().match_pitch_rate(*args, **kwargs)

    call = MatchCall(Reading(), (), {"effort": "balanced"})  # type: ignore[arg-type]
    row = cv.parse_effort("balanced+tempotexts+samevoice")
    assert row.tempo_texts and row.same_voice and row.effort == "balanced"
    shipped = fit.TEMPO_TEXTS["balanced"]
    rerated(enrolled_voice(), [call], lambda: cv.matching(row))
    assert seen == [fit.MORE_PROSODY_TEXTS] and fit.TEMPO_TEXTS["balanced"] == shipped


def test_a_match_that_moves_the_pitch_or_did_not_run_once_is_refused() -> None:
    voice = enrolled_voice()
    moved = MatchCall(FakeFitter(shift=2.0), (), {})  # type: ignore[arg-type]
    with pytest.raises(SameVoiceError, match="moved the pitch"):
        rerated(voice, [moved], lambda: cv.matching(cv.parse_effort("fast")))
    call = MatchCall(FakeFitter(), (), {})  # type: ignore[arg-type]
    for calls in ([], [call, call]):
        with pytest.raises(SameVoiceError, match="not once"):
            rerated(voice, calls, lambda: cv.matching(cv.parse_effort("fast")))


def test_a_same_voice_row_names_its_earlier_row() -> None:
    assert cv.same_voice_base("balanced+wordrate+samevoice") == "balanced"
    assert cv.same_voice_base("fast-notone+samevoice+wordrate") == "fast-notone"
    assert cv.same_voice_base("balanced+tempotexts+samevoice") == "balanced"
    args = cq.parse_args(["--efforts", "balanced,balanced+wordrate+samevoice"])
    assert args.efforts == ["balanced", "balanced+wordrate+samevoice"]
    with pytest.raises(SystemExit):
        cq.parse_args(["--efforts", "balanced+wordrate+samevoice,balanced"])
    with pytest.raises(SystemExit):
        cq.parse_args(["--efforts", "fast,balanced+wordrate+samevoice"])
