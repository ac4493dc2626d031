"""Which writing system each letter of a text is in, and a text cut into runs by script.

The front ends read four scripts: Latin (espeak-ng), Devanagari (espeak-ng's Hindi),
kana and Han (the Japanese and Mandarin G2Ps). Everything else (Arabic, Cyrillic,
Hebrew, Hangul, Thai...) is read by none of them: espeak-ng would spell out code
point names ("arabic meem ..."). :func:`script_runs` cuts a sentence into runs of
one script each, so that every run can go to the phonemizer that reads it.

Digits, punctuation, spaces and combining marks belong to no script: they stay
with a neighbouring run. A lone Greek letter is a symbol ("α", "π") and is left to
the phonemizer around it; Greek words are an unreadable script.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "READABLE_SCRIPTS",
    "Script",
    "ScriptRun",
    "has_readable_letters",
    "letter_script",
    "only_scripts",
    "script_runs",
]

#: The scripts voxclone's front ends tell apart.
Script = Literal["latin", "devanagari", "kana", "han", "greek", "other"]

#: Scripts some front end reads.
READABLE_SCRIPTS: frozenset[Script] = frozenset({"latin", "devanagari", "kana", "han"})

#: Unicode name prefixes -> script. Checked in order; the first match wins.
_NAME_PREFIXES: tuple[tuple[str, Script | None], ...] = (
    ("LATIN", "latin"),
    ("FULLWIDTH LATIN", "latin"),
    ("FEMININE ORDINAL", "latin"),  # "ª", "º": Spanish, Italian, Portuguese ordinals
    ("MASCULINE ORDINAL", "latin"),
    ("MATHEMATICAL", "latin"),
    ("DEVANAGARI", "devanagari"),
    ("HIRAGANA", "kana"),
    ("KATAKANA", "kana"),
    ("HALFWIDTH KATAKANA", "kana"),
    ("CJK", "han"),
    ("IDEOGRAPHIC", "han"),  # "々"
    ("GREEK", "greek"),
    ("MODIFIER LETTER", None),  # "ʼ", "ˈ": marks, not letters of a script
    ("MICRO SIGN", None),
)
#: Letter-like symbols ("ℓ", "ℕ") are symbols for the phonemizer, not a script.
_LETTERLIKE = range(0x2100, 0x2150)
#: Any character some front end reads as a letter: a fast check that a text is fine.
_RANGES: dict[Script, str] = {
    "latin": r"A-Za-z\u00c0-\u024f\u1e00-\u1eff\uff21-\uff3a\uff41-\uff5a",
    "devanagari": r"\u0900-\u097f",
    "kana": r"\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f",
    "han": r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff",
}
_READABLE_LETTER_RE = re.compile(f"[{''.join(_RANGES.values())}]")


@dataclass(frozen=True)
class ScriptRun:
    """A stretch of text whose letters are all in one script.

    Attributes:
        script: the script of its letters; ``None`` when it has none (digits,
            punctuation only).
        text: the stretch, with the digits, spaces and punctuation next to it.
        name: the script's name for messages ("Arabic", "Cyrillic"); ``""`` for none.
    """

    script: Script | None
    text: str
    name: str = ""


@functools.lru_cache(maxsize=8192)
def _classify(char: str) -> tuple[Script | None, str]:
    if not char.isalpha() or ord(char) in _LETTERLIKE:
        return None, ""
    name = unicodedata.name(char, "")
    for prefix, script in _NAME_PREFIXES:
        if name.startswith(prefix):
            return script, (script or "").title()
    return "other", (name.split(" ", 1)[0].title() if name else "unknown")


def letter_script(char: str) -> Script | None:
    """The script of the one character ``char``, or ``None`` for a non-letter (digit,
    punctuation, space, combining mark, modifier letter, letter-like symbol)."""
    return _classify(char)[0]


def _raw_runs(text: str) -> list[ScriptRun]:
    """Maximal stretches of characters of one class (a script, or ``None``)."""
    runs: list[ScriptRun] = []
    start, current, current_name = 0, None, ""
    for index, char in enumerate(text):
        script, name = _classify(char)
        if script != current or (script == "other" and name != current_name):
            if index > start:
                runs.append(ScriptRun(current, text[start:index], current_name))
            start, current, current_name = index, script, name
    if len(text) > start:
        runs.append(ScriptRun(current, text[start:], current_name))
    # A lone Greek letter is a symbol ("α = 3"): it joins whatever is around it.
    return [ScriptRun(None, run.text) if run.script == "greek" and len(run.text) == 1
            else run for run in runs]


def script_runs(text: str) -> list[ScriptRun]:
    """``text`` cut into runs of one script each, in order; joined they give ``text``.

    A stretch without letters between two runs is cut at its last whitespace: what
    comes before goes with the run before ("Hello " + "世界, " + "how are you?"),
    what is glued to the next letters goes with them ("apple " + "3个"). Adjacent runs
    of the same script are merged. Text without letters is one run of script ``None``.
    Never raises.
    """
    raw = _raw_runs(text)
    lettered = [run for run in raw if run.script is not None]
    if not lettered:
        return [ScriptRun(None, text)] if text else []
    runs: list[ScriptRun] = []
    pending = ""  # a letterless stretch before the first run
    for run in raw:
        if run.script is not None:
            if runs and runs[-1].script == run.script and runs[-1].name == run.name:
                runs[-1] = ScriptRun(run.script, runs[-1].text + pending + run.text, run.name)
            else:
                runs.append(ScriptRun(run.script, pending + run.text, run.name))
            pending = ""
        elif not runs:
            pending += run.text
        else:
            cut = _last_space_end(run.text)
            runs[-1] = ScriptRun(runs[-1].script, runs[-1].text + run.text[:cut],
                                 runs[-1].name)
            pending = run.text[cut:]
    if pending:
        last = runs[-1]
        runs[-1] = ScriptRun(last.script, last.text + pending, last.name)
    return runs


def _last_space_end(stretch: str) -> int:
    """Index just after the last whitespace in ``stretch`` (0 when it has none)."""
    for index in range(len(stretch) - 1, -1, -1):
        if stretch[index].isspace():
            return index + 1
    return 0


@functools.cache
def _outside_re(scripts: frozenset[Script]) -> re.Pattern[str]:
    allowed = "".join(_RANGES[script] for script in sorted(scripts) if script in _RANGES)
    return re.compile(f"(?![{allowed}])[^\\W\\d_]" if allowed else r"[^\W\d_]")


def only_scripts(text: str, scripts: frozenset[Script]) -> bool:
    """Whether every letter of ``text`` is in one of ``scripts`` (``"latin"``,
    ``"devanagari"``, ``"kana"``, ``"han"``); a quick check, by code point ranges, that
    may say ``False`` for a rare letter :func:`letter_script` puts in one of them."""
    return _outside_re(scripts).search(text) is None


def has_readable_letters(text: str) -> bool:
    """Whether ``text`` has a letter in a script some front end reads (Latin,
    Devanagari, kana, Han), or no letters at all (digits and symbols are readable)."""
    if _READABLE_LETTER_RE.search(text):
        return True
    return all(run.script is None or run.script in READABLE_SCRIPTS
               for run in script_runs(text))
