"""Offline English speech recognition (pocketsphinx) and word error counting: how
voxclone checks that what it spoke is what it was asked to say."""

from voxclone.asr.recognizer import EnglishRecognizer, default_recognizer
from voxclone.asr.word_errors import word_error_rate, word_errors, words

__all__ = ["EnglishRecognizer", "default_recognizer", "word_error_rate", "word_errors",
           "words"]
