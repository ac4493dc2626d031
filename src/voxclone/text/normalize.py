"""English text normalisation: spell out numbers, symbols and abbreviations.

The phonemizer reads words, not digits or symbols, and reads some of them badly
("$3.50", "10:05 pm", "Dr."), so :func:`normalize_text` rewrites them as the words a
speaker would say. Sentence punctuation (``. , ! ? ; : — …``) is kept because it
drives the model's prosody. Characters are cleaned first
(:mod:`voxclone.text.characters`), then markup is dropped (:mod:`voxclone.text.markup`)
and addresses spelled out (:mod:`voxclone.text.urls`); dates and Roman numerals have
their own modules (:mod:`voxclone.text.dates`, :mod:`voxclone.text.roman`).

Everything here is table-driven; the only import-time work is compiling regexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from num2words import num2words

from voxclone.text.characters import clean_characters, separate_glued_hyphens
from voxclone.text.dates import expand_dates
from voxclone.text.markup import strip_markup
from voxclone.text.numwords import (
    MAX_GROUPED_DIGITS,
    american,
    decade_words,
    fraction_words,
    number_to_words,
    ordinal_words,
    read_digits,
)
from voxclone.text.ranges import expand_ranges, reads_as_quantity
from voxclone.text.roman import expand_roman_numerals
from voxclone.text.urls import expand_addresses

__all__ = ["clean_characters", "normalize_text", "number_to_words"]

# --------------------------------------------------------------------------- tables

#: (pattern, spoken form, may end a sentence). The spoken form may use ``\\1`` for a
#: group of the pattern. Patterns are case-sensitive: "No." is only "number" before digits.
_ABBREVIATIONS: tuple[tuple[str, str, bool], ...] = (
    (r"\b(?:Mrs|MRS|mrs)\.", "Missus", False),
    (r"\b(?:Mr|MR|mr)\.", "Mister", False),
    (r"\b(?:Ms|MS|ms)\.", "Miz", False),
    (r"\b(?:Dr|DR|dr)\.", "Doctor", False),
    (r"\b(?:Prof|PROF|prof)\.", "Professor", False),
    # "Main St." / "42nd St." is a street; "St. Louis" / "to St. Paul" is a saint.
    (r"(?<=[^.!?]\s)([A-Z][a-z]+|\d+(?:st|nd|rd|th)?) St\.", r"\1 Street", True),
    (r"\bSt\.(?=\s+[A-Z])", "Saint", False),
    (r"\bSt\.", "Street", True),
    (r"\b(?:Jr|JR)\.", "Junior", True),
    (r"\b(?:Sr|SR)\.", "Senior", True),
    (r"\b(?:vs|VS|Vs)\.?(?=\s)", "versus", False),
    (r"\b(?:etc|Etc|ETC)\.", "et cetera", True),
    (r"\b[Ee]\.\s?[Gg]\.", "for example", False),
    (r"\b[Ii]\.\s?[Ee]\.", "that is", False),
    (r"\b(?:No|NO|no)\.\s*(?=\d)", "number ", False),
    (r"#(?=\d)", "number ", False),
    (r"\u2116\s*", "number ", False),  # №
)
#: CJK full-width punctuation that clean_characters keeps; espeak's English drops it.
_FULL_WIDTH = str.maketrans("\uff01\uff1f\uff08\uff09\uff0c\uff1a\uff1b\uff5e", "!?(),:;~")

#: Symbol -> spoken word (surrounded by spaces; whitespace is collapsed afterwards).
_SYMBOLS: dict[str, str] = {
    "&": "and",
    "+": "plus",
    "@": "at",
    "=": "equals",
    "%": "percent",
    "°": "degrees",
    "×": "times",
    "÷": "divided by",
    "~": "about",
}

#: Currency symbol -> (unit singular, unit plural, cent singular, cent plural).
_CURRENCIES: dict[str, tuple[str, str, str, str]] = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "sen", "sen"),
}

_SCALES = r"(?:thousand|million|billion|trillion)"
#: Short scale written glued to an amount ("$2.5bn", "$40k") -> its word.
_SCALE_ABBREVIATIONS: dict[str, str] = {
    "k": "thousand",
    "K": "thousand",
    "m": "million",
    "M": "million",
    "mn": "million",
    "b": "billion",
    "B": "billion",
    "bn": "billion",
    "tn": "trillion",
    "T": "trillion",
}

# ------------------------------------------------------------------------- regexes

_NUM = r"\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?"  # "1,234.5", "3.14", "42"
_NUM_RE = re.compile(rf"(?<!\d)(?:{_NUM})|(?<![\w.])\.\d+")  # also ".5"
_ABBREV_RES = tuple((re.compile(p), w, e) for p, w, e in _ABBREVIATIONS)
_SENTENCE_AFTER_RE = re.compile(r"[\"')\]]?(?:\s*$|[ ]*\n|\s+[\"'(]?[A-Z])")
_ELLIPSIS_RE = re.compile(r"\.{3,}|(?:\. ){2,}\.")
# (?<!\s) before \s*: a match starts only where a run of spaces does (else each space
# of a long run rescans the rest of it: quadratic).
_DOUBLE_DASH_RE = re.compile(r"(?<!\s)\s*--+\s*")
_DOTTED_RE = re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d.]\d)")  # versions, IP addresses
_DASHED_RE = re.compile(r"(?<![\d-])\d+(?:-\d+){2,}(?![\d-])")  # phone numbers, codes
_EN_DASH_RE = re.compile(r"(?<!\s)\s*\u2013\s*")
_CURRENCY_RE = re.compile(
    rf"([$£€¥])\s?({_NUM}|\.\d+)"
    rf"(?:\s?({_SCALES})\b|({'|'.join(sorted(_SCALE_ABBREVIATIONS, key=len, reverse=True))})\b)?"
)
_CENTS_RE = re.compile(rf"(?<!\d)({_NUM})\s?¢")
#: International ("+1 (555) 123-4567", "+44 20 7946 0958", "+15551234567") and US
#: ("(555) 123-4567", "555.123.4567") phone numbers; "555-123-4567" is a _DASHED_RE code.
_PHONE_RE = re.compile(
    r"(?<![\w+.-])(?:\+\d{1,3}(?:[ .-]?\(\d{1,4}\)|[ .-]\d{2,4}){2,5}|\+\d{8,15}"
    r"|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}\.\d{3}\.\d{4})(?![\w-]|\.\d)"
)
#: "Call 555-1234": a local phone number, not a range (unless it looks like one:
#: "300-1200 calories", with no phone word before it).
_LOCAL_PHONE_RE = re.compile(r"(?<![\w.,+-])([2-9]\d\d)-(\d{4})(?![\w-]|[.,]\d)")
_PHONE_WORDS_RE = re.compile(
    r"\b(?:call|dial|phone|tel|telephone|fax|text|number|contact|reach|mobile|cell)\b",
    re.IGNORECASE,
)
#: "call 911" (the emergency number), digit by digit; a bare "911" is left as it is.
_EMERGENCY_RE = re.compile(
    r"\b((?i:call(?:ed|ing)?|dial(?:l?ed|l?ing)?|phoned?|ring|text(?:ed)?)\s+)911(?![\w,.]?\d)"
)
#: Decades: "1990s", "the '90s", "1980's", "his 20s" (two digits without an apostrophe
#: only after one of _DECADE_AFTER: "a timeout of 30s" is seconds).
_DECADE_RE = re.compile(r"(?<![\w.,$£€¥'])('?)(1[1-9]\d0|20\d0|[1-9]0)'?s\b")
_DECADE_AFTER_RE = re.compile(
    r"\b(?:the|in|his|her|their|my|your|our|its|early|mid|late)[ -]$", re.IGNORECASE
)
#: "20°C", "-5 °F", "90°", "1°" (℃ and ℉ arrive here as "°C" and "°F").
_DEGREE_RE = re.compile(r"(?<![\d.,])(\d[\d,]*(?:\.\d+)?)\s?°(?:\s?([CFK])(?![A-Za-z]))?")
_DEGREE_UNITS = {"C": " Celsius", "F": " Fahrenheit", "K": " kelvin", None: ""}
#: Superscript powers after a number, a bracket or a unit ("10²", "x³", "km²", "10⁻³");
#: after a longer word they are footnote marks, dropped.
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_POWER_RE = re.compile(
    r"(?:(?<=[\d)])|(?<=\b[A-Za-z])|(?<=\b[A-Za-z]{2}))([⁺⁻]?)([⁰¹²³⁴-⁹]+)(?![⁰¹²³⁴-⁹])"
)
_FOOTNOTE_RE = re.compile(r"[⁰¹²³⁴-⁹⁺⁻⁼⁽⁾]+")
#: Words longer than this are cut (espeak-ng silently drops most of a very long word).
_LONG_TOKEN_RE = re.compile(r"\S{101,}")
_TOKEN_PIECE = 50
#: "3/4", "2 1/2", "24/7": digits either side of a slash, not part of a path or date.
_SLASH_RE = re.compile(r"(?<![\w/.,])(?:(\d{1,3}) )?(\d{1,3})/(\d{1,3})(?![\w/]|[.,]\d)")
_VULGAR_FRACTIONS: dict[str, str] = {
    "½": "1/2", "¼": "1/4", "¾": "3/4", "⅓": "1/3", "⅔": "2/3", "⅕": "1/5", "⅖": "2/5",
    "⅗": "3/5", "⅘": "4/5", "⅙": "1/6", "⅚": "5/6", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8",
    "⅞": "7/8", "⅐": "1/7", "⅑": "1/9", "⅒": "1/10",
}  # fmt: skip
_VULGAR_RE = re.compile(rf"(\d?)([{''.join(_VULGAR_FRACTIONS)}])")
_MERIDIEM = r"\s?([AaPp])\.?\s?[Mm](?![A-Za-z])\.?"
_TIME_RE = re.compile(
    rf"\b([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?:{_MERIDIEM})?"
    rf"|\b(1[0-2]|0?[1-9]){_MERIDIEM}"
)
_PERCENT_RE = re.compile(rf"(?<!\d)({_NUM})\s?%")
_ORDINAL_RE = re.compile(r"\b(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_NEGATIVE_RE = re.compile(r"(?<![\w.])-(?=[$£€¥]?\.?\d)")
_SYMBOL_RE = re.compile("|".join(re.escape(s) for s in _SYMBOLS))
_SPACE_BEFORE_PUNCT_RE = re.compile(r"(?<!\s)\s+([.,!?;:…)])")
_SPACES_RE = re.compile(r"[ ]{2,}")
_NEWLINE_SPACE_RE = re.compile(r"(?<! ) *\n *")
_NEWLINES_RE = re.compile(r"\n{3,}")

# ------------------------------------------------------------------------- helpers


def _money(match: re.Match[str]) -> str:
    """'$3.50' -> 'three dollars and fifty cents', '$2.5bn' -> 'two point five billion dollars'."""
    symbol, amount = match[1], match[2]
    scale = match[3] or _SCALE_ABBREVIATIONS.get(match[4] or "")
    unit, units, cent, cents = _CURRENCIES[symbol]
    if scale:  # "$5 million" / "$2.5 billion" -> "five million dollars"
        return f"{number_to_words(amount, as_year=False)} {scale} {units}"
    integer, _, fraction = amount.replace(",", "").partition(".")
    if len(fraction) > 2 or len(integer) > MAX_GROUPED_DIGITS:  # "$1.005": not cents
        return f"{number_to_words(amount, as_year=False)} {units}"
    whole = int(integer or 0)
    change = int(fraction.ljust(2, "0")) if fraction else 0
    parts = []
    if whole or not change:
        parts.append(
            f"{number_to_words(str(whole), as_year=False)} {unit if whole == 1 else units}"
        )
    if change:
        parts.append(f"{american(num2words(change))} {cent if change == 1 else cents}")
    return " and ".join(parts)


def _stop(match: re.Match[str]) -> str:
    """'.' if the match swallowed a full stop that also ends the sentence, else ''."""
    if match[0].endswith(".") and _SENTENCE_AFTER_RE.match(match.string, match.end()):
        return "."
    return ""


def _time(match: re.Match[str]) -> str:
    """'10:05 pm' -> 'ten oh five pee em', '23:59:59' -> '... and fifty-nine seconds'."""
    if match[1] is None:  # "5pm", "11 a.m."
        hour, minute, second, meridiem = int(match[5]), 0, 0, match[6]
    else:
        hour, minute, meridiem = int(match[1]), int(match[2]), match[4]
        second = int(match[3] or 0)
    words = american(num2words(hour))
    if minute == 0:
        words += "" if meridiem else " o'clock" if hour <= 12 else " hundred"
    elif minute < 10:
        words += f" oh {num2words(minute)}"
    else:
        words += f" {num2words(minute)}"
    if meridiem:
        words += " ay em" if meridiem in "Aa" else " pee em"
    if second:
        words += f" and {num2words(second)} second{'s' if second > 1 else ''}"
    return words + _stop(match)


def _pad(match: re.Match[str], words: str) -> str:
    """Return ``words`` spaced off any letter the match is glued to ("MP3", "5kg")."""
    start, end = match.span()
    before, after = match.string[max(start - 1, 0) : start], match.string[end : end + 1]
    return (" " if before.isalpha() else "") + words + (" " if after.isalpha() else "")


def _number(match: re.Match[str]) -> str:
    # "1234 calories" is a quantity: only a number without a measure may be a year.
    quantity = reads_as_quantity(match.string, match.start(), match.end())
    return _pad(match, number_to_words(match[0], as_year=not quantity))


def _ordinal(match: re.Match[str]) -> str:
    digits = match[1].replace(",", "")
    if len(digits) > 15:  # as for cardinals: too long to say as one number
        return f"{read_digits(digits)} {match[2]}"
    return ordinal_words(int(digits))


def _phone(match: re.Match[str]) -> str:
    """Digits one by one, a pause between groups: '+1 (555) 123-4567' -> 'plus one, five ...'."""
    groups = re.findall(r"\d+", match[0])
    words = ", ".join(read_digits(group) for group in groups)
    return _pad(match, ("plus " if match[0].startswith("+") else "") + words)


def _local_phone(match: re.Match[str]) -> str:
    """'555-1234' -> 'five five five, one two three four', unless it reads as a range."""
    context = match.string[max(0, match.start() - 40) : match.start()]
    if match[2].endswith("00") and not _PHONE_WORDS_RE.search(context):
        return match[0]  # "300-1200 calories": left to the range rule
    return f"{read_digits(match[1])}, {read_digits(match[2])}"


def _decade(match: re.Match[str]) -> str:
    """'1990s' -> 'nineteen nineties', "the '90s" -> 'the nineties'."""
    apostrophe, digits = match[1], match[2]
    before = match.string[max(0, match.start() - 8) : match.start()]
    if len(digits) == 2 and not apostrophe and not _DECADE_AFTER_RE.search(before):
        return match[0]
    return _pad(match, decade_words(digits))


def _degrees(match: re.Match[str]) -> str:
    """'20°C' -> '20 degrees Celsius', '1°' -> '1 degree'."""
    unit = "degree" if match[1] == "1" else "degrees"
    return f"{match[1]} {unit}{_DEGREE_UNITS[match[2]]}"


def _power(match: re.Match[str]) -> str:
    """'²' -> ' squared', '³' -> ' cubed', '⁻⁴' -> ' to the power of minus 4'."""
    sign, digits = match[1], match[2].translate(_SUPERSCRIPTS)
    if not sign and digits in ("2", "3"):
        return " squared" if digits == "2" else " cubed"
    return f" to the power of {'minus ' if sign == '⁻' else ''}{digits}"


def _long_token(match: re.Match[str]) -> str:
    token = match[0]
    return " ".join(token[i : i + _TOKEN_PIECE] for i in range(0, len(token), _TOKEN_PIECE))


def _slash(match: re.Match[str]) -> str:
    """'3/4' -> 'three quarters', '2 1/2' -> 'two and a half', '24/7' -> 'twenty-four seven'."""
    whole, top, bottom = match[1], match[2], match[3]
    fraction = fraction_words(int(top), int(bottom), mixed=whole is not None)
    if fraction is None:  # not a fraction: read both numbers, as in "24/7" or "9/11"
        return f"{whole + ' ' if whole else ''}{top} {bottom}"
    return f"{number_to_words(whole, as_year=False)} and {fraction}" if whole else fraction


def _vulgar(match: re.Match[str]) -> str:
    """'2½' -> '2 1/2', for :data:`_SLASH_RE` to read."""
    return (match[1] + " " if match[1] else "") + _VULGAR_FRACTIONS[match[2]]


def _dotted(match: re.Match[str]) -> str:
    return _pad(match, " dot ".join(number_to_words(p, as_year=False) for p in match[0].split(".")))


def _dashed(match: re.Match[str]) -> str:
    return _pad(match, ", ".join(read_digits(part) for part in match[0].split("-")))


def _abbreviation(word: str, may_end: bool) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return match.expand(word) + (_stop(match) if may_end else "")

    return replace


# --------------------------------------------------------------------------- public


def normalize_text(text: str) -> str:
    """Rewrite English ``text`` so that every word can be read out by the phonemizer.

    Expands numbers (cardinals, decimals, negatives, ordinals, years, decades,
    ranges, fractions, powers), currency (also "$2.5bn", "5¢"), percentages,
    temperatures, clock times, dates (:mod:`voxclone.text.dates`), phone numbers,
    Roman numerals after "Chapter", "King George"... (:mod:`voxclone.text.roman`),
    URLs, e-mail addresses and paths (:mod:`voxclone.text.urls`), common
    abbreviations and symbols; drops SSML/HTML tags and Markdown marks
    (:mod:`voxclone.text.markup`); cleans characters
    (:func:`~voxclone.text.characters.clean_characters`: NFKC, no control characters
    or emoji, plain quotes and dashes); cuts words of over 100 characters into pieces;
    collapses runs of spaces (paragraph breaks are kept as a blank line). Sentence
    punctuation is kept. Linear in the length of ``text``.

    Never raises: text with nothing to say comes back empty (the phonemizer raises
    :class:`~voxclone.errors.TextError` for that).
    """
    text = clean_characters(text).translate(_FULL_WIDTH)
    text = _SPACES_RE.sub(" ", expand_addresses(strip_markup(text)))
    text = _ELLIPSIS_RE.sub("\u2026", text)
    text = _DOUBLE_DASH_RE.sub(" \u2014 ", text)
    for regex, word, may_end in _ABBREV_RES:
        text = regex.sub(_abbreviation(word, may_end), text)
    text = _EMERGENCY_RE.sub(r"\1nine one one", text)
    text = _PHONE_RE.sub(_phone, text)
    text = _LOCAL_PHONE_RE.sub(_local_phone, text)
    text = expand_roman_numerals(expand_dates(text))
    text = _DOTTED_RE.sub(_dotted, text)
    text = _DASHED_RE.sub(_dashed, text)
    text = expand_ranges(text)
    text = _EN_DASH_RE.sub(" \u2014 ", text)
    text = _DEGREE_RE.sub(_degrees, text)
    text = _NEGATIVE_RE.sub("minus ", text)
    text = _CURRENCY_RE.sub(_money, text)
    text = _TIME_RE.sub(_time, text)
    text = _PERCENT_RE.sub(lambda m: f"{m[1]} percent", text)
    text = _CENTS_RE.sub(lambda m: f"{m[1]} cent{'' if m[1] == '1' else 's'}", text)
    text = _DECADE_RE.sub(_decade, text)
    text = _VULGAR_RE.sub(_vulgar, text)
    text = _SLASH_RE.sub(_slash, text)
    text = _FOOTNOTE_RE.sub("", _POWER_RE.sub(_power, text))
    text = _ORDINAL_RE.sub(_ordinal, text)
    text = _NUM_RE.sub(_number, text)
    text = _SYMBOL_RE.sub(lambda m: f" {_SYMBOLS[m[0]]} ", text)
    # Again: the rules above may glue a hyphen to a symbol ("(-" + "minus five")
    text = separate_glued_hyphens(_LONG_TOKEN_RE.sub(_long_token, text))
    text = _SPACES_RE.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT_RE.sub(r"\1", text)
    text = _NEWLINE_SPACE_RE.sub("\n", text)
    text = _NEWLINES_RE.sub("\n\n", text)
    return text.strip()
