"""The learned instant conditioning (voxclone.clone.style_map), with the real engine,
encoder and pitch tracker: the shipped map must turn what a voice sounds like into a
style that sounds like it, follow the speaker's pitch, and give `fast` its start."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

from voxclone.audio import Audio, prepare_reference
from voxclone.audio.prosody import ProsodyStats, prosody_stats
from voxclone.clone.fit import PROBE_TEXT, VoiceFitter
from voxclone.clone.style_map import StyleMap, load_style_map
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.speaker import default_encoder


@pytest.fixture(scope="module")
def fitter() -> VoiceFitter:
    return VoiceFitter(default_engine(), default_encoder(), stock_packs())


@pytest.fixture(scope="module")
def style_map() -> StyleMap:
    loaded = load_style_map(PROBE_TEXT)
    assert loaded is not None, "src/voxclone/clone/data/style_map.npz is missing"
    return loaded


def probe(fitter: VoiceFitter, style: np.ndarray) -> tuple[np.ndarray, ProsodyStats]:
    audio = Audio(fitter.engine.render(fitter.probe_ids, style), fitter.engine.sample_rate)
    return fitter.encoder.embed(audio), prosody_stats(audio)


def test_map_is_shipped_for_the_probe_and_small(style_map: StyleMap) -> None:
    assert style_map.weights.shape == (259, 256)
    assert np.isfinite(style_map.weights).all() and style_map.gain > 0
    # fast's drift is trained (train/style_drift.py) and a step, not a new voice: it is
    # small next to the spread of the stock voices over all 256 dimensions.
    assert style_map.fast_drift.shape == (256,) and np.isfinite(style_map.fast_drift).all()
    assert 0 < np.linalg.norm(style_map.fast_drift) < np.linalg.norm(style_map.style_scale)
    assert load_style_map("Some other probe sentence.") is None


def test_prediction_is_a_bounded_style_with_or_without_pitch(style_map: StyleMap) -> None:
    target = np.random.default_rng(0).standard_normal(256)
    target /= np.linalg.norm(target)
    for prosody in (None, ProsodyStats(120.0, 90.0, 170.0, 4.0, 0.5)):
        style = style_map.predict(target, prosody)
        assert style.shape == (256,) and style.dtype == np.float32
        offset = (style - style_map.style_mean) / style_map.style_scale
        assert np.sqrt(np.mean(offset**2)) <= 1.5 + 1e-6  # stays where speech is natural


def test_map_brings_a_voice_it_was_not_trained_on_closer_than_the_packs(
        fitter: VoiceFitter, style_map: StyleMap) -> None:
    # A voice outside the training draws: two stock packs mixed 50/50 plus an offset.
    rows = fitter.pack_rows()
    a, b = sorted(rows)[:2]
    offset = np.random.default_rng(7).standard_normal(256) * fitter.scale * 0.5
    voice = (0.5 * rows[a] + 0.5 * rows[b] + offset).astype(np.float32)
    target, prosody = probe(fitter, voice)
    mapped, _ = probe(fitter, style_map.predict(target, prosody))
    nearest_pack = max(float(e @ target) for e in fitter.pack_embeddings().values())
    assert float(mapped @ target) > nearest_pack


def test_fast_and_balanced_start_from_the_drift_and_best_does_not(
        fitter: VoiceFitter, style_map: StyleMap) -> None:
    target, prosody = probe(fitter, next(iter(fitter.pack_rows().values())))
    plain = style_map.predict(target, prosody)
    drifted = style_map.predict(target, prosody, drift=True)
    np.testing.assert_allclose(drifted - plain, style_map.fast_drift, atol=1e-5)
    np.testing.assert_array_equal(style_map.without_drift().predict(target, prosody,
                                                                    drift=True), plain)
    # fast speaks, and balanced ascends, from the drifted map's style (when it beats the
    # packs); best still ascends from the plain one (budget 0: the start itself).
    for effort, drift in (("fast", True), ("balanced", True), ("best", False)):
        with mock.patch.object(StyleMap, "predict", autospec=True,
                               side_effect=StyleMap.predict) as predict:
            fitter.fit(target, effort, prosody=prosody, budget_s=0.0)  # type: ignore[arg-type]
        assert predict.call_count == 1 and predict.call_args.kwargs["drift"] is drift, effort


def test_map_follows_the_speakers_pitch(fitter: VoiceFitter, style_map: StyleMap) -> None:
    target, prosody = probe(fitter, next(iter(fitter.pack_rows().values())))
    f0 = {}
    for factor in (0.8, 1.25):  # about 4 semitones down and up
        shifted = ProsodyStats(prosody.f0_median * factor, prosody.f0_p5 * factor,
                               prosody.f0_p95 * factor, prosody.syllable_rate,
                               prosody.voiced_fraction)
        f0[factor] = probe(fitter, style_map.predict(target, shifted))[1].f0_median
    # The clone's pitch moves the way the speaker's does (weakly: the same d-vector
    # also says how high the voice is; measured 278 -> 290 Hz for this 8 st change).
    assert f0[1.25] > f0[0.8] * 1.02


def test_fast_enrollment_renders_three_times_at_most(joe_reference: Audio,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # fast = the map's style against the nearest pack (whose probe embedding is known),
    # then the tone match: it reuses the map's probe rendering (rendering the pack's if
    # that won) and renders one more sentence.
    fitter = VoiceFitter(default_engine(), default_encoder(), stock_packs())
    calls = []
    real_render = fitter.engine.render

    def counting(ids: list[int], style: np.ndarray, speed: float = 1.0) -> np.ndarray:
        calls.append(len(ids))
        return real_render(ids, style, speed)

    monkeypatch.setattr(fitter.engine, "render", counting)
    reference = prepare_reference(joe_reference)[0]
    target = fitter.encoder.embed(reference)
    fitted = fitter.fit(target, "fast", prosody=prosody_stats(reference))
    fitter.match_tone(fitted.conditioning, reference, target)
    assert len(calls) <= 3, calls
    assert fitted.evaluations == 0  # no search at fast
