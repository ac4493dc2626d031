"""One language's text front end: its normaliser and its phonemizer, chosen by code.

Typical use::

    front = front_end("es")          # or front_end(None, text): detect from the script
    for sentence in split_sentences(front.normalize(text)):
        phonemes = front.phonemize(sentence)
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from voxclone.text.languages import Language, detect_language, resolve_language
from voxclone.text.normalize import normalize_text
from voxclone.text.normalize_multilingual import multilingual_normalizer
from voxclone.text.phonemize import phonemize
from voxclone.text.phonemize_cjk import JapanesePhonemizer, MandarinPhonemizer

__all__ = ["Phonemizer", "TextFrontEnd", "front_end", "spoken_language"]

logger = logging.getLogger(__name__)


class Phonemizer(Protocol):
    """Normalised text (a sentence or a few) -> Kokoro phoneme string.

    Raises :class:`~voxclone.errors.TextError` when there is nothing to pronounce.
    """

    def __call__(self, text: str) -> str: ...


@dataclass(frozen=True)
class TextFrontEnd:
    """How one language's text becomes phonemes.

    Attributes:
        language: the language.
        normalize: raw text -> text with numbers, dates and symbols as words; never raises.
        phonemize: one normalised sentence -> Kokoro phoneme string.
    """

    language: Language
    normalize: Callable[[str], str]
    phonemize: Phonemizer


@functools.cache
def _front_end(code: str) -> TextFrontEnd:
    language = resolve_language(code)
    if language.g2p == "japanese":
        return TextFrontEnd(language, multilingual_normalizer(code), JapanesePhonemizer())
    if language.g2p == "mandarin":
        return TextFrontEnd(language, multilingual_normalizer(code), MandarinPhonemizer())
    voice = language.espeak
    normalizer = normalize_text if code.startswith("en") else multilingual_normalizer(code)
    return TextFrontEnd(language, normalizer, functools.partial(phonemize, language=voice))


def spoken_language(language: str | None, text: str) -> str:
    """The code of the language ``text`` is spoken in: ``language`` resolved, or the one
    :func:`~voxclone.text.languages.detect_language` finds when it is ``None``.

    Raises:
        TextError: ``language`` is not a code voxclone knows.
    """
    return detect_language(text) if language is None else resolve_language(language).code


def front_end(language: str | None, text: str = "") -> TextFrontEnd:
    """The front end for ``language`` (a code such as ``"es"``, see
    :data:`~voxclone.text.languages.LANGUAGES`), or when it is ``None`` for the language
    :func:`~voxclone.text.languages.detect_language` finds in ``text`` (English for
    Latin script). Phonemizers load on first use and are shared.

    Raises:
        TextError: ``language`` is not a code voxclone knows (the message lists them).
    """
    code = spoken_language(language, text)
    if language is None:
        logger.debug("language detected from the script: %s", code)
    return _front_end(code)
