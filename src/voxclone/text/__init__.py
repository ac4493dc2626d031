"""English text front end: normalise text, split it, and phonemize it for Kokoro.

Typical use::

    from voxclone.text import normalize_text, phonemize, split_phonemes, split_sentences

    for sentence in split_sentences(normalize_text(text)):
        for piece in split_phonemes(phonemize(sentence)):
            ...  # feed to the model
"""

from __future__ import annotations

from voxclone.text.chunk import split_head, split_phonemes, split_sentences
from voxclone.text.normalize import normalize_text, number_to_words
from voxclone.text.phonemize import EspeakPhonemizer, load_vocab, phonemize, tokenize

__all__ = [
    "EspeakPhonemizer",
    "load_vocab",
    "normalize_text",
    "number_to_words",
    "phonemize",
    "split_head",
    "split_phonemes",
    "split_sentences",
    "tokenize",
]
