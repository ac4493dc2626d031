"""English dates as an American speaker reads them.

``2024-03-05`` and ``03/05/2024`` become "March fifth, twenty twenty-four"; month
abbreviations before a number are written out ("Jan. 1st" -> "January first") and a
month name followed by a day number reads the day as an ordinal ("May 5" -> "May
fifth"). Used by :func:`voxclone.text.normalize.normalize_text`.
"""

from __future__ import annotations

import re

from voxclone.text.numwords import number_to_words, ordinal_words, read_digits

__all__ = ["expand_dates"]

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
#: Abbreviation -> month; expanded only before a number ("Jan. 1st", "Sept 2024").
_MONTH_ABBREVIATIONS = {month[:3]: month for month in _MONTHS if month != "May"} | {
    "Sept": "September"
}

#: Year first (ISO 8601): "2024-03-05", "2024/03/05"; an ISO "T" before a time reads "at".
_ISO_DATE_RE = re.compile(
    r"(?<![\w/.-])([12]\d{3})([-/])(0?[1-9]|1[0-2])\2(0?[1-9]|[12]\d|3[01])"
    r"(?:(?![\w/-]|\.\d)|(T)(?=\d))"
)
#: Month first (US): "05/03/2024", "5-3-2024", "5/3/24" (two-digit years only with "/").
_US_DATE_RE = re.compile(
    r"(?<![\w/.-])(\d{1,2})([/-])(\d{1,2})\2(\d{4}|(?<=/)\d{2})(?![\w/-]|\.\d)"
)
_MONTH_ABBREV_RE = re.compile(rf"\b({'|'.join(_MONTH_ABBREVIATIONS)})\b\.?(?=\s+\d)")
_MONTH_DAY_RE = re.compile(
    rf"\b({'|'.join(_MONTHS)})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?![:.,/-]\d)"
)


def _year(digits: str) -> str:
    """'2024' -> 'twenty twenty-four', '2005' -> 'two thousand five', '05' -> 'oh five'."""
    if len(digits) == 4:
        return number_to_words(digits)
    value = int(digits)
    if value == 0:
        return "two thousand"
    return f"oh {read_digits(digits[1])}" if value < 10 else number_to_words(digits)


def _date_words(month: int, day: int, year: str) -> str | None:
    """'March fifth, twenty twenty-four' for (3, 5, "2024"); ``None`` if not a date."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{_MONTHS[month - 1]} {ordinal_words(day)}, {_year(year)}"


def _iso_date(match: re.Match[str]) -> str:
    words = _date_words(int(match[3]), int(match[4]), match[1])
    return match[0] if words is None else words + (" at " if match[5] else "")


def _us_date(match: re.Match[str]) -> str:
    month, day = int(match[1]), int(match[3])
    if month > 12 >= day:  # unambiguously day first: "25/12/2024"
        month, day = day, month
    words = _date_words(month, day, match[4])
    return match[0] if words is None else words


def _month_day(match: re.Match[str]) -> str:
    day = int(match[2])
    return f"{match[1]} {ordinal_words(day)}" if 1 <= day <= 31 else match[0]


def expand_dates(text: str) -> str:
    """Spell out numeric dates, month abbreviations and "Month day" in ``text``.

    Numbers that do not make a valid month and day are left for the number rules.
    """
    text = _ISO_DATE_RE.sub(_iso_date, text)
    text = _US_DATE_RE.sub(_us_date, text)
    text = _MONTH_ABBREV_RE.sub(lambda m: _MONTH_ABBREVIATIONS[m[1]], text)
    return _MONTH_DAY_RE.sub(_month_day, text)
