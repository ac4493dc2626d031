"""Roman numerals where English readers say them as numbers, and only there.

espeak-ng reads "Chapter IV" as "chapter roman four"; a bare "I" or "V" is a word or a
letter, so numerals are read only after a word that takes one:

- a cardinal after a numbered part: "Chapter IV" -> "Chapter four" (also Part,
  Volume, Book, Act, Scene, Section, Article, Appendix, Episode, Season, Phase,
  Stage, Level, Round, Psalm, Canto, Super Bowl), "World War II" -> "World War Two",
  "WWII" -> "World War Two";
- an ordinal after a monarch or pope: "King George III" -> "King George the third",
  "Henry VIII" -> "Henry the eighth", "Pope Benedict XVI" -> "Pope Benedict the
  sixteenth". Without a title, a numeral "I" is read only before "of" or punctuation
  ("Elizabeth I of England", "Elizabeth I."), so "Then George I think" stays as is.

Used by :func:`voxclone.text.normalize.normalize_text`.
"""

from __future__ import annotations

import re

from voxclone.text.numwords import number_to_words, ordinal_words

__all__ = ["expand_roman_numerals", "roman_value"]

_NUMERAL = r"(?=[MDCLXVI])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}
_HEADS = (
    "Chapter|Part|Volume|Vol\\.?|Book|Act|Scene|Section|Article|Appendix|Episode|"
    "Season|Phase|Stage|Level|Round|Psalm|Canto|Super Bowl"
)
_TITLES = (
    "King|Queen|Pope|Emperor|Empress|Tsar|Czar|Tsarina|Kaiser|Sultan|Pharaoh|Shah|"
    "Prince|Princess|Duke|Saint"
)
# fmt: off
_MONARCHS = (
    "George|Henry|Edward|Elizabeth|Charles|William|James|Richard|John|Mary|Anne|Louis|"
    "Philip|Philippe|Felipe|Frederick|Friedrich|Wilhelm|Peter|Ivan|Nicholas|Alexander|"
    "Catherine|Napoleon|Pius|Benedict|Gregory|Leo|Innocent|Clement|Urban|Boniface|Paul|"
    "Sixtus|Julius|Ramesses|Ramses|Thutmose|Amenhotep|Ptolemy|Cleopatra|Constantine|"
    "Justinian|Otto|Gustav|Gustavus|Christian|Frederik|Haakon|Olav|Harald|Carl|Willem|"
    "Carlos|Alfonso|Ferdinand|Francis|Franz|Joseph|Leopold|Ludwig|Rudolf|Sigismund|"
    "Stephen|David|Robert|Alfred|Harold|Henri|Umberto|Albert|Baldwin|Casimir|Selim|"
    "Suleiman|Mehmed|Murad|Rama|Victor Emmanuel|John Paul|Juan Carlos|Willem-Alexander"
)
# fmt: on
#: A numeral after a name: "I" only before "of" or punctuation, where it cannot be "I".
_AFTER_NAME = rf"(?:({_NUMERAL})(?<!\bI)(?![\w-])|(I)(?=[ ]+of\b|[.,;:!?)\n]|$))"

_CARDINAL_RE = re.compile(rf"\b((?i:{_HEADS}))[ ]+({_NUMERAL})(?![\w-])")
_WORLD_WAR_RE = re.compile(r"\b(World[ ]+War)[ ]+(I{1,3}|IV)(?![\w-])|\bWW(II|I|2|1)\b")
_TITLED_RE = re.compile(rf"\b((?:{_TITLES})[ ]+(?:[A-Z][a-z]+[ ]+){{1,2}}){_AFTER_NAME}")
_MONARCH_RE = re.compile(rf"\b((?:{_MONARCHS})[ ]+){_AFTER_NAME}")


def roman_value(numeral: str) -> int:
    """The value of a well-formed Roman numeral: 'XIV' -> 14.

    Raises:
        KeyError: ``numeral`` has a character that is not a Roman digit.
    """
    total = 0
    for char, following in zip(numeral, [*numeral[1:], ""], strict=True):
        value = _VALUES[char]
        total += -value if following and _VALUES[following] > value else value
    return total


def _cardinal(match: re.Match[str]) -> str:
    head, numeral = match[1], match[2]
    if numeral == "I" and head[0].islower():  # "in that scene I saw"
        return match[0]
    head = "Volume" if head.lower().startswith("vol") else head  # "Vol." is no sentence end
    return f"{head} {number_to_words(str(roman_value(numeral)), as_year=False)}"


def _regnal(match: re.Match[str]) -> str:
    return f"{match[1]}the {ordinal_words(roman_value(match[2] or match[3]))}"


def _world_war(match: re.Match[str]) -> str:
    numeral = match[2] or match[3]
    value = int(numeral) if numeral.isdigit() else roman_value(numeral)
    return f"World War {('One', 'Two', 'Three', 'Four')[value - 1]}"


def expand_roman_numerals(text: str) -> str:
    """Read Roman numerals after the words that take one (see the module docstring)."""
    if not re.search("[IVXLCDM]", text):
        return text
    text = _WORLD_WAR_RE.sub(_world_war, text)
    text = _CARDINAL_RE.sub(_cardinal, text)
    text = _TITLED_RE.sub(_regnal, text)
    return _MONARCH_RE.sub(_regnal, text)
