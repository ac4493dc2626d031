"""A sentence's words in other scripts read by the phonemizer of their script.

A language's phonemizer reads its own script: espeak-ng's Spanish reads Latin, the
Mandarin G2P reads Han. Text often mixes in words of another script: English names
in Japanese, "你好" in English. Passed to the language's own phonemizer they come out
as letter names ("Chinese letter"), are dropped, or reach the model as raw letters.
:class:`ScriptRouter` cuts such a sentence into runs by script
(:func:`~voxclone.text.scripts.script_runs`) and gives each run to the phonemizer
that reads it:

- Latin: the language itself when espeak-ng reads it (en, es, fr, it, pt-br, hi),
  else English (Japanese, Mandarin);
- Devanagari: Hindi;  kana: Japanese;
- Han: the language itself when it is Japanese or Mandarin, else Japanese when the
  sentence has kana, Mandarin when not;
- any other script (Arabic, Cyrillic, Hebrew, Hangul, Greek words...): no
  phonemizer reads it. Its letters are dropped with a WARNING naming the script,
  and a sentence made only of them raises :class:`~voxclone.errors.TextError`;
  numbers in such a run ("8Привет") are read by the home language.

A sentence all in the language's own script (nearly every one) goes to its
phonemizer whole, exactly as before.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable

from voxclone.errors import TextError
from voxclone.text.languages import LANGUAGES, Language
from voxclone.text.scripts import Script, has_readable_letters, only_scripts, script_runs

__all__ = ["ScriptRouter", "reader_of", "unreadable_text_error"]

logger = logging.getLogger(__name__)

#: A number ("8", "3.5", "12:30", "50%") inside a run of letters no phonemizer reads.
_DIGITS_RE = re.compile(r"(\d+(?:[.,:/]\d+)*%?)")

#: What to do about text in a script no front end reads, for messages.
_ADVICE = ("voxclone reads Latin, Devanagari, Japanese and Chinese script only "
           f"({', '.join(LANGUAGES)}); transliterate or translate it")


def reader_of(home: Language, script: Script | None, kana: bool) -> str | None:
    """The code of the language whose phonemizer reads ``script`` in a sentence of
    language ``home`` (``kana``: whether the sentence has kana); ``None`` when no
    phonemizer reads it. Letterless text (``script`` ``None``) stays with ``home``."""
    if script is None:
        return home.code
    if script == "latin":
        return home.code if home.g2p == "espeak" else "en-us"
    if script == "devanagari":
        return "hi"
    if script == "kana":
        return "ja"
    if script == "han":
        return home.code if home.g2p != "espeak" else ("ja" if kana else "zh")
    return None


def unreadable_text_error(text: str) -> TextError | None:
    """The error for a text whose letters are all in scripts no front end reads,
    naming them; ``None`` for any other text (also one without letters)."""
    if has_readable_letters(text):
        return None
    names = sorted({run.name for run in script_runs(text) if run.script is not None})
    return TextError(f"the text is written in {' and '.join(names)} script, which "
                     f"voxclone cannot speak: {_ADVICE}")


class ScriptRouter:
    """The phonemizer of one language, reading words in other scripts with theirs.

    Args:
        home: the language of the sentences it is given.
        phonemizer_of: a language code -> the phonemizer of that language's own
            script (shared, thread-safe instances).
    """

    def __init__(self, home: Language, phonemizer_of: Callable[[str], Callable[[str], str]]):
        self.home = home
        self._phonemizer_of = phonemizer_of
        #: The scripts the home language's own phonemizer reads.
        self._own: frozenset[Script] = frozenset(
            script for script in ("latin", "devanagari", "kana", "han")
            if reader_of(home, script, kana=script == "kana") == home.code)

    def _parts(self, sentence: str) -> list[tuple[str | None, str, str]]:
        """(reader code or None, text, script name) runs, adjacent same readers merged."""
        runs = script_runs(sentence)
        kana = any(run.script == "kana" for run in runs)
        parts: list[tuple[str | None, str, str]] = []
        for run in runs:
            reader = reader_of(self.home, run.script, kana)
            # Digits glued to letters no one reads ("8Привет", "ไทย0") are still read,
            # by the home language, rather than dropped with the letters.
            pieces = ([(reader, run.text)] if reader is not None else
                      [(self.home.code if index % 2 else None, piece)
                       for index, piece in enumerate(_DIGITS_RE.split(run.text)) if piece])
            for piece_reader, text in pieces:
                if parts and parts[-1][0] == piece_reader and (piece_reader is not None
                                                               or parts[-1][2] == run.name):
                    parts[-1] = (piece_reader, parts[-1][1] + text, run.name)
                else:
                    parts.append((piece_reader, text, run.name))
        return parts

    def __call__(self, text: str) -> str:
        """Return the Kokoro phoneme string for one normalised sentence ``text``.

        Raises:
            TextError: it is empty, has nothing to pronounce, or all its
                letters are in scripts no phonemizer reads; or a G2P is missing.
            ModelError: the Kokoro vocabulary cannot be read.
        """
        own = self._phonemizer_of(self.home.code)
        if only_scripts(text, self._own):  # nearly every sentence: no other script
            return own(text)
        parts = self._parts(text)
        if all(reader == self.home.code for reader, _, _ in parts):
            return own(text)
        dropped = sorted({name for reader, _, name in parts if reader is None})
        if dropped:
            logger.warning("dropping the %s letters of %r: %s", " and ".join(dropped),
                           text[:60], _ADVICE)
        phonemes: list[str] = []
        failure: TextError | None = None
        for reader, run, _ in parts:
            if reader is None or not run.strip():
                continue
            if reader != self.home.code:  # full-width Latin, half-width kana
                run = unicodedata.normalize("NFKC", run)
            try:
                phonemes.append(self._phonemizer_of(reader)(run))
            except TextError as exc:  # one run unpronounceable: the others are still said
                logger.warning("cannot read %r as %s: %s", run[:60], reader, exc)
                failure = exc
        if phonemes:
            return " ".join(phonemes)
        if failure is not None and not dropped:
            raise failure
        raise TextError(f"nothing to pronounce in {text[:60]!r}: it is written in "
                        f"{' and '.join(dropped)} script; {_ADVICE}")
