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
        return self.embed_many([audio])[0]

    def embed_many(self, audios: Sequence[Audio]) -> np.ndarray:
        """d-vectors of several clips, float32 ``(len(audios), dim)``, unit rows: each
        row what :meth:`embed` gives for its clip (Resemblyzer's utterance embedding:
        the mean of its 1.6 s partials), with every clip's partials in one batch
        through the LSTM, which is what costs at one clip per call.

        Raises:
            NoSpeechError: a clip is shorter than 0.5 s or silent.
        """
        from resemblyzer.audio import wav_to_mel_spectrogram

        mels: list[np.ndarray] = []
        counts: list[int] = []
        for audio in audios:
            wav = audio.resample(self.sample_rate).samples
            if len(wav) < _MIN_SECONDS * self.sample_rate or not np.any(wav):
                raise NoSpeechError(
                    f"{audio.duration:.2f} s of audio is too short or silent to embed a "
                    "speaker; give at least a second of speech"
                )
            # Resemblyzer's embed_utterance, up to the model: 1.3 partials a second,
            # the last one kept (zero-padded) when it covers 75 % of its frames.
            wav_slices, mel_slices = self._model.compute_partial_slices(len(wav), 1.3, 0.75)
            if wav_slices[-1].stop >= len(wav):
                wav = np.pad(wav, (0, wav_slices[-1].stop - len(wav)))
            mel = wav_to_mel_spectrogram(wav)
            mels.extend(mel[s] for s in mel_slices)
            counts.append(len(mel_slices))
        if not counts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock, self._torch.inference_mode():
            # The LSTM is tiny: one thread is as fast, and several fight the engine's
            # threads for the cores (14x slower seen on a busy 2-core machine).
            threads = self._torch.get_num_threads()
            self._torch.set_num_threads(1)
            try:
                partials = self._model(self._torch.from_numpy(np.array(mels))).numpy()
            finally:
                self._torch.set_num_threads(threads)
        ends = np.cumsum(counts)
        return np.stack([_unit(partials[end - n:end].mean(axis=0))
                         for n, end in zip(counts, ends, strict=True)])


def embed_all(encoder: SpeakerEncoder, audios: Sequence[Audio]) -> np.ndarray:
    """d-vectors of ``audios``, float32 ``(len(audios), encoder.dim)``: in one batch
    when the encoder has ``embed_many`` (as the GE2E one does), else one by one.

    Raises:
        NoSpeechError: a clip is too short or silent to embed.
    """
    many = getattr(encoder, "embed_many", None)
    if callable(many):
        return np.asarray(many(audios), dtype=np.float32).reshape(len(audios), encoder.dim)
    if not audios:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    return np.stack([encoder.embed(a) for a in audios]).astype(np.float32)


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
