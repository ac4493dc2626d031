"""Tests of the ``voxclone`` command line (real models; one stock enrollment per run)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import voxclone
from voxclone.audio import Audio, write_audio
from voxclone.audit import AuditLog
from voxclone.cli import PROBABLY_SAME, VERY_LIKELY_SAME, describe_similarity, main
from voxclone.cli_say import SAY_BAR_CHARS
from voxclone.consent.challenge import ChallengeStore

from .conftest import joe_consents

pytest.importorskip("piper", reason="the CLI tests record their reference with Piper")

VOICE = "joe"
#: The tests share one voxclone home: the voice enrolled once must find its consent
#: record signed with the same installation secret.
SHARED_HOME = True


@dataclass(frozen=True)
class Enrolled:
    """A voices directory holding the voice ``joe``, and what ``enroll`` printed."""

    voices_dir: Path
    status: int
    stdout: str


def _snapshot(directory: Path) -> dict[str, bytes] | None:
    """Every file under ``directory`` with its bytes (``None``: it does not exist)."""
    if not directory.exists():
        return None
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def reference_wav(joe_wav: Path) -> Path:
    """A WAV of Piper's joe reading the shared reference text."""
    return joe_wav


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory: pytest.TempPathFactory, reference_wav: Path,
             module_home: Path) -> Enrolled:
    """The consent flow on the command line: ``voxclone challenge joe --json``, joe reads
    it, then ``voxclone enroll joe REF --consent FILE --challenge ID --effort stock`` (in
    the module's home, whose secret signs the consent record the tests' ``say`` checks)."""
    voices_dir = tmp_path_factory.mktemp("voices")

    def issue(name: str) -> voxclone.Challenge:  # through the CLI, as a user would
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["challenge", name, "--json"]) == 0
        return ChallengeStore().check(json.loads(out.getvalue())["id"], name)

    issued, reading = joe_consents(VOICE, issue=issue)
    consent = voices_dir.parent / "consent.wav"
    write_audio(reading, consent)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main(["enroll", VOICE, str(reference_wav), "--effort", "stock",
                       "--consent", str(consent), "--challenge", issued.id,
                       "--voices-dir", str(voices_dir)])
    return Enrolled(voices_dir, status, out.getvalue())


@pytest.fixture(scope="module")
def spoken_wav(tmp_path_factory: pytest.TempPathFactory, enrolled: Enrolled) -> Path:
    """``voxclone say joe TEXT -o clone.wav``: the clone's speech."""
    path = tmp_path_factory.mktemp("say") / "clone.wav"
    with contextlib.redirect_stderr(io.StringIO()):
        status = main(["say", VOICE, "Hello there. This is my cloned voice speaking.",
                       "-o", str(path), "--voices-dir", str(enrolled.voices_dir)])
    assert status == 0
    return path


def _voices_args(enrolled: Enrolled) -> list[str]:
    return ["--voices-dir", str(enrolled.voices_dir)]


# --------------------------------------------------------------------------- basics


def test_version_subprocess() -> None:
    result = subprocess.run([sys.executable, "-m", "voxclone", "--version"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0
    assert result.stdout.strip() == f"voxclone {voxclone.__version__}"


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enroll", "x", "a.wav", "--effort", "extreme"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_describe_similarity_thresholds() -> None:
    assert describe_similarity(VERY_LIKELY_SAME) == "very likely the same speaker"
    assert describe_similarity(PROBABLY_SAME) == "probably the same speaker"
    assert describe_similarity(PROBABLY_SAME - 0.01) == "probably different speakers"


def test_voices_empty_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voices", "--json", "--voices-dir", str(tmp_path / "none")]) == 0
    assert json.loads(capsys.readouterr().out) == []


# --------------------------------------------------------------------------- enroll


def test_enroll_then_voices_lists_it(enrolled: Enrolled,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert enrolled.status == 0
    assert f"enrolled voice '{VOICE}'" in enrolled.stdout
    assert "effort:     stock" in enrolled.stdout
    assert f"consent:    verified (see `voxclone consent show {VOICE}`)" in enrolled.stdout
    assert str(enrolled.voices_dir / f"{VOICE}.voice.json") in enrolled.stdout

    assert main(["voices", *_voices_args(enrolled)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "EFFORT", "SPEECH", "SIMILARITY", "CREATED"]
    assert lines[1].split()[:2] == [VOICE, "stock"]

    assert main(["voices", "--json", *_voices_args(enrolled)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["name"] == VOICE and row["effort"] == "stock"
    assert row["speech_seconds"] > 3.0 and -1.0 <= row["similarity"] <= 1.0


def test_enroll_twice_without_force_keeps_profile(
    enrolled: Enrolled, reference_wav: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(enrolled.voices_dir)
    status = main(["enroll", VOICE, str(reference_wav), "--effort", "stock", "-q",
                   "--i-am-the-speaker", *_voices_args(enrolled)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("voxclone: error: ") and "already exists" in err and "--force" in err
    assert _snapshot(enrolled.voices_dir) == before


def _bad_clip(kind: str, directory: Path) -> Path:
    path = directory / f"{kind}.wav"
    if kind == "corrupt":
        path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot really audio" * 20)
    elif kind == "empty":
        path.write_bytes(b"")
    else:  # 4 s of digital silence
        write_audio(Audio(np.zeros(4 * 16000, dtype=np.float32), 16000), path)
    return path


@pytest.mark.parametrize(("kind", "expected"), [
    ("corrupt", "not a readable audio file"),
    ("empty", "is empty (0 bytes)"),
    ("silence", "silent"),
])
def test_enroll_bad_clip_fails_cleanly(
    kind: str, expected: str, enrolled: Enrolled, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clip = _bad_clip(kind, tmp_path)
    before = _snapshot(enrolled.voices_dir)
    assert main(["enroll", "newvoice", str(clip), "--effort", "stock", "-q",
                 "--i-am-the-speaker", *_voices_args(enrolled)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("voxclone: error: ")
    assert "Traceback" not in err
    if kind == "silence":  # the VAD may call it silent or speech-free
        assert "silent" in err or "speech" in err
    else:
        assert expected in err
    assert _snapshot(enrolled.voices_dir) == before


def test_enroll_stdin_garbage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\x00garbage" * 100)))
    voices_dir = tmp_path / "voices"
    assert main(["enroll", "x", "-", "--voices-dir", str(voices_dir), "-q",
                 "--i-am-the-speaker"]) == 2
    assert "not a readable audio file" in capsys.readouterr().err
    assert not voices_dir.exists()


# --------------------------------------------------------------------------- say


def test_say_to_wav(spoken_wav: Path) -> None:
    info = sf.info(str(spoken_wav))
    assert info.samplerate == 24000
    assert info.frames / info.samplerate > 1.0


def test_say_stream_pcm_to_stdout(enrolled: Enrolled,
                                  capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status = main(["say", VOICE, "Good evening. See you tomorrow.", "-o", "-",
                   "--format", "pcm", "--stream", *_voices_args(enrolled)])
    captured = capsysbinary.readouterr()
    assert status == 0
    assert len(captured.out) > 0 and len(captured.out) % 2 == 0
    assert b"of watermarked audio to standard output" in captured.err
    pcm = np.frombuffer(captured.out, dtype="<i2").astype(np.float32) / 32768
    assert voxclone.detect(Audio(pcm, 24_000)).found  # the stream carries the mark


def test_say_text_from_stdin(enrolled: Enrolled, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("This text came from standard input."))
    out = tmp_path / "stdin.flac"
    assert main(["say", VOICE, "-", "-o", str(out), *_voices_args(enrolled)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""  # the summary goes to stderr
    assert str(out) in captured.err
    assert sf.info(str(out)).format == "FLAC"


@pytest.mark.parametrize("command", [["detect", "-"], ["check", "-"],
                                     ["enroll", "sx", "-", "--i-am-the-speaker"]])
def test_unreadable_standard_input_is_named(command: list[str], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"these are not the bytes of a recording"))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main([*command, "--voices-dir", str(tmp_path)] if command[0] == "enroll"
                else command) == 2
    assert "standard input is not a readable audio file" in capsys.readouterr().err


def test_say_unknown_voice(enrolled: Enrolled, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.wav"
    assert main(["say", "nobody", "Hello.", "-o", str(out), *_voices_args(enrolled)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("voxclone: error: ")
    assert "'nobody'" in err and "enroll" in err
    assert not out.exists()


@pytest.mark.parametrize("text", ["", "   "])
def test_say_empty_text(text: str, enrolled: Enrolled, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.wav"
    assert main(["say", VOICE, text, "-o", str(out), *_voices_args(enrolled)]) == 2
    assert "empty" in capsys.readouterr().err
    assert not out.exists()


def test_say_shows_its_progress_on_a_long_text(enrolled: Enrolled, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join(["The river was calm this morning.", "Two boats went out early.",
                     "By noon the wind had turned, and the water was rough.",
                     "Everyone came back safely before dark.",
                     "We talked about it over dinner, and laughed a lot.",
                     "Tomorrow we will try again."])
    assert len(text) > SAY_BAR_CHARS
    out = tmp_path / "long.wav"
    assert main(["say", VOICE, text, "-o", str(out), *_voices_args(enrolled)]) == 0
    err = capsys.readouterr().err
    shares = [int(m) for m in re.findall(r"speaking joe: +(\d+)%", err)]
    assert shares[-1] == 100 and shares == sorted(shares) and len(set(shares)) >= 4
    assert "similarity" not in err


def test_say_follow_speaks_piped_text_as_one_synthesis(
        enrolled: Enrolled, monkeypatch: pytest.MonkeyPatch,
        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    lines = ["The first line came from another program, and it is spoken at once.",
             "",  # (a blank line says nothing)
             "The second line followed it a little later, under the same mark."]
    piped = "\n".join(lines).encode() + b"\n"
    stdin = io.TextIOWrapper(io.BytesIO(piped))
    monkeypatch.setattr(sys, "stdin", stdin)
    before = len(AuditLog().entries(event="synthesis"))
    assert main(["say", VOICE, "-", "--follow", "-o", "-", "--format", "pcm",
                 *_voices_args(enrolled)]) == 0
    captured = capsysbinary.readouterr()
    assert b"watermarked audio to standard output" in captured.err
    entries = AuditLog().entries(event="synthesis")[before:]
    assert len(entries) == 1
    pcm = np.frombuffer(captured.out, dtype="<i2").astype(np.float32) / 32768
    assert [m.payload for m in voxclone.detect_all(Audio(pcm, 24_000))] == \
        [entries[0].payload]
    record = voxclone.find_synthesis(entries[0].payload)
    assert record is not None and record.text_sha256 == hashlib.sha256(piped).hexdigest()
    assert record.seconds == pytest.approx(len(pcm) / 24_000, abs=1e-3)


@pytest.mark.parametrize(("args", "said"), [
    (["Hello.", "--follow", "-o", "-", "--format", "pcm"], "give '-' as TEXT"),
    (["-", "--follow", "-o", "said.wav"], "give '-' as TEXT and -o -"),
    (["-", "--follow", "-o", "-"], "standard output would get WAV: add --format pcm"),
])
def test_say_follow_is_refused_where_it_cannot_stream(
        enrolled: Enrolled, args: list[str], said: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", VOICE, *args, *_voices_args(enrolled)]) == 2
    assert said in capsys.readouterr().err


def test_say_checks_its_output_before_speaking(enrolled: Enrolled, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    syntheses = len(AuditLog().entries(event="synthesis"))
    for out, said in ((tmp_path / "x.xyz", "cannot tell the output format"),
                      (tmp_path / "missing" / "x.wav", "does not exist; create it")):
        assert main(["say", VOICE, "Hello.", "-o", str(out), *_voices_args(enrolled)]) == 2
        assert said in capsys.readouterr().err
        assert not out.exists()
    assert len(AuditLog().entries(event="synthesis")) == syntheses  # nothing was spoken


def test_say_sentence_pause(enrolled: Enrolled, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    text = "Good evening. See you tomorrow."
    durations = []
    for pause in ("0.2", "1.2"):
        out = tmp_path / f"pause{pause}.wav"
        assert main(["say", VOICE, text, "-o", str(out), "--sentence-pause", pause,
                     *_voices_args(enrolled)]) == 0
        durations.append(sf.info(str(out)).duration)
    assert durations[1] - durations[0] == pytest.approx(1.0, abs=0.03)
    bad = tmp_path / "bad.wav"
    assert main(["say", VOICE, text, "-o", str(bad), "--sentence-pause", "9",
                 *_voices_args(enrolled)]) == 2
    assert "sentence_pause must be 0-3 s" in capsys.readouterr().err
    assert not bad.exists()


def test_say_stream_needs_pcm(enrolled: Enrolled, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", VOICE, "Hi.", "-o", "-", "--stream", *_voices_args(enrolled)]) == 2
    assert "--format pcm" in capsys.readouterr().err


# --------------------------------------------------------------------------- similarity


def test_similarity_reference_vs_clone(reference_wav: Path, spoken_wav: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["similarity", str(reference_wav), str(spoken_wav)]) == 0
    score, reading = capsys.readouterr().out.split(maxsplit=1)
    assert -1.0 <= float(score) <= 1.0
    assert reading.strip() == describe_similarity(float(score))


def test_similarity_voice_names(enrolled: Enrolled,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["similarity", VOICE, VOICE, *_voices_args(enrolled)]) == 0
    assert capsys.readouterr().out.strip() == "1.000  very likely the same speaker"


def test_similarity_unknown(reference_wav: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["similarity", str(reference_wav), "no-such-thing",
                   "--voices-dir", str(tmp_path)])
    assert status == 2
    assert "'no-such-thing' is neither an existing audio file nor a stored voice" in (
        capsys.readouterr().err)


# --------------------------------------------------------------------------- demo


@pytest.mark.slow
def test_demo_stock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--effort", "stock", "-q"]) == 0
    stdout = capsys.readouterr().out
    for name in ("reference.wav", "consent.wav", "held-out.wav", "clone.wav", "stock.wav",
                 "voices/demo-joe.voice.json", "voices/demo-joe.consent.json"):
        assert (out / name).is_file(), name
    assert "clone (stock):" in stdout and "nearest stock voice:" in stdout
    assert "consent (verified):" in stdout
    assert "watermark: found in" in stdout
    record = voxclone.consent_record("demo-joe", voices_dir=out / "voices")
    assert record.decision == "verified" and record.phrase_heard
    assert sf.info(str(out / "clone.wav")).samplerate == 24000


def test_enroll_rate_match_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``--rate-match`` asks for the rate at every effort, ``--no-rate-match`` for none;
    neither leaves it to the effort (``match_rate=None``). The two are exclusive."""
    seen: list[object] = []

    def enroll(*args: object, **kwargs: object) -> object:
        seen.append(kwargs["match_rate"])
        raise voxclone.VoxcloneError("stop here")

    monkeypatch.setattr(voxclone, "enroll", enroll)
    clip = tmp_path / "a.wav"
    clip.write_bytes(b"")
    for flag, expected in ((None, None), ("--rate-match", True), ("--no-rate-match", False)):
        argv = ["enroll", "ada", str(clip), "--i-am-the-speaker", "--voices-dir",
                str(tmp_path), *([flag] if flag else [])]
        assert main(argv) != 0
        assert seen[-1] is expected
    assert main(["enroll", "ada", str(clip), "--rate-match", "--no-rate-match"]) == 2
