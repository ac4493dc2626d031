"""Decode audio files (a path, standard input, bytes or a binary stream) into :class:`Audio`.

Decoding uses ``soundfile`` (the libsndfile it bundles reads WAV, FLAC, OGG/Vorbis, Opus and
MP3); resampling uses ``soxr``. Headerless PCM (``.pcm``/``.raw``, what ``say -o x.pcm`` and
the server's ``pcm`` responses hold) is read as voxclone writes it: 16-bit little-endian
mono at 24 kHz. Encoding and writing live in :mod:`.encoding`.

Memory follows what is decoded, never what a header claims: a rate outside
:data:`~voxclone.audio.types.RATE_BOUNDS` is refused before any frame is read, a file
above :data:`MAX_DECODED_RATE` is resampled block by block as it is read (a 9 MB FLAC of
silence at 384 kHz never sits in memory at that rate), and decoding stops as soon as the
frames read pass the length limit.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from typing import BinaryIO, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from voxclone.audio.types import RATE_BOUNDS, Audio
from voxclone.errors import AudioError, AudioFormatError

__all__ = ["MAX_DECODED_RATE", "RAW_EXTENSIONS", "RAW_FORMATS", "RAW_SAMPLE_RATE",
           "SUPPORTED_INPUT", "load_audio"]

logger = logging.getLogger(__name__)

SUPPORTED_INPUT: Final[tuple[str, ...]] = ("wav", "flac", "ogg", "opus", "mp3")
"""Input formats :func:`load_audio` is built and tested for (4-384 kHz, mono or stereo,
integer or float samples). Other containers libsndfile understands (AIFF, CAF, AU...)
are decoded too."""
#: Files at a higher rate are resampled to this one (soxr HQ) block by block as they are
#: decoded, so that memory stays what a 48 kHz file of the same length takes; files at
#: this rate or below are decoded as they are, sample for sample.
MAX_DECODED_RATE: Final[int] = 48_000

# Containers people often try that libsndfile cannot decode: the error suggests ffmpeg.
_UNSUPPORTED_HINTS: Final[frozenset[str]] = frozenset(
    {".m4a", ".aac", ".mp4", ".wma", ".webm", ".amr", ".3gp", ".mov", ".mkv"}
)
#: Extensions of headerless PCM files, read as :data:`RAW_SAMPLE_RATE` 16-bit LE mono.
RAW_EXTENSIONS: Final[tuple[str, ...]] = (".pcm", ".raw")
#: ``format=`` values of :func:`load_audio` that read any source as headerless PCM.
RAW_FORMATS: Final[tuple[str, ...]] = ("pcm", "raw")
#: The rate of the headerless PCM voxclone writes (its engine's, Kokoro's, output rate).
RAW_SAMPLE_RATE: Final[int] = 24_000
#: Frames decoded at a time (small enough that a damaged file says where it breaks);
#: fewer for files of more than two channels, so that one block stays under 256 KiB.
_BLOCK_FRAMES: Final[int] = 1 << 15
#: What libsndfile reports as the length of a file whose header does not say it
#: (``SF_COUNT_MAX``: a FLAC whose STREAMINFO gives 0 samples, as streaming encoders write).
_UNKNOWN_FRAMES: Final[int] = 2**63 - 1
_FORMATS_TEXT: Final[str] = "WAV, FLAC, OGG (Vorbis or Opus) or MP3"

Source: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO"


def load_audio(
    source: Source,
    *,
    sample_rate: int | None = None,
    max_seconds: float = 600.0,
    format: str | None = None,
    raw_rate: int = RAW_SAMPLE_RATE,
) -> Audio:
    """Decode an audio file into a mono float32 :class:`Audio`.

    Args:
        source: a path (``"-"`` reads standard input), the file's bytes, or a binary
            file object (read from its current position; need not be seekable).
            WAV, FLAC, OGG/Vorbis, Ogg/Opus and MP3 are supported at 4-384 kHz, mono or
            multi-channel, integer or float samples. A file above 48 kHz
            (:data:`MAX_DECODED_RATE`) comes back at 48 kHz (or at ``sample_rate``),
            resampled as it is read.
            A path (or file object named) ``*.pcm`` or ``*.raw`` is headerless 16-bit LE mono
            PCM (what voxclone writes under those names) at ``raw_rate``.
        sample_rate: resample to this rate (soxr HQ); ``None`` keeps the file's rate.
        max_seconds: refuse files longer than this. The length is read from the
            header before anything is decoded, and the frames actually decoded are
            counted too (a header may lie), so a huge file is never loaded.
        format: ``"pcm"`` or ``"raw"`` reads ``source`` as headerless PCM whatever its
            name (bytes and standard input have none); ``None`` goes by the extension.
        raw_rate: the sample rate of headerless PCM (default 24 kHz, voxclone's output
            rate); other sources carry their own.

    Returns:
        ``Audio`` whose ``samples`` are 1-D float32 (channels averaged), integer PCM
        scaled to ``[-1, 1)``.

    Raises:
        AudioError: the file is missing or unreadable, holds no audio, is longer
            than ``max_seconds``, or declares a sample rate outside 4-384 kHz
            (:data:`~voxclone.audio.types.RATE_BOUNDS`).
        AudioFormatError: the data is empty (0 bytes), corrupt, not in a supported
            format, or contains NaN/infinite samples.
        ValueError: ``sample_rate``, ``raw_rate`` or ``max_seconds`` is not positive, or
            ``format`` is not ``None``, ``"pcm"`` or ``"raw"``.
    """
    if sample_rate is not None and sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if not max_seconds > 0:
        raise ValueError(f"max_seconds must be positive, got {max_seconds}")
    if raw_rate <= 0:
        raise ValueError(f"raw_rate must be positive, got {raw_rate}")
    if format is not None and format not in RAW_FORMATS:
        raise ValueError(f"format must be None (by the extension), 'pcm' or 'raw', "
                         f"got {format!r}")

    stream, name, ext, owned = _open_source(source)
    try:
        if format is not None or ext in RAW_EXTENSIONS:
            audio = _decode_raw(stream, name, raw_rate, max_seconds)
        else:
            audio = _decode(stream, name, ext, max_seconds, sample_rate)
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


class _SequentialSoundFile(sf.SoundFile):
    """A ``SoundFile`` read from start to end without seeking.

    ``soundfile`` seeks back to where each read ended (to keep a read-write file's
    position in step); libsndfile's MP3 decoder (libmpg123) drops its bit reservoir at
    every seek, so the first frame after each block decoded wrongly (samples up to 0.007
    off in MP3s voxclone wrote from LibriSpeech) and printed "part2_3_length ... too
    large for available bit count" on stderr. libsndfile keeps the read position
    itself, so reads that are only sequential need no seek.
    """

    def seekable(self) -> bool:
        """``False``: tells ``soundfile`` to leave the position to libsndfile."""
        return False


def _decode_raw(stream: BinaryIO, name: str, rate: int, max_seconds: float) -> Audio:
    """Headerless 16-bit little-endian mono PCM, scaled as libsndfile scales 16-bit WAV."""
    try:  # (the streams _open_source gives are seekable)
        start = stream.tell()
        size = stream.seek(0, io.SEEK_END) - start
        stream.seek(start)
        if size // 2 > int(max_seconds * rate):  # before reading any of it
            raise _too_long(name, size / 2 / rate, max_seconds)
        data = stream.read()
    except OSError as exc:
        raise AudioError(f"{name} cannot be read: {exc}") from exc
    if len(data) % 2:  # a stream cut mid-sample: the last byte is half a sample
        logger.info("%s ends with half a 16-bit sample; ignoring its last byte", name)
        data = data[:-1]
    if not data:
        raise AudioError(f"{name} contains no audio (0 samples); record or export it again")
    logger.debug("decoding %s: headerless 16-bit PCM, %d Hz, %d frames",
                 name, rate, len(data) // 2)
    pcm = np.frombuffer(data, dtype="<i2")
    return Audio((pcm.astype(np.float32) / np.float32(32768.0)), rate)


def _decode(stream: BinaryIO, name: str, ext: str, max_seconds: float,
            sample_rate: int | None) -> Audio:
    """Decode a file libsndfile reads; one above :data:`MAX_DECODED_RATE` comes back at
    that rate (or at ``sample_rate``), resampled block by block as it is read."""
    try:
        sound = _SequentialSoundFile(stream)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise _format_error(name, ext, exc) from exc

    with sound:
        rate, frames, channels = int(sound.samplerate), int(sound.frames), int(sound.channels)
        if channels <= 0:
            raise _format_error(name, ext, None)
        _check_rate(name, rate)  # before any frame is read
        if frames >= _UNKNOWN_FRAMES:  # a FLAC written to a pipe: counted as it is read
            frames = 0
        if frames > 0 and frames / rate > max_seconds:
            raise _too_long(name, frames / rate, max_seconds)
        logger.debug(
            "decoding %s: %s/%s, %d Hz, %d channel(s), %d frames",
            name, sound.format, sound.subtype, rate, channels, frames,
        )  # fmt: skip
        out_rate = rate if rate <= MAX_DECODED_RATE else (sample_rate or MAX_DECODED_RATE)
        samples = _read_blocks(sound, name, rate, channels, max_seconds, out_rate)
    return Audio(samples, out_rate)


def _check_rate(name: str, rate: int) -> None:
    low, high = RATE_BOUNDS
    if not low <= rate <= high:
        raise AudioError(
            f"{name} declares {rate} samples per second; a recording has {low}-{high} "
            "(most have 16000-48000): re-export it at 48 kHz or less and try again"
        )


def _read_blocks(sound: sf.SoundFile, name: str, rate: int, channels: int,
                 max_seconds: float, out_rate: int) -> npt.NDArray[np.float32]:
    """The mono samples of ``sound`` at ``out_rate``, decoded a block at a time: memory
    holds what was decoded (at ``out_rate``) and one block, never what the header claims.

    Raises:
        AudioError: more than ``max_seconds`` of frames, or none at all.
        AudioFormatError: decoding failed midway, or a sample is NaN or infinite.
    """
    max_frames = int(max_seconds * rate)
    block_frames = max(1, min(_BLOCK_FRAMES, 2 * _BLOCK_FRAMES // channels))
    resampler = (None if out_rate == rate else
                 soxr.ResampleStream(rate, out_rate, 1, dtype="float32", quality="HQ"))
    blocks: list[npt.NDArray[np.float32]] = []
    total = 0
    try:
        while True:
            block = sound.read(block_frames, dtype="float32", always_2d=True)
            if block.shape[0] == 0:
                break
            total += block.shape[0]
            if total > max_frames:  # header under-reported the length
                raise _too_long(name, total / rate, max_seconds)
            mono = block[:, 0] if channels == 1 else block.mean(axis=1, dtype=np.float32)
            mono = np.ascontiguousarray(mono, dtype=np.float32)
            if not np.isfinite(mono).all():  # (checked before resampling spreads it)
                raise _not_finite(name)
            if resampler is not None:
                mono = np.asarray(resampler.resample_chunk(mono), dtype=np.float32)
            blocks.append(mono)
    except (sf.SoundFileError, RuntimeError) as exc:
        where = f"after {total / rate:.1f} s" if total else "at its start"
        raise AudioFormatError(
            f"{name} is damaged (cut short, or corrupt): decoding failed {where} "
            f"({exc}); re-export it as WAV or FLAC and try again"
        ) from exc

    if total == 0:
        raise AudioError(f"{name} contains no audio (0 samples); record or export it again")
    if resampler is not None:
        empty = np.zeros(0, dtype=np.float32)
        blocks.append(np.asarray(resampler.resample_chunk(empty, last=True), dtype=np.float32))
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


def _not_finite(name: str) -> AudioFormatError:
    return AudioFormatError(
        f"{name} contains invalid samples (NaN or infinity); re-export it as 16-bit "
        "WAV or FLAC and try again"
    )


def _too_long(name: str, seconds: float, max_seconds: float) -> AudioError:
    return AudioError(
        f"{name} is {seconds:.1f} s long, more than the {max_seconds:g} s limit; "
        f"trim it to at most {max_seconds:g} s and try again"
    )
