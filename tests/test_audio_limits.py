"""Decoding allocates by what it reads, never by what a header claims: a sample rate outside
4-384 kHz is refused from the header, a file above 48 kHz is resampled block by block as
it is read, and headers that lie about the length or the channels cost nothing. (A 9 MB
FLAC of silence at 655 kHz once decoded into 19 GB, a 420 KB one at 384 kHz into 2 GB.)
Every file here is built in the test and is a few kilobytes."""

from __future__ import annotations

import io
import struct
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from voxclone.audio import Audio, decoding, load_audio
from voxclone.audio.types import RATE_BOUNDS
from voxclone.errors import AudioError


def _flac(rate: int, seconds: float, channels: int = 1) -> bytes:
    """Silence (with a click, so that it is not all zeros) as 16-bit FLAC."""
    samples = np.zeros((int(rate * seconds), channels), dtype=np.int16)
    samples[::997] = 1000
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def _wav_header(rate: int, data_bytes: int, channels: int = 1) -> bytes:
    """A 16-bit PCM WAV header whose ``data`` chunk claims ``data_bytes``."""
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    riff = 4 + 8 + len(fmt) + 8 + data_bytes
    return (b"RIFF" + struct.pack("<I", min(riff, 0xFFFFFFFF)) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", data_bytes))


def _peak_bytes(call: Callable[[], Any]) -> tuple[Any, int]:
    """``call()``'s result and the most memory it held at once (NumPy's arrays included)."""
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _refusal(call: Callable[[], Any]) -> tuple[str, int]:
    """The message of the ``AudioError`` ``call()`` raises, and its peak memory."""
    def refused() -> str:
        with pytest.raises(AudioError) as error:
            call()
        return str(error.value)
    message: str
    message, peak = _peak_bytes(refused)
    return message, peak


def test_the_decoder_and_the_api_accept_the_same_rates() -> None:
    assert RATE_BOUNDS == (4_000, 384_000)


@pytest.mark.parametrize("rate", [655_350, 2_000])
def test_a_rate_out_of_bounds_is_refused_before_any_frame_is_read(
        rate: int, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _flac(rate, 0.01)

    def no_reading(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("frames were read from a file declaring an impossible rate")

    monkeypatch.setattr(decoding._SequentialSoundFile, "read", no_reading)
    with pytest.raises(AudioError, match=f"declares {rate} samples per second; a recording "
                                         "has 4000-384000"):
        load_audio(data)


def test_a_wav_header_claiming_billions_of_hertz_is_refused() -> None:
    data = _wav_header(2**31 - 1, 1000) + b"\x01\x00" * 500
    message, peak = _refusal(lambda: load_audio(data))
    assert "declares 2147483647 samples per second" in message
    assert peak < 100_000


def test_a_384_khz_file_never_sits_in_memory_at_that_rate(tmp_path: Path) -> None:
    path = tmp_path / "high.flac"
    path.write_bytes(_flac(384_000, 10.0, channels=2))  # 15 MB as float32 at 384 kHz
    audio, peak = _peak_bytes(lambda: load_audio(path))
    assert audio.sample_rate == decoding.MAX_DECODED_RATE == 48_000
    assert len(audio) == 480_000
    assert peak < 6_000_000, f"decoding held {peak / 1e6:.1f} MB"
    # the same samples as resampling the whole file at once (soxr HQ), as before
    full, rate = sf.read(path, dtype="float32", always_2d=True)
    whole = Audio(full.mean(axis=1, dtype=np.float32), rate)
    assert np.array_equal(audio.samples, whole.resample(48_000).samples)
    at_16k = load_audio(path, sample_rate=16_000)
    assert at_16k.sample_rate == 16_000
    assert np.array_equal(at_16k.samples, whole.resample(16_000).samples)


def test_a_long_384_khz_file_is_refused_as_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "long.flac"
    path.write_bytes(_flac(384_000, 3.0))
    with pytest.raises(AudioError, match=r"is 3\.0 s long, more than the 2 s limit"):
        load_audio(path, max_seconds=2)


@pytest.mark.parametrize("rate", [8_000, 16_000, 44_100, 48_000])
def test_files_up_to_48_khz_are_decoded_sample_for_sample(rate: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(rate)
    samples = (rng.standard_normal((rate, 2)) * 0.1).astype(np.float32)
    path = tmp_path / "normal.wav"
    sf.write(path, samples, rate, subtype="FLOAT")
    audio = load_audio(path)
    assert audio.sample_rate == rate
    assert np.array_equal(audio.samples, samples.mean(axis=1, dtype=np.float32))


def test_a_wav_claiming_billions_of_frames_costs_what_it_holds() -> None:
    data = _wav_header(16_000, 0xFFFFFFF0) + b"\x01\x00" * 500
    audio, peak = _peak_bytes(lambda: load_audio(data))
    assert len(audio) == 500 and audio.sample_rate == 16_000
    assert peak < 1_000_000


def test_a_flac_of_unknown_length_is_read_up_to_the_limit(tmp_path: Path) -> None:
    data = bytearray(_flac(48_000, 20.0))
    assert data[:4] == b"fLaC"
    # STREAMINFO's total samples (36 bits from bit 108 of the block, which starts at
    # byte 8) set to 0, "unknown", as an encoder writing to a pipe leaves it: libsndfile
    # then reports the largest length there is
    data[21] &= 0xF0
    data[22:26] = bytes(4)
    path = tmp_path / "unknown.flac"
    path.write_bytes(bytes(data))
    assert sf.info(path).frames == 2**63 - 1
    assert len(load_audio(path)) == 960_000  # (refused as 192 trillion seconds long before)
    message, peak = _refusal(lambda: load_audio(path, max_seconds=1))
    assert "more than the 1 s limit" in message
    assert peak < 1_000_000  # 20 s would be 3.8 MB


def test_many_channels_are_read_in_small_blocks(tmp_path: Path) -> None:
    path = tmp_path / "wide.wav"
    frames = 16_000
    path.write_bytes(_wav_header(16_000, frames * 64 * 2, channels=64)
                     + b"\x10\x00" * (frames * 64))
    audio, peak = _peak_bytes(lambda: load_audio(path))
    assert len(audio) == frames
    assert peak < 1_500_000  # one 32768-frame block of 64 channels: 4 MB
