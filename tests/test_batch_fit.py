"""Dubbing with ``voxclone batch``: a line whose speech must fit a time (a CSV/JSONL
``seconds``, or an SRT cue's timing with ``--fit-cues``) is rendered faster until it
does; one that cannot fit even at speed 2.0 is kept and named; a changed time renders
the line again. Real models (the stock enrollment of joe that test_batch uses)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import voxclone
from voxclone.audio import Audio, load_audio
from voxclone.batch import read_script, render_script, work
from voxclone.batch.work import FIT_TRIES, MAX_FIT_SPEED, LineJob, render_line, speech_seconds
from voxclone.cli import main
from voxclone.errors import ScriptError

from .conftest import longest_inner_silence
from .test_batch import _check_outputs, _jsonl, _shared_home, _write, batch_home

__all__ = ["_shared_home", "batch_home"]  # (the fixtures this module shares)

LONG = ("The committee will meet again on Thursday afternoon to discuss the budget for "
        "next year.")


def test_scripts_give_seconds_and_cues_their_timing(tmp_path: Path) -> None:
    lines = read_script(_write(tmp_path / "s.csv", (
        "voice,text,seconds\njoe,One.,2.5\njoe,Two.,\njoe,Three.,-1\njoe,Four.,soon\n")))
    assert [x.seconds for x in lines] == [2.5, None, None, None]
    assert lines[0].problem is None and lines[1].problem is None
    assert "seconds must be a number of seconds above 0" in str(lines[2].problem)
    assert "got 'soon'" in str(lines[3].problem)
    jsonl = read_script(_jsonl(tmp_path / "s.jsonl", [
        {"voice": "joe", "text": "A.", "seconds": 1.75},
        {"voice": "joe", "text": "B.", "seconds": True}]))
    assert jsonl[0].seconds == 1.75 and "got True" in str(jsonl[1].problem)

    srt = _write(tmp_path / "s.srt", (
        "1\n00:00:01,000 --> 00:00:03,500\nFirst cue.\n\n"
        "2\n01:02:03.25 --> 01:02:04.5 X1:10 X2:20\nHours, and a dot.\n\n"
        "3\n00:09 --> 00:10.2\nNo hours, no milliseconds.\n\n"
        "4\n00:00:09,000 --> 00:00:08,000\nBackwards.\n"))
    assert [x.seconds for x in read_script(srt, default_voice="joe")] == [None] * 4
    cues = read_script(srt, default_voice="joe", fit_cues=True)
    assert [x.seconds for x in cues[:3]] == [2.5, 1.25, 1.2]
    assert all(cue.problem is None for cue in cues[:3])
    assert "ends at 8 s, not after it starts (9 s)" in str(cues[3].problem)
    # a timing only fitting needs to read: refused only then, naming the line
    odd = _write(tmp_path / "odd.srt", "1\nsoon --> later\nHi.\n")
    assert read_script(odd, default_voice="joe")[0].seconds is None
    with pytest.raises(ScriptError, match="line 2: cannot read the cue timing 'soon --> later'"):
        read_script(odd, default_voice="joe", fit_cues=True)


def test_a_line_is_fitted_into_its_seconds(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {"id": "free", "voice": "joe", "text": LONG},
        {"id": "tight", "voice": "joe", "text": LONG, "seconds": 3.6},
        {"id": "roomy", "voice": "joe", "text": LONG, "seconds": 20},
        {"id": "never", "voice": "joe", "text": LONG + " " + LONG, "seconds": 1.5},
    ]
    script = _jsonl(tmp_path / "dub.jsonl", rows)
    out = tmp_path / "out"
    report = render_script(script, out, workers=1)
    assert report.ok, report.failed
    entries = {e.id: e for e in report.entries}
    spoken = {i: speech_seconds(load_audio(out / f"{i}.wav")) for i in entries}
    assert spoken["free"] > 4.0, spoken  # (else "tight" would need no fitting)
    assert spoken["tight"] <= 3.6 and entries["tight"].speed is not None
    assert 1.0 < entries["tight"].speed <= MAX_FIT_SPEED
    assert entries["tight"].warning is None
    assert entries["free"].speed is None and entries["roomy"].speed is None
    assert spoken["roomy"] == pytest.approx(spoken["free"], abs=0.05)  # rendered as asked
    # cannot fit: the fastest rendering is kept, and the entry says so
    assert entries["never"].speed == MAX_FIT_SPEED and spoken["never"] > 1.5
    assert "past its 1.5 s even at speed 2.00" in str(entries["never"].warning)
    on_disk = {json.loads(x)["id"]: json.loads(x) for x in
               (out / "manifest.jsonl").read_text().splitlines()}
    assert on_disk["tight"]["speed"] == entries["tight"].speed
    assert on_disk["never"]["warning"] == entries["never"].warning
    _check_outputs(report, {str(r["id"]): str(r["text"]) for r in rows})

    # a new time is a new request: only that line is rendered again
    rows[1]["seconds"] = 3.2
    again = render_script(_jsonl(script, rows), out, workers=1)
    assert (again.rendered, again.skipped) == (1, 3)
    assert speech_seconds(load_audio(out / "tight.wav")) <= 3.2


def test_cli_fits_srt_cues_and_names_the_ones_that_overrun(tmp_path: Path) -> None:
    srt = _write(tmp_path / "dub.srt", (
        f"1\n00:00:01,000 --> 00:00:04,400\n{LONG}\n\n"
        f"2\n00:00:05,000 --> 00:00:06,000\n{LONG}\n"))
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["batch", str(srt), "-o", str(tmp_path / "out"), "--voice", "joe",
                       "--workers", "1", "--fit-cues", "--track", str(tmp_path / "dub.wav")])
    assert status == 0, stderr.getvalue()
    assert f"track: {tmp_path / 'dub.wav'} (2 lines, " in stdout.getvalue()
    assert load_audio(tmp_path / "dub.wav").duration > 6.0
    assert speech_seconds(load_audio(tmp_path / "out" / "1.wav")) <= 3.4
    assert "line 5 (id 2) speaks" in stderr.getvalue()
    assert "past its 1 s even at speed 2.00" in stderr.getvalue()


def test_an_srt_job_writes_a_dub_track_with_each_line_at_its_cue(tmp_path: Path) -> None:
    """The lines' own files placed at their cue times in one file; each keeps its mark;
    a line that runs into the next cue is named; CSV cannot be placed."""
    srt = _write(tmp_path / "dub.srt", (
        "1\n00:00:01,000 --> 00:00:05,000\nThe committee will meet again on Thursday.\n\n"
        "2\n00:00:07,500 --> 00:00:12,000\nBring the budget figures for next year.\n\n"
        f"3\n00:00:13,000 --> 00:00:13,800\n{LONG}\n\n"
        "4\n00:00:16,000 --> 00:00:18,000\nThank you all.\n"))
    out, track = tmp_path / "out", tmp_path / "dub.flac"
    report = render_script(srt, out, workers=1, default_voice="joe", track=track)
    assert report.ok and report.track is not None
    assert report.track.placed == 4 and report.track.missing == ()
    assert report.track.overrunning == ("3",)  # speaks ~5 s from 13 s: past 16 s
    audio = load_audio(track)
    assert audio.duration == pytest.approx(report.track.seconds, abs=0.01)
    assert audio.duration >= 18.0
    # each line's sound starts at its cue (its file's own lead-in after it)
    entries = {e.id: e for e in report.entries}
    for cue_id, start in (("1", 1.0), ("2", 7.5)):
        line = load_audio(out / str(entries[cue_id].file))
        begin = round(start * audio.sample_rate)
        placed = audio.samples[begin: begin + len(line.samples)]
        assert np.abs(placed - line.samples).max() < 1e-3  # FLAC's 16 bits
        assert np.abs(audio.samples[round((start - 0.5) * audio.sample_rate): begin]).max() \
            < 1e-3
    # the lines that stand alone and last over 2 s are read back, in order (the fourth,
    # "Thank you all.", is 1.5 s: too short to carry a mark on its own)
    found = [f"{m.payload:08x}" for m in voxclone.detect_all(track)]
    assert found[:2] == [entries["1"].payload, entries["2"].payload]

    csv = _write(tmp_path / "s.csv", "voice,text\njoe,Hello there.\n")
    with pytest.raises(ScriptError, match="line 2: a dub track places each line"):
        render_script(csv, tmp_path / "csv-out", workers=1, track=tmp_path / "t.wav")
    assert not (tmp_path / "csv-out").exists()  # refused before anything was made


@pytest.mark.parametrize(("length", "fits"), [
    (lambda s: 4.0 / s, True),          # in proportion to the speed
    (lambda s: 4.0 / s ** 1.8, True),   # more than in proportion (as at small changes)
    (lambda s: 3.0 / s ** 0.4, True),   # far less: the second guess falls short
    (lambda s: 4.0, False),             # not at all: ends at the fastest, named
])
def test_the_speed_search_aims_from_what_it_measured(monkeypatch: pytest.MonkeyPatch,
                                                     length: Any, fits: bool) -> None:
    """Stand-in renderings whose length answers the speed in different ways: the line
    fits within the renderings allowed wherever it can, and never runs past speed 2."""
    speeds: list[float] = []

    def render(text: str, voice: Any, *, speed: float, **kwargs: Any) -> tuple[Any, Any]:
        speeds.append(speed)
        t = np.arange(round(length(speed) * 24_000)) / 24_000
        sound = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        return Audio(np.concatenate([sound, np.zeros(14_400, np.float32)]), 24_000), \
            SimpleNamespace(id=7)

    monkeypatch.setattr(work, "render", render)
    job = LineJob(id="x", text="Hi.", voice=None, speed=1.0, format="wav",  # type: ignore[arg-type]
                  actor="test", seconds=2.5)
    result = render_line(job)
    assert result.data is not None and len(speeds) <= FIT_TRIES
    assert speeds[:2] == sorted(speeds[:2]) and max(speeds) <= MAX_FIT_SPEED
    assert (result.warning is None) == fits
    if fits:  # the slowest rendering that fit is kept
        fitting = [s for s in speeds if length(s) <= 2.5]
        assert result.speed == pytest.approx(min(fitting), abs=1e-3)
    else:
        assert speeds[-1] == MAX_FIT_SPEED and "even at speed 2.00" in str(result.warning)


def test_a_fit_with_room_to_spare_is_followed_by_a_slower_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Lengths that answer a small change of speed more than in proportion: the first
    faster rendering ends far under its time, so one between is tried and kept."""
    speeds: list[float] = []

    def render(text: str, voice: Any, *, speed: float, **kwargs: Any) -> tuple[Any, Any]:
        speeds.append(speed)
        t = np.arange(round(4.0 / speed ** 1.8 * 24_000)) / 24_000
        return Audio((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 24_000), \
            SimpleNamespace(id=7)

    monkeypatch.setattr(work, "render", render)
    job = LineJob(id="x", text="Hi.", voice=None, speed=1.0, format="wav",  # type: ignore[arg-type]
                  actor="test", seconds=2.5)
    result = render_line(job)
    assert len(speeds) == 3 and speeds[2] < speeds[1]
    assert result.speed == pytest.approx(speeds[2], abs=1e-3)
    assert 2.5 * (1 - 0.05) < 4.0 / speeds[2] ** 1.8 <= 2.5  # a fit with little to spare


def test_a_break_in_a_cue_is_kept_and_heard(tmp_path: Path) -> None:
    """Subtitle markup is dropped from a cue, but an SSML pause stays in the dub."""
    srt = _write(tmp_path / "pause.srt", (
        "1\n00:00:01,000 --> 00:00:08,000\n<i>Nobody spoke for a while.</i>\n"
        '<BREAK time="2s"/> Then we all went home.\n'))
    cue = read_script(srt, default_voice="joe")[0]
    assert cue.text == 'Nobody spoke for a while. <BREAK time="2s"/> Then we all went home.'
    out = tmp_path / "out"
    report = render_script(srt, out, workers=1, default_voice="joe")
    assert report.ok
    line = load_audio(out / str(report.entries[0].file))
    assert longest_inner_silence(line) == pytest.approx(2.0, abs=0.05)
