"""The benchmarks' second judge of identity (an MFCC GMM-UBM) tells speakers apart."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from voxclone.audio import Audio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from gmm_speaker import Background, features


def speaker_frames(rng: np.random.Generator, centre: np.ndarray, n: int) -> np.ndarray:
    """Frames of a synthetic "speaker": two clusters (say, vowels and fricatives)
    displaced by the speaker's own ``centre``."""
    sounds = np.array([[2.0, 0.0, 0.0, 0.0], [-2.0, 1.0, 0.0, 0.0]])
    picks = sounds[rng.integers(0, 2, n)]
    return picks + centre + 0.5 * rng.standard_normal((n, 4))


def test_a_speakers_adapted_model_prefers_that_speakers_new_frames() -> None:
    rng = np.random.default_rng(0)
    centres = [rng.normal(0, 0.6, 4) for _ in range(12)]
    background = Background.train([speaker_frames(rng, c, 400) for c in centres[2:]],
                                  components=8)
    a, b = centres[0], centres[1]
    model_a = background.adapt(speaker_frames(rng, a, 300))
    own, other = (background.score(model_a, speaker_frames(rng, c, 300)) for c in (a, b))
    assert own > 0 > other or own > other + 0.2
    # With a huge relevance factor the model stays the background: no evidence, no score.
    unmoved = background.adapt(speaker_frames(rng, a, 300), relevance=1e9)
    assert background.score(unmoved, speaker_frames(rng, a, 300)) == pytest.approx(0, abs=1e-6)


def test_features_are_normalised_speech_frames(joe_reference: Audio) -> None:
    frames = features(joe_reference)
    assert frames.shape[1] == 38
    # Speech only: fewer 10 ms frames than the clip has, but most of its ~8 s.
    assert 300 < len(frames) < joe_reference.duration * 100
    np.testing.assert_allclose(frames.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(frames.std(axis=0), 1, atol=1e-3)
    with pytest.raises(ValueError, match=r"needs 0\.5 s"):
        features(Audio(np.zeros(16_000, dtype=np.float32), 16_000))
