"""One language's text front end: its normaliser and its phonemizer, chosen by code.

Typical use::

    front = front_end("es")          # or front_end(None, text): detect from the script
    for sentence in split_sentences(front.normalize(text)):
        phonemes = front.phonemize(sentence)

Every phonemizer reads a sentence's words in other scripts with the phonemizer of
their script (:mod:`voxclone.text.script_routing`): Latin words in Japanese or Mandarin
text go to English, Han in English text to Mandarin (Japanese when there is kana).
Letters no front end reads (Arabic, Cyrillic...) are dropped with a warning, and a
text made only of them is refused.

Without a language, each sentence is in the language of its own script
(:func:`~voxclone.text.languages.detect_sections`): a document with Japanese and
English paragraphs reads each in its language, and :meth:`TextFrontEnd.language_of`
says which language a normalised sentence is in.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from voxclone.text.chunk import split_sentences
from voxclone.text.languages import (
    LANGUAGES,
    Language,
    detect_language,
    detect_sections,
    resolve_language,
)
from voxclone.text.normalize import normalize_text
from voxclone.text.normalize_multilingual import multilingual_normalizer
from voxclone.text.phonemize import phonemize
from voxclone.text.phonemize_cjk import JapanesePhonemizer, MandarinPhonemizer
from voxclone.text.script_routing import ScriptRouter, unreadable_text_error

__all__ = ["Phonemizer", "TextFrontEnd", "front_end", "spoken_language"]

logger = logging.getLogger(__name__)

#: Numbers of more digits than this (also grouped by thousands: "1,000,000,...") are
#: spaced out digit by digit before English normalisation: no one reads them as one
#: number (English reads more than 15 digits one by one anyway), and Python refuses
#: ``int()`` of more than 4,300 digits.
_LONG_DIGIT_RUN = 100
_LONG_DIGITS_RE = re.compile(
    rf"\d{{{_LONG_DIGIT_RUN + 1},}}|\d{{1,3}}(?:,\d{{3}}){{{_LONG_DIGIT_RUN // 3},}}(?!\d)")


class Phonemizer(Protocol):
    """Normalised text (a sentence or a few) -> Kokoro phoneme string.

    Raises :class:`~voxclone.errors.TextError` when there is nothing to pronounce.
    """

    def __call__(self, text: str) -> str: ...


@dataclass(frozen=True)
class TextFrontEnd:
    """How one language's text becomes phonemes.

    Attributes:
        language: the language (for a text in several, the main one: its script's).
        normalize: raw text -> text with numbers, dates and symbols as words; never raises.
        phonemize: one normalised sentence -> Kokoro phoneme string.
        sentence_language: one normalised sentence -> its language, for a text in
            several languages; ``None`` when every sentence is in ``language``.
    """

    language: Language
    normalize: Callable[[str], str]
    phonemize: Phonemizer
    sentence_language: Callable[[str], Language] | None = None

    def language_of(self, sentence: str) -> Language:
        """The language of one sentence of :attr:`normalize`'s output. Never raises."""
        if self.sentence_language is None:
            return self.language
        return self.sentence_language(sentence)


def _english_normalize(text: str) -> str:
    """:func:`normalize_text`, with digit runs too long to be one number spaced out."""
    return normalize_text(_LONG_DIGITS_RE.sub(lambda m: " ".join(m[0].replace(",", "")),
                                              text))


@functools.cache
def _script_phonemizer(code: str) -> Phonemizer:
    """The phonemizer that reads language ``code``'s own script (shared instances)."""
    language = resolve_language(code)
    if language.g2p == "japanese":
        return JapanesePhonemizer()
    if language.g2p == "mandarin":
        return MandarinPhonemizer()
    return functools.partial(phonemize, language=language.espeak)


@functools.cache
def _front_end(code: str) -> TextFrontEnd:
    language = resolve_language(code)
    normalizer = (_english_normalize if code.startswith("en")
                  else multilingual_normalizer(code))
    return TextFrontEnd(language, normalizer, ScriptRouter(language, _script_phonemizer))


class _MixedText:
    """Normalises and phonemizes a text whose sentences are in different languages."""

    def __init__(self, main: str) -> None:
        self._main = main
        self._codes: dict[str, str] = {}
        self._lock = threading.Lock()

    def normalize(self, text: str) -> str:
        """Each section normalised in its language; sections joined by line breaks."""
        parts: list[str] = []
        for code, section in detect_sections(text):
            normalized = _front_end(code).normalize(section).strip()
            if not normalized:
                continue
            with self._lock:
                for sentence in split_sentences(normalized):
                    self._codes.setdefault(sentence, code)
            parts.append(normalized)
        return "\n".join(parts)

    def _code(self, sentence: str) -> str:
        with self._lock:
            return self._codes.get(sentence.strip(), self._main)

    def language_of(self, sentence: str) -> Language:
        """The language of a sentence of :meth:`normalize`'s output."""
        return LANGUAGES[self._code(sentence)]

    def phonemize(self, text: str) -> str:
        """Phonemes of a sentence of :meth:`normalize`'s output, in its language."""
        return _front_end(self._code(text)).phonemize(text)


def spoken_language(language: str | None, text: str) -> str:
    """The code of the language ``text`` is spoken in: ``language`` resolved, or the one
    :func:`~voxclone.text.languages.detect_language` finds when it is ``None`` (for a
    text in several languages, its main one).

    Raises:
        TextError: ``language`` is not a code voxclone knows.
    """
    return detect_language(text) if language is None else resolve_language(language).code


def front_end(language: str | None, text: str = "") -> TextFrontEnd:
    """The front end for ``language`` (a code such as ``"es"``, see
    :data:`~voxclone.text.languages.LANGUAGES`), or when it is ``None`` for the
    language(s) of ``text``: each sentence in the language its script says (English
    for Latin script; see :func:`~voxclone.text.languages.detect_sections`).
    Phonemizers load on first use and are shared.

    Raises:
        TextError: ``language`` is not a code voxclone knows (the message lists them),
            or ``text`` has letters but none in a script voxclone reads (the message
            names the script).
    """
    code = None if language is None else resolve_language(language).code
    error = unreadable_text_error(text)
    if error is not None:
        raise error
    if code is not None:
        return _front_end(code)
    sections = detect_sections(text)
    codes = list(dict.fromkeys(section_code for section_code, _ in sections))
    if len(codes) <= 1:
        code = codes[0] if codes else detect_language(text)
        logger.debug("language detected from the script: %s", code)
        return _front_end(code)
    main = detect_language(text)
    logger.info("the text mixes languages (%s); each sentence is read in its own "
                "(pass language= to read it all in one)", ", ".join(codes))
    mixed = _MixedText(main)
    return TextFrontEnd(resolve_language(main), mixed.normalize, mixed.phonemize,
                        mixed.language_of)
