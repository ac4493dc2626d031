"""Does the consent recording say the challenge? Offline speech recognition (pocketsphinx).

The recognizer is constrained to what a consent recording can contain: a JSGF grammar
of the statement's words (and the speaker's name, when the dictionary knows it) in any
order and number, followed by exactly four words of the challenge word list - any
four, so a wrong phrase is heard as what it is, and the expected phrase gets no head
start over any other. The phrase is heard when at least three of the challenge's four words
are among the words heard in the slots, in order (``MIN_PHRASE_WORDS``).

Why a grammar: on the same 28 recordings (statement + phrase; Piper "joe" and six
espeak-ng voices, 4 phrases each; a measurement made while building this, not part of
bench/consent.py) pocketsphinx's free language model heard all four words in order in
1 (joe: "salmon at all" for "salmon kettle"; espeak: almost nothing), this grammar in
5, with joe at 4 of 4 and no wrong phrase accepted. Trailing words after the phrase
must not be allowed: a trailing statement loop let the decoder swallow the phrase.
Favouring the expected phrase in the grammar (a weighted alternative) did not help
the espeak voices either, and would raise false accepts when the phrase is missing.

pocketsphinx (its US English acoustic model and dictionary ship in the wheel) is loaded
on first use, once per process.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from voxclone.audio import Audio
from voxclone.consent.challenge import STATEMENT, Challenge
from voxclone.consent.wordlist import CHALLENGE_WORDS
from voxclone.errors import ModelError

logger = logging.getLogger(__name__)

ASR_SAMPLE_RATE = 16_000
#: Of the phrase's four words, at least this many must be heard, in order.
#: Piper "joe" reading the right phrase lost one word now and then ("canyon" heard as
#: "pepper"), and when the decoder's beam does not reach the end of the grammar its
#: best partial path stops a word short. Three fresh random words in order are still
#: about 20 bits: no recording made before the challenge contains them, and the four
#: words heard for a wrong phrase (or none) hold three of them in order with a
#: probability of about 1e-5.
MIN_PHRASE_WORDS = 3
#: Silence added before and after the recording: pocketsphinx drops words at the edges.
_PAD_SECONDS = 0.5
_CHALLENGE_SET = frozenset(CHALLENGE_WORDS)
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
        transcript: the recognizer's output (words of the grammar).
        phrase_heard: at least ``MIN_PHRASE_WORDS`` of the challenge's four words were
            heard, in order.
        statement_recall: share of the statement's words heard in order (0..1).
    """

    transcript: str
    phrase_heard: bool
    statement_recall: float


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


def consent_grammar(challenge: Challenge, *, name_words: Sequence[str] = ()) -> str:
    """The JSGF grammar a recording of ``challenge`` is decoded with.

    Args:
        challenge: the challenge read (its length sets the number of word slots).
        name_words: the parts of the speaker's name that the dictionary knows.
    """
    statement = set(statement_words()) | set(name_words)
    slots = " ".join(["<word>"] * len(challenge.phrase))
    return (
        "#JSGF V1.0;\ngrammar consent;\n"
        f"public <consent> = <statement>* {slots} ;\n"
        f"<statement> = {' | '.join(sorted(statement))} ;\n"
        f"<word> = {' | '.join(CHALLENGE_WORDS)} ;\n"
    )


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

    def transcribe(self, audio: Audio, grammar: str) -> str:
        """The words of ``grammar`` heard in ``audio`` (empty if no path fits)."""
        samples = audio.resample(ASR_SAMPLE_RATE).samples
        pad = np.zeros(round(_PAD_SECONDS * ASR_SAMPLE_RATE), dtype=np.float32)
        samples = np.concatenate([pad, samples, pad])
        peak = float(np.max(np.abs(samples)))
        if peak > 0:
            samples = samples * (0.9 / peak)
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        with self._lock:
            self._searches += 1
            search = f"consent{self._searches}"
            self._decoder.add_jsgf_string(search, grammar)
            try:
                self._decoder.activate_search(search)
                self._decoder.start_utt()
                self._decoder.process_raw(pcm, full_utt=True)
                self._decoder.end_utt()
                hyp = self._decoder.hyp()
            finally:
                self._decoder.activate_search()  # back to the default before removing
                self._decoder.remove_search(search)
        return hyp.hypstr if hyp is not None else ""

    def check(self, audio: Audio, challenge: Challenge) -> PhraseCheck:
        """Decode ``audio`` and compare it with ``challenge``."""
        with self._lock:
            known = [w for w in name_parts(challenge.name)
                     if self._decoder.lookup_word(w) is not None]
        transcript = self.transcribe(audio, consent_grammar(challenge, name_words=known))
        heard = transcript.split()
        # The grammar allows challenge words only in the phrase slots.
        phrase_heard = [w for w in heard if w in _CHALLENGE_SET]
        matched = common_in_order(challenge.phrase, phrase_heard)
        result = PhraseCheck(transcript, matched >= MIN_PHRASE_WORDS,
                             ordered_recall(statement_words(), heard))
        logger.debug("consent ASR heard %r (phrase %s, statement %.2f)", transcript,
                     challenge.phrase, result.statement_recall)
        return result


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _shared() -> PhraseRecognizer:
    return PhraseRecognizer()


def default_recognizer() -> PhraseRecognizer:
    """The process-wide recognizer, loaded on first use."""
    with _lock:
        return _shared()
