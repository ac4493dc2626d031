"""The Python API: enroll a voice (with its owner's consent), speak in it, compare speakers.

Example::

    import voxclone

    challenge = voxclone.challenge("ada")   # Ada reads challenge.text into consent.wav
    voice = voxclone.enroll("ada", ["ada1.wav", "ada2.flac"], effort="fast",
                            consent="consent.wav", challenge=challenge.id)
    audio = voxclone.synthesize("Hello there.", voice)
    voxclone.write_audio(audio, "hello.wav")  # or "hello.mp3", "hello.flac"

Challenges, consent records and revocation are in :mod:`voxclone.api_consent`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Sequence
from typing import Union

import numpy as np

from voxclone.audio import Audio, prepare_reference
from voxclone.audio.inputs import MAX_CLIP_SECONDS, as_audio
from voxclone.audit import AuditLog
from voxclone.clone.build import Matches, build_voice
from voxclone.clone.deadline import ENROLL_DEADLINE_S
from voxclone.clone.fit import Effort, VoiceFitter, check_effort
from voxclone.clone.profile import SourceClip, VoiceProfile, VoiceStore, check_name
from voxclone.consent import (
    Challenge,
    ChallengeStore,
    ConsentRecord,
    ConsentVerification,
    ConsentVerifier,
)
from voxclone.consent.reading import reference_clips
from voxclone.consent.record import WAIVED
from voxclone.consent.verify import check_consent_args
from voxclone.consent.voice_seal import sealed_with_record
from voxclone.detection import is_voxclone_output
from voxclone.digest import file_sha256
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.errors import AudioError, AuditError, SyntheticConsentError, VoxcloneError
from voxclone.progress import ProgressCallback, progress_bar
from voxclone.provenance import AuditContext
from voxclone.quality import screen
from voxclone.quality.noise_profile import NoiseProfile
from voxclone.quality.report import MIN_SPEECH_S, SNR_WARN_DB
from voxclone.speaker import combine_embeddings, cosine, default_encoder
from voxclone.voice_files import stored_together

logger = logging.getLogger(__name__)

ClipSource = Union[str, "os.PathLike[str]", bytes, Audio]

#: Enrollment needs at least this much speech over all clips, in seconds.
MIN_SPEECH_SECONDS = MIN_SPEECH_S


def _fitter() -> VoiceFitter:
    # One per enrollment: a fitter keeps its recent renderings, which are this
    # enrollment's alone (and enrollments may run in parallel threads).
    return VoiceFitter(default_engine(), default_encoder(), stock_packs())


def _clip_name(source: ClipSource, index: int) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return f"clip {index + 1}"


def _clip_hash(source: ClipSource, audio: Audio) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    if isinstance(source, (str, os.PathLike)) and str(source) != "-":
        return file_sha256(source)
    return hashlib.sha256(audio.samples.tobytes()).hexdigest()


def _load_clip(source: ClipSource, index: int) -> Audio:
    return as_audio(source, max_seconds=MAX_CLIP_SECONDS, name=f"clip {index + 1}")


def embed(source: ClipSource) -> np.ndarray:
    """Speaker embedding of one clip (file path, encoded bytes or ``Audio``).

    Returns a float32 unit vector of shape ``(256,)``. The clip is trimmed to speech
    and loudness-normalised first.

    Raises:
        AudioError: unreadable, empty or too long input.
        NoSpeechError: no (or under 1 s of) speech.
    """
    audio = _load_clip(source, 0)
    clean, _ = prepare_reference(audio, name=_clip_name(source, 0))
    return default_encoder().embed(clean)


#: What the waiver of ``i_am_the_speaker=True`` is recorded as.
SPEAKER_WAIVER = ("i_am_the_speaker: the enrolling user declared that the reference clips "
                  "are recordings of their own voice; no consent recording was verified")


def _consent_verifier() -> ConsentVerifier:
    """The verifier :func:`enroll` uses.

    A consent recording that carries this installation's watermark, or matches the
    stored fingerprint of one of its syntheses, is voxclone's own output, and is refused.
    """
    return ConsentVerifier(ChallengeStore(), synthetic_check=is_voxclone_output)


def enroll(
    name: str,
    clips: ClipSource | Sequence[ClipSource],
    *,
    consent: ClipSource | None = None,
    challenge: str | Challenge | None = None,
    i_am_the_speaker: bool = False,
    effort: Effort = "balanced",
    voices_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    save: bool = True,
    progress: bool | ProgressCallback = False,
    seed: int = 0,
    audit: AuditContext | None = None,
    force: bool = False,
    match_prosody: bool = False,
    match_tone: bool = True,
    match_pitch: bool = True,
    match_rate: bool | None = None,
    match_pauses: bool = True,
    match_formants: bool = True,
) -> VoiceProfile:
    """Clone a voice from one clip (one-shot) or several (few-shot), with consent.

    Consent is verified before anything is fitted or written: the ``consent``
    recording must read the ``challenge`` (from :func:`challenge`) aloud, the phrase
    must be heard, and its speaker must be the speaker of ``clips``. On success the
    challenge is used up, and a signed consent record is stored next to the profile.

    Args:
        name: the voice's name in the voices directory.
        clips: WAV/FLAC/OGG/MP3 paths, encoded bytes, or ``Audio`` objects.
        consent: the speaker reading the challenge (path, bytes or ``Audio``).
        challenge: the challenge (or its id) that ``consent`` reads.
        i_am_the_speaker: enroll without a consent recording, because the clips are
            your own voice. Logged as a warning and recorded as a waiver.
        effort: ``stock`` (instant, nearest stock voice), ``fast`` (a few seconds: the
            learned style map and the tone match, no search),
            ``balanced`` (~50 s; its refinement is cut short to end the enrollment by
            57 s from the call on a slow machine) or ``best`` (~4 min, by 295 s;
            :data:`voxclone.clone.deadline.ENROLL_DEADLINE_S`).
        voices_dir: where profiles live (default: :func:`default_voices_dir`).
        overwrite: replace an existing voice of that name.
        save: store the profile and consent record (False: just return the profile;
            the challenge is used up all the same).
        progress: True for a progress bar on stderr, or a callback
            ``(fraction_done, best_similarity)``.
        seed: seeds the search, so the same clips give the same voice.
        audit: who enrolls, for the audit log (default: the local user).
        force: enroll even if the quality gate (:func:`voxclone.check`) refuses the
            clips (logged as a warning). A clip of another speaker among clips that
            otherwise agree is left out either way.
        match_prosody: after the fit (efforts other than ``stock``), move the style's
            own pitch and pitch range toward the speaker's and store a speaking-rate
            factor (3-5 more renderings of the probe, a few seconds). Off by default:
            it costs intelligibility (README, "Pitch and rate match"); ``match_pitch``
            reaches the speaker's pitch by signal processing instead.
        match_tone: after the fit (efforts other than ``stock``), give the clone its
            speaker's long-term spectrum with an equaliser curve, kept only if it brings
            the clone closer to the speaker (two renderings, about a second).
        match_pitch: after the fit (efforts other than ``stock``), store the shift in
            semitones from the clone's median pitch to the speaker's, and the factor
            from its F0 range to theirs (from clips the gate warns are noisy, whose
            range other voices inflate, a narrowing only); synthesis applies both by
            PSOLA, keeping timing and formants. No shift under half a semitone, no
            range change under 10 %.
        match_rate: after the fit, store a speaking-rate factor that synthesis
            multiplies with the caller's speed: the speaker's articulation rate
            (syllables of a transcript of the clips, by the offline recogniser, over
            their seconds of speech) over the clone's on enrollment's sentences
            (``match_prosody`` sets it too). None (the default): at ``balanced`` and
            ``best`` (:data:`voxclone.clone.fit.RATE_EFFORTS`); True: at ``fast`` too,
            for ~0.5 s more (the transcript runs beside the fit); False: never.
        match_pauses: store the speaker's typical pause between phrases (efforts other
            than ``stock``): the median of the clips' pauses, drawn toward readers'
            0.51 s the fewer pauses the clips hold; synthesis puts it between sentences
            (no pause found: 0.51 s). Costs nothing.
        match_formants: after the fit (efforts other than ``stock``), store the ratio
            by which synthesis moves the clone's formants (0.9-1.1, by PSOLA, pitch and
            timing kept), kept only if it brings the clone's d-vector closer to the
            speaker's (the vocal-tract length Kokoro's styles miss; four resyntheses,
            under a second).

    Returns:
        The voice's profile. Its ``warnings`` keep what enrollment warned of (also
        logged): the quality gate's warnings with their advice, clips left out, a
        forced refusal, a refinement that found nothing closer than its start.

    Raises:
        ValueError: bad name or effort, or both consent and ``i_am_the_speaker``.
        ConsentMissingError: no consent recording or no challenge (checked first).
        VoiceExistsError: the name is taken and ``overwrite`` is false.
        AudioError / NoSpeechError: a clip is unreadable, or no clip holds speech.
        ReferenceQualityError: the quality gate refuses the clips (under 3 s of speech,
            too noisy, heavily clipped, two speakers in a clip, clips of different
            people); its message says what to fix, its ``report`` holds the details.
        ChallengeError: the challenge is unknown, used, expired or for another name.
        SyntheticConsentError: a reference clip carries this installation's watermark
            or matches one of its syntheses' fingerprints (voxclone's own output is not a
            person's recording).
        PhraseNotHeardError / SpeakerMismatchError / SyntheticConsentError: the consent
            recording failed that check (the message says what to do); with clips the
            gate heard different people in (forced), the consent must match each one.
        UnreadSpeechError: the consent recording holds more than 1.5 s of speech that
            is not the reading of the challenge.
        AuditError: the audit log cannot be written (nothing is stored).
    """
    return enroll_with_record(
        name, clips, consent=consent, challenge=challenge, i_am_the_speaker=i_am_the_speaker,
        effort=effort, voices_dir=voices_dir, overwrite=overwrite, save=save,
        progress=progress, seed=seed, audit=audit, force=force,
        match_prosody=match_prosody, match_tone=match_tone, match_pitch=match_pitch,
        match_rate=match_rate, match_pauses=match_pauses, match_formants=match_formants)[0]


def enroll_with_record(
    name: str,
    clips: ClipSource | Sequence[ClipSource],
    *,
    consent: ClipSource | None = None,
    challenge: str | Challenge | None = None,
    i_am_the_speaker: bool = False,
    effort: Effort = "balanced",
    voices_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    save: bool = True,
    progress: bool | ProgressCallback = False,
    seed: int = 0,
    audit: AuditContext | None = None,
    force: bool = False,
    match_prosody: bool = False,
    match_tone: bool = True,
    match_pitch: bool = True,
    match_rate: bool | None = None,
    match_pauses: bool = True,
    match_formants: bool = True,
) -> tuple[VoiceProfile, ConsentRecord]:
    """:func:`enroll`, also returning the consent record (for front ends that store
    voices elsewhere, like the server's registry). Same arguments and errors."""
    check_name(name)
    check_effort(effort)
    check_consent_args(name, consent, challenge, i_am_the_speaker=i_am_the_speaker)
    store = VoiceStore(voices_dir)
    if save and not overwrite:
        store.check_free(name)  # fail before minutes of work, not after
    context = audit or AuditContext()
    log = context.audit_log()  # opened now: an unreachable database fails before the work
    sources = [clips] if isinstance(clips, (str, os.PathLike, bytes, Audio)) else list(clips)
    if not sources:
        raise AudioError("no reference clips given; pass at least one recording of the speaker")

    try:
        began = time.monotonic()
        limit = ENROLL_DEADLINE_S[effort]
        verifier = _consent_verifier()
        if challenge is not None:  # cheap, and needs no audio: fail before decoding clips
            verifier.check_challenge(name, challenge)
        audios = [_load_clip(source, index) for index, source in enumerate(sources)]
        for index, audio in enumerate(audios):  # cloning a clone would launder its consent
            if is_voxclone_output(audio):
                raise SyntheticConsentError(
                    f"{_clip_name(sources[index], index)} carries this installation's "
                    "watermark, or matches the fingerprint of one of its syntheses: it is "
                    "voxclone's own synthetic speech, not a recording of a person; enroll "
                    "from recordings of the speaker")
        # The quality gate (voxclone.quality): refuses a bad reference unless forced, leaves
        # out another speaker's clip, and returns the cleaned speech and its d-vectors.
        screened = screen(audios, [_clip_name(s, i) for i, s in enumerate(sources)], force=force)
        cleaned = list(screened.clean)
        records = [SourceClip(_clip_hash(sources[i], audios[i]), round(audios[i].duration, 3),
                              round(screened.report.clips[i].speech_seconds, 3))
                   for i in screened.keep]
        seconds = [r.speech_seconds for r in records]
        target = combine_embeddings(list(screened.embeddings), seconds)

        verification: ConsentVerification | None = None
        if consent is not None and challenge is not None:
            consent_audio = as_audio(consent, max_seconds=MAX_CLIP_SECONDS,
                                     name="the consent recording")
            # Compared with the noise-compensated target, the consent recording compensated
            # too, under a threshold that rises with the noise on either side
            # (voxclone.speaker.verify.noisy_threshold).
            # ... and with every kept clip on its own (and both parts of a clip the gate
            # heard two voices in): a blend of two people needs the consent of both.
            # (the d-vectors the check was calibrated on: see ClipAnalysis.check_embedding)
            checked = combine_embeddings(list(screened.check_embeddings), seconds)
            verification = verifier.verify(name, challenge, consent_audio, checked,
                                           reference_snr_db=screened.lowest_snr_db,
                                           consent_sha256=_clip_hash(consent, consent_audio),
                                           clips=reference_clips(screened))
            record = verification.record([r.sha256 for r in records])
            verifier.challenges.claim(verification.challenge)  # single use, from now on
        else:
            logger.warning("enrolling %s WITHOUT a consent recording (i_am_the_speaker=True); "
                           "this is recorded in its consent record", name)
            record = ConsentRecord(name=name, decision=WAIVED,
                                   reference_sha256=tuple(r.sha256 for r in records),
                                   waiver=SPEAKER_WAIVER)
        try:
            profile = _build(name, target, cleaned, records, effort, progress=progress, seed=seed,
                             matches=Matches(prosody=match_prosody, tone=match_tone,
                                             pitch=match_pitch, rate=match_rate,
                                             pauses=match_pauses,
                                             formants=match_formants),
                             pauses=screened.pauses, noisy=screened.lowest_snr_db < SNR_WARN_DB,
                             noises=screened.noises, warnings=screened.warnings,
                             pitch_level=screened.pitch_level,
                             deadline=None if limit is None else began + limit)
            # consent is settled (verified, or the waiver recorded): only now is it sealed
            profile, record = sealed_with_record(profile, record)
            # An enrollment the audit log does not know of must not stay, nor cost the voice
            # it was to replace: a failed append puts the voice's files back as they were.
            stored = stored_together(store, profile, record, overwrite=overwrite) if save \
                else contextlib.nullcontext()
            with stored:
                log.append("enroll", actor=context.actor, owner_id=context.owner_id, voice=name,
                           details={"effort": effort, "score": round(profile.score, 4),
                                    "consent": record.decision,
                                    "challenge": record.challenge_id,
                                    "references_sha256": [r.sha256 for r in records],
                                    "saved": save})
        except BaseException:
            if verification is not None:  # nothing was enrolled: the challenge can be read again
                verifier.challenges.release(verification.challenge)
            raise
        logger.info("enrolled %s: similarity %.3f in %.1f s", name, profile.score,
                    time.monotonic() - began)
        return profile, record
    except VoxcloneError as exc:  # refusals are audited too: attempts are what to watch
        _log_refusal(log, context, name, exc)
        raise


def _log_refusal(log: AuditLog, context: AuditContext, name: str,
                 exc: VoxcloneError) -> None:
    """An ``enroll-refused`` entry: which check refused the enrollment, and why (its
    first 300 characters). A refused enrollment's watermark check is a detection too, so
    none goes unlogged; an entry that cannot be written must not hide the refusal."""
    try:
        log.append("enroll-refused", actor=context.actor, owner_id=context.owner_id,
                   voice=name, details={"error": type(exc).__name__,
                                        "reason": str(exc)[:300]})
    except AuditError:
        logger.exception("the refused enrollment of %s could not be logged", name)


def _build(name: str, target: np.ndarray, cleaned: list[Audio], records: list[SourceClip],
           effort: Effort, *, progress: bool | ProgressCallback, seed: int,
           matches: Matches, pauses: Sequence[float], noisy: bool,
           noises: Sequence[NoiseProfile], warnings: Sequence[str],
           pitch_level: float | None, deadline: float | None) -> VoiceProfile:
    """Build the voice (:func:`voxclone.clone.build.build_voice`) under a progress bar."""
    reporter = contextlib.nullcontext(progress) if callable(progress) else \
        progress_bar(f"enrolling {name} ({effort})", enabled=bool(progress))
    with reporter as report:
        return build_voice(_fitter(), name, target, cleaned, records, effort,
                           matches=matches, progress=report, seed=seed, pauses=pauses,
                           noisy=noisy, noises=noises, warnings=warnings,
                           pitch_level=pitch_level, deadline=deadline)


def load_voice(name: str, *, voices_dir: str | os.PathLike[str] | None = None) -> VoiceProfile:
    """Load a stored voice. Raises VoiceNotFoundError or ProfileError."""
    return VoiceStore(voices_dir).load(name)


def list_voices(*, voices_dir: str | os.PathLike[str] | None = None) -> list[VoiceProfile]:
    """All stored voices, sorted by name (damaged profiles are skipped with a warning)."""
    store = VoiceStore(voices_dir)
    voices = []
    for name in store.names():
        try:
            voices.append(store.load(name))
        except VoxcloneError as exc:
            logger.warning("skipping voice %s: %s", name, exc)
    return voices


def similarity(
    a: ClipSource | VoiceProfile,
    b: ClipSource | VoiceProfile,
) -> float:
    """Cosine similarity (-1..1) of the speakers in two clips or voice profiles.

    Same speaker, other recording: about 0.85-0.9; different speakers: about 0.5.
    """
    def vector(x: ClipSource | VoiceProfile) -> np.ndarray:
        return x.embedding if isinstance(x, VoiceProfile) else embed(x)

    return cosine(vector(a), vector(b))
