"""Synthesis that listens to itself: a sentence that came out garbled is rendered again.

A cloned voice sits away from the engine's stock voices, and now and then a sentence
comes out slurred or with a word swallowed. With ``check_words`` on
(:class:`voxclone.pipeline.SynthesisOptions`), each English sentence is transcribed
by pocketsphinx as soon as it is rendered; when it is garbled (:func:`is_garbled`) the
pipeline renders it again with the voice's conditioning drawn toward the stock voices
(fallbacks the caller supplies) and keeps the first clean rendering, else the one with
the fewest word errors. The recognizer errs on clean speech too (Piper's stock voice:
3-14 % of words), so only a sentence that loses half its words, and at least two,
counts as garbled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from voxclone.asr.word_errors import word_errors, words
from voxclone.audio import Audio

logger = logging.getLogger(__name__)

#: Share of a sentence's words misheard from which it counts as garbled...
GARBLED_WER = 0.5
#: ...when that is also at least this many words.
GARBLED_MIN_ERRORS = 2


@dataclass(frozen=True)
class CheckedRender:
    """The rendering kept for a sentence.

    Attributes:
        samples: float32 audio, shape ``(n,)``.
        attempt: which rendering it is (0: the voice as it is).
        errors: word errors of what recognition heard against the sentence.
        heard: what recognition heard.
        attempts: renderings made.
    """

    samples: np.ndarray
    attempt: int
    errors: int
    heard: str
    attempts: int


def is_garbled(errors: int, word_count: int) -> bool:
    """Whether ``errors`` word errors in a sentence of ``word_count`` words is garbled."""
    return errors >= GARBLED_MIN_ERRORS and errors >= GARBLED_WER * word_count


def speak_checked(text: str, render: Callable[[int], np.ndarray], attempts: int,
                  sample_rate: int, transcribe: Callable[[Audio], str]) -> CheckedRender:
    """Render ``text`` until recognition hears it, at most ``attempts`` times.

    Args:
        text: the sentence, normalised (numbers as words).
        render: attempt number -> float32 samples; 0 is the voice as it is, later
            ones its fallbacks.
        attempts: renderings allowed (at least 1).
        sample_rate: of what ``render`` returns.
        transcribe: audio -> the words heard.
    Returns:
        The first rendering that is not garbled, else the one with the fewest word
        errors (the earliest among equals).
    """
    expected = words(text)

    def rendering(attempt: int) -> CheckedRender:
        samples = render(attempt)
        heard = transcribe(Audio(samples, sample_rate))
        return CheckedRender(samples, attempt, word_errors(expected, words(heard)), heard,
                             attempt + 1)

    best = current = rendering(0)
    while is_garbled(current.errors, len(expected)) and current.attempts < max(1, attempts):
        logger.info("rendering %d of %r came out garbled (heard %r); rendering it again",
                    current.attempt, text, current.heard)
        current = rendering(current.attempts)
        if current.errors < best.errors:
            best = current
    return replace(best, attempts=current.attempts)
