"""English number ranges ("300-1200 calories", "1939-1945") and the year-or-quantity
choice for four-digit numbers.

:func:`~voxclone.text.numwords.number_to_words` reads a lone four-digit number in
1100-1999 or 2010-2099 as a year ("1200" -> "twelve hundred"), which is right for
"in 1200" but wrong for a quantity: "1234 calories" is not "twelve thirty-four
calories". Two rules decide:

- A range reads as years only when both ends look like years ("1939-1945",
  "1990-95", "1100-1200 AD"); any other range is a range of quantities and both ends
  read as numbers ("300-1200 calories" -> "three hundred to one thousand two hundred
  calories", "1500-2000 words" too, see the next rule).
- A number (or range) followed by a unit or a counted noun (:data:`_MEASURES`:
  "calories", "km", "words"...) is a quantity, unless a word that introduces a year
  comes before it ("in 1999 people..." is still a year).
"""

from __future__ import annotations

import re

from voxclone.text.numwords import number_to_words

__all__ = ["expand_ranges", "reads_as_quantity"]

_NUM = r"\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?"  # as in normalize.py
_CURRENCY = r"[$£€¥]"
#: "300-1200", "$5-10", "1,200 - 1,500": two numbers joined by a hyphen or an en
#: dash; a chain of three ("1-2-3", a code) is not a range. The negative lookahead's
#: number is grouped: ungrouped, its first alternative alone ("1,500") refused
#: "1,200-1,500".
_RANGE_RE = re.compile(
    rf"(?<![\d.,-])({_CURRENCY}?)({_NUM})(\s?[-\u2013]\s?)"
    rf"(?!(?:{_NUM})[-\u2013]\d)({_CURRENCY}?)({_NUM})"
)
#: Units and counted nouns after which a number is a quantity, never a year. Case
#: matters ("the 1996 Times" is a newspaper); hours are left out ("1200 hours" is a
#: clock time), and so are lone "W" and "V" ("1200 W Main St").
_MEASURES = (
    "calories|calorie|kcal|cal|kilocalories|kJ|joules|words|characters|letters|pages|"
    "lines|people|persons|users|visitors|students|employees|workers|members|votes|"
    "items|units|pieces|copies|steps|points|times|rows|samples|tokens|"
    "km|kilometers|kilometres|miles|mi|meters|metres|m|cm|mm|feet|ft|yards|yd|"
    "inches|square|sq|cubic|kg|kilograms|g|grams|mg|milligrams|lb|lbs|pounds|oz|"
    "ounces|tons|tonnes|ml|mL|liters|litres|gallons|mph|kph|rpm|Hz|kHz|MHz|GHz|kW|kWh|"
    "watts|volts|mAh|KB|kB|MB|GB|TB|bytes|pixels|px|dpi|cc|psi|dollars|euros|yen|"
    "seconds|minutes|days|ms"
)
_MEASURE_AFTER_RE = re.compile(rf"\s?(?:{_MEASURES})\b")
#: Words after which a number is a year even before a measure ("in 1999 people...").
_YEAR_BEFORE_RE = re.compile(
    r"\b(?:in|since|until|till|before|after|during|by|year|circa|ca)\s+$", re.IGNORECASE
)
_YEAR_LIKE_RE = re.compile(r"[12]\d{3}")


def reads_as_quantity(text: str, start: int, end: int) -> bool:
    """Whether the number at ``text[start:end]`` is a quantity (a measure follows, and
    no year word comes before), so must not be read as a year."""
    if not _MEASURE_AFTER_RE.match(text, end):
        return False
    return not _YEAR_BEFORE_RE.search(text, max(0, start - 12), start)


def _years(first: str, second: str) -> bool:
    """Whether ``first``-``second`` (plain digits, no currency) is a range of years."""
    if not _YEAR_LIKE_RE.fullmatch(first) or not 1000 <= int(first) <= 2099:
        return False
    if len(second) == 2 and second.isdigit():  # "1990-95"
        return True
    return bool(_YEAR_LIKE_RE.fullmatch(second)) and int(first) <= int(second) <= 2099


def _zero_led(number: str) -> bool:
    return len(number) > 1 and number[0] == "0"


def _quantity(symbol: str, number: str) -> str:
    """One end of a range of quantities: a number that would read as a year is
    spelled out as a cardinal here; others are left to the later number rules."""
    if symbol or not _YEAR_LIKE_RE.fullmatch(number):
        return symbol + number
    return number_to_words(number, as_year=False)


def _range(match: re.Match[str]) -> str:
    first_symbol, first, _, second_symbol, second = match.groups()
    if _zero_led(first) or _zero_led(second):  # "0800-1200 hours": clock times, codes
        return f"{first_symbol}{first} to {second_symbol}{second}"
    if (not first_symbol and not second_symbol and _years(first, second)
            and not reads_as_quantity(match.string, match.start(), match.end())):
        return f"{first} to {second}"
    return f"{_quantity(first_symbol, first)} to {_quantity(second_symbol, second)}"


def expand_ranges(text: str) -> str:
    """Read number ranges: "10-20" -> "10 to 20", "1939-1945" -> "1939 to 1945"
    (years, read as years later), "300-1200 calories" -> "300 to one thousand two
    hundred calories" (quantities: an end that would read as a year is spelled out
    as a cardinal). Currency symbols stay for the money rule ("$5-10" -> "$5 to 10").
    Never raises.
    """
    return _RANGE_RE.sub(_range, text)
