"""Moving a voice's formants (voxclone.audio.pitch_shift's formant_ratio), choosing the
ratio at enrollment (voxclone.clone.formant_match) and synthesis applying it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pytest

import voxclone
from voxclone.audio import Audio
from voxclone.audio.pitch_shift import shift_pitch
from voxclone.audio.prosody import prosody_stats
from voxclone.clone.formant_match import MIN_GAIN, RATIO_BOUNDS, match_formants, parabola_peak
from voxclone.consent.voice_seal import seal_voice
from voxclone.speaker import default_encoder
from voxclone.speaker.encoder import embed_all

from .conftest import HELDOUT_TEXT, piper_speak


def envelope_warp(before: Audio, after: Audio) -> float:
    """The factor by which ``after``'s long-term spectrum (300-4500 Hz) is ``before``'s
    stretched along the frequency axis: the formants' move, whatever the pitch (the
    harmonics average out over a sentence's changing F0)."""
    from scipy.signal import welch

    freqs, psd_before = welch(before.samples, before.sample_rate, nperseg=2048)
    _, psd_after = welch(after.samples, after.sample_rate, nperseg=2048)
    log_before, log_after = 10 * np.log10(psd_before + 1e-12), 10 * np.log10(psd_after + 1e-12)
    band = (freqs > 300) & (freqs < 4500)
    factors = np.arange(0.8, 1.25, 0.005)
    misfit = [np.var(log_after[band] - np.interp(np.log(freqs[band] / f),
                                                 np.log(freqs[1:]), log_before[1:]))
              for f in factors]
    return float(factors[int(np.argmin(misfit))])


def moved(audio: Audio, ratio: float, semitones: float = 0.0) -> Audio:
    return Audio(shift_pitch(audio.samples, audio.sample_rate, semitones,
                             formant_ratio=ratio), audio.sample_rate)


@pytest.fixture(scope="module")
def joe() -> Audio:
    return piper_speak(HELDOUT_TEXT)


@pytest.mark.parametrize("ratio", [0.9, 1.1])
def test_formant_ratio_moves_the_formants_and_keeps_pitch_and_timing(
        joe: Audio, ratio: float) -> None:
    out = moved(joe, ratio)
    assert out.samples.dtype == np.float32 and out.samples.shape == joe.samples.shape
    assert envelope_warp(joe, out) == pytest.approx(ratio, abs=0.015)
    before, after = prosody_stats(joe), prosody_stats(out)
    assert abs(12 * np.log2(after.f0_median / before.f0_median)) < 0.3
    assert after.syllable_rate == pytest.approx(before.syllable_rate, rel=0.05)
    # A pitch shift rides in the same pass.
    both = moved(joe, ratio, semitones=3.0)
    assert 12 * np.log2(prosody_stats(both).f0_median / before.f0_median) == \
        pytest.approx(3.0, abs=0.4)


def test_a_bad_formant_ratio_is_refused(joe: Audio) -> None:
    with pytest.raises(ValueError, match="formant_ratio"):
        shift_pitch(joe.samples, joe.sample_rate, 0.0, formant_ratio=0.0)


def test_parabola_peak_finds_the_top_and_keeps_to_the_bounds() -> None:
    ratios = (0.96, 1.0, 1.04)
    def bowl(top: float) -> list[float]:
        return [-(np.log(r) - np.log(top)) ** 2 for r in ratios]
    assert parabola_peak(ratios, bowl(0.97)) == pytest.approx(0.97, abs=1e-6)
    assert parabola_peak(ratios, bowl(1.5)) == RATIO_BOUNDS[1]
    assert parabola_peak(ratios, [0.3, 0.1, 0.2]) == RATIO_BOUNDS[0]  # no maximum: lower end
    assert parabola_peak(ratios, [0.2, 0.1, 0.3]) == RATIO_BOUNDS[1]


def gc_embed(clips: Sequence[Audio]) -> np.ndarray:
    return embed_all(default_encoder(), list(clips))


def test_the_match_finds_a_longer_vocal_tract_and_leaves_a_matching_one() -> None:
    """The speaker is joe with formants 8 % lower (a longer vocal tract); the clone is
    joe as he is. The match, judged by the real speaker encoder, moves the clone's
    formants down - and leaves a clone that already matches alone."""
    renders = [piper_speak("The meeting has been moved to Thursday afternoon."),
               piper_speak("We waited outside the station for almost an hour.")]
    speaker = [moved(piper_speak(HELDOUT_TEXT), 0.92)]
    target = gc_embed(speaker)[0]

    def move(render: Audio, ratio: float) -> Audio:
        return moved(render, ratio)

    found = match_formants(renders, target, move, gc_embed)
    assert 0.9 <= found.ratio <= 0.95
    assert found.score_after >= found.score_before + MIN_GAIN
    assert len(found.tried) == 4  # three, then the parabola's peak
    same = match_formants(renders, gc_embed([piper_speak(HELDOUT_TEXT)])[0], move, gc_embed)
    assert same.ratio == 1.0 and same.score_after == same.score_before


def test_synthesis_applies_the_voices_formant_ratio(joe_reference: Audio) -> None:
    voice = voxclone.enroll("joe", joe_reference, effort="stock", save=False,
                            i_am_the_speaker=True)
    assert voice.formant_ratio == 1.0  # stock voices are left as they are
    text = "Please remember to lock the back door before you leave."
    plain = voxclone.synthesize(text, voice)
    # a voice changed by hand speaks only once sealed again (voxclone.consent.voice_seal)
    higher = voxclone.synthesize(text, seal_voice(dataclasses.replace(voice, formant_ratio=1.1)))
    assert abs(higher.duration - plain.duration) < 0.05
    assert envelope_warp(plain, higher) == pytest.approx(1.1, abs=0.015)


def test_enrollment_stores_the_ratio_the_match_chose_unless_told_not_to(
        joe_reference: Audio, monkeypatch: pytest.MonkeyPatch) -> None:
    from voxclone.clone.fit import VoiceFitter
    from voxclone.clone.formant_match import FormantMatch

    asked: list[float] = []

    def chosen(self: VoiceFitter, conditioning: object, target: np.ndarray,
               pitch_shift: float = 0.0) -> FormantMatch:
        asked.append(pitch_shift)
        return FormantMatch(0.94, 0.5, 0.6, ((0.94, 0.6), (1.0, 0.5)))

    monkeypatch.setattr(VoiceFitter, "match_formants", chosen)
    voice = voxclone.enroll("joe", joe_reference, effort="fast", save=False,
                            i_am_the_speaker=True)
    assert voice.formant_ratio == 0.94 and asked == [voice.pitch_shift]
    plain = voxclone.enroll("joe", joe_reference, effort="fast", save=False,
                            i_am_the_speaker=True, match_formants=False)
    assert plain.formant_ratio == 1.0 and len(asked) == 1


def test_a_further_ratio_must_pay_for_its_distance() -> None:
    """Of two ratios that both beat 1, the further from 1 is kept only if it beats the
    nearer one by the margin as well."""
    rng = np.random.default_rng(0)
    target = rng.standard_normal(256)
    target /= np.linalg.norm(target)
    other = rng.standard_normal(256)
    other -= (other @ target) * target
    other /= np.linalg.norm(other)

    def scored(cosines: dict[float, float]) -> float:
        def move(render: Audio, ratio: float) -> Audio:  # the ratio rides in the samples
            return Audio(np.full(4, ratio, np.float32), render.sample_rate)

        def embed(clips: Sequence[Audio]) -> np.ndarray:
            rows = []
            for clip in clips:
                c = cosines.get(round(float(clip.samples[0]), 3), 0.0)
                rows.append(c * target + np.sqrt(1 - c * c) * other)
            return np.asarray(rows)

        render = Audio(np.zeros(4, np.float32), 24_000)
        return match_formants([render], target, move, embed).ratio

    # 1.04 pays, the parabola's peak (1.1) is only a near-tie above it: 1.04 is kept.
    assert scored({0.96: 0.70, 1.0: 0.70, 1.04: 0.75, 1.1: 0.75 + MIN_GAIN / 2}) == 1.04
    assert scored({0.96: 0.70, 1.0: 0.70, 1.04: 0.75, 1.1: 0.75 + 2 * MIN_GAIN}) == 1.1
    assert scored({0.96: 0.70, 1.0: 0.70, 1.04: 0.70 + MIN_GAIN / 2}) == 1.0


def test_the_same_speech_is_shifted_the_same_way_every_time(joe: Audio) -> None:
    # Praat fills unvoiced stretches at random: unseeded, two calls differed by up to
    # 0.2 in a sample, and enrollment's close choices flipped between runs.
    first, again = moved(joe, 0.9, semitones=-6.0), moved(joe, 0.9, semitones=-6.0)
    assert np.array_equal(first.samples, again.samples)
