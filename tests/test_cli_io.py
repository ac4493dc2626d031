"""The command line's audio in and out: ``say``'s output format and ``--stream``,
``detect`` on voxclone's headerless PCM and MP3 and its exit status, ``-v``'s logging.

One stock enrollment (consent waived) and one synthesis for the module.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import voxclone
from voxclone.audio import Audio, encode_audio, load_audio, write_audio
from voxclone.audit import AuditLog
from voxclone.cli import main
from voxclone.cli_detect import EXIT_ERROR, EXIT_FOUND, EXIT_NONE_FOUND
from voxclone.cli_stdin import stdin_text

pytest.importorskip("piper", reason="the CLI tests record their reference with Piper")

VOICE = "joe"
#: Long enough (~4 s) for the watermark to be read back reliably.
TEXT = "The lighthouse keeper climbed the stairs every evening at dusk."
#: One voxclone home for the module: the synthesis log the detections look up.
SHARED_HOME = True


@pytest.fixture(scope="module")
def voices_dir(tmp_path_factory: pytest.TempPathFactory, joe_reference: Audio,
               module_home: Path) -> Path:
    """A voices directory holding ``joe`` (stock, the speaker's own voice)."""
    directory = tmp_path_factory.mktemp("voices")
    voxclone.enroll(VOICE, joe_reference, effort="stock", voices_dir=directory,
                    i_am_the_speaker=True)
    return directory


@pytest.fixture(scope="module")
def spoken_pcm(tmp_path_factory: pytest.TempPathFactory, voices_dir: Path) -> Path:
    """``voxclone say joe TEXT -o said.pcm --stream``: accepted, as the extension says
    pcm (it was refused: "--stream needs --format pcm or raw")."""
    path = tmp_path_factory.mktemp("said") / "said.pcm"
    assert main(["say", VOICE, TEXT, "-o", str(path), "--stream", "-q",
                 "--voices-dir", str(voices_dir)]) == 0
    return path


def test_say_streams_to_a_pcm_file_written_as_pcm(spoken_pcm: Path) -> None:
    data = spoken_pcm.read_bytes()
    assert data[:4] != b"RIFF" and len(data) % 2 == 0
    assert 3.0 < len(data) / 2 / 24_000 < 8.0  # headerless 16-bit mono at 24 kHz


def test_detect_reads_voxclones_pcm(spoken_pcm: Path, joe_wav: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", str(spoken_pcm), str(joe_wav)]) == EXIT_FOUND
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{spoken_pcm}: watermarked - synthesis")
    assert "voice 'joe'" in out[0] and "no voxclone watermark" in out[1]
    raw = spoken_pcm.with_suffix(".raw")
    raw.write_bytes(spoken_pcm.read_bytes())
    assert main(["detect", "--json", str(raw)]) == EXIT_FOUND
    assert '"found": true' in capsys.readouterr().out


def test_detect_reads_pcm_from_standard_input(spoken_pcm: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    def stdin() -> io.TextIOWrapper:
        return io.TextIOWrapper(io.BytesIO(spoken_pcm.read_bytes()))

    monkeypatch.setattr(sys, "stdin", stdin())
    assert main(["detect", "-", "--format", "pcm"]) == EXIT_FOUND
    assert capsys.readouterr().out.startswith("-: watermarked - synthesis")
    # at the wrong rate the speed search (0.95-1.05) cannot find it
    monkeypatch.setattr(sys, "stdin", stdin())
    assert main(["detect", "-", "--format", "pcm", "--rate", "16000"]) == EXIT_NONE_FOUND
    monkeypatch.setattr(sys, "stdin", stdin())  # without --format: not a known container
    assert main(["detect", "-"]) == EXIT_ERROR
    assert "standard input is not a readable audio file" in capsys.readouterr().err
    assert main(["detect", "-", "--format", "pcm", "--rate", "5"]) == 2  # usage error
    assert "not a recording's rate" in capsys.readouterr().err


def test_detect_exit_status_is_greps(spoken_pcm: Path, joe_wav: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert (EXIT_FOUND, EXIT_NONE_FOUND, EXIT_ERROR) == (0, 1, 2)
    assert main(["detect", str(joe_wav)]) == EXIT_NONE_FOUND
    assert main(["detect", "--json", str(joe_wav)]) == EXIT_NONE_FOUND
    assert main(["detect", str(joe_wav), str(spoken_pcm)]) == EXIT_FOUND
    missing = str(tmp_path / "missing.wav")
    assert main(["detect", missing, str(spoken_pcm)]) == EXIT_ERROR  # as grep: errors win
    assert main(["detect", missing, str(joe_wav)]) == EXIT_ERROR
    capsys.readouterr()
    assert main(["detect", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "0 when at least one FILE carries a watermark" in shown
    assert "1 when none does" in shown and "2 when a FILE could not be read" in shown


def test_detect_of_voxclones_mp3_prints_no_decoder_errors(
        spoken_pcm: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # what `say -o said.mp3` writes (encode_audio of the synthesis)
    mp3 = tmp_path / "said.mp3"
    mp3.write_bytes(encode_audio(load_audio(spoken_pcm), "mp3"))
    capfd.readouterr()
    assert main(["detect", str(mp3)]) == EXIT_FOUND
    captured = capfd.readouterr()  # (libmpg123 writes to the stderr descriptor itself)
    assert "watermarked - synthesis" in captured.out
    assert captured.err == ""


@pytest.mark.parametrize(("output", "extra", "said"), [
    ("v.wav", ["--format", "pcm"], "--format pcm contradicts the extension of {out} (wav)"),
    ("v.mp3", ["--format", "wav"], "--format wav contradicts the extension of {out} (mp3)"),
    ("v.wav", ["--stream"], "--stream needs pcm or raw, and {out} is WAV"),
    ("-", ["--stream"], "standard output would get WAV: add --format pcm"),
    ("-", ["--stream", "--format", "flac"], "standard output would get FLAC"),
    ("sub/", [], "-o {out} names a directory; name a file in it, e.g. -o {out}speech.wav"),
    ("sub", [], "-o {out} names a directory"),
])
def test_say_refuses_what_it_cannot_write(output: str, extra: list[str], said: str,
                                          tmp_path: Path,
                                          capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    (tmp_path / "sub").mkdir()
    out = output if output == "-" else str(tmp_path / output)
    if output.endswith("/"):
        out = str(tmp_path / "sub") + os.sep
    syntheses = len(AuditLog().entries(event="synthesis"))
    # (the voice is not even loaded: the output is checked first)
    assert main(["say", "nobody", "Hello there.", "-o", out, *extra,
                 "--voices-dir", str(tmp_path)]) == 2
    err = capsysbinary.readouterr().err.decode()
    assert said.format(out=out) in " ".join(err.split())
    assert len(AuditLog().entries(event="synthesis")) == syntheses
    assert not (tmp_path / "v.wav").exists() and not (tmp_path / "v.mp3").exists()


@pytest.mark.parametrize(("name", "fmt", "magic"), [
    ("same.pcm", "raw", None), ("opus.ogg", "opus", b"OggS"), ("noext", "flac", b"fLaC"),
    ("x.wave", "wav", b"RIFF"),
])
def test_say_accepts_a_format_its_extension_allows(name: str, fmt: str, magic: bytes | None,
                                                   spoken_pcm: Path, tmp_path: Path) -> None:
    from voxclone.cli_say import chosen_format

    assert chosen_format(str(tmp_path / name), fmt) == fmt
    assert chosen_format(str(tmp_path / "x.pcm"), None, stream=True) == "pcm"
    assert chosen_format("-", "raw", stream=True) == "raw"
    if magic is not None:  # what such a file then holds
        path = tmp_path / name
        write_audio(load_audio(spoken_pcm), path, format=fmt)
        assert path.read_bytes()[:4] == magic


def test_verbose_leaves_out_alembics_info(tmp_path: Path) -> None:
    env = {**os.environ, "VOXCLONE_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-m", "voxclone", "-v", "audit", "verify"],
                            capture_output=True, text=True, timeout=300, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert "audit log intact" in result.stdout
    assert "alembic" not in result.stderr


def test_pcm_reads_back_as_a_wav_of_the_same_samples(spoken_pcm: Path) -> None:
    """``.pcm`` is read as voxclone writes it: a 16-bit WAV of its samples decodes the same."""
    audio = load_audio(spoken_pcm)
    samples = np.frombuffer(spoken_pcm.read_bytes(), dtype="<i2")
    wav = io.BytesIO()
    sf.write(wav, samples, 24_000, format="WAV", subtype="PCM_16")
    assert audio.sample_rate == 24_000
    np.testing.assert_array_equal(audio.samples, load_audio(wav.getvalue()).samples)


@pytest.mark.parametrize("stdin", [
    io.TextIOWrapper(io.BytesIO("Grüße, ".encode() + b"\xff then more.\n")),  # bytes
    io.StringIO("Grüße, \ufffd then more.\n"),  # a text stream with no bytes under it
])
def test_stdin_text_is_read_as_it_comes(stdin: io.TextIOBase,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", stdin)
    # (a bad byte is replaced, not fatal: the text around it is still spoken)
    assert "".join(stdin_text()) == "Grüße, \ufffd then more.\n"
