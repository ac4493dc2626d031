"""Encode :class:`Audio` as the bytes of an audio file, and write it to a path (atomically),
standard output or a binary stream.

Encoding uses ``soundfile`` (the libsndfile it bundles writes WAV, FLAC, OGG/Vorbis,
Ogg/Opus and MP3); resampling (MP3's and Opus's rates) uses ``soxr``. Decoding lives in
:mod:`.decoding`.

The lossy formats are encoded at a quality the watermark survives, 3 s excerpts
included (``bench/results/watermark_clones.md``): libsndfile's default Vorbis and Opus
(~45 and ~38 kbit/s for 24 kHz speech) lost it in a third and in most 3 s excerpts.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
from typing import BinaryIO, Final

import numpy as np
import numpy.typing as npt
import soundfile as sf

from voxclone.audio.types import Audio
from voxclone.errors import AudioError, AudioFormatError

__all__ = ["SUPPORTED_OUTPUT", "encode_audio", "output_format", "write_audio", "write_encoded"]

logger = logging.getLogger(__name__)

SUPPORTED_OUTPUT: Final[tuple[str, ...]] = ("wav", "flac", "ogg", "opus", "mp3", "pcm", "raw")
"""Output formats of :func:`write_audio` / :func:`encode_audio`. ``wav`` and ``flac``
are 16-bit PCM, ``ogg`` is Vorbis, ``opus`` is Opus in an Ogg file, ``pcm`` and ``raw``
are headerless 16-bit little-endian mono PCM."""

_ALIASES: Final[dict[str, str]] = {"wave": "wav", "oga": "ogg", "vorbis": "ogg"}
#: libsndfile's compression level (0 best, 1 smallest) per lossy format. For 24 kHz
#: speech: Vorbis at 0.3 is ~61 kbit/s, Opus at 0.8 ~58 kbit/s, MP3 at libsndfile's
#: default ~50 kbit/s. Marked LibriSpeech clips (20, 8 s) read back whole 20/20 and in
#: 3 s excerpts 19/20 at these levels; at libsndfile's defaults Vorbis gave 14/20 of the
#: excerpts, Opus 11/20 of the clips and 1/20 of the excerpts.
_COMPRESSION: Final[dict[str, float]] = {"ogg": 0.3, "opus": 0.8}
#: Rates an Opus stream is coded at; other rates are resampled up to the next.
_OPUS_RATES: Final[tuple[int, ...]] = (8000, 12000, 16000, 24000, 48000)
_EXTENSIONS: Final[dict[str, str]] = {f".{f}": f for f in SUPPORTED_OUTPUT} | {
    ".wave": "wav",
    ".oga": "ogg",
}
_MP3_RATES: Final[tuple[int, ...]] = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


def _canonical_format(fmt: str) -> str:
    key = fmt.strip().lower().lstrip(".")
    key = _ALIASES.get(key, key)
    if key not in SUPPORTED_OUTPUT:
        raise AudioFormatError(
            f"unknown output format {fmt!r}; supported formats: {', '.join(SUPPORTED_OUTPUT)}"
        )
    return key


def output_format(name: str) -> str:
    """The output format a file name asks for, by its extension (``a.mp3`` -> ``mp3``).

    Raises:
        AudioFormatError: the extension is missing or not one voxclone writes.
    """
    return _format_from_name(name)


def _format_from_name(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    if ext not in _EXTENSIONS:
        shown = f"extension {ext!r}" if ext else "no extension"
        raise AudioFormatError(
            f"cannot tell the output format of '{name}' ({shown}); name it with one of "
            f"{', '.join(sorted(_EXTENSIONS))} or pass format= one of "
            f"{', '.join(SUPPORTED_OUTPUT)}"
        )
    return _EXTENSIONS[ext]


def _to_pcm16(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.int16]:
    """Clip to [-1, 1] and convert to int16 (full scale 32767, rounded)."""
    scaled = np.clip(samples, -1.0, 1.0) * np.float32(32767.0)
    return np.rint(scaled).astype(np.int16)


def encode_audio(audio: Audio, format: str) -> bytes:
    """Encode ``audio`` as the bytes of a file in ``format``.

    Args:
        audio: the clip; samples are clipped to ``[-1, 1]`` before encoding.
        format: one of :data:`SUPPORTED_OUTPUT` (case-insensitive, a leading dot is
            ignored). ``wav``/``flac``: 16-bit PCM at the clip's rate. ``ogg``: Vorbis
            (~61 kbit/s for 24 kHz speech). ``opus``: Opus in Ogg (~58 kbit/s), at the
            clip's rate if Opus codes it (8, 12, 16, 24 or 48 kHz), else resampled up.
            ``mp3``: MPEG layer III; a rate MP3 cannot store is resampled up to the
            next MP3 rate (8, 11.025, 12, 16, 22.05, 24, 32, 44.1 or 48 kHz, else
            48 kHz). ``pcm``/``raw``: headerless 16-bit little-endian mono, so the
            result has exactly ``2 * len(audio)`` bytes.

    Raises:
        AudioFormatError: unknown ``format``.
        AudioError: the samples contain NaN or infinity, the clip is empty (only
            ``pcm``/``raw`` accept 0 samples), or the encoder failed.
    """
    fmt = _canonical_format(format)
    samples = audio.samples
    if not np.isfinite(samples).all():
        raise AudioError("cannot encode audio that contains NaN or infinite samples")
    if fmt in ("pcm", "raw"):
        return _to_pcm16(samples).astype("<i2", copy=False).tobytes()
    if len(samples) == 0:
        raise AudioError(f"cannot encode empty audio (0 samples) as {fmt.upper()}")

    buffer = io.BytesIO()
    rate = audio.sample_rate
    data: npt.NDArray[np.int16] | npt.NDArray[np.float32]
    if fmt in ("wav", "flac"):
        data = _to_pcm16(samples)
        container, subtype = fmt.upper(), "PCM_16"
    elif fmt == "ogg":
        data = np.clip(samples, -1.0, 1.0)
        container, subtype = "OGG", "VORBIS"
    else:  # mp3, opus
        rates = _MP3_RATES if fmt == "mp3" else _OPUS_RATES
        if rate not in rates:
            new_rate = next((r for r in rates if r >= rate), rates[-1])
            logger.debug("%s cannot store %d Hz; resampling to %d Hz", fmt.upper(), rate,
                         new_rate)
            audio = audio.resample(new_rate)
            rate = new_rate
        data = np.clip(audio.samples, -1.0, 1.0)
        container, subtype = ("MP3", "MPEG_LAYER_III") if fmt == "mp3" else ("OGG", "OPUS")
    quality = {"compression_level": _COMPRESSION[fmt]} if fmt in _COMPRESSION else {}
    try:
        sf.write(buffer, data, rate, format=container, subtype=subtype, **quality)
    except (sf.SoundFileError, RuntimeError, ValueError) as exc:
        raise AudioError(f"could not encode {fmt.upper()} audio at {rate} Hz: {exc}") from exc
    return buffer.getvalue()


def write_audio(
    audio: Audio,
    dest: str | os.PathLike[str] | BinaryIO,
    *,
    format: str | None = None,
) -> None:
    """Write ``audio`` to a file, a binary file object, or standard output.

    Args:
        audio: the clip to write (see :func:`encode_audio` for what each format holds).
        dest: a path, which is written atomically (a temporary file in the same
            directory, then :func:`os.replace`), so a failed write never leaves a
            partial file and an existing file keeps its permissions; ``"-"`` for
            standard output; or a binary file object, written at its current position.
        format: one of :data:`SUPPORTED_OUTPUT`. When ``None`` it is taken from the
            path's extension (or the file object's ``name``); standard output and
            unnamed file objects default to ``wav``.

    Raises:
        AudioFormatError: the format is unknown or cannot be inferred from the name.
        AudioError: the file cannot be written (missing directory, permissions, full
            disk...) or the audio cannot be encoded.
    """
    if isinstance(dest, (str, os.PathLike)) and os.fspath(dest) != "-":
        path = os.fspath(dest)
        _atomic_write(path, encode_audio(audio, format or _format_from_name(path)))
        return
    if isinstance(dest, (str, os.PathLike)):  # "-"
        dest = sys.stdout.buffer
    raw_name = getattr(dest, "name", None)
    if format is None:
        format = _format_from_name(raw_name) if isinstance(raw_name, str) else "wav"
    data = encode_audio(audio, format)
    try:
        dest.write(data)
        dest.flush()
    except (OSError, ValueError) as exc:
        shown = f"'{raw_name}'" if isinstance(raw_name, str) else "the output stream"
        raise AudioError(f"cannot write audio to {shown}: {exc}") from exc


def write_encoded(data: bytes, path: str | os.PathLike[str]) -> None:
    """Write already encoded audio (:func:`encode_audio`'s bytes) to ``path``, atomically
    and with the permissions :func:`write_audio` gives.

    Raises:
        AudioError: the file cannot be written.
    """
    _atomic_write(os.fspath(path), data)


def _default_file_mode() -> int:
    """``0o666`` minus the process umask, read without changing it (Linux), else 0o644."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    return 0o644


def _atomic_write(path: str, data: bytes) -> None:
    target = os.path.realpath(path)  # write through a symlink, not over it
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise AudioError(
            f"cannot write '{path}': the directory '{directory}' does not exist; create it first"
        )
    if os.path.isdir(target):
        raise AudioError(f"cannot write '{path}': it is a directory; give a file name")
    exists = os.path.exists(target)
    mode = os.stat(target).st_mode & 0o7777 if exists else _default_file_mode()
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise AudioError(
                f"cannot write '{path}': {exc.strerror or exc}; nothing was written "
                f"(check that '{directory}' is writable and has free space)"
            ) from exc
        raise
    logger.debug("wrote %d bytes to %s", len(data), target)
