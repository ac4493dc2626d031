"""Pauses written into the text: SSML's ``<break>`` tag.

Dubbing, games and film need silence where the script says so, not where a sentence
happens to end. ``<break time="1.5s"/>`` (or ``"700ms"``) asks for that much silence
at that point; ``<break strength="weak"/>`` for a pause of a named size; a bare
``<break/>`` is ``strength="medium"``. The text either side is spoken as sentences of
their own. Every other tag is dropped as markup (:mod:`voxclone.text.markup`).

Sizes follow the common SSML services: x-weak 0.25 s, weak 0.5 s, medium 0.75 s,
strong 1 s, x-strong 1.25 s; ``strength="none"`` is no break at all. ``time`` wins
over ``strength``; breaks in a row add up. At most :data:`MAX_BREAK_S` of silence at one
point, as between sentences (``sentence_pause``): the watermark reads one synthesis as
one mark across pauses that long (:mod:`voxclone.watermark.multi`), and a longer silence
is a gap between audios (``voxclone batch --track`` places lines at their times).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from voxclone.errors import TextError
from voxclone.text.chunk import split_sentences

__all__ = ["MAX_BREAK_S", "Passage", "asked_silences", "sentences_with_breaks", "split_breaks"]

#: The most silence breaks may ask for at one point, seconds (``sentence_pause``'s limit).
MAX_BREAK_S = 3.0
#: Seconds of silence per ``strength``.
STRENGTH_S = {"none": 0.0, "x-weak": 0.25, "weak": 0.5, "medium": 0.75, "strong": 1.0,
              "x-strong": 1.25}

_BREAK_RE = re.compile(r"<break\b([^<>]{0,300}?)/?>", re.IGNORECASE)
_ATTRIBUTE_RE = re.compile(r"([\w:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'<>/]+))")
_TIME_RE = re.compile(r"(\d{1,6}(?:\.\d{0,6})?|\.\d{1,6})\s*(ms|s)", re.IGNORECASE)


@dataclass(frozen=True)
class Passage:
    """Text up to a break, and the silence written after it.

    Attributes:
        text: the text (may hold no words: a break between two breaks).
        pause_after: seconds of silence the break after it asks for; ``None`` for the
            text's last passage when no break ends the text.
    """

    text: str
    pause_after: float | None


def _seconds(attributes: str, tag: str) -> float | None:
    """The silence one tag asks for; ``None`` for ``strength="none"`` (no break)."""
    values = {m[1].lower(): next(v for v in m.groups()[1:] if v is not None)
              for m in _ATTRIBUTE_RE.finditer(attributes)}
    if "time" in values:
        match = _TIME_RE.fullmatch(values["time"].strip())
        if match is None:
            raise TextError(f"{tag}: time must be seconds or milliseconds, like \"1.5s\" or "
                            f"\"700ms\" (got {values['time']!r})")
        seconds = float(match[1]) / (1000.0 if match[2].lower() == "ms" else 1.0)
        return _at_most(seconds, tag)
    strength = values.get("strength", "medium").strip().lower()
    if strength not in STRENGTH_S:
        raise TextError(f"{tag}: strength must be one of {', '.join(STRENGTH_S)} "
                        f"(got {values['strength']!r})")
    return None if strength == "none" else STRENGTH_S[strength]


def _at_most(seconds: float, where: str) -> float:
    if seconds > MAX_BREAK_S:
        raise TextError(f"{where}: at most {MAX_BREAK_S:g} s of silence at one point (got "
                        f"{seconds:g} s), as between sentences; for a longer one, join "
                        "separate audios (voxclone batch --track places lines at their times)")
    return seconds


def asked_silences(text: str) -> list[tuple[int, int, float]]:
    """Each well-formed ``<break>`` tag in ``text``: its start, its end and the seconds of
    silence it asks for alone (0 for ``strength="none"``), for estimating a text's
    length before it is spoken. A tag that :func:`split_breaks` would refuse is left
    out; its error comes when the text is spoken."""
    found = []
    for match in _BREAK_RE.finditer(text):
        with contextlib.suppress(TextError):
            found.append((match.start(), match.end(), _seconds(match[1], "") or 0.0))
    return found


def split_breaks(text: str) -> tuple[float, list[Passage]]:
    """Cut ``text`` at its ``<break>`` tags.

    Returns:
        The silence asked for before the first passage with words, seconds (breaks at
        the very start), and the passages in order; without tags, ``(0.0,
        [Passage(text, None)])``. A ``strength="none"`` tag is removed and cuts nothing.

    Raises:
        TextError: a tag with a time that is not seconds or milliseconds or an unknown
            strength (the message quotes the tag), or breaks asking for over
            :data:`MAX_BREAK_S` at one point.
    """
    passages: list[Passage] = []
    lead = 0.0
    start = 0
    held = ""  # text before a strength="none" tag, joined to what follows it
    for match in _BREAK_RE.finditer(text):
        seconds = _seconds(match[1], match[0][:80])
        before = held + text[start:match.start()]
        start = match.end()
        if seconds is None:
            held = before + " "  # (as any other tag: the words either side stay apart)
            continue
        held = ""
        if before.strip():
            passages.append(Passage(before, seconds))
        elif passages:  # breaks in a row add up
            last = passages[-1]
            total = _at_most((last.pause_after or 0.0) + seconds, "breaks in a row")
            passages[-1] = Passage(last.text, total)
        else:
            lead = _at_most(lead + seconds, "breaks in a row")
    passages.append(Passage(held + text[start:], None))
    return lead, passages


def sentences_with_breaks(normalize: Callable[[str], str], text: str,
                          ) -> tuple[float, list[str], list[float | None]]:
    """``text``'s sentences, each passage normalised by ``normalize`` and split by
    :func:`~voxclone.text.chunk.split_sentences`, with the silence its breaks ask for.

    Returns:
        The silence before the first sentence (s), the sentences, and for each the
        silence a break asks for after it (``None``: none written, the sentence pause).
        A passage with no words passes its break on to the sentence before it.

    Raises:
        TextError: as :func:`split_breaks`.
    """
    lead, passages = split_breaks(text)
    sentences: list[str] = []
    pauses: list[float | None] = []
    for passage in passages:
        said = split_sentences(normalize(passage.text))
        if said:
            sentences += said
            pauses += [None] * (len(said) - 1) + [passage.pause_after]
        elif passage.pause_after is not None and pauses:
            pauses[-1] = _at_most((pauses[-1] or 0.0) + passage.pause_after,
                                  "breaks around text with no words")
        elif passage.pause_after is not None:
            lead = _at_most(lead + passage.pause_after, "breaks around text with no words")
    return lead, sentences, pauses
