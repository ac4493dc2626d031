"""A reference's speaking rate and pitch are its speaker's, not its noise's."""

from __future__ import annotations

import numpy as np
import pytest

from voxclone.audio import Audio, load_audio
from voxclone.audio.prosody import (
    ProsodyStats,
    articulation_rate,
    prosody_stats,
    speech_seconds,
)

from .conftest import REFERENCE_TEXT, SPEECH_DIR, mixed_at_snr, piper_speak, with_noise

TALKER = SPEECH_DIR / "librispeech-clean" / "103-1240-0000.flac"  # a woman


def test_noise_does_not_slow_a_references_speaking_rate() -> None:
    joe = piper_speak(REFERENCE_TEXT)
    plain = prosody_stats(joe)
    own = plain.syllable_rate
    noisy = with_noise(joe, 10.0)
    # Counted within 25 dB of the loudest frame, the noise makes its pauses speech ...
    assert prosody_stats(noisy).syllable_rate < 0.85 * own
    # ... counted above the noise, the speaker's rate is what is measured.
    assert prosody_stats(noisy, above_noise=True).syllable_rate == pytest.approx(own, rel=0.1)
    # On clean speech the two measures agree, and the pitch is measured as before.
    clean = prosody_stats(joe, above_noise=True)
    assert clean.syllable_rate == pytest.approx(own, rel=0.02)
    assert (clean.f0_median, clean.f0_p5, clean.f0_p95) == \
        (plain.f0_median, plain.f0_p5, plain.f0_p95)


def test_speech_time_leaves_out_the_pauses() -> None:
    joe = piper_speak(REFERENCE_TEXT)
    spoken = speech_seconds(joe)
    assert 0.5 * joe.duration < spoken < joe.duration
    # a second of silence between two readings adds no speech time
    gap = np.zeros(joe.sample_rate, dtype=np.float32)
    twice = Audio(np.concatenate([joe.samples, gap, joe.samples]), joe.sample_rate)
    assert speech_seconds(twice) == pytest.approx(2 * spoken, abs=0.05)
    # the words' syllables over that time; none to count, no rate
    assert articulation_rate(joe, 20) == pytest.approx(20 / spoken)
    assert np.isnan(articulation_rate(joe, 0))


def with_babble(audio: Audio, snr_db: float) -> Audio:
    """``audio`` at 16 kHz under three overlapping stretches of a woman's reading."""
    if not TALKER.is_file():
        pytest.skip("shared LibriSpeech speech not available")
    talker = load_audio(str(TALKER)).resample(16_000).samples.astype(np.float64)
    return mixed_at_snr(
        audio, lambda n: np.sum([np.roll(talker, 3 * 16_000 * k)[:n] for k in range(3)],
                                axis=0), snr_db)


def test_babble_does_not_widen_a_references_pitch_range() -> None:
    joe = prosody_stats(piper_speak(REFERENCE_TEXT))
    noisy = with_babble(piper_speak(REFERENCE_TEXT), 15.0)
    # Every voiced frame: the talkers behind joe more than double his range ...
    assert prosody_stats(noisy).f0_range_semitones > 2 * joe.f0_range_semitones
    # ... his own loud frames give it back (measured 1.09 times), and his median.
    heard = prosody_stats(noisy, above_noise=True)
    assert heard.f0_range_semitones == pytest.approx(joe.f0_range_semitones, rel=0.2)
    assert abs(12 * np.log2(heard.f0_median / joe.f0_median)) < 0.5


def test_enrollment_measures_the_reference_above_its_noise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import voxclone
    import voxclone.clone.build as build

    calls: list[tuple[Audio, bool]] = []

    def spy(audio: Audio, *, above_noise: bool = False) -> ProsodyStats:
        calls.append((audio, above_noise))
        return prosody_stats(audio, above_noise=above_noise)

    monkeypatch.setattr(build, "prosody_stats", spy)
    noisy = with_noise(piper_speak(REFERENCE_TEXT), 10.0)
    profile = voxclone.enroll("joe", noisy, effort="stock", save=False,
                              i_am_the_speaker=True, force=True)
    assert [above for _, above in calls] == [True]
    heard = prosody_stats(calls[0][0], above_noise=True)
    stored = profile.prosody  # (kept to 4 decimals)
    # its range and rate as heard above the noise; its pitch level from DeepFilterNet's
    # output, where the gate filtered it (tests/test_deep_filter.py)
    assert stored.f0_range_semitones == pytest.approx(heard.f0_range_semitones, abs=1e-3)
    assert (stored.syllable_rate, stored.voiced_fraction) == pytest.approx(
        (heard.syllable_rate, heard.voiced_fraction), abs=1e-4)
    assert abs(12 * np.log2(stored.f0_median / heard.f0_median)) < 1.0
    assert profile.prosody.syllable_rate > 1.1 * prosody_stats(calls[0][0]).syllable_rate


def test_only_a_clean_reference_may_widen_the_clones_melody(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Enrollment tells the pitch and rate match that a reference is noisy when the
    gate warned of its SNR, so that its F0 range only narrows the clone's (a noisy
    reference's range is not the speaker's; ``PitchRateSettings.widen_for_noisy``)."""
    import voxclone
    from voxclone.clone.fit import VoiceFitter
    from voxclone.quality.report import SNR_WARN_DB

    asked: list[bool] = []
    original = VoiceFitter.match_pitch_rate

    def spy(self: VoiceFitter, *args: object, **kwargs: bool) -> object:
        asked.append(kwargs["noisy_reference"])
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(VoiceFitter, "match_pitch_rate", spy)
    joe = piper_speak(REFERENCE_TEXT)
    noisy = with_noise(joe, SNR_WARN_DB - 10)
    snrs = [voxclone.check(clip).clips[0].snr_db for clip in (joe, noisy)]
    assert snrs[0] is not None and snrs[0] >= SNR_WARN_DB
    assert snrs[1] is not None and snrs[1] < SNR_WARN_DB
    for reference in (joe, noisy):
        voxclone.enroll("joe", reference, effort="fast", save=False, i_am_the_speaker=True,
                        force=True)
    assert asked == [False, True]
