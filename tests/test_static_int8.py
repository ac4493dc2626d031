"""The static int8 rewrite of the Kokoro model: the default engine runs it, it speaks
like the shipped model, and it falls back to the shipped model when it cannot be had."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from voxclone.audio import Audio
from voxclone.engines import kokoro
from voxclone.engines.kokoro import (
    MODEL_FILE,
    STATIC_FILE,
    KokoroEngine,
    static_model,
    stock_packs,
)
from voxclone.engines.session import STATIC_INT8_ENV, SessionConfig
from voxclone.engines.snake_table import find_snakes
from voxclone.engines.static_int8 import Int8Scales, load_onnx, shipped_scales
from voxclone.speaker import default_encoder
from voxclone.text import normalize_text, phonemize

SENTENCES = (
    "Please remember to lock the back door before you leave the house tonight.",
    "He counted twelve red apples, four green pears and a single ripe banana.",
)


def _optimized(cache: Path, name: str) -> Path:
    return cache / name.replace(".onnx", ".optimized.onnx")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache for the module, holding the verified and the static model."""
    path = tmp_path_factory.mktemp("model-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOXCLONE_CACHE", str(path))
        static_model()
    return path


@pytest.fixture
def in_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOXCLONE_CACHE", str(cache))
    monkeypatch.delenv(STATIC_INT8_ENV, raising=False)
    return cache


def test_the_default_engine_runs_the_static_model_and_speaks_like_the_shipped_one(
    in_cache: Path,
) -> None:
    static = KokoroEngine(config=SessionConfig(threads=1))
    assert _optimized(in_cache, STATIC_FILE).is_file()  # loaded through its own cache
    shipped = KokoroEngine(config=SessionConfig(threads=1, static_int8=False))
    encoder = default_encoder()
    packs = stock_packs()
    # A clone's style is a mixture of the stock packs plus an offset: try both kinds.
    styles = {"jm_kumo": packs["jm_kumo"], "mixture": np.mean(list(packs.values()), axis=0)}
    for text in SENTENCES:
        ids = static.tokenize(phonemize(normalize_text(text)))
        for pack in styles.values():
            ours = static.render(ids, pack[len(ids) - 1])
            theirs = shipped.render(ids, pack[len(ids) - 1])
            assert abs(len(ours) - len(theirs)) <= 0.05 * len(theirs)  # same timing
            assert not np.allclose(ours[: len(theirs)], theirs[: len(ours)], atol=1e-3)
            cos = encoder.embed(Audio(ours, 24_000)) @ encoder.embed(Audio(theirs, 24_000))
            assert cos > 0.97, f"the static model drifts from the voice: cosine {cos:.3f}"
            loudness = np.sqrt(np.mean(ours**2)) / np.sqrt(np.mean(theirs**2))
            assert 0.8 < loudness < 1.25


def test_the_static_model_is_reused_and_rebuilt_when_damaged(in_cache: Path) -> None:
    path, key = static_model()
    built_at = path.stat().st_mtime_ns
    assert static_model() == (path, key) and path.stat().st_mtime_ns == built_at
    size = path.stat().st_size
    path.write_bytes(b"not a model")
    again, _ = static_model()
    assert again.stat().st_size == size
    assert not [p for p in in_cache.iterdir() if p.name.startswith(".")]  # no leftovers


def test_no_onnx_or_foreign_scales_fall_back_to_the_shipped_model(
    tmp_path: Path, in_cache: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    scales, digest = shipped_scales()
    foreign = replace(scales, source_sha256="0" * 64)
    monkeypatch.setattr(kokoro, "shipped_scales", lambda: (foreign, digest))
    monkeypatch.setenv("VOXCLONE_CACHE", str(tmp_path))
    (tmp_path / MODEL_FILE).symlink_to(in_cache / MODEL_FILE)  # no second 90 MB copy
    with caplog.at_level(logging.WARNING, logger="voxclone.engines.kokoro"):
        engine = KokoroEngine(config=SessionConfig(threads=1, cache_optimized=False))
    assert "running the shipped Kokoro model" in caplog.text
    assert "another Kokoro model" in caplog.text
    assert not (tmp_path / STATIC_FILE).exists()
    ids = engine.tokenize(phonemize("Still speaking."))
    assert np.sqrt(np.mean(engine.render(ids, stock_packs()["jf_alpha"][len(ids) - 1]) ** 2)
                   ) > 0.01

    monkeypatch.undo()
    monkeypatch.setenv("VOXCLONE_CACHE", str(tmp_path))
    monkeypatch.setitem(sys.modules, "onnx", None)  # not installed
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="voxclone.engines.kokoro"):
        KokoroEngine(config=SessionConfig(threads=1, cache_optimized=False))
    assert "pip install 'onnx" in caplog.text
    assert not (tmp_path / STATIC_FILE).exists()

    def broken(*_: object) -> None:
        raise ValueError("a graph onnx cannot read")

    monkeypatch.delitem(sys.modules, "onnx")
    monkeypatch.setattr(kokoro, "rewrite", broken)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="voxclone.engines.kokoro"):
        KokoroEngine(config=SessionConfig(threads=1, cache_optimized=False))
    assert "could not write the static int8 model: a graph onnx cannot read" in caplog.text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_the_environment_can_turn_the_static_model_off(
    in_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SessionConfig().use_static_int8
    monkeypatch.setenv(STATIC_INT8_ENV, "0")
    assert not SessionConfig().use_static_int8
    assert SessionConfig(static_int8=True).use_static_int8  # an explicit choice wins


def test_scales_survive_a_round_trip_and_cover_every_convolution(tmp_path: Path) -> None:
    scales, _ = shipped_scales()
    assert scales.source_sha256 == kokoro._expected_sha256()
    assert len(scales.gains) == 87  # every ConvInteger of the shipped model
    for name, gain in scales.gains.items():
        assert gain.dtype == np.float32 and gain.min() > 0 and gain.max() == 1.0
        low_in, high_in, low_out, high_out = scales.ranges[name]
        assert low_in < high_in and low_out < high_out
    assert len(scales.snakes) == 48  # Kokoro's decoder: its resblocks and noise_res
    for span in scales.snakes.values():
        assert span.dtype == np.float32 and np.all(span[0] < span[1])
    scales.save(tmp_path / "scales.npz")
    again = Int8Scales.load(tmp_path / "scales.npz")
    assert again.source_sha256 == scales.source_sha256 and again.ranges == scales.ranges
    assert all(np.array_equal(again.gains[n], g) for n, g in scales.gains.items())
    assert sorted(again.snakes) == sorted(scales.snakes)
    assert all(np.array_equal(again.snakes[n], s) for n, s in scales.snakes.items())


def test_the_static_model_tabulates_its_snakes_folds_their_norms_and_convolves_its_stft(
    in_cache: Path,
) -> None:
    path, _ = static_model()
    graph = load_onnx().load(str(path)).graph
    assert not find_snakes(graph)
    assert sum(n.op_type == "GatherElements" for n in graph.node) == 48
    # every table's index is folded into the instance norm before it
    assert sum(n.name.endswith("_table_shift_folded") for n in graph.node) == 48
    # the source's STFT is a convolution with ONNX Runtime's own DFT weights
    assert not [n for n in graph.node if n.op_type == "STFT"]
    assert [n.name for n in graph.node if n.name.endswith("STFT_conv")] == [
        "/decoder/decoder/generator/STFT_conv"]
