"""What the speed work must not break: streaming starts early and loses no text, and
the cached optimised model is reused, rebuilt when damaged, and speaks the same."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from voxclone.engines import session as session_module
from voxclone.engines.kokoro import MODEL_FILE, KokoroEngine, assemble_model, stock_packs
from voxclone.engines.session import SessionConfig
from voxclone.errors import TextError
from voxclone.pipeline import (
    CLAUSE_PAUSE_S,
    DEFAULT_SENTENCE_PAUSE_S,
    END_S,
    LEAD_S,
    SynthesisOptions,
    Synthesizer,
)
from voxclone.text import load_vocab, phonemize, tokenize

from .test_profile import make_profile

STORY = (
    "The old lighthouse stood at the edge of the cliff, its white paint peeling in long "
    "strips after decades of salt and wind. Nobody had lived there since the keeper "
    "retired. The children said it was a ghost! Maria did not believe either story. "
    "She packed a torch, a notebook and two sandwiches, and walked up the path alone."
)


FRAME = 240  # samples per phoneme id of the stand-in engine (10 ms)


class CountingEngine:
    """A stand-in engine: a 10 ms frame of tone per id, no silence around it; records
    every call."""

    name = "kokoro-82m-int8"
    sample_rate = 24_000
    max_tokens = 510
    style_dim = 256

    def __init__(self) -> None:
        self.rendered: list[tuple[int, ...]] = []
        self.lock = threading.Lock()

    def tokenize(self, phonemes: str) -> list[int]:
        return tokenize(phonemes)

    def render(self, ids: Sequence[int], style: np.ndarray, speed: float = 1.0) -> np.ndarray:
        with self.lock:
            self.rendered.append(tuple(ids))
        t = np.arange(FRAME * len(ids)) / self.sample_rate
        return (0.3 * np.sin(2 * np.pi * 220 * t + 0.5)).astype(np.float32)


def _without_spaces(ids: Sequence[int]) -> list[int]:
    space = load_vocab()[" "]
    return [i for i in ids if i != space]


def test_stream_yields_the_first_chunk_before_rendering_the_rest() -> None:
    engine = CountingEngine()
    stream = Synthesizer(engine, stock_packs()).stream(
        STORY, make_profile(), SynthesisOptions(first_chunk_tokens=24))
    assert engine.rendered == []  # validated, nothing rendered yet
    first = next(stream)
    assert len(engine.rendered) == 1  # only the first chunk was rendered
    assert len(engine.rendered[0]) <= 24  # the long first sentence was cut short
    # its sound, the lead before it and the pause after it
    assert first.duration == pytest.approx(FRAME * len(engine.rendered[0]) / 24_000 + LEAD_S
                                           + CLAUSE_PAUSE_S - LEAD_S)
    rest = list(stream)
    assert len(rest) == len(engine.rendered) - 1 >= 5


def test_split_and_pipelined_stream_covers_every_sentence_in_order() -> None:
    engine = CountingEngine()
    synth = Synthesizer(engine, stock_packs())
    whole = [i for chunk in synth.plan(STORY) for i in chunk]
    list(synth.stream(STORY, make_profile(), SynthesisOptions(first_chunk_tokens=24)))
    streamed = [i for ids in engine.rendered for i in ids]
    # Cutting a sentence drops only the space at the cut: no phoneme lost or reordered.
    assert _without_spaces(streamed) == _without_spaces(whole)
    for sentence in ("Nobody had lived there since the keeper retired.",
                     "Maria did not believe either story."):
        ids = _without_spaces(tokenize(phonemize(sentence)))
        assert any(_without_spaces(chunk) == ids for chunk in engine.rendered)


def _silences(pieces: Sequence[np.ndarray]) -> list[float]:
    """Seconds of silence between the sound of each piece and the next, and at the end."""
    whole = np.concatenate(pieces)
    sound = np.flatnonzero(whole)
    ends = np.cumsum([len(p) for p in pieces])
    gaps = []
    for end in ends:
        after = sound[sound >= end]
        before = sound[sound < end]
        gaps.append(((after[0] if after.size else len(whole)) - before[-1] - 1) / 24_000)
    return gaps


def test_the_voices_pause_between_sentences_and_a_short_one_inside() -> None:
    engine = CountingEngine()
    synth = Synthesizer(engine, stock_packs())
    voice = replace(make_profile(), pause=0.7)
    pieces = list(synth.stream(STORY, voice, SynthesisOptions(first_chunk_tokens=24)))
    gaps = _silences([p.samples for p in pieces])
    assert np.flatnonzero(pieces[0].samples)[0] == round(LEAD_S * 24_000)
    # the lead-in runs on into the rest of its sentence after a comma's pause
    assert gaps[0] == pytest.approx(CLAUSE_PAUSE_S, abs=1e-3)
    assert gaps[1:-1] == pytest.approx([0.7] * (len(pieces) - 2), abs=1e-3)
    assert gaps[-1] == pytest.approx(END_S, abs=1e-3)

    # a set pause overrides the voice's; speed shortens the voice's own
    pieces = list(synth.stream(STORY, voice, SynthesisOptions(sentence_pause=0.25)))
    assert _silences([p.samples for p in pieces])[:-1] == pytest.approx(
        [0.25] * (len(pieces) - 1), abs=1e-3)
    pieces = list(synth.stream(STORY, voice, SynthesisOptions(speed=2.0)))
    assert _silences([p.samples for p in pieces])[:-1] == pytest.approx(
        [0.35] * (len(pieces) - 1), abs=1e-3)
    # a voice without a measured pause (older profiles, stock voices) gets the default
    pieces = list(synth.stream(STORY, make_profile(), SynthesisOptions()))
    assert _silences([p.samples for p in pieces])[:-1] == pytest.approx(
        [DEFAULT_SENTENCE_PAUSE_S] * (len(pieces) - 1), abs=1e-3)


def test_unpronounceable_sentences_are_skipped_but_bad_text_fails_first() -> None:
    engine = CountingEngine()
    synth = Synthesizer(engine, stock_packs())
    with pytest.raises(TextError):
        synth.stream("... ?! ...", make_profile())
    assert engine.rendered == []
    pieces = list(synth.stream("Hello there. ... ?! Goodbye now.", make_profile()))
    assert len(pieces) == 2


def test_abandoned_stream_stops_its_text_worker() -> None:
    synth = Synthesizer(CountingEngine(), stock_packs())
    stream = synth.stream(STORY * 5, make_profile())
    next(stream)
    stream.close()  # the worker is shut down; no error, no further rendering


def _fresh_engine(cache: Path, monkeypatch: pytest.MonkeyPatch) -> KokoroEngine:
    monkeypatch.setenv("VOXCLONE_CACHE", str(cache))
    return KokoroEngine(config=SessionConfig(threads=1, static_int8=False))


def _optimized(cache: Path) -> Path:
    return cache / MODEL_FILE.replace(".onnx", ".optimized.onnx")


def test_optimized_model_is_cached_reused_and_rebuilt_when_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _fresh_engine(tmp_path, monkeypatch)
    optimized = _optimized(tmp_path)
    assert optimized.is_file()
    built_at = optimized.stat().st_mtime_ns
    builds: list[Path] = []
    real_build = session_module.build_optimized

    def counting_build(source: Path, sha: str) -> Path:
        builds.append(source)
        return real_build(source, sha)

    monkeypatch.setattr("voxclone.engines.kokoro.build_optimized", counting_build)
    _fresh_engine(tmp_path, monkeypatch)
    assert builds == [] and optimized.stat().st_mtime_ns == built_at  # reused

    optimized.write_bytes(b"not a model")  # damaged: size and time change
    again = _fresh_engine(tmp_path, monkeypatch)
    assert len(builds) == 1

    # Damaged in place, keeping its size and time: ONNX Runtime refuses it, rebuilt.
    stat = optimized.stat()
    with open(optimized, "r+b") as handle:
        handle.write(b"\0" * 4096)
    os.utime(optimized, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    _fresh_engine(tmp_path, monkeypatch)
    assert len(builds) == 2

    ids = first.tokenize(phonemize("The cached model speaks like the original."))
    style = stock_packs()["jf_alpha"][len(ids) - 1]
    plain = KokoroEngine(assemble_model(tmp_path), config=SessionConfig(threads=1))
    np.testing.assert_allclose(again.render(ids, style), plain.render(ids, style),
                               atol=1e-4)


def test_optimized_cache_is_stale_for_another_model_or_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh_engine(tmp_path, monkeypatch)
    source = tmp_path / MODEL_FILE
    meta = _optimized(tmp_path).with_name(_optimized(tmp_path).name + ".json")
    sha = json.loads(meta.read_text())["source_sha256"]
    assert session_module.cached_optimized(source, sha) == _optimized(tmp_path)
    assert session_module.cached_optimized(source, "0" * 64) is None  # another model
    meta.write_text(meta.read_text().replace('"onnxruntime": "', '"onnxruntime": "0.'))
    assert session_module.cached_optimized(source, sha) is None  # another runtime
