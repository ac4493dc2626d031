"""Speaking a text while it is still being written: ``synthesize_stream`` given the
text's pieces as they arrive (a language model's tokens), one synthesis for the whole."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import voxclone
from voxclone import pipeline
from voxclone.audio import Audio
from voxclone.audio.pauses import sound_span
from voxclone.audit import AuditLog
from voxclone.errors import TextError, VoiceNotFoundError, VoiceRevokedError
from voxclone.provenance import text_digest

REPLY = ("Sure, here is what I found. The station opens at six in the morning. "
         "Trains leave every ten minutes until midnight.")


@pytest.fixture(scope="module")
def voice(joe_reference: Audio) -> voxclone.VoiceProfile:
    return voxclone.enroll("joe", joe_reference, effort="fast", save=False,
                           i_am_the_speaker=True)


class Writer:
    """A text handed out word by word, counting how many words were asked for."""

    def __init__(self, text: str) -> None:
        self.words = [w + " " for w in text.split(" ")]
        self.asked = 0

    def __iter__(self) -> Iterator[str]:
        for word in self.words:
            self.asked += 1
            yield word

    @property
    def text(self) -> str:
        return "".join(self.words)


def _joined(chunks: list[Audio]) -> Audio:
    return Audio(np.concatenate([c.samples for c in chunks]), chunks[0].sample_rate)


def test_each_sentence_is_heard_before_the_rest_is_written(
        voice: voxclone.VoiceProfile) -> None:
    writer = Writer(REPLY)
    asked_at_chunk = [writer.asked for _ in voxclone.synthesize_stream(writer, voice)]
    first_sentence = 6  # "Sure, here is what I found."
    # the first sentence is spoken once the word after it shows it ended, not later
    assert asked_at_chunk[0] <= first_sentence + 1
    assert asked_at_chunk[0] < len(writer.words) // 2
    assert asked_at_chunk[-1] == len(writer.words)


def test_a_text_streamed_in_is_one_synthesis_recorded_at_its_end(
        voice: voxclone.VoiceProfile) -> None:
    writer = Writer(REPLY)
    chunks = list(voxclone.synthesize_stream(writer, voice))
    started, ended = AuditLog().entries()[-2:]
    assert (started.event, ended.event) == ("synthesis", "stream-end")
    assert started.details["text_sha256"] == ""  # written before the text had arrived
    joined = _joined(chunks)
    found = voxclone.detect(joined)
    assert found.found and found.payload == started.payload == ended.payload
    record = voxclone.find_synthesis(started.payload)
    assert record is not None and record.streamed
    assert record.text_sha256 == text_digest(writer.text)  # the pieces as given
    assert record.language == "en-us"
    assert record.seconds == pytest.approx(joined.duration, abs=1e-3)
    assert ended.details["characters"] == len(writer.text) and ended.details["complete"]


def test_streamed_in_or_given_whole_the_speech_is_the_same(
        voice: voxclone.VoiceProfile) -> None:
    arrived = list(voxclone.synthesize_stream(Writer(REPLY), voice))
    given = list(voxclone.synthesize_stream(REPLY, voice))
    # the same pieces; the last one's silence comes as a piece of its own once the
    # text has ended
    assert len(arrived) == len(given) + 1
    for a, g in zip(arrived[:-2], given[:-1], strict=True):
        assert a.duration == pytest.approx(g.duration, abs=0.002)
    assert _joined(arrived).duration == pytest.approx(_joined(given).duration, abs=0.002)
    for audio in (_joined(arrived), _joined(given)):  # the end's silence, in full
        span = sound_span(audio.samples, audio.sample_rate)
        assert span is not None
        assert (len(audio.samples) - span[1]) / audio.sample_rate > 0.5


def test_sentences_with_nothing_to_say_are_skipped(voice: voxclone.VoiceProfile) -> None:
    chunks = list(voxclone.synthesize_stream(iter(["... ", "\n", "Hello there.\n", "!!\n"]),
                                             voice))
    assert sum(c.duration for c in chunks) > 0.5
    with pytest.raises(TextError, match="nothing to pronounce"):
        list(voxclone.synthesize_stream(iter(["...", "\n", " "]), voice))
    ended = AuditLog().entries()[-1]
    assert ended.event == "stream-end" and not ended.details["complete"]


def test_bad_pieces_and_voices_are_named(voice: voxclone.VoiceProfile) -> None:
    with pytest.raises(TextError, match="string or an iterable of strings"):
        voxclone.synthesize_stream(b"Hello.", voice)  # type: ignore[arg-type]
    stream = voxclone.synthesize_stream(iter(["Hello there. ", b"bytes"]), voice)
    with pytest.raises(TextError, match="decode bytes first"):
        list(stream)
    ended = AuditLog().entries()[-1]
    assert ended.event == "stream-end" and not ended.details["complete"]
    writer = Writer(REPLY)
    with pytest.raises(VoiceNotFoundError):
        voxclone.synthesize_stream(writer, "nobody")
    assert writer.asked == 0  # refused before any text was read


def test_a_stream_closed_early_records_the_text_it_had(
        voice: voxclone.VoiceProfile) -> None:
    writer = Writer(REPLY)
    stream = voxclone.synthesize_stream(writer, voice)
    first = next(stream)
    stream.close()  # type: ignore[attr-defined]
    gc.collect()
    ended = AuditLog().entries()[-1]
    assert ended.event == "stream-end" and not ended.details["complete"]
    assert ended.details["seconds"] == pytest.approx(first.duration, abs=1e-3)
    had = "".join(writer.words[:writer.asked])
    assert ended.details["text_sha256"] == text_digest(had)
    assert writer.asked < len(writer.words)


LINES = ["Could you pick up some bread and milk on your way home from the station?\n",
         "The shop by the bridge stays open until nine on a Saturday evening.\n"]


@pytest.mark.parametrize(("listening", "chunks"), [(False, 3), (True, 4)])
def test_a_sentence_that_comes_when_the_audio_runs_out_starts_with_a_lead_in(
        voice: voxclone.VoiceProfile, monkeypatch: pytest.MonkeyPatch, listening: bool,
        chunks: int) -> None:
    """A listener who has heard everything (a chat, line by line) gets the next line's
    first words as soon as they are rendered; one who has audio left gets it whole."""
    clock = [1000.0]
    monkeypatch.setattr(pipeline.time, "monotonic", lambda: clock[0])
    got = []
    for chunk in voxclone.synthesize_stream(iter(LINES), voice):
        got.append(chunk)
        if listening:
            clock[0] += chunk.duration  # heard in real time before asking for more
    # the first line always starts with a lead-in; the end's silence comes on its own
    assert len(got) == chunks + 1
    assert got[0].duration < 0.5 * got[1].duration
    if listening:
        assert got[2].duration < 0.5 * got[3].duration


@pytest.mark.parametrize("by_name", [True, False])
def test_a_voice_revoked_while_text_arrives_stops_at_the_next_sentence(
        joe_reference: Audio, tmp_path: Path, by_name: bool) -> None:
    voices = tmp_path / "voices"
    profile = voxclone.enroll("joe", joe_reference, i_am_the_speaker=True, effort="stock",
                              voices_dir=voices)

    def lines() -> Iterator[str]:
        yield LINES[0]
        voxclone.revoke("joe", voices_dir=voices)  # while the reply is being written
        yield LINES[1]

    stream = voxclone.synthesize_stream(lines(), "joe" if by_name else profile,
                                        voices_dir=voices)
    first = next(stream)
    # by name: the stored voice is gone; a profile kept in memory: its seal is revoked
    with pytest.raises(VoiceNotFoundError if by_name else VoiceRevokedError):
        list(stream)
    ended = AuditLog().entries()[-1]
    assert ended.event == "stream-end" and not ended.details["complete"]
    assert ended.details["seconds"] >= first.duration
