"""Split text into sentences, and phoneme strings into pieces the model accepts.

Kokoro reads at most ~510 tokens at a time and sounds best one sentence at a time,
so text is first cut into sentences (:func:`split_sentences`); a phoneme string that
is still too long is then cut at the most natural boundary (:func:`split_phonemes`).
Text that arrives bit by bit (piped from another program) is cut into blocks that can
be spoken as soon as they are complete (:func:`blocks_as_they_arrive`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

__all__ = ["blocks_as_they_arrive", "sentence_pieces", "split_head", "split_phonemes",
           "split_sentences"]

#: Words that take a full stop but (almost) never end a sentence: "Dr. Who" is one sentence.
# fmt: off
_TITLES = frozenset({
    "mr", "mrs", "ms", "mx", "dr", "prof", "st", "mt", "ft", "messrs", "rev", "hon",
    "gen", "col", "capt", "cpt", "lt", "sgt", "maj", "adm", "cmdr", "sen", "rep", "gov",
    "pres", "supt", "insp", "vs", "cf", "al", "approx", "ca", "dept", "est", "e.g", "i.e",
    "viz"
})
#: Abbreviations that never end a sentence when a number follows: "No. 5", "Fig. 3".
_BEFORE_DIGIT = frozenset({
    "no", "nos", "vol", "vols", "p", "pp", "ch", "chap", "sec", "art", "fig", "figs",
    "eq", "ex", "op"
})
# fmt: on

_PARAGRAPH_RE = re.compile(r"\s*\n\s*")
#: A run of sentence-final punctuation, optional closing quotes/brackets, then a space;
#: or a Japanese/Chinese full stop, which needs no space after it.
_BOUNDARY_RE = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|[。！？]+[」』”’）)]*")
_NEXT_CHAR_RE = re.compile(r"\s*(\S?)")
_WORD_RE = re.compile(r"\w")
_LAST_TOKEN_RE = re.compile(r"([^\s\"'“‘(\[]*)$")
_TOKEN_LOOKBACK = 24  # characters to look back for the word before a full stop

#: Phoneme-level cut points, best first: after sentence punctuation, after a clause
#: mark, at a word gap. Each pattern's match end is where a piece may end.
_PHONEME_CUTS = (
    re.compile(r"[.!?…]+[\"”)]*(?= )"),
    re.compile(r"[,;:—]+[\"”)]*(?= )"),
    re.compile(r"\S(?= )"),
)
#: Characters a hard cut must not leave dangling at the end of a piece (stress marks).
_NO_TRAILING = "ˈˌ"


def _joins(line: str, match: re.Match[str]) -> bool:
    """Whether the punctuation ``match`` in ``line`` is *not* a sentence end."""
    next_char = _NEXT_CHAR_RE.match(line, match.end())
    nxt = next_char[1] if next_char else ""
    if not nxt or nxt.islower():  # "Wait… what?", "“Really?” she asked", "e.g. apples"
        return True
    if match[0].rstrip("\"'”’)]") != ".":
        return False
    token = _LAST_TOKEN_RE.search(line, max(0, match.start() - _TOKEN_LOOKBACK), match.start())
    word = token[1].rstrip(".").lower() if token else ""
    if len(word) == 1 and word.isalpha():  # initials: "J. R. R. Tolkien"
        return True
    if "." in word and word.replace(".", "").isalpha():  # "U.S.", "e.g."
        return True
    return word in _TITLES or (word in _BEFORE_DIGIT and nxt.isdigit())


def _sentences_of_line(line: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY_RE.finditer(line):
        if not _joins(line, match):
            pieces.append(line[start : match.end()])
            start = match.end()
    pieces.append(line[start:])
    return pieces


def split_sentences(text: str) -> list[str]:
    """Split ``text`` (raw or normalized) into sentences.

    Splits after ``. ! ? …`` followed by a space and a word that does not start in
    lowercase, after ``。！？`` (Japanese, Chinese), and at every line break. Does
    not split after titles and common abbreviations ("Mr.", "Dr.", "e.g."), initials
    ("J. R. R. Tolkien"), inside decimals ("3.14") or at an ellipsis followed by
    lowercase ("wait… what").
    Pieces are stripped; empty ones are dropped and punctuation-only ones are glued to
    the sentence before. A long sentence without punctuation comes back whole (use
    :func:`split_phonemes` to cut it).

    Never raises; returns ``[]`` for text with no words.
    """
    sentences: list[str] = []
    for line in _PARAGRAPH_RE.split(text.strip()):
        for piece in _sentences_of_line(line):
            piece = piece.strip()
            if not piece:
                continue
            if _WORD_RE.search(piece):
                sentences.append(piece)
            elif sentences:  # stray "…" or "!!" after a sentence: keep it with that one
                sentences[-1] += " " + piece
    return sentences


def sentence_pieces(text: str) -> list[str]:
    """``text`` cut where :func:`split_sentences` cuts it, keeping every character:
    the pieces, joined, give back ``text`` exactly (a line break ends its piece, the
    spaces after a full stop start the next). For looking at each sentence of a raw
    text in place.

    Never raises; returns ``[]`` for ``""``.
    """
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        pieces.extend(piece for piece in _sentences_of_line(line) if piece)
    return pieces


def blocks_as_they_arrive(pieces: Iterable[str], max_chars: int = 2000) -> Iterator[str]:
    """The text of ``pieces`` (bits of one text, in order, as another program writes
    them), in blocks to speak as soon as each is complete: each finished line, or each
    sentence once the text after it shows it has ended (``3.`` waits: ``3.14`` may
    follow). A block is yielded before the next piece is asked for. No block is longer
    than ``max_chars``: a longer line is cut after its last finished sentence within
    them, else at a space, so a huge piece costs time in proportion to its length.

    Blocks are stripped and never empty. Never raises.
    """
    held, start = "", 0
    for piece in pieces:
        held, start = held[start:] + piece, 0
        while cut := _block_end(held, start, max_chars):
            block, start = held[start:cut].strip(), cut
            if block:
                yield block
    rest = held[start:].strip()  # (shorter than max_chars: longer ones were cut above)
    if rest:
        yield rest


def _block_end(held: str, start: int, max_chars: int) -> int:
    """Where the block of ``held`` from ``start`` ends, or 0 while it may go on."""
    window = held[start:start + max_chars]
    line = window.find("\n") + 1  # the first line, if it is finished
    if line:
        return start + line
    # (the last sentence in the window may still be being written, or cut by it)
    finished = sum(map(len, sentence_pieces(window)[:-1]))
    if not finished and len(window) < max_chars:
        return 0
    return start + (finished or window.rfind(" ") + 1 or max_chars)


def _cut_position(phonemes: str, max_len: int) -> int:
    """Index at which to end the next piece of ``phonemes`` (longer than ``max_len``)."""
    window = phonemes[: max_len + 1]  # one more: a gap right after max_len is a fine cut
    floor = max(1, max_len // 4)  # avoid needlessly tiny pieces
    for pattern in _PHONEME_CUTS:
        ends = [m.end() for m in pattern.finditer(window) if floor <= m.end() <= max_len]
        if ends:
            return ends[-1]
    gap = window.rfind(" ", 1, max_len + 1)
    if gap > 0:
        return gap
    cut = max_len
    while cut > 1 and phonemes[cut - 1] in _NO_TRAILING:
        cut -= 1
    return cut


def split_phonemes(phonemes: str, max_len: int = 500) -> list[str]:
    """Split a phoneme string into pieces of at most ``max_len`` characters.

    Cuts at the last sentence punctuation that fits, else the last ``, ; : —``, else
    the last space, else hard at ``max_len``. Pieces are non-empty and stripped; joining
    them with spaces gives back ``phonemes`` up to whitespace at the cut points.

    Raises:
        ValueError: if ``max_len`` is less than 1.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    rest = phonemes.strip()
    pieces: list[str] = []
    while len(rest) > max_len:
        cut = _cut_position(rest, max_len)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def split_head(phonemes: str, max_len: int) -> tuple[str, str]:
    """Cut a short first piece off ``phonemes``, for a quick start when streaming.

    The head has at most ``max_len`` characters and ends where :func:`split_phonemes`
    would cut (sentence or clause punctuation, else a word gap). A string shorter than
    1.5 x ``max_len`` is not cut (the tail would be a fragment): ``(phonemes, "")``.
    Joining head and tail with a space gives back ``phonemes`` up to whitespace.

    Raises:
        ValueError: if ``max_len`` is less than 1.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    text = phonemes.strip()
    if len(text) < max_len + max_len // 2:
        return text, ""
    cut = _cut_position(text, max_len)
    return text[:cut].rstrip(), text[cut:].lstrip()
