"""Consent verification with the real models: pocketsphinx, GE2E, Piper "joe" as the person.

Each test has its own voxclone home (conftest), so its own installation key and
challenges. The "different speaker" is espeak-ng (called directly) or a LibriSpeech
speaker from ../shared/speech.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import pickle
import random
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import voxclone
from bench.espeak_tts import espeak_speak
from voxclone.audio import Audio, load_audio, write_audio
from voxclone.cli import main
from voxclone.clone.profile import VoiceStore
from voxclone.consent import ChallengeStore, ConsentVerifier, default_recognizer
from voxclone.consent import challenge as challenge_module
from voxclone.consent.challenge import (
    AVOID_RECENT,
    PHRASE_WORDS,
    ChallengeRefused,
    check_challenge_id,
)
from voxclone.consent.phrase_check import MIN_ALIGNMENT_MARGIN, statement_words
from voxclone.consent.reading import PHRASE_THRESHOLD
from voxclone.consent.verify import MIN_STATEMENT_RECALL
from voxclone.consent.wordlist import CHALLENGE_WORDS
from voxclone.errors import (
    ChallengeError,
    ConsentMissingError,
    ConsentRecordError,
    PhraseNotHeardError,
    SpeakerMismatchError,
    SyntheticConsentError,
    VoiceNotFoundError,
    VoiceRevokedError,
    VoiceSealError,
)
from voxclone.keys import home_dir

from .conftest import CONSENT_ATTEMPTS, SPEECH_DIR, joe_consents, piper_speak, with_noise

pytest.importorskip("piper", reason="the person who consents is Piper's joe voice")

#: Seeds the challenge words of the noisy-room readings.
PHRASE_SEED = 4


def snapshot(directory: Path) -> dict[str, bytes]:
    if not directory.exists():
        return {}
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def heard_reading(tmp_path: Path, name: str = "joe") -> tuple[voxclone.Challenge, Path]:
    """A challenge and joe's reading of it that the recognizer hears, as a WAV file."""
    challenge, audio = joe_consents(name)
    path = tmp_path / f"consent-{challenge.id}.wav"
    write_audio(audio, path)
    return challenge, path


def read_aloud(challenge: voxclone.Challenge, tmp_path: Path) -> Path:
    """Joe reads the challenge (statement, then phrase) into a WAV file."""
    path = tmp_path / f"consent-{challenge.id}.wav"
    write_audio(piper_speak(challenge.text), path)
    return path


def other_words(challenge: voxclone.Challenge) -> list[str]:
    return [w for w in CHALLENGE_WORDS if w not in challenge.phrase][:PHRASE_WORDS]


# --------------------------------------------------------------------------- challenges


def test_challenge_names_the_speaker_and_draws_fresh_words() -> None:
    first, second = voxclone.challenge("ada"), voxclone.challenge("ada")
    assert first.statement == ("I, ada, agree that a synthetic copy of my voice may be "
                               "created with voxclone.")
    assert first.text.startswith(first.statement)
    assert len(set(first.phrase)) == PHRASE_WORDS
    assert set(first.phrase) <= set(CHALLENGE_WORDS)
    assert re.fullmatch(r"[0-9a-f]{12}", first.id) and first.id != second.id
    assert first.phrase != second.phrase or first.id != second.id
    assert 599 <= (first.expires - first.issued).total_seconds() <= 600


def test_word_list_is_recognisable() -> None:
    assert len(set(CHALLENGE_WORDS)) == len(CHALLENGE_WORDS) >= 100
    assert not set(CHALLENGE_WORDS) & set(statement_words())
    decoder = default_recognizer()._decoder
    missing = [w for w in CHALLENGE_WORDS if decoder.lookup_word(w) is None]
    assert missing == []


def _phone_distance(a: list[str], b: list[str]) -> float:
    """Phone edit distance over the longer word's length."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1] / max(len(a), len(b))


def test_challenge_words_do_not_sound_alike() -> None:
    # A look-alike (pocket/rocket) could fill a slot for the right word: none is close.
    decoder = default_recognizer()._decoder
    assert [w for w in CHALLENGE_WORDS if decoder.lookup_word(f"{w}(2)") is not None] == []
    phones = {w: decoder.lookup_word(w).split() for w in CHALLENGE_WORDS}
    closest = min((_phone_distance(phones[a], phones[b]), a, b)
                  for i, a in enumerate(CHALLENGE_WORDS) for b in CHALLENGE_WORDS[i + 1:])
    assert closest[0] >= 0.5, closest


def _fixed_challenge(name: str, phrase: str) -> voxclone.Challenge:
    now = datetime.now(timezone.utc)
    return voxclone.Challenge("0123456789ab", name, tuple(phrase.split()), now,
                              now + timedelta(minutes=10))


@pytest.mark.parametrize(("voice", "name", "phrase"), [
    ("en+m7", "ada", "mirror walrus giraffe banjo"),
    ("en-gb-x-rp+f4", "marcus", "yogurt planet jellyfish envelope"),
])
def test_phrase_is_heard_in_voices_the_recognizer_fits_poorly(voice: str, name: str,
                                                               phrase: str) -> None:
    # The US English model lost these espeak-ng voices' phrases to other words (the
    # open decode heard one or two of them); aligning the expected words still hears
    # them, and never the wrong ones.
    recognizer = default_recognizer()
    challenge = _fixed_challenge(name, phrase)
    right = recognizer.check(espeak_speak(challenge.text, voice), challenge)
    assert right.phrase_heard and right.statement_recall >= 0.5, right
    assert right.alignment_margin is not None, right  # heard through the alignment
    wrong = f"{challenge.statement} lobster pretzel volcano teapot."
    refused = recognizer.check(espeak_speak(wrong, voice), challenge)
    assert not refused.phrase_heard, refused
    assert refused.alignment_margin is None or refused.alignment_margin < MIN_ALIGNMENT_MARGIN


def test_a_word_heard_as_two_does_not_push_the_last_word_out() -> None:
    # espeak's f2 voice reading "bandana" is heard as two words; with exactly four
    # slots the last word, "accordion", had no slot left and the reading was refused.
    recognizer = default_recognizer()
    challenge = _fixed_challenge("olga", "tortoise bandana jaguar accordion")
    heard = recognizer.check(espeak_speak(challenge.text, "en-us+f2"), challenge)
    assert heard.phrase_heard, heard
    assert len(heard.transcript.split("voxclone")[-1].split()) == PHRASE_WORDS + 1, heard


@pytest.mark.parametrize(("voice", "said", "new"), [
    ("en-us", "necklace zebra strawberry blueberry", "fountain zebra teapot celery"),
    ("en-us+f2", "table astronaut octopus helicopter", "lighthouse volcano octopus feather"),
])
def test_replay_against_a_challenge_sharing_a_word_is_refused(voice: str, said: str,
                                                              new: str) -> None:
    # An old recording whose phrase shares a word, in place, with a new challenge: the
    # new phrase's other words must not be "heard" in it. (An earlier rule, comparing
    # the alignment with the open decode, accepted both.)
    recognizer = default_recognizer()
    old, fresh = _fixed_challenge("ada", said), _fixed_challenge("ada", new)
    recording = espeak_speak(old.text, voice)
    assert recognizer.check(recording, old).phrase_heard
    replay = recognizer.check(recording, fresh)
    assert not replay.phrase_heard, replay


def test_a_new_challenge_shares_no_word_with_the_names_recent_ones(tmp_path: Path) -> None:
    store = ChallengeStore(tmp_path / "challenges", key=b"k" * 32)
    issued = [store.issue("ada") for _ in range(AVOID_RECENT + 4)]
    store.claim(issued[3])  # used challenges count too
    for index, challenge in enumerate(issued):
        recent = {w for c in issued[max(0, index - AVOID_RECENT):index] for w in c.phrase}
        assert not recent & set(challenge.phrase), index
    # Another name draws from the whole list.
    others = {w for _ in range(8) for w in store.issue("bob").phrase}
    assert others & {w for c in issued[-AVOID_RECENT:] for w in c.phrase}


# --------------------------------------------------------------------------- accepted


def test_right_phrase_by_the_same_speaker_is_accepted_and_recorded(
    joe_reference: Audio, tmp_path: Path
) -> None:
    voices = tmp_path / "voices"
    challenge, consent = heard_reading(tmp_path)
    profile = voxclone.enroll("joe", joe_reference, consent=consent, challenge=challenge.id,
                              effort="stock", voices_dir=voices)
    record = voxclone.consent_record("joe", voices_dir=voices)
    assert record.decision == "verified" and record.waiver is None
    assert record.challenge_id == challenge.id and record.phrase == challenge.phrase
    assert record.statement == challenge.statement
    # the record keeps what recognition heard in the stored file (joe's reading may be
    # accepted with a word misheard, so the whole phrase need not be in it)
    heard = default_recognizer().check(load_audio(consent), challenge)
    assert record.phrase_heard and record.transcript == heard.transcript
    assert sum(word in heard.transcript.split() for word in challenge.phrase) >= 1
    assert record.speaker_cosine is not None and record.speaker_threshold is not None
    assert record.speaker_cosine >= record.speaker_threshold
    # the phrase's stretch was judged on its own too (voxclone.consent.reading)
    assert record.phrase_cosine is not None and record.phrase_cosine >= PHRASE_THRESHOLD
    assert record.synthetic_check == "passed"  # the watermark detector looked
    assert record.reference_sha256 == tuple(s.sha256 for s in profile.sources)
    assert record.consent_sha256 is not None and len(record.consent_sha256) == 64
    assert record.voxclone_version == voxclone.__version__
    stored = json.loads((voices / "joe.consent.json").read_text())
    assert stored["format"] == "voxclone.consent" and len(stored["hmac"]) == 64
    assert "embedding" not in stored


@pytest.mark.parametrize(("reference_snr", "consent_snr", "threshold"), [
    # Both with white noise at 15 dB: both d-vectors are compensated, and held to a
    # threshold raised for the noise in each (0.78 + 0.003 * (10 + 10) + 0.002 * 10).
    (15.0, 15.0, 0.86),
    # The common case: clean clips, the consent read on a laptop in a noisy room. As the
    # encoder hears them, noise on one side only sets the same speaker apart: joe's
    # readings at 17 dB measured 0.77-0.81 against a threshold of 0.83 before the
    # consent's d-vector was compensated (LibriSpeech at 20 dB: 62 % of genuine speakers
    # refused). Compensated, 12 readings of random phrases measured 0.800-0.864 against
    # 0.802-0.808 (one refused, as 6.5 % of LibriSpeech speakers are at 15 dB:
    # bench/results/consent_noise.md), so the phrase read here is fixed: 0.839, their median.
    (None, 17.0, 0.80),
], ids=["same noisy room", "clean reference, noisy consent"])
def test_consent_read_in_a_noisy_room_is_accepted(
    joe_reference: Audio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    reference_snr: float | None, consent_snr: float, threshold: float
) -> None:
    reference = joe_reference if reference_snr is None else with_noise(joe_reference,
                                                                       reference_snr, seed=1)
    # The speaker check's margin depends on the words read: the same draw every run.
    monkeypatch.setattr(challenge_module.secrets, "randbelow",
                        random.Random(PHRASE_SEED).randrange)
    challenge, consent = _noisy_reading(consent_snr)
    voices = tmp_path / "voices"
    # force: the gate's SNR estimate of joe at 15 dB falls either side of its 15 dB floor
    # from session to session (Piper's joe varies); this test is about the consent check.
    voxclone.enroll("joe", reference, consent=consent, challenge=challenge.id,
                    effort="stock", voices_dir=voices, force=True)
    record = voxclone.consent_record("joe", voices_dir=voices)
    assert record.decision == "verified"
    assert record.speaker_cosine is not None and record.speaker_threshold is not None
    assert record.speaker_cosine >= record.speaker_threshold
    assert record.speaker_threshold == pytest.approx(threshold, abs=0.015)


def _noisy_reading(snr_db: float) -> tuple[voxclone.Challenge, Audio]:
    """A challenge and joe's reading of it with white noise at ``snr_db``, heard by the
    recognizer (a fresh challenge, up to ``CONSENT_ATTEMPTS``, if it mishears)."""
    for _ in range(CONSENT_ATTEMPTS):
        challenge = voxclone.challenge("joe")
        consent = with_noise(piper_speak(challenge.text), snr_db, seed=2)
        heard = default_recognizer().check(consent, challenge)
        if heard.phrase_heard and heard.statement_recall >= MIN_STATEMENT_RECALL:
            break
    return challenge, consent


def test_noise_added_to_both_recordings_does_not_pass_a_stranger(joe_reference: Audio) -> None:
    # Noise pulls every voice's d-vector the same way. With white noise at 5 dB in both,
    # a LibriSpeech woman and joe measured 0.785 as the encoder hears them (0.54 clean):
    # a stranger who adds noise to a victim's clip and to their own consent reading
    # would pass the plain 0.78. Compensated, with the threshold raised for the noise
    # in both, they do not. Recognition fails at 5 dB, so this checks the speaker
    # decision itself, made as the verifier makes it.
    from voxclone.quality.analyse import analyse_clip
    from voxclone.speaker import default_encoder
    from voxclone.speaker.verify import SAME_SPEAKER_THRESHOLD, noisy_threshold, same_speaker

    encoder = default_encoder()
    stranger, joe = _librispeech_reference(), joe_reference
    clean = float(encoder.embed(stranger) @ encoder.embed(joe))
    noisy_stranger = analyse_clip(with_noise(stranger, 5.0, seed=1), "reference")
    noisy_joe = analyse_clip(with_noise(joe, 5.0, seed=2), "consent")
    assert noisy_stranger.clean is not None and noisy_joe.clean is not None
    assert noisy_stranger.signal is not None and noisy_joe.signal is not None
    assert noisy_stranger.embedding is not None and noisy_joe.embedding is not None
    heard = float(encoder.embed(noisy_stranger.clean) @ encoder.embed(noisy_joe.clean))
    assert heard > clean + 0.15 and heard > SAME_SPEAKER_THRESHOLD - 0.05  # the pull
    decision = same_speaker(noisy_stranger.embedding, noisy_joe.embedding,
                            noisy_threshold(noisy_stranger.signal.snr_db,
                                            noisy_joe.signal.snr_db))
    assert not decision.same


def test_the_speaker_threshold_rises_with_the_noise_on_either_side() -> None:
    from voxclone.speaker.verify import MAX_THRESHOLD, SAME_SPEAKER_THRESHOLD, noisy_threshold

    base = SAME_SPEAKER_THRESHOLD
    assert noisy_threshold(30.0, 40.0) == base == noisy_threshold(25.0, 25.0)
    assert noisy_threshold(20.0, 30.0) == pytest.approx(base + 0.015)
    assert noisy_threshold(30.0, 20.0) == noisy_threshold(20.0, 30.0)
    assert noisy_threshold(15.0, 15.0) == pytest.approx(base + 0.08)  # both noisy: more
    assert noisy_threshold(0.0, 5.0) == pytest.approx(MAX_THRESHOLD)
    assert noisy_threshold(float("-inf"), 30.0) == MAX_THRESHOLD
    assert noisy_threshold(30.0, float("nan")) == MAX_THRESHOLD
    assert noisy_threshold(float("inf"), 30.0) == base  # (verify's default: clean)
    assert noisy_threshold(10.0, 10.0, threshold=0.95) == 0.95  # never lowers a stricter one


# --------------------------------------------------------------------------- refusals


def test_missing_consent_is_refused_with_instructions(joe_reference: Audio,
                                                      tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    with pytest.raises(ConsentMissingError, match=r"voxclone challenge joe.*--consent FILE "
                                                  r"--challenge ID"):
        voxclone.enroll("joe", joe_reference, effort="stock", voices_dir=voices)
    with pytest.raises(ConsentMissingError, match="--challenge ID"):
        voxclone.enroll("joe", joe_reference, consent=joe_reference, effort="stock",
                        voices_dir=voices)
    assert not voices.exists()


def _refused(error: type[Exception], match: str, *, voices: Path, clips: Any,
             consent: Any, challenge: str | voxclone.Challenge, name: str = "joe") -> None:
    """Enrollment is refused with ``error`` and writes nothing to the voices folder."""
    before = snapshot(voices)
    with pytest.raises(error, match=match):
        voxclone.enroll(name, clips, consent=consent, challenge=challenge, effort="stock",
                        voices_dir=voices)
    assert snapshot(voices) == before


@pytest.mark.parametrize("spoken", ["wrong phrase", "statement only", "phrase only"])
def test_wrong_or_missing_phrase_is_refused(spoken: str, joe_reference: Audio,
                                            tmp_path: Path) -> None:
    challenge = voxclone.challenge("joe")
    text = {
        "wrong phrase": f"{challenge.statement} {', '.join(other_words(challenge))}.",
        "statement only": challenge.statement,
        "phrase only": challenge.phrase_text,
    }[spoken]
    expected = "statement was not heard" if spoken == "phrase only" else "was not heard"
    _refused(PhraseNotHeardError, expected, voices=tmp_path / "voices",
             clips=joe_reference, consent=piper_speak(text), challenge=challenge)
    # A refusal does not use the challenge up: the speaker can record it again.
    ChallengeStore().check(challenge.id, "joe")


def test_silence_is_refused(joe_reference: Audio, tmp_path: Path) -> None:
    challenge = voxclone.challenge("joe")
    silence = Audio(np.zeros(5 * 16_000, dtype=np.float32), 16_000)
    _refused(PhraseNotHeardError, "no usable speech", voices=tmp_path / "voices",
             clips=joe_reference, consent=silence, challenge=challenge)


def _espeak_reference() -> Audio:
    return espeak_speak("When the sunlight strikes raindrops in the air, they act as a "
                        "prism. My grandmother kept bees behind the orchard.", "en-us+f2")


def _librispeech_reference() -> Audio:
    flacs = sorted(SPEECH_DIR.glob("librispeech-clean/*.flac"))
    if not flacs:
        pytest.skip("shared LibriSpeech speech not available")
    # The first one the quality gate lets through (this test is about the consent check).
    return load_audio(str(next(f for f in flacs if not voxclone.check(f).refused)))


@pytest.mark.parametrize("reference", [_espeak_reference, _librispeech_reference],
                         ids=["espeak", "librispeech"])
def test_different_speaker_is_refused(reference: Any, tmp_path: Path) -> None:
    challenge, consent = heard_reading(tmp_path)  # joe reads it right; the clips are not joe
    _refused(SpeakerMismatchError, "not the same speaker", voices=tmp_path / "voices",
             clips=reference(), consent=consent, challenge=challenge)


def test_a_refusal_in_a_noisy_room_says_which_recording_is_noisy(tmp_path: Path) -> None:
    # Someone else's clean clips, joe's reading at 17 dB: refused, under a threshold
    # raised for the consent's noise, and told where the noise is and what to do.
    challenge, consent = _noisy_reading(17.0)
    _refused(SpeakerMismatchError,
             r"not the same speaker .*the consent recording \(signal-to-noise 1\d dB\) is "
             r"noisy, .*record the consent somewhere quiet",
             voices=tmp_path / "voices", clips=_espeak_reference(), consent=consent,
             challenge=challenge)


def test_expired_challenge_is_refused(joe_reference: Audio, tmp_path: Path) -> None:
    challenge = voxclone.challenge("joe", valid_for=0.5)
    consent = read_aloud(challenge, tmp_path)
    time.sleep(max(0.0, (challenge.expires.timestamp() - time.time())) + 0.05)
    _refused(ChallengeError, f"challenge {challenge.id} expired", voices=tmp_path / "voices",
             clips=joe_reference, consent=consent, challenge=challenge.id)


def test_replayed_consent_is_refused(joe_reference: Audio, tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    challenge, consent = heard_reading(tmp_path)
    voxclone.enroll("joe", joe_reference, consent=consent, challenge=challenge,
                    effort="stock", voices_dir=voices)
    # The same recording and challenge again (e.g. to re-create a revoked voice).
    voxclone.revoke("joe", voices_dir=voices)
    _refused(ChallengeError, "already been used", voices=voices, clips=joe_reference,
             consent=consent, challenge=challenge.id)
    # The old recording against a fresh challenge: its phrase is not the new one.
    fresh = voxclone.challenge("joe")
    _refused(PhraseNotHeardError, "was not heard", voices=voices, clips=joe_reference,
             consent=consent, challenge=fresh.id)


def test_challenge_for_another_name_is_refused(joe_reference: Audio, tmp_path: Path) -> None:
    challenge = voxclone.challenge("ada")
    _refused(ChallengeError, "issued for the voice 'ada', not 'joe'",
             voices=tmp_path / "voices", clips=joe_reference,
             consent=read_aloud(challenge, tmp_path), challenge=challenge.id)


@pytest.mark.parametrize(("challenge_id", "message"), [
    ("0123456789ab", "unknown to this installation"),
    ("../../secret", "not a challenge id"),
])
def test_unknown_or_malformed_challenge_is_refused(challenge_id: str, message: str,
                                                   joe_reference: Audio,
                                                   tmp_path: Path) -> None:
    _refused(ChallengeError, message, voices=tmp_path / "voices", clips=joe_reference,
             consent=joe_reference, challenge=challenge_id)


def test_a_refused_challenge_keeps_its_parts_for_other_front_ends(tmp_path: Path) -> None:
    """The server words a refusal its own way: the problem, without the local path or
    the command to run, and the voice a new challenge is for."""
    store = ChallengeStore(tmp_path / "consent" / "challenges", key=b"k" * 32)
    with pytest.raises(ChallengeRefused) as unknown:
        store.check("0123456789ab", "joe")
    error = unknown.value
    assert isinstance(error, ChallengeError) and error.name == "joe"
    assert error.problem == "challenge 0123456789ab is unknown to this installation"
    assert str(tmp_path) in error.local and str(tmp_path) not in error.problem
    assert str(error).startswith(error.problem + error.local + "; run `voxclone challenge joe`")
    assert str(pickle.loads(pickle.dumps(error))) == str(error)  # (worker processes)
    with pytest.raises(ChallengeRefused, match="not a challenge id") as malformed:
        check_challenge_id("deadbeef")
    assert malformed.value.name is None
    assert "`voxclone challenge NAME`" in str(malformed.value)
    assert "voxclone" not in malformed.value.problem


def test_synthetic_consent_is_refused_by_the_hook(joe_reference: Audio) -> None:
    """The watermark detector plugs in as ``synthetic_check``; its verdict is obeyed."""
    challenge = voxclone.challenge("joe")
    consent = piper_speak(challenge.text)
    reference = voxclone.embed(joe_reference)
    seen: list[Audio] = []

    def watermarked(audio: Audio) -> bool:
        seen.append(audio)
        return True

    verifier = ConsentVerifier(synthetic_check=watermarked)
    with pytest.raises(SyntheticConsentError, match="synthetic speech"):
        verifier.verify("joe", challenge, consent, reference, consent_sha256="0" * 64)
    assert seen == [consent]
    passed = ConsentVerifier(synthetic_check=lambda audio: False).verify(
        "joe", challenge, consent, reference, consent_sha256="0" * 64)
    assert passed.synthetic_check == "passed"


# --------------------------------------------------------------------------- records


def test_edited_consent_record_is_detected(joe_reference: Audio, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    voices = tmp_path / "voices"
    voxclone.enroll("joe", joe_reference, i_am_the_speaker=True, effort="stock",
                    voices_dir=voices)
    path = voices / "joe.consent.json"
    data = json.loads(path.read_text())
    data["decision"] = "verified"  # someone upgrades a waiver to a verified consent
    path.write_text(json.dumps(data))
    with pytest.raises(ConsentRecordError, match="fails its signature check"):
        voxclone.consent_record("joe", voices_dir=voices)
    assert main(["consent", "show", "joe", "--voices-dir", str(voices)]) == 2
    assert "fails its signature check" in capsys.readouterr().err


def test_edited_challenge_is_detected(joe_reference: Audio) -> None:
    challenge = voxclone.challenge("joe", valid_for=1)
    path = ChallengeStore().directory / f"{challenge.id}.pending.json"
    data = json.loads(path.read_text())
    data["expires"] = "2999-01-01T00:00:00+00:00"
    path.write_text(json.dumps(data))
    with pytest.raises(ConsentRecordError, match="fails its signature check"):
        ChallengeStore().check(challenge.id, "joe")


def test_forced_enrollment_is_logged_and_recorded(joe_reference: Audio, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    voices = tmp_path / "voices"
    with caplog.at_level(logging.WARNING, logger="voxclone"):
        voxclone.enroll("me", joe_reference, i_am_the_speaker=True, effort="stock",
                        voices_dir=voices)
    assert any(r.levelno == logging.WARNING and "WITHOUT a consent recording" in r.message
               for r in caplog.records)
    record = voxclone.consent_record("me", voices_dir=voices)
    assert record.decision == "waived" and "i_am_the_speaker" in (record.waiver or "")
    assert record.challenge_id is None and record.consent_sha256 is None
    with pytest.raises(ValueError, match="not both"):
        voxclone.enroll("me2", joe_reference, consent=joe_reference, challenge="0" * 12,
                        i_am_the_speaker=True, effort="stock", voices_dir=voices)


def test_revocation_leaves_no_embedding_behind(joe_reference: Audio, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    home = home_dir()
    challenge, consent = heard_reading(tmp_path)
    profile = voxclone.enroll("joe", joe_reference, consent=consent,
                              challenge=challenge, effort="stock")  # default voices dir
    voices = home / "voices"
    old_consent = (voices / "joe.consent.json").read_bytes()
    pending = voxclone.challenge("joe")  # an unused challenge is discarded too

    assert main(["revoke", "joe"]) == 0
    assert "revoked voice 'joe'" in capsys.readouterr().err

    # No file anywhere under the home holds the embedding (as stored: 7 decimals). The
    # needles are its 8 largest values: zeros ("0.0") would match any file with numbers.
    largest = np.sort(profile.embedding)[-8:]
    needles = [repr(round(float(x), 7)).encode() for x in largest]
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"embedding" not in data, path
            assert sum(n in data for n in needles) < 3, path
    assert not list(home.rglob("*.voice.json"))
    with pytest.raises(VoiceNotFoundError):
        voxclone.load_voice("joe")
    with pytest.raises(ConsentRecordError, match="no consent record"):
        voxclone.consent_record("joe")
    with pytest.raises(ChallengeError, match="unknown"):
        ChallengeStore().check(pending.id, "joe")

    (revocation,) = voxclone.revocations("joe")
    assert revocation.name == "joe"
    assert revocation.consent_record_sha256 == hashlib.sha256(old_consent).hexdigest()
    with pytest.raises(VoiceNotFoundError, match="nothing to revoke"):
        voxclone.revoke("joe")


def test_edited_revocation_record_is_detected(joe_reference: Audio, tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    voxclone.enroll("joe", joe_reference, i_am_the_speaker=True, effort="stock",
                    voices_dir=voices)
    voxclone.revoke("joe", voices_dir=voices)
    (path,) = (voices / "revoked").glob("joe.*.revocation.json")
    data = json.loads(path.read_text())
    data["revoked"] = "2020-01-01T00:00:00+00:00"
    path.write_text(json.dumps(data))
    with pytest.raises(ConsentRecordError, match="fails its signature check"):
        voxclone.revocations("joe", voices_dir=voices)


def test_only_a_voice_with_its_own_consent_record_speaks(
    joe_reference: Audio, joe_heldout: Audio, tmp_path: Path
) -> None:
    voices = tmp_path / "voices"
    store = VoiceStore(voices)
    joe = voxclone.enroll("joe", joe_reference, i_am_the_speaker=True, effort="stock",
                          voices_dir=voices)
    voxclone.enroll("ann", joe_heldout, i_am_the_speaker=True, effort="stock",
                    voices_dir=voices)
    # Another voice's profile under joe's name (its checksum made again, as anyone can):
    # its seal is over ann's content, and joe's consent record is for other recordings -
    # also with the seal dropped, as a profile from before seals would be.
    swapped = dataclasses.replace(store.load("ann"), name="joe")
    store.save(swapped, overwrite=True)
    with pytest.raises(VoiceSealError, match="'joe' fails its seal"):
        voxclone.synthesize("Hello.", "joe", voices_dir=voices)
    store.save(dataclasses.replace(swapped, seal=None), overwrite=True)
    for use in (lambda: voxclone.synthesize("Hello.", "joe", voices_dir=voices),
                lambda: voxclone.consent_record("joe", voices_dir=voices)):
        with pytest.raises(ConsentRecordError, match="made for other recordings than its "
                                                     "voice profile"):
            use()
    # A voice whose consent record is gone.
    (voices / "ann.consent.json").unlink()
    with pytest.raises(ConsentRecordError, match="no consent record for 'ann'"):
        voxclone.synthesize("Hello.", "ann", voices_dir=voices)
    # A profile held in memory when its voice is revoked.
    store.save(joe, overwrite=True)
    assert voxclone.synthesize("Hello.", "joe", voices_dir=voices).duration > 0.3
    voxclone.revoke("joe", voices_dir=voices)
    with pytest.raises(VoiceRevokedError, match="'joe' was revoked at"):
        voxclone.synthesize("Hello.", joe, voices_dir=voices)
    with pytest.raises(VoiceRevokedError):
        next(voxclone.synthesize_stream("Hello.", joe, voices_dir=voices))
    again = voxclone.enroll("joe", joe_reference, i_am_the_speaker=True, effort="stock",
                            voices_dir=voices)  # enrolled anew: it speaks
    assert voxclone.synthesize("Hello.", again, voices_dir=voices).duration > 0.3


# --------------------------------------------------------------------------- CLI


def test_cli_consent_flow(joe_reference: Audio, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    voices, clip = tmp_path / "voices", tmp_path / "joe.wav"
    write_audio(joe_reference, clip)
    assert main(["enroll", "joe", str(clip), "--effort", "stock", "-q",
                 "--voices-dir", str(voices)]) == 2
    assert "voxclone challenge joe" in capsys.readouterr().err

    assert main(["challenge", "joe"]) == 0
    printed = capsys.readouterr().out
    found = re.search(r"challenge id: ([0-9a-f]{12})", printed)
    assert found is not None
    challenge_id = found.group(1)
    pending = ChallengeStore().check(challenge_id, "joe")
    assert pending.statement in printed and pending.phrase_text in printed

    consent = read_aloud(pending, tmp_path)
    assert main(["enroll", "joe", str(clip), "--consent", str(consent), "--challenge",
                 challenge_id, "--effort", "stock", "-q", "--voices-dir", str(voices)]) == 0
    assert main(["consent", "show", "joe", "--voices-dir", str(voices)]) == 0
    shown = capsys.readouterr().out
    assert "decision:" in shown and "verified" in shown and challenge_id in shown
    assert "signature:" in shown and "valid" in shown
    # the record names the sealed profile made under it
    profile = VoiceStore(voices).load("joe")
    assert f"profile sha256: {profile.content_digest()}" in " ".join(shown.split())


def test_voxclone_output_cannot_give_consent(joe_reference: Audio, tmp_path: Path) -> None:
    """A clone reading the challenge carries the watermark and is refused, before ASR."""
    clone = voxclone.enroll("joe", joe_reference, i_am_the_speaker=True, effort="stock",
                            save=False)
    challenge = voxclone.challenge("joe")
    fake = voxclone.synthesize(challenge.text, clone)
    voices = tmp_path / "voices"
    with pytest.raises(SyntheticConsentError, match="watermark"):
        voxclone.enroll("joe", joe_reference, consent=fake, challenge=challenge,
                        effort="stock", voices_dir=voices)
    assert not voices.exists()
