"""Pauses: measured between speech segments, and set around rendered sound."""

from __future__ import annotations

import numpy as np
import pytest

from voxclone.audio import Audio, detect_speech
from voxclone.audio.pauses import (
    MAX_PAUSE_S,
    POPULATION_PAUSE_S,
    VAD_PAD_S,
    pauses_between,
    reframe,
    sound_span,
    speaker_pause,
)
from voxclone.audio.pitch_shift import shift_pitch

from .conftest import piper_speak

RATE = 24_000


def _tone(seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.4 * np.sin(2 * np.pi * 180 * t + 0.3)).astype(np.float32)


def test_pauses_are_the_gaps_between_segments_with_the_vads_padding() -> None:
    segments = [(0.2, 1.0), (1.4, 2.0), (2.1, 3.0), (7.0, 8.0)]
    # 0.4 and 0.1 s gaps, plus the 30 ms the VAD added at each side; 4 s is no habit
    assert pauses_between(segments) == pytest.approx((0.4 + 2 * VAD_PAD_S, 0.1 + 2 * VAD_PAD_S))
    assert MAX_PAUSE_S < 4.0
    assert pauses_between([(0.0, 1.0)]) == ()
    assert pauses_between([]) == ()


def test_a_speakers_pause_needs_many_pauses_to_leave_readers_pause() -> None:
    assert speaker_pause([]) is None
    assert speaker_pause([POPULATION_PAUSE_S] * 3) == pytest.approx(POPULATION_PAUSE_S)
    # one long pause moves the estimate a little, thirty more than halfway (in log)
    one, many = speaker_pause([1.2]), speaker_pause([1.0, 1.2, 1.4] * 10)
    assert one is not None and many is not None
    assert POPULATION_PAUSE_S < one < 0.6
    assert (POPULATION_PAUSE_S * 1.2) ** 0.5 < many < 1.2
    assert speaker_pause([0.2, 0.2]) < POPULATION_PAUSE_S  # type: ignore[operator]


def test_a_pause_in_real_speech_is_measured() -> None:
    first, second = (piper_speak(t) for t in ("The rain had stopped by noon.",
                                              "We went out to look at the river."))
    rate = first.sample_rate
    a, b = (x.samples[slice(*sound_span(x.samples, rate))]  # type: ignore[misc]
            for x in (first, second))
    for silence in (0.35, 1.2):
        clip = Audio(np.concatenate([a, np.zeros(round(silence * rate), np.float32), b]), rate)
        pauses = pauses_between(detect_speech(clip))
        assert len(pauses) >= 1
        assert max(pauses) == pytest.approx(silence, abs=0.08)


def test_sound_span_finds_the_sound_and_ignores_a_dc_offset() -> None:
    clip = np.concatenate([np.zeros(RATE // 4), _tone(1.0), np.full(RATE // 2, 1e-4)])
    clip = (clip + 5e-4).astype(np.float32)  # an offset everywhere, as PSOLA leaves
    start, end = sound_span(clip, RATE)  # type: ignore[misc]
    assert start == RATE // 4 and end == RATE // 4 + RATE
    assert sound_span(np.zeros(RATE, np.float32), RATE) is None
    assert sound_span(np.zeros(10, np.float32), RATE) is None


def test_reframe_sets_the_silence_around_the_sound() -> None:
    sound = _tone(0.5)
    clip = np.concatenate([np.zeros(RATE // 4, np.float32), sound,
                           np.full(RATE, 1e-5, np.float32)])  # an engine's faint tail
    out = reframe(clip, RATE, lead=0.02, after=0.3)
    assert len(out) == round(0.02 * RATE) + len(sound) + round(0.3 * RATE)
    np.testing.assert_array_equal(out[round(0.02 * RATE):][:len(sound)], sound)
    assert out.dtype == np.float32
    # longer than the clip's own silences: zeros are added
    longer = reframe(clip, RATE, lead=0.5, after=1.5)
    assert len(longer) == round(0.5 * RATE) + len(sound) + round(1.5 * RATE)
    assert not longer[: RATE // 4].any() and not longer[-RATE // 2:].any()
    # a negative wish is none; a silent clip is left as it is
    assert len(reframe(clip, RATE, lead=-1.0, after=0.0)) == len(sound)
    silent = np.zeros(RATE, np.float32)
    assert reframe(silent, RATE, lead=0.1, after=0.1) is silent


def test_the_pitch_shift_keeps_silence_silent() -> None:
    voice = piper_speak("Nobody spoke for a while.").resample(RATE)
    clip = np.concatenate([np.zeros(RATE // 2, np.float32), voice.samples,
                           np.zeros(RATE // 2, np.float32)])
    shifted = shift_pitch(clip, RATE, -3.0, range_scale=1.3)
    quiet = shifted[: RATE // 4].astype(np.float64)
    # (Praat's resynthesis takes out the mean: silence came back as a -70 dB offset)
    assert np.sqrt(np.mean(quiet**2)) < 1e-5 * np.abs(shifted).max()
