"""Speaking with provenance: watermarked synthesis (whole, streamed, or a whole file
rendered piece by piece) and its records. Reading the mark back is in
:mod:`voxclone.detection`.

Every front door (API, CLI, server) synthesises through these functions, so every
audio voxclone produces carries the installation's watermark.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

import numpy as np

from voxclone.audio import Audio
from voxclone.clone.profile import VoiceProfile
from voxclone.consent.voice_seal import speakable
from voxclone.detection import MIN_DETECT_SECONDS
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.fingerprint import fingerprint, save_fingerprint
from voxclone.pipeline import SynthesisOptions, Synthesizer
from voxclone.provenance import (
    ArrivingText,
    AuditContext,
    SynthesisRecord,
    log_synthesis,
    new_payload,
    text_digest,
)
from voxclone.stream_provenance import MarkedStream, StreamEnding, marked_chunks
from voxclone.text.chunk import blocks_as_they_arrive
from voxclone.text.frontend import spoken_language
from voxclone.watermark import default_watermark

logger = logging.getLogger(__name__)


#: Streaming cuts a long first sentence so its first chunk has at most this many
#: phonemes (two or three words): the first audio comes sooner than with 16 - 236 against
#: 250 ms on one machine, 295 against 315 ms on another - and no more words are misheard;
#: fewer gain nothing, as the model's own ~0.8 s of silence around a piece dominates
#: (``bench/results/lead_in.md``, ``lead_in_2dec_amd.md``).
STREAM_FIRST_CHUNK_TOKENS = 12

VoiceRef = str | VoiceProfile


@lru_cache(maxsize=1)
def _synthesizer() -> Synthesizer:
    return Synthesizer(default_engine(), stock_packs())


def _voice(voice: VoiceRef, voices_dir: str | os.PathLike[str] | None) -> VoiceProfile:
    """The profile to speak with (:func:`voxclone.consent.voice_seal.speakable`)."""
    return speakable(voice, voices_dir)


def synthesize_stream(
    text: str | Iterable[str],
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
    seconds handed out follows when the stream is used up, closed (``.close()``; or
    dropped, also before its first chunk) or fails (``"complete": false`` for the last
    two). The text and voice are validated before
    this returns; later sentences are phonemized while earlier ones are rendered.

    ``text`` may also be an iterable of its pieces as they arrive (a language model's
    tokens, lines read from a pipe): then each sentence is spoken as soon as the text
    after it shows it has ended (a line break, or the next sentence begun), without
    waiting for the rest, and the whole is one synthesis with one mark all the same.
    Its audit entry, written before the first piece is read, has the text's SHA-256
    and language empty; the ``stream-end`` entry gives them
    (:func:`voxclone.find_synthesis` reads them in). The voice is validated before this
    returns, the text as it arrives: a sentence with nothing to pronounce is skipped
    with a warning, and the iteration raises ``TextError`` if nothing was. The voice
    is checked again before each sentence: one revoked meanwhile stops the stream
    there (``VoiceRevokedError``).

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
            made for other recordings than its profile (a profile swapped in).
        VoiceSealError: the profile carries no seal of this installation's enrollment,
            or was changed after it (on disk, in a database, or with
            ``dataclasses.replace``): speak with voices enrolled here, unchanged.
        VoiceRevokedError: the voice was revoked after the profile given was made.
        ValueError: speed outside 0.5-2.0, or sentence_pause outside 0-3 s.
    """
    return render_stream(text, voice, speed=speed, language=language, voices_dir=voices_dir,
                         audit=audit, check_words=check_words,
                         sentence_pause=sentence_pause)[1]


def render_stream(
    text: str | Iterable[str],
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
    arriving: ArrivingText | None = None
    if isinstance(text, str):
        chunks = synthesizer.stream(text, profile, options)  # validates before returning
        digest, spoken = text_digest(text), spoken_language(language, text)
    else:
        arriving = ArrivingText(text)
        # each finished sentence at once: one mark spans them all, so none needs to be
        # long enough to be read on its own
        blocks = _while_speakable(blocks_as_they_arrive(arriving.pieces()), voice,
                                  voices_dir)
        chunks = synthesizer.stream_arriving(blocks, profile, options)
        digest, spoken = "", ("" if language is None else spoken_language(language, ""))
    watermark = default_watermark()
    context = audit or AuditContext()
    record = SynthesisRecord(id=new_payload(context.audit_log()), voice=profile.name,
                             text_sha256=digest, engine=synthesizer.engine.name,
                             watermark=watermark.name, streamed=True, actor=context.actor,
                             language=spoken)
    log_synthesis(record, context)  # before any audio exists
    ending = StreamEnding(record, context, arriving)
    return record, MarkedStream(marked_chunks(chunks, watermark, ending),
                           lambda: ending.log(0.0, False))


def _while_speakable(blocks: Iterator[str], voice: VoiceRef,
                     voices_dir: str | os.PathLike[str] | None) -> Iterator[str]:
    """``blocks``, the voice checked again before each one after the first: a text that
    arrives may go on for hours, and a voice revoked meanwhile stops it at its next
    sentence (``VoiceRevokedError``), as a new synthesis would be refused."""
    for number, block in enumerate(blocks):
        if number:
            _voice(voice, voices_dir)
        yield block


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
    return start_render(text, voice, speed=speed, language=language, voices_dir=voices_dir,
                        audit=audit, check_words=check_words, sentence_pause=sentence_pause,
                        progress=progress).finish()


def start_render(
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
) -> Rendering:
    """:func:`render` in steps, for a front end that renders a whole file a piece at a
    time (the server lets other requests use the engine between pieces, and stops when
    its client leaves): the text and voice are validated before this returns; iterate
    :meth:`Rendering.steps`, then :meth:`Rendering.finish` marks the whole and logs it.
    Same arguments and errors as :func:`render`.
    """
    profile = _voice(voice, voices_dir)
    options = SynthesisOptions(speed=speed, language=language, check_words=check_words,
                               sentence_pause=sentence_pause)
    synthesizer = _synthesizer()
    pieces = synthesizer.stream(text, profile, options, progress)  # validates
    return Rendering(pieces, synthesizer.engine.name, profile.name, text, language,
                     audit or AuditContext())


class Rendering:
    """A whole-file synthesis under way (see :func:`start_render`).

    Its pieces stay inside: the file is marked once, as a whole, by :meth:`finish`
    (and logged then, so a rendering left unfinished logs nothing: no audio left it).
    """

    def __init__(self, pieces: Iterator[Audio], engine: str, voice: str, text: str,
                 language: str | None, context: AuditContext) -> None:
        self._pieces = pieces
        self._parts: list[np.ndarray] = []
        self._rate = 0
        self._engine, self._voice, self._text = engine, voice, text
        self._language, self._context = language, context

    def steps(self) -> Iterator[float]:
        """Render the next piece at each step, yielding its seconds (a piece is a
        sentence, or part of a long one)."""
        for piece in self._pieces:
            self._parts.append(piece.samples)
            self._rate = piece.sample_rate
            yield piece.duration

    def close(self) -> None:
        """Stop rendering (the pieces' phonemizing worker too)."""
        closer = getattr(self._pieces, "close", None)
        if callable(closer):
            closer()

    def finish(self) -> tuple[Audio, SynthesisRecord]:
        """Render what is left, then the whole audio (float32 mono 24 kHz), watermarked
        with the id of its synthesis record, which is written to the audit log.

        Raises:
            AuditError: the audit log cannot be written (no audio is returned).
        """
        for _ in self.steps():
            pass
        raw = Audio(np.concatenate(self._parts), self._rate)
        watermark = default_watermark()
        record = SynthesisRecord(id=new_payload(self._context.audit_log()),
                                 voice=self._voice, text_sha256=text_digest(self._text),
                                 engine=self._engine, watermark=watermark.name,
                                 seconds=round(raw.duration, 3), actor=self._context.actor,
                                 language=spoken_language(self._language, self._text))
        marked = watermark.embed(raw.samples, raw.sample_rate, record.id)
        if raw.duration < MIN_DETECT_SECONDS:
            logger.warning("%.1f s of audio: its watermark may not be readable on its own "
                           "(under %.0f s); speak a longer text to be sure it can be "
                           "detected", raw.duration, MIN_DETECT_SECONDS)
        # the fingerprint first, so that the entry can vouch for it (a fingerprint left
        # without an entry, where the entry fails, names audio never released)
        stored = save_fingerprint(self._context.audit_log().engine, record.id,
                                  fingerprint(marked, raw.sample_rate))
        log_synthesis(record, self._context, fingerprint_sha256=stored)
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
