"""Reading batch scripts: CSV, JSONL or SRT files of lines to speak.

Formats (UTF-8, a byte-order mark is ignored). The path ``-`` reads the script from
standard input, whose format must then be given (``--script-format``):

* **CSV** (``.csv``): a header row naming the columns ``voice`` and ``text``, and
  optionally ``id``, ``speed``, ``language`` and ``seconds`` (case-insensitive, any
  order; other columns are ignored). One line to speak per row.
* **JSONL** (``.jsonl``, ``.ndjson``): one JSON object per line with the keys ``voice``,
  ``text`` and optionally ``id``, ``speed``, ``language`` and ``seconds``; blank lines
  are skipped.
* **SRT** (``.srt``): subtitle cues; the cue number is the id; the timing is the line's
  ``seconds`` with ``fit_cues`` (``--fit-cues``), else ignored (lines are spoken at the
  voice's own pace); the cue's text lines are joined with
  spaces and simple markup (``<i>``, ``{\\an8}``) is removed, but for SSML
  ``<break time="0.5s"/>`` pauses. The voice is the
  ``default_voice`` (``--voice``) unless the text starts with ``NAME:`` and a space
  (``ada: Where were you?``): that prefix always names the voice, even when there is a
  default - so text that itself starts with ``Word: ...`` needs an explicit prefix
  (``ada: Note: ...``). A cue with neither is a bad line.

Ids default to the line number (the cue number for SRT); explicit ids must be 1-100
letters, digits, ``_ . -`` starting with a letter or digit, since they name the
output files, and must be unique (ignoring case). ``speed`` defaults to 1.0;
``language`` (``es``, ``ja``..., see ``voxclone languages``) defaults to detection from
the script (Hindi, Japanese, Mandarin), else English. SRT cues use the detection.
``seconds`` is the most the line's speech may last (a dub's slot): a line that would
speak longer is rendered faster until it fits (:func:`voxclone.batch.work.render_line`).

A malformed file (unreadable, no header, bad JSON, duplicate or invalid ids) raises
:class:`~voxclone.errors.ScriptError` naming the line. A line that is well formed but
cannot be spoken (no voice, empty text, bad speed, language or seconds, a cue that ends
before it starts) is returned with ``problem`` set: it
becomes a failed entry of the manifest and does not stop the job.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from voxclone.clone.profile import check_name
from voxclone.errors import ScriptError, TextError
from voxclone.pipeline import SynthesisOptions
from voxclone.text.languages import resolve_language

logger = logging.getLogger(__name__)

#: Script formats and the file extensions that select them.
SCRIPT_FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "jsonl": (".jsonl", ".ndjson"),
    "srt": (".srt",),
}
#: The script path that reads standard input, and how messages and manifests name it.
STDIN_PATH, STDIN_NAME = "-", "standard input"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_VOICE_PREFIX = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,63}):\s+(.*)$", re.DOTALL)
#: Subtitle markup, dropped from a cue's text; SSML ``<break>`` tags stay (a pause the
#: dub needs, voxclone.text.breaks).
_MARKUP = re.compile(r"<(?!break\b)[^>]*>|\{\\[^}]*\}", re.IGNORECASE)
#: An SRT cue timing, "00:00:01,000 --> 00:00:02,500" (also "." before the milliseconds,
#: which may be left out, as may the hours).
_TIME = r"(?:(\d{1,3}):)?(\d{1,2}):(\d{2})(?:[,.](\d{1,3}))?"
_TIMING = re.compile(rf"\s*{_TIME}\s*-->\s*{_TIME}(?:\s|$)")
#: The longest ``seconds`` a line may give (a cue of an hour is a mistake).
MAX_LINE_SECONDS = 600.0


@dataclass(frozen=True)
class ScriptLine:
    """One line of a script.

    Attributes:
        id: the line's id (names its output file).
        line: 1-based line number in the script file where it is (SRT: the cue number's).
        voice: the voice to speak it in ("" when none was given).
        text: what to say.
        speed: speaking-rate multiplier (0.5-2.0).
        problem: why it cannot be spoken, or None for a good line.
        language: the text's language code, or None to detect it from the script.
        seconds: the most its speech may last (s), or None for no limit.
        cue: when its SRT cue starts and ends (s): where a dub track places the line
            (:mod:`voxclone.batch.track`); None for CSV and JSONL lines.
    """

    id: str
    line: int
    voice: str
    text: str
    speed: float = 1.0
    problem: str | None = None
    language: str | None = None
    seconds: float | None = None
    cue: tuple[float, float] | None = None


def script_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """The script format of ``path``: ``format`` if given, else from the extension.

    Raises:
        ScriptError: unknown format or extension.
    """
    if format is not None:
        if format not in SCRIPT_FORMATS:
            raise ScriptError(f"unknown script format {format!r}; use one of "
                              f"{', '.join(SCRIPT_FORMATS)}")
        return format
    if os.fspath(path) == STDIN_PATH:
        raise ScriptError("a script read from standard input ('-') has no extension to "
                          "tell its format; give it (--script-format csv, jsonl or srt)")
    suffix = Path(path).suffix.lower()
    for name, suffixes in SCRIPT_FORMATS.items():
        if suffix in suffixes:
            return name
    raise ScriptError(f"cannot tell the format of {os.fspath(path)!r} from its extension; "
                      "name it .csv, .jsonl or .srt, or give the format (--script-format)")


def read_script(path: str | os.PathLike[str], *, format: str | None = None,
                default_voice: str | None = None, fit_cues: bool = False) -> list[ScriptLine]:
    """The lines of the script at ``path`` (``-``: standard input, ``format`` required),
    in order (see the module docstring).

    ``default_voice`` is the voice of SRT cues without a ``NAME:`` prefix (CSV and JSONL
    name the voice on every line). ``fit_cues``: each SRT cue's duration is its line's
    ``seconds``.

    Raises:
        ScriptError: the file is unreadable, empty or malformed (the message names the
            line), or it is standard input and ``format`` is not given.
    """
    fmt = script_format(path, format)
    where = script_name(path)
    try:
        if os.fspath(path) == STDIN_PATH:
            content = _read_stdin()
        else:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                content = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        shown = where if where == STDIN_NAME else repr(where)
        raise ScriptError(f"cannot read script {shown}: {exc}") from exc
    if fmt == "csv":
        lines = _read_csv(content, where)
    elif fmt == "jsonl":
        lines = _read_jsonl(content, where)
    else:
        lines = _read_srt(content, where, default_voice, fit_cues)
    if not lines:
        raise ScriptError(f"{where} has no lines to speak")
    _check_ids(lines, where)
    logger.info("read %d lines from %s (%s)", len(lines), where, fmt)
    return lines


def script_name(path: str | os.PathLike[str]) -> str:
    """How messages name the script: its path, or "standard input" for ``-``."""
    return STDIN_NAME if os.fspath(path) == STDIN_PATH else os.fspath(path)


def _read_stdin() -> str:
    """Standard input as text, decoded as a script file is (UTF-8, BOM dropped)."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # a text stream put in its place (tests, embedding programs)
        return sys.stdin.read().removeprefix("\ufeff")
    data: bytes = raw.read()
    return data.decode("utf-8-sig")


def _make_line(line: int, fields: Mapping[str, Any], where: str) -> ScriptLine:
    """A :class:`ScriptLine` from raw ``voice``/``text``/``id``/``speed`` values."""
    raw_id = fields.get("id")
    ident = str(line) if raw_id is None or str(raw_id).strip() == "" else str(raw_id).strip()
    if not _ID.match(ident):
        raise ScriptError(f"{where}, line {line}: invalid id {ident!r}; ids name the output "
                          "files: use 1-100 letters, digits, '_', '.' or '-', starting with "
                          "a letter or digit")
    voice = fields.get("voice")
    text = fields.get("text")
    voice = voice.strip() if isinstance(voice, str) else ""
    text = text.strip() if isinstance(text, str) else ""
    problems = []
    if not voice:
        problems.append("no voice")
    else:
        try:
            check_name(voice)
        except ValueError as exc:
            problems.append(str(exc))
    if not text:
        problems.append("empty text")
    speed, speed_problem = _speed(fields.get("speed"))
    if speed_problem:
        problems.append(speed_problem)
    seconds, seconds_problem = _seconds(fields.get("seconds"))
    if seconds_problem:
        problems.append(seconds_problem)
    raw_language = fields.get("language")
    language = str(raw_language).strip() if raw_language is not None else ""
    if language:
        try:
            language = resolve_language(language).code
        except TextError as exc:
            problems.append(str(exc))
    return ScriptLine(id=ident, line=line, voice=voice, text=text, speed=speed,
                      problem="; ".join(problems) or None, language=language or None,
                      seconds=seconds)


def _speed(raw: Any) -> tuple[float, str | None]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return 1.0, None
    try:
        speed = float(raw)
        SynthesisOptions(speed=speed)  # the synthesizer's own range check
    except (TypeError, ValueError) as exc:
        detail = str(exc) if isinstance(raw, (int, float)) else (
            f"speed {raw!r} is not a number between 0.5 and 2.0")
        return 1.0, detail
    return speed, None


def _seconds(raw: Any) -> tuple[float | None, str | None]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        seconds = float("nan")
    if isinstance(raw, bool) or not 0.0 < seconds <= MAX_LINE_SECONDS:
        return None, (f"seconds must be a number of seconds above 0 and at most "
                      f"{MAX_LINE_SECONDS:g} (got {raw!r})")
    return seconds, None


def _read_csv(content: str, where: str) -> list[ScriptLine]:
    reader = csv.DictReader(io.StringIO(content, newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise ScriptError(f"{where}, line 1: unreadable CSV header ({exc})") from exc
    columns = {(name or "").strip().lower(): name for name in header or []}
    missing = [c for c in ("voice", "text") if c not in columns]
    if missing:
        raise ScriptError(f"{where}, line 1: the header must name the columns voice and text "
                          "(optional: id, speed, language, seconds); "
                          f"{' and '.join(missing)} missing")
    lines = []
    try:
        for row in reader:
            fields = {key: row.get(name) for key, name in columns.items()}
            lines.append(_make_line(reader.line_num, fields, where))
    except csv.Error as exc:
        raise ScriptError(f"{where}, line {reader.line_num}: malformed CSV ({exc})") from exc
    return lines


def _read_jsonl(content: str, where: str) -> list[ScriptLine]:
    lines = []
    for number, raw in enumerate(content.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            raise ScriptError(f"{where}, line {number}: not valid JSON ({exc}); each line "
                              'must be one object like {"voice": "ada", "text": "Hi."}'
                              ) from exc
        if not isinstance(obj, dict):
            raise ScriptError(f"{where}, line {number}: expected a JSON object with voice "
                              f"and text, got {type(obj).__name__}")
        lines.append(_make_line(number, obj, where))
    return lines


def _blocks(content: str) -> Iterable[tuple[int, list[str]]]:
    """(first line number, lines) of each blank-line-separated block."""
    block: list[str] = []
    start = 0
    for number, raw in enumerate(content.splitlines(), 1):
        if raw.strip():
            if not block:
                start = number
            block.append(raw.strip())
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _read_srt(content: str, where: str, default_voice: str | None,
              fit_cues: bool) -> list[ScriptLine]:
    lines = []
    for start, block in _blocks(content):
        if not block[0].isdigit():
            raise ScriptError(f"{where}, line {start}: expected a cue number, got "
                              f"{block[0][:40]!r}")
        if len(block) < 2 or "-->" not in block[1]:
            raise ScriptError(f"{where}, line {start + 1}: expected a cue timing like "
                              "'00:00:01,000 --> 00:00:02,500'")
        timing = _TIMING.match(block[1])
        if fit_cues and timing is None:
            raise ScriptError(f"{where}, line {start + 1}: cannot read the cue timing "
                              f"{block[1][:60]!r} to fit the cue into it; write it like "
                              "'00:00:01,000 --> 00:00:02,500'")
        text = " ".join(_MARKUP.sub("", t).strip() for t in block[2:]).strip()
        voice = default_voice or ""
        prefixed = _VOICE_PREFIX.match(text)
        if prefixed:
            voice, text = prefixed.group(1), prefixed.group(2).strip()
        fields: dict[str, Any] = {"id": block[0], "voice": voice, "text": text}
        begin = end = 0.0
        if timing is not None:
            begin, end = _cue_second(timing.groups()[:4]), _cue_second(timing.groups()[4:])
            if fit_cues and end > begin:
                fields["seconds"] = round(end - begin, 3)
        line = _make_line(start, fields, where)
        if timing is not None:
            line = replace(line, cue=(begin, end))
        if fit_cues and end <= begin:
            line = replace(line, problem=f"its cue ends at {end:g} s, not after it starts "
                                         f"({begin:g} s): there is no time to speak it in")
        if not voice:
            line = replace(line, problem="no voice: start the cue with 'NAME: ' or give a "
                                         "default voice (--voice)")
        lines.append(line)
    return lines


def _cue_second(parts: Sequence[str | None]) -> float:
    """Seconds from an SRT time's hours, minutes, seconds and milliseconds (the hours and
    milliseconds may be missing)."""
    hours, minutes, seconds, millis = parts
    return (int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
            + int((millis or "0").ljust(3, "0")) / 1000)


def _check_ids(lines: list[ScriptLine], where: str) -> None:
    seen: dict[str, int] = {}
    for line in lines:
        key = line.id.lower()
        if key in seen:
            raise ScriptError(f"{where}, line {line.line}: id {line.id!r} is already used on "
                              f"line {seen[key]} (ids name the output files, so they must "
                              "be unique, ignoring case)")
        seen[key] = line.line
