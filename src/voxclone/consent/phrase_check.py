"""Does the consent recording say the challenge? Offline speech recognition (pocketsphinx).

Three decodes of the recording, each with a JSGF grammar (``consent_grammar``):

1. **open**: the statement's words in order (the name optional), then four slots that
   each take any word of the challenge list, and one optional fifth (a long word heard
   as two would otherwise push the phrase's last word out of the slots). The phrase
   counts as heard when at least three of the challenge's four words fill the slots in
   order (``MIN_PHRASE_WORDS``).
2. **aligned**: the same statement followed by exactly the challenge's four words, and
   where the open decode heard one or two of them, a second alignment with the four
   words the open decode chose instead. A beam search over 128 competing words drops
   the right path for voices the US English model fits poorly; the phrase then still
   counts as heard when the challenge's words explain the recording about as well as
   the open decode's choice does (acoustic score per phrase frame no more than
   ``MIN_ALIGNMENT_MARGIN`` below it). Both alignments are equally narrow searches,
   whose scores pocketsphinx normalises alike; a recording of other words loses clearly.
3. **statement**: the speech before the phrase, with the statement's words in any order
   and number; the share of the statement heard in order is ``statement_recall``.

Measured while building this (Piper "joe" and six espeak-ng voices, 20 challenges each,
plus 6 each of wrong phrase, statement only, phrase only): the earlier grammar (statement
words in a free loop before the slots, no dither) accepted 36 % of the espeak readings;
with dither and the fixed statement 80 %, with the current word list 86 %. A first
alignment rule compared the alignment with the open decode itself; it accepted 99.5 %,
but also most replays of a recording against a new challenge sharing a word with its
phrase in the same place (the aligned search, being narrower, always scored higher).
Against the open decode's own words aligned: right readings whose open decode heard 1-2
words scored -0.99 to +0.91 per frame (65 of 72 espeak readings of four voices accepted
in all), replays of 72 recordings against 288 challenges sharing 1-2 words in place at
most -0.28. The optional fifth slot then took right readings from 65 to 69 of 70
(``bench/results/consent.md``), with every wrong reading and replay still refused.

pocketsphinx (its US English acoustic model and dictionary ship in the wheel) is loaded
on first use, once per process.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from voxclone.asr.recognizer import ASR_SAMPLE_RATE, pcm16, peak_normalized
from voxclone.audio import Audio
from voxclone.consent.challenge import STATEMENT, Challenge
from voxclone.consent.wordlist import CHALLENGE_WORDS
from voxclone.errors import ModelError

logger = logging.getLogger(__name__)

#: Of the phrase's four words, at least this many must be heard, in order, by the open
#: decode. Piper "joe" reading the right phrase lost one word now and then. Three fresh
#: random words in order are still about 21 bits: no recording made before the challenge
#: contains them.
MIN_PHRASE_WORDS = 3
#: How far (natural log per phrase frame) the alignment of the challenge's words may
#: score below the alignment of the words the open decode chose: right readings scored
#: -0.99 to +0.91 (most above -0.2), replays against challenges sharing words at most -0.28.
MIN_ALIGNMENT_MARGIN = -0.2
#: Silence added before and after the recording: pocketsphinx drops words at the edges.
_PAD_SECONDS = 0.5
#: Gaussian noise (RMS, full scale 1.0) added to the peak-normalised recording. Digital
#: silence (synthetic speech, the padding) gives log-energy features the acoustic model
#: never saw; at -54 dBFS it changes nothing a microphone records (its own noise is
#: louder). Seeded: a recording always decodes the same way.
_DITHER = 0.002
_FRAME_SAMPLES = ASR_SAMPLE_RATE // 100
_CHALLENGE_SET = frozenset(CHALLENGE_WORDS)
#: Optional word slots after the phrase's in the open decode (see consent_grammar).
_EXTRA_SLOTS = 1
#: "voxclone" is not in the CMU dictionary.
_EXTRA_WORDS = {"voxclone": "V AA K S K L OW N"}


def statement_words(name: str | None = None) -> list[str]:
    """The statement's words, lower case, without the name (names are often unknown)."""
    text = STATEMENT.replace("{name}", "").lower()
    return [w.strip(",.") for w in text.split() if w.strip(",.")]


@dataclass(frozen=True)
class PhraseCheck:
    """What the recognizer heard and what it means for the challenge.

    Attributes:
        transcript: the open decode's words (statement, then four challenge words).
        phrase_heard: the challenge phrase was heard (open decode or alignment).
        statement_recall: share of the statement's words heard in order (0..1).
        alignment_margin: acoustic score per phrase frame (natural log) of the
            challenge's words aligned, minus that of the open decode's words aligned;
            None when it was not needed (the open decode heard 0, 3 or 4 of the words)
            or an alignment did not reach the end of the phrase.
        words: where the words of the reading (statement, then phrase) lie in the
            recording, ``(start, end)`` seconds each, in order: the alignment's when it
            reached the end of the phrase, else the open decode's up to its last word
            of the phrase. The speaker check judges the voice of these stretches only
            (:mod:`voxclone.consent.reading`); empty when nothing was decoded.
        phrase_start: where the phrase's first word starts (seconds), from the same
            decode as ``words``; None when no word of the phrase was placed. The
            speaker check judges the phrase's stretch on its own too.
    """

    transcript: str
    phrase_heard: bool
    statement_recall: float
    alignment_margin: float | None = None
    words: tuple[tuple[float, float], ...] = ()
    phrase_start: float | None = None


class PhraseChecker(Protocol):
    """What the consent check needs of a speech recognizer (:class:`PhraseRecognizer`
    is voxclone's)."""

    def check(self, audio: Audio, challenge: Challenge) -> PhraseCheck:
        """What was heard of ``challenge`` in ``audio``, and where."""
        ...


@dataclass(frozen=True)
class _Decoded:
    """One decode: words (without pronunciation variants) with frames and log scores."""

    words: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    log_ascores: tuple[float, ...]

    @property
    def text(self) -> str:
        return " ".join(w for w in self.words if w not in _FILLERS)


_FILLERS = frozenset({"<s>", "</s>", "<sil>", "[NOISE]", "++NOISE++", "++BREATH++"})


def common_in_order(expected: Sequence[str], heard: Sequence[str]) -> int:
    """Length of the longest common subsequence of ``expected`` and ``heard``."""
    previous = [0] * (len(heard) + 1)
    for want in expected:
        current = [0]
        for j, got in enumerate(heard):
            current.append(previous[j] + 1 if want == got else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def ordered_recall(expected: Sequence[str], heard: Sequence[str]) -> float:
    """Share of ``expected`` found in ``heard`` in order (1.0 for nothing expected)."""
    return common_in_order(expected, heard) / len(expected) if expected else 1.0


def name_parts(name: str) -> list[str]:
    """The words of a voice name as it is read aloud: ``"demo-joe"`` -> demo, joe."""
    return [part for part in re.split(r"[^a-z']+", name.lower()) if part]


def consent_grammar(challenge: Challenge, *, name_words: Sequence[str] = (),
                    aligned: bool = False) -> str:
    """The JSGF grammar for the open (or, with ``aligned``, the aligned) decode.

    Args:
        challenge: the challenge read (its length sets the number of word slots).
        name_words: the parts of the speaker's name that the dictionary knows.
        aligned: the slots are exactly the challenge's words, in order.
    """
    first, *rest = statement_words()
    name = f"[{' '.join(name_words)}]" if name_words else ""
    statement = " ".join(part for part in (first, name, *rest) if part)
    if aligned:
        return (f"#JSGF V1.0;\ngrammar consent;\n"
                f"public <consent> = {statement} {' '.join(challenge.phrase)} ;\n")
    # Words of a challenge issued before the list last changed stay decodable.
    words = sorted(_CHALLENGE_SET | set(challenge.phrase))
    # An optional extra slot: a long word misheard as two no longer pushes the last
    # word of the phrase out of the slots.
    slots = " ".join(["<word>"] * len(challenge.phrase) + ["[<word>]"] * _EXTRA_SLOTS)
    return (f"#JSGF V1.0;\ngrammar consent;\npublic <consent> = {statement} {slots} ;\n"
            f"<word> = {' | '.join(words)} ;\n")


def _seconds(frame: int) -> float:
    """A decode's frame index as seconds in the recording (the padding taken off)."""
    return frame * _FRAME_SAMPLES / ASR_SAMPLE_RATE - _PAD_SECONDS


def _word_times(decoded: _Decoded, last: int | None = None) -> tuple[tuple[float, float], ...]:
    """``(start, end)`` seconds in the recording (the padding taken off) of the decode's
    words, fillers left out; only up to index ``last`` (inclusive) when given."""
    upto = len(decoded.words) if last is None else last + 1
    return tuple((_seconds(decoded.starts[i]), _seconds(decoded.ends[i] + 1))
                 for i in range(upto) if decoded.words[i] not in _FILLERS)


def _ends_with(decoded: _Decoded, words: Sequence[str]) -> bool:
    spoken = [w for w in decoded.words if w not in _FILLERS]
    return spoken[-len(words):] == list(words)


def statement_grammar(name_words: Sequence[str] = ()) -> str:
    """JSGF grammar of the statement's words (and name) in any order and number."""
    words = sorted(set(statement_words()) | set(name_words))
    return ("#JSGF V1.0;\ngrammar statement;\npublic <statement> = <w>* ;\n"
            f"<w> = {' | '.join(words)} ;\n")


class PhraseRecognizer:
    """pocketsphinx with its bundled US English model, decoding consent recordings.

    Safe to share between threads (decoding is serialised).

    Raises:
        ModelError: pocketsphinx is not installed or its model cannot be loaded.
    """

    def __init__(self) -> None:
        try:
            import pocketsphinx
        except ImportError as exc:
            raise ModelError(
                f"consent verification needs pocketsphinx ({exc}); install it with: "
                "pip install 'pocketsphinx>=5,<6'"
            ) from exc
        try:
            self._decoder: Any = pocketsphinx.Decoder(loglevel="FATAL")
            for word, phones in _EXTRA_WORDS.items():
                self._decoder.add_word(word, phones, True)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"pocketsphinx could not load its English model: {exc}") from exc
        self._lock = threading.Lock()
        self._searches = 0

    @staticmethod
    def _pcm(audio: Audio) -> bytes:
        """``audio`` as the recognizer hears it: 16 kHz int16, padded, normalised, dithered."""
        samples = audio.resample(ASR_SAMPLE_RATE).samples
        pad = np.zeros(round(_PAD_SECONDS * ASR_SAMPLE_RATE), dtype=np.float32)
        samples = peak_normalized(np.concatenate([pad, samples, pad]))
        noise = np.random.default_rng(0).normal(0.0, _DITHER, len(samples))
        return pcm16(samples + noise.astype(np.float32))

    def _decode(self, pcm: bytes, grammar: str) -> _Decoded:
        """Best path of ``grammar`` through ``pcm`` (partial if the end is not reached)."""
        with self._lock:
            self._searches += 1
            search = f"consent{self._searches}"
            self._decoder.add_jsgf_string(search, grammar)
            try:
                self._decoder.activate_search(search)
                self._decoder.start_utt()
                self._decoder.process_raw(pcm, full_utt=True)
                self._decoder.end_utt()
                found = self._decoder.hyp() is not None
                segments = list(self._decoder.seg()) if found else []
            finally:
                self._decoder.activate_search()  # back to the default before removing
                self._decoder.remove_search(search)
        return _Decoded(
            tuple(s.word.split("(")[0] for s in segments),
            tuple(int(s.start_frame) for s in segments),
            tuple(int(s.end_frame) for s in segments),
            # The bindings give probabilities; a floor keeps an underflow finite.
            tuple(math.log(max(float(s.ascore), 1e-300)) for s in segments),
        )

    def check(self, audio: Audio, challenge: Challenge) -> PhraseCheck:
        """Decode ``audio`` and compare it with ``challenge`` (see the module docstring)."""
        with self._lock:
            known = [w for w in name_parts(challenge.name)
                     if self._decoder.lookup_word(w) is not None]
        pcm = self._pcm(audio)
        phrase = list(challenge.phrase)
        open_ = self._decode(pcm, consent_grammar(challenge, name_words=known))
        slots = [i for i, w in enumerate(open_.words) if w in _CHALLENGE_SET
                 or w in challenge.phrase]
        chosen = tuple(open_.words[i] for i in slots)  # what filled the phrase slots
        matched = common_in_order(phrase, list(chosen))
        aligned = self._decode(pcm, consent_grammar(challenge, name_words=known,
                                                    aligned=True))
        first_frame = open_.starts[slots[0]] if slots else len(pcm) // 2 // _FRAME_SAMPLES
        margin = None
        # The reading's words: the open decode's end at its last word of the phrase (an
        # extra slot may have taken in speech after the reading).
        in_phrase = [i for i in slots if open_.words[i] in challenge.phrase]
        words = _word_times(open_, in_phrase[-1] if in_phrase else None)
        phrase_start = _seconds(open_.starts[slots[0]]) if slots else None
        if _ends_with(aligned, phrase):
            words = _word_times(aligned)
            at = [i for i, w in enumerate(aligned.words) if w in challenge.phrase]
            first_frame = aligned.starts[at[0]]
            phrase_start = _seconds(first_frame)
            if MIN_PHRASE_WORDS > matched >= 1 and len(chosen) >= len(phrase):
                # The same alignment with the words the open decode chose instead.
                rival = self._decode(pcm, consent_grammar(
                    replace(challenge, phrase=chosen), name_words=known, aligned=True))
                if _ends_with(rival, chosen):
                    frames = max(1, sum(aligned.ends[i] - aligned.starts[i] + 1 for i in at))
                    margin = (sum(aligned.log_ascores) - sum(rival.log_ascores)) / frames
        heard = matched >= MIN_PHRASE_WORDS or (margin is not None
                                                and margin >= MIN_ALIGNMENT_MARGIN)
        before = pcm[:first_frame * _FRAME_SAMPLES * 2]
        said = self._decode(before, statement_grammar(known)).words if before else ()
        result = PhraseCheck(open_.text, heard, ordered_recall(statement_words(), said),
                             None if margin is None else round(margin, 3), words,
                             phrase_start)
        logger.debug("consent ASR heard %r (phrase %s, %d in order, alignment margin %s, "
                     "statement %.2f)", result.transcript, challenge.phrase, matched,
                     result.alignment_margin, result.statement_recall)
        return result


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _shared() -> PhraseRecognizer:
    return PhraseRecognizer()


def default_recognizer() -> PhraseRecognizer:
    """The process-wide recognizer, loaded on first use."""
    with _lock:
        return _shared()
