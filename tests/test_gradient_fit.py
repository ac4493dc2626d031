"""The gradient ascent of the timbre: the torch replay of Kokoro's decoder and of GE2E
against the runtime's, and the ascent itself, on the real models."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch

from voxclone.audio import Audio
from voxclone.clone import fit as fit_module
from voxclone.clone import gradient_fit
from voxclone.clone.conditioning import StyleConditioning, pack_scale
from voxclone.clone.fit import PROBE_TEXT, VoiceFitter
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.engines.kokoro_grad import TIMBRE_DIMS, DecoderReplay
from voxclone.errors import NoSpeechError
from voxclone.speaker import default_encoder
from voxclone.speaker.ge2e_grad import DifferentiableGE2E
from voxclone.text import normalize_text, phonemize

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def probe_ids() -> list[int]:
    return default_engine().tokenize(phonemize(normalize_text(PROBE_TEXT)))


@pytest.fixture(scope="module")
def replay() -> DecoderReplay:
    return gradient_fit._replay()


def pack_style(name: str, ids: list[int]) -> np.ndarray:
    return StyleConditioning({name: 1.0}).style(stock_packs(), len(ids))


def test_replayed_decoder_sounds_like_the_runtime(replay: DecoderReplay,
                                                  probe_ids: list[int]) -> None:
    encoder = default_encoder()
    for name in list(stock_packs())[:2]:
        style = pack_style(name, probe_ids)
        prepared = replay.prepare(probe_ids, style)
        with torch.no_grad():
            audio = replay.audio(prepared, torch.from_numpy(style[:TIMBRE_DIMS])).numpy()
        assert audio.shape == prepared.runtime_audio.shape
        same = float(encoder.embed(Audio(audio, 24_000))
                     @ encoder.embed(Audio(prepared.runtime_audio, 24_000)))
        assert same > 0.99, name


def test_differentiable_ge2e_agrees_with_the_encoder(replay: DecoderReplay,
                                                     probe_ids: list[int]) -> None:
    encoder = default_encoder()
    ge2e = DifferentiableGE2E(encoder)
    audio = replay.prepare(probe_ids, pack_style(next(iter(stock_packs())),
                                                 probe_ids)).runtime_audio
    with torch.no_grad():
        embedding = ge2e.embed(torch.from_numpy(audio), 24_000).numpy()
    assert embedding.shape == (256,)
    assert float(embedding @ encoder.embed(Audio(audio, 24_000))) > 0.995
    with pytest.raises(NoSpeechError, match=r"0\.5 s"):
        ge2e.embed(torch.zeros(2400), 24_000)


def test_ascent_moves_the_timbre_toward_another_voice(probe_ids: list[int]) -> None:
    engine, encoder, packs = default_engine(), default_encoder(), stock_packs()
    names = list(packs)
    fitter = VoiceFitter(engine, encoder, packs)
    target = fitter.evaluate(pack_style(names[1], probe_ids))
    start = StyleConditioning({names[0]: 1.0})
    start_score = float(fitter.evaluate(start.style(packs, len(probe_ids))) @ target)
    seen: list[float] = []
    result = gradient_fit.ascend(
        start, start_score, target, packs=packs, probe_ids=probe_ids,
        scale=pack_scale(packs), encoder=encoder, evaluate=fitter.evaluate,
        budget_s=600, max_steps=4, progress=lambda done, score: seen.append(done))
    assert seen == [0.25, 0.5, 0.75, 1.0]
    # the shared encoder's network is differentiated through, never trained
    assert all(p.grad is None for p in encoder._model.parameters())
    assert result.evaluations == 5  # four steps and the runtime's check
    assert result.score > start_score + 0.02
    moved = result.conditioning.delta
    assert np.any(moved[:TIMBRE_DIMS] != 0)
    assert np.all(moved[TIMBRE_DIMS:] == 0)  # the prosody half stays where it was
    replayed = float(fitter.evaluate(result.conditioning.style(packs, len(probe_ids)))
                     @ target)
    assert replayed == pytest.approx(result.score, abs=1e-5)


def test_balanced_fit_ascends_and_never_ends_below_its_start(joe_reference: Audio) -> None:
    fitter = VoiceFitter(default_engine(), default_encoder(), stock_packs())
    target = default_encoder().embed(joe_reference)
    scores: list[float] = []
    # a budget no loaded CI machine runs out of: this counts steps, not seconds
    with mock.patch.dict(fit_module.REFINE_EVALUATIONS, {"balanced": 2}), \
            mock.patch.dict(fit_module.REFINE_SECONDS, {"balanced": 600.0}):
        result = fitter.fit(target, "balanced",
                            progress=lambda done, score: scores.append(score))
    assert len(scores) == 3  # the start, then one report per step
    assert result.evaluations == 3
    assert result.score >= scores[0]


def test_a_refinement_that_keeps_its_start_says_so(joe_reference: Audio,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    # One step scores only the start (its update is never rendered), so the fit keeps
    # the start: what a busy CPU's too-short ascent does.
    fitter = VoiceFitter(default_engine(), default_encoder(), stock_packs())
    target = default_encoder().embed(joe_reference)
    scores: list[float] = []
    with mock.patch.dict(fit_module.REFINE_EVALUATIONS, {"balanced": 1}), \
            caplog.at_level("WARNING", logger="voxclone.clone.fit"):
        result = fitter.fit(target, "balanced",
                            progress=lambda done, score: scores.append(score))
    assert result.score == scores[0]
    kept = result.conditioning.style(fitter.packs, len(fitter.probe_ids))
    assert float(fitter.evaluate(kept) @ target) == pytest.approx(scores[0], abs=1e-5)
    assert result.warning is not None  # the profile keeps it (build_voice)
    assert result.warning.startswith("the balanced refinement found no voice closer to "
                                     "the speaker than its start")
    assert "enrolling again when it is idle" in result.warning
    assert result.warning in caplog.text


def test_other_engines_fall_back_to_the_search() -> None:
    assert gradient_fit.supported(default_engine(), default_encoder())
    assert not gradient_fit.supported(object(), default_encoder())
    assert not gradient_fit.supported(default_engine(), object())
