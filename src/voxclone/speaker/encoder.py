"""The speaker encoder: audio -> 256-d L2-normalised d-vector.

The default is the GE2E encoder whose weights ship in the ``resemblyzer`` package
(3-layer LSTM, 40 mel bands, 16 kHz). Any encoder with the same small protocol can
replace it.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np

from voxclone.audio import Audio
from voxclone.errors import ModelError, NoSpeechError

logger = logging.getLogger(__name__)

EMBEDDING_DIM = 256
_MIN_SECONDS = 0.5


@runtime_checkable
class SpeakerEncoder(Protocol):
    """Maps speech to a fixed-size, L2-normalised speaker embedding."""

    sample_rate: int
    dim: int

    def embed(self, audio: Audio) -> np.ndarray:
        """Embedding of one clip: float32, shape ``(dim,)``, unit norm."""
        ...


class GE2EEncoder:
    """Resemblyzer's GE2E d-vector encoder on the CPU (16 kHz input, 256-d output)."""

    sample_rate = 16_000
    dim = EMBEDDING_DIM

    def __init__(self) -> None:
        try:
            import torch
            with warnings.catch_warnings():
                # resemblyzer's audio module imports pkg_resources (deprecated).
                warnings.simplefilter("ignore")
                from resemblyzer import VoiceEncoder
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelError(
                f"the GE2E speaker encoder could not be imported ({exc}); "
                "reinstall voxclone's dependencies: pip install 'resemblyzer' 'setuptools<81'"
            ) from exc
        self._torch = torch
        self._model = VoiceEncoder("cpu", verbose=False)
        self._lock = threading.Lock()

    def embed(self, audio: Audio) -> np.ndarray:
        """d-vector of ``audio`` (any sample rate; resampled to 16 kHz).

        Raises:
            NoSpeechError: the clip is shorter than 0.5 s or silent.
        """
        wav = audio.resample(self.sample_rate).samples
        if len(wav) < _MIN_SECONDS * self.sample_rate or not np.any(wav):
            raise NoSpeechError(
                f"{audio.duration:.2f} s of audio is too short or silent to embed a "
                "speaker; give at least a second of speech"
            )
        with self._lock, self._torch.inference_mode():
            # The LSTM is tiny: one thread is as fast, and several fight the engine's
            # threads for the cores (14x slower seen on a busy 2-core machine).
            threads = self._torch.get_num_threads()
            self._torch.set_num_threads(1)
            try:
                embedding = self._model.embed_utterance(wav)
            finally:
                self._torch.set_num_threads(threads)
        return _unit(np.asarray(embedding, dtype=np.float32))


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise NoSpeechError("the speaker embedding is degenerate; the clip holds no speech")
    return (vector / norm).astype(np.float32)


def combine_embeddings(
    embeddings: Sequence[np.ndarray], weights: Sequence[float] | None = None
) -> np.ndarray:
    """Few-shot: one voice from several clips, the weighted mean direction.

    Args:
        embeddings: unit vectors of equal shape ``(dim,)``.
        weights: e.g. seconds of speech per clip; equal weights if omitted.

    Returns:
        float32 unit vector of shape ``(dim,)``.
    """
    if not embeddings:
        raise ValueError("combine_embeddings needs at least one embedding")
    stack = np.stack([np.asarray(e, dtype=np.float64) for e in embeddings])
    w = np.ones(len(stack)) if weights is None else np.asarray(weights, dtype=np.float64)
    return _unit((w[:, None] * stack).sum(axis=0))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings, in [-1, 1]."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _shared() -> GE2EEncoder:
    return GE2EEncoder()


def default_encoder() -> GE2EEncoder:
    """The process-wide GE2E encoder, loaded on first use."""
    with _lock:
        return _shared()
