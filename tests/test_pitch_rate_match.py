"""Pitch shifting (voxclone.audio.pitch_shift) and the pitch and rate match that
decides a voice's shift and rate factor (voxclone.clone.pitch_rate_match)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from voxclone.audio import Audio
from voxclone.audio.equalizer import band_levels
from voxclone.audio.pitch_shift import shift_pitch
from voxclone.audio.prosody import ProsodyStats, prosody_stats, speech_seconds
from voxclone.clone.pitch_rate_match import (
    PitchRateMatch,
    PitchRateSettings,
    match_pitch_rate,
    reference_tempo,
)
from voxclone.text.syllables import count_syllables

from .conftest import piper_speak

RATE = 24_000


def voiced(f0_hz: float, seconds: float = 2.0) -> np.ndarray:
    """A buzzy vowel-like tone: 14 harmonics of a gently wavering F0, float32."""
    t = np.arange(int(RATE * seconds)) / RATE
    phase = 2 * np.pi * np.cumsum(f0_hz * (1 + 0.04 * np.sin(2 * np.pi * 1.5 * t))) / RATE
    return (0.2 * sum(np.sin(k * phase) / k for k in range(1, 15))).astype(np.float32)


def median_f0(samples: np.ndarray) -> float:
    return prosody_stats(Audio(samples, RATE)).f0_median


@pytest.mark.parametrize("semitones", [-5.0, 3.0, 7.0])
def test_shift_moves_the_pitch_by_the_interval_and_keeps_length(semitones: float) -> None:
    tone = voiced(150.0)
    shifted = shift_pitch(tone, RATE, semitones)
    assert shifted.dtype == np.float32 and shifted.shape == tone.shape
    interval = 12 * np.log2(median_f0(shifted) / median_f0(tone))
    assert interval == pytest.approx(semitones, abs=0.15)


def test_shift_keeps_the_timbre_of_speech() -> None:
    """PSOLA moves the harmonics, not the formants: joe's long-term spectrum, shifted
    up 4 semitones, stays within a few dB of his own in every band."""
    joe = piper_speak("The meeting has been moved to Thursday afternoon.")
    shifted = Audio(shift_pitch(joe.samples, joe.sample_rate, 4.0), joe.sample_rate)
    before, after = band_levels(joe), band_levels(shifted)
    centred = (after - after.mean()) - (before - before.mean())
    assert np.median(np.abs(centred)) < 2.0
    assert 12 * np.log2(prosody_stats(shifted).f0_median / prosody_stats(joe).f0_median) \
        == pytest.approx(4.0, abs=0.5)


def range_st(samples: np.ndarray) -> float:
    return prosody_stats(Audio(samples, RATE)).f0_range_semitones


def melody(seconds: float = 3.0) -> np.ndarray:
    """A buzzy vowel whose F0 glides 4 semitones either side of 150 Hz, float32."""
    t = np.arange(int(RATE * seconds)) / RATE
    f0 = 150.0 * 2 ** (4 / 12 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    return (0.2 * sum(np.sin(k * phase) / k for k in range(1, 15))).astype(np.float32)


@pytest.mark.parametrize("scale", [0.7, 1.4])
def test_range_scale_widens_or_narrows_the_melody_around_the_centre(scale: float) -> None:
    """A voice's pitch range is scaled around the speaker's median: the 5-95 % range in
    semitones follows the factor, and its level stays."""
    tune = melody()
    centre = median_f0(tune)
    scaled = shift_pitch(tune, RATE, 0.0, range_scale=scale)
    assert scaled.shape == tune.shape
    assert range_st(scaled) / range_st(tune) == pytest.approx(scale, rel=0.08)
    assert abs(12 * np.log2(median_f0(scaled) / centre)) < 0.3
    both = shift_pitch(tune, RATE, -3.0, range_scale=scale)
    assert 12 * np.log2(median_f0(both) / centre) == pytest.approx(-3.0, abs=0.3)
    assert range_st(both) / range_st(tune) == pytest.approx(scale, rel=0.08)


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan")])
def test_range_scale_must_be_positive(scale: float) -> None:
    with pytest.raises(ValueError, match="range_scale"):
        shift_pitch(voiced(150.0), RATE, 2.0, range_scale=scale)


def test_nothing_to_shift_comes_back_unchanged() -> None:
    tone = voiced(150.0)
    assert shift_pitch(tone, RATE, 0.0) is tone
    silence = np.zeros(RATE, np.float32)
    np.testing.assert_array_equal(shift_pitch(silence, RATE, 4.0), silence)
    blip = voiced(150.0, seconds=0.004)  # a few samples, as a stream's last piece
    np.testing.assert_array_equal(shift_pitch(blip, RATE, 4.0), blip)
    assert shift_pitch(np.zeros(0, np.float32), RATE, 4.0).size == 0


def speaker_like(clone: Audio, semitones: float, rate: float) -> ProsodyStats:
    stats = prosody_stats(clone)
    factor = 2 ** (semitones / 12)
    return dataclasses.replace(stats, f0_median=stats.f0_median * factor,
                               f0_p5=stats.f0_p5 * factor, f0_p95=stats.f0_p95 * factor,
                               syllable_rate=stats.syllable_rate * rate)


def test_match_finds_the_shift_and_rate_to_the_speaker() -> None:
    clone = piper_speak("Bright yellow boats drift past the old harbor.")
    matched = match_pitch_rate(speaker_like(clone, -4.0, 0.9), [clone])
    assert matched.pitch_shift == pytest.approx(-4.0, abs=0.01)
    assert matched.f0_error_st == pytest.approx(4.0, abs=0.01)
    assert matched.rate == pytest.approx(0.9, abs=0.001)
    assert matched.pitch_range == 1.0  # the same range, shifted


def with_range(stats: ProsodyStats, factor: float) -> ProsodyStats:
    """``stats`` with its 5-95 % range (semitones) scaled by ``factor`` around the median."""
    def scaled(hz: float) -> float:
        return float(stats.f0_median * (hz / stats.f0_median) ** factor)
    return dataclasses.replace(stats, f0_p5=scaled(stats.f0_p5), f0_p95=scaled(stats.f0_p95))


def test_match_finds_the_range_factor_and_leaves_small_or_clamps_large_ones() -> None:
    clone = piper_speak("Bright yellow boats drift past the old harbor.")
    own = prosody_stats(clone)
    assert match_pitch_rate(with_range(own, 1.3), [clone]).pitch_range == \
        pytest.approx(1.3, abs=0.01)
    assert match_pitch_rate(with_range(own, 0.8), [clone]).pitch_range == \
        pytest.approx(0.8, abs=0.01)
    assert match_pitch_rate(with_range(own, 1.05), [clone]).pitch_range == 1.0
    settings = PitchRateSettings()
    assert match_pitch_rate(with_range(own, 3.0), [clone]).pitch_range == \
        settings.range_bounds[1] == 1.5
    assert match_pitch_rate(with_range(own, 0.3), [clone]).pitch_range == \
        settings.range_bounds[0] == 0.67
    wider = PitchRateSettings(range_bounds=(0.5, 2.0))
    assert match_pitch_rate(with_range(own, 1.8), [clone], settings=wider).pitch_range == \
        pytest.approx(1.8, abs=0.01)
    assert match_pitch_rate(with_range(own, 1.3), [clone], pitch=False).pitch_range == 1.0
    flat = PitchRateSettings(match_range=False)
    assert match_pitch_rate(with_range(own, 1.3), [clone], settings=flat).pitch_range == 1.0


def test_match_leaves_small_errors_and_clamps_large_ones() -> None:
    clone = piper_speak("Bright yellow boats drift past the old harbor.")
    near = match_pitch_rate(speaker_like(clone, 0.3, 1.0), [clone])
    assert near.pitch_shift == 0.0 and near.rate == pytest.approx(1.0, abs=0.001)
    settings = PitchRateSettings()
    far = match_pitch_rate(speaker_like(clone, 11.0, 2.0), [clone], settings=settings)
    assert far.pitch_shift == settings.max_shift_st
    assert far.rate == settings.rate_bounds[1]
    off = match_pitch_rate(speaker_like(clone, -4.0, 0.9), [clone], pitch=False, rate=False)
    assert (off.pitch_shift, off.rate) == (0.0, 1.0)


def test_match_on_unvoiced_renderings_changes_nothing() -> None:
    clone = piper_speak("Bright yellow boats drift past the old harbor.")
    noise = Audio(np.random.default_rng(0).normal(0, 0.01, RATE).astype(np.float32), RATE)
    matched = match_pitch_rate(prosody_stats(clone), [noise])
    assert (matched.pitch_shift, matched.rate, matched.pitch_range) == (0.0, 1.0, 1.0)
    assert np.isnan(matched.f0_error_st)


def test_a_noisy_reference_may_narrow_the_melody_but_not_widen_it() -> None:
    """Other voices' pitch under a noisy reference widens its measured range, so by
    default a noisy reference's range only narrows the clone's (``widen_for_noisy``
    lets it widen too)."""
    clone = piper_speak("Bright yellow boats drift past the old harbor.")
    own = prosody_stats(clone)
    assert match_pitch_rate(with_range(own, 1.3), [clone],
                            noisy_reference=True).pitch_range == 1.0
    assert match_pitch_rate(with_range(own, 0.8), [clone],
                            noisy_reference=True).pitch_range == pytest.approx(0.8, abs=0.01)
    assert match_pitch_rate(with_range(own, 1.3), [clone]).pitch_range == \
        pytest.approx(1.3, abs=0.01)
    widening = PitchRateSettings(widen_for_noisy=True)
    assert match_pitch_rate(with_range(own, 1.3), [clone], noisy_reference=True,
                            settings=widening).pitch_range == pytest.approx(1.3, abs=0.01)
    # the pitch level and the rate are matched all the same
    noisy = match_pitch_rate(speaker_like(clone, -4.0, 0.9), [clone], noisy_reference=True)
    assert (noisy.pitch_shift, noisy.rate) == pytest.approx((-4.0, 0.9), abs=0.01)


def test_range_and_rate_are_measured_on_the_shifted_speech() -> None:
    """Shifted 5 semitones down, joe's low phrase ends fall under the pitch tracker's
    floor and his speech counts fewer syllables: a speaker with joe's melody at that
    pitch gets a range factor and a rate factor measured on joe as synthesis will
    shift him, so the shifted, widened clone has the speaker's range (within 20 %),
    which the factors measured before the shift missed by a third."""
    joe = piper_speak("Bright yellow boats drift past the old harbor.")
    speaker = speaker_like(joe, -5.0, 1.0)
    calls: list[float] = []

    def shifted(semitones: float) -> list[Audio]:
        calls.append(semitones)
        return [Audio(shift_pitch(joe.samples, joe.sample_rate, semitones), joe.sample_rate)]

    def range_ratio(match: PitchRateMatch) -> float:
        spoken = shift_pitch(joe.samples, joe.sample_rate, match.pitch_shift,
                             range_scale=match.pitch_range)
        return prosody_stats(Audio(spoken, joe.sample_rate)).f0_range_semitones \
            / speaker.f0_range_semitones

    before = match_pitch_rate(speaker, [joe])
    now = match_pitch_rate(speaker, [joe], shifted=shifted)
    assert calls == [-5.0] and now.pitch_shift == before.pitch_shift == -5.0
    assert before.pitch_range == 1.0 and range_ratio(before) < 0.8
    assert now.pitch_range > 1.3 and abs(range_ratio(now) - 1) <= 0.2
    heard = prosody_stats(shifted(-5.0)[0]).syllable_rate
    assert heard < prosody_stats(joe).syllable_rate
    assert now.rate == pytest.approx(speaker.syllable_rate / heard, abs=1e-3)
    # no shift, nothing to resynthesise
    calls.clear()
    assert match_pitch_rate(prosody_stats(joe), [joe], shifted=shifted).pitch_shift == 0.0
    assert calls == []


@pytest.mark.slow
def test_an_effort_given_more_sentences_measures_the_clone_on_them() -> None:
    """The match hears the probe and the rate sentence, plus the effort's own
    ``PROSODY_TEXTS``, and the rate factor is the speaker's rate over all of theirs."""
    from unittest import mock

    from voxclone.clone import fit
    from voxclone.clone.conditioning import StyleConditioning
    from voxclone.engines.kokoro import default_engine, stock_packs
    from voxclone.speaker import default_encoder

    fitter = fit.VoiceFitter(default_engine(), default_encoder(), stock_packs())
    voice = StyleConditioning({next(iter(stock_packs())): 1.0})
    heard: list[Audio] = []
    render = fitter.render

    def spy(ids: list[int], *args: object) -> Audio:
        heard.append(render(ids, *args))  # type: ignore[arg-type]
        return heard[-1]

    speaker = prosody_stats(piper_speak("Bright yellow boats drift past the old harbor."))
    extra = fit.MORE_PROSODY_TEXTS[:2]
    with mock.patch.object(fitter, "render", spy), \
            mock.patch.dict(fit.PROSODY_TEXTS, {"balanced": extra}):
        two = fitter.match_pitch_rate(voice, speaker, pitch=False, effort="fast")
        assert len(heard) == 2
        heard.clear()
        four = fitter.match_pitch_rate(voice, speaker, pitch=False, effort="balanced")
    assert len(heard) == 4
    assert [len(a.samples) for a in heard[:2]] != [len(a.samples) for a in heard[2:]]
    rate = prosody_stats(Audio(np.concatenate([a.samples for a in heard]), RATE))
    assert four.rate == pytest.approx(float(np.clip(
        speaker.syllable_rate / rate.syllable_rate, *PitchRateSettings().rate_bounds)),
        abs=1e-3)
    assert two.rate != four.rate


def test_an_effort_given_tempo_sentences_renders_them_only_for_the_words() -> None:
    """``TEMPO_TEXTS[effort]`` are rendered (shifted like the rest) when the rate is
    read from the words, and not when there is no tempo of the speaker to read."""
    from unittest import mock

    from voxclone.clone import fit
    from voxclone.clone.conditioning import StyleConditioning
    from voxclone.engines.kokoro import default_engine, stock_packs
    from voxclone.speaker import default_encoder

    fitter = fit.VoiceFitter(default_engine(), default_encoder(), stock_packs())
    voice = StyleConditioning({next(iter(stock_packs())): 1.0})
    heard: list[list[int]] = []
    render = fitter.render

    def spy(ids: list[int], *args: object) -> Audio:
        heard.append(ids)
        return render(ids, *args)  # type: ignore[arg-type]

    speaker = prosody_stats(piper_speak("Bright yellow boats drift past the old harbor."))
    extra = fit.MORE_PROSODY_TEXTS[:2]
    with mock.patch.object(fitter, "render", spy), \
            mock.patch.dict(fit.TEMPO_TEXTS, {"balanced": extra}):
        fitter.match_pitch_rate(voice, speaker, pitch=False, effort="balanced")
        assert heard == [fitter.probe_ids, fitter.rate_ids]
        heard.clear()
        fitter.match_pitch_rate(voice, speaker, pitch=False, effort="balanced",
                                speaker_tempo=lambda: 4.0)
    assert heard == [fitter.probe_ids, fitter.rate_ids,
                     *(fitter.token_ids(t) for t in extra)]


def test_the_rate_can_be_read_from_the_words() -> None:
    """By default (``rate_from_words``) the factor is the speaker's articulation rate
    over the clone's, the clone's counted in the sentence it spoke; the speaker's is
    asked for only then, and one that cannot be read (nothing recognised) gives way to
    the peaks, as the factor is read with ``rate_from_words=False``."""
    text = "She said the children would be home by seven, after the game."
    joe = piper_speak(text)
    own = count_syllables(text) / speech_seconds(joe)
    speaker = speaker_like(joe, 0.0, 1.2)  # quicker by the peaks ...
    asked: list[int] = []

    def tempo() -> float:  # ... slower by the words
        asked.append(1)
        return 0.85 * own

    assert PitchRateSettings().rate_from_words
    matched = match_pitch_rate(speaker, [joe], syllables=[count_syllables(text)],
                               speaker_tempo=tempo)
    assert matched.rate == pytest.approx(0.85, abs=1e-3) and asked == [1]
    peaks = match_pitch_rate(speaker, [joe], syllables=[15], speaker_tempo=tempo,
                             settings=PitchRateSettings(rate_from_words=False))
    assert peaks.rate == pytest.approx(1.2, abs=1e-3) and asked == [1]
    unread = match_pitch_rate(speaker, [joe], syllables=[15], speaker_tempo=lambda: np.nan)
    assert unread.rate == pytest.approx(1.2, abs=1e-3)


def test_more_sentences_for_the_tempo_count_in_the_words_reading_alone() -> None:
    """``tempo_only``'s sentences join the clone's renderings in the rate read from the
    words, shifted as they are; they do not move the pitch shift or range, and are
    not rendered when the rate is read from the peaks."""
    first, second = ("She said the children would be home by seven, after the game.",
                     "Our neighbours painted their fence a bright shade of green.")
    joe, more = piper_speak(first), piper_speak(second)
    both = (count_syllables(first) + count_syllables(second)) / (
        speech_seconds(joe) + speech_seconds(more))
    speaker = speaker_like(joe, 3.0, 1.0)
    shifts: list[float] = []

    def tempo_only(semitones: float) -> list[Audio]:
        shifts.append(semitones)  # high, so the pitch would show it if it were heard
        return [Audio(shift_pitch(more.samples, RATE, 6.0), RATE)]

    plain = match_pitch_rate(speaker, [joe], syllables=[count_syllables(first)],
                             speaker_tempo=lambda: 0.9 * both)
    matched = match_pitch_rate(speaker, [joe], syllables=[count_syllables(first)],
                               speaker_tempo=lambda: 0.9 * both, tempo_only=tempo_only,
                               tempo_syllables=[count_syllables(second)])
    assert shifts == [pytest.approx(matched.pitch_shift, abs=0.01)]
    assert (matched.pitch_shift, matched.pitch_range) == (plain.pitch_shift,
                                                          plain.pitch_range)
    assert matched.pitch_shift > 2
    high = speech_seconds(Audio(shift_pitch(more.samples, RATE, 6.0), RATE))
    clone = (count_syllables(first) + count_syllables(second)) / (speech_seconds(joe)
                                                                   + high)
    assert matched.rate == pytest.approx(0.9 * both / clone, abs=1e-3)
    assert matched.rate != plain.rate
    shifts.clear()
    match_pitch_rate(speaker, [joe], syllables=[count_syllables(first)],
                     speaker_tempo=lambda: 0.9 * both, tempo_only=tempo_only,
                     tempo_syllables=[count_syllables(second)],
                     settings=PitchRateSettings(rate_from_words=False))
    assert shifts == []


def test_a_references_tempo_is_read_from_its_transcript() -> None:
    text = "She said the children would be home by seven, after the game."
    joe = piper_speak(text)
    heard = reference_tempo(joe)
    assert heard == pytest.approx(count_syllables(text) / speech_seconds(joe), rel=0.1)
    silence = Audio(np.zeros(joe.sample_rate, dtype=np.float32), joe.sample_rate)
    assert np.isnan(reference_tempo(silence))


def test_the_tempo_starts_beside_the_fit_only_when_the_words_are_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the rate from the words at ``fast`` (``quick``), enrollment starts the
    reference's transcript in a background thread before the fit; at the other efforts
    it transcribes before the fit, in its own thread (so that the fit's deadline counts
    it); not reading the rate from the words, only if asked, once."""
    import threading

    from voxclone.clone import pitch_rate_match

    threads: list[str] = []
    searches: list[bool] = []

    def transcript(reference: Audio, *, quick: bool = False) -> float:
        threads.append(threading.current_thread().name)
        searches.append(quick)
        return 4.5

    monkeypatch.setattr(pitch_rate_match, "reference_tempo", transcript)
    clip = Audio(np.zeros(16_000, dtype=np.float32), 16_000)
    monkeypatch.setattr(pitch_rate_match, "PitchRateSettings",
                        lambda: PitchRateSettings(rate_from_words=True))
    begun = pitch_rate_match.tempo_reader(clip, quick=True)
    assert begun() == 4.5 and begun() == 4.5
    assert len(threads) == 1 and threads[0].startswith("voxclone-tempo")
    assert pitch_rate_match.tempo_reader(clip, rate=False, quick=True) is not None
    assert len(threads) == 1  # no rate to match: not read
    read = pitch_rate_match.tempo_reader(clip)  # the full search, read now
    assert threads[1:] == [threading.current_thread().name]
    assert read() == 4.5 and read() == 4.5 and len(threads) == 2
    monkeypatch.setattr(pitch_rate_match, "PitchRateSettings",
                        lambda: PitchRateSettings(rate_from_words=False))
    lazy = pitch_rate_match.tempo_reader(clip, quick=True)
    assert len(threads) == 2  # not started
    assert lazy() == 4.5 and lazy() == 4.5
    assert threads[2:] == [threading.current_thread().name]  # read once, when asked
    # the one-pass search beside the fit, else the full
    assert searches == [True, False, False]


def test_a_long_reference_gives_its_tempo_from_its_opening_cut_between_words() -> None:
    """A long few-shot reference is transcribed for its tempo only as far as
    ``TEMPO_SPAN_S``, cut at the quietest moment of the second before (not in a word)."""
    from voxclone.clone.pitch_rate_match import TEMPO_SPAN_S, _opening

    rate = 16_000
    rng = np.random.default_rng(0)
    loud = rng.standard_normal(round(20 * rate)).astype(np.float32) * 0.1
    gap = round((TEMPO_SPAN_S - 0.5) * rate)
    loud[gap:gap + rate // 10] = 0.0  # a pause of 0.1 s half a second before the cap
    opening = _opening(Audio(loud, rate), TEMPO_SPAN_S)
    assert gap <= len(opening.samples) < gap + rate // 10
    short = Audio(loud[: 5 * rate], rate)
    assert _opening(short, TEMPO_SPAN_S) is short


def test_the_rate_is_matched_at_balanced_and_best_unless_told() -> None:
    """``match_rate=None`` leaves the rate to the effort: matched at ``balanced`` and
    ``best``, left out at ``fast`` (no room for the transcript); True and False are
    kept at every effort, and ``stock`` matches nothing."""
    from voxclone.clone.build import Matches

    assert [Matches().for_effort(e).rate for e in ("fast", "balanced", "best")] == [
        False, True, True]
    assert Matches(rate=True).for_effort("fast").rate is True
    assert Matches(rate=False).for_effort("best").rate is False
    assert Matches(rate=True).for_effort("stock") == Matches(False, False, False, False,
                                                             False, False)
