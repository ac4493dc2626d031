"""Text -> speech in a voice: normalise, split, phonemize, render, stream.

Text handling lives in :mod:`voxclone.text`; the engine only sees phoneme ids and a
style vector. Nothing here changes state during synthesis, so one ``Synthesizer``
serves any number of threads.

Text processing is pipelined with inference: the first sentence is phonemized before
anything is rendered (so bad input fails first), and while the engine renders one
chunk, a worker thread of the call phonemizes the next sentences.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from voxclone.asr import default_recognizer
from voxclone.asr.self_check import speak_checked
from voxclone.audio import Audio
from voxclone.audio.equalizer import Equalizer
from voxclone.audio.pauses import POPULATION_PAUSE_S, reframe
from voxclone.audio.pitch_shift import shift_pitch
from voxclone.clone.profile import VoiceProfile
from voxclone.engines.base import Engine
from voxclone.errors import ProfileError, TextError
from voxclone.text import split_head, split_phonemes
from voxclone.text.breaks import sentences_with_breaks
from voxclone.text.frontend import Phonemizer, front_end
from voxclone.text.languages import resolve_language

logger = logging.getLogger(__name__)

#: The longest text one call accepts (about an hour of speech).
MAX_TEXT_CHARS = 200_000

#: Sentences phonemized ahead of the one being rendered.
LOOKAHEAD_SENTENCES = 2

#: Silence before each rendered piece's first sound (the engine renders ~0.25 s).
LEAD_S = 0.02
#: Silence between two pieces of one sentence (a sentence cut to fit the engine, or a
#: streaming lead-in), at engine speed 1: about the engine's own pause at a comma.
CLAUSE_PAUSE_S = 0.12
#: Silence after the last piece: the engine's own, as it renders it (~0.6 s of faint
#: hiss). Speech recognisers hear the last words of a clip worse with less (0.2 s cost
#: pocketsphinx words a 0.6 s tail kept).
END_S = 0.6
#: Silence between sentences for a voice without a measured pause: LibriSpeech readers'
#: median pause (the engine's own silences made about 0.95 s).
DEFAULT_SENTENCE_PAUSE_S = POPULATION_PAUSE_S


@dataclass(frozen=True)
class SynthesisOptions:
    """Per-call options.

    Attributes:
        speed: speaking-rate multiplier, 0.5-2.0 (1.0 = the voice's own rate: the
            engine runs at ``speed`` times the profile's ``rate`` factor).
        sentence_pause: seconds of silence between sentences (at least ``LEAD_S``);
            ``None``: the voice's own pause (its speaker's typical pause, measured at
            enrollment), else ``DEFAULT_SENTENCE_PAUSE_S``, divided by ``speed``.
        first_chunk_tokens: when above 0, a first sentence longer than 1.5 x this many
            phonemes is cut (at a clause mark or word gap) so the first chunk is at most
            this long: a quicker start for streaming. 0 keeps whole sentences.
        language: the text's language, a code of
            :data:`~voxclone.text.languages.LANGUAGES` (``"es"``, ``"ja"``...); ``None``
            detects it from the script (Devanagari, kana, Han), else English.
        check_words: transcribe each English sentence once rendered and render it
            again, drawn toward the stock voices, if it came out garbled
            (:mod:`voxclone.asr.self_check`); about 0.2 s of recognition per second
            of speech.
    """

    speed: float = 1.0
    sentence_pause: float | None = None
    first_chunk_tokens: int = 0
    language: str | None = None
    check_words: bool = False

    def __post_init__(self) -> None:
        for field_name in ("speed", "sentence_pause"):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, (int, float, type(None))):
                raise ValueError(f"{field_name} must be a number, got {value!r}")
        if self.speed is None or not 0.5 <= self.speed <= 2.0:
            raise ValueError(f"speed must be between 0.5 and 2.0, got {self.speed}")
        if self.sentence_pause is not None and not 0.0 <= self.sentence_pause <= 3.0:
            raise ValueError(f"sentence_pause must be 0-3 s, got {self.sentence_pause}")
        if self.first_chunk_tokens < 0:
            raise ValueError(f"first_chunk_tokens must be >= 0, got {self.first_chunk_tokens}")
        if self.language is not None:
            resolve_language(self.language)  # TextError naming the valid codes


#: A block of text that arrives when less audio than this is left to hear (in real
#: time, from the first chunk) starts with a short lead-in (``first_chunk_tokens``):
#: rendering a whole sentence first takes ~0.3-1 s.
LEAD_IN_BELOW_S = 1.0


class _Listener:
    """Where a real-time listener of one stream is: audio handed out since its first
    chunk, against the time since then."""

    def __init__(self) -> None:
        self._started: float | None = None
        self._seconds = 0.0

    def hand_out(self, seconds: float) -> None:
        self._started = self._started or time.monotonic()
        self._seconds += seconds

    def ahead(self) -> float:
        """Seconds of audio handed out and not yet heard (0 before the first)."""
        if self._started is None:
            return 0.0
        return max(0.0, self._seconds - (time.monotonic() - self._started))


@dataclass(frozen=True)
class Chunk:
    """Phoneme ids for one engine call.

    Attributes:
        ids: the engine's phoneme ids, ``1 <= len(ids) <= max_tokens``.
        sentence_end: whether the chunk ends a sentence (a pause may follow it).
        text: the normalised sentence when the chunk is a whole English sentence (what
            the self-check listens for); empty otherwise.
        done: the share of the text (by characters of its sentences) spoken once this
            chunk is, for progress reports.
        pause_after: seconds of silence a ``<break>`` in the text asks for after this
            chunk (:mod:`voxclone.text.breaks`), instead of the sentence pause;
            ``None``: none written.
        pause_before: seconds of silence written before it (breaks opening the text).
    """

    ids: tuple[int, ...]
    sentence_end: bool
    text: str = ""
    done: float = 1.0
    pause_after: float | None = None
    pause_before: float = 0.0


class Synthesizer:
    """Speaks text in a voice profile with one engine and its stock style packs."""

    def __init__(self, engine: Engine, packs: dict[str, np.ndarray]) -> None:
        self.engine = engine
        self.packs = packs

    def plan(self, text: str, language: str | None = None) -> list[list[int]]:
        """Phoneme-id chunks for ``text``, one or more per sentence, in order.

        Raises:
            TextError: the text is empty, too long, or has nothing to pronounce, or
                ``language`` is unknown.
        """
        return [list(chunk.ids) for chunk in self.chunks(text, language=language)]

    def chunks(self, text: str, first_chunk_tokens: int = 0,
               language: str | None = None) -> Iterator[Chunk]:
        """The chunks of ``text`` in order, phonemized one or two sentences ahead of
        the consumer by a worker thread. ``language`` as in :class:`SynthesisOptions`.

        The text is checked, and its first pronounceable sentence phonemized, before
        this returns; unpronounceable sentences after it are skipped.

        Raises:
            TextError: the text is empty, too long, or has nothing to pronounce, or
                ``language`` is unknown.
        """
        if not isinstance(text, str):
            raise TextError(f"the text must be a string, not {type(text).__name__}")
        if not text.strip():
            raise TextError("the text is empty; give some words to speak")
        if len(text) > MAX_TEXT_CHARS:
            raise TextError(
                f"the text has {len(text)} characters; the limit is {MAX_TEXT_CHARS} "
                "per call - split it into several calls"
            )
        front = front_end(language, text)
        lead, sentences, pauses = sentences_with_breaks(front.normalize, text)
        chunks_of = functools.partial(self._sentence_chunks, front.phonemize)
        ends = np.cumsum([len(s) for s in sentences]) / max(1, sum(len(s) for s in sentences))

        def sentence_chunks(index: int, head_tokens: int = 0) -> list[Chunk]:
            # Only English can be checked by ear (the recognizer's model is US English);
            # a text mixing languages is read sentence by sentence in each one's own.
            english = front.language_of(sentences[index]).code.startswith("en")
            chunks = [replace(c, done=float(ends[index]))
                      for c in chunks_of(sentences[index], head_tokens, english=english)]
            if chunks:
                chunks[-1] = replace(chunks[-1], pause_after=pauses[index])
            return chunks
        for index in range(len(sentences)):
            first = sentence_chunks(index, first_chunk_tokens)
            if first:
                first[0] = replace(first[0], pause_before=lead)
                return self._pipelined(sentence_chunks, first,
                                       range(index + 1, len(sentences)))
        raise TextError(f"nothing to pronounce in {text[:60]!r}; give words to speak")

    def _sentence_chunks(self, phonemize: Phonemizer, sentence: str,
                         head_tokens: int = 0, *, english: bool = False) -> list[Chunk]:
        """The chunks of one sentence (none when it has nothing to pronounce)."""
        try:
            phonemes = phonemize(sentence)
        except TextError:
            logger.debug("skipping unpronounceable sentence %r", sentence)
            return []
        pieces: list[str] = []
        if head_tokens > 0:
            head, phonemes = split_head(phonemes, head_tokens)
            pieces.append(head)
        pieces.extend(split_phonemes(phonemes, self.engine.max_tokens - 10))
        ids = [tuple(i) for i in map(self.engine.tokenize, pieces) if i]
        whole = sentence if english and len(ids) == 1 else ""
        return [Chunk(piece, n == len(ids) - 1, whole) for n, piece in enumerate(ids)]

    def _pipelined(self, sentence_chunks: Callable[[int], list[Chunk]], first: list[Chunk],
                   rest: Sequence[int]) -> Iterator[Chunk]:
        if not rest:
            yield from first
            return
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voxclone-text")
        try:
            pending: deque[Future[list[Chunk]]] = deque(
                pool.submit(sentence_chunks, s) for s in rest[:LOOKAHEAD_SENTENCES])
            queued = len(pending)
            yield from first
            while pending:
                done = pending.popleft().result()
                if queued < len(rest):
                    pending.append(pool.submit(sentence_chunks, rest[queued]))
                    queued += 1
                yield from done
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def stream(self, text: str, voice: VoiceProfile, options: SynthesisOptions | None = None,
               progress: Callable[[float], None] | None = None) -> Iterator[Audio]:
        """Yield one ``Audio`` (float32 mono at the engine's rate) per chunk, in order;
        ``progress`` is called with the share of the text spoken (0-1) after each.

        The voice, the text and its first sentence are checked before this returns,
        so bad input fails before any audio is produced.
        """
        options = options or SynthesisOptions()
        self._check_engine(voice)
        chunks = self.chunks(text, options.first_chunk_tokens, options.language)
        return self._render(chunks, voice, options, progress)

    def stream_arriving(self, blocks: Iterable[str], voice: VoiceProfile,
                        options: SynthesisOptions | None = None) -> Iterator[Audio]:
        """Like :meth:`stream`, for a text that arrives in blocks of whole sentences (as
        :func:`voxclone.text.chunk.blocks_as_they_arrive` cuts it): each block is
        rendered as soon as it is given and its audio yielded without waiting for the
        next block, so a block's last chunk ends with the sentence pause, and the end's
        silence follows once ``blocks`` runs out. A block with nothing to pronounce is
        skipped with a warning.

        ``options.first_chunk_tokens`` cuts the first sentence of a block whose audio
        would come late: the first block, and any block that arrives when the audio
        handed out so far, heard in real time from the first chunk, is about to run
        out (a reply typed line by line). A block that arrives with audio still to hear
        is rendered whole.

        Raises:
            ProfileError: the voice is another engine's (before this returns).
            TextError: while iterating, once ``blocks`` ran out without anything to
                pronounce (or from ``blocks`` itself).
        """
        options = options or SynthesisOptions()
        self._check_engine(voice)
        heard = _Listener()
        return self._render(self._arriving_chunks(blocks, options, heard), voice, options,
                            None, waits=heard)

    def _arriving_chunks(self, blocks: Iterable[str], options: SynthesisOptions,
                         heard: _Listener) -> Iterator[Chunk]:
        spoken = False
        for block in blocks:
            head = options.first_chunk_tokens if heard.ahead() < LEAD_IN_BELOW_S else 0
            try:
                chunks = self.chunks(block, head, options.language)
            except TextError as exc:
                logger.warning("skipped %r: %s", block[:40], exc)
                continue
            spoken = True
            yield from chunks  # (their progress shares are the block's; no one reads them)
        if not spoken:
            raise TextError("nothing to pronounce in the text that arrived; give words "
                            "to speak")

    def _check_engine(self, voice: VoiceProfile) -> None:
        if voice.engine != self.engine.name:
            raise ProfileError(
                f"voice {voice.name!r} was made for engine {voice.engine!r}, not "
                f"{self.engine.name!r}; re-enroll it"
            )

    def _render(self, chunks: Iterator[Chunk], voice: VoiceProfile, options: SynthesisOptions,
                progress: Callable[[float], None] | None, *,
                waits: _Listener | None = None) -> Iterator[Audio]:
        """The chunks rendered. Each piece's silence after it depends on what follows
        (none: the end's; a sentence; a piece of the same sentence), so the next chunk
        is taken before a piece is yielded - unless ``waits`` (the chunks come as their
        text arrives): then a piece is yielded at once, as if a sentence followed it,
        and the rest of the end's silence comes as a piece of its own; ``waits`` is told
        of each piece handed out."""
        between = options.sentence_pause
        if between is None:
            between = (voice.pause or DEFAULT_SENTENCE_PAUSE_S) / options.speed
        # The voice's tone curve, filtering the whole stream (its memory spans chunks).
        tone = None if voice.tone is None else \
            Equalizer(np.asarray(voice.tone), self.engine.sample_rate)
        # What a garbled sentence is rendered with next: the voice's offset from the
        # stock-voice mixture halved, then none (the self-check's fallbacks).
        tries = [voice.conditioning]
        if options.check_words:
            tries += [voice.conditioning.with_delta(voice.conditioning.delta * f)
                      for f in (0.5, 0.0)]
        chunk: Chunk | None = next(chunks)
        after = -LEAD_S  # (the silence after the piece before: none before the first)
        while chunk is not None:
            # A break opening the text, or (text arriving) a block: the silence before
            # it is the break, or the pause already sent after the piece before if longer.
            lead = LEAD_S + max(0.0, chunk.pause_before - after - LEAD_S)
            ids, speed = chunk.ids, options.speed * voice.rate

            def speak(attempt: int, ids: Sequence[int] = ids, speed: float = speed) -> np.ndarray:
                style = tries[attempt].style(self.packs, len(ids))
                wav = self.engine.render(ids, style, speed)
                # the speaker's pitch level and range and formants, per rendered piece (before the
                # pause is added: the resynthesis needs only the voiced speech)
                return shift_pitch(wav, self.engine.sample_rate, voice.pitch_shift,
                                   range_scale=voice.pitch_range,
                                   formant_ratio=voice.formant_ratio)

            if options.check_words and chunk.text:
                wav = speak_checked(chunk.text, speak, len(tries), self.engine.sample_rate,
                                    default_recognizer().transcribe).samples
            else:
                wav = speak(0)
            # (already phonemized by the worker, unless the text is still arriving)
            following = None if waits is not None else next(chunks, None)
            # The engine's own silences (~0.25 s before, ~0.6 s after) give way to the
            # voice's pause; the next piece brings its LEAD_S.
            if following is None and waits is None:
                after = max(END_S, chunk.pause_after or 0.0)
            elif chunk.pause_after is not None:  # (the next piece brings its LEAD_S)
                after = max(0.0, chunk.pause_after - LEAD_S)
            elif chunk.sentence_end:
                after = between - LEAD_S
            else:
                after = CLAUSE_PAUSE_S / speed - LEAD_S
            wav = reframe(wav, self.engine.sample_rate, lead=lead, after=after)
            if tone is not None:
                wav = tone.process(wav)
            if progress is not None:
                progress(chunk.done)
            if waits is not None:
                waits.hand_out(len(wav) / self.engine.sample_rate)
            yield Audio(wav, self.engine.sample_rate)
            chunk = next(chunks, None) if waits is not None else following
        if waits is not None and after < END_S:  # the end's silence, in full
            tail = np.zeros(round((END_S - after) * self.engine.sample_rate), np.float32)
            yield Audio(tail if tone is None else tone.process(tail), self.engine.sample_rate)

    def synthesize(self, text: str, voice: VoiceProfile, options: SynthesisOptions | None = None,
                   progress: Callable[[float], None] | None = None) -> Audio:
        """The whole text as one ``Audio`` (``progress`` as in :meth:`stream`)."""
        parts = [chunk.samples for chunk in self.stream(text, voice, options, progress)]
        return Audio(np.concatenate(parts), self.engine.sample_rate)
