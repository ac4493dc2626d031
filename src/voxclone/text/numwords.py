"""English number words in American style: cardinals, years, ordinals and fractions.

Shared by :mod:`voxclone.text.normalize` and :mod:`voxclone.text.dates`; a thin layer
over ``num2words`` that drops its British "and" and reads long or zero-led numbers
digit by digit.
"""

from __future__ import annotations

from num2words import num2words

__all__ = [
    "MAX_DIGITS",
    "MAX_GROUPED_DIGITS",
    "american",
    "decade_words",
    "fraction_words",
    "number_to_words",
    "ordinal_words",
    "read_digits",
]

#: Denominators read as a fraction ("3/4" -> "three quarters"); others are not fractions.
_DENOMINATORS = frozenset((*range(2, 11), 12, 16, 32, 64, 100))
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: Longest digit run said as one number: ungrouped ("1000000"), and grouped with
#: thousands commas ("1,000,000,000,000,000,000" is one quintillion; 36 digits reach
#: the hundreds of decillions).
MAX_DIGITS = 15
MAX_GROUPED_DIGITS = 36


def american(words: str) -> str:
    """Drop num2words' British ``and`` and commas: 'one hundred and one' -> 'one hundred one'."""
    return words.replace(",", "").replace(" and ", " ")


def read_digits(text: str) -> str:
    """Read a digit string one digit at a time ('007' -> 'zero zero seven').

    Never converts the whole string to a number, so any length is fine (and fast).
    """
    return " ".join(_DIGITS[int(digit)] for digit in text)


def number_to_words(token: str, *, as_year: bool = True) -> str:
    """Spell out one number token such as ``"1,234"``, ``"3.14"``, ``"1999"`` or ``"007"``.

    Standalone 4-digit numbers in 1100-1999 and 2010-2099 are read as years when
    ``as_year`` is true. Numbers with a leading zero or more than 15 digits (36 when
    grouped with thousands commas) are read digit by digit, without converting them
    to ``int`` (which refuses strings of over 4,300 digits).

    Raises:
        ValueError: if ``token`` is not made of digits, thousands commas and one dot.
    """
    integer, _, fraction = token.replace(",", "").partition(".")
    if not (integer or fraction).isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError(f"not a number: {token!r}")
    if fraction:
        whole = number_to_words(integer, as_year=False) + " " if integer else ""
        return f"{whole}point {read_digits(fraction)}"
    longest = MAX_GROUPED_DIGITS if "," in token else MAX_DIGITS
    if (len(integer) > 1 and integer[0] == "0") or len(integer) > longest:
        return read_digits(integer)
    value = int(integer)
    if (
        as_year
        and "," not in token
        and len(integer) == 4
        and (1100 <= value <= 1999 or 2010 <= value <= 2099)
    ):
        return str(num2words(value, to="year"))
    return american(num2words(value))


def decade_words(digits: str) -> str:
    """A decade or century in the plural: '1990' -> 'nineteen nineties', '1900' ->
    'nineteen hundreds', '2000' -> 'two thousands', '90' -> 'nineties'."""
    words = number_to_words(digits)
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def ordinal_words(value: int) -> str:
    """Spell out an ordinal: ``21`` -> 'twenty-first'."""
    return american(num2words(value, to="ordinal"))


def fraction_words(numerator: int, denominator: int, *, mixed: bool = False) -> str | None:
    """Read a proper fraction ('three quarters', 'one half'), or ``None`` if it is not one.

    Only ``0 < numerator < denominator`` with a common denominator (2-10, 12, 16, 32,
    64, 100) counts, so "24/7" or "9/11" are left to the caller. With ``mixed`` (the
    part after a whole number, as in "2 1/2") a numerator of one is read 'a': 'a half'.
    """
    if not 0 < numerator < denominator or denominator not in _DENOMINATORS:
        return None
    if denominator == 2:
        unit = "half"
    elif denominator == 4:
        unit = "quarter"
    else:
        unit = ordinal_words(denominator).removeprefix("one ")  # 100 -> "hundredth"
    if numerator == 1:
        return f"{'a' if mixed else 'one'} {unit}"
    plural = "halves" if unit == "half" else unit + "s"
    return f"{number_to_words(str(numerator), as_year=False)} {plural}"
