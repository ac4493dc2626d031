"""A reference's pitch and tempo are its speaker's, not its noise's."""

from __future__ import annotations

import numpy as np
import pytest

from voxclone.audio import Audio
from voxclone.audio.prosody import (
    BABBLE_SHARE,
    ProsodyStats,
    babble_share,
    f0_track,
    prosody_stats,
    reference_prosody,
)

from .conftest import REFERENCE_TEXT, piper_speak, with_noise

RATE = 24_000


def gliding(f0_start: float, f0_end: float, seconds: float) -> np.ndarray:
    """A buzzy voice (14 harmonics) gliding from ``f0_start`` to ``f0_end`` Hz, float32."""
    t = np.arange(int(RATE * seconds)) / RATE
    phase = 2 * np.pi * np.cumsum(f0_start * (f0_end / f0_start) ** (t / seconds)) / RATE
    return (0.2 * sum(np.sin(k * phase) / k for k in range(1, 15))).astype(np.float32)


def speaker_over_babble(babble_db: float) -> tuple[Audio, Audio]:
    """(a "speaker": eight 0.5 s phrases falling from 130-170 Hz by a fifth of their
    pitch, 0.3 s apart; the same with a steady 220 Hz voice ``babble_db`` below it
    underneath, as babble fills a reference's pauses), at 24 kHz."""
    gap = np.zeros(int(0.3 * RATE), np.float32)
    speaker = np.concatenate([part for f0 in (150, 130, 170, 140, 160, 135, 155, 145)
                              for part in (gliding(f0, 0.8 * f0, 0.5), gap)])
    other = gliding(220.0, 220.0, len(speaker) / RATE + 0.1)[:len(speaker)]
    mixed = speaker + other * 10 ** (-babble_db / 20)
    return Audio(speaker, RATE), Audio(mixed.astype(np.float32), RATE)


def semitones_apart(a: ProsodyStats, b: ProsodyStats) -> float:
    return abs(12 * np.log2(a.f0_median / b.f0_median))


def test_babble_under_a_reference_does_not_become_its_speakers_pitch() -> None:
    clean, noisy = speaker_over_babble(babble_db=16.0)
    own = prosody_stats(clean)
    # Every voiced frame counted, the other voice in the pauses widens the range ...
    plain = prosody_stats(noisy)
    assert plain.f0_range_semitones > 1.5 * own.f0_range_semitones
    # ... the reference's measure sees a voice in the pauses and counts the loud frames.
    measured = reference_prosody(noisy)
    assert semitones_apart(measured, own) < 0.3
    assert measured.f0_range_semitones == pytest.approx(own.f0_range_semitones, rel=0.2)


def test_a_clean_references_pitch_counts_every_voiced_frame() -> None:
    clean, _ = speaker_over_babble(babble_db=16.0)
    joe = piper_speak(REFERENCE_TEXT)
    for audio in (clean, joe, with_noise(joe, 10.0)):
        plain, measured = prosody_stats(audio), reference_prosody(audio)
        # Pauses (silent or white noise) are not voiced: no babble, the same pitch.
        assert (measured.f0_median, measured.f0_p5, measured.f0_p95) == \
            (plain.f0_median, plain.f0_p5, plain.f0_p95)


def test_babble_share_tells_voiced_pauses_from_silent_ones() -> None:
    clean, noisy = speaker_over_babble(babble_db=16.0)

    def share(audio: Audio) -> float:
        import parselmouth

        f0 = f0_track(audio)
        sound = parselmouth.Sound(audio.samples.astype(np.float64), audio.sample_rate)
        intensity = sound.to_intensity(minimum_pitch=60.0, time_step=0.01)
        frames = np.arange(len(f0)) * 0.01 + 0.02
        db = np.interp(frames, np.asarray(intensity.xs()), np.asarray(intensity.values[0]))
        return babble_share(f0, db)

    assert share(clean) < 0.05
    assert share(noisy) > 0.9 > BABBLE_SHARE
    assert babble_share(np.zeros(0), np.zeros(0)) == 0.0


def test_noise_does_not_slow_a_references_speaking_rate() -> None:
    joe = piper_speak(REFERENCE_TEXT)
    own = prosody_stats(joe).syllable_rate
    noisy = with_noise(joe, 10.0)
    # Counted within 25 dB of the loudest frame, the noise makes its pauses speech ...
    assert prosody_stats(noisy).syllable_rate < 0.85 * own
    # ... above the noise, the speaker's rate is what is measured.
    assert reference_prosody(noisy).syllable_rate == pytest.approx(own, rel=0.1)
    # On clean speech the two measures agree.
    assert reference_prosody(joe).syllable_rate == pytest.approx(own, rel=0.02)


def test_enrollment_measures_the_reference_with_reference_prosody(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import voxclone
    import voxclone.clone.build as build

    seen: list[Audio] = []

    def spy(audio: Audio) -> ProsodyStats:
        seen.append(audio)
        return reference_prosody(audio)

    monkeypatch.setattr(build, "reference_prosody", spy)
    profile = voxclone.enroll("joe", piper_speak(REFERENCE_TEXT), effort="stock",
                              save=False, i_am_the_speaker=True, force=True)
    assert len(seen) == 1
    assert profile.prosody == reference_prosody(seen[0])
