"""A reference's speaking rate is its speaker's, not its noise's."""

from __future__ import annotations

import pytest

from voxclone.audio import Audio
from voxclone.audio.prosody import ProsodyStats, prosody_stats

from .conftest import REFERENCE_TEXT, piper_speak, with_noise


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
    assert profile.prosody == prosody_stats(calls[0][0], above_noise=True)
    assert profile.prosody.syllable_rate > 1.1 * prosody_stats(calls[0][0]).syllable_rate
