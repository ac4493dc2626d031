"""The languages voxclone speaks, and telling which one a text is in.

Kokoro-82M was trained on English, Spanish, French, Italian, Brazilian Portuguese,
Hindi, Japanese and Mandarin. Each :class:`Language` says how its text is turned into
Kokoro's symbols (espeak-ng, or a dedicated G2P for Japanese and Mandarin).

:func:`detect_language` only trusts the writing system (Devanagari is Hindi, kana is
Japanese, Han without kana is Mandarin); Latin-script languages cannot be told apart
reliably from a sentence without a statistical model, so Latin text is English unless
a language is given.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

from voxclone.errors import TextError
from voxclone.text.chunk import sentence_pieces

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Language",
    "detect_language",
    "detect_sections",
    "resolve_language",
]

logger = logging.getLogger(__name__)

#: How a language's text becomes phonemes.
G2PKind = Literal["espeak", "japanese", "mandarin"]


@dataclass(frozen=True)
class Language:
    """One language voxclone can speak.

    Attributes:
        code: voxclone's code for it (``"es"``, ``"pt-br"``...), as given to ``language=``.
        name: its English name.
        g2p: which phonemizer reads it.
        espeak: the espeak-ng voice for ``g2p == "espeak"``.
        num2words: num2words' language code, or ``""`` where num2words has none.
    """

    code: str
    name: str
    g2p: G2PKind
    espeak: str = ""
    num2words: str = ""


# fmt: off
LANGUAGES: dict[str, Language] = {lang.code: lang for lang in (
    Language("en-us", "English (American)", "espeak", "en-us", "en"),
    Language("en-gb", "English (British)", "espeak", "en-gb", "en"),
    Language("es", "Spanish", "espeak", "es", "es"),
    Language("fr", "French", "espeak", "fr-fr", "fr"),
    Language("it", "Italian", "espeak", "it", "it"),
    Language("pt-br", "Portuguese (Brazilian)", "espeak", "pt-br", "pt_BR"),
    Language("hi", "Hindi", "espeak", "hi", ""),
    Language("ja", "Japanese", "japanese", "", "ja"),
    Language("zh", "Mandarin Chinese", "mandarin", "", ""),
)}
# fmt: on

#: Other spellings accepted for a code (case and ``_``/``-`` are ignored as well).
_ALIASES = {
    "en": "en-us", "english": "en-us", "pt": "pt-br", "cmn": "zh", "zh-cn": "zh",
    "mandarin": "zh", "spanish": "es", "french": "fr", "italian": "it",
    "portuguese": "pt-br", "hindi": "hi", "japanese": "ja", "jp": "ja",
}

DEFAULT_LANGUAGE = "en-us"

_DEVANAGARI_RE = re.compile(r"[\u0900-\u097f]")
_KANA_RE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff\uff21-\uff3a\uff41-\uff5a]")
_LETTER_RE = re.compile(r"[^\W\d_]")
#: Share of a text's letters that must be in one script for it to decide the language.
_SCRIPT_SHARE = 0.5
#: Share of a sentence's letters in the text's main script that keeps it in the main
#: language (its other words are read by their own script's phonemizer).
_SECTION_SHARE = 0.25


def resolve_language(code: str) -> Language:
    """The :class:`Language` for ``code`` (``"es"``, ``"pt-BR"``, ``"pt_br"``, ``"zh"``...).

    Raises:
        TextError: ``code`` is not one of the languages voxclone speaks; the message
            lists the valid codes.
    """
    key = str(code).strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    try:
        return LANGUAGES[key]
    except KeyError:
        raise TextError(
            f"unknown language {code!r}; use one of: {', '.join(LANGUAGES)}"
        ) from None


def _script_language(text: str) -> str | None:
    """The language the script of ``text`` says, ``None`` when it has no letters."""
    letters = len(_LETTER_RE.findall(text))
    if not letters:
        return None
    devanagari = len(_DEVANAGARI_RE.findall(text))
    kana, han = len(_KANA_RE.findall(text)), len(_HAN_RE.findall(text))
    if devanagari / letters >= _SCRIPT_SHARE:
        return "hi"
    if (kana + han) / letters >= _SCRIPT_SHARE:
        return "ja" if kana else "zh"
    return DEFAULT_LANGUAGE


def detect_language(text: str) -> str:
    """The code of the language ``text`` is written in, judged by its script only.

    Returns ``"hi"`` when most letters are Devanagari, ``"ja"`` when most are kana or
    Han and some are kana, ``"zh"`` when most are Han and none are kana, and
    :data:`DEFAULT_LANGUAGE` otherwise (Latin-script languages are not told apart:
    give ``language=`` for Spanish, French, Italian or Portuguese). Never raises.
    """
    code = _script_language(text) or DEFAULT_LANGUAGE
    if code == DEFAULT_LANGUAGE and (_DEVANAGARI_RE.search(text) or _KANA_RE.search(text)
                                     or _HAN_RE.search(text)):
        logger.info("text mixes scripts without a majority; reading it as %s "
                    "(pass language= to choose)", DEFAULT_LANGUAGE)
    return code


def _main_script_share(text: str, main: str) -> float:
    letters = len(_LETTER_RE.findall(text))
    if main == "hi":
        found = len(_DEVANAGARI_RE.findall(text))
    elif main in ("ja", "zh"):
        found = len(_KANA_RE.findall(text)) + len(_HAN_RE.findall(text))
    else:
        found = len(_LATIN_RE.findall(text))
    return found / letters if letters else 1.0


def detect_sections(text: str) -> list[tuple[str, str]]:
    """``text`` cut into sections of consecutive sentences in one language each:
    ``(code, section)`` pairs whose sections, joined, give back ``text`` exactly.

    The text's main language is :func:`detect_language`'s. A sentence stays in it
    when at least a quarter of its letters are in the main script (its words in other
    scripts are read by their own phonemizer); otherwise its own script decides, as
    :func:`detect_language` does, with Han-only sentences read as Japanese when the
    text has kana elsewhere. Sentences without letters ("2024.") go with the sentence
    before (the first ones with the one after). Never raises; ``[]`` for ``""``.
    """
    main = detect_language(text)
    japanese = bool(_KANA_RE.search(text))
    codes: list[str | None] = []
    pieces = sentence_pieces(text)
    for piece in pieces:
        code = _script_language(piece)
        if code is not None and _main_script_share(piece, main) >= _SECTION_SHARE:
            code = main
        codes.append("ja" if code == "zh" and japanese else code)
    known = [code for code in codes if code is not None]
    current = known[0] if known else main
    sections: list[tuple[str, str]] = []
    for piece, found in zip(pieces, codes, strict=True):
        current = found or current
        if sections and sections[-1][0] == current:
            sections[-1] = (current, sections[-1][1] + piece)
        else:
            sections.append((current, piece))
    return sections
