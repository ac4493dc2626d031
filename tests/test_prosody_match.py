"""Matching a clone's pitch and rate to the speaker's (voxclone.clone.prosody_match).

The closed loop is tested on a stand-in "engine" whose style sets the pitch of a
synthetic vowel train (measured by the real Praat tracker); the learned response
shipped with voxclone is checked for what it must hold.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest

from voxclone.audio import Audio
from voxclone.audio.prosody import ProsodyStats, prosody_stats
from voxclone.clone.conditioning import StyleConditioning
from voxclone.clone.fit import PROBE_TEXT
from voxclone.clone.prosody_match import (
    PROSODY_DIMS,
    learned_response,
    load_response,
    match_prosody,
    min_norm_step,
)

RATE = 16_000
rng = np.random.default_rng(3)
PITCH_DIR = rng.standard_normal(128) * 0.02   # log F0 per unit offset
RANGE_DIR = rng.standard_normal(128) * 0.03   # log F0-range width per unit offset


def vowel_train(style: np.ndarray, speed: float = 1.0) -> Audio:
    """3 s of voiced 'syllables' whose F0 median and range follow the style's dims
    128-255 (log-linearly, like the learned model assumes) and whose rate is 4/s x speed."""
    z = style[PROSODY_DIMS].astype(np.float64)
    median = 140.0 * np.exp(PITCH_DIR @ z)
    width = 4.0 * np.exp(RANGE_DIR @ z)  # semitones, 5-95 %
    t = np.arange(int(3.0 * RATE)) / RATE
    f0 = median * 2 ** (width / 2 / 12 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 9))
    envelope = np.clip(np.sin(np.pi * 4.0 * speed * t), 0, None) ** 2
    return Audio((0.3 * envelope * voice).astype(np.float32), RATE)


def world(target: np.ndarray, identity_cost: float) -> tuple[
        Callable[[np.ndarray, float], Audio], Callable[[Audio], np.ndarray]]:
    """render and embed; the embedding drifts from ``target`` by ``identity_cost`` per
    unit of offset away from zero (the last rendered style is what embed sees)."""
    last: list[np.ndarray] = []

    def render(style: np.ndarray, speed: float) -> Audio:
        last.append(style)
        return vowel_train(style, speed)

    def embed(audio: Audio) -> np.ndarray:
        drift = identity_cost * float(np.linalg.norm(last[-1]))
        other = np.roll(target, 1)
        e = target * np.cos(drift) + other * np.sin(drift)
        return e / np.linalg.norm(e)

    return render, embed


def speaker(median: float, width_st: float, rate: float) -> ProsodyStats:
    half = 2 ** (width_st / 2 / 12)
    return ProsodyStats(median, median / half, median * half, rate, 0.6)


def run(person: ProsodyStats, *, identity_cost: float = 0.0, response_error: float = 0.3,
        probe: Callable[[StyleConditioning], Audio] | None = None):  # type: ignore[no-untyped-def]
    target = np.eye(256)[0]
    render, embed = world(target, identity_cost)
    truth = np.stack([PITCH_DIR, RANGE_DIR], axis=1)
    # the learned model is only roughly right: the loop must correct for that
    response = truth * (1 + response_error * np.random.default_rng(0).standard_normal((128, 2)))
    return match_prosody(person, target, StyleConditioning({"p": 1.0}), 1.0,
                         lambda c: c.style({"p": np.zeros((510, 256), np.float32)}, 10),
                         np.ones(256, np.float32), render, embed, response, rate_probe=probe)


def test_min_norm_step_reaches_the_target_with_the_shortest_step() -> None:
    jacobian = np.random.default_rng(1).standard_normal((128, 2))
    error = np.array([0.2, -0.1])
    step = min_norm_step(jacobian, error, np.ones(2), bound=100.0)
    np.testing.assert_allclose(step @ jacobian, error, atol=1e-6)
    # shortest: no component in the null space of the response
    projector = jacobian @ np.linalg.pinv(jacobian)
    np.testing.assert_allclose(projector @ step, step, atol=1e-9)
    assert np.linalg.norm(min_norm_step(jacobian, error, np.ones(2), bound=0.01)) \
        == pytest.approx(0.01)


def test_pitch_moves_to_the_speaker_within_a_semitone() -> None:
    person = speaker(185.0, 6.0, 4.0)
    start = prosody_stats(vowel_train(np.zeros(256, np.float32)))
    assert abs(12 * np.log2(start.f0_median / 185.0)) > 4  # far off before
    matched = run(person, identity_cost=0.001)
    after = prosody_stats(vowel_train(matched.conditioning.delta))
    assert abs(12 * np.log2(after.f0_median / person.f0_median)) < 1.0
    assert after.f0_range_semitones / person.f0_range_semitones == pytest.approx(1.0, abs=0.2)
    assert matched.f0_error_st[1] < 1.0 < matched.f0_error_st[0]
    # only the prosody predictor's dimensions are touched
    assert not np.any(matched.conditioning.delta[:128])
    assert matched.renders <= 4


def test_a_correction_that_costs_identity_is_not_kept() -> None:
    matched = run(speaker(185.0, 6.0, 4.0), identity_cost=0.2)
    assert not np.any(matched.conditioning.delta)
    assert matched.score == 1.0


def test_rate_factor_is_speaker_over_clone_and_clamped() -> None:
    clone_rate = prosody_stats(vowel_train(np.zeros(256, np.float32))).syllable_rate
    slower = run(speaker(140.0, 4.0, 0.9 * clone_rate), response_error=0.0)
    assert slower.rate == pytest.approx(0.9, abs=0.03)
    assert run(speaker(140.0, 4.0, 3 * clone_rate)).rate == pytest.approx(1.33)
    # measured on the probe and more speech when a rate probe is given
    longer = run(speaker(140.0, 4.0, clone_rate),
                 probe=lambda c: vowel_train(c.style({"p": np.zeros((510, 256))}, 10), 0.6))
    assert longer.rate == pytest.approx(1.25, abs=0.06)  # (12 + 7.2) / 6 s vs 4 / s


def test_shipped_response_is_for_the_probe_and_moves_pitch() -> None:
    response = learned_response(PROBE_TEXT)
    assert response is not None and response.shape == (128, 2)
    assert np.linalg.norm(response[:, 0]) > 0.01  # some direction changes F0


def test_response_for_another_probe_is_refused() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, response=np.ones((128, 3), np.float32),
             outputs=np.array(["log_f0_median", "log_f0_range_st", "log_syllable_rate"]),
             probe_sha256=np.array("0" * 64))
    buffer.seek(0)
    with pytest.raises(ValueError, match="another probe"):
        load_response(buffer, PROBE_TEXT)
    assert learned_response("Some other probe sentence.") is None
