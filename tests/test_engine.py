"""The Kokoro engine and the text-to-speech pipeline, with the real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voxclone.audio.pauses import sound_span
from voxclone.clone.conditioning import StyleConditioning
from voxclone.engines.kokoro import KokoroEngine, assemble_model, default_engine, stock_packs
from voxclone.errors import ModelError, TextError
from voxclone.pipeline import (
    DEFAULT_SENTENCE_PAUSE_S,
    END_S,
    LEAD_S,
    SynthesisOptions,
    Synthesizer,
)
from voxclone.text import phonemize

from .conftest import longest_inner_silence
from .test_profile import make_profile

PAGE = " ".join(
    [
        "Chapter one. It was a bright cold day in April, and the clocks were striking "
        "thirteen. Dr. Smith paid $3.50 for 2 coffees at 10:30 am on the 3rd of May.",
    ]
    * 6
)


def test_model_is_assembled_verified_and_rebuilt_when_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = assemble_model(tmp_path)
    assert path.stat().st_size > 90_000_000
    path.write_bytes(b"garbage")  # a damaged cache must not be loaded
    rebuilt = assemble_model(tmp_path)
    assert rebuilt.stat().st_size > 90_000_000
    assert [p.name for p in tmp_path.iterdir()] == [rebuilt.name]  # no partial files
    monkeypatch.setattr("voxclone.engines.kokoro._expected_sha256", lambda: "0" * 64)
    with pytest.raises(ModelError, match="reinstall"):
        assemble_model(tmp_path / "other")
    assert not list((tmp_path / "other").iterdir())


def test_render_speaks_and_speed_changes_duration() -> None:
    engine = default_engine()
    ids = engine.tokenize(phonemize("Hello, this is a short test of the engine."))
    style = stock_packs()["jm_kumo"][len(ids) - 1]
    normal = engine.render(ids, style)
    fast = engine.render(ids, style, speed=1.5)
    assert normal.dtype == np.float32 and engine.sample_rate == 24_000
    assert 1.5 < len(normal) / 24_000 < 5.0
    assert np.sqrt(np.mean(normal**2)) > 0.01  # not silence
    assert len(fast) < 0.8 * len(normal)
    with pytest.raises(TextError):
        engine.render([], style)
    with pytest.raises(TextError):
        engine.render([5] * 600, style)


def test_engine_satisfies_protocol() -> None:
    from voxclone.engines.base import Engine

    assert isinstance(default_engine(), Engine)
    assert isinstance(default_engine(), KokoroEngine)


def test_long_text_is_split_and_fully_rendered() -> None:
    synth = Synthesizer(default_engine(), stock_packs())
    chunks = synth.plan(PAGE)
    assert len(chunks) >= 12  # two sentences per repetition at least
    assert all(0 < len(c) <= default_engine().max_tokens for c in chunks)
    one_sentence = synth.plan("It was a bright cold day in April.")
    assert len(one_sentence) == 1


def test_stream_yields_one_chunk_per_sentence_in_order() -> None:
    synth = Synthesizer(default_engine(), stock_packs())
    voice = make_profile()
    text = "First sentence here. Second one is a little longer than the first. Third!"
    pieces = list(synth.stream(text, voice))
    assert len(pieces) == 3
    assert pieces[1].duration > pieces[2].duration  # order kept
    # the pieces are the whole, with the pause between sentences after the first two
    whole = synth.synthesize(text, voice, SynthesisOptions(sentence_pause=0.3))
    shorter = synth.synthesize(text, voice, SynthesisOptions(sentence_pause=0.1))
    assert whole.duration == pytest.approx(sum(p.duration for p in pieces)
                                           - 2 * (DEFAULT_SENTENCE_PAUSE_S - 0.3), abs=0.01)
    assert whole.duration - shorter.duration == pytest.approx(2 * 0.2, abs=0.01)


def test_the_engines_own_silences_give_way_to_the_pause() -> None:
    synth = Synthesizer(default_engine(), stock_packs())
    alone = synth.synthesize("Nobody spoke for a while.", make_profile())
    # Kokoro renders ~0.25 s of silence before a sentence and ~0.6 s after it
    start, end = sound_span(alone.samples, alone.sample_rate)
    assert start / alone.sample_rate <= LEAD_S + 0.011
    assert (len(alone) - end) / alone.sample_rate <= END_S + 0.011
    two = synth.synthesize("Nobody spoke for a while. Then we went home.", make_profile(),
                           SynthesisOptions(sentence_pause=0.4))
    silence = longest_inner_silence(two)
    assert 0.35 <= silence <= 0.45


def test_voice_conditioning_changes_the_voice() -> None:
    synth = Synthesizer(default_engine(), stock_packs())
    text = "The weather is lovely today."
    a = synth.synthesize(text, make_profile())
    other = make_profile()
    object.__setattr__(other, "conditioning", StyleConditioning({"jm_kumo": 1.0}))
    b = synth.synthesize(text, other)
    n = min(len(a), len(b))
    assert not np.allclose(a.samples[:n], b.samples[:n], atol=1e-3)


@pytest.mark.parametrize("text", ["", "   ", "...", "?!"])
def test_nothing_to_say_is_an_error(text: str) -> None:
    synth = Synthesizer(default_engine(), stock_packs())
    with pytest.raises(TextError):
        synth.plan(text)


def test_speed_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="speed"):
        SynthesisOptions(speed=5.0)
