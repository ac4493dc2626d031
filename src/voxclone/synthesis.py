"""Speaking and provenance: watermarked synthesis (whole or streamed), its records,
and reading the watermark back.

Every front door (API, CLI, server) synthesises through these functions, so every
audio voxclone produces carries the installation's watermark.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import lru_cache

from voxclone.audio import Audio
from voxclone.audio.inputs import as_audio
from voxclone.clone.profile import VoiceProfile, VoiceStore
from voxclone.consent.record import ConsentStore
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.errors import AuditError, VoiceRevokedError
from voxclone.pipeline import SynthesisOptions, Synthesizer
from voxclone.provenance import (
    AuditContext,
    SynthesisRecord,
    find_record,
    log_synthesis,
    new_payload,
    text_digest,
)
from voxclone.text.frontend import spoken_language
from voxclone.watermark import Detection, Watermark, default_watermark

logger = logging.getLogger(__name__)

#: Files longer than this (an hour) are refused by :func:`detect` (split them first).
MAX_DETECT_SECONDS = 3600.0
#: Under this (s), a clip's mark is often unreadable (crops of voxclone speech: 7 of 10
#: found at 1.5 s, 10 of 10 from 2 s; a 1.4 s "Hello there." with its pauses, none).
MIN_DETECT_SECONDS = 2.0

#: Streaming cuts a long first sentence so its first chunk has at most this many
#: phonemes (two or three words): the first audio comes sooner than with 16 - 236 against
#: 250 ms on one machine, 295 against 315 ms on another - and no more words are misheard;
#: fewer gain nothing, as the model's own ~0.8 s of silence around a piece dominates
#: (``bench/results/lead_in.md``, ``lead_in_2dec_amd.md``).
STREAM_FIRST_CHUNK_TOKENS = 12

VoiceRef = str | VoiceProfile
AudioSource = str | os.PathLike[str] | bytes | Audio


@lru_cache(maxsize=1)
def _synthesizer() -> Synthesizer:
    return Synthesizer(default_engine(), stock_packs())


def _voice(voice: VoiceRef, voices_dir: str | os.PathLike[str] | None) -> VoiceProfile:
    """The profile to speak with. A stored voice needs its consent record, made for this
    very profile; a profile given as an object is the caller's, but not one whose voice
    was revoked after it was made."""
    consents = ConsentStore(voices_dir)
    if not isinstance(voice, VoiceProfile):
        profile = VoiceStore(voices_dir).load(voice)
        consents.vouching_for(profile)
        return profile
    revoked = consents.revoked_since(voice.name, voice.created)
    if revoked is not None:
        raise VoiceRevokedError(f"the voice {voice.name!r} was revoked at {revoked.revoked}, "
                                "after this profile was made; it cannot be spoken with")
    return voice


def synthesize_stream(
    text: str,
    voice: VoiceRef,
    *,
    speed: float = 1.0,
    language: str | None = None,
    voices_dir: str | os.PathLike[str] | None = None,
    audit: AuditContext | None = None,
    check_words: bool = False,
    sentence_pause: float | None = None,
) -> Iterator[Audio]:
    """Speak ``text`` in ``voice``, yielding one ``Audio`` chunk (24 kHz) per sentence;
    a long first sentence comes in two chunks, a short lead-in first, so that audio
    starts sooner.

    The chunks carry one continuous watermark whose payload is the id of the
    synthesis record, which is written to the audit log (as ``audit.actor``, default
    the local user) before the first chunk is rendered; a ``stream-end`` entry with the
    seconds handed out follows when the stream is used up, closed or fails
    (``"complete": false`` for the last two). The text and voice are validated before
    this returns; later sentences are phonemized while earlier ones are rendered.

    ``language`` is the text's language (``"es"``, ``"fr"``, ``"it"``, ``"pt-br"``,
    ``"hi"``, ``"ja"``, ``"zh"``, ``"en-us"``, ``"en-gb"``; see ``voxclone languages``);
    ``None`` detects Hindi, Japanese and Mandarin from the script and reads anything
    else as American English. Any voice speaks any of them.

    ``check_words`` has each English sentence transcribed once rendered and rendered
    again, drawn toward the stock voices, if it came out garbled
    (:mod:`voxclone.asr.self_check`; about 0.2 s of recognition per second of speech;
    a long first sentence's lead-in and its rest are not checked).

    ``sentence_pause`` is the silence between sentences in seconds (0-3); ``None``
    gives the voice's own: its speaker's typical pause (``VoiceProfile.pause``), or
    0.51 s, divided by ``speed``.

    Raises:
        AuditError: the audit log cannot be written (nothing is rendered).
        TextError: empty or unpronounceable text, or an unknown ``language``.
        VoiceNotFoundError / ProfileError: unknown or damaged voice.
        ConsentRecordError: a stored voice (given by name) has no consent record, or one
            made for other recordings than its profile (a profile swapped in or edited).
        VoiceRevokedError: the voice was revoked after the profile given was made.
        ValueError: speed outside 0.5-2.0, or sentence_pause outside 0-3 s.
    """
    return render_stream(text, voice, speed=speed, language=language, voices_dir=voices_dir,
                         audit=audit, check_words=check_words,
                         sentence_pause=sentence_pause)[1]


def render_stream(
    text: str,
    voice: VoiceRef,
    *,
    speed: float = 1.0,
    language: str | None = None,
    voices_dir: str | os.PathLike[str] | None = None,
    audit: AuditContext | None = None,
    check_words: bool = False,
    sentence_pause: float | None = None,
) -> tuple[SynthesisRecord, Iterator[Audio]]:
    """Like :func:`synthesize_stream`, also returning the synthesis record (for front ends
    that name the watermark payload before the audio, like the server). Same errors.
    """
    profile = _voice(voice, voices_dir)
    options = SynthesisOptions(speed=speed, first_chunk_tokens=STREAM_FIRST_CHUNK_TOKENS,
                               language=language, check_words=check_words,
                               sentence_pause=sentence_pause)
    synthesizer = _synthesizer()
    chunks = synthesizer.stream(text, profile, options)  # validates before returning
    watermark = default_watermark()
    context = audit or AuditContext()
    record = SynthesisRecord(id=new_payload(context.audit_log()), voice=profile.name,
                             text_sha256=text_digest(text), engine=synthesizer.engine.name,
                             watermark=watermark.name, streamed=True, actor=context.actor,
                             language=spoken_language(language, text))
    log_synthesis(record, context)  # before any audio exists
    return record, _marked_chunks(chunks, watermark, record, context)


def _marked_chunks(chunks: Iterator[Audio], watermark: Watermark, record: SynthesisRecord,
                   context: AuditContext) -> Iterator[Audio]:
    """The watermarked chunks, then a ``stream-end`` entry with the seconds handed out -
    also when the stream stops early: closed (a client that disconnected) or failed."""
    position = 0  # chunks are marked on one grid, so the joined stream reads as one mark
    rate = 0
    complete = False
    try:
        for chunk in chunks:
            marked = watermark.embed(chunk.samples, chunk.sample_rate, record.id,
                                     start_sample=position)
            position += len(chunk.samples)
            rate = chunk.sample_rate
            yield Audio(marked, chunk.sample_rate)
        complete = True
    finally:
        _log_stream_end(record, context, position / rate if rate else 0.0, complete)


def _log_stream_end(record: SynthesisRecord, context: AuditContext, seconds: float,
                    complete: bool) -> None:
    try:
        context.audit_log().append(
            "stream-end", actor=context.actor, owner_id=context.owner_id, voice=record.voice,
            payload=record.id, details={"seconds": round(seconds, 3), "complete": complete})
    except AuditError:
        if complete:
            raise
        # The stream is already stopping (closed, or an error on its way out): that
        # must not be replaced by this one.
        logger.exception("the end of stream %s (%.3f s handed out) could not be logged",
                         record.hex_id, seconds)


def synthesize(
    text: str,
    voice: VoiceRef,
    *,
    speed: float = 1.0,
    language: str | None = None,
    voices_dir: str | os.PathLike[str] | None = None,
    audit: AuditContext | None = None,
    check_words: bool = False,
    sentence_pause: float | None = None,
) -> Audio:
    """Speak ``text`` in ``voice`` (a name or a profile); float32 mono 24 kHz ``Audio``,
    watermarked with the id of its synthesis record (read it back with :func:`detect`).

    The synthesis is written to the audit log (as ``audit.actor``, default the local
    user) before the audio is returned. Raises the same errors as
    :func:`synthesize_stream`.
    """
    return render(text, voice, speed=speed, language=language, voices_dir=voices_dir,
                  audit=audit, check_words=check_words, sentence_pause=sentence_pause)[0]


def render(
    text: str,
    voice: VoiceRef,
    *,
    speed: float = 1.0,
    language: str | None = None,
    voices_dir: str | os.PathLike[str] | None = None,
    audit: AuditContext | None = None,
    check_words: bool = False,
    sentence_pause: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[Audio, SynthesisRecord]:
    """Like :func:`synthesize`, also returning the synthesis record (for front ends);
    ``progress`` is called with the share of the text spoken (0-1) as it goes."""
    profile = _voice(voice, voices_dir)
    options = SynthesisOptions(speed=speed, language=language, check_words=check_words,
                               sentence_pause=sentence_pause)
    synthesizer = _synthesizer()
    raw = synthesizer.synthesize(text, profile, options, progress)
    watermark = default_watermark()
    context = audit or AuditContext()
    record = SynthesisRecord(id=new_payload(context.audit_log()), voice=profile.name,
                             text_sha256=text_digest(text), engine=synthesizer.engine.name,
                             watermark=watermark.name, seconds=round(raw.duration, 3),
                             actor=context.actor, language=spoken_language(language, text))
    marked = watermark.embed(raw.samples, raw.sample_rate, record.id)
    if raw.duration < MIN_DETECT_SECONDS:
        logger.warning("%.1f s of audio: its watermark may not be readable on its own "
                       "(under %.0f s); speak a longer text to be sure it can be detected",
                       raw.duration, MIN_DETECT_SECONDS)
    log_synthesis(record, context)
    return Audio(marked, raw.sample_rate), record


def preload() -> None:
    """Load the synthesis models now rather than on first use: the engine and its style
    packs, the phonemizer and the watermark key (batch workers call it once at start).

    Raises:
        ModelError: the model's weights are missing or fail their checksum.
        SecretError: the installation secret is unusable.
    """
    _synthesizer().plan("Ready.")
    default_watermark()


def detect(source: AudioSource, *, audit: AuditContext | None = None) -> Detection:
    """Look for this installation's watermark in a clip (path, encoded bytes, ``Audio``,
    or ``-`` for stdin), any format and rate >= 8 kHz.

    The payload, when found, is a synthesis id: :func:`find_synthesis` gives its record.
    Each detection is written to the audit log (as ``audit.actor``, default the local
    user), with the SHA-256 of the audio checked. A clip joining several syntheses
    yields one of their marks: :func:`detect_all` gives them all.

    Raises:
        AudioError: unreadable, empty or longer than an hour.
        AuditError: the audit log cannot be written.
    """
    audio = as_audio(source, max_seconds=MAX_DETECT_SECONDS, name="the clip")
    result = _read_mark(audio)
    if not result.found and audio.duration < MIN_DETECT_SECONDS:
        result = replace(result, too_short=True)
    _log_detection(audio, result, audit)
    logger.info("detect: %s",
                f"synthesis {result.payload:08x}" if result.found and result.payload is not None
                else "no watermark")
    return result


def detect_all(source: AudioSource, *, audit: AuditContext | None = None) -> list[Detection]:
    """Every watermark of this installation in a clip that may join several syntheses
    (two clones in a podcast, two takes): the same sources and checks as :func:`detect`.

    Returns one ``Detection`` per mark (``found`` True, its own ``payload``,
    ``start_s``/``end_s`` to within about a second, ``speed`` and
    ``false_positive_probability``), in time order; stretches of one payload less than
    3 s apart are one mark (the same synthesis heard twice further apart is listed
    twice). An empty list means no mark was found; in a clip under
    :data:`MIN_DETECT_SECONDS` that means little, as ``Detection.too_short`` says for
    :func:`detect` (compare the clip's duration to tell).

    False positives: a mark is reported only when :func:`detect`'s own search finds one,
    so unmarked audio is flagged exactly as often as by :func:`detect`; the further
    windows searched around a mark are counted in every mark's
    ``false_positive_probability`` (a union bound over all windows searched, so their
    sum bounds the chance that any mark listed is spurious). See
    :mod:`voxclone.watermark.multi`.

    One ``detect`` entry is written to the audit log per call, its ``payload`` the first
    mark's and ``details["payloads"]`` every payload found, in order.

    Raises:
        AudioError: unreadable, empty or longer than an hour.
        AuditError: the audit log cannot be written.
    """
    audio = as_audio(source, max_seconds=MAX_DETECT_SECONDS, name="the clip")
    readable = audio.resample(8000) if audio.sample_rate < 8000 else audio
    marks = default_watermark().detect_all(readable.samples, readable.sample_rate)
    first = marks[0] if marks else Detection(found=False)
    _log_detection(audio, first, audit,
                   payloads=[m.payload for m in marks if m.payload is not None])
    logger.info("detect_all: %s", ", ".join(f"synthesis {m.payload:08x}" for m in marks
                                            if m.payload is not None) or "no watermark")
    return marks


def _log_detection(audio: Audio, result: Detection, audit: AuditContext | None,
                   payloads: list[int] | None = None) -> None:
    """One ``detect`` audit entry; ``payloads`` (every mark found) from :func:`detect_all`.

    Raises:
        AuditError: it could not be written.
    """
    context = audit or AuditContext()
    details: dict[str, object] = {
        "found": result.found,
        "audio_sha256": hashlib.sha256(audio.samples.tobytes()).hexdigest(),
        "seconds": round(audio.duration, 3),
        "false_positive_probability": result.false_positive_probability}
    if payloads is not None:
        details["payloads"] = payloads
    context.audit_log().append(
        "detect", actor=context.actor, owner_id=context.owner_id,
        payload=result.payload if result.found else None, details=details)


def find_synthesis(payload: int | str) -> SynthesisRecord | None:
    """The record of the synthesis whose watermark carries ``payload`` (an int, or the
    8 hex digits the command line prints), if it was made here (looked up in the audit
    log).

    Raises:
        ValueError: ``payload`` is not a 32-bit id.
    """
    if isinstance(payload, str):
        try:
            payload = int(payload, 16)
        except ValueError:
            raise ValueError(f"{payload!r} is not a synthesis id (8 hex digits)") from None
    if isinstance(payload, bool) or not isinstance(payload, int) or not 0 <= payload < 2**32:
        raise ValueError(f"a synthesis id is a 32-bit number, got {payload!r}")
    return find_record(payload)


def is_voxclone_output(audio: Audio) -> bool:
    """Whether ``audio`` carries this installation's watermark (any rate). An internal
    check (enrollment's, on its recordings), so not audited as a detection: the
    enrollment's own entry stands for it."""
    return _read_mark(audio).found


def _read_mark(audio: Audio) -> Detection:
    if audio.sample_rate < 8000:
        audio = audio.resample(8000)
    return default_watermark().detect(audio.samples, audio.sample_rate)
