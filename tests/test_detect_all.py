"""Every mark in a file that joins several syntheses: ``voxclone.detect_all``, its audit
entry and ``voxclone detect`` on such a file. (The HTTP route: test_server_detect_all.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import voxclone
import voxclone.synthesis
from voxclone.audio import Audio, write_audio
from voxclone.audit import AuditLog
from voxclone.cli import main
from voxclone.watermark import Detection, QimWatermark

FIRST = ("The lighthouse keeper counted the ships every evening. "
         "Nobody remembered when the old bridge was painted green.")
SECOND = ("We will meet at the station at half past six. "
          "Bring the blue umbrella, the forecast says it will rain.")
RATE = 24_000
#: Where a mark is said to start or end, against where its audio does (s): windows of
#: a codeword and a symbol (2.3 s) half overlap, and the joint's window reads neither.
SLACK = 1.5


#: One installation (secret + synthesis log) shared by this module's tests.
SHARED_HOME = True


@pytest.fixture(scope="module")
def voice(module_home: Path, joe_reference: Audio) -> voxclone.VoiceProfile:
    return voxclone.enroll("joe", joe_reference, effort="stock", save=False,
                           i_am_the_speaker=True)


@pytest.fixture(scope="module")
def takes(voice: voxclone.VoiceProfile) -> tuple[Audio, Audio]:
    """Two real syntheses (24 kHz), each with its own record and payload."""
    return voxclone.synthesize(FIRST, voice), voxclone.synthesize(SECOND, voice)


class _Unmarked:
    """A watermark that leaves the audio as it is (to mark a synthesis under other keys)."""

    name = "none"

    def embed(self, samples: np.ndarray, sample_rate: int, payload: int, *,
              start_sample: int = 0) -> np.ndarray:
        return np.asarray(samples, dtype=np.float32)


@pytest.fixture(scope="module")
def unmarked_first(voice: voxclone.VoiceProfile) -> Audio:
    """The first synthesis as the engine rendered it, before its watermark."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(voxclone.synthesis, "default_watermark", _Unmarked)
        return voxclone.synthesize(FIRST, voice)


def _payloads(marks: list[Detection]) -> list[int | None]:
    return [m.payload for m in marks]


def _joined(*parts: Audio | float) -> Audio:
    """The parts one after another; a number is that many seconds of silence."""
    return Audio(np.concatenate([np.zeros(round(p * RATE), np.float32)
                                 if isinstance(p, (int, float)) else p.samples
                                 for p in parts]), RATE)


def _sentence_gap(audio: Audio, frame_s: float = 0.01) -> int:
    """The sample in the middle of the longest silence in the middle half of ``audio``
    (between two sentences)."""
    frame = round(frame_s * audio.sample_rate)
    power = audio.samples[: len(audio.samples) // frame * frame].reshape(-1, frame).var(axis=1)
    quiet = power < power.max() * 1e-5
    best, run, at = 0, 0, 0
    for i, is_quiet in enumerate(quiet):
        run = run + 1 if is_quiet else 0
        if run > best and len(quiet) // 4 < i < 3 * len(quiet) // 4:
            best, at = run, i - run // 2
    assert best * frame_s > 0.2  # a pause between sentences was found
    return at * frame


def _paused(audio: Audio, at: int, seconds: float) -> Audio:
    """``audio`` with ``seconds`` of silence put in at sample ``at``."""
    return _joined(Audio(audio.samples[:at], RATE), seconds, Audio(audio.samples[at:], RATE))


def _payload_of(audio: Audio) -> int:
    found = voxclone.detect(audio)
    assert found.found and found.payload is not None
    return found.payload


def test_two_joined_syntheses_are_both_found_in_order(takes: tuple[Audio, Audio]) -> None:
    first, second = takes
    a, b = _payload_of(first), _payload_of(second)
    assert a != b
    marks = voxclone.detect_all(_joined(first, second))
    assert _payloads(marks) == [a, b]
    assert voxclone.detect(_joined(first, second)).payload in (a, b)  # one of them only
    one, two = marks
    assert one.found and two.found and not one.too_short
    assert one.start_s is not None and one.end_s is not None
    assert two.start_s is not None and two.end_s is not None
    assert one.start_s < SLACK
    assert one.end_s == pytest.approx(first.duration, abs=SLACK)
    assert two.start_s == pytest.approx(first.duration, abs=SLACK)
    assert two.end_s == pytest.approx(first.duration + second.duration, abs=SLACK)
    assert one.start_s < one.end_s <= two.end_s and one.start_s <= two.start_s < two.end_s
    for mark in marks:
        assert mark.speed == 1.0 and mark.false_positive_probability < 1e-9
    # the other order: reported by time, not by which mark is strongest
    assert _payloads(voxclone.detect_all(_joined(second, first))) == [b, a]


def test_a_gap_between_them_is_no_mark(takes: tuple[Audio, Audio],
                                       joe_reference: Audio) -> None:
    first, second = takes
    a, b = _payload_of(first), _payload_of(second)
    unmarked = joe_reference.resample(RATE)  # speech no watermark was put in
    for gap in ((2.0,), (1.0, unmarked, 1.0)):
        joined = _joined(first, *gap, second)
        marks = voxclone.detect_all(joined)
        assert _payloads(marks) == [a, b], gap
        one, two = marks
        assert one.end_s is not None and two.start_s is not None
        between = joined.duration - first.duration - second.duration
        assert one.end_s == pytest.approx(first.duration, abs=SLACK)
        assert two.start_s == pytest.approx(first.duration + between, abs=SLACK)


def test_the_same_synthesis_twice_with_other_audio_between(
        takes: tuple[Audio, Audio], joe_reference: Audio) -> None:
    """Far apart, the same payload is two marks; a pause inside one synthesis is not a
    second one."""
    first, _ = takes
    a = _payload_of(first)
    unmarked = joe_reference.resample(RATE)
    twice = voxclone.detect_all(_joined(first, unmarked, first))
    assert _payloads(twice) == [a, a]
    # 3 s of other speech: the marks' windows reach into it, leaving it shorter than
    # MERGE_GAP_S, yet it is sound, not a pause
    close = Audio(unmarked.samples[: 3 * RATE], RATE)
    assert _payloads(voxclone.detect_all(_joined(first, close, first))) == [a, a]
    # (windows stop short of a pause by up to a hop on either side: this key is the
    # session's, so the pause tests below try fixed keys)
    for pause in (1.0, 2.5):
        paused = _paused(first, len(first.samples) // 2, pause)
        assert _payloads(voxclone.detect_all(paused)) == [a], pause


#: Keys under which the pause tests mark the synthesis. When marks within MERGE_GAP_S
#: were joined whatever lay between them, of 16 keys tried 6 split a 3 s pause put
#: mid-sentence into two marks (key 4 here) and 14 joined two plays with 3 s of speech
#: between them into one (all here but key 1).
PAUSE_KEYS = tuple(b"joined-pause-key-%02d" % k for k in range(6))


def test_a_long_pause_inside_one_synthesis_is_one_mark(unmarked_first: Audio) -> None:
    """A pause of 2.5-3 s (``sentence_pause`` goes up to 3 s), between its sentences or
    mid-sentence, leaves one mark, under every key."""
    between, middle = _sentence_gap(unmarked_first), len(unmarked_first.samples) // 2
    for key in PAUSE_KEYS:
        mark = QimWatermark(key)
        marked = Audio(mark.embed(unmarked_first.samples, RATE, 0xC0FFEE), RATE)
        for at in (between, middle):
            for pause in (2.5, 3.0):
                found = mark.detect_all(_paused(marked, at, pause).samples, RATE)
                assert [m.payload for m in found] == [0xC0FFEE], (key, at, pause)
                assert found[0].start_s is not None and found[0].end_s is not None
                assert found[0].start_s < SLACK
                assert found[0].end_s > marked.duration + pause - SLACK


def test_plays_of_one_synthesis_with_speech_between_stay_two(unmarked_first: Audio,
                                                              joe_reference: Audio) -> None:
    """3-5 s of other speech between two plays of one synthesis: two marks, under every
    key, each where its play is."""
    other = joe_reference.resample(RATE).samples
    for key in PAUSE_KEYS:
        mark = QimWatermark(key)
        marked = mark.embed(unmarked_first.samples, RATE, 0xC0FFEE)
        for seconds in (3.0, 4.0, 5.0):
            joined = np.concatenate([marked, other[: round(seconds * RATE)], marked])
            found = mark.detect_all(joined, RATE)
            assert [m.payload for m in found] == [0xC0FFEE] * 2, (key, seconds)
            one, two = found
            assert one.end_s is not None and two.start_s is not None
            assert one.end_s == pytest.approx(unmarked_first.duration, abs=SLACK)
            assert two.start_s == pytest.approx(unmarked_first.duration + seconds, abs=SLACK)


def test_a_pause_in_noise_is_one_mark(unmarked_first: Audio) -> None:
    """Recorded with white noise at 30 dB, the pause is noise: not sound, still one mark
    (though the windows stop a hop short of it, more than ``MERGE_GAP_S`` apart)."""
    at = _sentence_gap(unmarked_first)
    rng = np.random.default_rng(0)
    for key in PAUSE_KEYS[:3]:
        mark = QimWatermark(key)
        marked = _paused(Audio(mark.embed(unmarked_first.samples, RATE, 0xC0FFEE), RATE),
                         at, 3.0).samples
        noise = rng.normal(0.0, 1.0, len(marked)) * np.sqrt(np.mean(marked ** 2) / 1e3)
        found = mark.detect_all((marked + noise).astype(np.float32), RATE)
        assert [m.payload for m in found] == [0xC0FFEE], key


def test_one_synthesis_is_one_mark(takes: tuple[Audio, Audio]) -> None:
    first, _ = takes
    found = voxclone.detect(first)
    marks = voxclone.detect_all(first)
    assert _payloads(marks) == [found.payload]
    assert marks[0].start_s is not None and marks[0].end_s is not None
    assert marks[0].start_s < SLACK and marks[0].end_s > first.duration - SLACK


def test_unmarked_audio_has_no_marks(joe_reference: Audio) -> None:
    rng = np.random.default_rng(0)
    clips = [
        joe_reference,  # speech from another synthesiser
        Audio(np.zeros(RATE * 8, dtype=np.float32), RATE),
        Audio(rng.normal(0, 0.1, RATE * 8).astype(np.float32), RATE),
        _joined(joe_reference.resample(RATE), 2.0, joe_reference.resample(RATE)),
    ]
    for clip in clips:
        assert voxclone.detect_all(clip) == []
    # too short to be sure: an empty list too (a caller compares the duration)
    short = Audio(rng.normal(0, 0.1, RATE).astype(np.float32), RATE)
    assert voxclone.detect_all(short) == [] and voxclone.detect(short).too_short


def test_a_mark_is_found_only_where_detect_finds_one(joe_reference: Audio,
                                                     joe_heldout: Audio) -> None:
    """Unmarked audio is flagged no more often than by ``detect``: the windows around
    a mark are searched only once the single-mark search has found one - and the
    marks found then are what that search found, with the stretches it left searched
    on their own (here under another installation's key, and at 8 kHz)."""
    mark = QimWatermark(b"joined-marks-key" * 2)
    other = QimWatermark(b"another-installation" * 2)
    speech = [joe_reference.resample(RATE).samples, joe_heldout.resample(RATE).samples]
    joined = np.concatenate([mark.embed(speech[0], RATE, 0xA11CE), np.zeros(RATE),
                             mark.embed(speech[1], RATE, 0xB0B)])
    assert [m.payload for m in mark.detect_all(joined, RATE)] == [0xA11CE, 0xB0B]
    phone = Audio(joined, RATE).resample(8000).samples
    assert [m.payload for m in mark.detect_all(phone, 8000)] == [0xA11CE, 0xB0B]
    assert other.detect_all(joined, RATE) == [] and not other.detect(joined, RATE).found
    for clip in speech:
        assert mark.detect_all(clip, RATE) == [] and not mark.detect(clip, RATE).found
    with pytest.raises(ValueError, match="8 kHz"):
        mark.detect_all(phone, 4000)
    with pytest.raises(ValueError, match="mono"):
        mark.detect_all(np.stack([joined, joined]), RATE)


def test_a_stretch_at_another_speed_is_searched_on_its_own(joe_reference: Audio,
                                                           joe_heldout: Audio) -> None:
    """The first search reads its windows at the speed where it found a mark; the
    stretch around them that none read is searched again, at every speed."""
    mark = QimWatermark(b"joined-marks-key" * 2)
    normal = mark.embed(joe_reference.resample(RATE).samples, RATE, 0xA11CE)
    faster = Audio(mark.embed(joe_heldout.resample(RATE).samples, RATE, 0xB0B),
                   RATE).resample(round(RATE / 1.03)).samples  # played 3 % fast
    for parts, payloads in (((normal, faster), [0xA11CE, 0xB0B]),
                            ((faster, normal), [0xB0B, 0xA11CE])):
        marks = mark.detect_all(np.concatenate([parts[0], np.zeros(RATE), parts[1]]), RATE)
        assert [m.payload for m in marks] == payloads
        speeds = {m.payload: m.speed for m in marks}
        assert speeds[0xA11CE] == 1.0 and speeds[0xB0B] == pytest.approx(1.03)
        assert marks[0].end_s is not None and marks[1].start_s is not None
        assert marks[0].end_s == pytest.approx(len(parts[0]) / RATE, abs=SLACK)
        assert marks[1].start_s == pytest.approx(len(parts[0]) / RATE + 1.0, abs=SLACK)


def test_one_audit_entry_names_every_payload(takes: tuple[Audio, Audio]) -> None:
    first, second = takes
    a, b = _payload_of(first), _payload_of(second)
    log = AuditLog()
    before = len(log.entries(event="detect"))
    voxclone.detect_all(_joined(first, 1.0, second))
    entries = log.entries(event="detect")
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.payload == a and entry.details["payloads"] == [a, b]
    assert entry.details["found"] is True and entry.details["seconds"] > 0
    voxclone.detect_all(Audio(np.zeros(RATE * 4, np.float32), RATE))
    nothing = log.entries(event="detect")[-1]
    assert nothing.payload is None and nothing.details["payloads"] == []
    assert nothing.details["found"] is False
    assert log.verify().ok
    assert main(["audit", "verify"]) == 0


def test_detect_cli_lists_every_mark(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     takes: tuple[Audio, Audio], joe_wav: Path) -> None:
    first, second = takes
    a, b = _payload_of(first), _payload_of(second)
    both = tmp_path / "both.flac"
    write_audio(_joined(first, 1.0, second), both)
    assert main(["detect", str(both), str(joe_wav)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3
    assert f"synthesis {a:08x}" in out[0] and "mark 1 of 2" in out[0]
    assert f"synthesis {b:08x}" in out[1] and "mark 2 of 2" in out[1]
    for line in out[:2]:
        assert line.startswith(f"{both}: watermarked - synthesis") and "voice 'joe'" in line
        assert "found at " in line
    assert "no voxclone watermark" in out[2]

    assert main(["detect", "--json", str(both)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["found"] is True and shown["too_short"] is False
    assert shown["payload"] == f"{a:08x}" and shown["synthesis"]["voice"] == "joe"
    assert [m["payload"] for m in shown["marks"]] == [f"{a:08x}", f"{b:08x}"]
    assert shown["start_s"] == shown["marks"][0]["start_s"]
    assert shown["marks"][1]["start_s"] > shown["marks"][0]["start_s"]
    assert all(m["synthesis"]["voice"] == "joe" for m in shown["marks"])
    assert {"false_positive_probability", "end_s", "speed"} <= set(shown["marks"][1])
    record = voxclone.find_synthesis(b)  # the record as the API gives it, who made it too
    assert record is not None and record.actor
    assert shown["marks"][1]["synthesis"] == {
        "voice": "joe", "created": record.created, "seconds": record.seconds,
        "text_sha256": record.text_sha256, "language": record.language,
        "actor": record.actor}

    short = tmp_path / "short.wav"
    write_audio(Audio(np.zeros(RATE, np.float32), RATE), short)
    assert main(["detect", "--json", str(short)]) == 1  # no mark (as grep: no match)
    nothing = json.loads(capsys.readouterr().out)
    assert nothing["found"] is False and nothing["marks"] == [] and nothing["too_short"]
    assert nothing["payload"] is None and nothing["false_positive_probability"] == 1.0
    assert main(["detect", str(short)]) == 1
    assert "too short to be sure" in capsys.readouterr().out
    assert main(["detect", str(tmp_path / "missing.wav"), str(both)]) == 2
    captured = capsys.readouterr()
    assert "does not exist" in captured.err and len(captured.out.splitlines()) == 2
