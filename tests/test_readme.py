"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import voxclone
from voxclone.audio import Audio, write_audio

from .conftest import joe_consents

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_a_python_example() -> None:
    assert python_blocks()


def test_readme_python_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, joe_reference: Audio, joe_heldout: Audio,
    _isolated_home: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    # The clips the example names: two recordings of one person.
    write_audio(joe_reference, tmp_path / "ada-1.wav")
    write_audio(joe_heldout, tmp_path / "ada-2.flac")
    # The person reads each challenge the example issues into ada-consent.wav, as the
    # README tells them to (the challenge itself, and its checking, are the real ones).
    issue = voxclone.challenge

    def challenge_and_record(name: str, **kwargs: Any) -> voxclone.Challenge:
        challenge, reading = joe_consents(name, issue=issue, **kwargs)
        write_audio(reading, tmp_path / f"{name}-consent.wav")
        return challenge

    monkeypatch.setattr(voxclone, "challenge", challenge_and_record)
    for block in python_blocks():
        namespace: dict[str, object] = {}
        exec(compile(block, str(README), "exec"), namespace)
    assert (tmp_path / "hello.mp3").stat().st_size > 1000
    assert (_isolated_home / "voices" / "ada.voice.json").is_file()
    assert voxclone.consent_record("ada").decision == "verified"
