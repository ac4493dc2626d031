"""The audit log: a keyed hash chain that finds edited, deleted, reordered and cut-off
entries, written by every enrollment, synthesis and detection."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, update

import voxclone
from voxclone.audit import AuditLog
from voxclone.audit.anchor import ANCHOR_FILE, HOME_DATABASE, Anchor, AnchorFile
from voxclone.audit.chain import GENESIS
from voxclone.cli import main
from voxclone.provenance import text_digest
from voxclone.registry import open_database
from voxclone.registry.schema import audit, audit_head


@pytest.fixture()
def log() -> AuditLog:
    log = AuditLog()
    for number in range(6):
        log.append("synthesis", voice="ada", payload=number, details={"n": number})
    return log


def test_an_untouched_log_verifies(log: AuditLog) -> None:
    report = log.verify()
    assert report.ok and report.entries == 6
    assert [e.seq for e in log.entries()] == [1, 2, 3, 4, 5, 6]


def test_an_edited_entry_is_found(log: AuditLog) -> None:
    with log.engine.begin() as conn:
        conn.execute(update(audit).where(audit.c.seq == 3).values(voice="bob"))
    report = log.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(3, "edited")]


def test_a_deleted_entry_is_found(log: AuditLog) -> None:
    with log.engine.begin() as conn:
        conn.execute(delete(audit).where(audit.c.seq == 4))
    kinds = {(p.seq, p.kind) for p in log.verify().problems}
    assert (4, "deleted") in kinds and (5, "reordered") in kinds


def test_reordered_entries_are_found(log: AuditLog) -> None:
    with log.engine.begin() as conn:  # swap entries 2 and 5, numbers and all
        conn.execute(update(audit).where(audit.c.seq == 2).values(seq=-1))
        conn.execute(update(audit).where(audit.c.seq == 5).values(seq=2))
        conn.execute(update(audit).where(audit.c.seq == -1).values(seq=5))
    problems = log.verify().problems
    assert {p.seq for p in problems if p.kind == "reordered"} >= {2, 5}
    assert {p.seq for p in problems if p.kind == "edited"} == {2, 5}


def test_a_log_cut_short_is_found(log: AuditLog) -> None:
    with log.engine.begin() as conn:
        conn.execute(delete(audit).where(audit.c.seq >= 5))
    report = log.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(5, "truncated")]


def _roll_back(log: AuditLog, to: int) -> None:
    """Cut the log after entry ``to`` and set the head row to match, as someone with
    write access to the database (but not to the voxclone home) could."""
    kept = next(e for e in log.entries() if e.seq == to) if to else None
    with log.engine.begin() as conn:
        conn.execute(delete(audit).where(audit.c.seq > to))
        conn.execute(update(audit_head).values(seq=to, hash=kept.hash if kept else GENESIS))


def test_a_log_cut_short_with_its_head_rolled_back_is_found(log: AuditLog) -> None:
    _roll_back(log, 4)
    report = log.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(5, "truncated")]
    assert "this installation wrote entry 6" in report.problems[0].message


def test_a_wiped_log_is_found(log: AuditLog) -> None:
    _roll_back(log, 0)
    report = log.verify()
    assert report.entries == 0
    assert [(p.seq, p.kind) for p in report.problems] == [(1, "truncated")]


def _anchor_file() -> Path:
    return Path(os.environ["VOXCLONE_HOME"]) / ANCHOR_FILE


def test_an_edited_anchor_is_tampering_and_stays_until_deleted(log: AuditLog) -> None:
    """Lowering the anchor to hide a cut breaks its signature: that is reported as
    tampering (not as "not anchored"), and appends leave the evidence alone."""
    assert log.verify().anchored_seq == 6
    data = json.loads(_anchor_file().read_text())
    assert list(data) == [HOME_DATABASE]
    data[HOME_DATABASE]["seq"] = 4  # someone lowers the anchor to hide a cut
    _anchor_file().write_text(json.dumps(data))
    _roll_back(log, 4)
    report = log.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(0, "anchor")]
    assert "bad signature" in report.problems[0].message
    assert "delete the anchor file" in report.problems[0].message
    assert report.anchored_seq is None
    log.append("detect")  # the anchor is not overwritten: the evidence stays
    assert [p.kind for p in log.verify().problems] == ["anchor"]
    _anchor_file().unlink()  # once looked into: a new anchor starts
    log.append("detect")
    report = log.verify()
    assert report.ok and report.anchored_seq == 6


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"home:voxclone.db": 7}',
                                     '{"home:voxclone.db": {"seq": "x", "hash": "y"}}'])
def test_an_unreadable_or_malformed_anchor_is_tampering(log: AuditLog, content: str) -> None:
    _anchor_file().write_text(content)
    report = log.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(0, "anchor")]
    assert str(_anchor_file()) in report.problems[0].message


def test_the_anchor_survives_moving_the_home(log: AuditLog, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    log.engine.dispose()
    moved = tmp_path / "moved-home"
    shutil.move(os.environ["VOXCLONE_HOME"], moved)
    monkeypatch.setenv("VOXCLONE_HOME", str(moved))
    log = AuditLog()
    assert log.verify().anchored_seq == 6
    _roll_back(log, 4)
    report = log.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(5, "truncated")]


def test_an_anchor_recorded_by_url_still_counts(log: AuditLog) -> None:
    """Anchors written before the home database had its own name are keyed by its URL."""
    url = log.engine.url.render_as_string(hide_password=True)
    last = log.entries()[-1]
    _anchor_file().unlink()
    AnchorFile(_anchor_file(), log.key).advance(url, Anchor(last.seq, last.hash))
    assert log.verify().anchored_seq == 6
    _roll_back(log, 4)
    assert [(p.seq, p.kind) for p in log.verify().problems] == [(5, "truncated")]
    log.append("detect")  # entry 5 again: the older, higher anchor is kept
    assert "truncated" in [p.kind for p in log.verify().problems]


def test_another_database_is_not_judged_by_this_homes_anchor(log: AuditLog,
                                                              tmp_path: Path) -> None:
    other = AuditLog(open_database(f"sqlite:///{tmp_path / 'other.db'}"))
    report = other.verify()
    assert report.ok and report.entries == 0 and report.anchored_seq is None


def test_another_key_cannot_reseal_the_chain(log: AuditLog) -> None:
    forger = AuditLog(log.engine, key=b"x" * 32)
    assert not forger.verify().ok
    forger.append("synthesis", voice="ada", payload=99)
    assert [p.seq for p in log.verify().problems] == [7]


def test_concurrent_appends_keep_one_unbroken_chain() -> None:
    log = AuditLog()

    def writer(tag: int) -> None:
        for number in range(20):
            AuditLog(log.engine).append("detect", details={"writer": tag, "n": number})

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = log.verify()
    assert report.ok and report.entries == 80 and report.anchored_seq == 80


def test_cli_verify_reports_tampering(log: AuditLog, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify"]) == 0
    assert "intact: 6 entries" in capsys.readouterr().out
    with log.engine.begin() as conn:
        conn.execute(update(audit).where(audit.c.seq == 2).values(details='{"n": 7}'))
    assert main(["audit", "verify"]) == 3
    err = capsys.readouterr().err
    assert "TAMPERED" in err and "entry 2: edited" in err
    assert main(["audit", "show", "--voice", "ada", "--after", "4"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in shown] == ["5", "6"]


def test_cli_verify_reports_a_forged_anchor(log: AuditLog,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(_anchor_file().read_text())
    data[HOME_DATABASE]["seq"] = 4
    _anchor_file().write_text(json.dumps(data))
    _roll_back(log, 4)
    assert main(["audit", "verify"]) == 3
    err = capsys.readouterr().err
    assert "TAMPERED" in err and "  anchor: the audit anchor" in err
    assert "bad signature" in err and "intact" not in err


@pytest.mark.parametrize("table", ["audit", "audit_head"])
def test_cli_verify_reports_a_dropped_table(log: AuditLog, table: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with log.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {table}")
    report = log.verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(0, "missing")]
    assert main(["audit", "verify"]) == 3
    err = capsys.readouterr().err
    assert f"missing: the audit log's table '{table}' is missing" in err
    assert "restore the database from a backup" in err and "Error" not in err


def test_cli_verify_says_when_a_database_is_not_anchored(
        log: AuditLog, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--database-url", f"sqlite:///{tmp_path / 'o.db'}"]) == 0
    out = capsys.readouterr().out
    assert "not anchored" in out and "another path" in out


def test_cli_show_names_the_kinds_of_entry(log: AuditLog,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "show", "--event", "synthesis"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 6
    assert main(["audit", "show", "--event", "synthesys"]) == 2  # a typo is not "none"
    assert "no 'synthesys' entries in the audit log; its entries are synthesis" \
        in capsys.readouterr().err


def test_the_database_url_comes_from_the_environment(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("VOXCLONE_DATABASE_URL", url)
    AuditLog().append("detect")
    assert (tmp_path / "elsewhere.db").is_file()
    assert AuditLog(open_database(url)).verify().entries == 1


def test_synthesis_and_detection_are_audited(joe_reference: voxclone.Audio) -> None:
    voice = voxclone.enroll("joe", joe_reference, effort="stock", i_am_the_speaker=True)
    text = "The audit log remembers this sentence."
    audio = voxclone.synthesize(text, voice)
    voxclone.detect(audio)
    events = AuditLog().entries()
    assert [e.event for e in events] == ["enroll", "synthesis", "detect"]
    enrolled, made, checked = events
    assert enrolled.voice == "joe" and enrolled.details["consent"] == "waived"
    assert made.details["text_sha256"] == text_digest(text)
    assert made.details["seconds"] == pytest.approx(audio.duration, abs=1e-3)
    assert made.details["language"] == "en-us"  # found from the script when not given
    assert checked.details["found"] and checked.payload == made.payload
    assert made.actor.startswith("local:")
    assert AuditLog().verify().ok


def test_the_language_spoken_is_audited(joe_reference: voxclone.Audio) -> None:
    voice = voxclone.enroll("joe", joe_reference, effort="stock", i_am_the_speaker=True)
    voxclone.synthesize("Hola, ¿cómo estás?", voice, language="ES")
    list(voxclone.synthesize_stream("Buongiorno a tutti.", voice, language="it"))
    spoken = [e for e in AuditLog().entries() if e.event == "synthesis"]
    assert [e.details["language"] for e in spoken] == ["es", "it"]
    record = voxclone.find_synthesis(spoken[0].payload)
    assert record is not None and record.language == "es"


def test_refused_enrollments_are_audited(joe_reference: voxclone.Audio) -> None:
    """A refusal is logged with the check that made it: a watermark check done by a
    refused enrollment is a detection, and attempts are what monitoring watches."""
    voice = voxclone.enroll("joe", joe_reference, effort="stock", i_am_the_speaker=True)
    clone = voxclone.synthesize("Please read this back to me, slowly and clearly.", voice)
    with pytest.raises(voxclone.errors.SyntheticConsentError):
        voxclone.enroll("copy", clone, effort="stock", i_am_the_speaker=True, save=False)
    silence = voxclone.Audio(np.zeros(16_000 * 4, np.float32), 16_000)
    with pytest.raises(voxclone.VoxcloneError):
        voxclone.enroll("quiet", silence, effort="stock", i_am_the_speaker=True)
    refused = [e for e in AuditLog().entries() if e.event == "enroll-refused"]
    assert [e.voice for e in refused] == ["copy", "quiet"]
    assert refused[0].details["error"] == "SyntheticConsentError"
    assert refused[0].details["reason"].startswith("clip 1 carries this installation's")
    assert AuditLog().verify().ok
