"""Syllables of English text, counted in its phonemes: what a speaking rate read from
the words (syllables over seconds of speech) divides."""

from __future__ import annotations

import re

from voxclone.text.normalize import normalize_text
from voxclone.text.phonemize import phonemize

#: The vowel symbols of voxclone's English phonemes (the engine's own), diphthongs
#: written as one letter (A, I, O, W, Y); a run of them is one syllable's nucleus.
_NUCLEUS = re.compile("[iuɪʊɛæʌɔɑəɚɜɐᵊaeoɒᵻAIOWY]+")


def count_syllables(text: str) -> int:
    """Syllables in English ``text`` as it is read out (numbers as words), counted as
    its phonemes' vowel nuclei; 0 for no words."""
    if not text.strip():
        return 0
    return len(_NUCLEUS.findall(phonemize(normalize_text(text))))
