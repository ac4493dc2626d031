"""Markup that should not be read aloud: SSML/HTML-like tags and Markdown.

Text from chat models is Markdown: read as written it comes out as "asterisk asterisk
important". :func:`strip_markup` keeps the words and drops the marks:

- SSML / HTML-like tags (``<break time='2s'/>``, ``</p>``);
- code fences (the ```` ``` ```` lines; the code between them is kept), backticks;
- headings (``# Title``), block quotes (``> quoted``) and horizontal rules;
- list bullets (``* ``, ``- ``, ``+ ``, ``1. ``, ``2) `` at the start of a line); an
  item that does not end in punctuation gets a comma (the last of a list a full
  stop), so it is said as a clause of its own;
- emphasis (``*a*``, ``**a**``, ``_a_``, ``__a__``, ``~~a~~``) around words, but not
  ``5 * 3`` (read "times") or ``snake_case``;
- links and images (``[text](url)``, ``![alt](url)``) become their text;
- arrows ``->``, ``=>`` and ``→`` read as "to".

Patterns only look a bounded distance ahead, so the work is linear in the text.
"""

from __future__ import annotations

import re

__all__ = ["strip_markup"]

#: SSML / HTML-like tags ("<break time='2s'/>", "</p>"), dropped rather than read out.
_TAG_RE = re.compile(
    r"</?[A-Za-z][\w:-]*(?:\s+[\w:-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'<>/]+))*\s*/?>"
)
_FENCE_RE = re.compile(r"^[ ]{0,3}(?:`{3,}|~{3,})(?![`~])[^\n`]*$", re.MULTILINE)
_RULE_RE = re.compile(r"^[ ]{0,3}([-*_])(?:[ ]*\1){2,}[ ]*$", re.MULTILINE)
_HEADING_RE = re.compile(r"^[ ]{0,3}#{1,6}(?:[ ]+|$)([^\n]*?)(?:[ ]+#+)?[ ]*$", re.MULTILINE)
_QUOTE_RE = re.compile(r"^[ ]{0,3}(?:>[ ]?)+", re.MULTILINE)
_BULLET_RE = re.compile(r"^[ ]*(?:[*+\-\u2022]|\d{1,3}[.)])[ ]+(?=\S)")
_IMAGE_OR_LINK_RE = re.compile(
    r"!?\[([^\[\]\n]{0,300})\]\([^()\s]{0,2000}(?:[ ]+\"[^\"\n]{0,300}\")?\)"
)
#: "*a*", "**a**", "***a***" around words: no space inside the marks, none glued outside.
_STAR_EMPHASIS_RE = re.compile(
    r"(?<![\w*\\])(\*{1,3})(?=[^\s*])([^*\n]{1,500}?)(?<=[^\s*\\])\1(?![\w*])"
)
_UNDERSCORE_EMPHASIS_RE = re.compile(
    r"(?<![\w\\])(_{1,3})(?=[^\s_])([^_\n]{1,500}?)(?<=[^\s_\\])\1(?!\w)"
)
_STRIKE_RE = re.compile(r"~~(?=\S)([^~\n]{1,500}?)(?<=\S)~~")
_TIMES_RE = re.compile(r"(?<=[\d)])[ ]?\*[ ]?(?=[\d(])|(?<=[\d)]) \* (?=\w)")
_ARROW_RE = re.compile(r"[ ]?(?:(?<!-)-+>|(?<!=)=+>|\u2192|\u27f6)[ ]?")
_STRAY_RE = re.compile(r"`+|(?<!\w)\*+|\*+(?!\w)|(?<![\w_])_{2,}|_{2,}(?![\w_])")
_CLAUSE_END = ".,;:!?\u2026\u2014"


def _heading(match: re.Match[str]) -> str:
    """A heading's text, ended as a sentence."""
    title = match[1].rstrip()
    return title + "." if title and title[-1] not in _CLAUSE_END else title


def _lists(text: str) -> str:
    """Drop list bullets; end each item as a clause (the last one as a sentence)."""
    lines = text.split("\n")
    items = [_BULLET_RE.match(line) is not None for line in lines]
    for index, line in enumerate(lines):
        if not items[index]:
            continue
        item = _BULLET_RE.sub("", line).rstrip()
        if item and item[-1] not in _CLAUSE_END:
            last = index + 1 == len(lines) or not items[index + 1]
            item += "." if last else ","
        lines[index] = item
    return "\n".join(lines)


def strip_markup(text: str, arrow: str = "to") -> str:
    """Drop SSML/HTML tags and Markdown marks from ``text``, keeping its words.

    ``arrow`` is the word that ``->``, ``=>`` and ``→`` are read as. Never raises.
    """
    text = _TAG_RE.sub(" ", text)
    text = _FENCE_RE.sub("", text)
    text = _RULE_RE.sub("", text)
    text = _HEADING_RE.sub(_heading, text)
    text = _QUOTE_RE.sub("", text)
    text = _lists(text)
    text = _IMAGE_OR_LINK_RE.sub(r"\1", text)
    for _ in range(2):  # "***a***" and "**_a_**" nest
        text = _STAR_EMPHASIS_RE.sub(r"\2", text)
        text = _UNDERSCORE_EMPHASIS_RE.sub(r"\2", text)
    text = _STRIKE_RE.sub(r"\1", text)
    text = _TIMES_RE.sub(" times ", text)
    text = _ARROW_RE.sub(f" {arrow} ", text)
    return _STRAY_RE.sub("", text)
