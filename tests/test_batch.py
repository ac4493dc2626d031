"""Tests of batch rendering (``voxclone batch`` / :func:`voxclone.batch.render_script`).

Real models throughout: one stock enrollment of joe for the module, and a handful of
short lines per run. Lines last about 3 s: the watermark is only read reliably from
clips of 3 s or more (one codeword takes 2 s; "Hi." alone, 1 s, is never detected, and
2 s lines now and then are not).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import voxclone
from voxclone.audio import Audio, load_audio
from voxclone.audit import AuditLog
from voxclone.batch import (
    MANIFEST_NAME,
    BatchReport,
    Manifest,
    ManifestEntry,
    read_script,
    render_script,
)
from voxclone.batch.outdir import exclusive
from voxclone.cli import main
from voxclone.clone.profile import VoiceStore
from voxclone.consent import ConsentStore
from voxclone.errors import BatchError, ScriptError
from voxclone.provenance import text_digest

pytest.importorskip("piper", reason="the batch tests record their reference with Piper")

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module")
def batch_home(tmp_path_factory: pytest.TempPathFactory, joe_reference: Audio) -> Path:
    """A voxclone home with the voice ``joe`` (consent waived by the speaker) and
    ``mute``, a copy of joe's profile without any consent record."""
    home = tmp_path_factory.mktemp("batch-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOXCLONE_HOME", str(home))
        joe = voxclone.enroll("joe", joe_reference, effort="stock", i_am_the_speaker=True)
        VoiceStore().save(replace(joe, name="mute", seal=None))  # as made before seals
        assert not ConsentStore().path("mute").exists()
    return home


@pytest.fixture(autouse=True)
def _shared_home(_isolated_home: Path, batch_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXCLONE_HOME", str(batch_home))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    return _write(path, "".join(json.dumps(row) + "\n" for row in rows))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_outputs(report: BatchReport, texts: dict[str, str]) -> None:
    """Every ok line's file matches its manifest entry, carries its watermark payload,
    and that payload is a ``synthesis`` in the audit log by a batch actor for its text."""
    log = AuditLog()
    manifest = Manifest(report.outdir).read()
    for entry in report.entries:
        if not entry.ok:
            continue
        assert manifest[entry.id] == entry
        path = report.outdir / str(entry.file)
        assert _sha256(path) == entry.sha256
        audio = load_audio(path)
        assert audio.duration == pytest.approx(entry.duration or 0, abs=0.01)
        found = voxclone.detect(path)
        assert found.found and found.payload is not None, (entry.id, entry.duration)
        assert f"{found.payload:08x}" == entry.payload
        audit = log.find_payload(found.payload)
        assert audit is not None and audit.event == "synthesis"
        assert audit.voice == entry.voice and audit.actor.startswith("batch:")
        assert audit.details["text_sha256"] == text_digest(texts[entry.id])


# --------------------------------------------------------------------------- scripts


def test_read_script_formats(tmp_path: Path) -> None:
    csv_lines = read_script(_write(tmp_path / "s.csv", (
        "Text,voice,notes,speed,id\n"
        '"Hello, there.",joe,ignored,1.25,intro\n'
        "Second line.,joe,,,\n"
        "Too fast.,joe,,9,\n"
        ",joe,,,\n")))
    assert [(x.id, x.line, x.voice, x.text, x.speed) for x in csv_lines[:2]] == [
        ("intro", 2, "joe", "Hello, there.", 1.25), ("3", 3, "joe", "Second line.", 1.0)]
    assert csv_lines[0].problem is None and csv_lines[1].problem is None
    assert "speed" in str(csv_lines[2].problem) and csv_lines[3].problem == "empty text"

    jsonl_lines = read_script(_write(tmp_path / "s.jsonl", (
        '{"voice": "joe", "text": "One.", "id": 7}\n\n'
        '{"voice": "joe", "text": "Two.", "speed": "0.8"}\n'
        '{"text": "No voice."}\n')))
    assert [(x.id, x.line, x.speed, x.problem) for x in jsonl_lines] == [
        ("7", 1, 1.0, None), ("3", 3, 0.8, None), ("4", 4, 1.0, "no voice")]

    srt = _write(tmp_path / "s.srt", (
        "1\n00:00:01,000 --> 00:00:02,000\nada: <i>Where were</i>\nyou?\n\n"
        "2\r\n00:00:03,000 --> 00:00:04,000\r\n{\\an8}Plain cue.\r\n\r\n"
        "3\n00:00:05,000 --> 00:00:06,000\n10:30 is late.\n"))
    cues = read_script(srt, default_voice="joe")
    assert [(x.id, x.line, x.voice, x.text) for x in cues] == [
        ("1", 1, "ada", "Where were you?"), ("2", 6, "joe", "Plain cue."),
        ("3", 10, "joe", "10:30 is late.")]
    no_default = read_script(srt)
    assert no_default[0].problem is None and "--voice" in str(no_default[1].problem)


@pytest.mark.parametrize(("name", "content", "where"), [
    ("a.csv", "voice,words\njoe,Hi.\n", "line 1"),
    ("b.jsonl", '{"voice": "joe", "text": "Hi."}\n\n{"voice": "joe", text}\n', "line 3"),
    ("c.jsonl", '{"voice": "joe", "text": "Hi."}\n["joe", "Hi."]\n', "line 2"),
    ("d.csv", "id,voice,text\nx,joe,Hi.\ny,joe,Yo.\nX,joe,Hey.\n", "line 4"),
    ("e.csv", "id,voice,text\n../evil,joe,Hi.\n", "line 2"),
    ("f.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi.\n\n2\nno timing\nYo.\n", "line 6"),
    ("g.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi.\n\nhello\n", "line 5"),
    ("h.txt", "voice,text\njoe,Hi.\n", "extension"),
    ("i.csv", "voice,text\n", "no lines"),
])
def test_malformed_scripts_name_the_line(tmp_path: Path, name: str, content: str,
                                         where: str) -> None:
    with pytest.raises(ScriptError, match=where):
        read_script(_write(tmp_path / name, content))


def test_manifest_drops_a_cut_off_last_entry(tmp_path: Path) -> None:
    """A run killed while appending leaves half a line: it is dropped, the rest kept."""
    entry = ManifestEntry(id="1", line=2, status="ok", voice="joe", file="1.wav")
    with Manifest(tmp_path) as manifest:
        manifest.append(entry)
    with open(tmp_path / MANIFEST_NAME, "a", encoding="utf-8") as handle:
        handle.write('{"id": "2", "line": 3, "sta')
    assert Manifest(tmp_path).read() == {"1": entry}
    assert (tmp_path / MANIFEST_NAME).read_text().endswith("}\n")


# --------------------------------------------------------------------------- runs


def test_local_run_with_bad_lines(tmp_path: Path) -> None:
    """Two worker processes; bad lines get a reason in the manifest and the good ones are
    rendered; a second run skips everything already done."""
    rows: list[dict[str, object]] = [
        {"id": "a", "voice": "joe", "text": "Good morning to all of you, and welcome back."},
        {"id": "b", "voice": "nobody", "text": "Unknown voice."},
        {"id": "c", "voice": "joe", "text": "The door is open, so please come in and sit down.",
         "speed": 1.3},
        {"id": "d", "voice": "joe", "text": "   "},
        {"id": "e", "voice": "mute", "text": "No consent."},
        {"id": "f", "voice": "joe", "text": "Too slow.", "speed": 0.1},
        {"id": "g", "voice": "joe", "text": "!!! ???"},
        {"id": "h", "voice": "joe", "text": "See you again soon, I hope, and take care."},
    ]
    script = _jsonl(tmp_path / "script.jsonl", rows)
    out = tmp_path / "out"
    report = render_script(script, out, workers=2, format="flac")

    assert "2 local processes" in report.executor
    assert [e.id for e in report.entries] == [str(r["id"]) for r in rows]
    assert report.rendered == 3 and report.skipped == 0
    errors = {e.id: str(e.error) for e in report.failed}
    assert set(errors) == {"b", "d", "e", "f", "g"}
    assert "no voice named 'nobody'" in errors["b"]
    assert errors["d"] == "empty text"
    assert "no consent record for 'mute'" in errors["e"]
    assert "speed" in errors["f"]
    assert "nothing to pronounce" in errors["g"]
    assert sorted(p.name for p in out.iterdir()) == ["a.flac", "c.flac", "h.flac", MANIFEST_NAME]
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()}
    assert len(set(modes.values())) == 1, modes  # the manifest is as readable as the audio
    on_disk = [json.loads(x) for x in (out / MANIFEST_NAME).read_text().splitlines()]
    assert [x["id"] for x in on_disk] == [e.id for e in report.entries]
    _check_outputs(report, {str(r["id"]): str(r["text"]) for r in rows})

    before = {p.name: p.read_bytes() for p in out.glob("*.flac")}
    again = render_script(script, out, workers=2, format="flac")
    assert (again.rendered, again.skipped, len(again.failed)) == (0, 3, 5)
    assert {p.name: p.read_bytes() for p in out.glob("*.flac")} == before


def test_cli_reports_failed_lines(tmp_path: Path) -> None:
    script = _write(tmp_path / "s.csv", "voice,text\nnobody,Hello.\n")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["batch", str(script), "-o", str(tmp_path / "out")])
    assert status == 2
    assert "1 lines: 0 rendered, 0 already done, 1 failed" in stdout.getvalue()
    assert "line 2 (id 2) failed: no voice named 'nobody'" in stderr.getvalue()


def test_ray_run(tmp_path: Path) -> None:
    """The same job on Ray actors, on a local Ray instance this test starts."""
    ray = pytest.importorskip("ray")
    rows: list[dict[str, object]] = [
        {"voice": "joe", "text": "Hello from a Ray worker, on this machine."},
        {"voice": "mute", "text": "No consent."},
        {"voice": "joe", "text": "This is the second line, spoken by an actor."},
        {"voice": "joe", "text": "And here is the third line, a little later."},
    ]
    script = _jsonl(tmp_path / "script.jsonl", rows)
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             logging_level="WARNING")
    try:
        report = render_script(script, tmp_path / "out", ray="auto", workers=2)
    finally:
        ray.shutdown()
    assert report.executor == "Ray (auto): 2 actors x 1 thread"
    assert report.rendered == 3 and [e.id for e in report.failed] == ["2"]
    _check_outputs(report, {str(i): str(r["text"]) for i, r in enumerate(rows, 1)})


def _lines_done(out: Path) -> int:
    """Finished lines in the manifest a run is appending to (read only: no repair)."""
    with contextlib.suppress(FileNotFoundError):
        return (out / MANIFEST_NAME).read_text().count('"status": "ok"')
    return 0


def _ok_entries(out: Path) -> dict[str, ManifestEntry]:
    return {k: e for k, e in Manifest(out).read().items() if e.ok}


def _mark_difference_db(a: Path, b: Path) -> float:
    """SNR (dB) of file ``a`` against the difference between ``a`` and ``b``."""
    x, y = load_audio(a).samples, load_audio(b).samples
    assert len(x) == len(y)
    return float(10 * np.log10(np.sum(x ** 2) / max(np.sum((x - y) ** 2), 1e-12)))


def test_killed_run_resumes_to_the_same_output(tmp_path: Path) -> None:
    """``voxclone batch`` killed (SIGKILL, whole process group) after two lines, then run
    again, ends with the same output as an uninterrupted run.

    "The same" is defined honestly: every synthesis gets a fresh random watermark payload
    (its audit-log id), so two renderings of a line are never byte-identical. Instead:
    (1) the lines finished before the kill are not rendered again - their files stay
    byte-identical, with the same payloads - while a finished file damaged in between is
    rendered again; (2) the final manifest lists the same lines, files, statuses and
    durations as the uninterrupted run's; (3) each file holds the same audio as the
    uninterrupted run's up to the watermark (the synthesis itself is deterministic; the
    two files differ only by their marks, over 20 dB below the speech); (4) every file
    matches its checksum and carries its own payload, logged in the audit log; and no
    temporary file is left behind.
    """
    rows: list[dict[str, object]] = [
        {"id": f"line-{i}", "voice": "joe", "text": text}
        for i, text in enumerate(["Good morning to you all, and welcome back.",
                                  "Turn left at the corner, then walk on.",
                                  "It is raining again today, so bring a coat.",
                                  "Where did I put the key to the shed?",
                                  "Thank you very much for coming tonight."], 1)]
    texts = {str(r["id"]): str(r["text"]) for r in rows}
    script = _jsonl(tmp_path / "script.jsonl", rows)
    reference = render_script(script, tmp_path / "reference", workers=1)
    assert reference.ok

    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen(
        [sys.executable, "-m", "voxclone", "batch", str(script), "-o", str(out),
         "--workers", "1", "-q"], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    try:
        while _lines_done(out) < 2:
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "the batch run made no progress"
            time.sleep(0.05)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    finished = _ok_entries(out)
    assert 2 <= len(finished) < len(rows), "the kill should land mid-way"
    damaged, *kept = sorted(finished)
    (out / str(finished[damaged].file)).write_bytes(b"RIFF broken")

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["batch", str(script), "-o", str(out), "--workers", "1", "-q"]) == 0
    final = Manifest(out).read()
    for key in kept:  # (1) not rendered again
        assert final[key] == finished[key]
        assert _sha256(out / str(final[key].file)) == finished[key].sha256
    assert final[damaged].sha256 != finished[damaged].sha256
    strip = ("id", "file", "status", "duration", "voice", "line")
    assert [{k: getattr(e, k) for k in strip} for e in final.values()] == [  # (2)
        {k: getattr(e, k) for k in strip} for e in reference.entries]
    for entry in reference.entries:  # (3)
        assert _mark_difference_db(out / str(entry.file),
                                   reference.outdir / str(entry.file)) > 20.0
    report = BatchReport(outdir=out, manifest=out / MANIFEST_NAME,
                         entries=tuple(final.values()), rendered=0, skipped=0, seconds=0.0,
                         executor="")
    _check_outputs(report, texts)  # (4)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------- the output directory


def test_only_the_runs_own_leftovers_are_removed(tmp_path: Path) -> None:
    """User files in OUTDIR survive every run - even a first run deletes nothing - while
    the temporary files a killed run leaves (the exact names the atomic writes make)
    are removed once the directory holds the job's manifest."""
    out = tmp_path / "userdir"
    out.mkdir()
    user_files = [".tmp-notes.txt", ".r1.wav.bak", ".bashrc", ".tmp-abcdefgh.txt",
                  ".tmp-abcdefgh.jsonl.old", ".r1.wav.abcdefghi", ".r2.wav.abcdefgh", "r1.txt"]
    for name in user_files:
        (out / name).write_text("precious")
    # a leftover's name, but no manifest yet: the folder is the user's, so it stays
    fd, early = tempfile.mkstemp(dir=out, prefix=".r1.wav.")
    os.close(fd)
    script = _write(tmp_path / "one.csv", "id,voice,text\nr1,joe,"
                    "Good morning to you all, and welcome back.\n")
    assert render_script(script, out, workers=1).rendered == 1
    assert all((out / name).read_text() == "precious" for name in user_files)
    assert Path(early).exists()

    leftovers = [Path(early)]  # now they are this job's: an audio file's, the manifest's
    for prefix, suffix in [(".r1.wav.", ""), (".r1.flac.", ""), (".tmp-", ".jsonl")]:
        fd, name = tempfile.mkstemp(dir=out, prefix=prefix, suffix=suffix)
        os.close(fd)
        leftovers.append(Path(name))
    again = render_script(script, out, workers=1)
    assert (again.rendered, again.skipped) == (0, 1)
    assert not [p.name for p in leftovers if p.exists()]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*user_files, "r1.wav", MANIFEST_NAME])


def test_another_scripts_output_is_not_overwritten(tmp_path: Path) -> None:
    """A second script into a used OUTDIR is refused when it would overwrite or drop the
    first one's files; a copy of the script, or the script edited in place, goes on."""
    first = _write(tmp_path / "res.csv", "id,voice,text\n"
                   "r1,joe,Turn left at the corner and walk on.\nr2,nobody,Hi.\n")
    out = tmp_path / "out_res"
    assert render_script(first, out, workers=1).rendered == 1
    manifest = (out / MANIFEST_NAME).read_bytes()
    audio = (out / "r1.wav").read_bytes()
    assert {e.script for e in Manifest(out).read().values()} == {str(first.resolve())}

    other = _write(tmp_path / "other.csv", "id,voice,text\nr1,mute,Something else.\n")
    dropping = _write(tmp_path / "more.csv", "id,voice,text\nr3,nobody,Hi.\n")
    for script in (other, dropping):
        with pytest.raises(BatchError) as caught:
            render_script(script, out, workers=1)
        message = str(caught.value)
        assert "another script" in message and str(first.resolve()) in message
        assert "r1" in message and "another folder (-o)" in message
        assert f"delete {out / MANIFEST_NAME}" in message
        assert (out / MANIFEST_NAME).read_bytes() == manifest
        assert (out / "r1.wav").read_bytes() == audio
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert main(["batch", str(other), "-o", str(out), "-q"]) == 2
    assert "holds the output of another script" in stderr.getvalue()

    copy = tmp_path / "copy" / "res.csv"
    copy.parent.mkdir()
    shutil.copy(first, copy)  # the same lines from elsewhere: nothing is overwritten
    report = render_script(copy, out, workers=1)
    assert (report.rendered, report.skipped, len(report.failed)) == (0, 1, 1)
    assert {e.script for e in Manifest(out).read().values()} == {str(copy.resolve())}

    _write(copy, "id,voice,text\nr1,joe,Turn left at the corner and walk on.\n"
           "r2,nobody,Hello.\nr3,nobody,Bye.\n")  # edited in place: resumes as before
    report = render_script(copy, out, workers=1)
    assert (report.rendered, report.skipped, len(report.failed)) == (0, 1, 2)
    assert (out / "r1.wav").read_bytes() == audio


def test_two_runs_into_one_outdir_at_once(tmp_path: Path) -> None:
    """While a run (here another process holding its lock) writes into OUTDIR, a second
    run is refused before it reads or writes anything there; afterwards it runs."""
    script = _write(tmp_path / "s.csv", "id,voice,text\nx,nobody,Hi.\n")
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, pathlib\n"
         "from voxclone.batch.outdir import exclusive\n"
         "with exclusive(pathlib.Path(sys.argv[1])):\n"
         "    print('locked', flush=True)\n"
         "    sys.stdin.readline()\n", str(out / MANIFEST_NAME)],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            assert main(["batch", str(script), "-o", str(out), "-q"]) == 2
        assert "another voxclone batch run is writing into" in stderr.getvalue()
        assert "another folder (-o)" in stderr.getvalue()
        assert (out / MANIFEST_NAME).read_text() == ""
    finally:
        holder.communicate("\n", timeout=60)
    report = render_script(script, out, workers=1)
    assert [e.id for e in report.failed] == ["x"]
    with exclusive(out / MANIFEST_NAME), pytest.raises(BatchError, match="another voxclone"):
        render_script(script, out, workers=1)  # the lock is held in this process too
