"""Verify a consent recording: fresh challenge, not synthetic, the phrase, the same speaker.

:class:`ConsentVerifier` runs the checks cheapest first and raises the first that
fails, as a :class:`~voxclone.errors.ConsentError` subclass whose message says what to
do. It writes nothing: the caller claims the challenge (:meth:`ChallengeStore.claim`)
once it acts on the verdict.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from voxclone.audio import Audio
from voxclone.consent.challenge import Challenge, ChallengeStore, check_challenge_id
from voxclone.consent.consent_speech import consent_embedding, consent_speech
from voxclone.consent.phrase_check import PhraseChecker, default_recognizer
from voxclone.consent.reading import (
    MAX_UNREAD_S,
    PHRASE_THRESHOLD,
    Reading,
    ReferenceClip,
    cropped,
    find_reading,
    joined,
    phrase_spans,
)
from voxclone.consent.record import VERIFIED, ConsentRecord
from voxclone.errors import (
    ConsentMissingError,
    NoSpeechError,
    PhraseNotHeardError,
    SpeakerMismatchError,
    SyntheticConsentError,
    UnreadSpeechError,
)
from voxclone.speaker import SpeakerEncoder, default_encoder
from voxclone.speaker.verify import (
    CLEAN_SNR_DB,
    SAME_SPEAKER_THRESHOLD,
    SpeakerDecision,
    noisy_threshold,
    same_speaker,
)

logger = logging.getLogger(__name__)

#: ``synthetic_check(audio)`` returns True when ``audio`` is synthetic speech (e.g. it
#: carries voxclone's watermark).
SyntheticCheck = Callable[[Audio], bool]

#: The recording must contain at least this share of the statement's words, in order.
MIN_STATEMENT_RECALL = 0.5

#: ``ConsentRecord.synthetic_check`` values.
SYNTHETIC_PASSED = "passed"
SYNTHETIC_UNAVAILABLE = "not available"


@dataclass(frozen=True)
class ConsentVerification:
    """A consent recording that passed every check, with the evidence (cosines of the
    whole reading and of the phrase's stretch, the reading's threshold, the consent
    recording's estimated SNR in dB)."""

    challenge: Challenge
    consent_sha256: str
    transcript: str
    statement_recall: float
    speaker_cosine: float
    speaker_threshold: float
    synthetic_check: str
    phrase_cosine: float | None = None
    consent_snr_db: float | None = None

    def record(self, reference_sha256: Sequence[str]) -> ConsentRecord:
        """The consent record of this verification for a voice made from those clips."""
        return ConsentRecord(
            name=self.challenge.name, decision=VERIFIED,
            reference_sha256=tuple(reference_sha256), challenge_id=self.challenge.id,
            statement=self.challenge.statement, phrase=self.challenge.phrase,
            consent_sha256=self.consent_sha256, transcript=self.transcript,
            phrase_heard=True, statement_recall=round(self.statement_recall, 4),
            speaker_cosine=round(self.speaker_cosine, 4),
            speaker_threshold=self.speaker_threshold, synthetic_check=self.synthetic_check,
            phrase_cosine=(None if self.phrase_cosine is None
                           else round(self.phrase_cosine, 4)),
        )


def _record_again(challenge: Challenge) -> str:
    # (worded for every front end: the CLI's --challenge, Python's challenge=, HTTP's field)
    return (f"record yourself reading, in one take, clearly and in a quiet room: "
            f"\"{challenge.text}\" - and send that recording again with challenge "
            f"{challenge.id}")


def _consent_help(name: str) -> str:
    return (f"run `voxclone challenge {name}` (Python: voxclone.challenge({name!r})), record "
            "the speaker reading it, then pass --consent FILE --challenge ID "
            "(consent=..., challenge=...)")


def check_consent_args(name: str, consent: object | None, challenge: str | Challenge | None,
                       *, i_am_the_speaker: bool) -> None:
    """Check that enrollment got consent and its challenge, or the waiver (not both).

    Raises:
        ConsentMissingError: no consent recording, or no challenge for it.
        ValueError: both a consent recording and ``i_am_the_speaker``.
    """
    if not isinstance(i_am_the_speaker, bool):  # "no" must not waive consent
        raise TypeError(f"i_am_the_speaker must be True or False, got {i_am_the_speaker!r}")
    if i_am_the_speaker:
        if consent is not None or challenge is not None:
            raise ValueError("give either a consent recording and its challenge, or "
                             "i_am_the_speaker=True (--i-am-the-speaker), not both")
        return
    if consent is None:
        raise ConsentMissingError(
            f"enrolling {name!r} needs the speaker's recorded consent: {_consent_help(name)}. "
            "Only for recordings of your own voice: --i-am-the-speaker "
            "(i_am_the_speaker=True) skips this and is logged"
        )
    if challenge is None:
        raise ConsentMissingError(
            f"the consent recording for {name!r} needs the id of the challenge it reads: "
            f"pass --challenge ID (challenge=...); {_consent_help(name)}"
        )


class ConsentVerifier:
    """Checks consent recordings against challenges and reference speech.

    Args:
        challenges: where challenges were issued (default: this installation's).
        recognizer: the speech recognizer (default: shared pocketsphinx).
        encoder: the speaker encoder (default: shared GE2E).
        synthetic_check: detector of synthetic speech (voxclone's watermark and
            fingerprints); None
            skips that check and records it as ``"not available"``.
        threshold: same-speaker cosine threshold for a clean consent recording; it
            rises for a noisy one (:func:`voxclone.speaker.verify.noisy_threshold`).
        phrase_threshold: the same for the phrase's stretch on its own
            (:mod:`voxclone.consent.reading`).
    """

    def __init__(self, challenges: ChallengeStore | None = None, *,
                 recognizer: PhraseChecker | None = None,
                 encoder: SpeakerEncoder | None = None,
                 synthetic_check: SyntheticCheck | None = None,
                 threshold: float = SAME_SPEAKER_THRESHOLD,
                 phrase_threshold: float = PHRASE_THRESHOLD) -> None:
        self.challenges = challenges or ChallengeStore()
        self._recognizer = recognizer
        self._encoder = encoder
        self.synthetic_check = synthetic_check
        self.threshold = threshold
        self.phrase_threshold = phrase_threshold

    def check_challenge(self, name: str, challenge: str | Challenge) -> Challenge:
        """The stored challenge, if usable now for ``name`` (see ChallengeStore.check)."""
        challenge_id = challenge.id if isinstance(challenge, Challenge) else challenge
        return self.challenges.check(check_challenge_id(challenge_id), name)

    def verify(self, name: str, challenge: str | Challenge, consent: Audio,
               reference: np.ndarray, *, consent_sha256: str,
               reference_snr_db: float = float("inf"),
               clips: Sequence[ReferenceClip] = ()) -> ConsentVerification:
        """Verify that ``consent`` is ``name`` reading ``challenge``, live, in the voice
        whose reference embedding is ``reference``.

        ``reference`` is the reference speech's unit d-vector ``(256,)``,
        noise-compensated as enrollment makes it
        (:func:`voxclone.speaker.noise_compensation.compensate_noise`), and
        ``reference_snr_db`` the lowest estimated SNR of its clips (default: clean).
        The consent recording's d-vector is compensated for its own noise, and the
        threshold rises with the noise in either
        (:func:`voxclone.speaker.verify.noisy_threshold`).

        Only the voice that reads is judged: the speaker check embeds the stretch of
        the recording that the recognizer aligned to the statement and phrase, and a
        recording with more than ``MAX_UNREAD_S`` of speech outside it is refused
        (:mod:`voxclone.consent.reading`). The phrase's stretch must match on its own
        too (``phrase_threshold``), so another voice mixed under the statement cannot
        carry a stranger's reading. The consent speaker must also match each of
        ``clips`` (the reference clips one by one, and both parts of a clip found to
        hold two voices), each under a threshold raised for its own noise.

        Raises:
            ChallengeError: unknown, used, expired, or another name's challenge.
            ConsentRecordError: the stored challenge was edited.
            SyntheticConsentError: the recording is synthetic (watermarked, or
                matching a synthesis's fingerprint).
            PhraseNotHeardError: no speech, or the phrase or statement was not heard.
            UnreadSpeechError: the recording holds other speech besides the reading.
            SpeakerMismatchError: the consent speaker (of the whole reading, or of the
                phrase) is not the reference speaker, or does not match one of
                ``clips`` (or a part of one).
        """
        issued = self.check_challenge(name, challenge)
        synthetic = SYNTHETIC_UNAVAILABLE
        if self.synthetic_check is not None:
            if self.synthetic_check(consent):
                raise SyntheticConsentError(
                    "the consent recording is synthetic speech (it carries voxclone's "
                    "watermark, or matches one of its syntheses): consent must be spoken "
                    "by the person themself; "
                    + _record_again(issued)
                )
            synthetic = SYNTHETIC_PASSED
        try:
            speech = consent_speech(consent)
        except NoSpeechError as exc:
            raise PhraseNotHeardError(
                f"the consent recording holds no usable speech ({exc}); "
                + _record_again(issued)
            ) from exc

        heard = (self._recognizer or default_recognizer()).check(consent, issued)
        # The statement first: a reading without it loses the phrase to its slots too.
        if heard.statement_recall < MIN_STATEMENT_RECALL:
            raise PhraseNotHeardError(
                f"the consent statement was not heard in the recording (only "
                f"{heard.statement_recall:.0%} of its words; heard: \"{heard.transcript}\"); "
                + _record_again(issued)
            )
        if not heard.phrase_heard:
            raise PhraseNotHeardError(
                f"the challenge phrase \"{issued.phrase_text}\" was not heard in the consent "
                f"recording (speech recognition heard: \"{heard.transcript}\"); "
                + _record_again(issued)
            )

        # Only the voice that reads counts: speech before or after the reading (the
        # victim's own clip joined to a stranger's reading) is refused, never embedded.
        reading = find_reading(speech.segments, heard.words, consent.duration)
        if reading.unread_seconds > MAX_UNREAD_S:
            raise UnreadSpeechError(_unread_message(reading, issued))
        if not reading.whole:
            try:
                speech = consent_speech(cropped(consent, reading))
            except NoSpeechError as exc:  # (a reading too short to judge the voice of)
                raise UnreadSpeechError(_unread_message(reading, issued)) from exc
        encoder = self._encoder or default_encoder()
        embedding = consent_embedding(speech, encoder)
        # Noise makes different voices sound alike to the encoder: noisy recordings
        # must match more closely (else noise added on purpose would pass strangers).
        decision = same_speaker(embedding, reference,
                                noisy_threshold(reference_snr_db, speech.snr_db,
                                                self.threshold))
        phrase_cosine = None
        if decision.same:
            phrase_cosine = self._check_phrase(consent, reading, heard.phrase_start,
                                               heard.words, reference, reference_snr_db,
                                               speech.snr_db, encoder, issued)
            self._check_each_clip(embedding, speech.snr_db, clips, issued)
        else:
            noisy = _noise_note(decision, self.threshold, reference_snr_db, speech.snr_db)
            raise SpeakerMismatchError(
                f"the consent recording is not the same speaker as the reference clips "
                f"(similarity {decision.cosine:.3f}, at least {decision.threshold:.3f} "
                f"needed{noisy}): the person whose voice is cloned must record the consent "
                "themself, with the same microphone if possible; "
                + _record_again(issued)
            )
        logger.info("consent for %s verified: challenge %s, speaker %.3f (phrase %s), "
                    "statement %.2f", name, issued.id, decision.cosine,
                    "-" if phrase_cosine is None else f"{phrase_cosine:.3f}",
                    heard.statement_recall)
        return ConsentVerification(
            challenge=issued, consent_sha256=consent_sha256, transcript=heard.transcript,
            statement_recall=heard.statement_recall, speaker_cosine=decision.cosine,
            speaker_threshold=decision.threshold, synthetic_check=synthetic,
            phrase_cosine=phrase_cosine, consent_snr_db=speech.snr_db,
        )

    def _check_phrase(self, consent: Audio, reading: Reading, phrase_start: float | None,
                      words: Sequence[tuple[float, float]], reference: np.ndarray,
                      reference_snr_db: float, consent_snr_db: float,
                      encoder: SpeakerEncoder, issued: Challenge) -> float | None:
        """The phrase words' cosine to ``reference``; SpeakerMismatchError under
        ``phrase_threshold`` (raised for the noise the whole reading's estimate found).
        None when the recognizer placed no phrase (a recognizer that reports no times:
        the whole reading is then all that is judged)."""
        spans = phrase_spans(reading, phrase_start, words)
        if not spans:
            return None
        try:
            speech = consent_speech(joined(consent, spans))
        except NoSpeechError as exc:
            raise PhraseNotHeardError(
                f"the challenge phrase \"{issued.phrase_text}\" holds too little speech to "
                f"recognise the voice by ({exc}): read the four words clearly, at an "
                "even pace; " + _record_again(issued)) from exc
        decision = same_speaker(consent_embedding(speech, encoder), reference,
                                noisy_threshold(reference_snr_db, consent_snr_db,
                                                self.phrase_threshold))
        if not decision.same:
            noisy = _noise_note(decision, self.phrase_threshold, reference_snr_db,
                                consent_snr_db)
            raise SpeakerMismatchError(
                f"the voice reading the challenge phrase is not the same speaker as the "
                f"reference clips (similarity {decision.cosine:.3f}, at least "
                f"{decision.threshold:.3f} needed{noisy}), though the whole recording "
                "came closer: the person whose voice is cloned must read all of the "
                "text themself, alone, with no other voice or recording playing; "
                + _record_again(issued))
        return decision.cosine

    def _check_each_clip(self, embedding: np.ndarray, consent_snr_db: float,
                         clips: Sequence[ReferenceClip], issued: Challenge) -> None:
        """Raise SpeakerMismatchError unless the consent d-vector ``embedding`` matches
        every clip of ``clips``, and both parts of a clip found to hold two voices."""
        for clip in clips:
            threshold = noisy_threshold(clip.snr_db, consent_snr_db, self.threshold)
            decision = same_speaker(embedding, clip.embedding, threshold)
            parts = [same_speaker(embedding, part, threshold) for part in clip.parts]
            if decision.same and all(part.same for part in parts):
                continue
            if not decision.same:
                found = (f"reference clip {clip.name} is not the consent speaker "
                         f"(similarity {decision.cosine:.3f}, at least {threshold:.3f} "
                         "needed)")
                fix = ("every reference clip must be a recording of the person who "
                       "consents: leave out recordings of anyone else")
            else:
                found = (f"reference clip {clip.name} holds two voices, and the consent "
                         f"speaker is only one of them (similarity "
                         f"{min(part.cosine for part in parts):.3f} to the other, at least "
                         f"{threshold:.3f} needed)")
                fix = ("cut the other voice out of the clip, or leave the clip out: every "
                       "voice cloned must be the person who consents")
            raise SpeakerMismatchError(
                f"the consent recording does not match all the reference clips: {found}; "
                f"{fix}, or have that person record the consent; " + _record_again(issued))


def _unread_message(reading: Reading, issued: Challenge) -> str:
    where = ", ".join(f"{s:.1f}-{e:.1f} s" for s, e in reading.unread[:4])
    return (f"the consent recording holds {reading.unread_seconds:.1f} s of speech that is "
            f"not the reading of the challenge (at {where}; at most {MAX_UNREAD_S:.1f} s "
            "is allowed, for a breath or a cough): only the voice that reads the text is "
            "checked, so record only yourself reading the text, with nothing before or "
            "after; " + _record_again(issued))


def _noise_note(decision: SpeakerDecision, base: float, reference_snr_db: float,
                consent_snr_db: float) -> str:
    """``"; "`` and the noise advice when noise raised ``decision``'s threshold above
    ``base``; else nothing (a refusal's message adds it after the threshold)."""
    if decision.threshold <= base:
        return ""
    return "; " + _noise_advice(reference_snr_db, consent_snr_db)


def _noise_advice(reference_snr_db: float, consent_snr_db: float) -> str:
    """Which recording is noisy, in words, for a refusal under a raised threshold."""
    noisy = [f"the {what} (signal-to-noise {snr:.0f} dB)"
             for what, snr in (("consent recording", consent_snr_db),
                               ("reference", reference_snr_db)) if snr < CLEAN_SNR_DB]
    fix = ("record the consent somewhere quiet" if consent_snr_db < CLEAN_SNR_DB
           else "use cleaner reference clips")
    return (f"{' and '.join(noisy) or 'the audio'} {'is' if len(noisy) < 2 else 'are'} "
            f"noisy, and noise makes voices harder to tell apart, so a closer match is "
            f"needed: {fix}")
