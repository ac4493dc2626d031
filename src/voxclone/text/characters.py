"""Language-neutral character clean-up, the first step of every language's normaliser.

:func:`clean_characters` makes raw text safe and plain for any phonemizer:

- ANSI terminal escapes (``"\\x1b[31m"``) are removed; other control characters become
  a space (so ``"Hello\\x00world"`` keeps both words); format characters (zero-width
  joiners, bidi marks, tags), private-use, surrogate and unassigned code points go.
- Emoji and pictographs (emoticons, pictographs, dingbats, geometric shapes, box
  drawing, flags, skin tones, variation selectors, keycaps) are dropped: espeak-ng
  would read their names ("grinning face"). Symbols the normalisers read on purpose
  (``° % © ® ™``, currency, math, arrows, ``♯ ♭``) are kept.
- Unicode NFKC folds compatibility characters: full-width Latin and digits
  (``"ＨＥＬＬＯ"`` -> ``"HELLO"``), half-width katakana, ligatures (``"ﬁ"``),
  enclosed alphanumerics (``"①"`` -> ``"1"``; ``"①-नन"`` made espeak-ng segfault),
  Roman numeral signs (``"Ⅻ"`` -> ``"XII"``), ``"℃"`` -> ``"°C"``. Characters whose
  NFKC form would lose their reading are kept as they are (:data:`NFKC_KEPT`): vulgar
  fractions (``"2½"`` is not ``"21⁄2"``), superscripts (``"10²"`` is not ``"102"``),
  the ordinal indicators ``ª º``, ``™ ℠ № µ …`` and the CJK full-width sentence and
  clause punctuation (``！？，：；（）～``) that the sentence splitter and G2Ps rely on.
- Curly quotes, dashes, unusual spaces and line breaks become plain ones.
- Runs of whitespace collapse to one space, one line break, or one blank line (a
  paragraph break), so no later regex meets a long run (backtracking over one is
  quadratic).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["NFKC_KEPT", "clean_characters", "fold_digits", "separate_glued_hyphens"]

#: Characters left out of NFKC because their compatibility form would be misread.
NFKC_KEPT = (
    "\u00bc\u00bd\u00be\u2150-\u215e\u2189"  # vulgar fractions: ¼ ½ ¾ ⅐ ... ⅞ ↉
    "\u00b9\u00b2\u00b3\u2070\u2074-\u207e"  # superscript digits, signs, brackets
    "\u00aa\u00ba"  # ordinal indicators (Spanish, Italian, Portuguese "3ª")
    "\u2122\u2120\u2116\u00b5\u2026"  # ™ ℠ № µ (micro, not Greek mu) …
    "\uff01\uff1f\uff08\uff09\uff0c\uff1a\uff1b\uff5e"  # ！？（），：；～
)
_KEPT_RE = re.compile(f"([{NFKC_KEPT}]+)")

#: Replacement -> the characters rewritten to it.
_CHAR_GROUPS: dict[str, str] = {
    "'": "\u2018\u2019\u201a\u201b\u2032\u00b4",  # curly / low / prime quotes, acute accent
    '"': "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb",  # curly / low / guillemets
    "-": "\u2010\u2011\u2012\u2212\ufe63\uff0d",  # hyphens, minus sign
    "\u2014": "\u2015\u2e3a\u2e3b",  # horizontal bar, two/three-em dash -> em dash
    "/": "\u2044\u2215",  # fraction slash ("1⁄2"), division slash
    " ": "\t\u00a0\u2007\u2009\u200a\u202f",  # tab, no-break and thin spaces
    # zero-width characters, soft hyphen, spacing accents (NFKC makes them a space
    # and a combining mark, which would split a word), keycap, variation selectors
    "": "\u200b\u200c\u200d\ufeff\u00ad\u00a8\u00af\u00b8\u02d8\u02d9\u02da\u02db\u02dc"
        "\u02dd\u20e3\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a"
        "\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f\u3030\u303d",
    "\n": "\r\u2028\u0085\u000b\u000c\u001c\u001d\u001e",  # line and page breaks
}

#: Code point ranges of emoji and pictographs, dropped (inclusive bounds).
_PICTOGRAPHS: tuple[tuple[int, int], ...] = (
    (0x2300, 0x23FF),  # miscellaneous technical: ⌚ ⏰ ⏩
    (0x2500, 0x25FF),  # box drawing, block elements, geometric shapes: ─ █ ● ▶
    (0x2600, 0x266C),  # miscellaneous symbols: ☀ ☺ ♥ (♭ ♮ ♯ are kept)
    (0x2670, 0x2775),
    (0x2794, 0x27BF),  # dingbats: ✓ ✨ ❤ (the circled digits ❶ ➀ ➊ are read)
    (0x2B00, 0x2BFF),  # ⬛ ⭐ ⭕
    (0x1F000, 0x1FAFF),  # emoticons, pictographs, flags, skin tones...
    (0xE0100, 0xE01EF),  # variation selectors supplement
)
_DROPPED_CATEGORIES = frozenset(("Cf", "Cs", "Co", "Cn"))
#: ❶-❿, ➀-➉, ➊-➓ (dingbat circled digits, which NFKC leaves alone) -> their number.
_DINGBAT_DIGITS = {0x2776 + 10 * block + n: str(n + 1) for block in range(3) for n in range(10)}
_CACHE_LIMIT = 1 << 16

_ANSI_RE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves ("\x1b[31m")
    r"|\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|[@-Z\\-_])"  # two-character escapes
)
_WHITESPACE_RE = re.compile(r"\s{2,}")
#: A run of hyphens before a letter (matched from its first hyphen only, so that a long
#: run is scanned once): see :func:`separate_glued_hyphens`.
_HYPHEN_RUN_RE = re.compile(r"(?<!-)-+(?=[^\W\d_])")
#: Runs of characters that are neither word characters nor spaces: where combining
#: marks that belong to no letter hide ("\u0301h" also crashes espeak-ng).
_NON_WORD_RUN_RE = re.compile(r"[^\w\s]+")
#: A decimal digit (Unicode category Nd, what ``\d`` matches) that is not ASCII.
_OTHER_DIGIT_RE = re.compile(r"(?![0-9])\d")


class _CharTable(dict[int, "str | None"]):
    """``str.translate`` table: fixed replacements, plus a per-code-point decision
    (drop, space, or keep) made on first sight and cached."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        category = unicodedata.category(char)
        value: str | None
        if code in _DINGBAT_DIGITS:
            value = _DINGBAT_DIGITS[code]
        elif category == "Cc":
            value = " "  # NUL, ESC, DEL...: a word gap, not glue
        elif category in _DROPPED_CATEGORIES or any(
            low <= code <= high for low, high in _PICTOGRAPHS
        ):
            value = None
        else:
            value = char
        if len(self) < _CACHE_LIMIT:  # bounded: text can hold any of 1.1M code points
            self[code] = value
        return value


_TABLE = _CharTable(
    {ord(char): new for new, chars in _CHAR_GROUPS.items() for char in chars}
    | {ord("\u2029"): "\n\n", ord("\n"): "\n"}
)


def _nfkc(text: str) -> str:
    """NFKC, leaving the characters of :data:`NFKC_KEPT` as they are."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    parts = _KEPT_RE.split(text)  # kept runs at the odd indices
    return "".join(
        part if index % 2 else unicodedata.normalize("NFKC", part)
        for index, part in enumerate(parts)
    )


def _stray_marks(match: re.Match[str]) -> str:
    """Drop the combining marks of a non-word run that follow no letter: those at its
    start when nothing but a space (or the start of the text) comes before, and those
    after a symbol or punctuation mark."""
    run = match[0]
    attached = match.start() > 0 and not match.string[match.start() - 1].isspace()
    kept = []
    for char in run:
        if unicodedata.category(char)[0] == "M":
            if not attached:
                continue
        else:
            attached = False
        kept.append(char)
    return "".join(kept)


def _hyphens(match: re.Match[str]) -> str:
    run = match[0]
    before = match.string[match.start() - 1 : match.start()]
    glued = len(run) > 1 or (before != "" and not before.isspace() and not before.isalnum())
    return run + " " if glued else run


def separate_glued_hyphens(text: str) -> str:
    """Put a space after hyphens glued between a symbol and a letter ("'-ष" -> "'- ष",
    "|-डस", "---लच्छेद"), which make espeak-ng segfault (espeak-ng issue #831: the
    hyphenated word looks back into the symbol's empty phoneme list). Hyphens inside a
    word ("well-known", "1-नन") and before digits ("(-5)") are left alone.
    """
    return _HYPHEN_RUN_RE.sub(_hyphens, text) if "-" in text else text


def fold_digits(text: str) -> str:
    """``text`` with every decimal digit that is not ASCII ("٣", "३", "߅") as its ASCII
    digit: the Japanese and Mandarin G2Ps read only ASCII digits
    (misaki's Japanese raised KeyError on others, the Mandarin one drops them). Never raises."""
    if text.isascii():
        return text
    return _OTHER_DIGIT_RE.sub(lambda m: str(unicodedata.decimal(m[0])), text)


def _whitespace(match: re.Match[str]) -> str:
    breaks = match[0].count("\n")
    return " " if not breaks else "\n" if breaks == 1 else "\n\n"


def clean_characters(text: str) -> str:
    """Make ``text`` plain: no control, format or emoji characters, NFKC-folded,
    plain quotes, dashes, spaces and line breaks, whitespace runs collapsed (a blank
    line is kept as a paragraph break). Language-neutral: every language's
    normalisation starts here. Linear in the length of ``text``; never raises.
    """
    text = text.replace("\r\n", "\n")
    if "\x1b" in text:
        text = _ANSI_RE.sub("", text)
    text = _nfkc(text.translate(_TABLE)).translate(_TABLE)
    if not text.isascii():
        text = _NON_WORD_RUN_RE.sub(_stray_marks, text)
    text = separate_glued_hyphens(text)
    return _WHITESPACE_RE.sub(_whitespace, text)
