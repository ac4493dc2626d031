"""Pruning old fingerprints: only those of syntheses logged before the cutoff go, the
prune is on the record so that ``verify`` does not call it tampering, and a fingerprint
removed any other way is still reported."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

import voxclone
from voxclone.audio import Audio
from voxclone.audit import AuditLog, prune_fingerprints
from voxclone.cli import main
from voxclone.errors import VoxcloneError
from voxclone.fingerprint import cached_index, fingerprint
from voxclone.fingerprint.store import fingerprint_row
from voxclone.registry.database import open_database
from voxclone.registry.schema import fingerprints

from .conftest import forgotten

TEXTS = ("The lighthouse keeper counted the ships every evening.",
         "A cold wind came off the water as the boats turned for home.",
         "She kept the old map folded in the drawer.")


def spoken(text: str, voice: voxclone.VoiceProfile) -> tuple[Audio, int]:
    audio = voxclone.synthesize(text, voice)
    found = voxclone.detect(audio)
    assert found.found and found.payload is not None
    return audio, found.payload


def stored_ids() -> set[int]:
    with open_database().connect() as connection:
        return set(connection.execute(select(fingerprints.c.synthesis_id)).scalars())


@pytest.fixture
def voice(joe_reference: Audio) -> voxclone.VoiceProfile:
    return voxclone.enroll("joe", joe_reference, effort="stock", save=False,
                           i_am_the_speaker=True)


def test_a_prune_removes_the_older_fingerprints_on_the_record(
        voice: voxclone.VoiceProfile) -> None:
    old_audio, old = spoken(TEXTS[0], voice)
    cutoff = datetime.now(timezone.utc)
    _, kept = spoken(TEXTS[1], voice)
    log = AuditLog()
    assert {old, kept} <= stored_ids()

    dry = prune_fingerprints(cutoff, dry_run=True)
    assert (dry.removed, dry.entry_seq) == (1, None)
    assert {old, kept} <= stored_ids()

    result = prune_fingerprints(cutoff)
    assert result.removed == 1 and result.entry_seq is not None
    assert old not in stored_ids() and kept in stored_ids()
    entry = log.entries(event="fingerprints-pruned")[-1]
    assert entry.seq == result.entry_seq
    assert entry.details == {"before": cutoff.isoformat(), "fingerprints": 1}
    assert log.verify().ok  # a prune is not tampering
    assert old not in set(cached_index(log.engine).ids.tolist())
    # the synthesis is still named by its watermark and its entry
    found = voxclone.detect(old_audio)
    assert found.found and found.payload == old and found.matched_by == "watermark"
    record = voxclone.find_synthesis(old)
    assert record is not None and record.voice == "joe"
    # pruning again finds nothing more, and logs nothing
    again = prune_fingerprints(cutoff)
    assert (again.removed, again.entry_seq) == (0, None)
    assert log.entries(event="fingerprints-pruned")[-1].seq == result.entry_seq


def test_a_prune_does_not_excuse_other_deletions(voice: voxclone.VoiceProfile) -> None:
    """A fingerprint logged after the cutoff, or after the prune itself, removed behind
    the log's back is still reported."""
    _, old = spoken(TEXTS[0], voice)
    cutoff = datetime.now(timezone.utc)
    _, newer = spoken(TEXTS[1], voice)
    assert prune_fingerprints(cutoff).removed == 1
    _, later = spoken(TEXTS[2], voice)
    log = AuditLog()
    assert log.verify().ok
    with forgotten(newer), forgotten(later):  # behind the log's back, as tampering would
        problems = log.verify().problems
    assert [p.kind for p in problems] == ["fingerprint", "fingerprint"]
    assert [f"{newer:08x}" in problems[0].message, f"{later:08x}" in problems[1].message] \
        == [True, True]
    assert all(f"{old:08x}" not in p.message for p in problems)


def test_an_unlogged_fingerprint_is_pruned_only_once_it_is_old(
        voice: voxclone.VoiceProfile) -> None:
    """A fingerprint no entry records (its synthesis failed to log) goes when the cutoff
    covers it and it is an hour old: younger, its entry may still be on its way."""
    audio, _ = spoken(TEXTS[0], voice)
    print_ = fingerprint(audio.samples, audio.sample_rate)
    now = datetime.now(timezone.utc)
    with open_database().begin() as connection:
        for sid, age in ((0x7000_0001, timedelta(hours=2)), (0x7000_0002, timedelta(minutes=5))):
            row = fingerprint_row(sid, print_)
            row["created_at"] = (now - age).isoformat()
            connection.execute(insert(fingerprints).values(**row))
    result = prune_fingerprints(datetime.now(timezone.utc))
    assert result.removed == 2  # the synthesis above and the two-hour-old orphan
    assert stored_ids() == {0x7000_0002}
    assert AuditLog().verify().ok


def test_a_bad_cutoff_is_refused_and_removes_nothing(voice: voxclone.VoiceProfile) -> None:
    _, payload = spoken(TEXTS[0], voice)
    with pytest.raises(VoxcloneError, match="in the future"):
        prune_fingerprints(datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(VoxcloneError, match="no time zone"):
        prune_fingerprints(datetime.now())
    assert payload in stored_ids()
    assert AuditLog().entries(event="fingerprints-pruned") == []


def test_the_command_line_prunes(voice: voxclone.VoiceProfile,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    _, payload = spoken(TEXTS[0], voice)
    assert main(["audit", "prune", "--older-than", "1"]) == 0
    assert "no fingerprints of syntheses logged before" in capsys.readouterr().out
    assert main(["audit", "prune", "--older-than", "0", "--dry-run"]) == 0
    assert "would remove the fingerprints of 1 syntheses" in capsys.readouterr().out
    assert payload in stored_ids()
    assert main(["audit", "prune", "--older-than", "0"]) == 0
    out = capsys.readouterr().out
    assert "removed the fingerprints of 1 syntheses" in out and "audit entry" in out
    assert payload not in stored_ids()
    assert main(["audit", "verify"]) == 0
    for bad in ("-1", "soon", "nan"):
        assert main(["audit", "prune", "--older-than", bad]) == 2
        assert "is not a number of days" in capsys.readouterr().err
