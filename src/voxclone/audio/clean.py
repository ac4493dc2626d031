"""Reference clean-up: voice activity detection, trimming and loudness normalisation.

Speech is found with the Silero VAD ONNX model that ships inside the ``silero_vad``
package (no download). The model is loaded on first use, once per process.
"""

from __future__ import annotations

import logging
import math
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from voxclone.audio.types import Audio
from voxclone.errors import NoSpeechError

__all__ = [
    "VAD_SAMPLE_RATE",
    "CleanReport",
    "detect_speech",
    "normalize_loudness",
    "prepare_reference",
    "trim_to_speech",
]

logger = logging.getLogger(__name__)

VAD_SAMPLE_RATE: Final[int] = 16_000
"""Rate the VAD runs at, and the rate of the clip :func:`prepare_reference` returns."""

_CROSSFADE_SECONDS: Final[float] = 0.005
_METER_BLOCK_SECONDS: Final[float] = 0.4  # BS.1770 gating block
_CLIP_LEVEL: Final[float] = 0.999

_model_lock = threading.Lock()
_vad: tuple[Any, Any] | None = None  # (model, get_speech_timestamps), loaded lazily


def _load_vad() -> tuple[Any, Any]:
    """Return the cached ``(Silero ONNX model, get_speech_timestamps)``; load on first call.

    Call with ``_model_lock`` held: the model keeps recurrent state between chunks,
    so it must not be used by two threads at once.
    """
    global _vad
    if _vad is None:
        import torch  # silero_vad needs torch; import it only when VAD is first used

        threads = torch.get_num_threads()
        # silero_vad.model calls torch.set_num_threads(1) at import time; undo that so
        # loading the VAD does not slow down every other torch model in the process.
        try:
            from silero_vad import get_speech_timestamps, load_silero_vad
        finally:
            torch.set_num_threads(threads)
        with warnings.catch_warnings():  # its importlib.resources.path() is deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            model = load_silero_vad(onnx=True)  # the ONNX file inside the wheel; no network
        _vad = (model, get_speech_timestamps)
        logger.debug("loaded Silero VAD (ONNX)")
    return _vad


def _speech_samples(audio16k: Audio) -> list[tuple[int, int]]:
    """VAD on a 16 kHz clip; returns ``[(start, end), ...]`` sample indices."""
    if len(audio16k) == 0:
        return []
    with _model_lock:
        model, get_speech_timestamps = _load_vad()
        import torch

        tensor = torch.from_numpy(audio16k.samples)
        stamps = get_speech_timestamps(tensor, model, sampling_rate=VAD_SAMPLE_RATE)
    return [(int(s["start"]), int(s["end"])) for s in stamps]


def _speech_seconds(audio16k: Audio) -> list[tuple[float, float]]:
    return [(a / VAD_SAMPLE_RATE, b / VAD_SAMPLE_RATE) for a, b in _speech_samples(audio16k)]


def detect_speech(audio: Audio) -> list[tuple[float, float]]:
    """Find the speech in a clip.

    Args:
        audio: any sample rate; it is resampled to 16 kHz for the VAD.

    Returns:
        ``[(start, end), ...]`` in seconds from the start of ``audio``, sorted and
        non-overlapping (Silero's defaults: probability threshold 0.5, speech at least
        250 ms, pauses under 100 ms bridged, 30 ms padding). Empty when there is no
        speech. Thread-safe; concurrent calls are serialised.
    """
    return _speech_seconds(audio.resample(VAD_SAMPLE_RATE))


def _keep_intervals(
    segments: list[tuple[float, float]], duration: float, pad: float, max_gap: float
) -> list[tuple[float, float]]:
    """Turn speech segments into the spans of the original to keep (seconds).

    Segments get ``pad`` at the outer edges; between two segments at most ``max_gap``
    of the pause is kept (half after the first, half before the second).
    """
    spans: list[tuple[float, float]] = []
    for start, end in sorted(segments):
        if spans and start - spans[-1][1] <= max_gap:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    kept: list[tuple[float, float]] = []
    for i, (start, end) in enumerate(spans):
        lead = pad if i == 0 else max_gap / 2
        tail = pad if i == len(spans) - 1 else max_gap / 2
        kept.append((max(0.0, start - lead), min(duration, end + tail)))
    return kept


def _splice(
    samples: npt.NDArray[np.float32], spans: list[tuple[int, int]], fade: int
) -> npt.NDArray[np.float32]:
    """Concatenate ``samples[a:b]`` for each span, crossfading ``fade`` samples at joins."""
    pieces = [samples[start:end].copy() for start, end in spans]
    for i in range(1, len(pieces)):
        before, after = pieces[i - 1], pieces[i]
        n = min(fade, len(before), len(after))
        if n > 0:
            ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
            after[:n] = before[-n:] * (1.0 - ramp) + after[:n] * ramp
            pieces[i - 1] = before[:-n]
    return np.concatenate(pieces).astype(np.float32, copy=False)


def _trim(
    audio: Audio, segments: list[tuple[float, float]], pad: float, max_gap: float, name: str
) -> Audio:
    if not segments:
        raise NoSpeechError(_no_speech_message(name))
    rate = audio.sample_rate
    spans = [
        (round(a * rate), round(b * rate))
        for a, b in _keep_intervals(segments, audio.duration, pad, max_gap)
    ]
    fade = round(_CROSSFADE_SECONDS * rate)
    return Audio(_splice(audio.samples, spans, fade), rate)


_RECORD_ADVICE: Final[str] = (
    "record yourself speaking for a few seconds in a quiet room, close to the "
    "microphone, and try again"
)


def _no_speech_message(name: str) -> str:
    return f"no speech found in {name}; {_RECORD_ADVICE}"


def trim_to_speech(
    audio: Audio, *, pad: float = 0.1, max_gap: float = 0.3, name: str = "the audio"
) -> Audio:
    """Keep only the speech in a clip.

    Args:
        audio: any sample rate; the result has the same rate.
        pad: seconds of the original kept before the first and after the last speech.
        max_gap: longest pause kept between two speech segments; longer pauses are
            shortened to ``max_gap`` (half after one segment, half before the next,
            joined with a 5 ms crossfade).
        name: how messages refer to the clip (e.g. its file name).

    Returns:
        A new ``Audio`` with the speech segments concatenated.

    Raises:
        NoSpeechError: the VAD finds no speech.
        ValueError: ``pad`` or ``max_gap`` is negative.
    """
    if pad < 0 or max_gap < 0:
        raise ValueError(f"pad and max_gap must be >= 0, got pad={pad}, max_gap={max_gap}")
    return _trim(audio, detect_speech(audio), pad, max_gap, name)


def _loudness(samples: npt.NDArray[np.float32], rate: int) -> float:
    """Integrated loudness in LUFS (BS.1770); RMS-based for clips under 0.4 s."""
    data = samples.astype(np.float64)
    if len(data) >= round(_METER_BLOCK_SECONDS * rate):
        import pyloudnorm

        meter = pyloudnorm.Meter(rate)
        return float(meter.integrated_loudness(data))
    mean_square = float(np.mean(data**2)) if len(data) else 0.0
    return -0.691 + 10.0 * math.log10(mean_square) if mean_square > 0 else -math.inf


def normalize_loudness(
    audio: Audio, *, target_lufs: float = -23.0, peak: float = 0.95, name: str = "the audio"
) -> Audio:
    """Scale a clip to a target integrated loudness, without exceeding a peak.

    Loudness is measured with pyloudnorm (ITU-R BS.1770, gated); clips shorter than
    the meter's 0.4 s block use ``-0.691 + 10*log10(mean square)`` instead. The gain
    is then lowered, if needed, so that ``max(abs(samples)) <= peak``; in that case the
    result is quieter than ``target_lufs``.

    Args:
        audio: any sample rate; the result has the same rate and length.
        target_lufs: wanted loudness in LUFS.
        peak: largest allowed absolute sample value, in ``(0, 1]``.
        name: how messages refer to the clip.

    Raises:
        NoSpeechError: the clip is silent (loudness of -inf, below the BS.1770 gate).
        ValueError: ``peak`` is not in ``(0, 1]``.
    """
    if not 0 < peak <= 1:
        raise ValueError(f"peak must be in (0, 1], got {peak}")
    loudness = _loudness(audio.samples, audio.sample_rate)
    current_peak = float(np.max(np.abs(audio.samples))) if len(audio) else 0.0
    if not math.isfinite(loudness) or current_peak == 0.0:
        raise NoSpeechError(f"{name} is silent; {_RECORD_ADVICE}")
    gain = 10.0 ** ((target_lufs - loudness) / 20.0)
    if current_peak * gain > peak:
        logger.debug("loudness gain %.1f dB limited by peak %.2f", 20 * math.log10(gain), peak)
        gain = peak / current_peak
    return Audio((audio.samples * np.float32(gain)).astype(np.float32), audio.sample_rate)


@dataclass(frozen=True)
class CleanReport:
    """What :func:`prepare_reference` found and did.

    Attributes:
        speech_seconds: total length of the speech the VAD found in the input.
        total_seconds: length of the input.
        loudness_lufs: integrated loudness of the cleaned clip (LUFS).
        peak: largest absolute sample value of the cleaned clip.
        clipped_fraction: fraction of input samples at full scale (``|x| >= 0.999``);
            above ~0.001 the recording was probably too loud and distorted.
    """

    speech_seconds: float
    total_seconds: float
    loudness_lufs: float
    peak: float
    clipped_fraction: float


def prepare_reference(
    audio: Audio,
    *,
    min_speech: float = 1.0,
    name: str = "reference",
    target_lufs: float = -23.0,
    segments: Sequence[tuple[float, float]] | None = None,
) -> tuple[Audio, CleanReport]:
    """Clean a reference recording for speaker enrolment.

    Resamples to 16 kHz, keeps only the speech (:func:`trim_to_speech` defaults) and
    normalises it to ``target_lufs`` (:func:`normalize_loudness` defaults).

    Args:
        audio: the recording, any sample rate.
        min_speech: least seconds of speech accepted.
        name: how messages refer to the recording (e.g. its file name).
        target_lufs: loudness of the result.
        segments: :func:`detect_speech` of ``audio``, when the caller has it already
            (it is not run twice).

    Returns:
        ``(clip, report)``: the cleaned 16 kHz mono float32 clip and a :class:`CleanReport`.

    Raises:
        NoSpeechError: no speech, or less than ``min_speech`` seconds of it.
    """
    total = len(audio)
    clipped = (
        float(np.count_nonzero(np.abs(audio.samples) >= _CLIP_LEVEL)) / total if total else 0.0
    )
    audio16k = audio.resample(VAD_SAMPLE_RATE)
    segments = _speech_seconds(audio16k) if segments is None else list(segments)
    speech = sum(end - start for start, end in segments)
    if not segments:
        raise NoSpeechError(_no_speech_message(name))
    if speech < min_speech:
        raise NoSpeechError(
            f"only {math.floor(speech * 10) / 10:.1f} s of speech in {name}; at least "
            f"{min_speech:.1f} s is needed "
            "— record a few seconds more"
        )
    trimmed = _trim(audio16k, segments, 0.1, 0.3, name)
    cleaned = normalize_loudness(trimmed, target_lufs=target_lufs, name=name)
    report = CleanReport(
        speech_seconds=speech,
        total_seconds=audio.duration,
        loudness_lufs=_loudness(cleaned.samples, cleaned.sample_rate),
        peak=float(np.max(np.abs(cleaned.samples))),
        clipped_fraction=clipped,
    )
    logger.info(
        "%s: %.1f s of speech in %.1f s, %.1f LUFS, %.1f%% clipped",
        name, report.speech_seconds, report.total_seconds, report.loudness_lufs,
        100 * report.clipped_fraction,
    )  # fmt: skip
    return cleaned, report
