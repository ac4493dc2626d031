"""Does the consent recording say the challenge? Offline speech recognition (pocketsphinx).

The recognizer is constrained to what a consent recording can contain: a JSGF grammar
that allows the statement's words in any order and number, then four words of the
challenge word list (any four, so a wrong phrase is heard as what it is), then the
statement's words again. Measured against the free language model on Piper and
espeak-ng voices (bench/consent.py; the free model heard espeak's phrases almost never),
the grammar hears the phrase far more reliably, and every word it can output is one the
check knows about. The phrase is heard when its words come out in order, contiguously.

pocketsphinx (its US English acoustic model and dictionary ship in the wheel) is loaded
on first use, once per process.
"""

from __future__ import annotations

import logging
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
#: Silence added before and after the recording: pocketsphinx drops words at the edges.
_PAD_SECONDS = 0.5
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
        phrase_heard: the challenge phrase's words came out in order, contiguously.
        statement_recall: share of the statement's words heard in order (0..1).
    """

    transcript: str
    phrase_heard: bool
    statement_recall: float


def contains_in_order(words: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether ``phrase`` occurs in ``words`` as a contiguous run."""
    n = len(phrase)
    return any(list(words[i:i + n]) == list(phrase) for i in range(len(words) - n + 1))


def ordered_recall(expected: Sequence[str], heard: Sequence[str]) -> float:
    """Longest common subsequence of ``expected`` and ``heard``, over ``len(expected)``."""
    if not expected:
        return 1.0
    previous = [0] * (len(heard) + 1)
    for want in expected:
        current = [0]
        for j, got in enumerate(heard):
            current.append(previous[j] + 1 if want == got else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1] / len(expected)


def consent_grammar(challenge: Challenge) -> str:
    """The JSGF grammar a recording of ``challenge`` is decoded with."""
    statement = " | ".join(sorted(set(statement_words())))
    words = " | ".join(CHALLENGE_WORDS)
    return (
        "#JSGF V1.0;\ngrammar consent;\n"
        "public <consent> = <statement>* <word> <word> <word> <word> <statement>* ;\n"
        f"<statement> = {statement} ;\n<word> = {words} ;\n"
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
        transcript = self.transcribe(audio, consent_grammar(challenge))
        heard = transcript.split()
        result = PhraseCheck(transcript, contains_in_order(heard, challenge.phrase),
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
