"""Fingerprints find a synthesis whose watermark cannot be read: a clip under 2 s, a voice
message coded at 13 kbit/s, a second of it spliced into other speech - through
``detect``, ``detect_all``, the command line, the server and the consent check - and do
not find what was never synthesised here."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soxr
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, delete, insert, inspect, select, text, update

import voxclone
from voxclone.audio import Audio, load_audio
from voxclone.audit import AuditLog
from voxclone.cli import main
from voxclone.detection import ONE_SHIFT_SECONDS, is_voxclone_output
from voxclone.errors import AuditError, SyntheticConsentError
from voxclone.fingerprint import (
    SHIFTS,
    Fingerprint,
    Fingerprinter,
    FingerprintIndex,
    cached_index,
    fingerprint,
    load_index,
    search_clip,
    shifted_fingerprints,
)
from voxclone.fingerprint.match import popcount_table
from voxclone.registry import database
from voxclone.registry.database import open_database
from voxclone.registry.schema import fingerprints
from voxclone.watermark import default_watermark

from .conftest import forgotten, opus_16k

SHARED_HOME = True
TEXTS = ("The lighthouse keeper counted the ships every evening, and wrote them down.",
         "A cold wind came off the water as the boats turned for home at last.",
         "She kept the old map folded in the drawer beside the kitchen window.")
RATE = 24_000


@pytest.fixture(scope="module")
def voice(module_home: Path, joe_reference: Audio) -> voxclone.VoiceProfile:
    return voxclone.enroll("joe", joe_reference, effort="stock", save=False,
                           i_am_the_speaker=True)


@pytest.fixture(scope="module")
def takes(voice: voxclone.VoiceProfile) -> list[tuple[Audio, int]]:
    """Each text spoken, with its synthesis id (read from its mark)."""
    out = []
    for line in TEXTS:
        audio = voxclone.synthesize(line, voice)
        found = voxclone.detect(audio)
        assert found.found and found.matched_by == "watermark" and found.payload is not None
        out.append((audio, found.payload))
    return out


def excerpt(audio: Audio, start: float, seconds: float) -> Audio:
    first = int(start * audio.sample_rate)
    return Audio(audio.samples[first:first + int(seconds * audio.sample_rate)],
                 audio.sample_rate)


@contextlib.contextmanager
def altered(synthesis_id: int, column: str, change: Callable[[bytes], bytes]) -> Iterator[None]:
    """The synthesis's stored fingerprint with ``column`` changed by ``change``
    meanwhile, put back after."""
    where = fingerprints.c.synthesis_id == synthesis_id
    with open_database().begin() as connection:
        saved = connection.execute(select(fingerprints.c[column]).where(where)).scalar_one()
        connection.execute(update(fingerprints).where(where).values(
            {column: change(saved)}))
    try:
        yield
    finally:
        with open_database().begin() as connection:
            connection.execute(update(fingerprints).where(where).values({column: saved}))


def damaged(synthesis_id: int) -> contextlib.AbstractContextManager[None]:
    """The synthesis's stored fingerprint cut short meanwhile (its words no longer fill
    its frames), mended after."""
    return altered(synthesis_id, "words", lambda words: words[:-3])


def mark_read(audio: Audio) -> bool:
    return default_watermark().detect(audio.samples, audio.sample_rate).found


def test_a_one_second_clip_is_traced_by_its_fingerprint(
        takes: list[tuple[Audio, int]]) -> None:
    by_fingerprint = 0
    for audio, payload in takes:
        clip = excerpt(audio, 1.0, 1.0)
        result = voxclone.detect(clip)
        assert result.found and result.payload == payload
        assert result.matched_by == ("watermark" if mark_read(clip) else "fingerprint")
        if result.matched_by == "fingerprint":
            by_fingerprint += 1
            assert result.false_positive_probability < 1e-6
            assert result.start_s is not None and result.end_s is not None
            assert 0.0 <= result.start_s < result.end_s <= 1.0
            assert not result.too_short  # found: nothing to excuse
    assert by_fingerprint >= 2  # what the fingerprint is for: the mark reads under 2 s rarely


def test_a_voice_message_that_lost_its_mark_is_traced(takes: list[tuple[Audio, int]],
                                                      tmp_path: Path) -> None:
    audio, payload = takes[0]
    message = opus_16k(audio, 0.97)  # about 13 kbit/s
    assert not mark_read(load_audio(message))
    result = voxclone.detect(message)
    assert result.found and result.payload == payload and result.matched_by == "fingerprint"
    assert result.low_bitrate is None  # found: no excuse needed
    # the whole message matched, not a window of it
    assert result.start_s is not None and result.end_s is not None
    assert result.end_s - result.start_s > 0.8 * audio.duration
    entry = AuditLog().entries(event="detect")[-1]
    assert entry.payload == payload and entry.details["matched_by"] == "fingerprint"


def test_a_second_spliced_into_other_speech_is_placed(takes: list[tuple[Audio, int]],
                                                      joe_reference: Audio) -> None:
    audio, payload = takes[1]
    other = joe_reference.resample(RATE).samples
    piece = excerpt(audio, 1.5, 1.2).samples
    spliced = Audio(np.concatenate([other[:3 * RATE], piece, other[3 * RATE:]]), RATE)
    marks = voxclone.detect_all(spliced)
    assert len(marks) == 1 and marks[0].payload == payload
    assert marks[0].matched_by == "fingerprint"  # 1.2 s: too short for the mark
    assert marks[0].start_s is not None and marks[0].end_s is not None
    # where the piece is (3.0-4.2 s), to within the frames' length
    assert marks[0].start_s == pytest.approx(3.0, abs=0.2)
    assert marks[0].end_s == pytest.approx(4.2, abs=0.2), marks


def test_a_stream_is_fingerprinted_as_it_goes(voice: voxclone.VoiceProfile) -> None:
    chunks = list(voxclone.synthesize_stream(TEXTS[2] + " " + TEXTS[0], voice))
    assert len(chunks) > 1
    whole = Audio(np.concatenate([c.samples for c in chunks]), chunks[0].sample_rate)
    payload = voxclone.detect(whole).payload
    message = opus_16k(excerpt(whole, 2.0, 1.5), 0.97)
    assert not mark_read(load_audio(message))
    result = voxclone.detect(message)
    assert result.found and result.payload == payload and result.matched_by == "fingerprint"


def test_what_was_not_synthesised_here_is_not_matched(
        voice: voxclone.VoiceProfile, joe_reference: Audio) -> None:
    # the same voice, another text, its fingerprint not stored (as a synthesis made
    # before fingerprints were, or by another installation)
    unstored = voxclone.synthesize("Four quiet hours passed before the train came in.",
                                   voice)
    payload = voxclone.detect(unstored).payload
    with forgotten(payload):
        for start in (0.5, 1.5):
            clip = opus_16k(excerpt(unstored, start, 1.0), 0.97)
            assert not voxclone.detect(clip).found
    # a person's recording, whole and in pieces, and silence
    assert not voxclone.detect(joe_reference).found
    assert not voxclone.detect(excerpt(joe_reference, 2.0, 1.0)).found
    assert not voxclone.detect(Audio(np.zeros(RATE, np.float32), RATE)).found


def test_the_command_line_and_server_say_how_it_was_found(
        takes: list[tuple[Audio, int]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    audio, payload = takes[2]
    path = tmp_path / "message.ogg"
    path.write_bytes(opus_16k(audio, 0.97))
    assert main(["detect", str(path)]) == 0
    line = capsys.readouterr().out
    assert f"matches the fingerprint of - synthesis {payload:08x}" in line
    assert main(["detect", "--json", str(path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["found"] and shown["matched_by"] == "fingerprint"
    assert shown["marks"][0]["payload"] == f"{payload:08x}"


def test_a_replayed_synthesis_is_no_consent(takes: list[tuple[Audio, int]]) -> None:
    audio, _ = takes[0]
    replay = load_audio(opus_16k(audio, 0.97))
    assert not mark_read(replay)
    assert is_voxclone_output(replay)  # what consent and enrollment ask
    with pytest.raises(SyntheticConsentError, match="matches the fingerprint"):
        voxclone.enroll("echo", replay, effort="stock", save=False, i_am_the_speaker=True)


def test_a_replay_at_another_speed_is_no_consent(takes: list[tuple[Audio, int]]) -> None:
    audio, _ = takes[0]
    assert audio.duration >= ONE_SHIFT_SECONDS  # searched as a reference is: at one shift
    # played 4.5 % slower, between two of the speeds searched, then a voice message
    slower = Audio(soxr.resample(audio.samples, RATE * 0.955, RATE).astype(np.float32),
                   RATE)
    replay = load_audio(opus_16k(slower, 0.97))
    assert not mark_read(replay)
    assert is_voxclone_output(replay)
    # found at another speed: at its own it is not
    index = load_index(open_database())
    assert search_clip(index, replay.samples, replay.sample_rate, shifts=1,
                       speeds=(1.0,)) is None


def test_a_damaged_row_is_skipped(takes: list[tuple[Audio, int]],
                                  caplog: pytest.LogCaptureFixture) -> None:
    (_, broken), (audio, payload) = takes[0], takes[1]
    with damaged(broken):
        with caplog.at_level(logging.WARNING):
            index = load_index(open_database())
        assert f"synthesis {broken:08x} is damaged" in caplog.text
        assert broken not in index.ids and payload in index.ids
        assert voxclone.detect(excerpt(audio, 1.0, 1.0)).payload == payload


def test_a_stream_fingerprint_is_the_whole_ones(takes: list[tuple[Audio, int]]) -> None:
    audio = takes[0][0]
    whole = fingerprint(audio.samples, RATE)
    maker = Fingerprinter(RATE)
    for first in range(0, len(audio.samples), 4321):  # odd chunks, as a stream's are
        maker.push(audio.samples[first:first + 4321])
    chunked = maker.result()
    assert len(chunked) == len(whole) and np.array_equal(chunked.active, whole.active)
    differ = np.unpackbits((chunked.words ^ whole.words)[whole.active].view(np.uint8))
    assert differ.mean() < 0.01
    # a clip of it, cut anywhere, lines up with one of the shifted cuts
    index = FingerprintIndex([(7, whole)])
    clip = audio.samples[12_345:12_345 + RATE]
    found = index.search(shifted_fingerprints(clip, RATE, SHIFTS))
    assert found is not None and found.synthesis_id == 7
    # where the clip itself starts in the synthesis, to within a frame
    assert found.offset_s - found.start_s == pytest.approx(12_345 / RATE, abs=0.02)
    assert index.search(shifted_fingerprints(np.zeros(RATE), RATE, SHIFTS)) is None
    assert FingerprintIndex([]).search(shifted_fingerprints(clip, RATE, SHIFTS)) is None


def test_an_older_database_gains_the_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    config = Config()
    config.set_main_option("script_location", str(Path(database.__file__).parent / "migrations"))
    old = create_engine(url)
    with old.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text("insert into owners (name, is_admin, created_at) "
                                "values ('ada', 0, 'then')"))
    assert "fingerprints" not in inspect(old).get_table_names()
    old.dispose()
    engine = open_database(url)
    assert "fingerprints" in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("select name from owners")).scalar() == "ada"
    assert load_index(engine).frames == 0


def test_a_clip_played_faster_is_found_at_its_speed(takes: list[tuple[Audio, int]]) -> None:
    audio, payload = takes[1]
    # played 4 % faster (pitch too, as a resampling speed change), then a voice message
    faster = Audio(soxr.resample(audio.samples, RATE * 1.04, RATE).astype(np.float32), RATE)
    message = opus_16k(excerpt(faster, 1.0, 2.0), 0.97)
    assert not mark_read(load_audio(message))
    result = voxclone.detect(message)
    assert result.found and result.payload == payload and result.matched_by == "fingerprint"
    assert result.speed in (1.02, 1.04)  # (a fingerprint holds within about 2 %)
    assert result.end_s is not None and result.end_s <= 2.0  # in the clip's own time
    # at its own speed alone it is not found
    heard = load_audio(message)
    index = load_index(open_database())
    assert search_clip(index, heard.samples, heard.sample_rate, speeds=(1.0,)) is None


def test_the_audit_log_vouches_for_every_fingerprint(takes: list[tuple[Audio, int]],
                                                     voice: voxclone.VoiceProfile) -> None:
    """Each synthesis entry (a stream's ``stream-end``) records its fingerprint's digest:
    deleting or changing a stored fingerprint, which would hide a clip from tracing,
    is found by ``AuditLog.verify`` (``voxclone audit verify``)."""
    list(voxclone.synthesize_stream(TEXTS[1], voice))  # a stream's, too
    log = AuditLog()
    assert log.verify().ok
    entries = log.entries(event="synthesis") + log.entries(event="stream-end")
    vouched = {e.payload: e for e in entries if "fingerprint_sha256" in e.details}
    assert {payload for _, payload in takes} <= set(vouched)
    streamed = log.entries(event="stream-end")[-1]
    assert streamed.payload in vouched
    _, payload = takes[0]
    with forgotten(payload):
        problems = log.verify().problems
        assert [(p.seq, p.kind) for p in problems] == [(vouched[payload].seq, "fingerprint")]
        assert f"fingerprint of synthesis {payload:08x} was deleted" in problems[0].message
    assert log.verify().ok
    assert streamed.payload is not None
    # every frame marked silent: never matched
    with altered(streamed.payload, "active", lambda active: bytes(len(active))):
        problems = log.verify().problems
        assert [(p.seq, p.kind) for p in problems] == [(streamed.seq, "fingerprint")]
        assert "was changed" in problems[0].message
    assert log.verify().ok


def test_every_synthesis_in_a_joined_file_is_listed(takes: list[tuple[Audio, int]]) -> None:
    """A marked synthesis, then pieces of two others whose marks are lost: the mark and
    both fingerprints, in time order; the marked one is not listed twice."""
    (whole, first), (other, second), (third, last) = takes
    gap = np.zeros(RATE // 2, np.float32)
    message = load_audio(opus_16k(excerpt(other, 1.0, 1.5), 0.97)).resample(RATE).samples
    joined = Audio(np.concatenate([whole.samples, gap, message, gap,
                                   excerpt(third, 2.0, 1.2).samples]), RATE)
    marks = voxclone.detect_all(joined)
    assert [(m.payload, m.matched_by) for m in marks] == [
        (first, "watermark"), (second, "fingerprint"), (last, "fingerprint")]
    begin = whole.duration + 0.5
    assert marks[1].start_s == pytest.approx(begin, abs=0.25)
    assert marks[2].start_s == pytest.approx(begin + 2.0, abs=0.25)
    assert all(m.false_positive_probability < 1e-6 for m in marks)
    entry = AuditLog().entries(event="detect")[-1]
    assert entry.details["payloads"] == [first, second, last]


def test_a_stream_whose_fingerprint_cannot_be_stored_still_logs_its_end(
        voice: voxclone.VoiceProfile, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``stream-end`` entry says what was handed out even when the fingerprint could
    not be written: a stream stopped early stops quietly, one that ran to its end then
    raises the error."""
    def refuse(*_: object, **__: object) -> str:
        raise AuditError("cannot store the fingerprint: the disk is full")

    monkeypatch.setattr("voxclone.stream_provenance.save_fingerprint", refuse)
    stream = voxclone.synthesize_stream(TEXTS[0] + " " + TEXTS[1], voice)
    first = next(stream)
    stream.close()  # type: ignore[attr-defined]
    ended = AuditLog().entries()[-1]
    assert ended.event == "stream-end" and not ended.details["complete"]
    assert ended.details["seconds"] == pytest.approx(first.duration, abs=1e-3)
    assert ended.details["fingerprint_sha256"] is None
    with pytest.raises(AuditError, match="disk is full"):
        list(voxclone.synthesize_stream(TEXTS[2], voice))
    ended = AuditLog().entries()[-1]
    assert ended.event == "stream-end" and ended.details["complete"]
    assert ended.details["fingerprint_sha256"] is None
    assert AuditLog().verify().ok


def test_the_index_is_kept_between_lookups_and_follows_the_database(
        takes: list[tuple[Audio, int]], voice: voxclone.VoiceProfile) -> None:
    """``cached_index`` reads again only what changed: nothing (the same index), a new
    synthesis (merged in, as a fresh read has it), a removed or damaged row, or one
    stamped out of order (read again)."""
    engine = open_database()
    first = cached_index(engine)
    assert cached_index(engine) is first
    audio = voxclone.synthesize("Seven geese crossed the frozen pond at dawn.", voice)
    payload = voxclone.detect(audio).payload
    grown = cached_index(engine)
    assert grown is not first and payload in grown.ids and payload not in first.ids

    def same(index: FingerprintIndex) -> None:
        fresh = load_index(engine)
        order = np.argsort(index.ids)
        assert np.array_equal(index.ids[order], fresh.ids)
        for sid, start, end in zip(index.ids, index.starts[:-1], index.starts[1:],
                                   strict=True):
            at = int(np.flatnonzero(fresh.ids == sid)[0])
            stored = slice(int(fresh.starts[at]), int(fresh.starts[at + 1]))
            assert np.array_equal(index.words[start:end], fresh.words[stored])
            assert np.array_equal(index.active[start:end], fresh.active[stored])

    same(grown)
    clip = opus_16k(excerpt(audio, 0.8, 1.2), 0.97)
    assert voxclone.detect(clip).payload == payload
    with forgotten(payload) as row:
        assert payload not in cached_index(engine).ids
        assert not voxclone.detect(clip).found
        # one row gone and one come between two lookups
        another = voxclone.detect(voxclone.synthesize("Nine.", voice)).payload
        assert another in cached_index(engine).ids and payload not in cached_index(engine).ids
        # a row stamped long before the newest (a server whose clock is behind)
        late = {**row, "synthesis_id": 0x7F00_0001, "created_at": "2020-01-01T00:00:00+00:00"}
        with engine.begin() as connection:
            connection.execute(insert(fingerprints).values(**late))
        assert 0x7F00_0001 in cached_index(engine).ids
        with engine.begin() as connection:
            connection.execute(delete(fingerprints).where(
                fingerprints.c.synthesis_id == 0x7F00_0001))
    same(cached_index(engine))
    broken = takes[0][1]
    with damaged(broken):
        assert broken not in cached_index(engine).ids
    assert broken in cached_index(engine).ids


def test_an_extended_index_is_the_index_of_all() -> None:
    rng = np.random.default_rng(3)

    def made(n: int) -> Fingerprint:  # few distinct words: many equal across the parts
        return Fingerprint(rng.integers(0, 40, n).astype(np.uint16), rng.random(n) < 0.7)

    items = [(int(sid), made(int(n))) for sid, n in zip(rng.permutation(50),
                                                         rng.integers(30, 90, 50),
                                                         strict=True)]
    whole = FingerprintIndex(items)
    merged = FingerprintIndex(items[:20]).extended(items[20:45]).extended(items[45:])
    for name in ("ids", "starts", "words", "active", "_order", "_bucket"):
        assert np.array_equal(getattr(merged, name), getattr(whole, name)), name
    assert FingerprintIndex([]).extended(items).frames == whole.frames


def test_votes_pick_the_alignments_with_most_frames_within_a_bit() -> None:
    """The alignments checked are those where the most query frames find a stored frame
    whose word is theirs or one bit away (ties: the earlier alignment), as counted one
    frame at a time."""
    table = popcount_table()
    # hundreds of alignments with several votes; four (the rest of the eight tie at
    # one); none
    for distinct in (6, 5000, 20000):
        rng = np.random.default_rng(5)
        words = rng.integers(0, distinct, 900).astype(np.uint16)
        index = FingerprintIndex([(1, Fingerprint(words[:500], rng.random(500) < 0.8)),
                                  (2, Fingerprint(words[500:], rng.random(400) < 0.8))])
        query = Fingerprint(rng.integers(0, distinct, 60).astype(np.uint16),
                            rng.random(60) < 0.9)
        votes: dict[int, int] = {}
        for f in np.flatnonzero(query.active):
            near = table[index.words ^ query.words[f]] <= 1
            for p in np.flatnonzero(near & index.active):
                votes[int(p - f)] = votes.get(int(p - f), 0) + 1
        expected = sorted(votes, key=lambda k: (-votes[k], k))[:8]
        assert index._voted(query) == expected
