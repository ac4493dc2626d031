"""Clock times (``12:30``) in Japanese and Mandarin.

The G2Ps read ``12:30`` as two numbers with a pause ("十二、三十"), and Mandarin's
read ``9:05`` as "九 零五". A reader says the time:

- Japanese: ``12:30`` -> ``12時30分``, ``9:05`` -> ``9時5分``, ``12:00`` -> ``12時``;
- Mandarin: ``12:30`` -> ``12点30分``, ``9:05`` -> ``9点零5分``, ``12:00`` -> ``12点``,
  and two o'clock is ``两点``.

Only ``h:mm`` with an hour of 0-23 and minutes of 00-59 is a time: ``3:2`` (a score),
``25:00``, ``16:9`` stay as they are, and so does ``1:02:03`` (hours, minutes and
seconds, more often a duration than a time of day). A range of times ("9:00-17:00",
"9:00～17:00") is read with "から" / "到", and am/pm after a time ("3:30pm") becomes
the word before it (午前/午後, 上午/下午/晚上...) unless the text already says it.
The full-width colon ``：`` counts as a colon. Hours and minutes stay ASCII digits for
the language's later number rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["japanese_clock", "mandarin_clock"]

#: am/pm after a time ("3:30pm", "3:30 p.m."); in Japan also before it, in capitals
#: ("PM3:30"; "am 9:00" may be English "I am").
_CLOCK = (r"(?:(?<![A-Za-z])([AP])\.?M\.?\s?)?(?<![\d.])(?<!\d[:：])(\d{1,2})[:：](\d{2})"
          r"([:：]\d+)?(?!\d)(?:\s?([AaPp])\.?[Mm]\.?(?![A-Za-z]))?")
_CLOCK_RE = re.compile(_CLOCK)
#: Two times joined by a dash or a wave dash (the ends without their groups).
_ANY_CLOCK = re.sub(r"\((?!\?)", "(?:", _CLOCK)
_RANGE_RE = re.compile(rf"({_ANY_CLOCK})\s?[-\u2013~\uff5e\u301c]\s?({_ANY_CLOCK})")
_JA_MERIDIEM_WORDS = ("午前", "午後")
_ZH_MERIDIEM_WORDS = ("上午", "下午", "中午", "晚上", "凌晨", "早上")

#: (hour, minute, "a"/"p"/"" and whether a meridiem word precedes) -> spoken time.
_Speaker = Callable[[int, int, str, bool], str]


def _japanese_time(hour: int, minute: int, meridiem: str, said: bool) -> str:
    """``12時30分``, with 午前/午後 for am/pm unless the text already ``said`` it."""
    if meridiem and hour == 12:  # 12:30am is 午前0時30分, noon 午後0時 (as NHK says)
        hour = 0
    prefix = "" if said or not meridiem else ("午前" if meridiem == "a" else "午後")
    return f"{prefix}{hour}時" + (f"{minute}分" if minute else "")


def _mandarin_time(hour: int, minute: int, meridiem: str, said: bool) -> str:
    """``12点30分``, ``9点零5分``, ``两点``, with 凌晨/上午/中午/下午/晚上 for am/pm
    unless the text already ``said`` which part of the day."""
    prefix = ""
    if meridiem == "a" and hour == 12:  # 12:30am is 凌晨0点30分
        hour = 0
    if meridiem == "a" and not said:
        prefix = "凌晨" if hour < 6 else "上午"
    elif meridiem == "p" and not said:
        prefix = "中午" if hour == 12 else "下午" if hour < 6 else "晚上"
    spoken = f"{prefix}{'两' if hour == 2 else hour}点"
    if minute:
        spoken += f"{'零' if minute < 10 else ''}{minute}分"
    return spoken


def _spoken(match: re.Match[str], speak: _Speaker, said: bool) -> str | None:
    """The time ``match`` (of :data:`_CLOCK_RE`) spoken, or ``None`` if it is none."""
    hour, minute, seconds = int(match[2]), int(match[3]), match[4]
    if seconds or hour > 23 or minute > 59:
        return None
    meridiem = (match[1] or match[5] or "").lower() if hour <= 12 else ""  # "15:00pm": 15:00
    return speak(hour, minute, meridiem, said)


def _clock_rules(speak: _Speaker, until: str,
                 meridiem_words: tuple[str, ...]) -> Callable[[str], str]:
    """A rewrite of the times and time ranges in a text, each said by ``speak``, the
    ends of a range joined by ``until``; ``meridiem_words`` right before a time say
    its part of the day already."""
    def said_before(match: re.Match[str]) -> bool:
        start = match.start()
        return match.string[max(0, start - 3):start].rstrip().endswith(meridiem_words)

    def one(match: re.Match[str]) -> str:
        spoken = _spoken(match, speak, said_before(match))
        return match[0] if spoken is None else spoken

    def pair(match: re.Match[str]) -> str:
        first, last = _CLOCK_RE.fullmatch(match[1]), _CLOCK_RE.fullmatch(match[2])
        if first is None or last is None:
            return match[0]
        start = _spoken(first, speak, said_before(match))
        end = _spoken(last, speak, False)
        if start is None or end is None:
            return match[0]
        return f"{start}{until}{end}"

    def rewrite(text: str) -> str:
        return _CLOCK_RE.sub(one, _RANGE_RE.sub(pair, text))

    return rewrite


_JAPANESE = _clock_rules(_japanese_time, "から", _JA_MERIDIEM_WORDS)
_MANDARIN = _clock_rules(_mandarin_time, "到", _ZH_MERIDIEM_WORDS)


def japanese_clock(text: str) -> str:
    """Clock times in ``text`` read in Japanese: ``12:30`` -> ``12時30分``, ``12:00``
    -> ``12時``, ``9:00～17:00`` -> ``9時から17時``, ``PM3:30`` -> ``午後3時30分``.
    Never raises."""
    return _JAPANESE(text)


def mandarin_clock(text: str) -> str:
    """Clock times in ``text`` read in Mandarin: ``12:30`` -> ``12点30分``, ``9:05`` ->
    ``9点零5分``, ``2:00`` -> ``两点``, ``3:30pm`` -> ``下午3点30分``. Never raises."""
    return _MANDARIN(text)
