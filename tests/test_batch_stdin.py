"""``voxclone batch -``: the script read from standard input (``--script-format`` required).

No voice is enrolled: the lines name an unknown voice, so the job reads the script,
runs and records every line as failed without synthesising anything.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from voxclone.batch import MANIFEST_NAME, read_script
from voxclone.cli import main
from voxclone.errors import ScriptError

CSV = "\ufeffid,voice,text\r\nintro,nobody,\"Hello, there.\"\r\nend,nobody,Goodbye.\r\n"
SRT = "1\n00:00:01,000 --> 00:00:02,000\nada: Where were you?\n"


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))


@pytest.mark.parametrize(("fmt", "content", "expected"), [
    ("csv", CSV, [("intro", "nobody", "Hello, there."), ("end", "nobody", "Goodbye.")]),
    ("jsonl", '{"id": "a", "voice": "ada", "text": "One."}\n', [("a", "ada", "One.")]),
    ("srt", SRT, [("1", "ada", "Where were you?")]),
])
def test_read_script_from_standard_input(fmt: str, content: str,
                                         expected: list[tuple[str, str, str]],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, content)
    lines = read_script("-", format=fmt)
    assert [(x.id, x.voice, x.text) for x in lines] == expected
    _stdin(monkeypatch, '{"voice": "ada", "text": "One."}\n{"oops"\n')
    with pytest.raises(ScriptError, match=r"^standard input, line 2: not valid JSON"):
        read_script("-", format="jsonl")


def test_standard_input_needs_the_script_format(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, CSV)
    assert main(["batch", "-", "-o", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "read from standard input ('-')" in err and "--script-format csv" in err
    assert not (tmp_path / "out").exists()
    monkeypatch.chdir(tmp_path)
    assert main(["batch", "-", "--script-format", "csv", "-o", "-", "-q"]) == 2
    assert "standard output ('-') cannot be; give a directory" in capsys.readouterr().err
    assert not (tmp_path / "-").exists()


def test_batch_runs_a_script_from_standard_input(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    for _ in range(2):  # and again: the same (nameless) script resumes, not refused
        _stdin(monkeypatch, CSV)
        assert main(["batch", "-", "-o", str(out), "--script-format", "csv",
                     "--workers", "1"]) == 2  # lines failed: the voice does not exist
        captured = capsys.readouterr()
        assert "2 lines: 0 rendered, 0 already done, 2 failed" in captured.out
        assert "line 2 (id intro) failed" in captured.err
    entries = [json.loads(row) for row in (out / MANIFEST_NAME).read_text().splitlines()]
    assert {e["id"] for e in entries} == {"intro", "end"}
    assert {e["script"] for e in entries} == {"standard input"}
