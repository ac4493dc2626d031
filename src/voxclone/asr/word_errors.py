"""Word error counting between what was meant and what was heard."""

from __future__ import annotations

import re
from collections.abc import Sequence


def words(text: str) -> list[str]:
    """Lowercase words without punctuation (apostrophes inside words kept)."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance between two word sequences (substitutions, insertions and
    deletions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1]


def word_error_rate(text: str, heard: str) -> float:
    """Word errors of ``heard`` against ``text`` over the words of ``text`` (0 for two
    empty texts; any words heard in place of none count as 1.0)."""
    expected, got = words(text), words(heard)
    if not expected:
        return 0.0 if not got else 1.0
    return word_errors(expected, got) / len(expected)
