"""Tests of voxclone.audio: decoding, encoding, VAD trimming, loudness, reference prep."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from voxclone.audio import (
    SUPPORTED_INPUT,
    SUPPORTED_OUTPUT,
    Audio,
    CleanReport,
    detect_speech,
    encode_audio,
    load_audio,
    normalize_loudness,
    prepare_reference,
    trim_to_speech,
    write_audio,
)
from voxclone.errors import AudioError, AudioFormatError, NoSpeechError

SPEECH_DIR = Path(
    os.environ.get("VOXCLONE_SPEECH_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "speech" / "librispeech-clean"
)
SPEECH_CLIP = "1081-125237-0000.flac"  # 10.3 s, one male speaker, few pauses


def sine(sr: int, seconds: float = 1.0, freq: float = 440.0, amp: float = 0.5) -> Audio:
    t = np.arange(round(sr * seconds)) / sr
    return Audio((amp * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)


def peak_freq(audio: Audio) -> float:
    spectrum = np.abs(np.fft.rfft(audio.samples))
    return float(np.argmax(spectrum)) * audio.sample_rate / len(audio)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def lufs(audio: Audio) -> float:
    meter = pyloudnorm.Meter(audio.sample_rate)
    return float(meter.integrated_loudness(audio.samples.astype(np.float64)))


@pytest.fixture(scope="module")
def speech() -> Audio:
    """About 10 s of real read speech at 16 kHz (LibriSpeech, read in place)."""
    path = SPEECH_DIR / SPEECH_CLIP
    if not path.is_file():
        candidates = sorted(SPEECH_DIR.glob("*.flac")) if SPEECH_DIR.is_dir() else []
        if not candidates:
            pytest.skip(f"no LibriSpeech clips in {SPEECH_DIR}")
        path = candidates[0]
    return load_audio(path)


def with_silence(audio: Audio, before: float, after: float) -> Audio:
    sr = audio.sample_rate
    lead = np.zeros(round(before * sr), np.float32)
    tail = np.zeros(round(after * sr), np.float32)
    return Audio(np.concatenate([lead, audio.samples, tail]), sr)


# --------------------------------------------------------------------------- Audio


def test_audio_validates_and_converts() -> None:
    a = Audio(np.linspace(-1, 1, 10), 8000)  # type: ignore[arg-type]  # float64 in
    assert a.samples.dtype == np.float32 and a.samples.shape == (10,)
    assert a.duration == pytest.approx(10 / 8000)
    assert len(a) == 10 and "8000" in repr(a)
    with pytest.raises(ValueError, match="1-D"):
        Audio(np.zeros((2, 10), np.float32), 8000)
    with pytest.raises(ValueError, match="integer"):
        Audio(np.zeros(10, np.int16), 8000)
    with pytest.raises(ValueError, match="positive"):
        Audio(np.zeros(10, np.float32), 0)
    with pytest.raises(AttributeError):
        a.sample_rate = 1  # type: ignore[misc]


def test_resample() -> None:
    a = sine(44100)
    assert a.resample(44100) is a
    b = a.resample(16000)
    assert b.sample_rate == 16000 and abs(len(b) - 16000) <= 1
    assert b.samples.dtype == np.float32
    assert peak_freq(b) == pytest.approx(440, abs=2)
    assert rms(b.samples) == pytest.approx(rms(a.samples), rel=0.02)


# --------------------------------------------------------------------------- load/write


@pytest.mark.parametrize("sr", [8000, 44100, 48000])
@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "opus", "mp3"])
def test_round_trip(tmp_path: Path, fmt: str, sr: int) -> None:
    original = sine(sr)
    path = tmp_path / f"tone.{fmt}"
    write_audio(original, path)
    back = load_audio(path)
    # Opus codes 8, 12, 16, 24 or 48 kHz: 44.1 kHz comes back at 48 kHz
    assert back.sample_rate == (48_000 if fmt == "opus" and sr == 44_100 else sr)
    assert back.samples.dtype == np.float32 and back.samples.ndim == 1
    assert back.duration == pytest.approx(1.0, abs=0.06)
    if fmt in ("wav", "flac"):
        np.testing.assert_allclose(back.samples, original.samples, atol=1.5 / 32767)
    else:
        assert peak_freq(back) == pytest.approx(440, abs=2)
        assert rms(back.samples) == pytest.approx(rms(original.samples), rel=0.1)


def test_supported_constants() -> None:
    assert set(SUPPORTED_INPUT) == {"wav", "flac", "ogg", "opus", "mp3"}
    assert {"wav", "flac", "ogg", "opus", "mp3", "pcm", "raw"} <= set(SUPPORTED_OUTPUT)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_stereo_downmix_any_sample_format(tmp_path: Path, subtype: str) -> None:
    n = 4000
    left = np.full(n, 0.5)
    right = np.full(n, -0.25)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 22050, subtype=subtype)
    a = load_audio(path)
    assert a.sample_rate == 22050 and a.samples.shape == (n,)
    np.testing.assert_allclose(a.samples, 0.125, atol=0.01)


def test_load_resamples(tmp_path: Path) -> None:
    path = tmp_path / "tone.flac"
    write_audio(sine(44100, seconds=2.0), path)
    a = load_audio(path, sample_rate=16000)
    assert a.sample_rate == 16000 and abs(len(a) - 32000) <= 1
    assert peak_freq(a) == pytest.approx(440, abs=1)


def test_load_from_bytes_and_streams(tmp_path: Path) -> None:
    data = encode_audio(sine(16000), "flac")
    assert len(load_audio(data)) == 16000
    assert len(load_audio(io.BytesIO(data))) == 16000

    read_end, write_end = os.pipe()  # a real, non-seekable pipe
    assert len(data) < 60_000  # fits the pipe buffer, so no writer thread is needed
    os.write(write_end, data)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        assert not pipe.seekable()
        assert len(load_audio(pipe)) == 16000


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.wav"
    with pytest.raises(AudioError, match="does not exist") as err:
        load_audio(path)
    assert str(path) in str(err.value)
    assert not isinstance(err.value, AudioFormatError)
    with pytest.raises(AudioError, match="directory"):
        load_audio(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioFormatError, match=r"empty \(0 bytes\)") as err:
        load_audio(path)
    assert str(path) in str(err.value)
    with pytest.raises(AudioFormatError, match="empty"):
        load_audio(b"")
    with pytest.raises(AudioFormatError, match="empty"):
        load_audio(io.BytesIO(b""))


def test_corrupt_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.flac"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, np.uint8).tobytes())
    with pytest.raises(AudioFormatError, match="not a readable audio file") as err:
        load_audio(path)
    assert str(path) in str(err.value) and "re-export" in str(err.value)


def test_text_file_renamed_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are my meeting notes, not a recording\n" * 20)
    with pytest.raises(AudioFormatError, match=r"WAV, FLAC, OGG \(Vorbis or Opus\) or MP3") as err:
        load_audio(path)
    assert str(path) in str(err.value)


def test_a_flac_cut_short_is_called_damaged() -> None:
    flac = encode_audio(sine(16000, seconds=20.0), "flac")
    with pytest.raises(AudioFormatError, match=r"is damaged \(cut short, or corrupt\): "
                                               r"decoding failed (at its start|after [\d.]+ s)"):
        load_audio(flac[: len(flac) // 3])


def test_truncated_header_and_unsupported_container(tmp_path: Path) -> None:
    wav = encode_audio(sine(16000), "wav")
    with pytest.raises(AudioFormatError):
        load_audio(wav[:30])
    path = tmp_path / "voice.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(200))
    with pytest.raises(AudioFormatError, match="ffmpeg"):
        load_audio(path)


def test_zero_frames(tmp_path: Path) -> None:
    path = tmp_path / "nothing.wav"
    sf.write(path, np.zeros(0, np.float32), 16000, subtype="PCM_16")
    with pytest.raises(AudioError, match="contains no audio") as err:
        load_audio(path)
    assert not isinstance(err.value, AudioFormatError)


def test_nan_samples(tmp_path: Path) -> None:
    path = tmp_path / "nan.wav"
    data = np.zeros(1000, np.float32)
    data[10] = np.nan
    sf.write(path, data, 16000, subtype="FLOAT")
    with pytest.raises(AudioFormatError, match="NaN"):
        load_audio(path)


def test_too_long_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "long.flac"
    write_audio(sine(8000, seconds=3.0), path)

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded a file that is too long")

    monkeypatch.setattr(sf.SoundFile, "read", no_decoding)
    with pytest.raises(AudioError, match="limit") as err:
        load_audio(path, max_seconds=1.5)
    message = str(err.value)
    assert str(path) in message and "3.0 s" in message and "1.5 s" in message
    assert "trim" in message


def test_write_to_file_like_and_stdout(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    buf = io.BytesIO()
    write_audio(sine(16000), buf)  # unnamed stream: WAV by default
    assert buf.getvalue()[:4] == b"RIFF"
    assert len(load_audio(buf.getvalue())) == 16000

    buf = io.BytesIO()
    write_audio(sine(16000), buf, format="flac")
    assert buf.getvalue()[:4] == b"fLaC"

    with open(tmp_path / "named.flac", "wb") as handle:  # format from the stream's name
        write_audio(sine(16000), handle)
    assert (tmp_path / "named.flac").read_bytes()[:4] == b"fLaC"

    write_audio(sine(8000, seconds=0.25), "-", format="raw")
    assert len(capsysbinary.readouterr().out) == 2 * 2000


def test_raw_pcm_and_clipping() -> None:
    a = Audio(np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -3.0], np.float32), 16000)
    data = encode_audio(a, "pcm")
    assert len(data) == 2 * len(a)
    assert encode_audio(a, "raw") == data
    values = np.frombuffer(data, dtype="<i2")
    assert values.tolist() == [0, 16384, -16384, 32767, -32767, 32767, -32767]
    back = load_audio(encode_audio(a, "wav"))
    assert back.samples[5] == pytest.approx(1.0, abs=1e-4)  # clipped, not wrapped
    assert back.samples[6] == pytest.approx(-1.0, abs=1e-4)


def test_mp3_is_decoded_as_one_sequential_read(capfd: pytest.CaptureFixture[str]) -> None:
    """Block by block, without the seek ``soundfile`` makes after each read: libmpg123
    dropped its bit reservoir there, decoded the next frame wrongly and printed
    "part2_3_length (...) too large for available bit count" on stderr."""
    rng = np.random.default_rng(0)
    t = np.arange(24000 * 6) / 24000  # 6 s: five blocks of 2**15 frames
    noise = rng.standard_normal(len(t)) * (0.15 + 0.15 * np.sin(2 * np.pi * 3 * t))
    data = encode_audio(Audio(noise.astype(np.float32), 24000), "mp3")
    with sf.SoundFile(io.BytesIO(data)) as whole:
        expected = whole.read(dtype="float32")  # one read: soundfile seeks only after it
    capfd.readouterr()
    back = load_audio(data)
    assert capfd.readouterr().err == ""
    assert back.sample_rate == 24000 and len(back) > 4 * (1 << 15)
    np.testing.assert_array_equal(back.samples, expected)


def test_headerless_pcm_is_read_as_voxclone_writes_it(tmp_path: Path) -> None:
    audio = Audio(sine(24000, seconds=0.5).samples * np.float32(0.9), 24000)
    as_wav = load_audio(encode_audio(audio, "wav"))
    for name in ("say.pcm", "say.RAW"):
        path = tmp_path / name
        write_audio(audio, path, format="pcm")
        back = load_audio(path)
        assert back.sample_rate == 24000  # voxclone's output rate
        np.testing.assert_array_equal(back.samples, as_wav.samples)
    pcm = encode_audio(audio, "pcm")
    assert load_audio(pcm, format="pcm").samples.tolist() == as_wav.samples.tolist()
    with open(tmp_path / "say.pcm", "rb") as handle:  # a stream named so
        assert len(load_audio(handle)) == len(audio)
    slow = load_audio(pcm, format="raw", raw_rate=16000, sample_rate=8000)
    assert slow.sample_rate == 8000 and slow.duration == pytest.approx(0.75)
    assert len(load_audio(pcm + b"\x01", format="pcm")) == len(audio)  # half a sample
    with pytest.raises(AudioFormatError, match="not a readable audio file"):
        load_audio(pcm)  # bytes have no extension: format="pcm" says what they are
    with pytest.raises(AudioError, match="contains no audio"):
        load_audio(b"\x00", format="pcm")
    with pytest.raises(ValueError, match="format must be"):
        load_audio(pcm, format="wav")
    with pytest.raises(ValueError, match="raw_rate must be positive"):
        load_audio(pcm, format="pcm", raw_rate=0)


def test_headerless_pcm_too_long_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "long.pcm"
    path.write_bytes(bytes(2 * 24000 * 3))  # 3 s
    with pytest.raises(AudioError, match=r"3\.0 s long, more than the 1\.5 s limit"):
        load_audio(path, max_seconds=1.5)
    assert load_audio(path, max_seconds=3.0).duration == pytest.approx(3.0)


def test_mp3_unusual_rate_is_resampled() -> None:
    back = load_audio(encode_audio(sine(96000, seconds=0.5), "mp3"))
    assert back.sample_rate == 48000
    assert peak_freq(back) == pytest.approx(440, abs=3)


def test_unknown_output_format(tmp_path: Path) -> None:
    with pytest.raises(AudioFormatError, match="wav, flac") as err:
        write_audio(sine(8000), tmp_path / "out.xyz")
    assert "mp3" in str(err.value)
    with pytest.raises(AudioFormatError, match="supported formats"):
        encode_audio(sine(8000), "aiff")
    with pytest.raises(AudioFormatError, match="no extension"):
        write_audio(sine(8000), tmp_path / "out")
    write_audio(sine(8000), tmp_path / "out", format="WAV")  # explicit format wins
    assert load_audio(tmp_path / "out").sample_rate == 8000
    assert not list(tmp_path.glob("*.xyz"))


def test_refuses_to_encode_bad_audio() -> None:
    with pytest.raises(AudioError, match="NaN"):
        encode_audio(Audio(np.array([0.0, np.inf], np.float32), 8000), "wav")
    with pytest.raises(AudioError, match="empty"):
        encode_audio(Audio(np.zeros(0, np.float32), 8000), "mp3")
    assert encode_audio(Audio(np.zeros(0, np.float32), 8000), "pcm") == b""


def test_atomic_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "voice.wav"
    write_audio(sine(16000), path)
    assert os.listdir(tmp_path) == ["voice.wav"]
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(AudioError, match="No space left") as err:
        write_audio(sine(8000, seconds=3.0), path)
    assert str(path) in str(err.value)
    assert os.listdir(tmp_path) == ["voice.wav"]  # no temp file left behind
    assert path.read_bytes() == before  # old file intact
    monkeypatch.undo()

    with pytest.raises(AudioError, match="does not exist"):
        write_audio(sine(8000), tmp_path / "missing" / "x.wav")


# --------------------------------------------------------------------------- clean-up


def test_import_is_light_and_vad_keeps_torch_threads() -> None:
    code = (
        "import sys, numpy as np, voxclone.audio as va\n"
        "print('torch' in sys.modules, 'silero_vad' in sys.modules)\n"
        "import torch\n"
        "torch.set_num_threads(2)\n"
        "va.detect_speech(va.Audio(np.zeros(8000, np.float32), 16000))\n"
        "print(torch.get_num_threads())\n"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["False", "False", "2"]


def test_detect_and_trim_speech(speech: Audio) -> None:
    padded = with_silence(speech, 2.0, 3.0).resample(44100)
    segments = detect_speech(padded)
    assert segments and segments[0][0] >= 1.8 and segments[-1][1] <= padded.duration - 2.5
    assert all(a < b for a, b in segments)
    assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(segments))

    trimmed = trim_to_speech(padded)
    assert trimmed.sample_rate == 44100
    speech_only = sum(b - a for a, b in segments)
    assert speech_only <= trimmed.duration <= speech.duration + 0.3
    assert trimmed.duration < padded.duration - 4.5
    assert trim_to_speech(speech).duration == pytest.approx(trimmed.duration, abs=0.3)


def test_trim_shortens_long_pauses(speech: Audio) -> None:
    sr = speech.sample_rate
    half = len(speech) // 2
    parts = [speech.samples[:half], np.zeros(3 * sr, np.float32), speech.samples[half:]]
    gappy = Audio(np.concatenate(parts), sr)
    trimmed = trim_to_speech(gappy, pad=0.0, max_gap=0.3)
    assert trimmed.duration < speech.duration + 0.5  # the 3 s pause is gone


@pytest.mark.parametrize(
    "samples",
    [
        pytest.param(np.zeros(3 * 16000, np.float32), id="silence"),
        pytest.param(
            np.random.default_rng(0).normal(0, 0.1, 3 * 16000).astype(np.float32), id="noise"
        ),
    ],
)
def test_no_speech(samples: np.ndarray) -> None:
    audio = Audio(samples, 16000)
    assert detect_speech(audio) == []
    with pytest.raises(NoSpeechError, match="no speech found in the audio; record"):
        trim_to_speech(audio)
    with pytest.raises(NoSpeechError, match=r"no speech found in my\.wav"):
        prepare_reference(audio, name="my.wav")


def test_detect_speech_is_thread_safe(speech: Audio) -> None:
    clip = Audio(speech.samples[: 4 * speech.sample_rate], speech.sample_rate)
    expected = detect_speech(clip)
    results: list[list[tuple[float, float]]] = []

    def work() -> None:
        results.append(detect_speech(clip))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 3


@pytest.mark.parametrize("gain", [0.05, 1.0])
def test_normalize_loudness_reaches_target(speech: Audio, gain: float) -> None:
    quiet_or_loud = Audio(speech.samples * gain, speech.sample_rate)
    out = normalize_loudness(quiet_or_loud, target_lufs=-23.0)
    assert lufs(out) == pytest.approx(-23.0, abs=1.0)
    assert float(np.max(np.abs(out.samples))) <= 0.95 + 1e-6
    assert len(out) == len(speech)


def test_normalize_loudness_peak_limit_and_short_clip(speech: Audio) -> None:
    out = normalize_loudness(speech, target_lufs=-3.0, peak=0.9)
    assert float(np.max(np.abs(out.samples))) == pytest.approx(0.9, abs=1e-4)
    short = normalize_loudness(sine(16000, seconds=0.2, amp=0.01), target_lufs=-20.0)
    assert -0.691 + 20 * np.log10(rms(short.samples)) == pytest.approx(-20.0, abs=0.1)
    with pytest.raises(NoSpeechError, match="silent"):
        normalize_loudness(Audio(np.zeros(16000, np.float32), 16000))
    with pytest.raises(NoSpeechError):
        normalize_loudness(Audio(np.zeros(100, np.float32), 16000))


def test_prepare_reference(speech: Audio) -> None:
    padded = with_silence(speech, 1.5, 1.5).resample(48000)
    clean, report = prepare_reference(padded, name="alice.wav")
    assert isinstance(report, CleanReport)
    assert clean.sample_rate == 16000
    assert report.total_seconds == pytest.approx(padded.duration)
    assert 0.6 * speech.duration < report.speech_seconds <= speech.duration
    assert report.speech_seconds <= clean.duration < padded.duration - 2.5
    assert report.loudness_lufs == pytest.approx(-23.0, abs=1.0)
    assert lufs(clean) == pytest.approx(report.loudness_lufs, abs=0.01)
    assert report.peak == pytest.approx(float(np.max(np.abs(clean.samples))))
    assert report.peak <= 0.95 + 1e-6
    assert report.clipped_fraction == 0.0


def test_prepare_reference_reports_clipping(speech: Audio) -> None:
    hot = Audio(np.clip(speech.samples * 20, -1, 1), speech.sample_rate)
    _, report = prepare_reference(hot)
    assert report.clipped_fraction > 0.01


def test_prepare_reference_needs_enough_speech(speech: Audio) -> None:
    with pytest.raises(NoSpeechError, match=r"only \d+\.\d s of speech in bob\.flac") as err:
        prepare_reference(speech, min_speech=60.0, name="bob.flac")
    assert "at least 60.0 s is needed" in str(err.value)
    assert "record a few seconds more" in str(err.value)
