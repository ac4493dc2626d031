"""Decode audio files into :class:`Audio` and encode :class:`Audio` back to files.

Decoding and encoding use ``soundfile`` (the libsndfile it bundles reads and writes
WAV, FLAC, OGG/Vorbis and MP3); resampling uses ``soxr``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
from typing import BinaryIO, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import soundfile as sf

from voxclone.audio.types import Audio
from voxclone.errors import AudioError, AudioFormatError

__all__ = ["SUPPORTED_INPUT", "SUPPORTED_OUTPUT", "encode_audio", "load_audio", "output_format",
           "write_audio", "write_encoded"]

logger = logging.getLogger(__name__)

SUPPORTED_INPUT: Final[tuple[str, ...]] = ("wav", "flac", "ogg", "mp3")
"""Input formats :func:`load_audio` is built and tested for (any sample rate, mono or
stereo, integer or float samples). Other containers libsndfile understands (AIFF, CAF,
AU...) are decoded too."""

SUPPORTED_OUTPUT: Final[tuple[str, ...]] = ("wav", "flac", "ogg", "mp3", "pcm", "raw")
"""Output formats of :func:`write_audio` / :func:`encode_audio`. ``wav`` and ``flac``
are 16-bit PCM, ``ogg`` is Vorbis, ``pcm`` and ``raw`` are headerless 16-bit
little-endian mono PCM."""

_ALIASES: Final[dict[str, str]] = {"wave": "wav", "oga": "ogg", "vorbis": "ogg"}
_EXTENSIONS: Final[dict[str, str]] = {f".{f}": f for f in SUPPORTED_OUTPUT} | {
    ".wave": "wav",
    ".oga": "ogg",
}
# Containers people often try that libsndfile cannot decode: the error suggests ffmpeg.
_UNSUPPORTED_HINTS: Final[frozenset[str]] = frozenset(
    {".m4a", ".aac", ".mp4", ".wma", ".webm", ".amr", ".3gp", ".mov", ".mkv"}
)
_MP3_RATES: Final[tuple[int, ...]] = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
#: Frames decoded at a time (small enough that a damaged file says where it breaks).
_BLOCK_FRAMES: Final[int] = 1 << 15
_FORMATS_TEXT: Final[str] = "WAV, FLAC, OGG or MP3"

Source: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO"


# --------------------------------------------------------------------------- decoding


def load_audio(
    source: Source,
    *,
    sample_rate: int | None = None,
    max_seconds: float = 600.0,
) -> Audio:
    """Decode an audio file into a mono float32 :class:`Audio`.

    Args:
        source: a path (``"-"`` reads standard input), the file's bytes, or a binary
            file object (read from its current position; need not be seekable).
            WAV, FLAC, OGG/Vorbis and MP3 are supported at any sample rate, mono or
            multi-channel, integer or float samples.
        sample_rate: resample to this rate (soxr HQ); ``None`` keeps the file's rate.
        max_seconds: refuse files longer than this. The length is read from the
            header before anything is decoded, so a huge file is never loaded.

    Returns:
        ``Audio`` whose ``samples`` are 1-D float32 (channels averaged), integer PCM
        scaled to ``[-1, 1)``.

    Raises:
        AudioError: the file is missing or unreadable, holds no audio, or is longer
            than ``max_seconds``.
        AudioFormatError: the data is empty (0 bytes), corrupt, not in a supported
            format, or contains NaN/infinite samples.
        ValueError: ``sample_rate`` or ``max_seconds`` is not positive.
    """
    if sample_rate is not None and sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if not max_seconds > 0:
        raise ValueError(f"max_seconds must be positive, got {max_seconds}")

    stream, name, ext, owned = _open_source(source)
    try:
        audio = _decode(stream, name, ext, max_seconds)
    finally:
        if owned:
            stream.close()
    if sample_rate is not None:
        audio = audio.resample(sample_rate)
    return audio


def _empty(name: str) -> AudioFormatError:
    return AudioFormatError(
        f"{name} is empty (0 bytes); re-export the recording as a {_FORMATS_TEXT} file"
    )


def _open_source(source: Source) -> tuple[BinaryIO, str, str, bool]:
    """Return ``(binary stream, display name, lower-case extension, we own the stream)``."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not len(source):
            raise _empty("the audio data")
        return io.BytesIO(bytes(source)), "the audio data", "", True
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path == "-":
            return _buffered(sys.stdin.buffer, "standard input"), "standard input", "", True
        return _open_path(path)
    if isinstance(source, io.TextIOBase):
        raise TypeError("load_audio needs a binary file object; open the file with mode 'rb'")

    raw_name = getattr(source, "name", None)
    name = f"'{raw_name}'" if isinstance(raw_name, str) else "the audio stream"
    ext = os.path.splitext(raw_name)[1].lower() if isinstance(raw_name, str) else ""
    seekable = False
    with contextlib.suppress(AttributeError, OSError, ValueError):
        seekable = bool(source.seekable())
    if not seekable:  # libsndfile needs to seek: read a pipe or socket into memory
        return _buffered(source, name), name, ext, True
    try:
        start = source.tell()
        empty = not source.read(1)
        source.seek(start)
    except OSError as exc:
        raise AudioError(f"{name} cannot be read: {exc}") from exc
    if empty:
        raise _empty(name)
    return source, name, ext, False


def _buffered(stream: BinaryIO, name: str) -> BinaryIO:
    try:
        data = stream.read()
    except OSError as exc:
        raise AudioError(f"{name} cannot be read: {exc}") from exc
    if not data:
        raise _empty(name)
    return io.BytesIO(data)


def _open_path(path: str) -> tuple[BinaryIO, str, str, bool]:
    name = f"'{path}'"
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by load_audio
    except FileNotFoundError as exc:
        raise AudioError(f"{name} does not exist; check the path and try again") from exc
    except IsADirectoryError as exc:
        raise AudioError(f"{name} is a directory, not an audio file") from exc
    except OSError as exc:  # permission denied, I/O error...
        raise AudioError(f"{name} cannot be read: {exc.strerror or exc}") from exc
    with contextlib.suppress(OSError):
        if os.fstat(stream.fileno()).st_size == 0:
            stream.close()
            raise _empty(name)
    return stream, name, os.path.splitext(path)[1].lower(), True


def _format_error(name: str, ext: str, exc: BaseException | None) -> AudioFormatError:
    detail = ""
    if exc is not None:
        detail = str(getattr(exc, "error_string", "") or exc).strip().rstrip(".")
        detail = f" (decoder said: {detail})" if detail else ""
    if ext in _UNSUPPORTED_HINTS:
        return AudioFormatError(
            f"{name} is in {ext[1:].upper()} format, which voxclone cannot read{detail}; "
            f"convert it to WAV or FLAC (e.g. `ffmpeg -i input{ext} output.wav`) and try again"
        )
    return AudioFormatError(
        f"{name} is not a readable audio file ({_FORMATS_TEXT}){detail}; re-export it as "
        "WAV or FLAC and try again"
    )


def _decode(stream: BinaryIO, name: str, ext: str, max_seconds: float) -> Audio:
    try:
        sound = sf.SoundFile(stream)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise _format_error(name, ext, exc) from exc

    with sound:
        rate, frames, channels = int(sound.samplerate), int(sound.frames), int(sound.channels)
        if rate <= 0 or channels <= 0:
            raise _format_error(name, ext, None)
        if frames > 0 and frames / rate > max_seconds:
            raise _too_long(name, frames / rate, max_seconds)
        max_frames = int(max_seconds * rate)
        logger.debug(
            "decoding %s: %s/%s, %d Hz, %d channel(s), %d frames",
            name, sound.format, sound.subtype, rate, channels, frames,
        )  # fmt: skip

        blocks: list[npt.NDArray[np.float32]] = []
        total = 0
        try:
            while True:
                block = sound.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break
                total += block.shape[0]
                if total > max_frames:  # header under-reported the length
                    raise _too_long(name, total / rate, max_seconds)
                mono = block[:, 0] if channels == 1 else block.mean(axis=1, dtype=np.float32)
                blocks.append(np.ascontiguousarray(mono, dtype=np.float32))
        except (sf.SoundFileError, RuntimeError) as exc:
            where = f"after {total / rate:.1f} s" if total else "at its start"
            raise AudioFormatError(
                f"{name} is damaged (cut short, or corrupt): decoding failed {where} "
                f"({exc}); re-export it as WAV or FLAC and try again"
            ) from exc

    if total == 0:
        raise AudioError(f"{name} contains no audio (0 samples); record or export it again")
    samples = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    if not np.isfinite(samples).all():
        raise AudioFormatError(
            f"{name} contains invalid samples (NaN or infinity); re-export it as 16-bit "
            "WAV or FLAC and try again"
        )
    return Audio(samples, rate)


def _too_long(name: str, seconds: float, max_seconds: float) -> AudioError:
    return AudioError(
        f"{name} is {seconds:.1f} s long, more than the {max_seconds:g} s limit; "
        f"trim it to at most {max_seconds:g} s and try again"
    )


# --------------------------------------------------------------------------- encoding


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
            ignored). ``wav``/``flac``: 16-bit PCM at the clip's rate. ``ogg``: Vorbis.
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
    else:  # mp3
        if rate not in _MP3_RATES:
            new_rate = next((r for r in _MP3_RATES if r >= rate), _MP3_RATES[-1])
            logger.debug("MP3 cannot store %d Hz; resampling to %d Hz", rate, new_rate)
            audio = audio.resample(new_rate)
            rate = new_rate
        data = np.clip(audio.samples, -1.0, 1.0)
        container, subtype = "MP3", "MPEG_LAYER_III"
    try:
        sf.write(buffer, data, rate, format=container, subtype=subtype)
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
